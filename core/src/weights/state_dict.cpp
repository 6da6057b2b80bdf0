// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/state_dict.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include <ATen/ATen.h>
#include <torch/serialize.h>
#include <zlib.h>
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

// What walking a pickle's dicts may cost: a pickle can hold one dict many times over (a dict
// holding a dict twice, 40 times nested, holds 2^40 paths), which a walk expands.
struct WalkBudget {
  std::size_t entries = std::size_t{1} << 21;
  std::size_t name_bytes = std::size_t{256} << 20;
};

// Tensors of a dict whose values are tensors (keys joined with '.' for nested dicts).
void collect_tensors(const PyPtr& dict, const std::string& prefix, StateDict& out,
                     WalkBudget& budget) {
  for (const auto& [k, v] : dict->entries) {
    if (k->type != PyValue::Type::string) continue;
    if (v->type != PyValue::Type::tensor && v->type != PyValue::Type::dict) continue;
    const std::size_t length = prefix.size() + k->text.size() + 1;
    if (budget.entries == 0 || budget.name_bytes < length) {
      throw std::runtime_error(
          "its dicts hold more than 2097152 entries or 256 MiB of names once nested dicts are "
          "expanded (one dict held in many places?): not a state dict");
    }
    --budget.entries;
    budget.name_bytes -= length;
    if (v->type == PyValue::Type::tensor) out.emplace_back(prefix + k->text, v->tensor);
    if (v->type == PyValue::Type::dict) collect_tensors(v, prefix + k->text + ".", out, budget);
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
  WalkBudget budget;
  collect_tensors(chosen, "", out, budget);
  if (out.empty()) bad(path, "holds no tensors");
  return out;
}

// ---- zip ----------------------------------------------------------------------------------
// PyTorch files are zip archives. Their index is read here, checked before anything is
// allocated from it, and their entries are read from it (LibTorch's reader allocates what an
// entry's header declares before reading it).

uint64_t le(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflated
  uint32_t crc = 0;
  uint64_t compressed = 0;
  uint64_t size = 0;    // uncompressed
  uint64_t header = 0;  // offset of its local header
};

class ZipFile {
 public:
  explicit ZipFile(const fs::path& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) bad(path_, "cannot open for reading");
    file_size_ = static_cast<uint64_t>(fs::file_size(path_));
    read_index();
  }

  /// The folder all of a PyTorch archive's records are in ("archive/"), as LibTorch sees it.
  const std::string& prefix() const { return prefix_; }
  const ZipEntry* find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &entries_[it->second];
  }

  /// Reads an entry's whole data into `out`, which has room for `e.size` bytes.
  void read(const ZipEntry& e, char* out) {
    const uint64_t start = data_start(e);
    if (e.method == 0) {
      read_at(start, out, e.size);
    } else {
      std::string packed(e.compressed, '\0');
      read_at(start, packed.data(), e.compressed);
      inflate_into(e, packed, out);
    }
    if (e.crc != 0 && crc(out, e.size) != e.crc)
      bad(path_, "zip entry " + e.name + " is corrupt (its CRC does not match)");
  }
  std::string read(const ZipEntry& e) {
    std::string out(e.size, '\0');
    read(e, out.data());
    return out;
  }

 private:
  [[noreturn]] void broken(const std::string& why) const {
    bad(path_, "not a readable zip archive (truncated?): " + why);
  }
  void read_at(uint64_t offset, char* out, uint64_t n) {
    if (offset > file_size_ || n > file_size_ - offset) broken("data past the end of the file");
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(out, static_cast<std::streamsize>(n));
    if (static_cast<uint64_t>(in_.gcount()) != n) broken("cannot read " + path_.string());
  }
  std::string read_at(uint64_t offset, uint64_t n) {
    std::string out(n, '\0');
    read_at(offset, out.data(), n);
    return out;
  }

  void read_index() {
    // The end-of-central-directory record: the last one in the final 64 KiB + 22 bytes.
    const uint64_t tail_size = std::min<uint64_t>(file_size_, 65535 + 22);
    const std::string tail = read_at(file_size_ - tail_size, tail_size);
    std::size_t at = std::string::npos;
    for (std::size_t i = tail.size() >= 22 ? tail.size() - 22 + 1 : 0; i-- > 0;) {
      if (tail.compare(i, 4, "PK\x05\x06") == 0) {
        at = i;
        break;
      }
    }
    if (at == std::string::npos) broken("no end-of-central-directory record");
    const uint64_t eocd = file_size_ - tail_size + at;
    const char* r = tail.data() + at;
    uint64_t count = le(r + 10, 2), cd_size = le(r + 12, 4), cd_offset = le(r + 16, 4);
    bool spanned = le(r + 4, 2) != 0 || le(r + 6, 2) != 0;
    uint64_t cd_limit = eocd;  // the central directory ends before this
    if (eocd >= 20) {
      const std::string locator = read_at(eocd - 20, 20);
      if (locator.compare(0, 4, "PK\x06\x07") == 0) {  // zip64
        const uint64_t z = le(locator.data() + 8, 8);
        if (z > eocd - 20 || eocd - 20 - z < 56)
          broken("bad zip64 end-of-central-directory locator");
        const std::string z64 = read_at(z, 56);
        if (z64.compare(0, 4, "PK\x06\x06") != 0) broken("bad zip64 end-of-central-directory");
        spanned |= le(z64.data() + 16, 4) != 0 || le(z64.data() + 20, 4) != 0;
        count = le(z64.data() + 32, 8);
        cd_size = le(z64.data() + 40, 8);
        cd_offset = le(z64.data() + 48, 8);
        cd_limit = z;
      }
    }
    if (spanned) bad(path_, "is a zip archive spanning several disks, which cpsd does not read");
    if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset)
      broken("the central directory lies outside the file");
    if (count > cd_size / 46) broken("the central directory is shorter than its entry count");
    cd_offset_ = cd_offset;
    const std::string cd = read_at(cd_offset, cd_size);
    std::map<std::string, std::string> lower_names;
    std::size_t p = 0;
    for (uint64_t i = 0; i < count; ++i) {
      if (cd.size() - p < 46 || cd.compare(p, 4, "PK\x01\x02") != 0)
        broken("bad central directory entry " + std::to_string(i));
      const char* h = cd.data() + p;
      ZipEntry e;
      const uint64_t flags = le(h + 8, 2);
      e.method = static_cast<uint16_t>(le(h + 10, 2));
      e.crc = static_cast<uint32_t>(le(h + 16, 4));
      e.compressed = le(h + 20, 4);
      e.size = le(h + 24, 4);
      const uint64_t name_len = le(h + 28, 2), extra_len = le(h + 30, 2),
                     comment_len = le(h + 32, 2);
      e.header = le(h + 42, 4);
      if (cd.size() - p - 46 < name_len + extra_len + comment_len)
        broken("bad central directory entry " + std::to_string(i));
      e.name = cd.substr(p + 46, name_len);
      read_zip64_extra(cd.substr(p + 46 + name_len, extra_len), e);
      p += 46 + name_len + extra_len + comment_len;
      check_entry(e, flags);
      std::string lower = e.name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!lower_names.emplace(lower, e.name).second) {
        bad(path_, "zip archive holds two entries named " + lower_names[lower] + " and " + e.name +
                       " (a sign of a tampered file)");
      }
      by_name_[e.name] = entries_.size();
      entries_.push_back(std::move(e));
    }
    if (entries_.empty()) broken("it holds no entries");
    // LibTorch's rule: every record is in the folder of the first entry.
    const auto slash = entries_.front().name.find('/');
    if (slash != std::string::npos) prefix_ = entries_.front().name.substr(0, slash + 1);
  }

  // Sizes and offsets of 0xffffffff are in the zip64 extra field (id 1), in this order.
  static void read_zip64_extra(const std::string& extra, ZipEntry& e) {
    for (std::size_t q = 0; extra.size() - q >= 4;) {
      const uint64_t id = le(extra.data() + q, 2), len = le(extra.data() + q + 2, 2);
      if (extra.size() - q - 4 < len) return;
      if (id == 1) {
        std::size_t f = q + 4;
        for (uint64_t* v : {&e.size, &e.compressed, &e.header}) {
          if (*v != 0xffffffff) continue;
          if (f + 8 > q + 4 + len) return;
          *v = le(extra.data() + f, 8);
          f += 8;
        }
        return;
      }
      q += 4 + len;
    }
  }

  void check_entry(const ZipEntry& e, uint64_t flags) const {
    const std::string& n = e.name;
    if (n.empty() || n.find('\0') != std::string::npos)
      bad(path_, "zip archive holds an entry with an empty or binary name");
    if (n[0] == '/' || n[0] == '\\' ||
        (n.size() >= 2 && std::isalpha(static_cast<unsigned char>(n[0])) && n[1] == ':')) {
      bad(path_, "zip entry name '" + n + "' is an absolute path (a sign of a malicious file)");
    }
    for (std::size_t begin = 0; begin <= n.size();) {
      std::size_t end = n.find_first_of("/\\", begin);
      if (end == std::string::npos) end = n.size();
      if (n.compare(begin, end - begin, "..") == 0) {
        bad(path_, "zip entry name '" + n +
                       "' climbs out of the archive with '..' (a sign of a malicious file)");
      }
      begin = end + 1;
    }
    if (flags & 1) bad(path_, "zip entry " + n + " is encrypted");
    if (e.method == 0) {
      if (e.compressed != e.size)
        bad(path_, "zip entry " + n + " is stored with two different sizes (" +
                       std::to_string(e.compressed) + " and " + std::to_string(e.size) + ")");
    } else if (e.method == 8) {
      // Deflate expands at most about 1032 times.
      if (e.compressed > std::numeric_limits<uint64_t>::max() / 1100 ||
          e.size > e.compressed * 1032 + 1024) {
        bad(path_, "zip entry " + n + " declares " + std::to_string(e.size) + " bytes from " +
                       std::to_string(e.compressed) +
                       " compressed ones, more than deflate can expand to (a zip bomb?)");
      }
    } else {
      bad(path_, "zip entry " + n + " is compressed with method " + std::to_string(e.method) +
                     ", which cpsd does not read");
    }
    if (e.header > cd_offset_ || e.compressed > cd_offset_ - e.header ||
        cd_offset_ - e.header - e.compressed < 30) {
      bad(path_, "zip entry " + n + " reaches past its archive's data (truncated file?)");
    }
  }

  uint64_t data_start(const ZipEntry& e) {
    const std::string local = read_at(e.header, 30);
    if (local.compare(0, 4, "PK\x03\x04") != 0) broken("bad local header of " + e.name);
    const uint64_t start = e.header + 30 + le(local.data() + 26, 2) + le(local.data() + 28, 2);
    if (start > cd_offset_ || e.compressed > cd_offset_ - start)
      bad(path_, "zip entry " + e.name + " reaches past its archive's data (truncated file?)");
    return start;
  }

  void inflate_into(const ZipEntry& e, std::string& packed, char* out) {
    if (e.size == 0) return;
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) bad(path_, "cannot start zlib");
    z.next_in = reinterpret_cast<Bytef*>(packed.data());
    z.next_out = reinterpret_cast<Bytef*>(out);
    uint64_t in_left = e.compressed, out_left = e.size;
    int rc = Z_OK;
    do {
      if (z.avail_in == 0 && in_left > 0) {
        z.avail_in = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
        in_left -= z.avail_in;
      }
      if (z.avail_out == 0 && out_left > 0) {
        z.avail_out = static_cast<uInt>(std::min<uint64_t>(out_left, 1u << 30));
        out_left -= z.avail_out;
      }
      rc = inflate(&z, Z_NO_FLUSH);
    } while (rc == Z_OK && (z.avail_in > 0 || in_left > 0) && (z.avail_out > 0 || out_left > 0));
    const uint64_t total = z.total_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END || total != e.size)
      bad(path_, "zip entry " + e.name + " does not inflate to its declared " +
                     std::to_string(e.size) + " bytes (corrupt file?)");
  }

  static uint32_t crc(const char* data, uint64_t n) {
    uLong c = crc32(0L, Z_NULL, 0);
    for (uint64_t done = 0; done < n;) {
      const auto step = static_cast<uInt>(std::min<uint64_t>(n - done, 1u << 30));
      c = crc32(c, reinterpret_cast<const Bytef*>(data + done), step);
      done += step;
    }
    return static_cast<uint32_t>(c);
  }

  fs::path path_;
  std::ifstream in_;
  uint64_t file_size_ = 0;
  uint64_t cd_offset_ = 0;
  std::vector<ZipEntry> entries_;
  std::map<std::string, std::size_t> by_name_;
  std::string prefix_;
};

