// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/log.h"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

#include "cpsd/sdk/error.h"

namespace cpsd::log {
namespace {

struct State {
  std::mutex mutex;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  spdlog::level::level_enum level = spdlog::level::info;
  bool forced = false;
};

State& state() {
  static State* s = new State();  // never destroyed: plugins may log during exit
  return *s;
}

void plugin_log(void* /*context*/, int32_t level, const char* logger, const char* message) {
  get(logger != nullptr ? logger : "plugin")
      ->log(static_cast<spdlog::level::level_enum>(level), "{}", message != nullptr ? message : "");
}

int32_t plugin_log_level(void* /*context*/) { return static_cast<int32_t>(state().level); }

}  // namespace

void set_level(std::string_view level) {
  spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    throw ConfigError("unknown log level '" + std::string(level) +
                      "': use trace, debug, info, warn, error or off");
  }
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.level = parsed;
  spdlog::apply_all([parsed](const std::shared_ptr<spdlog::logger>& l) { l->set_level(parsed); });
}

std::shared_ptr<spdlog::logger> get(const std::string& name) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, s.sink);
  logger->set_pattern("%Y-%m-%d %H:%M:%S [%^%l%$] %n: %v");
  logger->set_level(s.level);
  spdlog::register_logger(logger);
  return logger;
}

void force_level(std::string_view level) {
  set_level(level);
  state().forced = true;
}

bool level_forced() { return state().forced; }

const cpsd_host_services* host_services() {
  static const cpsd_host_services services = {sizeof(cpsd_host_services), CPSD_PLUGIN_API_MINOR,
                                              nullptr, &plugin_log, &plugin_log_level};
  return &services;
}

}  // namespace cpsd::log
