// SPDX-License-Identifier: Apache-2.0
// The host's own config sections: every key with its default and meaning.
#include "host_schema.h"

#include "cpsd/core/run_config.h"

namespace cpsd {

namespace {

// Also the schema: a run config may only set these keys, with these types.
constexpr std::string_view kHostDefaults = R"(# Host settings of a cpsd run.
# Example: cpsd config show configs/examples/hello.toml --set runtime.threads=2

[runtime]
threads = 0          # LibTorch CPU threads; 0 = all cores of the machine
seed = 0             # one seed for partitions, shuffling, augmentation and initialisation
log_level = "info"   # trace | debug | info | warn | error | off
device = "cpu"       # cpu | cuda | cuda:N | auto

[model]
backbone = ""        # backbone registry name, e.g. "resnet101"; options in [backbone.<name>]
head = "linear"      # head registry name; options in [head.<name>]
num_classes = 0      # label count when no dataset gives it (model info, tests); 0 = from data
input_size = 224     # square input side in pixels

[train]
loss = "asl"         # classification loss registry name; options in [loss.<name>]

[partition]
decomposer = "cgp"   # decomposer registry name for `cpsd partition`; options in [decomposer.<name>]
k = 5                # number of sub-tasks (groups of labels)
statistics = ""      # label statistics JSON (relative to this file); "" = count the training set
)";

}  // namespace

std::string_view host_defaults_toml() { return kHostDefaults; }

const std::vector<Selector>& selectors() {
  static const std::vector<Selector> s = {
      {Kind::backbone, "model", "backbone"},
      {Kind::head, "model", "head"},
      {Kind::loss, "train", "loss"},
      {Kind::decomposer, "partition", "decomposer"},
  };
  return s;
}

}  // namespace cpsd
