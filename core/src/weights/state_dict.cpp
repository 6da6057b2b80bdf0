// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/state_dict.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/serialize.h>
#include <nlohmann/json.hpp>

#include "cpsd/core/atomic_file.h"
#include "cpsd/sdk/error.h"
#include "torch_pickle.h"

namespace fs = std::filesystem;

namespace cpsd {
namespace {

using weights::PyPtr;
using weights::PyValue;

[[noreturn]] void bad(const fs::path& path, const std::string& why) {
  throw ConfigError(path.string() + ": " + why);
}

std::string read_prefix(const fs::path& path, std::size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string out(n, '\0');
  in.read(out.data(), static_cast<std::streamsize>(n));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

// "module.module.features.0.weight" -> "features.0.weight"
std::string strip_module(std::string name) {
  for (std::size_t at; (at = name.find("module.")) != std::string::npos;) {
    if (at == 0 || name[at - 1] == '.') {
      name.erase(at, 7);
    } else {
      break;
    }
  }
  return name;
}

at::ScalarType storage_dtype(const std::string& type) {
  static const std::map<std::string, at::ScalarType> kTypes = {
      {"FloatStorage", at::kFloat}, {"DoubleStorage", at::kDouble},
      {"HalfStorage", at::kHalf},   {"BFloat16Storage", at::kBFloat16},
      {"LongStorage", at::kLong},   {"IntStorage", at::kInt},
      {"ShortStorage", at::kShort}, {"CharStorage", at::kChar},
      {"ByteStorage", at::kByte},   {"BoolStorage", at::kBool}};
  auto it = kTypes.find(type);
  if (it == kTypes.end()) throw std::runtime_error("unsupported tensor storage type " + type);
  return it->second;
}

// Tensors of a dict whose values are tensors (keys joined with '.' for nested dicts).
void collect_tensors(const PyPtr& dict, const std::string& prefix, StateDict& out) {
  for (const auto& [k, v] : dict->entries) {
    if (k->type != PyValue::Type::string) continue;
    if (v->type == PyValue::Type::tensor) out.emplace_back(prefix + k->text, v->tensor);
    if (v->type == PyValue::Type::dict) collect_tensors(v, prefix + k->text + ".", out);
  }
}

bool holds_tensors_directly(const PyPtr& dict) {
  for (const auto& [k, v] : dict->entries) {
    if (v->type == PyValue::Type::tensor) return true;
  }
  return false;
}

StateDict from_pickle(const PyPtr& root, const fs::path& path, const std::string& entry) {
  if (root->type == PyValue::Type::object) {
    bad(path, "holds a pickled Python object (" + root->text +
                  "), not a state dict; save model.state_dict() instead");
  }
  if (root->type != PyValue::Type::dict) bad(path, "does not hold a dict of tensors");
  PyPtr chosen;
  const std::vector<std::string> preferred =
      entry.empty() ? std::vector<std::string>{"state_dict_ema", "model_ema", "state_dict", "model"}
                    : std::vector<std::string>{entry};
  for (const std::string& name : preferred) {
    for (const auto& [k, v] : root->entries) {
      if (!chosen && k->text == name && v->type == PyValue::Type::dict && holds_tensors_directly(v))
        chosen = v;
    }
  }
  if (!chosen && !entry.empty()) bad(path, "has no entry '" + entry + "' holding tensors");
  if (!chosen) chosen = root;
  StateDict out;
  collect_tensors(chosen, "", out);
  if (out.empty()) bad(path, "holds no tensors");
  return out;
}

StateDict read_torch_zip(const fs::path& path, const std::string& entry) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path.string());
  } catch (const c10::Error& e) {
    bad(path,
        std::string("not a readable zip archive (truncated?): ") + e.what_without_backtrace());
  }
  if (reader->hasRecord("constants.pkl")) {
    // A cpsd checkpoint (LibTorch's archive format).
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
    torch::serialize::InputArchive part;
    const std::string which = entry.empty() ? "model" : entry;
    if (!archive.try_read(which, part)) bad(path, "has no '" + which + "' weights");
    StateDict out;
    std::function<void(torch::serialize::InputArchive&, const std::string&)> walk =
        [&](torch::serialize::InputArchive& a, const std::string& prefix) {
          for (const std::string& key : a.keys()) {
            at::Tensor t;
            torch::serialize::InputArchive child;
            if (a.try_read(key, t)) {
              out.emplace_back(prefix + key, t);
            } else if (a.try_read(key, child)) {
              walk(child, prefix + key + ".");
            }
          }
        };
    walk(part, "");
    return out;
  }
  if (!reader->hasRecord("data.pkl"))
    bad(path, "is a zip archive without data.pkl: not a PyTorch file");
  auto [pickle_data, pickle_size] = reader->getRecord("data.pkl");
  const std::string pickle(static_cast<const char*>(pickle_data.get()), pickle_size);
  const weights::StorageLoader storages = [&](const std::string& key, const std::string& type,
                                              int64_t numel) {
    const std::string record = "data/" + key;
    if (!reader->hasRecord(record)) throw std::runtime_error("missing tensor data " + record);
    auto [data, size] = reader->getRecord(record);
    const at::ScalarType dtype = storage_dtype(type);
    const auto expected = static_cast<std::size_t>(numel) * at::elementSize(dtype);
    if (size < expected)
      throw std::runtime_error("tensor data " + record + " is shorter than its storage");
    return at::from_blob(data.get(), {numel}, at::TensorOptions().dtype(dtype)).clone();
  };
  try {
    return from_pickle(weights::unpickle(pickle, storages), path, entry);
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const Error*>(&e) != nullptr) throw;
    bad(path, e.what());
  }
}

