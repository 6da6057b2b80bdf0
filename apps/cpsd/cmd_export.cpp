// SPDX-License-Identifier: Apache-2.0
// `cpsd export --checkpoint CKPT --out model.pth`: weights for PyTorch users.
#include <cstdio>

#include "cli.h"
#include "cpsd/core/engine/saved_model.h"
#include "cpsd/core/state_dict.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {

int run_export(const std::vector<std::string>& args, Context& context) {
  std::string checkpoint, out, weights = "best", layout = "cpsd";
  CommandLine cli("export", "--checkpoint CKPT --out FILE.pth [options]");
  cli.add()("checkpoint", po::value(&checkpoint), "a cpsd checkpoint")(
      "out", po::value(&out), "file to write (zip format; torch.load() in Python reads it)")(
      "weights", po::value(&weights), "best (default) | model | ema")(
      "layout", po::value(&layout),
      "cpsd (backbone.*, head.*) | torchvision (backbone names bare, head.fc -> fc)");
  if (!cli.parse(args)) return 0;
  if (checkpoint.empty() || out.empty())
    throw ConfigError("cpsd export: needs --checkpoint and --out");
  if (layout != "cpsd" && layout != "torchvision")
    throw ConfigError("cpsd export: --layout must be cpsd or torchvision");
  const engine::SavedModel saved = engine::load_saved_model(
      checkpoint, context.plugins(cli.common).registry(), weights, std::nullopt);
  std::vector<std::pair<std::string, std::string>> renames;
  if (layout == "torchvision") renames = {{"backbone.", ""}, {"head.fc.", "fc."}};
  export_state_dict(*saved.model, out, renames);
  std::printf("wrote %s (%s weights, %s layout, %zu classes)\n", out.c_str(), saved.weights.c_str(),
              layout.c_str(), saved.meta.class_names.size());
  return 0;
}

}  // namespace cpsd::cli
