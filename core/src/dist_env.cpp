// SPDX-License-Identifier: Apache-2.0
// The job's place from the launcher's environment, and this process's group: built with
// or without c10d (see distributed.cpp and distributed_absent.cpp).
#include <cstdlib>

#include "cpsd/core/distributed.h"  // IWYU pragma: associated
#include "cpsd/sdk/error.h"

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

Distributed* distributed() { return g_group.get(); }
void set_distributed(std::shared_ptr<Distributed> group) { g_group = std::move(group); }

}  // namespace cpsd
