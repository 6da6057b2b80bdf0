// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/plugin_manager.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include "cpsd/core/log.h"
#include "cpsd/sdk/error.h"
#include "cpsd/sdk/plugin.h"
#include "elf_symbols.h"

namespace fs = std::filesystem;

namespace cpsd {
namespace {

// Sizes of the ABI 2.0 structs (as 1.0); later minors only append fields.
constexpr std::size_t kMinDescriptorSize = sizeof(cpsd_plugin_descriptor);
constexpr std::size_t kMinRecordSize = sizeof(cpsd_factory_record);

// Libraries stay mapped until the process exits (see PluginManager's comment).
std::vector<Registry::Library>& resident_libraries() {
  static auto* libraries = new std::vector<Registry::Library>();
  return *libraries;
}

bool is_plugin_file_name(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.find("cpsd_plugin_") != std::string::npos && p.extension() == ".so";
}

bool valid_name(const char* name) {
  if (name == nullptr || *name == '\0') return false;
  for (const char* c = name; *c != '\0'; ++c) {
    if (!(std::islower(static_cast<unsigned char>(*c)) ||
          std::isdigit(static_cast<unsigned char>(*c)) || *c == '_')) {
      return false;
    }
  }
  return true;
}

std::optional<Kind> kind_of(int32_t raw) {
  switch (raw) {
    case CPSD_KIND_BACKBONE:
      return Kind::backbone;
    case CPSD_KIND_HEAD:
      return Kind::head;
    case CPSD_KIND_LOSS:
      return Kind::loss;
    case CPSD_KIND_DECOMPOSER:
      return Kind::decomposer;
    default:
      return std::nullopt;
  }
}

const char* or_empty(const char* s) { return s != nullptr ? s : ""; }

// Why a plugin built as `plugin` cannot run in this host, or "" if it can.
std::string fingerprint_mismatch(const cpsd_build_fingerprint& plugin,
                                 const cpsd_build_fingerprint& host) {
  std::ostringstream out;
  if (plugin.torch_major != host.torch_major || plugin.torch_minor != host.torch_minor) {
    out << "built against LibTorch " << plugin.torch_major << '.' << plugin.torch_minor
        << ", this cpsd uses LibTorch " << host.torch_major << '.' << host.torch_minor
        << ": rebuild the plugin against this cpsd's LibTorch";
  } else if (plugin.cxx11_abi != host.cxx11_abi) {
    out << "built with _GLIBCXX_USE_CXX11_ABI=" << plugin.cxx11_abi << ", this cpsd uses "
        << host.cxx11_abi << ": rebuild the plugin with cpsd_add_plugin() from this SDK";
  }
  return out.str();
}

// Why `file` exports no entry point this host can call ("" when it does). Reads the export
// table only: none of the file's code runs.
std::string entry_symbol_problem(const fs::path& file) {
  std::vector<std::string> symbols;
  try {
    symbols = exported_dynamic_symbols(file);
  } catch (const Error& e) {
    std::string why = e.what();
    const std::string prefix = file.string() + ": ";
    if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
    return why;
  }
  if (std::find(symbols.begin(), symbols.end(), CPSD_PLUGIN_ENTRY_SYMBOL) != symbols.end()) {
    return "";
  }
  for (const std::string& s : symbols) {
    if (s.rfind(CPSD_PLUGIN_ENTRY_PREFIX, 0) == 0) {
      return "built for plugin ABI " + s.substr(std::strlen(CPSD_PLUGIN_ENTRY_PREFIX)) +
             " (exports " + s + "), this cpsd reads ABI " + std::to_string(CPSD_PLUGIN_ABI_MAJOR) +
             ": rebuild the plugin against this cpsd SDK";
    }
  }
  return std::string("no ") + CPSD_PLUGIN_ENTRY_SYMBOL +
         " symbol: not a cpsd plugin, so it was not loaded";
}

// Loads `file` with every symbol resolved now and none leaked into the global namespace;
// the library stays resident. Returns nullptr and sets `why` when the loader refuses it.
std::shared_ptr<boost::dll::shared_library> load_resident(const fs::path& file, std::string& why) {
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code load_error;
  library->load(file.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
                load_error);
  if (load_error) {
    const char* detail = dlerror();
    why = std::string("cannot be loaded: ") + (detail != nullptr ? detail : load_error.message());
    return nullptr;
  }
  resident_libraries().push_back(library);
  return library;
}

// Copies what descriptor `d` says of itself into `report` and returns why this host cannot
// use it ("" when it can): ABI, factory records, build fingerprint.
std::string check_descriptor(const cpsd_plugin_descriptor* d, PluginReport& report) {
  if (d == nullptr) {
    return "its entry point returned no descriptor for plugin ABI " +
           std::to_string(CPSD_PLUGIN_ABI_MAJOR);
  }
  if (d->struct_size < kMinDescriptorSize) {
    return "descriptor too small (" + std::to_string(d->struct_size) + " bytes)";
  }
  report.abi_major = d->abi_major;
  report.api_minor = d->api_minor;
  report.plugin_name = or_empty(d->plugin_name);
  report.plugin_version = or_empty(d->plugin_version);
  report.sdk_version = or_empty(d->sdk_version);
  report.fingerprint = describe_fingerprint(d->fingerprint);
  if (d->abi_major != CPSD_PLUGIN_ABI_MAJOR) {
    return "descriptor declares plugin ABI " + std::to_string(d->abi_major) +
           ", this cpsd reads ABI " + std::to_string(CPSD_PLUGIN_ABI_MAJOR) +
           ": rebuild the plugin against this cpsd SDK";
  }
  for (uint32_t i = 0; i < d->num_factories; ++i) {
    const cpsd_factory_record& r = d->factories[i];
    if (r.struct_size < kMinRecordSize || !kind_of(r.kind) || !valid_name(r.name) ||
        r.create == nullptr || r.destroy == nullptr) {
      return "factory record " + std::to_string(i) + " (" + or_empty(r.name) +
             ") is malformed: needs a known kind, a lower_snake_case name, create and destroy";
    }
    report.keys.push_back(std::string(kind_name(*kind_of(r.kind))) + "/" + r.name);
  }
  return fingerprint_mismatch(d->fingerprint, host_fingerprint());
}

// A plugin built by another compiler may still run: it is loaded with a warning.
void warn_on_other_compiler(const cpsd_build_fingerprint& plugin, PluginReport& report) {
  const cpsd_build_fingerprint host = host_fingerprint();
  if (std::strcmp(or_empty(plugin.compiler), or_empty(host.compiler)) == 0) return;
  report.warnings.push_back(std::string("built with ") + or_empty(plugin.compiler) +
                            ", this cpsd with " + or_empty(host.compiler));
  log::warn("plugin {}: {}", report.file, report.warnings.back());
}

// The host registers a checked plugin's factories and aliases; plugins have no static
// registrars.
void register_descriptor(const cpsd_plugin_descriptor& d, const PluginReport& report,
                         const std::shared_ptr<boost::dll::shared_library>& library,
                         bool allow_override, Registry& registry) {
  for (uint32_t i = 0; i < d.num_factories; ++i) {
    const cpsd_factory_record& r = d.factories[i];
    FactoryInfo info{*kind_of(r.kind),          r.name,      or_empty(r.summary),
                     or_empty(r.defaults_toml), report.file, report.plugin_name};
    registry.add(std::move(info), &r, library, allow_override);
  }
  for (uint32_t i = 0; i < d.num_aliases && d.aliases != nullptr; ++i) {
    const cpsd_alias& a = d.aliases[i];
    if (kind_of(a.kind) && valid_name(a.old_name) && valid_name(a.new_name)) {
      registry.add_alias(*kind_of(a.kind), a.old_name, a.new_name);
    }
  }
}

}  // namespace

std::string describe_fingerprint(const cpsd_build_fingerprint& f) {
  std::ostringstream out;
  out << "torch " << f.torch_major << '.' << f.torch_minor << '.' << f.torch_patch << ", cxx11-abi "
      << f.cxx11_abi << ", " << or_empty(f.compiler) << ", " << (f.cuda != 0 ? "cuda" : "cpu");
  return out.str();
}

cpsd_build_fingerprint host_fingerprint() { return plugin::build_fingerprint(); }

PluginManager::PluginManager() = default;

PluginManager::~PluginManager() {
  for (auto hook : shutdown_hooks_) hook();
}

std::vector<SearchEntry> PluginManager::search_path(const std::vector<std::string>& cli_paths,
                                                    bool include_default) {
  std::vector<SearchEntry> out;
  for (const std::string& p : cli_paths) {
    if (!fs::exists(p)) {
      throw ConfigError(
          "--plugin-path " + p +
          ": no such file or directory; give a directory of plugins or a plugin file");
    }
    out.push_back({p, "--plugin-path"});
  }
  if (const char* env = std::getenv("CPSD_PLUGIN_PATH"); env != nullptr) {
    std::stringstream list(env);
    std::string item;
    while (std::getline(list, item, ':')) {
      if (!item.empty()) out.push_back({item, "CPSD_PLUGIN_PATH"});
    }
  }
  if (include_default) {
    // Next to libcpsd_core itself (<libdir>/cpsd/plugins), which holds for the build tree,
    // any install prefix and any libdir layout, whichever program is the host.
    boost::dll::fs::error_code ec;
    const fs::path core = boost::dll::this_line_location(ec).string();
    if (!ec) out.push_back({core.parent_path() / "cpsd" / "plugins", "default"});
  }
  return out;
}

void PluginManager::load(const std::vector<SearchEntry>& search_path, bool allow_override) {
  for (const SearchEntry& entry : search_path) {
    searched_.push_back(entry);
    std::error_code ec;
    if (fs::is_regular_file(entry.path, ec)) {
      load_file(entry.path, allow_override);
      continue;
    }
    if (!fs::is_directory(entry.path, ec)) {
      if (entry.origin != "default") {
        log::warn("plugin path {} (from {}) is not a directory or file; ignored",
                  entry.path.string(), entry.origin);
      }
      continue;
    }
    std::vector<fs::path> files;
    for (const auto& item : fs::directory_iterator(entry.path, ec)) {
      if (item.is_regular_file() && is_plugin_file_name(item.path())) files.push_back(item.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) load_file(f, allow_override);
  }
}

void PluginManager::load_file(const fs::path& file, bool allow_override) {
  std::error_code ec;
  const std::string canonical = fs::weakly_canonical(file, ec).string();
  if (std::find(seen_.begin(), seen_.end(), canonical) != seen_.end()) return;
  seen_.push_back(canonical);

  PluginReport report;
  report.file = canonical;
  auto skip = [&](const std::string& reason) {
    report.reason = reason;
    log::warn("skipping plugin {}: {}", report.file, reason);
    for (const std::string& key : report.keys) {
      const auto slash = key.find('/');
      registry_.add_skipped(*parse_kind(key.substr(0, slash)), key.substr(slash + 1), report.file,
                            reason);
    }
    reports_.push_back(std::move(report));
  };

  std::string why = entry_symbol_problem(file);
  if (!why.empty()) return skip(why);
  const auto library = load_resident(file, why);
  if (library == nullptr) return skip(why);
  auto entry =
      library->get<const cpsd_plugin_descriptor*(uint32_t, uint32_t, const cpsd_host_services*)>(
          CPSD_PLUGIN_ENTRY_SYMBOL);
  const cpsd_plugin_descriptor* d =
      entry(CPSD_PLUGIN_ABI_MAJOR, CPSD_PLUGIN_API_MINOR, log::host_services());
  why = check_descriptor(d, report);
  if (!why.empty()) return skip(why);
  warn_on_other_compiler(d->fingerprint, report);

  register_descriptor(*d, report, library, allow_override, registry_);
  if (d->shutdown != nullptr) shutdown_hooks_.push_back(d->shutdown);
  report.loaded = true;
  log::debug("loaded plugin {} {} from {}", report.plugin_name, report.plugin_version, report.file);
  reports_.push_back(std::move(report));
}

}  // namespace cpsd
