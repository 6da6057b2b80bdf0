// SPDX-License-Identifier: Apache-2.0
// `cpsd partition`: split a label set into k sub-tasks with a decomposer plugin.
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "cpsd/core/affinity_picture.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/decompose.h"
#include "cpsd/core/label_statistics_io.h"
#include "cpsd/core/log.h"
#include "cpsd/core/run_config.h"
#include "cpsd/core/text.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {
namespace {

std::string class_list(const LabelPartition& p, const std::vector<int64_t>& group) {
  constexpr std::size_t kShown = 10;
  std::string out;
  for (std::size_t i = 0; i < group.size() && i < kShown; ++i) {
    out += (i ? ", " : "") + p.class_names[group[i]];
  }
  if (group.size() > kShown) out += ", ... (+" + std::to_string(group.size() - kShown) + " more)";
  return out;
}

void print_summary(const DecomposeResult& r, const LabelStatistics& stats) {
  const LabelPartition& p = r.partition;
  std::printf("decomposer/%s: k = %lld, seed = %llu, %lld classes (%s), %.1f ms\n",
              p.decomposer.c_str(), static_cast<long long>(p.k()),
              static_cast<unsigned long long>(p.seed), static_cast<long long>(stats.num_classes()),
              p.statistics_hash.c_str(), r.seconds * 1e3);
  std::printf("%5s %6s %7s  %s\n", "group", "size", "kept", "classes");
  const std::vector<double> kept = kept_cooccurrence(p, stats);
  for (std::size_t g = 0; g < p.groups.size(); ++g) {
    std::printf("%5zu %6zu %6.1f%%  %s\n", g, p.groups[g].size(), 100 * kept[g],
                class_list(p, p.groups[g]).c_str());
  }
  std::printf("kept = share of a group's co-occurrence mass that stays inside it; overall %.1f%%\n",
              100 * kept_cooccurrence_total(p, stats));
}

}  // namespace

int run_partition(const std::vector<std::string>& args, Context& context) {
  std::string stats_file, config_file, out, format_name = "cpsd", picture, decomposer;
  std::vector<std::string> overrides;
  int64_t k = 0;
  int64_t seed = -1;
  bool no_picture = false;
  CommandLine cli("partition", "(--stats FILE | --config RUN.toml) --out PART.json [options]");
  cli.add()("stats", po::value(&stats_file),
            "label statistics JSON (classes, num_images, counts, cooccurrence)")(
      "config", po::value(&config_file), "run config: its [partition] section and statistics")(
      "decomposer", po::value(&decomposer),
      "a decomposer plugin, see `cpsd plugins` (= --set partition.decomposer=...)")(
      "k", po::value(&k), "number of groups (= --set partition.k=...)")(
      "seed", po::value(&seed), "seed (= --set runtime.seed=...)")(
      "set", po::value(&overrides)->composing(),
      "override a config key, e.g. decomposer.cgp.tau=2")("out", po::value(&out),
                                                          "partition file to write (JSON)")(
      "format", po::value(&format_name), "cpsd (default) | reference (the authors' list of dicts)")(
      "picture", po::value(&picture),
      "PNG of the affinity ordered by group (default: OUT with .png)")(
      "no-picture", po::bool_switch(&no_picture), "do not draw the picture");
  if (!cli.parse(args)) return 0;
  if (out.empty()) throw ConfigError("cpsd partition: missing --out FILE.json");
  if (stats_file.empty() && config_file.empty()) {
    throw ConfigError("cpsd partition: give --stats FILE or --config RUN.toml");
  }
  const PartitionFormat format = parse_partition_format(format_name);
  if (!decomposer.empty()) overrides.push_back("partition.decomposer=" + decomposer);
  if (cli.given("k")) overrides.push_back("partition.k=" + std::to_string(k));
  if (cli.given("seed")) {
    if (seed < 0) throw ConfigError("cpsd partition: --seed must be >= 0");
    overrides.push_back("runtime.seed=" + std::to_string(seed));
  }

  const Registry& registry = context.plugins(cli.common).registry();
  const RunConfig config = config_file.empty()
                               ? RunConfig::parse("", "command line", overrides, registry)
                               : RunConfig::load(config_file, overrides, registry);
  if (!log::level_forced()) log::set_level(config.section("runtime").get_string("log_level"));
  const Options section = config.section("partition");
  if (stats_file.empty() && !section.get_string("statistics").empty()) {
    stats_file = path_option(section, "statistics").string();
  }
  // Without a statistics file, count them on the run's training set.
  const LabelStatistics stats =
      stats_file.empty() ? data::dataset_statistics(data::load_dataset(config, data::Split::train))
                         : read_statistics(stats_file);
  const std::string name = config.selected(Kind::decomposer);
  if (name.empty()) {
    throw ConfigError(
        "cpsd partition: which decomposer? give --decomposer NAME or set partition.decomposer (one "
        "of " +
        join(registry.names(Kind::decomposer)) + ")");
  }
  const DecomposeResult result = decompose_labels(
      registry, name, config.plugin_options(Kind::decomposer, name), stats, section.get_int("k"),
      static_cast<uint64_t>(config.section("runtime").get_int("seed")));

  print_summary(result, stats);
  write_partition(result.partition, out, format);
  std::printf("wrote %s (%s format)\n", out.c_str(), format_name.c_str());
  if (!no_picture) {
    if (picture.empty()) picture = std::filesystem::path(out).replace_extension(".png").string();
    write_affinity_picture(picture, result.affinity, result.partition.groups);
    std::printf("wrote %s\n", picture.c_str());
  }
  return 0;
}

}  // namespace cpsd::cli
