// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/text.h"

#include <gtest/gtest.h>

namespace cpsd {

TEST(Text, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("resnet101", "resnet101"), 0u);
  EXPECT_EQ(edit_distance("resnet101", "resnet1011"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("cpds", "cpsd"), 1u);  // a swap of neighbours is one slip
  EXPECT_EQ(edit_distance("cpds", "cgpd"), 2u);
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);  // no edits of a swapped pair (OSA, not Damerau)
}

TEST(Text, ClosestMatchOnlySuggestsNearNames) {
  const std::vector<std::string> names = {"resnet101", "resnet18", "tresnet_l"};
  EXPECT_EQ(closest_match("resnet10", names), "resnet101");
  EXPECT_EQ(closest_match("tresnetl", names), "tresnet_l");
  EXPECT_EQ(closest_match("query2label", names), "");
  EXPECT_EQ(closest_match("x", {}), "");
  EXPECT_EQ(did_you_mean("resnet1011", names), " (did you mean 'resnet101'?)");
  EXPECT_EQ(did_you_mean("vit", names), "");
}

TEST(Text, Join) {
  EXPECT_EQ(join({}), "none");
  EXPECT_EQ(join({"a"}), "a");
  EXPECT_EQ(join({"a", "b", "c"}), "a, b, c");
}

}  // namespace cpsd
