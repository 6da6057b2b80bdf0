// SPDX-License-Identifier: Apache-2.0
#include "torch_pickle.h"

#include <cstring>
#include <map>
#include <stdexcept>

#include <ATen/ATen.h>

namespace cpsd::weights {
namespace {

using Type = PyValue::Type;

PyPtr make(Type t) {
  auto v = std::make_shared<PyValue>();
  v->type = t;
  return v;
}
PyPtr make_int(int64_t i) {
  auto v = make(Type::integer);
  v->integer = i;
  return v;
}
PyPtr make_text(Type t, std::string s) {
  auto v = make(t);
  v->text = std::move(s);
  return v;
}

std::vector<int64_t> int_tuple(const PyPtr& v, const char* what) {
  if (v->type != Type::tuple && v->type != Type::list)
    throw std::runtime_error(std::string(what) + " is not a tuple");
  std::vector<int64_t> out;
  for (const PyPtr& i : v->items) {
    if (i->type != Type::integer)
      throw std::runtime_error(std::string(what) + " holds a non-integer");
    out.push_back(i->integer);
  }
  return out;
}

// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, ...)
PyPtr rebuild_tensor(const PyPtr& args) {
  if (args->type != Type::tuple || args->items.size() < 4 ||
      args->items[0]->type != Type::storage) {
    throw std::runtime_error("unexpected arguments to _rebuild_tensor");
  }
  const at::Tensor& storage = args->items[0]->tensor;
  const int64_t offset = args->items[1]->integer;
  const std::vector<int64_t> size = int_tuple(args->items[2], "tensor size");
  const std::vector<int64_t> stride = int_tuple(args->items[3], "tensor stride");
  bool empty = false;
  int64_t last = offset;
  for (std::size_t d = 0; d < size.size(); ++d) {
    if (size[d] == 0)
      empty = true;
    else
      last += (size[d] - 1) * stride[d];
  }
  if (size.size() != stride.size() || (!empty && last >= storage.numel())) {
    throw std::runtime_error("a tensor reaches past the end of its storage");
  }
  auto v = make(Type::tensor);
  v->tensor = storage.as_strided(size, stride, offset).clone();
  return v;
}

class Unpickler {
 public:
  Unpickler(const std::string& data, const StorageLoader& storages)
      : data_(data), storages_(storages) {}

