// SPDX-License-Identifier: Apache-2.0
// What a plugin source file includes: factory records, the entry point macro, logging.
#pragma once

#include <cstdio>
#include <exception>
#include <string>
#include <type_traits>

#include <torch/version.h>

#include "cpsd/sdk/backbone.h"
#include "cpsd/sdk/decomposer.h"
#include "cpsd/sdk/error.h"
#include "cpsd/sdk/head.h"
#include "cpsd/sdk/loss.h"
#include "cpsd/sdk/plugin_abi.h"
#include "cpsd/sdk/version.h"

// Set by cpsd_add_plugin() from the LibTorch it links; 0 when built by hand.
#ifndef CPSD_PLUGIN_WITH_CUDA
#define CPSD_PLUGIN_WITH_CUDA 0
#endif

#if defined(__clang__)
#define CPSD_COMPILER_STRING "clang " __clang_version__
#elif defined(__GNUC__)
#define CPSD_COMPILER_STRING "gcc " __VERSION__
#else
#define CPSD_COMPILER_STRING "unknown"
#endif

#ifdef _GLIBCXX_USE_CXX11_ABI
#define CPSD_CXX11_ABI_VALUE _GLIBCXX_USE_CXX11_ABI
#else
#define CPSD_CXX11_ABI_VALUE -1
#endif

namespace cpsd::plugin {

/// The fingerprint of the translation unit that expands it (the plugin's own build).
inline cpsd_build_fingerprint build_fingerprint() {
  return {TORCH_VERSION_MAJOR,  TORCH_VERSION_MINOR,   TORCH_VERSION_PATCH,
          CPSD_CXX11_ABI_VALUE, CPSD_PLUGIN_WITH_CUDA, CPSD_COMPILER_STRING};
}

namespace detail {

/// Per-plugin state, set by the entry point. Hidden visibility keeps one per plugin file.
struct State {
  const cpsd_host_services* host = nullptr;
  const char* name = "plugin";
};
inline State& state() {
  static State s;
  return s;
}

inline void fill_error(cpsd_error* error, cpsd_error_code code, const char* message) {
  if (error == nullptr) return;
  error->code = code;
  std::snprintf(error->message, sizeof(error->message), "%s", message);
}

template <class Interface>
struct KindTraits;
template <>
struct KindTraits<Backbone> {
  using Args = BackboneArgs;
  static constexpr cpsd_kind kind = CPSD_KIND_BACKBONE;
};
template <>
struct KindTraits<Head> {
  using Args = HeadArgs;
  static constexpr cpsd_kind kind = CPSD_KIND_HEAD;
};
template <>
struct KindTraits<Loss> {
  using Args = LossArgs;
  static constexpr cpsd_kind kind = CPSD_KIND_LOSS;
};
template <>
struct KindTraits<Decomposer> {
  using Args = DecomposerArgs;
  static constexpr cpsd_kind kind = CPSD_KIND_DECOMPOSER;
};

template <class Impl>
using InterfaceOf = std::conditional_t<
    std::is_base_of_v<Backbone, Impl>, Backbone,
    std::conditional_t<std::is_base_of_v<Head, Impl>, Head,
                       std::conditional_t<std::is_base_of_v<Loss, Impl>, Loss,
                                          std::conditional_t<std::is_base_of_v<Decomposer, Impl>,
                                                             Decomposer, void>>>>;

// The exception bridge: nothing thrown by a constructor crosses into the host.
template <class Impl>
void* create(const void* args, cpsd_error* error) noexcept {
  using Interface = InterfaceOf<Impl>;
  using Args = typename KindTraits<Interface>::Args;
  try {
    Interface* object = new Impl(*static_cast<const Args*>(args));
    return static_cast<void*>(object);
  } catch (const ConfigError& e) {
    fill_error(error, CPSD_ERROR_CONFIG, e.what());
  } catch (const std::exception& e) {
    fill_error(error, CPSD_ERROR_RUNTIME, e.what());
  } catch (...) {
    fill_error(error, CPSD_ERROR_RUNTIME, "unknown exception");
  }
  return nullptr;
}

template <class Impl>
void destroy(void* object) noexcept {
  using Interface = InterfaceOf<Impl>;
  delete static_cast<Interface*>(object);
}

}  // namespace detail

/// A factory record for Impl, which derives from exactly one of Backbone, Head, Loss,
/// Decomposer and has a constructor taking that kind's Args (BackboneArgs, ...).
/// `defaults_toml` lists every option with its default and a comment; the host rejects
/// keys and types it does not declare, so it is also the option schema.
template <class Impl>
cpsd_factory_record factory(const char* name, const char* summary, const char* defaults_toml) {
  using Interface = detail::InterfaceOf<Impl>;
  static_assert(!std::is_void_v<Interface>,
                "Impl must derive from cpsd::Backbone, Head, Loss or Decomposer");
  static_assert(std::is_constructible_v<Impl, const typename detail::KindTraits<Interface>::Args&>,
                "Impl needs a constructor taking the kind's Args struct");
  return cpsd_factory_record{sizeof(cpsd_factory_record),
                             detail::KindTraits<Interface>::kind,
                             name,
                             summary,
                             defaults_toml,
                             &detail::create<Impl>,
                             &detail::destroy<Impl>};
}

/// Logs through the host (levels and sinks are the host's) with the plugin's name.
inline void log(cpsd_log_level level, const std::string& message) {
  const detail::State& s = detail::state();
  if (s.host != nullptr && s.host->log != nullptr) {
    s.host->log(s.host->context, level, s.name, message.c_str());
  } else {
    std::fprintf(stderr, "[%s] %s\n", s.name, message.c_str());
  }
}
inline void log_debug(const std::string& m) { log(CPSD_LOG_DEBUG, m); }
inline void log_info(const std::string& m) { log(CPSD_LOG_INFO, m); }
inline void log_warn(const std::string& m) { log(CPSD_LOG_WARN, m); }

}  // namespace cpsd::plugin

