// SPDX-License-Identifier: Apache-2.0
// load_pretrained: a file's names mapped by renames and its layout, routed to backbone and
// head, loaded, and checked whole.
#include <algorithm>
#include <map>
#include <set>

#include "cpsd/core/log.h"
#include "cpsd/core/model.h"
#include "cpsd/core/text.h"
#include "cpsd/core/weight_layout.h"
#include "cpsd/sdk/error.h"

namespace cpsd {
namespace {

using Rules = std::vector<std::pair<std::string, std::string>>;

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

Rules parse_renames(const std::vector<std::string>& renames) {
  Rules rules;
  for (const std::string& r : renames) {
    const auto arrow = r.find("=>");
    if (arrow == std::string::npos) {
      throw ConfigError("model.pretrained_rename: '" + r + "' is not \"from=>to\"");
    }
    rules.emplace_back(r.substr(0, arrow), r.substr(arrow + 2));
  }
  return rules;
}

std::string renamed(const std::string& name, const Rules& user, const Rules& layout) {
  for (const Rules* rules : {&user, &layout}) {
    for (const auto& [from, to] : *rules) {
      if (starts_with(name, from)) return to + name.substr(from.size());
    }
  }
  return name;
}

// Every name, those that differ only in their last part written once:
// "layer1.0.bn1.{weight, bias}, fc.weight".
std::string grouped(const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (const std::string& n : names) {
    const auto dot = n.rfind('.');
    const std::string stem = dot == std::string::npos ? "" : n.substr(0, dot + 1);
    const std::string leaf = n.substr(stem.size());
    if (groups.empty() || groups.back().first != stem) groups.push_back({stem, {}});
    groups.back().second.push_back(leaf);
  }
  std::vector<std::string> out;
  for (const auto& [stem, leaves] : groups) {
    out.push_back(leaves.size() == 1 ? stem + leaves[0] : stem + "{" + join(leaves) + "}");
  }
  return join(out);
}

struct Routed {
  StateDict backbone, head;
  std::vector<std::string> dropped;
};

Routed route(MultiLabelModel& model, const StateDict& weights, const Rules& user,
             const WeightLayout& layout) {
  Routed r;
  const std::set<std::string> drop(layout.dropped.begin(), layout.dropped.end());
  const auto classifier_prefixes = model.head().foreign_classifier_prefixes();
  for (const auto& [original, tensor] : weights) {
    const std::string name = renamed(original, user, layout.renames);
    if (drop.count(original) || drop.count(name)) {
      r.dropped.push_back(original);
      continue;
    }
    bool claimed = false;  // a foreign classifier the head says is its own
    for (const auto& [from, to] : classifier_prefixes) {
      if (!claimed && starts_with(name, from)) {
        r.head.emplace_back(to + name.substr(from.size()), tensor);
        claimed = true;
      }
    }
    if (claimed) continue;
    if (starts_with(name, "backbone.")) {
      r.backbone.emplace_back(name.substr(9), tensor);
    } else if (starts_with(name, "head.")) {
      r.head.emplace_back(name.substr(5), tensor);
    } else {
      r.backbone.emplace_back(name, tensor);
    }
  }
  return r;
}

// Head parameters the file did not have (buffers are not asked for: a head may fill them
// itself, as class vectors from a GloVe file).
std::vector<std::string> missing_parameters(Head& head, const LoadReport& h) {
  const std::set<std::string> missing(h.missing.begin(), h.missing.end());
  std::vector<std::string> out;
  for (const auto& p : head.named_parameters()) {
    if (missing.count(p.key())) out.push_back(p.key());
  }
  return out;
}

void check_whole(Head& head, const LoadReport& b, const LoadReport& h, const std::string& where) {
  const std::string hint =
      "; model.pretrained_rename maps other names, model.pretrained_parts = \"matching\" loads "
      "what fits";
  if (!b.missing.empty() || !b.mismatched.empty()) {
    std::string what;
    if (!b.missing.empty()) what += " not in the file: " + grouped(b.missing) + ";";
    if (!b.mismatched.empty()) what += " another shape: " + join(b.mismatched, "; ") + ";";
    throw ConfigError(where + ": the backbone does not load whole (" +
                      std::to_string(b.missing.size() + b.mismatched.size()) + " of " +
                      std::to_string(b.matched.size() + b.missing.size() + b.mismatched.size()) +
                      " tensors):" + what + " is it for this architecture?" + hint);
  }
  const std::vector<std::string> missing = missing_parameters(head, h);
  if (!h.matched.empty() && !(missing.empty() && h.mismatched.empty())) {
    std::string what = grouped(missing);
    if (!h.mismatched.empty()) what += (what.empty() ? "" : "; ") + join(h.mismatched, "; ");
    throw ConfigError(where + ": the file holds head weights, but " +
                      std::to_string(missing.size() + h.mismatched.size()) +
                      " head parameters do not load: " + what +
                      "; check the head's options against the file's model; "
                      "model.pretrained_parts = \"backbone\" trains the head from scratch, "
                      "\"matching\" loads what fits");
  }
}

void log_report(Head& head, const std::string& where, const Routed& r, const LoadReport& b,
                const LoadReport& h) {
  log::info("pretrained {}: backbone {}; head {}", where, b.summary(),
            h.matched.empty() ? std::string("kept as initialised") : h.summary());
  if (!r.dropped.empty())
    log::info("pretrained {}: left out by the layout: {}", where, grouped(r.dropped));
  if (h.matched.empty() && !r.head.empty()) {
    std::vector<std::string> names;
    for (const auto& [n, t] : r.head) names.push_back(n);
    log::info(
        "pretrained {}: the file's head weights ({}) fit no head tensor (another head or "
        "class count)",
        where, grouped(names));
  }
  auto warn = [&](const char* part, const char* what, const std::vector<std::string>& names) {
    if (!names.empty())
      log::warn("pretrained {}: {} {} ({}): {}", where, part, what, names.size(), grouped(names));
  };
  warn("backbone", "weights not in the file", b.missing);
  warn("backbone", "unused weights of the file", b.unexpected);
  warn("backbone", "weights of another shape", b.mismatched);
  if (!h.matched.empty()) {  // else the line above said it
    const std::vector<std::string> missing = missing_parameters(head, h);
    std::vector<std::string> own;  // buffers a head fills itself (class vectors from a file)
    for (const std::string& m : h.missing) {
      if (std::find(missing.begin(), missing.end(), m) == missing.end()) own.push_back(m);
    }
    if (!own.empty())
      log::info("pretrained {}: the head keeps its own {} (not in the file)", where, grouped(own));
    warn("head", "parameters not in the file", missing);
    warn("head", "weights of another shape", h.mismatched);
    warn("head", "unused weights of the file", h.unexpected);
  }
}

}  // namespace

std::pair<LoadReport, LoadReport> load_pretrained(MultiLabelModel& model, const StateDict& weights,
                                                  const PretrainedLoad& load,
                                                  const std::string& source) {
  if (load.parts != "all" && load.parts != "backbone" && load.parts != "matching") {
    throw ConfigError("model.pretrained_parts: '" + load.parts +
                      "' is not one of all, backbone, matching");
  }
  const WeightLayout& layout = choose_layout(load.layout, weights, source);
  const std::string where = source + " (layout " + layout.name + ")";
  Routed r = route(model, weights, parse_renames(load.renames), layout);
  model.backbone().adapt_pretrained(r.backbone);
  LoadReport b = load_state_dict(model.backbone(), r.backbone);
  if (b.matched.empty()) {
    std::vector<std::string> names;
    for (const auto& [n, t] : r.backbone) names.push_back(n);
    names.resize(std::min<std::size_t>(names.size(), 5));
    throw ConfigError(where + ": none of its weights fits the backbone (its names: " + join(names) +
                      ", ...); is it for this architecture? model.pretrained_rename can map "
                      "other names");
  }
  if (load.parts == "backbone") r.head.clear();
  LoadReport h = load_state_dict(model.head(), r.head);
  if (load.parts != "matching") check_whole(model.head(), b, h, where);
  log_report(model.head(), where, r, b, h);
  return {b, h};
}

}  // namespace cpsd
