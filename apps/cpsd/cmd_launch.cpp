// SPDX-License-Identifier: Apache-2.0
// `cpsd launch --nproc N -- <cpsd subcommand ...>`: N local ranks with torchrun's variables.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <boost/dll/runtime_symbol_info.hpp>

#include "cli.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {
namespace {

// A free TCP port on loopback, chosen by the kernel.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    throw RuntimeError("cpsd launch: cannot find a free port; pass --port");
  }
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

}  // namespace

int run_launch(const std::vector<std::string>& args, Context&) {
  const auto separator = std::find(args.begin(), args.end(), "--");
  const std::vector<std::string> own(args.begin(), separator);
  int64_t nproc = 0, port = 0;
  CommandLine cli("launch", "--nproc N [--port P] -- <cpsd command and its options>", false);
  cli.add()("nproc", po::value(&nproc), "number of local processes (ranks)")(
      "port", po::value(&port), "rendezvous port on 127.0.0.1 (default: a free one)");
  if (!cli.parse(own)) return 0;  // --help, before the command is needed
  if (separator == args.end() || separator + 1 == args.end()) {
    throw ConfigError(
        "cpsd launch: usage: cpsd launch --nproc N [--port P] -- <cpsd command and options>");
  }
  const std::vector<std::string> command(separator + 1, args.end());
  if (nproc < 1) throw ConfigError("cpsd launch: --nproc must be >= 1");
  if (port == 0) port = free_port();
  if (port < 1 || port > 65535) throw ConfigError("cpsd launch: --port must be 1..65535");
  const std::string self = boost::dll::program_location().string();

  std::vector<pid_t> children;
  for (int64_t rank = 0; rank < nproc; ++rank) {
    const pid_t pid = fork();
    if (pid < 0) throw RuntimeError("cpsd launch: fork failed");
    if (pid == 0) {
      setenv("RANK", std::to_string(rank).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("MASTER_ADDR", "127.0.0.1", 1);
      setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(self.c_str()));
      for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(self.c_str(), argv.data());
      _exit(127);
    }
    children.push_back(pid);
  }
  // Wait; when a rank fails, give the others a moment to report, then stop them.
  int exit_code = 0;
  std::size_t running = children.size();
  auto failed_at = std::chrono::steady_clock::time_point::max();
  while (running > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      --running;
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      const auto rank = std::find(children.begin(), children.end(), pid) - children.begin();
      if (code != 0 && exit_code == 0) {
        exit_code = code;
        failed_at = std::chrono::steady_clock::now();
        std::fprintf(stderr, "cpsd launch: rank %lld exited with %d\n",
                     static_cast<long long>(rank), code);
      }
      continue;
    }
    if (exit_code != 0 && std::chrono::steady_clock::now() - failed_at > std::chrono::seconds(10)) {
      for (pid_t c : children) kill(c, SIGTERM);
      failed_at = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return exit_code;
}

}  // namespace cpsd::cli
