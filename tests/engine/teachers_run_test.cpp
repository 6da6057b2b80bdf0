// SPDX-License-Identifier: Apache-2.0
// Teachers in real runs of `cpsd` on a tiny fashion-scenes: early stopping, teachers started
// from the baseline, the teacher-against-baseline check, students in lockstep, held-out
// distillation weights, and resume refusing another model.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <thread>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "cpsd/core/engine/checkpoint.h"
#include "test_support.h"

namespace cpsd {
namespace {

using Json = nlohmann::json;
using test::run_cpsd;
namespace fs = std::filesystem;

class TeacherRuns : public test::SharedFixture<TeacherRuns> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    dir_ = new test::TempDir();
    test::make_tiny_run_base(dir_->path(), 96, 32, 4);
    test::write_file(dir_->path() / "tiny.toml", R"(base = "tiny_base.toml"
[train]
epochs = 2
batch_size = 16
lr = 1e-3
ema = 0.0
log_seconds = 0.5
[partition]
k = 2
[distill]
teacher_mode = "train"
[run]
methods = ["baseline", "cpsd"]
)");
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::vector<std::string> run_args(const std::string& name, std::vector<std::string> sets) {
    std::vector<std::string> a = {"run",   (dir_->path() / "tiny.toml").string(),
                                  "--set", "run.output=\"" + dir_->path().string() + "\"",
                                  "--set", "run.name=\"" + name + "\""};
    for (const std::string& s : sets) {
      a.push_back("--set");
      a.push_back(s);
    }
    return a;
  }
  static fs::path run(const std::string& name) { return dir_->path() / name; }
  static Json json(const fs::path& file) { return Json::parse(test::read_file(file)); }
  static test::TempDir* dir_;
};
test::TempDir* TeacherRuns::dir_ = nullptr;

// Model weights of a checkpoint by name (cpsd checkpoints are TorchScript archives).
std::map<std::string, torch::Tensor> weights(const fs::path& checkpoint) {
  torch::serialize::InputArchive archive, model;
  archive.load_from(checkpoint.string());
  archive.read("model", model);
  std::map<std::string, torch::Tensor> out;
  std::function<void(torch::serialize::InputArchive&, const std::string&)> walk =
      [&](auto& a, const std::string& p) {
        for (const std::string& key : a.keys()) {
          torch::Tensor t;
          torch::serialize::InputArchive nested;
          if (a.try_read(key, t)) {
            out[p + key] = t;
          } else if (a.try_read(key, nested)) {
            walk(nested, p + key + ".");
          }
        }
      };
  walk(model, "");
  EXPECT_GT(out.count("head.fc.weight"), 0u) << checkpoint;
  return out;
}

// Per-class AP written by `cpsd eval` (NaN for an empty cell).
std::vector<double> eval_ap(const fs::path& checkpoint) {
  const auto r = run_cpsd({"eval", "--checkpoint", checkpoint.string(), "--log-level", "warn"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<double> ap;
  std::istringstream in(test::read_file(checkpoint.string() + ".ap.csv"));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const std::string value = line.substr(line.rfind(',') + 1);
    ap.push_back(value.empty() ? std::nan("") : std::stod(value));
  }
  return ap;
}

TEST_F(TeacherRuns, EarlyStoppingKeepsTheBestEpochAndStaysStopped) {
  // Frozen BatchNorm and a vanishing learning rate: the teachers' mAP cannot improve after
  // epoch 1, so with patience 1 each stops after epoch 2 of its cap of 4.
  const std::vector<std::string> sets = {"teachers.epochs=4", "teachers.patience=1",
                                         "teachers.lr=1e-12", "backbone.resnet.frozen_bn=true",
                                         "run.methods=[\"baseline\", \"cgpd\"]"};
  auto r = run_cpsd(run_args("early", sets));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* teacher : {"cgp_0", "cgp_1"}) {
    const fs::path dir = run("early") / "teachers" / teacher;
    EXPECT_EQ(json(dir / "metrics.json").size(), 2u) << teacher;
    EXPECT_EQ(engine::read_checkpoint_meta(dir / "last.ckpt").epoch, 2) << teacher;
    EXPECT_EQ(engine::read_checkpoint_meta(dir / "best.ckpt").best.epoch, 1) << teacher;
    EXPECT_NE(r.err.find(std::string(teacher) + " stops early: no better mAP for 1 epochs"),
              std::string::npos);
  }
  // Run again: stopped teachers are not trained further.
  r = run_cpsd(run_args("early", sets));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("epoch 3/4"), std::string::npos) << r.err;
}

