// SPDX-License-Identifier: Apache-2.0
// The host's logging: one stderr sink shared by the host and, through host services, plugins.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "cpsd/core/export.h"
#include "cpsd/sdk/plugin_abi.h"

namespace cpsd::log {

/// Sets the level of every cpsd logger: trace, debug, info, warn, error or off.
/// Throws ConfigError for another word.
CPSD_CORE_API void set_level(std::string_view level);

/// A level chosen on the command line wins over the config's: after force_level(), set_level()
/// from a config (apply_runtime) is ignored.
CPSD_CORE_API void force_level(std::string_view level);
CPSD_CORE_API bool level_forced();

/// The logger called `name` ("cpsd" for the host, the plugin name for a plugin), writing
/// to the shared stderr sink. Created on first use.
CPSD_CORE_API std::shared_ptr<spdlog::logger> get(const std::string& name = "cpsd");

/// The table handed to plugins; routes their messages to get(plugin_name).
CPSD_CORE_API const cpsd_host_services* host_services();

template <class... Args>
void info(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  get()->info(fmt, std::forward<Args>(args)...);
}
template <class... Args>
void warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  get()->warn(fmt, std::forward<Args>(args)...);
}
template <class... Args>
void debug(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  get()->debug(fmt, std::forward<Args>(args)...);
}

}  // namespace cpsd::log
