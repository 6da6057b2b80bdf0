// SPDX-License-Identifier: Apache-2.0
// Pretrained layouts: the authors' checkpoints (their exact key lists and shapes in
// tests/weights/authors_layouts.json, made by transformer_heads_fixture.py from their code)
// load whole into the cpsd models they correspond to, and a file that does not fit fails
// with every name it leaves out.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "cpsd/core/model.h"
#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/core/state_dict.h"
#include "cpsd/core/weight_layout.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

class Layouts : public test::SharedFixture<Layouts> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    manager_ = new PluginManager();
    manager_->load({{test::plugin_dir(), "test"}});
    dir_ = new test::TempDir();
    std::string glove;  // a GloVe-format file for the 80 classes
    for (int c = 0; c < 80; ++c) {
      glove += "word" + std::to_string(c);
      for (int i = 0; i < 300; ++i) glove += " " + std::to_string((c + i) % 7 / 7.0);
      glove += "\n";
    }
    test::write_file(dir_->path() / "glove.txt", glove);
  }
  static void TearDownTestSuite() {
    delete manager_;
    delete dir_;
  }
  static std::shared_ptr<MultiLabelModel> build(std::string toml, int64_t classes = 80) {
    const std::string glove = (dir_->path() / "glove.txt").string();
    for (std::size_t at; (at = toml.find("\"...\"")) != std::string::npos;)
      toml.replace(at, 5, "\"" + glove + "\"");
    const RunConfig config = RunConfig::parse(toml, "model.toml", {}, manager_->registry());
    std::vector<std::string> names;
    for (int c = 0; c < classes; ++c) names.push_back("word" + std::to_string(c));
    return build_model(config, manager_->registry(), names);
  }
  static PluginManager* manager_;
  static test::TempDir* dir_;
};
PluginManager* Layouts::manager_ = nullptr;
test::TempDir* Layouts::dir_ = nullptr;

const Json& authors(const std::string& name) {
  static const Json* all = new Json(
      Json::parse(test::read_file(test::source_dir() / "tests/weights/authors_layouts.json")));
  for (const Json& l : (*all)["layouts"]) {
    if (l["name"] == name) return l;
  }
  throw std::runtime_error("no layout " + name);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Tensor k of the file holds 0.001 (k + 1) everywhere, so each lands somewhere checkable.
void expect_loads_whole(const std::string& layout_name, const std::string& detected) {
  const Json& layout = authors(layout_name);
  auto model = Layouts::build(layout["cpsd_config"]);
  StateDict file;
  for (const Json& key : layout["keys"]) {
    const auto shape = key[1].get<std::vector<int64_t>>();
    const bool count = ends_with(key[0], "num_batches_tracked");
    file.emplace_back(
        key[0], count ? torch::tensor(int64_t{1}) : torch::full(shape, 0.001 * (file.size() + 1)));
  }
  EXPECT_EQ(detect_layout(file).name, detected);
  const auto [b, h] = load_pretrained(*model, file, {}, layout_name);
  EXPECT_TRUE(b.missing.empty() && b.unexpected.empty() && b.mismatched.empty()) << b.summary();
  EXPECT_TRUE(h.unexpected.empty() && h.mismatched.empty()) << h.summary();
  for (const std::string& m : h.missing) EXPECT_EQ(m, "class_vectors");  // the GloVe file's

  // Every tensor of the file is where the authors' code has it (InplaceABN scales as
  // |w| + 1e-5), and every parameter of the model came from the file.
  std::map<std::string, torch::Tensor> state;
  for (const auto& p : model->named_parameters()) state[p.key()] = p.value();
  for (const auto& p : model->named_buffers()) state[p.key()] = p.value();
  std::set<std::string> loaded;
  for (std::size_t k = 0; k < file.size(); ++k) {
    const Json& target = layout["keys"][k][2];
    if (target.is_null() || ends_with(file[k].first, "num_batches_tracked")) continue;
    const std::string to = target;
    ASSERT_TRUE(state.count(to)) << file[k].first << " -> " << to;
    double want = 0.001 * (k + 1);
    if (layout_name.find("tresnet") != std::string::npos && ends_with(to, ".bn.weight"))
      want += 1e-5;
    EXPECT_NEAR(state[to].flatten()[0].item<double>(), want, 1e-7) << file[k].first;
    loaded.insert(to);
  }
  for (const auto& p : model->named_parameters()) EXPECT_TRUE(loaded.count(p.key())) << p.key();
}

TEST_F(Layouts, Query2LabelR101CheckpointLoadsWhole) { expect_loads_whole("q2l_r101_448", "q2l"); }
TEST_F(Layouts, Query2LabelTResNetLCheckpointLoadsWhole) {
  expect_loads_whole("q2l_tresnetl_448", "q2l");
}
TEST_F(Layouts, CpsdAuthorsR101TransformerCheckpointLoadsWhole) {
  expect_loads_whole("cpsd_r101tf_448", "cpsd-authors");
}
TEST_F(Layouts, CpsdAuthorsQuery2LabelCheckpointLoadsWhole) {
  expect_loads_whole("cpsd_q2l_448", "q2l");
}

// A small ResNet and Query2Label head, for the checks that must fail.
const char* kSmallQ2l =
    "[model]\nbackbone = \"resnet\"\nhead = \"query2label\"\n[backbone.resnet]\nwidth = 4\n"
    "[head.query2label]\nhidden_dim = 32\nheads = 4\nfeedforward = 32\n";

StateDict state_of(MultiLabelModel& model) {
  StateDict out;
  for (const auto& p : model.named_parameters()) out.emplace_back(p.key(), p.value().clone());
  for (const auto& b : model.named_buffers()) out.emplace_back(b.key(), b.value().clone());
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST_F(Layouts, APartialHeadFailsNamingWhatIsMissing) {
  auto without_proj = build(std::string(kSmallQ2l) + "input_proj = false\n", 5);
  const StateDict file = state_of(*without_proj);
  auto with_proj = build(kSmallQ2l, 5);
  const std::string error = error_of([&] { load_pretrained(*with_proj, file, {}, "q2l.pth"); });
  EXPECT_NE(error.find("q2l.pth (layout cpsd)"), std::string::npos) << error;
  EXPECT_NE(error.find("2 head parameters do not load: input_proj.{weight, bias}"),
            std::string::npos)
      << error;
  // Asked for the backbone only, or for whatever fits, the same file loads.
  EXPECT_NO_THROW(load_pretrained(*with_proj, file, {{}, "auto", "backbone"}, "q2l.pth"));
  const auto [b, h] = load_pretrained(*with_proj, file, {{}, "auto", "matching"}, "q2l.pth");
  EXPECT_EQ(h.missing.size(), 2u);
}

// A real file: a small Query2Label written under Q2L's names with DDP's "module." (as its
// main_mlc.py saves it), read back and loaded whole into a fresh model.
TEST_F(Layouts, AQuery2LabelFileInItsOwnNamesLoadsWhole) {
  auto source = build(std::string(kSmallQ2l) + "input_proj = false\n", 5);
  const fs::path file = dir_->path() / "q2l_small.pth";
  export_state_dict(*source, file,
                    {{"backbone.", "module.backbone.0.body."},
                     {"head.transformer.", "module.transformer."},
                     {"head.query_embed.", "module.query_embed."},
                     {"head.fc.", "module.fc."}});
  const StateDict weights = read_state_dict(file);
  EXPECT_EQ(weights.front().first.rfind("backbone.0.body.", 0), 0u) << weights.front().first;
  auto model = build(std::string(kSmallQ2l) + "input_proj = false\n", 5);
  const auto [b, h] = load_pretrained(*model, weights, {}, file.string());
  EXPECT_TRUE(b.missing.empty() && b.unexpected.empty()) << b.summary();
  EXPECT_TRUE(h.missing.empty() && h.unexpected.empty()) << h.summary();
  const auto want = source->named_parameters();
  for (const auto& p : model->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), want[p.key()])) << p.key();
}

