// SPDX-License-Identifier: Apache-2.0
#include "test_support.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "cpsd/core/plugin_manager.h"

namespace cpsd::test {

fs::path plugin_dir() { return CPSD_TEST_PLUGIN_DIR; }
fs::path fixture_dir(const std::string& name) { return fs::path(CPSD_TEST_FIXTURE_DIR) / name; }
fs::path cpsd_binary() { return CPSD_TEST_BINARY; }
fs::path source_dir() { return CPSD_TEST_SOURCE_DIR; }

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate = fs::temp_directory_path() /
                         ("cpsd-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
    if (fs::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string CommandResult::last_error_line() const {
  std::stringstream lines(err);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

namespace {
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}
}  // namespace

PluginManager& in_tree_plugins() {
  static PluginManager* m = [] {
    auto* pm = new PluginManager();  // never destroyed: plugins stay loaded until exit
    pm->load({{plugin_dir(), "test"}});
    return pm;
  }();
  return *m;
}

CommandResult run_cpsd(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env) {
  TempDir tmp;
  std::string command = "env";
  for (const auto& [k, v] : env) command += " " + k + "=" + shell_quote(v);
  command += " " + shell_quote(cpsd_binary().string());
  for (const std::string& a : args) command += " " + shell_quote(a);
  command +=
      " >" + shell_quote((tmp / "out").string()) + " 2>" + shell_quote((tmp / "err").string());
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(tmp / "out");
  result.err = read_file(tmp / "err");
  return result;
}

void make_tiny_run_base(const fs::path& dir, int train_images, int val_images, int seed) {
  const auto r = run_cpsd({"data", "make-fashion-scenes", "--out", (dir / "fs").string(),
                           "--train-images", std::to_string(train_images), "--val-images",
                           std::to_string(val_images), "--seed", std::to_string(seed)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  write_file(dir / "tiny_base.toml",
             "base = [\"" + (source_dir() / "configs/_base_/methods/paper.toml").string() +
                 "\"]\n" + R"([runtime]
threads = 1
[data]
root = "fs"
image_size = 32
workers = 2
[data.train]
annotations = "annotations/instances_train.json"
images = "train"
[data.val]
annotations = "annotations/instances_val.json"
images = "val"
[model]
backbone = "resnet"
head = "linear"
[train]
loss = "asl"
[distill]
loss = "distill"
[backbone.resnet]
width = 4
stem = "small"
)");
}

}  // namespace cpsd::test
