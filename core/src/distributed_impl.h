// SPDX-License-Identifier: Apache-2.0
// What a process group holds (core-internal: c10d types stay out of the public headers).
#pragma once

#include <string>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include "cpsd/core/distributed.h"
#include "cpsd/sdk/error.h"

namespace cpsd {

struct Distributed::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

// Runs a collective and turns a peer's failure into one clear error.
template <class F>
void collective(const DistEnv& e, const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& ex) {
    std::string why = ex.what();
    if (auto nl = why.find('\n'); nl != std::string::npos) why = why.substr(0, nl);
    throw RuntimeError("rank " + std::to_string(e.rank) + "/" + std::to_string(e.world_size) +
                       ": " + what + " failed; another process stopped or stopped answering (" +
                       why + ")");
  }
}

}  // namespace cpsd
