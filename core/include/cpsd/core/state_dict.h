// SPDX-License-Identifier: Apache-2.0
// Weights from other tools: PyTorch .pth files, safetensors, cpsd checkpoints; loading them
// into a model by name with a report; exporting a model for PyTorch.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include "cpsd/core/export.h"

namespace cpsd {

/// Named CPU tensors in file order.
using StateDict = std::vector<std::pair<std::string, at::Tensor>>;

/// Reads weights from:
///  - a zip-format PyTorch file (torch.save since 1.6: .pth, .pt, .pkl, .bin), read with
///    cpsd's own unpickler, so OrderedDict state dicts and checkpoints holding other
///    Python objects (optimizer state, argparse Namespaces) load; only tensors are kept;
///  - a .safetensors file (timm's format);
///  - a cpsd checkpoint (its "model" weights, or "ema" when `entry` is "ema").
/// Nested checkpoints are unwrapped: `entry` names the member to take; by default the
/// first of state_dict_ema, model_ema, state_dict, model that holds tensors, else the top
/// level. Every "module." (DataParallel, DDP, EMA of DataParallel) is removed from names.
/// A legacy (pre-1.6, non-zip) PyTorch file is refused with a ConfigError that names
/// scripts/convert_checkpoint.py. Truncated or foreign files: ConfigError naming the file.
CPSD_CORE_API StateDict read_state_dict(const std::filesystem::path& path,
                                        const std::string& entry = "");

/// What loading matched.
struct CPSD_CORE_API LoadReport {
  std::vector<std::string> matched;
  std::vector<std::string> missing;     ///< in the model, not in the file
  std::vector<std::string> unexpected;  ///< in the file, not in the model
  std::vector<std::string> mismatched;  ///< same name, another shape ("name: file [..] model [..]")
  std::string summary() const;          ///< one line with the four counts
};

/// Copies tensors into `module`'s parameters and buffers by name. `prefix` is put before
/// each file name first (e.g. "backbone." to load a torchvision file into a model's
/// backbone), and names in `drop_prefixes` of the file are left out (e.g. "fc." when the
/// classifier is replaced). BatchNorm's num_batches_tracked is optional both ways.
CPSD_CORE_API LoadReport load_state_dict(torch::nn::Module& module, const StateDict& weights,
                                         const std::string& prefix = "",
                                         const std::vector<std::string>& drop_prefixes = {});

/// Writes `module`'s parameters and buffers as a dict of tensors that Python's
/// torch.load() reads (zip format), names prefixed by nothing. Atomic.
CPSD_CORE_API void export_state_dict(
    const torch::nn::Module& module, const std::filesystem::path& path,
    const std::vector<std::pair<std::string, std::string>>& renames = {});

}  // namespace cpsd
