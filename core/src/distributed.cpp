// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/distributed.h"

#include <cstdlib>

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "cpsd/sdk/error.h"
#include "distributed_impl.h"

namespace cpsd {
namespace {

const char* env(const char* name) { return std::getenv(name); }

int64_t number(const char* name, const char* text) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0')
    throw ConfigError(std::string(name) + "=" + text + " is not a number");
  return v;
}

std::shared_ptr<Distributed> g_group;

}  // namespace

DistEnv detect_dist_env() {
  DistEnv e;
  if (env("WORLD_SIZE") != nullptr && env("RANK") != nullptr) {
    e.world_size = number("WORLD_SIZE", env("WORLD_SIZE"));
    e.rank = number("RANK", env("RANK"));
    e.local_rank = env("LOCAL_RANK") ? number("LOCAL_RANK", env("LOCAL_RANK")) : e.rank;
    e.source = "RANK/WORLD_SIZE";
  } else if (env("SLURM_NTASKS") != nullptr && env("SLURM_PROCID") != nullptr) {
    e.world_size = number("SLURM_NTASKS", env("SLURM_NTASKS"));
    e.rank = number("SLURM_PROCID", env("SLURM_PROCID"));
    e.local_rank = env("SLURM_LOCALID") ? number("SLURM_LOCALID", env("SLURM_LOCALID")) : 0;
    e.source = "Slurm";
  } else if (env("OMPI_COMM_WORLD_SIZE") != nullptr && env("OMPI_COMM_WORLD_RANK") != nullptr) {
    e.world_size = number("OMPI_COMM_WORLD_SIZE", env("OMPI_COMM_WORLD_SIZE"));
    e.rank = number("OMPI_COMM_WORLD_RANK", env("OMPI_COMM_WORLD_RANK"));
    e.local_rank = env("OMPI_COMM_WORLD_LOCAL_RANK")
                       ? number("OMPI_COMM_WORLD_LOCAL_RANK", env("OMPI_COMM_WORLD_LOCAL_RANK"))
                       : 0;
    e.source = "Open MPI";
  }
  if (e.world_size < 1 || e.rank < 0 || e.rank >= e.world_size) {
    throw ConfigError("rank " + std::to_string(e.rank) + " is outside a world of " +
                      std::to_string(e.world_size) + " (from " + e.source + ")");
  }
  if (env("MASTER_ADDR") != nullptr) e.master_addr = env("MASTER_ADDR");
  if (env("MASTER_PORT") != nullptr) {
    const int64_t port = number("MASTER_PORT", env("MASTER_PORT"));
    if (port < 1 || port > 65535) throw ConfigError("MASTER_PORT must be 1..65535");
    e.port = static_cast<int>(port);
  }
  if (e.world_size > 1 && env("MASTER_ADDR") == nullptr && e.source != "RANK/WORLD_SIZE") {
    throw ConfigError("a " + e.source + " job of " + std::to_string(e.world_size) +
                      " processes needs MASTER_ADDR (and MASTER_PORT) for the rendezvous");
  }
  return e;
}

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

Distributed* distributed() { return g_group.get(); }
void set_distributed(std::shared_ptr<Distributed> group) { g_group = std::move(group); }

}  // namespace cpsd
