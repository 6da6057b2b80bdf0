// SPDX-License-Identifier: Apache-2.0
// The host names no concrete plugin, method or branch: they are data (plugins found at run
// time, methods and branches in configs). Reads core/ and apps/ for string literals equal to
// a registered implementation's name or a method or branch of the shipped paper.toml.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "test_support.h"

namespace cpsd {
namespace {

namespace fs = std::filesystem;

// Method and branch names of configs/_base_/methods/paper.toml.
std::set<std::string> paper_names() {
  std::set<std::string> names;
  const std::string text =
      test::read_file(test::source_dir() / "configs/_base_/methods/paper.toml");
  const std::regex branch(R"(^\[branches\.(\w+)\])"), method(R"(^(\w+) = \[)");
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, branch) || std::regex_search(line, m, method))
      names.insert(m[1]);
  }
  return names;
}

TEST(Host, NamesNoPluginMethodOrBranch) {
  PluginManager plugins;
  plugins.load({{test::plugin_dir(), "test"}});
  std::set<std::string> names = paper_names();
  ASSERT_TRUE(names.count("cgpd") && names.count("dgp")) << "paper.toml not read";
  for (Kind kind : kAllKinds) {
    for (const std::string& n : plugins.registry().names(kind)) names.insert(n);
  }
  ASSERT_TRUE(names.count("resnet101") && names.count("asl"));
  // Words that are also the host's own: its config sections ([distill], [train], ...), the
  // stage that trains a model without teachers ("baseline") and the project's name.
  const std::string defaults(host_defaults_toml());
  for (auto it = names.begin(); it != names.end();) {
    const bool section = defaults.find("[" + *it + "]") != std::string::npos;
    it = section || *it == "baseline" || *it == "cpsd" ? names.erase(it) : std::next(it);
  }
  const std::regex literal(R"re("([a-z0-9_]+)")re");
  std::vector<std::string> found;
  for (const char* root : {"core", "apps"}) {
    for (const auto& e : fs::recursive_directory_iterator(test::source_dir() / root)) {
      const std::string ext = e.path().extension().string();
      if (ext != ".cpp" && ext != ".h") continue;
      std::ifstream in(e.path());
      int number = 0;
      for (std::string line; std::getline(in, line);) {
        ++number;
        const std::string code = line.substr(0, line.find("//"));  // comments may give examples
        for (auto m = std::sregex_iterator(code.begin(), code.end(), literal);
             m != std::sregex_iterator(); ++m) {
          if (names.count((*m)[1])) {
            found.push_back(fs::relative(e.path(), test::source_dir()).string() + ":" +
                            std::to_string(number) + ": \"" + (*m)[1].str() + "\"");
          }
        }
      }
    }
  }
  std::string list;
  for (const std::string& f : found) list += "\n  " + f;
  EXPECT_TRUE(found.empty()) << "the host names plugins, methods or branches:" << list;
}

}  // namespace
}  // namespace cpsd
