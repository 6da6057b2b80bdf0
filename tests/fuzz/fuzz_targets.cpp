// SPDX-License-Identifier: Apache-2.0
#include "fuzz_targets.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <stdexcept>

#include "cpsd/core/data/readers.h"
#include "cpsd/core/image_codec.h"
#include "cpsd/core/label_statistics_io.h"
#include "cpsd/core/log.h"
#include "cpsd/core/partition_file.h"
#include "cpsd/core/registry.h"
#include "cpsd/core/run_config.h"
#include "cpsd/core/state_dict.h"
#include "cpsd/sdk/error.h"
#include "elf_symbols.h"

namespace fs = std::filesystem;

namespace cpsd::fuzz {
namespace {

// A directory of this process's own, emptied before each input.
const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("cpsd-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    log::set_level("off");  // refusals are the expected outcome; keep the fuzzer's output clean
    return d;
  }();
  return dir;
}

fs::path put(const fs::path& relative, std::string_view bytes) {
  const fs::path path = scratch() / relative;
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// The input cut at NUL bytes into at most `n` parts (the last takes the rest).
std::vector<std::string_view> parts(std::string_view bytes, std::size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    const std::size_t nul = bytes.find('\0');
    if (nul == std::string_view::npos) break;
    out.push_back(bytes.substr(0, nul));
    bytes.remove_prefix(nul + 1);
  }
  out.push_back(bytes);
  out.resize(n);
  return out;
}

void nuswide(std::string_view bytes) {
  const auto p = parts(bytes, 4);
  // The one-CSV form, then the official layout with two fixed concepts.
  try {
    data::read_nuswide(put("nus.csv", p[0]), scratch() / "images", "Train", {});
  } catch (const Error&) {
  }
  put("nus/Concepts81.txt", "sky\nwater\n");
  put("nus/ImageList/TrainImagelist.txt", p[1]);
  put("nus/Groundtruth/TrainTestLabels/Labels_sky_Train.txt", p[2]);
  put("nus/Groundtruth/TrainTestLabels/Labels_water_Train.txt", p[3]);
  data::read_nuswide(scratch() / "nus", scratch() / "images", "Train", {});
}

void voc(std::string_view bytes) {
  const auto p = parts(bytes, 3);
  const char* classes[] = {"cat", "dog", "person"};
  for (std::size_t i = 0; i < p.size(); ++i)
    put(fs::path("voc/ImageSets/Main") / (std::string(classes[i]) + "_train.txt"), p[i]);
  data::read_voc(scratch() / "voc", {}, "train", data::Difficult::ignore);
}

const std::map<std::string, std::function<void(std::string_view)>, std::less<>>& targets() {
  static const std::map<std::string, std::function<void(std::string_view)>, std::less<>> all = {
      {"pth", [](std::string_view b) { read_state_dict(put("weights.pth", b)); }},
      {"safetensors", [](std::string_view b) { read_state_dict(put("weights.safetensors", b)); }},
      {"elf", [](std::string_view b) { exported_dynamic_symbols(put("plugin.so", b)); }},
      {"statistics", [](std::string_view b) { read_statistics(put("statistics.json", b)); }},
      {"partition", [](std::string_view b) { read_partition(put("partition.json", b)); }},
      {"coco",
       [](std::string_view b) {
         data::read_coco(put("instances.json", b), scratch() / "images", data::CocoOptions{});
       }},
      {"voc", voc},
      {"nuswide", nuswide},
      {"csv",
       [](std::string_view b) {
         const auto p = parts(b, 2);
         data::read_label_csv(put("labels.csv", p[1]), scratch() / "images",
                              put("classes.txt", p[0]));
       }},
      {"image",
       [](std::string_view b) {
         const std::vector<uint8_t> bytes(b.begin(), b.end());
         image::decode(bytes, "image", image::Order::rgb, 1);
         image::decode(bytes, "image", image::Order::bgr, 2);
       }},
      {"toml",
       [](std::string_view b) {
         static const Registry registry;
         RunConfig::load(put("run.toml", b), {}, registry);
       }},
  };
  return all;
}

}  // namespace

const std::vector<std::string>& target_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, run] : targets()) out.push_back(name);
    return out;
  }();
  return names;
}

void run_target(std::string_view target, std::string_view bytes) {
  const auto found = targets().find(target);
  if (found == targets().end())
    throw std::invalid_argument("no fuzz target " + std::string(target));
  std::error_code ec;
  fs::remove_all(scratch(), ec);
  fs::create_directories(scratch());
  try {
    found->second(bytes);
  } catch (const Error&) {
    // a refusal with a cpsd error: the wanted outcome for a bad file
  }
}

}  // namespace cpsd::fuzz
