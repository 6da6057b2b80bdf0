// SPDX-License-Identifier: Apache-2.0
// `cpsd sweep SWEEP.toml`: a grid of runs over axes of overrides and seeds, and its summary.
#include <iostream>
#include <sstream>

#include "cli.h"
#include "cpsd/core/sweep/runner.h"
#include "cpsd/core/sweep/summary.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {
namespace {

// "a,b c" -> {"a", "b", "c"}.
std::vector<std::string> words(const std::string& text) {
  std::string spaced = text;
  for (char& c : spaced) {
    if (c == ',') c = ' ';
  }
  std::istringstream in(spaced);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<int64_t> seeds_of(const std::string& text) {
  std::vector<int64_t> out;
  for (const std::string& w : words(text)) {
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(w, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != w.size() || v < 0)
      throw ConfigError("cpsd sweep --seeds " + text + ": expected integers >= 0, e.g. 0,1,2");
    out.push_back(v);
  }
  return out;
}

}  // namespace

int run_sweep(const std::vector<std::string>& args, Context& context) {
  std::string file, seeds, methods;
  sweep::SpecOverrides cli_spec;
  std::string config;
  int64_t only = -1;
  bool list = false, summary_only = false;
  CommandLine cli("sweep", "[SWEEP.toml] [--config RUN.toml] [--axis KEY=[V1, V2]]... [options]");
  cli.positional("file", &file, "sweep file", 1);
  cli.add()("config", po::value(&config), "run config of every cell (replaces sweep.config)")(
      "axis", po::value(&cli_spec.axes)->composing(),
      "another axis: KEY=[V1, V2, ...], values in TOML (repeatable)")(
      "seeds", po::value(&seeds), "seeds of every cell, e.g. 0,1,2 (replaces sweep.seeds)")(
      "methods", po::value(&methods), "run.methods of every cell, e.g. baseline,cpsd")(
      "set", po::value(&cli_spec.sets)->composing(), "override a key of every cell (repeatable)")(
      "name", po::value(&cli_spec.name), "sweep directory name (default: the file's stem)")(
      "output", po::value(&cli_spec.output), "parent of the sweep directory (default runs/sweeps)")(
      "cell", po::value(&only), "run only this index of the grid (a Slurm array task)")(
      "list", po::bool_switch(&list), "print the grid, its state and shared stages; train nothing")(
      "summary", po::bool_switch(&summary_only),
      "rewrite the summary of what is done; train nothing");
  if (!cli.parse(args)) return 0;
  if (file.empty() && config.empty())
    throw ConfigError("cpsd sweep: give a sweep file or --config RUN.toml with --axis");
  cli_spec.config = config;
  cli_spec.seeds = seeds_of(seeds);
  cli_spec.methods = words(methods);
  const sweep::Spec spec = sweep::load_spec(file, cli_spec);
  const Registry& registry = context.plugins(cli.common).registry();
  if (list) {
    std::cout << sweep::grid_table(spec, registry);
    return 0;
  }
  if (summary_only) {
    sweep::summarize_sweep(spec);
    return 0;
  }
  const sweep::Outcome o = sweep::run_sweep(spec, registry, only);
  // The mAP tables (mean ± std, paired gains) as `cpsd run` prints its results; the rest
  // is in results.md.
  const std::string md = sweep::summary_markdown(o.summary);
  std::cout << md.substr(0, md.find("\n## CF1")) << "\n";
  std::cout << "sweep " << spec.root.string() << ": " << o.ran << " run(s) trained, " << o.done
            << " done before, " << o.elsewhere << " running elsewhere; summary in "
            << (spec.root / "results.md").string() << "\n";
  return 0;
}

}  // namespace cpsd::cli
