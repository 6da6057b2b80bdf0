// SPDX-License-Identifier: Apache-2.0
#include "torch_pickle.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include <ATen/ATen.h>

namespace cpsd::weights {

PyValue::~PyValue() {
  // Children whose last owner this is are taken apart here, one at a time, so that freeing
  // a list nested a million deep does not recurse a million deep.
  if (items.empty() && entries.empty()) return;
  std::vector<PyPtr> pending;
  auto take = [&pending](PyValue& v) {
    for (PyPtr& i : v.items) pending.push_back(std::move(i));
    for (auto& [k, value] : v.entries) {
      pending.push_back(std::move(k));
      pending.push_back(std::move(value));
    }
    v.items.clear();
    v.entries.clear();
  };
  take(*this);
  while (!pending.empty()) {
    PyPtr p = std::move(pending.back());
    pending.pop_back();
    if (p && p.use_count() == 1) take(*p);
  }  // p goes here without children
}

namespace {

using Type = PyValue::Type;

// Limits far above what a state dict or checkpoint holds (tens of values per tensor), that
// keep a hostile pickle from using more than a few hundred MB.
constexpr std::size_t kMaxValues = std::size_t{1} << 21;
constexpr std::size_t kMaxMemo = std::size_t{1} << 21;
constexpr int kMaxDepth = 256;
constexpr std::size_t kMaxDims = 64;

const char* type_name(Type t) {
  switch (t) {
    case Type::none:
      return "None";
    case Type::boolean:
      return "bool";
    case Type::integer:
      return "int";
    case Type::floating:
      return "float";
    case Type::string:
      return "str";
    case Type::bytes:
      return "bytes";
    case Type::tuple:
      return "tuple";
    case Type::list:
      return "list";
    case Type::dict:
      return "dict";
    case Type::global:
      return "global";
    case Type::object:
      return "object";
    case Type::tensor:
      return "tensor";
    case Type::storage:
      return "storage";
  }
  return "value";
}

// What the reader does with a global it allows.
enum class Global { rebuild_tensor, rebuild_parameter, ordered_dict, type_tag, storage, data };

// The allow-list. Only the first four have a meaning here (they rebuild tensors and dicts);
// storage types are tags in persistent ids; plain data types become opaque objects when
// called or instantiated. Nothing is ever looked up by name and run.
Global allowed_global(const std::string& module, const std::string& name) {
  static const std::map<std::string, Global> kAllowed = {
      {"torch._utils._rebuild_tensor_v2", Global::rebuild_tensor},
      {"torch._utils._rebuild_tensor", Global::rebuild_tensor},
      {"torch._utils._rebuild_parameter", Global::rebuild_parameter},
      {"torch._utils._rebuild_parameter_with_state", Global::rebuild_parameter},
      {"torch.jit._pickle.restore_type_tag", Global::type_tag},  // torch::pickle_save
      {"collections.OrderedDict", Global::ordered_dict},
      // Plain data seen in checkpoints (training arguments, metrics, device and dtype tags).
      {"argparse.Namespace", Global::data},
      {"builtins.set", Global::data},
      {"builtins.frozenset", Global::data},
      {"builtins.complex", Global::data},
      {"builtins.bytearray", Global::data},
      {"builtins.slice", Global::data},
      {"__builtin__.set", Global::data},  // protocol 2 spells builtins so
      {"__builtin__.frozenset", Global::data},
      {"__builtin__.complex", Global::data},
      {"__builtin__.bytearray", Global::data},
      {"__builtin__.slice", Global::data},
      {"_codecs.encode", Global::data},  // protocol 2's bytes
      {"numpy.core.multiarray.scalar", Global::data},
      {"numpy._core.multiarray.scalar", Global::data},
      {"numpy.core.multiarray._reconstruct", Global::data},
      {"numpy._core.multiarray._reconstruct", Global::data},
      {"numpy.ndarray", Global::data},
      {"numpy.dtype", Global::data},
      {"pathlib.PosixPath", Global::data},
      {"pathlib.WindowsPath", Global::data},
      {"pathlib.PurePosixPath", Global::data},
      {"pathlib.PureWindowsPath", Global::data},
      {"torch.Size", Global::data},
      {"torch.device", Global::data},
  };
  static const std::set<std::string> kTorchDtypes = {
      "float32", "float", "float64",   "double", "float16",    "half",   "bfloat16",
      "int64",   "long",  "int32",     "int",    "int16",      "short",  "int8",
      "uint8",   "bool",  "complex64", "cfloat", "complex128", "cdouble"};
  const std::string full = module + "." + name;
  auto it = kAllowed.find(full);
  if (it != kAllowed.end()) return it->second;
  if (module == "torch" && name.size() > 7 && name.compare(name.size() - 7, 7, "Storage") == 0 &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ==
          std::string::npos) {
    return Global::storage;
  }
  if (module == "torch" && kTorchDtypes.count(name)) return Global::data;
  if (module == "torch.nn" || module.rfind("torch.nn.", 0) == 0) {
    throw std::runtime_error("holds a pickled Python object (" + full +
                             "), not a state dict; save model.state_dict() instead");
  }
  throw std::runtime_error(
      "pickle asks for global " + full +
      "; only tensor rebuild functions (torch._utils._rebuild_tensor_v2, _rebuild_parameter), "
      "torch storage types, collections.OrderedDict and plain data (argparse.Namespace, sets, "
      "numpy scalars, torch.device) are allowed. A pickle naming other globals can run code "
      "when Python loads it: if you trust the file, save just its state_dict() from Python");
}

class Unpickler {
 public:
  Unpickler(const std::string& data, const StorageLoader& storages)
      : data_(data), storages_(storages) {}
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  // Every value is also owned by arena_, so no value is freed while the pickle is read and
  // links can be cut at the end: values in a cycle, or that the result does not hold, are
  // freed without leaking or recursing.
  ~Unpickler() {
    for (const PyPtr& v : arena_) {
      if (!kept_.count(v.get())) {
        v->items.clear();
        v->entries.clear();
      }
    }
  }

