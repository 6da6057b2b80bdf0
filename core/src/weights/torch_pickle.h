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

/// A Python value as far as state dicts need it. Plain data objects (argparse.Namespace, sets,
/// numpy scalars, ...) become an opaque `object` that is kept but never looked into; nothing
/// is ever called. Destroying a value never recurses (deeply nested data is safe to free).
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
  std::string text;  ///< string, bytes; a global's "module.name"; a storage's record name
  std::vector<std::shared_ptr<PyValue>> items;  ///< tuple, list
  std::vector<std::pair<std::shared_ptr<PyValue>, std::shared_ptr<PyValue>>>
      entries;        ///< dict (ordered)
  at::Tensor tensor;  ///< tensor; for a storage, its flat data

  PyValue() = default;
  PyValue(const PyValue&) = delete;
  PyValue& operator=(const PyValue&) = delete;
  ~PyValue();
};
using PyPtr = std::shared_ptr<PyValue>;

/// Storage bytes by the key of its persistent id and its dtype name ("FloatStorage", ...):
/// a 1-d tensor of `numel` elements. The key is checked to be a plain name (letters, digits,
/// '_') and `numel` to be non-negative before it is called; it must check `numel` against the
/// data it has before allocating.
using StorageLoader = std::function<at::Tensor(const std::string& key,
                                               const std::string& storage_type, int64_t numel)>;

/// Unpickles `data` without running anything: the pickle is read as data by this interpreter,
/// never by Python. Tensors are rebuilt from torch._utils._rebuild_tensor_v2 and
/// _rebuild_parameter calls, as views of their storage after their geometry is checked against
/// it; collections.OrderedDict becomes a dict (LibTorch's own unpickler turns it into None).
/// Only the globals on an allow-list may be named (tensor rebuild functions, torch storage
/// types, OrderedDict, and plain data types kept as opaque objects); any other (os.system,
/// builtins.eval, a pickled torch.nn module, ...) is refused by name. Hostile input (too many
/// values, nesting deeper than a state dict's, a container holding itself) is refused too.
/// Throws std::runtime_error, with one line saying what is wrong, on all of these.
PyPtr unpickle(const std::string& data, const StorageLoader& storages);

}  // namespace cpsd::weights