StateDict read_torch_zip(const fs::path& path, const std::string& entry) {
  ZipFile zip(path);  // refuses hostile archives before LibTorch's reader sees them
  if (zip.find(zip.prefix() + "constants.pkl") != nullptr) {
    // A cpsd checkpoint (LibTorch's archive format, read by LibTorch).
    torch::serialize::InputArchive archive;
    try {
      archive.load_from(path.string());
    } catch (const c10::Error& e) {
      bad(path,
          std::string("not a readable zip archive (truncated?): ") + e.what_without_backtrace());
    }
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
  const ZipEntry* data_pkl = zip.find(zip.prefix() + "data.pkl");
  if (data_pkl == nullptr) bad(path, "is a zip archive without data.pkl: not a PyTorch file");
  const std::string pickle = zip.read(*data_pkl);
  const weights::StorageLoader storages = [&](const std::string& key, const std::string& type,
                                              int64_t numel) {
    const std::string record = "data/" + key;
    const ZipEntry* e = zip.find(zip.prefix() + record);
    if (e == nullptr) throw std::runtime_error("missing tensor data " + record);
    const at::ScalarType dtype = storage_dtype(type);
    const auto element = static_cast<uint64_t>(at::elementSize(dtype));
    if (static_cast<uint64_t>(numel) > e->size / element) {
      throw std::runtime_error("tensor data " + record + " holds " + std::to_string(e->size) +
                               " bytes, fewer than its storage's " + std::to_string(numel) +
                               " elements of " + std::to_string(element) +
                               " bytes (truncated file?)");
    }
    if (e->size == static_cast<uint64_t>(numel) * element) {
      at::Tensor t = at::empty({numel}, at::TensorOptions().dtype(dtype));
      zip.read(*e, static_cast<char*>(t.data_ptr()));
      return t;
    }
    const std::string bytes = zip.read(*e);  // longer than its storage: the start is used
    return at::from_blob(const_cast<char*>(bytes.data()), {numel}, at::TensorOptions().dtype(dtype))
        .clone();
  };
  try {
    return from_pickle(weights::unpickle(pickle, storages), path, entry);
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    bad(path, e.what_without_backtrace());
  } catch (const std::exception& e) {
    bad(path, e.what());
  }
}

// ---- safetensors --------------------------------------------------------------------------

// A name or value from a file, short enough for a message.
std::string shown(const std::string& s) { return s.size() <= 80 ? s : s.substr(0, 80) + "..."; }

// One tensor of a safetensors header, checked against the data section's size.
struct SafetensorsItem {
  uint64_t begin, end;
  std::string name;
  at::ScalarType dtype;
  std::vector<int64_t> shape;
};

SafetensorsItem safetensors_item(const fs::path& path, const std::string& name,
                                 const nlohmann::json& info, uint64_t data_size) {
  static const std::map<std::string, at::ScalarType> kTypes = {
      {"F32", at::kFloat}, {"F64", at::kDouble}, {"F16", at::kHalf},  {"BF16", at::kBFloat16},
      {"I64", at::kLong},  {"I32", at::kInt},    {"I16", at::kShort}, {"I8", at::kChar},
      {"U8", at::kByte},   {"BOOL", at::kBool}};
  const std::string t = "tensor " + shown(name);
  if (!info.is_object()) bad(path, t + ": its header entry is not a JSON object");
  const auto dtype = info.find("dtype");
  if (dtype == info.end() || !dtype->is_string()) bad(path, t + " has no dtype string");
  const auto type = kTypes.find(dtype->get<std::string>());
  if (type == kTypes.end())
    bad(path, t + " has unsupported dtype \"" + shown(dtype->get<std::string>()) + "\"");
  const auto shape = info.find("shape");
  if (shape == info.end() || !shape->is_array() || shape->size() > 64)
    bad(path, t + " has no shape (a list of at most 64 sizes)");
  SafetensorsItem item{0, 0, name, type->second, {}};
  uint64_t numel = 1;
  bool overflow = false;
  for (const auto& d : *shape) {
    if (!d.is_number_integer()) bad(path, t + " has a shape holding a non-integer");
    if (!d.is_number_unsigned()) bad(path, t + " has a negative size in its shape");
    const uint64_t s = d.get<uint64_t>();
    if (s > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) overflow = true;
    item.shape.push_back(static_cast<int64_t>(s));
  }
  for (int64_t s : item.shape) {
    if (s == 0) numel = 0;
  }
  for (std::size_t d = 0; !overflow && numel > 0 && d < item.shape.size(); ++d) {
    const auto s = static_cast<uint64_t>(item.shape[d]);
    if (numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / s)
      overflow = true;
    else
      numel *= s;
  }
  const auto element = static_cast<uint64_t>(at::elementSize(type->second));
  if (overflow || numel > std::numeric_limits<uint64_t>::max() / element)
    bad(path, t + ": the element count of its shape overflows int64");
  const uint64_t bytes = numel * element;
  const auto offsets = info.find("data_offsets");
  if (offsets == info.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned()) {
    bad(path, t + " has no data_offsets (two non-negative integers)");
  }
  item.begin = (*offsets)[0].get<uint64_t>();
  item.end = (*offsets)[1].get<uint64_t>();
  const std::string range =
      " data_offsets [" + std::to_string(item.begin) + ", " + std::to_string(item.end) + "]";
  if (item.end < item.begin) bad(path, t + range + " end before they begin");
  if (item.end > data_size) {
    bad(path, t + range + " reach past the end of the file (" + std::to_string(data_size) +
                  " data bytes; truncated file?)");
  }
  if (item.end - item.begin != bytes) {
    bad(path, t + range + " hold " + std::to_string(item.end - item.begin) + " bytes, but " +
                  dtype->get<std::string>() + " x its shape needs " + std::to_string(bytes));
  }
  return item;
}

StateDict read_safetensors(const fs::path& path) {
  constexpr uint64_t kMaxHeader = uint64_t{100} << 20;  // the format's own limit
  const auto file_size = static_cast<uint64_t>(fs::file_size(path));
  std::ifstream in(path, std::ios::binary);
  unsigned char size_bytes[8];
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(size_bytes), 8))
    bad(path, "truncated safetensors header");
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | size_bytes[i];
  if (header_size > file_size - 8) {
    bad(path, "safetensors header length " + std::to_string(header_size) +
                  " is larger than the file (" + std::to_string(file_size) + " bytes; truncated?)");
  }
  if (header_size > kMaxHeader) {
    bad(path, "safetensors header of " + std::to_string(header_size) +
                  " bytes is larger than the format allows (100 MiB)");
  }
  std::string header(header_size, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_size)))
    bad(path, "cannot read the safetensors header");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    bad(path, std::string("safetensors header is not JSON: ") + e.what());
  }
  if (!meta.is_object()) bad(path, "safetensors header is not a JSON object");
  const uint64_t data_start = 8 + header_size;
  const uint64_t data_size = file_size - data_start;
  std::vector<SafetensorsItem> items;
  for (const auto& [name, info] : meta.items()) {
    if (name != "__metadata__") items.push_back(safetensors_item(path, name, info, data_size));
  }
  std::sort(items.begin(), items.end(), [](const SafetensorsItem& a, const SafetensorsItem& b) {
    return a.begin < b.begin;
  });  // file order
  const SafetensorsItem* previous = nullptr;
  for (const SafetensorsItem& item : items) {
    if (item.begin == item.end) continue;
    if (previous != nullptr && item.begin < previous->end) {
      bad(path, "tensors " + shown(previous->name) + " and " + shown(item.name) +
                    " overlap in the file (their data_offsets share bytes)");
    }
    previous = &item;
  }
  StateDict out;
  for (const SafetensorsItem& item : items) {
    at::Tensor t = at::empty(item.shape, at::TensorOptions().dtype(item.dtype));
    in.seekg(static_cast<std::streamoff>(data_start + item.begin));
    in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(item.end - item.begin));
    if (!in) bad(path, "cannot read tensor " + shown(item.name));
    out.emplace_back(item.name, t);
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
