// SPDX-License-Identifier: Apache-2.0
// Private: a Python-pickle reader for the subset torch.save writes (protocols 2 to 5).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace cpsd::weights {

/// A Python value as far as state dicts need it. Anything else (optimizer state objects,
/// argparse.Namespace, ...) becomes an opaque `object` that is kept but never looked into.
struct PyValue {
  enum class Type {
    none,
    boolean,
    integer,
    floating,
    string,
    bytes,
    tuple,
    list,
    dict,
    global,
    object,
    tensor,
    storage
  };
  Type type = Type::none;
  bool boolean = false;
  int64_t integer = 0;
  double floating = 0;
  std::string text;                             ///< string, bytes; for a global "module.name"
  std::vector<std::shared_ptr<PyValue>> items;  ///< tuple, list
  std::vector<std::pair<std::shared_ptr<PyValue>, std::shared_ptr<PyValue>>>
      entries;        ///< dict (ordered)
  at::Tensor tensor;  ///< tensor; for a storage, its flat data
};
using PyPtr = std::shared_ptr<PyValue>;

/// Storage bytes by the key of its persistent id and its dtype name ("FloatStorage", ...).
using StorageLoader = std::function<at::Tensor(const std::string& key,
                                               const std::string& storage_type, int64_t numel)>;

/// Unpickles `data`. Tensors are rebuilt from torch._utils._rebuild_tensor_v2 and
/// _rebuild_parameter calls; collections.OrderedDict becomes a dict (LibTorch's own
/// unpickler turns it into None). Throws std::runtime_error on malformed input.
PyPtr unpickle(const std::string& data, const StorageLoader& storages);

}  // namespace cpsd::weights
