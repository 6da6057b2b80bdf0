// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/registry.h"

#include <boost/dll/shared_library.hpp>

#include "cpsd/core/log.h"
#include "cpsd/core/text.h"
#include "cpsd/sdk/error.h"

namespace cpsd {

std::string FactoryInfo::key() const { return std::string(kind_name(kind)) + "/" + name; }

namespace {
std::string make_key(Kind kind, std::string_view name) {
  return std::string(kind_name(kind)) + "/" + std::string(name);
}
}  // namespace

struct Registry::Entry {
  FactoryInfo info;
  const cpsd_factory_record* record = nullptr;
  Library library;
};

Registry::Registry() = default;
Registry::~Registry() = default;

bool Registry::contains(Kind kind, std::string_view name) const {
  const std::string key = make_key(kind, name);
  return entries_.count(key) > 0 || aliases_.count(key) > 0;
}

const Registry::Entry& Registry::entry(Kind kind, std::string_view name) const {
  std::string key = make_key(kind, name);
  if (auto alias = aliases_.find(key); alias != aliases_.end()) {
    log::warn("{} is deprecated, use {}/{} instead", key, kind_name(kind), alias->second);
    key = make_key(kind, alias->second);
  }
  auto it = entries_.find(key);
  if (it == entries_.end()) throw ConfigError(unknown_message(kind, name));
  return it->second;
}

const FactoryInfo& Registry::info(Kind kind, std::string_view name) const {
  return entry(kind, name).info;
}

std::vector<const FactoryInfo*> Registry::list(Kind kind) const {
  std::vector<const FactoryInfo*> out;
  for (const auto& [key, e] : entries_) {
    if (e.info.kind == kind) out.push_back(&e.info);
  }
  return out;  // std::map order: sorted by key, hence by name within a kind
}

std::vector<std::string> Registry::names(Kind kind) const {
  std::vector<std::string> out;
  for (const FactoryInfo* f : list(kind)) out.push_back(f->name);
  return out;
}

std::string Registry::unknown_message(Kind kind, std::string_view name) const {
  const std::string key = make_key(kind, name);
  if (auto it = skipped_.find(key); it != skipped_.end()) {
    return key + " is provided by " + it->second;
  }
  const std::vector<std::string> available = names(kind);
  return "unknown " + std::string(kind_name(kind)) + " '" + std::string(name) +
         "' (available: " + join(available) + ")" + did_you_mean(name, available) +
         "; `cpsd plugins` lists what is installed";
}

void Registry::add(FactoryInfo info, const cpsd_factory_record* record, Library library,
                   bool allow_override) {
  const std::string key = info.key();
  if (auto it = entries_.find(key); it != entries_.end()) {
    if (!allow_override) {
      throw ConfigError(
          "duplicate plugin name " + key + ": provided by " + it->second.info.file + " and by " +
          info.file + "; remove one of the files or pass --allow-override (the first found wins)");
    }
    log::warn("{} from {} ignored: already provided by {} (--allow-override)", key, info.file,
              it->second.info.file);
    return;
  }
  entries_.emplace(key, Entry{std::move(info), record, std::move(library)});
}

void Registry::add_skipped(Kind kind, const std::string& name, const std::string& file,
                           const std::string& reason) {
  skipped_.emplace(make_key(kind, name), file + ", which was not loaded: " + reason);
}

void Registry::add_alias(Kind kind, const std::string& old_name, const std::string& new_name) {
  aliases_.emplace(make_key(kind, old_name), new_name);
}

void* Registry::create_raw(Kind kind, std::string_view name, const void* args, Library* library,
                           void (**destroy)(void*)) const {
  const Entry& e = entry(kind, name);
  cpsd_error error{};
  void* object = e.record->create(args, &error);
  if (object == nullptr) {
    error.message[sizeof(error.message) - 1] = '\0';
    const std::string message = e.info.key() + " (" + e.info.file + "): " + error.message;
    if (error.code == CPSD_ERROR_CONFIG) throw ConfigError(message);
    throw RuntimeError(message);
  }
  *library = e.library;
  *destroy = e.record->destroy;
  return object;
}

template <class Interface, class Args>
std::shared_ptr<Interface> Registry::create(Kind kind, std::string_view name,
                                            const Args& args) const {
  Library library;
  void (*destroy)(void*) = nullptr;
  void* raw = create_raw(kind, name, &args, &library, &destroy);
  // The plugin returned its object as Interface*; it is destroyed by the plugin, and the
  // deleter holds the library so the code stays mapped while the object lives.
  return std::shared_ptr<Interface>(static_cast<Interface*>(raw),
                                    [library, destroy](Interface* p) { destroy(p); });
}

std::shared_ptr<Backbone> Registry::create_backbone(std::string_view name,
                                                    const BackboneArgs& args) const {
  return create<Backbone>(Kind::backbone, name, args);
}

std::shared_ptr<Head> Registry::create_head(std::string_view name, const HeadArgs& args) const {
  return create<Head>(Kind::head, name, args);
}

std::shared_ptr<Loss> Registry::create_loss(std::string_view name, const LossArgs& args) const {
  return create<Loss>(Kind::loss, name, args);
}

std::shared_ptr<Decomposer> Registry::create_decomposer(std::string_view name,
                                                        const DecomposerArgs& args) const {
  return create<Decomposer>(Kind::decomposer, name, args);
}

}  // namespace cpsd