/// Defines the plugin's entry point. Use once per plugin file, in plugin.cpp:
///
///   CPSD_PLUGIN("hello", "1.0.0",
///               cpsd::plugin::factory<HelloBackbone>("hello_cnn", "A tiny CNN", kDefaults));
///
/// NAME and VERSION are string literals; the records follow. The entry answers only the
/// host's ABI major and never throws.
#define CPSD_PLUGIN(NAME, VERSION, ...)                                           \
  extern "C" __attribute__((visibility("default"))) const cpsd_plugin_descriptor* \
  cpsd_plugin_entry_v2(uint32_t host_abi_major, uint32_t /*host_api_minor*/,      \
                       const cpsd_host_services* host) noexcept {                 \
    if (host_abi_major != CPSD_PLUGIN_ABI_MAJOR) return nullptr;                  \
    try {                                                                         \
      ::cpsd::plugin::detail::state().host = host;                                \
      ::cpsd::plugin::detail::state().name = NAME;                                \
      static const cpsd_factory_record records[] = {__VA_ARGS__};                 \
      static const cpsd_plugin_descriptor descriptor = {                          \
          sizeof(cpsd_plugin_descriptor),                                         \
          CPSD_PLUGIN_ABI_MAJOR,                                                  \
          CPSD_PLUGIN_API_MINOR,                                                  \
          NAME,                                                                   \
          VERSION,                                                                \
          CPSD_VERSION,                                                           \
          ::cpsd::plugin::build_fingerprint(),                                    \
          static_cast<uint32_t>(sizeof(records) / sizeof(records[0])),            \
          records,                                                                \
          0,                                                                      \
          nullptr,                                                                \
          nullptr};                                                               \
      return &descriptor;                                                         \
    } catch (...) {                                                               \
      return nullptr;                                                             \
    }                                                                             \
  }
