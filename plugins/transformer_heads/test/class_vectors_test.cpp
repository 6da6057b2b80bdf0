// SPDX-License-Identifier: Apache-2.0
// Class vectors from GloVe-format files, through head/transformer built from the plugin.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

const Registry& registry() { return test::in_tree_plugins().registry(); }

std::shared_ptr<Head> head(const std::string& glove, const std::vector<std::string>& classes) {
  HeadArgs args;
  args.options =
      plugin_options(registry(), Kind::head, "transformer",
                     "dim = 8\ndepth = 1\nheads = 2\ndim_head = 4\nmlp_dim = 8\nembedding_dim = 3\n"
                     "embeddings = \"glove\"\nglove = \"" +
                         glove + "\"\n");
  args.features = {{6, 32, "layer4"}};
  args.num_classes = static_cast<int64_t>(classes.size());
  args.class_names = classes;
  return registry().create_head("transformer", args);
}

TEST(ClassVectors, WholeNamesWordsAndAverages) {
  test::TempDir tmp;
  test::write_file(tmp / "g.txt",
                   "dining 1 2 3\ntable 3 4 5\ndog 0 0 1\ntraffic light 9 9 9\nThe 1 1 1\n");
  auto h = head((tmp / "g.txt").string(), {"dining table", "Dog", "traffic light", "dining_table"});
  const torch::Tensor v = h->named_buffers()["class_vectors"];
  EXPECT_TRUE(torch::equal(v[0], torch::tensor({2.0f, 3.0f, 4.0f})));  // mean of the two words
  EXPECT_TRUE(torch::equal(v[1], torch::tensor({0.0f, 0.0f, 1.0f})));  // lower-cased match
  EXPECT_TRUE(torch::equal(v[2], torch::tensor({9.0f, 9.0f, 9.0f})));  // a whole-name line wins
  EXPECT_TRUE(torch::equal(v[3], v[0]));                               // '_' splits like a space
  EXPECT_EQ(h->forward({torch::rand({2, 6, 2, 2})}).sizes(), (std::vector<int64_t>{2, 4}));
}

TEST(ClassVectors, ErrorsNameEveryMissingWord) {
  test::TempDir tmp;
  test::write_file(tmp / "g.txt", "dog 0 0 1\n");
  try {
    head((tmp / "g.txt").string(), {"dog", "hair drier", "zebra"});
    FAIL();
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("hair (in 'hair drier')"), std::string::npos) << what;
    EXPECT_NE(what.find("drier (in 'hair drier')"), std::string::npos) << what;
    EXPECT_NE(what.find("zebra"), std::string::npos) << what;
  }
  test::write_file(tmp / "short.txt", "dog 0 1\n");
  EXPECT_THROW(head((tmp / "short.txt").string(), {"dog"}), ConfigError);
  try {
    head((tmp / "absent.txt").string(), {"dog"});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("head.transformer.glove: cannot open"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cpsd