StateDict read_safetensors(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  uint64_t header_size = 0;
  unsigned char size_bytes[8];
  if (!in.read(reinterpret_cast<char*>(size_bytes), 8)) bad(path, "truncated safetensors header");
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | size_bytes[i];
  const auto file_size = static_cast<uint64_t>(fs::file_size(path));
  if (header_size > file_size - 8)
    bad(path, "safetensors header longer than the file (truncated?)");
  std::string header(header_size, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_size));
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    bad(path, std::string("invalid safetensors header: ") + e.what());
  }
  static const std::map<std::string, at::ScalarType> kTypes = {
      {"F32", at::kFloat}, {"F64", at::kDouble}, {"F16", at::kHalf},  {"BF16", at::kBFloat16},
      {"I64", at::kLong},  {"I32", at::kInt},    {"I16", at::kShort}, {"I8", at::kChar},
      {"U8", at::kByte},   {"BOOL", at::kBool}};
  const uint64_t data_start = 8 + header_size;
  StateDict out;
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& [name, info] : meta.items()) {
    if (name == "__metadata__") continue;
    order.emplace_back(info.at("data_offsets").at(0).get<uint64_t>(), name);
  }
  std::sort(order.begin(), order.end());  // file order
  for (const auto& [begin_offset, name] : order) {
    const auto& info = meta[name];
    auto type = kTypes.find(info.at("dtype").get<std::string>());
    if (type == kTypes.end())
      bad(path, "tensor " + name + " has unsupported dtype " + info.at("dtype").dump());
    const std::vector<int64_t> shape = info.at("shape").get<std::vector<int64_t>>();
    const uint64_t end = info.at("data_offsets").at(1).get<uint64_t>();
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    if (end < begin_offset ||
        end - begin_offset != static_cast<uint64_t>(numel) * at::elementSize(type->second) ||
        data_start + end > file_size) {
      bad(path, "tensor " + name + " has inconsistent offsets (truncated file?)");
    }
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type->second));
    in.seekg(static_cast<std::streamoff>(data_start + begin_offset));
    in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(end - begin_offset));
    if (!in) bad(path, "cannot read tensor " + name);
    out.emplace_back(name, t);
  }
  return out;
}

}  // namespace

StateDict read_state_dict(const fs::path& path, const std::string& entry) {
  if (!fs::is_regular_file(path)) throw ConfigError(path.string() + ": weights file not found");
  const std::string head = read_prefix(path, 16);
  StateDict raw;
  if (head.rfind("PK\x03\x04", 0) == 0) {
    raw = read_torch_zip(path, entry);
  } else if (head.size() >= 2 && static_cast<uint8_t>(head[0]) == 0x80 &&
             static_cast<uint8_t>(head[1]) <= 5) {
    bad(path,
        "is a legacy (pre-1.6, non-zip) PyTorch file; convert it once with "
        "`python3 scripts/convert_checkpoint.py " +
            path.string() + " OUT.pth`");
  } else if (path.extension() == ".safetensors" || (head.size() > 8 && head[8] == '{')) {
    raw = read_safetensors(path);
  } else {
    bad(path, "not a PyTorch (.pth, zip) or safetensors file");
  }
  StateDict out;
  for (auto& [name, tensor] : raw) out.emplace_back(strip_module(name), tensor);
  return out;
}

std::string LoadReport::summary() const {
  std::ostringstream out;
  out << matched.size() << " matched, " << missing.size() << " missing, " << unexpected.size()
      << " unexpected, " << mismatched.size() << " with another shape";
  return out.str();
}

LoadReport load_state_dict(torch::nn::Module& module, const StateDict& weights,
                           const std::string& prefix,
                           const std::vector<std::string>& drop_prefixes) {
  std::map<std::string, at::Tensor> targets;
  for (const auto& p : module.named_parameters()) targets[p.key()] = p.value();
  for (const auto& b : module.named_buffers()) targets[b.key()] = b.value();
  auto optional = [](const std::string& name) {
    return name.size() >= 19 && name.compare(name.size() - 19, 19, "num_batches_tracked") == 0;
  };
  LoadReport report;
  std::map<std::string, bool> used;
  at::NoGradGuard no_grad;
  for (const auto& [name, tensor] : weights) {
    bool dropped = false;
    for (const std::string& d : drop_prefixes) dropped |= name.rfind(d, 0) == 0;
    if (dropped) continue;
    const std::string full = prefix + name;
    auto it = targets.find(full);
    if (it == targets.end()) {
      if (!optional(full)) report.unexpected.push_back(full);
      continue;
    }
    used[full] = true;
    if (it->second.sizes() != tensor.sizes()) {
      std::ostringstream m;
      m << full << ": file " << tensor.sizes() << " model " << it->second.sizes();
      report.mismatched.push_back(m.str());
      continue;
    }
    it->second.copy_(tensor.to(it->second.dtype()));
    report.matched.push_back(full);
  }
  for (const auto& [name, t] : targets) {
    if (!used.count(name) && !optional(name)) report.missing.push_back(name);
  }
  return report;
}

void export_state_dict(const torch::nn::Module& module, const fs::path& path,
                       const std::vector<std::pair<std::string, std::string>>& renames) {
  c10::Dict<std::string, at::Tensor> dict;
  auto add = [&](const std::string& name, const at::Tensor& t) {
    std::string out = name;
    for (const auto& [from, to] : renames) {
      if (out.rfind(from, 0) == 0) {
        out = to + out.substr(from.size());
        break;
      }
    }
    dict.insert(out, t.detach().cpu().contiguous());
  };
  for (const auto& p : module.named_parameters()) add(p.key(), p.value());
  for (const auto& b : module.named_buffers()) add(b.key(), b.value());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  write_file_atomically(path, std::string_view(bytes.data(), bytes.size()));
}

}  // namespace cpsd
