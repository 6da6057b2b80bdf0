// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the test suites: paths of built files, temp dirs, running `cpsd`.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cpsd {
class PluginManager;
}

namespace cpsd::test {

namespace fs = std::filesystem;

/// The in-tree plugins, loaded once and kept for the whole test program.
PluginManager& in_tree_plugins();

/// Built in-tree plugins (build/lib/cpsd/plugins).
fs::path plugin_dir();
/// Fixture plugins: fixture_dir("wrong_abi") holds cpsd_plugin_wrong_abi.so.
fs::path fixture_dir(const std::string& name);
/// The built `cpsd` executable.
fs::path cpsd_binary();
/// The source tree root.
fs::path source_dir();

/// A fresh directory removed with everything in it when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, const std::string& content);

/// Makes a tiny fashion-scenes under dir/fs and writes dir/tiny_base.toml, the part that the
/// engine tests share (1 thread, 32x32 images, a width-4 ResNet); a test's config starts with
/// `base = "tiny_base.toml"` and adds its own tables. Fails the calling test on error.
void make_tiny_run_base(const fs::path& dir, int train_images, int val_images, int seed);
std::string read_file(const fs::path& path);

/// The message of the `Error` that `read()` throws, after checking that it came within 5 s
/// and starts with `prefix` (a hostile file must be refused at once, naming itself).
/// "no error" when nothing was thrown, which fails the prefix check.
template <class Error, class Read>
std::string prompt_refusal(Read read, const std::string& prefix) {
  const auto start = std::chrono::steady_clock::now();
  std::string what = "no error";
  try {
    read();
  } catch (const Error& e) {
    what = e.what();
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took.count(), 5.0) << prefix;
  EXPECT_EQ(what.rfind(prefix, 0), 0u) << what;
  return what;
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  /// The last non-empty line of err.
  std::string last_error_line() const;
};

/// Runs `cpsd args...` with extra environment variables; captures both streams.
CommandResult run_cpsd(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env = {});

/// Makes a suite's shared state (`Suite::make_shared()`, static) once per process, from the
/// first test's SetUp(): a failure there fails that test, and later tests of the suite fail
/// naming it. (From SetUpTestSuite, GoogleTest would report every test of the suite as
/// skipped, and ctest counts a skip as a pass.)
template <class Suite>
void make_shared_once() {
  static bool made = false, ok = false;
  if (!made) {
    made = true;
    Suite::make_shared();
    ok = !::testing::Test::HasFatalFailure();
    return;
  }
  ASSERT_TRUE(ok) << "this suite's shared setup failed in an earlier test";
}

/// A fixture whose expensive state its tests share: derive as
/// `class X : public test::SharedFixture<X>` and define `static void make_shared()`.
template <class Suite, class Base = ::testing::Test>
class SharedFixture : public Base {
 protected:
  void SetUp() override { make_shared_once<Suite>(); }
};

}  // namespace cpsd::test