  PyPtr run() {
    while (true) {
      const uint8_t op = byte();
      if (op == '.') {  // STOP
        PyPtr root = pop();
        check_shape(root);
        return root;
      }
      if (!(framing_op(op) || number_op(op) || text_op(op) || memo_op(op) || sequence_op(op) ||
            mapping_op(op) || global_op(op) || call_op(op))) {
        throw std::runtime_error("unsupported pickle opcode 0x" + hex(op) + " at byte " +
                                 std::to_string(pos_ - 1));
      }
    }
  }

 private:
  // PROTO, FRAME, MARK, POP, POP_MARK, DUP. Returns false for any other opcode.
  bool framing_op(uint8_t op) {
    switch (op) {
      case 0x80:
        byte();
        return true;  // PROTO
      case 0x95:
        bytes(8);
        return true;  // FRAME
      case '(':
        marks_.push_back(stack_.size());
        return true;  // MARK
      case '0':
        pop();
        return true;  // POP
      case '1':
        collect(Type::list);
        return true;  // POP_MARK
      case '2': {     // DUP
        PyPtr v = top();
        stack_.push_back(std::move(v));
        return true;
      }
      default:
        return false;
    }
  }

  // None, booleans, integers and floats. Returns false for any other opcode.
  bool number_op(uint8_t op) {
    switch (op) {
      case 'N':
        stack_.push_back(make(Type::none));
        return true;
      case 0x88:
      case 0x89: {  // NEWTRUE, NEWFALSE
        auto v = make(Type::boolean);
        v->boolean = op == 0x88;
        stack_.push_back(v);
        return true;
      }
      case 'J':
        stack_.push_back(make_int(static_cast<int32_t>(little(4))));
        return true;  // BININT
      case 'K':
        stack_.push_back(make_int(static_cast<int64_t>(little(1))));
        return true;  // BININT1
      case 'M':
        stack_.push_back(make_int(static_cast<int64_t>(little(2))));
        return true;  // BININT2
      case 0x8a:
        stack_.push_back(long_int(byte()));
        return true;  // LONG1
      case 0x8b:
        stack_.push_back(long_int(little(4)));
        return true;  // LONG4
      case 'G': {     // BINFLOAT
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | byte();
        auto v = make(Type::floating);
        std::memcpy(&v->floating, &bits, 8);
        stack_.push_back(v);
        return true;
      }
      default:
        return false;
    }
  }

