// SPDX-License-Identifier: Apache-2.0
// Multi-process data parallelism over PyTorch's c10d (Gloo on CPU).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "cpsd/core/export.h"

namespace cpsd {

/// Where this process sits in a job, from the launcher's environment.
struct DistEnv {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int port = 29500;
  std::string source = "single process";  ///< which variables said so
};

/// Reads torchrun's RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT (also set by
/// `cpsd launch`), else Slurm's SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID (MASTER_ADDR and
/// MASTER_PORT still needed), else Open MPI's OMPI_COMM_WORLD_*; world size 1 otherwise.
/// ConfigError for inconsistent values (rank outside the world, a port that is no number).
CPSD_CORE_API DistEnv detect_dist_env();

/// A process group of world_size processes. Rank 0 hosts the TCPStore rendezvous at
/// master_addr:port. Every collective fails with RuntimeError (naming this rank) when a
/// peer dies or does not answer within the timeout, instead of hanging.
class CPSD_CORE_API Distributed {
 public:
  /// Joins the group; RuntimeError when the others do not come within `timeout`.
  static std::shared_ptr<Distributed> connect(const DistEnv& env, std::chrono::seconds timeout);
  ~Distributed();

  int64_t rank() const { return env_.rank; }
  int64_t world_size() const { return env_.world_size; }
  bool is_main() const { return env_.rank == 0; }

  /// Copies rank 0's values into every rank's tensors (in place).
  void broadcast(const std::vector<at::Tensor>& tensors);
  /// The rows of every rank's `local` [n_r, ...] concatenated in rank order (n_r may differ),
  /// on every rank.
  at::Tensor gather_rows(const at::Tensor& local);
  /// Sum over ranks.
  double sum(double value);
  /// The mean over ranks of `value` (any shape, on its device), as a new tensor; the
  /// host does not read it.
  at::Tensor mean(const at::Tensor& value);
  void barrier();

  struct Impl;
  Impl& impl() const { return *impl_; }
  /// Runs `f`, turning a failure into RuntimeError naming this rank (a peer died or hung).
  void run_collective(const char* what, const std::function<void()>& f) const;

 private:
  Distributed(DistEnv env, std::unique_ptr<Impl> impl);
  DistEnv env_;
  std::unique_ptr<Impl> impl_;
};

/// DistributedDataParallel's engine (c10d's Reducer) for one model: gradients are
/// averaged over the ranks in buckets whose all-reduce runs while backward goes on, and
/// rank 0's buffers (BatchNorm statistics) reach every rank before each forward, as
/// DistributedDataParallel does with its defaults (broadcast_buffers, 25 MB buckets, the
/// first 1 MB). Lives no longer than the group and the model.
class CPSD_CORE_API GradientReducer {
 public:
  /// `params`: the trainable parameters, the same on every rank (each must get a gradient
  /// every step unless `find_unused`, which searches the graph for those that do not).
  GradientReducer(Distributed& group, std::vector<at::Tensor> params,
                  std::vector<at::Tensor> buffers, bool find_unused = false);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  /// Before a training forward: buckets rebuilt in the order gradients came (after the
  /// first step), buffers from rank 0.
  void before_forward();
  /// loss.backward(); the parameters' .grad() then hold the means over the ranks.
  /// RuntimeError naming this rank when a peer fails.
  void backward(const at::Tensor& loss);
  /// Rank 0's buffers to every rank (before validation, so every rank scores one model).
  void broadcast_buffers();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The process group of this process (set by apply_runtime when world_size > 1), or null.
CPSD_CORE_API Distributed* distributed();
CPSD_CORE_API void set_distributed(std::shared_ptr<Distributed> group);

}  // namespace cpsd
