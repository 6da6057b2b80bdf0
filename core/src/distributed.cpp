// SPDX-License-Identifier: Apache-2.0
// The process group over c10d's Gloo backend (built when CMake finds LibTorch's c10d API
// the one this file is written for; distributed_absent.cpp otherwise).
#include "cpsd/core/distributed.h"

#include <cstdlib>

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "cpsd/sdk/error.h"
#include "distributed_impl.h"

namespace cpsd {
namespace {

const char* env(const char* name) { return std::getenv(name); }

}  // namespace

std::shared_ptr<Distributed> Distributed::connect(const DistEnv& e, std::chrono::seconds timeout) {
  auto impl = std::make_unique<Impl>();
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(e.port);
    options.isServer = e.rank == 0;
    options.numWorkers = static_cast<std::size_t>(e.world_size);
    options.timeout = timeout;
    impl->store = c10::make_intrusive<c10d::TCPStore>(e.master_addr, options);
    auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
    // The network interface: GLOO_SOCKET_IFNAME if set, loopback for a single machine,
    // else the one the host name resolves to.
    if (const char* ifname = env("GLOO_SOCKET_IFNAME")) {
      gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (e.master_addr == "127.0.0.1" || e.master_addr == "localhost") {
      gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, static_cast<int>(e.rank),
                                                              static_cast<int>(e.world_size), gloo);
  } catch (const std::exception& ex) {
    std::string why = ex.what();
    if (auto nl = why.find('\n'); nl != std::string::npos) why = why.substr(0, nl);
    throw RuntimeError("rank " + std::to_string(e.rank) + ": cannot join the process group at " +
                       e.master_addr + ":" + std::to_string(e.port) + " (" + why + ")");
  }
  return std::shared_ptr<Distributed>(new Distributed(e, std::move(impl)));
}

Distributed::Distributed(DistEnv env, std::unique_ptr<Impl> impl)
    : env_(std::move(env)), impl_(std::move(impl)) {}
Distributed::~Distributed() = default;

void Distributed::run_collective(const char* what, const std::function<void()>& f) const {
  collective(env_, what, f);
}

void Distributed::broadcast(const std::vector<at::Tensor>& tensors) {
  collective(env_, "broadcast", [&] {
    for (const at::Tensor& t : tensors) {
      std::vector<at::Tensor> one = {t.is_contiguous() ? t : t.contiguous()};
      impl_->group->broadcast(one)->wait();
      if (!t.is_contiguous()) t.copy_(one[0]);
    }
  });
}

at::Tensor Distributed::gather_rows(const at::Tensor& local) {
  at::Tensor out;
  collective(env_, "gather", [&] {
    // Sizes first, then rows padded to the largest count.
    std::vector<at::Tensor> count = {at::tensor({local.size(0)}, at::kLong)};
    std::vector<std::vector<at::Tensor>> counts(1);
    for (int64_t r = 0; r < env_.world_size; ++r) counts[0].push_back(at::zeros({1}, at::kLong));
    impl_->group->allgather(counts, count)->wait();
    int64_t most = 0;
    for (const auto& c : counts[0]) most = std::max(most, c.item<int64_t>());
    std::vector<int64_t> shape = local.sizes().vec();
    shape[0] = most;
    std::vector<at::Tensor> padded = {at::zeros(shape, local.options())};
    if (local.size(0) > 0) padded[0].narrow(0, 0, local.size(0)).copy_(local);
    std::vector<std::vector<at::Tensor>> all(1);
    for (int64_t r = 0; r < env_.world_size; ++r)
      all[0].push_back(at::empty(shape, local.options()));
    impl_->group->allgather(all, padded)->wait();
    std::vector<at::Tensor> parts;
    for (int64_t r = 0; r < env_.world_size; ++r)
      parts.push_back(all[0][r].narrow(0, 0, counts[0][r].item<int64_t>()));
    out = at::cat(parts);
  });
  return out;
}

double Distributed::sum(double value) {
  std::vector<at::Tensor> t = {at::tensor({value}, at::kDouble)};
  collective(env_, "all-reduce", [&] { impl_->group->allreduce(t)->wait(); });
  return t[0].item<double>();
}

at::Tensor Distributed::mean(const at::Tensor& value) {
  std::vector<at::Tensor> t = {value.clone()};
  collective(env_, "all-reduce", [&] { impl_->group->allreduce(t)->wait(); });
  return t[0].div_(static_cast<double>(env_.world_size));
}

void Distributed::barrier() {
  collective(env_, "barrier", [&] { impl_->group->barrier()->wait(); });
}

}  // namespace cpsd
