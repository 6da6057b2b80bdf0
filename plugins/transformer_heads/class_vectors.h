// SPDX-License-Identifier: Apache-2.0
// Word vectors for class names (GloVe text format).
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "cpsd/sdk/options.h"

namespace cpsd::heads {

/// [C, dim] float vectors for `class_names` from a file in GloVe's text format (a word, then
/// `dim` numbers, per line). A line whose word is a whole class name gives that class's
/// vector (so a ready matrix file is just "name v1 ... vN" per class); otherwise the name
/// is split on spaces, '_' and '-' and its words' vectors are averaged. Words are matched
/// as written, then lower-cased. Only the needed lines are parsed. Errors (ConfigError via
/// options.fail(key, ...)): a missing file, a wrong vector size, any word not found
/// (all of them are named).
at::Tensor read_class_vectors(const std::string& file, const std::vector<std::string>& class_names,
                              int64_t dim, const Options& options, const char* key);

}  // namespace cpsd::heads