  // Strings and bytes. Returns false for any other opcode.
  bool text_op(uint8_t op) {
    switch (op) {
      case 'X':
        stack_.push_back(make_text(Type::string, bytes(little(4))));
        return true;  // BINUNICODE
      case 0x8c:
        stack_.push_back(make_text(Type::string, bytes(byte())));
        return true;  // SHORT_BINUNICODE
      case 0x8d:
        stack_.push_back(make_text(Type::string, bytes(little(8))));
        return true;  // BINUNICODE8
      case 'T':
        stack_.push_back(make_text(Type::string, bytes(little(4))));
        return true;  // BINSTRING
      case 'U':
        stack_.push_back(make_text(Type::string, bytes(byte())));
        return true;  // SHORT_BINSTRING
      case 'B':
        stack_.push_back(make_text(Type::bytes, bytes(little(4))));
        return true;  // BINBYTES
      case 'C':
        stack_.push_back(make_text(Type::bytes, bytes(byte())));
        return true;  // SHORT_BINBYTES
      case 0x8e:
        stack_.push_back(make_text(Type::bytes, bytes(little(8))));
        return true;  // BINBYTES8
      default:
        return false;
    }
  }

  // The memo: PUT and GET in their three spellings. Returns false for any other opcode.
  bool memo_op(uint8_t op) {
    switch (op) {
      case 'q':
        put(little(1));
        return true;  // BINPUT
      case 'r':
        put(little(4));
        return true;  // LONG_BINPUT
      case 0x94:
        put(memo_.size());
        return true;  // MEMOIZE
      case 'h':
        stack_.push_back(memo(little(1)));
        return true;  // BINGET
      case 'j':
        stack_.push_back(memo(little(4)));
        return true;  // LONG_BINGET
      default:
        return false;
    }
  }

  // Empty containers, tuples, lists and sets. Returns false for any other opcode.
  bool sequence_op(uint8_t op) {
    switch (op) {
      case '}':
        stack_.push_back(make(Type::dict));
        return true;  // EMPTY_DICT
      case ']':
        stack_.push_back(make(Type::list));
        return true;  // EMPTY_LIST
      case ')':
        stack_.push_back(make(Type::tuple));
        return true;  // EMPTY_TUPLE
      case 0x8f:
        stack_.push_back(make_text(Type::object, "builtins.set"));
        return true;  // EMPTY_SET
      case 't':
        stack_.push_back(collect(Type::tuple));
        return true;  // TUPLE
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        auto t = make(Type::tuple);
        t->items.resize(op - 0x84);
        for (std::size_t i = t->items.size(); i > 0; --i) t->items[i - 1] = pop();
        stack_.push_back(t);
        return true;
      }
      case 'l':
        stack_.push_back(collect(Type::list));
        return true;  // LIST
      case 'a': {     // APPEND
        const PyPtr v = pop();
        sequence(top(), "APPEND").push_back(v);
        return true;
      }
      case 'e':     // APPENDS
      case 0x90: {  // ADDITEMS (to a set)
        const PyPtr items = collect(Type::list);
        auto& target = sequence(top(), op == 'e' ? "APPENDS" : "ADDITEMS");
        target.insert(target.end(), items->items.begin(), items->items.end());
        return true;
      }
      case 0x91: {  // FROZENSET
        const PyPtr items = collect(Type::list);
        auto v = make_text(Type::object, "builtins.frozenset");
        v->items = items->items;
        stack_.push_back(v);
        return true;
      }
      default:
        return false;
    }
  }

