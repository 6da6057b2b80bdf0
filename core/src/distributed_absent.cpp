// SPDX-License-Identifier: Apache-2.0
// A build without data parallelism: the LibTorch's c10d API is not the one distributed.cpp
// and gradient_reducer.cpp are written for (CMake's CPSD_DATA_PARALLEL check). One process
// trains as always; a job of several is refused when it starts.
#include <stdexcept>

#include "cpsd/core/distributed.h"
#include "cpsd/sdk/error.h"

namespace cpsd {
namespace {

[[noreturn]] void no_group() {
  throw std::logic_error("cpsd: a process group exists in a build without data parallelism");
}

}  // namespace

struct Distributed::Impl {};
struct GradientReducer::State {};

std::shared_ptr<Distributed> Distributed::connect(const DistEnv& e, std::chrono::seconds) {
  throw ConfigError("a " + e.source + " job of " + std::to_string(e.world_size) +
                    " processes needs data parallelism, which this cpsd was built without "
                    "(its LibTorch's c10d API is not the one cpsd uses; CMake's "
                    "CPSD_DATA_PARALLEL check said so): run one process per job");
}

Distributed::Distributed(DistEnv env, std::unique_ptr<Impl> impl)
    : env_(std::move(env)), impl_(std::move(impl)) {}
Distributed::~Distributed() = default;
void Distributed::run_collective(const char*, const std::function<void()>&) const { no_group(); }
void Distributed::broadcast(const std::vector<at::Tensor>&) { no_group(); }
at::Tensor Distributed::gather_rows(const at::Tensor&) { no_group(); }
double Distributed::sum(double) { no_group(); }
at::Tensor Distributed::mean(const at::Tensor&) { no_group(); }
void Distributed::barrier() { no_group(); }

GradientReducer::GradientReducer(Distributed&, std::vector<at::Tensor>, std::vector<at::Tensor>,
                                 bool) {
  no_group();
}
GradientReducer::~GradientReducer() = default;
void GradientReducer::before_forward() { no_group(); }
void GradientReducer::backward(const at::Tensor&) { no_group(); }
void GradientReducer::broadcast_buffers() { no_group(); }

}  // namespace cpsd
