// SPDX-License-Identifier: Apache-2.0
// `cpsd`: git-style subcommands. Exit codes: 0 ok, 2 usage or config error, 1 failure.
#include <malloc.h>

#include <iostream>
#include <string>
#include <vector>

#include <c10/util/Exception.h>

#include "cli.h"
#include "cpsd/sdk/error.h"
#include "cpsd/sdk/version.h"

namespace {

void print_usage() {
  std::cout << "usage: cpsd <command> [options]\n\n"
               "Complementary Parallel Self-Distillation for multi-label image classification.\n\n"
               "Commands:\n";
  for (const auto& c : cpsd::cli::commands()) {
    std::cout << "  " << c.name << std::string(10 - std::min<std::size_t>(c.name.size(), 9), ' ')
              << c.summary << '\n';
  }
  std::cout << "\nRun `cpsd <command> --help` for a command's options.\n";
}

// One line, whatever the exception carried.
std::string one_line(std::string message) {
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return message;
}

int fail(int code, const std::string& message) {
  std::cerr << "cpsd: error: " << one_line(message) << std::endl;
  return code;
}

int dispatch(int argc, char** argv, cpsd::cli::Context& context) {
  if (argc < 2) {
    print_usage();
    return 2;
  }
  const std::string name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    print_usage();
    return 0;
  }
  if (name == "--version" || name == "version") {
    std::cout << "cpsd " << CPSD_VERSION << '\n';
    return 0;
  }
  for (const auto& c : cpsd::cli::commands()) {
    if (c.name == name) return c.run(std::vector<std::string>(argv + 2, argv + argc), context);
  }
  throw cpsd::ConfigError("unknown command '" + name + "' (see `cpsd --help`)");
}

}  // namespace

int main(int argc, char** argv) {
  // Batches are tens of MB: keep freed blocks in the heap for the next batch instead of
  // returning them to the kernel and page-faulting them back in (glibc's defaults would).
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  // Declared first, destroyed last: plugin objects die before the manager.
  cpsd::cli::Context context;
  try {
    return dispatch(argc, argv, context);
  } catch (const cpsd::ConfigError& e) {
    return fail(2, e.what());
  } catch (const c10::Error& e) {
    return fail(1, e.what_without_backtrace());
  } catch (const std::exception& e) {
    return fail(1, e.what());
  }
}