  // Dicts and their items. Returns false for any other opcode.
  bool mapping_op(uint8_t op) {
    switch (op) {
      case 'd': {  // DICT
        const PyPtr items = collect(Type::list);
        auto d = make(Type::dict);
        add_pairs(d, items->items, "DICT");
        stack_.push_back(d);
        return true;
      }
      case 's': {  // SETITEM
        const PyPtr value = pop(), key = pop();
        mapping(top(), "SETITEM").emplace_back(key, value);
        return true;
      }
      case 'u': {  // SETITEMS
        const PyPtr items = collect(Type::list);
        add_pairs(top(), items->items, "SETITEMS");
        return true;
      }
      default:
        return false;
    }
  }

  // Globals, checked against the allow-list, and persistent ids (storages). Returns false for any
  // other opcode.
  bool global_op(uint8_t op) {
    switch (op) {
      case 'c': {  // GLOBAL
        const std::string module = line();
        const std::string name = line();
        stack_.push_back(global(module, name));
        return true;
      }
      case 0x93: {  // STACK_GLOBAL
        const PyPtr name = pop(), module = pop();
        if (module->type != Type::string || name->type != Type::string)
          throw std::runtime_error("malformed pickle (STACK_GLOBAL of a non-string)");
        stack_.push_back(global(module->text, name->text));
        return true;
      }
      case 'Q':
        stack_.push_back(persistent(pop()));
        return true;  // BINPERSID
      default:
        return false;
    }
  }

  // Calls and instances of allowed globals, and BUILD. Returns false for any other opcode.
  bool call_op(uint8_t op) {
    switch (op) {
      case 'i': {  // INST: module and name, then a call with the items since the mark
        const std::string module = line();
        const std::string name = line();
        const PyPtr cls = global(module, name);
        stack_.push_back(reduce(cls, collect(Type::tuple)));
        return true;
      }
      case 'o': {  // OBJ: a call of the first item since the mark with the others
        const PyPtr items = collect(Type::tuple);
        if (items->items.empty()) throw std::runtime_error("malformed pickle (empty OBJ)");
        const PyPtr cls = items->items.front();
        items->items.erase(items->items.begin());
        stack_.push_back(reduce(cls, items));
        return true;
      }
      case 'R': {  // REDUCE
        const PyPtr args = pop(), callable = pop();
        stack_.push_back(reduce(callable, args));
        return true;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
        pop();
        stack_.push_back(instance(pop(), "NEWOBJ"));
        return true;
      }
      case 0x92: {  // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
        pop();
        pop();
        stack_.push_back(instance(pop(), "NEWOBJ_EX"));
        return true;
      }
      case 'b': {  // BUILD: an object's state (e.g. a state dict's _metadata): not needed
        pop();
        const Type t = top()->type;
        if (t != Type::object && t != Type::dict && t != Type::tensor)
          throw std::runtime_error(std::string("malformed pickle (BUILD on a ") + type_name(t) +
                                   ")");
        return true;
      }
      default:
        return false;
    }
  }