TEST_F(TeacherRuns, TeachersStartFromTheTrainedBaseline) {
  // With a vanishing learning rate and frozen BatchNorm, a teacher ends where it started:
  // the baseline's backbone and its classes' classifier rows.
  auto r = run_cpsd(run_args(
      "from-baseline", {"teachers.init=\"baseline\"", "teachers.lr=1e-12",
                        "backbone.resnet.frozen_bn=true", "run.methods=[\"baseline\", \"dgpd\"]"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("teachers start from the baseline's epoch"), std::string::npos) << r.err;
  const auto base = weights(run("from-baseline") / "baseline" / "best.ckpt");
  for (int t = 0; t < 2; ++t) {
    const fs::path ckpt =
        run("from-baseline") / "teachers" / ("dgp_" + std::to_string(t)) / "best.ckpt";
    const auto teacher = weights(ckpt);
    const auto classes = engine::read_checkpoint_meta(ckpt).class_indices;
    const torch::Tensor rows = torch::tensor(classes, torch::kLong);
    for (const auto& [name, tensor] : teacher) {
      const torch::Tensor expected =
          name.rfind("head.", 0) == 0 ? base.at(name).index_select(0, rows) : base.at(name);
      EXPECT_TRUE(tensor.is_floating_point() ? torch::allclose(tensor, expected, 1e-5, 1e-6)
                                             : torch::equal(tensor, expected))
          << name;
    }
  }
  // `cpsd train --part` in a run without a trained baseline says what is missing.
  r = run_cpsd({"train", "--config", (dir_->path() / "tiny.toml").string(), "--part", "CGP:0",
                "--set", "run.output=\"" + dir_->path().string() + "\"", "--set",
                "run.name=\"no-baseline\"", "--set", "teachers.init=\"baseline\""});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.last_error_line().find("needs the trained baseline"), std::string::npos) << r.err;
}

// A Slurm array's --part jobs train the teachers of one run directory at the same time: they
// partition one at a time (the first writes, the others read) and every teacher equals the
// one the same jobs train one after another.
TEST_F(TeacherRuns, ConcurrentPartJobsEqualSequentialOnes) {
  const std::vector<std::string> parts = {"CGP:0", "CGP:1", "DGP:0", "DGP:1"};
  auto job = [&](const std::string& name, const std::string& part) {
    return run_cpsd({"train", "--config", (dir_->path() / "tiny.toml").string(), "--part", part,
                     "--set", "run.output=\"" + dir_->path().string() + "\"", "--set",
                     "run.name=\"" + name + "\"", "--log-level", "warn"});
  };
  for (const std::string& part : parts) {
    const auto r = job("parts-one-by-one", part);
    ASSERT_EQ(r.exit_code, 0) << part << ": " << r.err;
  }
  std::vector<test::CommandResult> results(parts.size());
  std::vector<std::thread> jobs;
  for (std::size_t i = 0; i < parts.size(); ++i)
    jobs.emplace_back([&, i] { results[i] = job("parts-at-once", parts[i]); });
  for (std::thread& t : jobs) t.join();
  for (std::size_t i = 0; i < parts.size(); ++i)
    ASSERT_EQ(results[i].exit_code, 0) << parts[i] << ": " << results[i].err;
  for (const char* file : {"cgp.k2.json", "dgp.k2.json"}) {
    EXPECT_EQ(test::read_file(run("parts-at-once") / "partitions" / file),
              test::read_file(run("parts-one-by-one") / "partitions" / file))
        << file;
  }
  for (const char* teacher : {"cgp_0", "cgp_1", "dgp_0", "dgp_1"}) {
    const auto a = weights(run("parts-at-once") / "teachers" / teacher / "best.ckpt");
    const auto b = weights(run("parts-one-by-one") / "teachers" / teacher / "best.ckpt");
    ASSERT_EQ(a.size(), b.size()) << teacher;
    for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
  }
}

TEST_F(TeacherRuns, TheTeacherCheckAgreesWithEachTeachersOwnEvaluation) {
  auto r = run_cpsd(run_args("check", {}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("teachers against the baseline"), std::string::npos) << r.out;
  const Json results = json(run("check") / "results.json");
  const std::vector<double> base = eval_ap(run("check") / "baseline" / "best.ckpt");
  ASSERT_EQ(base.size(), 30u);
  std::map<std::string, std::vector<double>> merged;
  for (const Json& t : results["teacher_check"]["teachers"]) {
    const std::string name = t["teacher"];
    const std::vector<double> ap = eval_ap(run("check") / "teachers" / name / "best.ckpt");
    const auto classes = t["classes"].get<std::vector<int64_t>>();
    ASSERT_EQ(ap.size(), classes.size());
    double mine = 0, theirs = 0;
    int n = 0;
    auto& m = merged[t["branch"]];
    m.resize(30, std::nan(""));
    for (std::size_t i = 0; i < classes.size(); ++i) {
      m[static_cast<std::size_t>(classes[i])] = ap[i];
      if (std::isnan(ap[i])) continue;
      mine += ap[i];
      theirs += base[static_cast<std::size_t>(classes[i])];
      ++n;
    }
    EXPECT_NEAR(t["map"].get<double>(), mine / n, 1e-3) << name;
    EXPECT_NEAR(t["baseline_map"].get<double>(), theirs / n, 1e-3) << name;
  }
  for (const Json& b : results["teacher_check"]["branches"]) {
    const auto& m = merged.at(b["branch"]);
    double sum = 0, base_sum = 0;
    int n = 0;
    for (std::size_t c = 0; c < m.size(); ++c) {
      if (std::isnan(m[c])) continue;
      sum += m[c];
      base_sum += base[c];
      ++n;
    }
    EXPECT_NEAR(b["merged_map"].get<double>(), sum / n, 1e-3);
    EXPECT_NEAR(b["baseline_map"].get<double>(), base_sum / n, 1e-3);
    // A branch no better than the baseline is named in a warning.
    const bool weak = !(b["merged_map"].get<double>() > b["baseline_map"].get<double>());
    const bool warned = r.err.find("branch " + b["branch"].get<std::string>() +
                                   ": its merged teachers") != std::string::npos;
    EXPECT_EQ(weak, warned) << b.dump();
  }
}

TEST_F(TeacherRuns, StudentsInLockstepEqualAStudentTrainedAlone) {
  ASSERT_EQ(run_cpsd(run_args("alone", {})).exit_code, 0);
  const auto r =
      run_cpsd(run_args("together", {"run.methods=[\"baseline\", \"cgpd\", \"cpsd\", \"dgpd\"]"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stage students: 3 models"), std::string::npos) << r.err;
  const auto a = weights(run("alone") / "cpsd" / "last.ckpt");
  const auto b = weights(run("together") / "cpsd" / "last.ckpt");
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
}

TEST_F(TeacherRuns, HeldOutWeightsFollowTheGainOfEachTeacher) {
  const auto r = run_cpsd(run_args("weighted", {"data.holdout=0.25", "distill.weighting=\"class\"",
                                                "distill.weight_scale=5.0"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json w = json(run("weighted") / "distill_weights.json");
  EXPECT_EQ(w["holdout_images"], 24);  // a quarter of 96
  // Every model trained on the other 72 images: 4 full batches of 16 (and a partial one).
  const int64_t steps =
      engine::read_checkpoint_meta(run("weighted") / "baseline" / "last.ckpt").step;
  EXPECT_LE(steps, 2 * 5);
  EXPECT_GE(steps, 2 * 4);
  ASSERT_TRUE(w["branches"].contains("cgp"));
  for (const auto& [branch, b] : w["branches"].items()) {
    for (std::size_t c = 0; c < 30; ++c) {
      const Json& t = b["teacher_ap"][c];
      const Json& base = w["baseline_ap"][c];
      const double expected =
          t.is_null() || base.is_null()
              ? 1.0
              : std::clamp((t.get<double>() - base.get<double>()) / 5.0, 0.0, 1.0);
      EXPECT_NEAR(b["weights"][c].get<double>(), expected, 1e-6) << branch << " class " << c;
    }
  }
  // Weighting needs a held-out share: the plan says so before anything trains.
  auto bad = run_cpsd(run_args("no-holdout", {"distill.weighting=\"teacher\""}));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.last_error_line().find(
                "distill.weighting: compares teachers and baseline on held-out training "
                "images: set data.holdout"),
            std::string::npos)
      << bad.err;
  EXPECT_FALSE(fs::exists(run("no-holdout") / "baseline"));
}

TEST_F(TeacherRuns, ResumeRefusesAModelOfAnotherShape) {
  ASSERT_EQ(run_cpsd(run_args("shape", {"run.methods=[\"baseline\"]", "train.epochs=1"})).exit_code,
            0);
  const auto r = run_cpsd(run_args(
      "shape", {"run.methods=[\"baseline\"]", "train.epochs=2", "backbone.resnet.stem_stride=2"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.last_error_line().find("was trained with another model than the config builds now"),
            std::string::npos)
      << r.err;
}

// The paper's six methods come from configs/_base_/methods/paper.toml (the tiny base uses
// it); a branch's teachers are trained once for every method that lists it.
TEST_F(TeacherRuns, ThePapersSixMethodsShareTheirTeachers) {
  const auto r = run_cpsd(run_args(
      "six", {"train.epochs=1",
              "run.methods=[\"baseline\", \"sd\", \"cgpd\", \"dgpd\", \"cpsd\", \"random\"]"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stage teachers: 7 models (cgp 2, dgp 2, full 1, random 2)"),
            std::string::npos)
      << r.err;
  for (const char* teacher : {"cgp_0", "dgp_1", "full_0", "random_1"}) {
    const std::string line = std::string(teacher) + " epoch 1:";
    const auto first = r.err.find(line);
    ASSERT_NE(first, std::string::npos) << teacher;
    EXPECT_EQ(r.err.find(line, first + 1), std::string::npos) << teacher << " trained twice";
  }
  EXPECT_NE(r.err.find("stage students: 5 models (sd, cgpd, dgpd, cpsd, random)"),
            std::string::npos)
      << r.err;
  const Json results = json(run("six") / "results.json");
  ASSERT_EQ(results["results"].size(), 6u);
  EXPECT_TRUE(results["results"][0]["baseline"].get<bool>());
  EXPECT_EQ(results["results"][4]["branches"], Json::array({"cgp", "dgp"}));
  const auto sizes = fs::directory_iterator(run("six") / "teachers");
  EXPECT_EQ(std::count_if(fs::begin(sizes), fs::end(sizes),
                          [](const auto& e) { return e.is_directory(); }),
            7);
}

// Two branches that differ only in their weight are the same teachers: trained once, run
// once per batch, each student weighting them its own way.
TEST_F(TeacherRuns, BranchesOfTheSameDefinitionShareTeachers) {
  const std::vector<std::string> sets = {
      "train.epochs=1", "branches.heavy.decomposer=\"cgp\"", "branches.heavy.weight=3.0",
      "methods.heavy_cgpd=[\"heavy\"]", "run.methods=[\"cgpd\", \"heavy_cgpd\"]"};
  std::vector<std::string> check = {"config", "check", (dir_->path() / "tiny.toml").string()};
  for (const std::string& s : sets) check.insert(check.end(), {"--set", s});
  const auto c = run_cpsd(check);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("method heavy_cgpd: heavy (decomposer/cgp, k = 2, the teachers of cgp)"),
            std::string::npos)
      << c.out;
  const auto r = run_cpsd(run_args("alias", sets));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stage teachers: 2 models (cgp 2)"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(run("alias") / "teachers" / "heavy_0"));
  EXPECT_FALSE(fs::exists(run("alias") / "partitions" / "heavy.k2.json"));
  EXPECT_NE(r.err.find("stage students: 2 models (cgpd, heavy_cgpd)"), std::string::npos) << r.err;
  const Json results = json(run("alias") / "results.json");
  ASSERT_EQ(results["results"].size(), 2u);
  EXPECT_NE(results["results"][0]["map"], results["results"][1]["map"])
      << "the weight of 3 changed nothing";
}

// `cpsd config check` builds the plan: every bad choice fails there, in one line naming it.
TEST_F(TeacherRuns, ConfigCheckRejectsEveryBadChoice) {
  const std::string config = (dir_->path() / "tiny.toml").string();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"distill.mode=\"foo\"", "distill.mode: must be \"online\" or \"cached\", not \"foo\""},
      {"distill.teacher_mode=\"x\"", "distill.teacher_mode: must be \"eval\" or \"train\""},
      {"teachers.images=\"x\"", "teachers.images: must be \"all\" or \"positive\""},
      {"teachers.init=\"scratch\"", "teachers.init: must be \"pretrained\" or \"baseline\""},
      {"train.optimizer=\"sgd\"", "train.optimizer: must be \"adam\" or \"adamw\", not \"sgd\""},
      {"train.schedule=\"cosine\"", "train.schedule: must be \"onecycle\" or \"constant\""},
      {"distill.weighting=\"per_class\"",
       "distill.weighting: must be \"none\", \"class\" or \"teacher\""},
      {"run.methods=[\"cpds\"]",
       "run.methods: unknown method 'cpds' (known: baseline, cgpd, cpsd, dgpd, random, sd) (did "
       "you mean 'cpsd'?)"},
      {"methods.mine=[\"cgpp\"]", "methods.mine: unknown branch 'cgpp'"},
      {"branches.cgp.decomposer=\"cgq\"", "branches.cgp.decomposer: unknown decomposer 'cgq'"},
      {"branches.cgp.kk=3", "branches.cgp.kk: unknown branch option"},
      {"branches.cgp.k=-1", "branches.cgp.k: must be >= 1"},
      {"branches.cgp.options.tau=\"x\"", "decomposer.cgp.tau: expected"},
      {"teachers.patience=-1", "teachers.patience: must be >= 0"},
  };
  for (const auto& [set, message] : cases) {
    const auto r = run_cpsd({"config", "check", config, "--set", set});
    EXPECT_EQ(r.exit_code, 2) << set;
    EXPECT_NE(r.last_error_line().find(message), std::string::npos) << set << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << set << ": " << r.err;
  }
  const auto ok = run_cpsd({"config", "check", config});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("method cpsd: cgp (decomposer/cgp, k = 2) + dgp (decomposer/dgp, k = 2)"),
            std::string::npos)
      << ok.out;
}

}  // namespace
}  // namespace cpsd