  PyPtr run() {
    while (true) {
      const uint8_t op = byte();
      switch (op) {
        case 0x80:
          byte();
          break;  // PROTO
        case 0x95:
          bytes(8);
          break;  // FRAME
        case '.':
          return pop();  // STOP
        case '(':
          marks_.push_back(stack_.size());
          break;  // MARK
        case '}':
          stack_.push_back(make(Type::dict));
          break;  // EMPTY_DICT
        case ']':
          stack_.push_back(make(Type::list));
          break;  // EMPTY_LIST
        case ')':
          stack_.push_back(make(Type::tuple));
          break;  // EMPTY_TUPLE
        case 'N':
          stack_.push_back(make(Type::none));
          break;
        case 0x88:
        case 0x89: {  // NEWTRUE, NEWFALSE
          auto v = make(Type::boolean);
          v->boolean = op == 0x88;
          stack_.push_back(v);
          break;
        }
        case 'J':
          stack_.push_back(make_int(static_cast<int32_t>(little(4))));
          break;  // BININT
        case 'K':
          stack_.push_back(make_int(static_cast<int64_t>(little(1))));
          break;  // BININT1
        case 'M':
          stack_.push_back(make_int(static_cast<int64_t>(little(2))));
          break;  // BININT2
        case 0x8a:
          stack_.push_back(make_int(long_int(byte())));
          break;  // LONG1
        case 0x8b:
          stack_.push_back(make_int(long_int(little(4))));
          break;     // LONG4
        case 'G': {  // BINFLOAT
          uint64_t bits = 0;
          for (int i = 0; i < 8; ++i) bits = (bits << 8) | byte();
          auto v = make(Type::floating);
          std::memcpy(&v->floating, &bits, 8);
          stack_.push_back(v);
          break;
        }
        case 'X':
          stack_.push_back(make_text(Type::string, bytes(little(4))));
          break;  // BINUNICODE
        case 0x8c:
          stack_.push_back(make_text(Type::string, bytes(byte())));
          break;  // SHORT_BINUNICODE
        case 0x8d:
          stack_.push_back(make_text(Type::string, bytes(little(8))));
          break;  // BINUNICODE8
        case 'T':
          stack_.push_back(make_text(Type::string, bytes(little(4))));
          break;  // BINSTRING
        case 'U':
          stack_.push_back(make_text(Type::string, bytes(byte())));
          break;  // SHORT_BINSTRING
        case 'B':
          stack_.push_back(make_text(Type::bytes, bytes(little(4))));
          break;  // BINBYTES
        case 'C':
          stack_.push_back(make_text(Type::bytes, bytes(byte())));
          break;  // SHORT_BINBYTES
        case 'q':
          memo_[little(1)] = top();
          break;  // BINPUT
        case 'r':
          memo_[little(4)] = top();
          break;  // LONG_BINPUT
        case 0x94:
          memo_[memo_.size()] = top();
          break;  // MEMOIZE
        case 'h':
          stack_.push_back(memo(little(1)));
          break;  // BINGET
        case 'j':
          stack_.push_back(memo(little(4)));
          break;     // LONG_BINGET
        case 'c': {  // GLOBAL
          const std::string module = line(), name = line();
          stack_.push_back(make_text(Type::global, module + "." + name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          const PyPtr name = pop(), module = pop();
          stack_.push_back(make_text(Type::global, module->text + "." + name->text));
          break;
        }
        case 't':
          stack_.push_back(collect(Type::tuple));
          break;  // TUPLE
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1..3
          auto t = make(Type::tuple);
          t->items.resize(op - 0x84);
          for (std::size_t i = t->items.size(); i > 0; --i) t->items[i - 1] = pop();
          stack_.push_back(t);
          break;
        }
        case 'l':
          stack_.push_back(collect(Type::list));
          break;     // LIST
        case 'a': {  // APPEND
          const PyPtr v = pop();
          top()->items.push_back(v);
          break;
        }
        case 'e': {  // APPENDS
          const PyPtr items = collect(Type::list);
          auto& target = top()->items;
          target.insert(target.end(), items->items.begin(), items->items.end());
          break;
        }
        case 'd': {  // DICT
          const PyPtr items = collect(Type::list);
          auto d = make(Type::dict);
          add_pairs(d, items->items);
          stack_.push_back(d);
          break;
        }
        case 's': {  // SETITEM
          const PyPtr value = pop(), key = pop();
          top()->entries.emplace_back(key, value);
          break;
        }
        case 'u': {  // SETITEMS
          const PyPtr items = collect(Type::list);
          add_pairs(top(), items->items);
          break;
        }
        case 'R': {  // REDUCE
          const PyPtr args = pop(), callable = pop();
          stack_.push_back(reduce(callable, args));
          break;
        }
        case 0x81: {  // NEWOBJ
          pop();
          const PyPtr cls = pop();
          stack_.push_back(cls->text == "collections.OrderedDict"
                               ? make(Type::dict)
                               : make_text(Type::object, cls->text));
          break;
        }
        case 'b':
          pop();
          break;  // BUILD: an object's state (e.g. a state dict's _metadata): not needed
        case 'Q':
          stack_.push_back(persistent(pop()));
          break;  // BINPERSID
        default:
          throw std::runtime_error("unsupported pickle opcode 0x" + hex(op) + " at byte " +
                                   std::to_string(pos_ - 1));
      }
    }
  }

 private:
  uint8_t byte() {
    if (pos_ >= data_.size()) throw std::runtime_error("pickle data ends early (truncated file?)");
    return static_cast<uint8_t>(data_[pos_++]);
  }
  std::string bytes(uint64_t n) {
    if (n > data_.size() - pos_)
      throw std::runtime_error("pickle data ends early (truncated file?)");
    std::string out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  uint64_t little(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(byte()) << (8 * i);
    return v;
  }
  int64_t long_int(uint64_t n) {
    if (n > 8) throw std::runtime_error("integer too large for a state dict");
    const std::string b = bytes(n);
    uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
      v |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
    if (n > 0 && n < 8 && (static_cast<uint8_t>(b[n - 1]) & 0x80))
      v |= ~uint64_t{0} << (8 * n);  // sign
    return static_cast<int64_t>(v);
  }
  std::string line() {
    const auto end = data_.find('\n', pos_);
    if (end == std::string::npos)
      throw std::runtime_error("pickle data ends early (truncated file?)");
    std::string out = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  static std::string hex(uint8_t v) {
    static const char* digits = "0123456789abcdef";
    return std::string{digits[v >> 4], digits[v & 15]};
  }
  PyPtr pop() {
    if (stack_.empty()) throw std::runtime_error("malformed pickle (stack underflow)");
    PyPtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PyPtr& top() {
    if (stack_.empty()) throw std::runtime_error("malformed pickle (empty stack)");
    return stack_.back();
  }
  PyPtr memo(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) throw std::runtime_error("malformed pickle (unknown memo key)");
    return it->second;
  }
  PyPtr collect(Type t) {
    if (marks_.empty()) throw std::runtime_error("malformed pickle (no mark)");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    auto v = make(t);
    v->items.assign(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return v;
  }
  static void add_pairs(const PyPtr& dict, const std::vector<PyPtr>& flat) {
    if (dict->type != Type::dict) return;  // items of an opaque object: ignored
    for (std::size_t i = 0; i + 1 < flat.size(); i += 2)
      dict->entries.emplace_back(flat[i], flat[i + 1]);
  }
  PyPtr reduce(const PyPtr& callable, const PyPtr& args) {
    const std::string& f = callable->text;
    if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor")
      return rebuild_tensor(args);
    if (f == "torch._utils._rebuild_parameter" ||
        f == "torch._utils._rebuild_parameter_with_state") {
      if (!args->items.empty() && args->items[0]->type == Type::tensor) return args->items[0];
    }
    // LibTorch's own pickler (torch::pickle_save) tags typed containers.
    if (f == "torch.jit._pickle.restore_type_tag" && !args->items.empty()) return args->items[0];
    if (f == "collections.OrderedDict") {
      auto d = make(Type::dict);
      // OrderedDict([(k, v), ...]) in old files.
      if (!args->items.empty() && args->items[0]->type == Type::list) {
        for (const PyPtr& pair : args->items[0]->items) {
          if (pair->items.size() == 2) d->entries.emplace_back(pair->items[0], pair->items[1]);
        }
      }
      return d;
    }
    return make_text(Type::object, f);
  }
  // ('storage', storage_type, key, location, numel)
  PyPtr persistent(const PyPtr& pid) {
    if (pid->type != Type::tuple || pid->items.size() < 5 || pid->items[0]->text != "storage") {
      throw std::runtime_error("unsupported persistent id in pickle");
    }
    const std::string type = pid->items[1]->text;  // e.g. torch.FloatStorage
    const std::string key = pid->items[2]->text;
    auto it = storages_cache_.find(key);
    if (it != storages_cache_.end()) return it->second;
    auto v = make(Type::storage);
    v->tensor = storages_(key, type.substr(type.rfind('.') + 1), pid->items[4]->integer);
    storages_cache_[key] = v;
    return v;
  }

  const std::string& data_;
  const StorageLoader& storages_;
  std::size_t pos_ = 0;
  std::vector<PyPtr> stack_;
  std::vector<std::size_t> marks_;
  std::map<uint64_t, PyPtr> memo_;
  std::map<std::string, PyPtr> storages_cache_;
};

}  // namespace

PyPtr unpickle(const std::string& data, const StorageLoader& storages) {
  return Unpickler(data, storages).run();
}

}  // namespace cpsd::weights