  PyPtr make(Type t) {
    if (arena_.size() >= kMaxValues) {
      throw std::runtime_error("pickle holds more than " + std::to_string(kMaxValues) +
                               " values: not a state dict");
    }
    auto v = std::make_shared<PyValue>();
    v->type = t;
    arena_.push_back(v);
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
  PyPtr global(const std::string& module, const std::string& name) {
    allowed_global(module, name);  // throws on any other
    return make_text(Type::global, module + "." + name);
  }

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
  // A Python int; one beyond int64 (a random seed, a hash) is kept as an opaque object.
  PyPtr long_int(uint64_t n) {
    const std::string b = bytes(n);
    if (n > 8) return make_text(Type::object, "builtins.int");
    uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
      v |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
    if (n > 0 && n < 8 && (static_cast<uint8_t>(b[n - 1]) & 0x80))
      v |= ~uint64_t{0} << (8 * n);  // sign
    return make_int(static_cast<int64_t>(v));
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
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
      throw std::runtime_error("malformed pickle (stack underflow)");
    PyPtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PyPtr& top() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
      throw std::runtime_error("malformed pickle (empty stack)");
    return stack_.back();
  }
  void put(uint64_t key) {
    if (memo_.size() >= kMaxMemo && !memo_.count(key)) {
      throw std::runtime_error("pickle memoizes more than " + std::to_string(kMaxMemo) +
                               " values: not a state dict");
    }
    memo_[key] = top();
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
  // The items of a list, or of an opaque object (a set, a list subclass).
  static std::vector<PyPtr>& sequence(const PyPtr& v, const char* op) {
    if (v->type != Type::list && v->type != Type::object)
      throw std::runtime_error(std::string("malformed pickle (") + op + " to a " +
                               type_name(v->type) + ")");
    return v->items;
  }
  static std::vector<std::pair<PyPtr, PyPtr>>& mapping(const PyPtr& v, const char* op) {
    if (v->type != Type::dict && v->type != Type::object)
      throw std::runtime_error(std::string("malformed pickle (") + op + " on a " +
                               type_name(v->type) + ")");
    return v->entries;
  }
  static void add_pairs(const PyPtr& target, const std::vector<PyPtr>& flat, const char* op) {
    auto& entries = mapping(target, op);
    if (flat.size() % 2 != 0)
      throw std::runtime_error(std::string("malformed pickle (") + op + " of an odd count)");
    for (std::size_t i = 0; i + 1 < flat.size(); i += 2) entries.emplace_back(flat[i], flat[i + 1]);
  }
  static Global kind(const PyPtr& callable, const char* op) {
    if (callable->type != Type::global)
      throw std::runtime_error(std::string("malformed pickle (") + op + " of a " +
                               type_name(callable->type) + ", not of a global)");
    const std::string& f = callable->text;
    const auto dot = f.rfind('.');
    return allowed_global(f.substr(0, dot), f.substr(dot + 1));
  }
  // A call: the only ones with a meaning rebuild tensors and OrderedDicts; an allowed plain
  // data type gives an opaque object.
  PyPtr reduce(const PyPtr& callable, const PyPtr& args) {
    const Global what = kind(callable, "REDUCE");
    if (args->type != Type::tuple)
      throw std::runtime_error("malformed pickle (a call's arguments are not a tuple)");
    switch (what) {
      case Global::rebuild_tensor:
        return rebuild_tensor(args);
      case Global::rebuild_parameter:
      case Global::type_tag:
        if (args->items.empty() ||
            (what == Global::rebuild_parameter && args->items[0]->type != Type::tensor)) {
          throw std::runtime_error("unexpected arguments to " + callable->text);
        }
        return args->items[0];
      case Global::ordered_dict: {
        auto d = make(Type::dict);
        // OrderedDict([(k, v), ...]) in old files.
        if (!args->items.empty() && args->items[0]->type == Type::list) {
          for (const PyPtr& pair : args->items[0]->items) {
            if (pair->items.size() == 2) d->entries.emplace_back(pair->items[0], pair->items[1]);
          }
        }
        return d;
      }
      case Global::storage:
      case Global::data:
        break;
    }
    auto v = make_text(Type::object, callable->text);
    v->items = args->items;  // kept (e.g. a set's items), never looked into
    return v;
  }
  PyPtr instance(const PyPtr& cls, const char* op) {
    return kind(cls, op) == Global::ordered_dict ? make(Type::dict)
                                                 : make_text(Type::object, cls->text);
  }

  static std::vector<int64_t> int_tuple(const PyPtr& v, const char* what) {
    if (v->type != Type::tuple && v->type != Type::list)
      throw std::runtime_error(std::string(what) + " is not a tuple");
    if (v->items.size() > kMaxDims)
      throw std::runtime_error(std::string(what) + " has " + std::to_string(v->items.size()) +
                               " dimensions");
    std::vector<int64_t> out;
    for (const PyPtr& i : v->items) {
      if (i->type != Type::integer)
        throw std::runtime_error(std::string(what) + " holds a non-integer");
      out.push_back(i->integer);
    }
    return out;
  }
  static std::string shape_text(const std::vector<int64_t>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
    return out + "]";
  }

  // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, ...):
  // a view of the storage, after checking that every element it reaches lies in it.
  PyPtr rebuild_tensor(const PyPtr& args) {
    if (args->items.size() < 4 || args->items[0]->type != Type::storage ||
        args->items[1]->type != Type::integer) {
      throw std::runtime_error("unexpected arguments to _rebuild_tensor");
    }
    const PyPtr& storage_value = args->items[0];
    const at::Tensor& storage = storage_value->tensor;
    const int64_t offset = args->items[1]->integer;
    const std::vector<int64_t> size = int_tuple(args->items[2], "tensor size");
    const std::vector<int64_t> stride = int_tuple(args->items[3], "tensor stride");
    const std::string what = "a tensor on " + storage_value->text + " (size " + shape_text(size) +
                             ", stride " + shape_text(stride) + ", offset " +
                             std::to_string(offset) + ")";
    if (size.size() != stride.size())
      throw std::runtime_error(what + " has a size and stride of different lengths");
    if (offset < 0) throw std::runtime_error(what + " has a negative storage offset");
    for (std::size_t d = 0; d < size.size(); ++d) {
      if (size[d] < 0) throw std::runtime_error(what + " has a negative size");
      if (stride[d] < 0) throw std::runtime_error(what + " has a negative stride");
    }
    const int64_t available = storage.numel();
    int64_t numel = std::find(size.begin(), size.end(), 0) == size.end() ? 1 : 0;
    for (std::size_t d = 0; numel > 0 && d < size.size(); ++d) {
      if (numel > std::numeric_limits<int64_t>::max() / size[d])
        throw std::runtime_error(what + ": its element count overflows int64");
      numel *= size[d];
    }
    if (numel > available) {
      throw std::runtime_error(what + " has " + std::to_string(numel) +
                               " elements, more than its storage holds (" +
                               std::to_string(available) + ")");
    }
    if (numel == 0 && offset > available)
      throw std::runtime_error(what + " reaches past the end of its storage");
    if (numel > 0) {
      // The last element's index, offset + sum((size - 1) * stride), must lie in the storage.
      int64_t room = available - 1 - offset;  // what the strides may still add
      bool fits = room >= 0;
      for (std::size_t d = 0; fits && d < size.size(); ++d) {
        const int64_t steps = size[d] - 1;
        if (steps == 0 || stride[d] == 0) continue;
        fits = steps <= room / stride[d];
        if (fits) room -= steps * stride[d];
      }
      if (!fits) {
        throw std::runtime_error(what + " reaches past the end of its storage (" +
                                 std::to_string(available) + " elements)");
      }
    }
    auto v = make(Type::tensor);
    v->tensor = storage.as_strided(size, stride, offset);  // shares the storage, as torch.load
    return v;
  }

  static bool plain_name(const std::string& key) {
    if (key.empty() || key.size() > 64) return false;
    for (char c : key) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            c == '_')) {
        return false;
      }
    }
    return true;
  }
  // ('storage', storage_type, key, location, numel)
  PyPtr persistent(const PyPtr& pid) {
    if (pid->type != Type::tuple || pid->items.size() < 5 || pid->items[0]->type != Type::string ||
        pid->items[0]->text != "storage" || pid->items[1]->type != Type::global ||
        pid->items[2]->type != Type::string || pid->items[4]->type != Type::integer) {
      throw std::runtime_error("unsupported persistent id in pickle");
    }
    const std::string& type = pid->items[1]->text;  // e.g. torch.FloatStorage
    if (kind(pid->items[1], "a persistent id") != Global::storage)
      throw std::runtime_error("persistent id names " + type + ", not a storage type");
    const std::string& key = pid->items[2]->text;
    if (!plain_name(key)) {
      throw std::runtime_error("storage key '" + key.substr(0, 64) +
                               "' is not a plain name (letters, digits, _)");
    }
    const int64_t numel = pid->items[4]->integer;
    if (numel < 0) throw std::runtime_error("storage " + key + " has a negative size");
    auto it = storages_cache_.find(key);
    if (it != storages_cache_.end()) {
      if (it->second.first != type)
        throw std::runtime_error("storage " + key + " is used as both " + it->second.first +
                                 " and " + type);
      return it->second.second;
    }
    auto v = make_text(Type::storage, "data/" + key);
    v->tensor = storages_(key, type.substr(type.rfind('.') + 1), numel);
    if (v->tensor.dim() != 1) throw std::runtime_error("storage " + key + " is not a flat tensor");
    storages_cache_[key] = {type, v};
    return v;
  }

