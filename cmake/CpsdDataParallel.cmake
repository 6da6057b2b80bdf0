# SPDX-License-Identifier: Apache-2.0
# CPSD_DATA_PARALLEL (AUTO, ON or OFF): multi-process data parallelism over LibTorch's c10d
# (Gloo's process group, DistributedDataParallel's Reducer). c10d's C++ API changes between
# LibTorch releases; AUTO compiles the calls core/src/distributed.cpp and
# gradient_reducer.cpp make and builds without data parallelism when they do not compile
# (one process per job; a job of several is refused with a message). Sets
# CPSD_WITH_DATA_PARALLEL.
set(CPSD_DATA_PARALLEL AUTO CACHE STRING "Data parallelism over c10d: AUTO, ON or OFF")
set_property(CACHE CPSD_DATA_PARALLEL PROPERTY STRINGS AUTO ON OFF)

# c10d's reducer.hpp includes a distributed-autograd header some LibTorch packages lack.
find_path(CPSD_TORCH_DIST_AUTOGRAD torch/csrc/distributed/autograd/context/context.h
          PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
set(CPSD_C10D_COMPAT_INCLUDE "")
if(NOT CPSD_TORCH_DIST_AUTOGRAD)
  set(CPSD_C10D_COMPAT_INCLUDE ${PROJECT_SOURCE_DIR}/core/compat)
endif()

if(CPSD_DATA_PARALLEL STREQUAL "OFF")
  set(CPSD_WITH_DATA_PARALLEL OFF)
else()
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_LIBRARIES torch)
  set(CMAKE_REQUIRED_INCLUDES ${CPSD_C10D_COMPAT_INCLUDE})
  set(CMAKE_REQUIRED_QUIET ON)
  check_cxx_source_compiles([=[
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
int main() {
  c10d::TCPStoreOptions o;
  o.port = 1;
  o.isServer = true;
  o.numWorkers = 1;
  o.timeout = std::chrono::seconds(1);
  c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", o);
  auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(1));
  options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, 0, 1, options);
  std::vector<at::Tensor> params;
  const std::vector<bool> sparse;
  auto [indices, sizes] =
      c10d::compute_bucket_assignment_by_size(params, std::vector<std::size_t>{1}, sparse);
  c10d::Reducer reducer(params, indices, sizes, group, sparse, 1, false, false,
                        std::unordered_map<std::size_t, std::string>{}, 1);
  reducer.rebuild_buckets();
  c10d::broadcast_coalesced(group, params, 1, 0);
  group->allreduce(params)->wait();
  return 0;
}
]=] CPSD_C10D_API_MATCHES)
  unset(CMAKE_REQUIRED_LIBRARIES)
  unset(CMAKE_REQUIRED_INCLUDES)
  if(CPSD_C10D_API_MATCHES)
    set(CPSD_WITH_DATA_PARALLEL ON)
  elseif(CPSD_DATA_PARALLEL STREQUAL "ON")
    message(FATAL_ERROR "CPSD_DATA_PARALLEL=ON, but LibTorch ${Torch_VERSION}'s c10d API is not "
                        "the one cpsd uses (see CMakeFiles/CMakeError.log); use AUTO or OFF")
  else()
    set(CPSD_WITH_DATA_PARALLEL OFF)
    message(WARNING "LibTorch ${Torch_VERSION}'s c10d API is not the one cpsd uses: building "
                    "without data parallelism (one process per job)")
  endif()
endif()
message(STATUS "cpsd data parallelism over c10d: ${CPSD_WITH_DATA_PARALLEL}")