TEST_F(Layouts, AMissingBackboneTensorFails) {
  auto model = build(kSmallQ2l, 5);
  StateDict file = state_of(*model);
  file.erase(std::find_if(file.begin(), file.end(),
                          [](const auto& e) { return e.first == "backbone.layer2.0.bn1.weight"; }));
  const std::string error = error_of([&] { load_pretrained(*model, file, {}, "cut.pth"); });
  EXPECT_NE(error.find("the backbone does not load whole (1 of"), std::string::npos) << error;
  EXPECT_NE(error.find("not in the file: layer2.0.bn1.weight"), std::string::npos) << error;
}

TEST_F(Layouts, AClassifierForAnotherClassCountLeavesTheHeadAsInitialised) {
  auto imagenet = build("[model]\nbackbone = \"resnet\"\nhead = \"linear\"\n", 10);
  StateDict file;  // torchvision's layout: the backbone's names and fc.
  for (const auto& p : imagenet->backbone().named_parameters())
    file.emplace_back(p.key(), p.value());
  for (const auto& b : imagenet->backbone().named_buffers()) file.emplace_back(b.key(), b.value());
  for (const auto& p : imagenet->head().named_parameters()) file.emplace_back(p.key(), p.value());
  EXPECT_EQ(detect_layout(file).name, "torchvision");
  auto model = build("[model]\nbackbone = \"resnet\"\nhead = \"linear\"\n", 5);
  const auto [b, h] = load_pretrained(*model, file, {}, "imagenet.pth");
  EXPECT_TRUE(h.matched.empty());
  EXPECT_EQ(h.mismatched.size(), 2u);
}

TEST_F(Layouts, TimmTResNetNamesLoadWhole) {
  auto source = build("[model]\nbackbone = \"tresnet_m\"\nhead = \"linear\"\n", 5);
  StateDict file;  // timm: the body and head.fc. at the top level
  for (const auto& [name, t] : state_of(*source))
    file.emplace_back(name.rfind("backbone.", 0) == 0 ? name.substr(9) : name, t);
  EXPECT_EQ(detect_layout(file).name, "timm");
  auto model = build("[model]\nbackbone = \"tresnet_m\"\nhead = \"linear\"\n", 5);
  const auto [b, h] = load_pretrained(*model, file, {}, "timm.pth");
  EXPECT_EQ(h.matched.size(), 2u);
  EXPECT_TRUE(torch::equal(model->head().named_parameters()["fc.weight"],
                           source->head().named_parameters()["fc.weight"]));
}

TEST_F(Layouts, ANamedLayoutTheFileIsNotInFails) {
  auto model = build(kSmallQ2l, 5);
  const StateDict file = state_of(*model);
  EXPECT_NE(error_of([&] {
              load_pretrained(*model, file, {{}, "q2l", "all"}, "x.pth");
            }).find("no name in the file starts with backbone.0.body."),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              load_pretrained(*model, file, {{}, "qtl", "all"}, "x.pth");
            }).find("unknown layout 'qtl'"),
            std::string::npos);
}

}  // namespace
}  // namespace cpsd