  // The result may be freed and walked by recursion (state dicts nest a few levels): refuse
  // nesting deeper than kMaxDepth and containers holding themselves. Marks what it holds.
  void check_shape(const PyPtr& root) {
    struct Frame {
      const PyValue* v;
      std::size_t next;
      int height;
    };
    auto child = [](const PyValue* v, std::size_t i) -> const PyValue* {
      if (i < v->items.size()) return v->items[i].get();
      i -= v->items.size();
      if (i / 2 < v->entries.size())
        return (i % 2 == 0 ? v->entries[i / 2].first : v->entries[i / 2].second).get();
      return nullptr;
    };
    std::unordered_map<const PyValue*, int> height;  // -1 while being walked
    std::vector<Frame> path{{root.get(), 0, 0}};
    height[root.get()] = -1;
    while (!path.empty()) {
      const PyValue* c = child(path.back().v, path.back().next++);
      if (c == nullptr) {
        const Frame done = path.back();
        path.pop_back();
        height[done.v] = done.height;
        if (!path.empty()) path.back().height = std::max(path.back().height, done.height + 1);
        continue;
      }
      auto [it, fresh] = height.emplace(c, -1);
      if (!fresh) {
        if (it->second < 0) throw std::runtime_error("pickle holds a container that holds itself");
        path.back().height = std::max(path.back().height, it->second + 1);
        if (path.back().height > kMaxDepth) too_deep();
        continue;
      }
      if (path.size() >= static_cast<std::size_t>(kMaxDepth)) too_deep();
      path.push_back({c, 0, 0});
    }
    for (const auto& [v, h] : height) kept_.insert(v);
  }
  [[noreturn]] static void too_deep() {
    throw std::runtime_error("pickle nests containers more than " + std::to_string(kMaxDepth) +
                             " deep: not a state dict");
  }

  const std::string& data_;
  const StorageLoader& storages_;
  std::size_t pos_ = 0;
  std::vector<PyPtr> stack_;
  std::vector<std::size_t> marks_;
  std::map<uint64_t, PyPtr> memo_;
  std::map<std::string, std::pair<std::string, PyPtr>> storages_cache_;  // key: type, storage
  std::vector<PyPtr> arena_;
  std::unordered_set<const PyValue*> kept_;
};

}  // namespace

PyPtr unpickle(const std::string& data, const StorageLoader& storages) {
  return Unpickler(data, storages).run();
}

}  // namespace cpsd::weights
