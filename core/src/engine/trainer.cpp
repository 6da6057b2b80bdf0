// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/trainer.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <sstream>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>

#include "../json_file.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/distributed.h"
#include "cpsd/core/engine/amp.h"
#include "cpsd/core/engine/checkpoint.h"
#include "cpsd/core/engine/ema.h"
#include "cpsd/core/log.h"
#include "cpsd/core/progress.h"
#include "cpsd/core/runtime.h"
#include "cpsd/sdk/error.h"

namespace fs = std::filesystem;

namespace cpsd::engine {

TrainSettings read_train_settings(const RunConfig& config, const std::string& stage) {
  const Options t = config.section("train");
  TrainSettings s;
  s.epochs = t.get_int("epochs");
  s.batch_size = t.get_int("batch_size");
  s.optimizer = t.get_string("optimizer");
  s.lr = t.get_double("lr");
  s.weight_decay = t.get_double("weight_decay");
  s.schedule = t.get_string("schedule");
  s.one_cycle.pct_start = t.get_double("pct_start");
  s.one_cycle.div_factor = t.get_double("div_factor");
  s.one_cycle.final_div_factor = t.get_double("final_div_factor");
  s.one_cycle.cycle_momentum = t.get_bool("cycle_momentum");
  s.one_cycle.base_momentum = t.get_double("base_momentum");
  s.one_cycle.max_momentum = t.get_double("max_momentum");
  s.ema = t.get_double("ema");
  s.grad_clip = t.get_double("grad_clip");
  s.threshold = t.get_double("threshold");
  s.log_seconds = t.get_double("log_seconds");
  if (stage != "train") {
    const Options o = config.section(stage);
    if (o.get_int("epochs") > 0) s.epochs = o.get_int("epochs");
    if (o.get_double("lr") > 0) s.lr = o.get_double("lr");
  }
  if (stage == "teachers") {
    const Options o = config.section(stage);
    s.patience = o.get_int("patience");
    if (s.patience < 0) o.fail("patience", "must be >= 0 (0 = off)");
  }
  if (s.epochs < 1) t.fail("epochs", "must be >= 1");
  if (s.batch_size < 1) t.fail("batch_size", "must be >= 1");
  if (s.optimizer != "adam" && s.optimizer != "adamw") t.fail("optimizer", "must be \"adam\" or \"adamw\"");
  if (!(s.lr > 0)) t.fail("lr", "must be > 0");
  if (s.weight_decay < 0) t.fail("weight_decay", "must be >= 0");
  if (s.schedule != "onecycle" && s.schedule != "constant") t.fail("schedule", "must be \"onecycle\" or \"constant\"");
  if (s.ema < 0 || s.ema >= 1) t.fail("ema", "must be in [0, 1) (0 = off)");
  if (s.grad_clip < 0) t.fail("grad_clip", "must be >= 0");
  if (s.threshold <= 0 || s.threshold >= 1) t.fail("threshold", "must be in (0, 1)");
  return s;
}

namespace {

// Everything the trainer keeps per job.
struct JobState {
  Job* job = nullptr;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<OneCycle> schedule;
  std::unique_ptr<ModelEma> ema;
  at::Tensor classes;   // long [C_job]; undefined when the job predicts every class in order
  int64_t start_epoch = 0;
  bool stopped = false;  // early stopping: no better epoch for `patience` epochs
  int64_t step = 0;
  double best_map = -1;
  int64_t best_epoch = -1;
  std::string best_source;
  Metrics best_metrics;
  Json history = Json::array();
  std::unique_ptr<LossScaler> scaler;
  double loss_sum = 0;
  int64_t loss_count = 0;
};

std::unique_ptr<torch::optim::Optimizer> make_optimizer(MultiLabelModel& model, const TrainSettings& s) {
  // No weight decay on biases and other 1-D parameters (BatchNorm), as the reference.
  std::vector<at::Tensor> decay, no_decay;
  for (auto& p : model.parameters()) {
    if (!p.requires_grad()) continue;
    (p.dim() <= 1 ? no_decay : decay).push_back(p);
  }
  if (s.optimizer == "adamw") {
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(s.lr).weight_decay(s.weight_decay)));
    groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                      torch::optim::AdamWOptions(s.lr).weight_decay(0)));
    return std::make_unique<torch::optim::AdamW>(std::move(groups));
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamOptions>(
                                 torch::optim::AdamOptions(s.lr).weight_decay(s.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamOptions>(
                                    torch::optim::AdamOptions(s.lr).weight_decay(0)));
  return std::make_unique<torch::optim::Adam>(std::move(groups));
}

void set_lr_and_momentum(torch::optim::Optimizer& optimizer, double lr, double momentum, bool adamw) {
  for (auto& group : optimizer.param_groups()) {
    if (adamw) {
      auto& o = static_cast<torch::optim::AdamWOptions&>(group.options());
      o.lr(lr).betas({momentum, std::get<1>(o.betas())});
    } else {
      auto& o = static_cast<torch::optim::AdamOptions&>(group.options());
      o.lr(lr).betas({momentum, std::get<1>(o.betas())});
    }
  }
}

at::Tensor restrict(const at::Tensor& t, const at::Tensor& classes) {
  return classes.defined() && t.defined() ? t.index_select(1, classes) : t;
}

// The parts of the config that build a job's model, as one comparable text.
std::string model_signature(const RunConfig& config) {
  Json signature = Json::parse(options_json(config.section("model")));
  signature.erase("num_classes");  // set by the data in a run
  for (Kind kind : {Kind::backbone, Kind::head}) {
    const std::string name = config.selected(kind);
    signature[std::string(kind_name(kind)) + "_options"] = Json::parse(options_json(config.plugin_options(kind, name)));
  }
  return signature.dump();
}

CheckpointMeta meta_of(const JobState& s, int64_t epoch, const RunConfig& config,
                       const data::Dataset& train) {
  CheckpointMeta m;
  m.model_signature = model_signature(config);
  m.job = s.job->name;
  m.epoch = epoch;
  m.step = s.step;
  m.best_map = s.best_map;
  m.best_epoch = s.best_epoch;
  m.best_source = s.best_source;
  m.config_toml = config.to_toml();
  m.class_indices = s.job->classes;
  for (int64_t c : s.job->classes) m.class_names.push_back(train.class_names[c]);
  return m;
}

void write_history(const JobState& s) {
  const fs::path& dir = s.job->dir;
  write_file_atomically(dir / "metrics.json", json_text(s.history));
  std::string csv = "epoch,train_loss,map,map_ema,lr,seconds\n";
  for (const Json& row : s.history) {
    std::ostringstream line;
    line << row["epoch"].get<int64_t>() << ',' << row["train_loss"].get<double>() << ','
         << row["map"].get<double>() << ',' << row["map_ema"].get<double>() << ','
         << row["lr"].get<double>() << ',' << row["seconds"].get<double>() << '\n';
    csv += line.str();
  }
  write_file_atomically(dir / "metrics.csv", csv);
}

at::Tensor cpu_generator_state() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

// Early stopping: the best epoch is `patience` epochs behind the last one done.
bool stops_early(const JobState& s, int64_t epochs_done, const TrainSettings& settings) {
  return settings.patience > 0 && epochs_done < settings.epochs && epochs_done - s.best_epoch >= settings.patience;
}

void restore(JobState& s, bool resume, const TrainSettings& settings, const RunConfig& config) {
  const fs::path last = s.job->dir / "last.ckpt";
  if (!resume || !fs::exists(last)) return;
  const CheckpointMeta meta = read_checkpoint_meta(last);
  if (meta.class_indices != s.job->classes) {
    throw ConfigError(last.string() + " was trained for other classes than " + s.job->name +
                      " has now (the partition changed?); use a new run.name or remove " + s.job->dir.string());
  }
  if (!meta.model_signature.empty() && meta.model_signature != model_signature(config)) {
    throw ConfigError(last.string() + " was trained with another model than the config builds now ([model] or "
                      "the backbone's or head's options changed); use a new run.name, or start over with --fresh "
                      "or by removing " + s.job->dir.string());
  }
  const at::Tensor rng = load_training_state(last, *s.job->model,
                                             s.ema ? &s.ema->shadow() : nullptr, s.optimizer.get());
  if (rng.defined()) {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng);
  }
  s.start_epoch = std::min(meta.epoch, settings.epochs);
  s.step = meta.step;
  s.best_map = meta.best_map;
  s.best_epoch = meta.best_epoch;
  s.best_source = meta.best_source;
  s.stopped = stops_early(s, meta.epoch, settings);
  if (fs::exists(s.job->dir / "metrics.json")) {
    for (const Json& row : read_json_file(s.job->dir / "metrics.json")) {
      if (row["epoch"].get<int64_t>() <= meta.epoch) s.history.push_back(row);
    }
  }
  log::info("{}: resuming after epoch {} from {}", s.job->name, meta.epoch, last.string());
}

// Where and how the models run.
struct Compute {
  c10::Device device = c10::Device(c10::kCPU);
  Precision precision = Precision::full;
  bool channels_last = false;
  at::Tensor images(const at::Tensor& cpu) const {
    if (!device.is_cuda()) return cpu;
    at::Tensor x = cpu.to(device, /*non_blocking=*/true);
    return channels_last ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
  }
  at::Tensor other(const at::Tensor& cpu) const {
    return cpu.defined() && device.is_cuda() ? cpu.to(device, /*non_blocking=*/true) : cpu;
  }
};

// For the tests of crash handling: CPSD_FAULT_INJECT_EXIT="rank:step" makes that rank exit
// abruptly (code 3) before that optimizer step, as a crashed or killed process would.
void fault_injection(int64_t step) {
  static const char* spec = std::getenv("CPSD_FAULT_INJECT_EXIT");
  if (spec == nullptr) return;
  long rank = -1, at = -1;
  if (std::sscanf(spec, "%ld:%ld", &rank, &at) != 2) return;
  const long mine = distributed() ? static_cast<long>(distributed()->rank()) : 0;
  if (mine == rank && step == at) std::_Exit(3);
}

// One optimisation step of one job on one batch; returns the loss.
double train_step(JobState& s, const data::Batch& batch, const Compute& compute, int64_t epoch,
                  const TrainSettings& settings, bool adamw, Distributed* group) {
  Job& job = *s.job;
  job.model->train();
  const at::Tensor targets = compute.other(restrict(batch.targets, s.classes));
  at::Tensor mask = compute.other(restrict(batch.mask, s.classes));
  if (job.positives_only) {
    const at::Tensor rows = (targets.sum(1, true) > 0).to(at::kFloat).expand_as(targets);
    mask = mask.defined() ? mask * rows : rows.contiguous();
  }
  at::Tensor logits;
  {
    AutocastScope autocast(compute.precision);
    logits = job.model->forward(compute.images(batch.images));
  }
  LossInput input{logits.to(at::kFloat), targets, mask, {}};
  at::Tensor total;
  if (job.distill_loss) {
    input.teachers = job.teachers(batch);
    for (TeacherLogits& t : input.teachers) {
      t.logits = compute.other(t.logits);
      t.weights = compute.other(t.weights);
    }
    total = job.cls_weight * job.loss->forward(input).total + job.distill_loss->forward(input).total;
  } else {
    total = job.loss->forward(input).total;
  }
  const double local = total.item<double>();
  // Every rank stops together when any rank's loss is not finite.
  const double value = group == nullptr ? local : group->sum(std::isfinite(local) ? local : NAN) / group->world_size();
  if (!std::isfinite(value)) {
    throw RuntimeError(job.name + ": the loss is " + std::to_string(value) + " at epoch " +
                       std::to_string(epoch + 1) + ", step " + std::to_string(s.step + 1) +
                       "; training stopped (lower train.lr or set train.grad_clip); the last good "
                       "checkpoint is " + (job.dir / "last.ckpt").string());
  }
  fault_injection(s.step);
  s.optimizer->zero_grad();
  s.scaler->scale(total).backward();
  const std::vector<at::Tensor> params = job.model->parameters();
  if (group != nullptr) group->average_gradients(params);
  bool finite = s.scaler->unscale(params);
  if (group != nullptr && s.scaler->enabled()) finite = group->sum(finite ? 0.0 : 1.0) == 0.0;  // all ranks agree
  if (finite) {
    if (settings.grad_clip > 0) torch::nn::utils::clip_grad_norm_(params, settings.grad_clip);
    const double lr = s.schedule ? s.schedule->lr(s.step) : settings.lr;
    const double momentum = s.schedule ? s.schedule->momentum(s.step) : 0.9;
    set_lr_and_momentum(*s.optimizer, lr, momentum, adamw);
    s.optimizer->step();
    if (s.ema) s.ema->update(*job.model);
  }
  s.scaler->update(finite);  // an fp16 overflow skips the step and lowers the loss scale
  ++s.step;
  return value;
}

double since_start(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct ValidationOutputs {
  at::Tensor logits, ema_logits, targets, mask;
};

// One pass over the validation set for every job, its model and its EMA.
std::vector<ValidationOutputs> validate(const std::vector<JobState*>& jobs, data::DataLoader& loader,
                                        Distributed* group, const Compute& compute) {
  at::NoGradGuard no_grad;
  std::vector<std::vector<at::Tensor>> logits(jobs.size()), ema(jobs.size()), targets(jobs.size()),
      masks(jobs.size());
  for (JobState* s : jobs) {
    s->job->model->eval();
  }
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    const at::Tensor images = compute.images(batch->images);
    AutocastScope autocast(compute.precision);
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      JobState& s = *jobs[j];
      logits[j].push_back(s.job->model->forward(images).to(at::kCPU, at::kFloat));
      if (s.ema) {
        ema[j].push_back(static_cast<MultiLabelModel&>(s.ema->shadow()).forward(images).to(at::kCPU, at::kFloat));
      }
      targets[j].push_back(restrict(batch->targets, s.classes));
      if (batch->mask.defined()) masks[j].push_back(restrict(batch->mask, s.classes));
    }
  }
  std::vector<ValidationOutputs> out(jobs.size());
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    if (logits[j].empty()) throw ConfigError("the validation set is empty");
    out[j].logits = at::cat(logits[j]);
    if (!ema[j].empty()) out[j].ema_logits = at::cat(ema[j]);
    out[j].targets = at::cat(targets[j]);
    if (!masks[j].empty()) out[j].mask = at::cat(masks[j]);
    if (group != nullptr) {  // every rank scored its shard: put the whole set together
      out[j].logits = group->gather_rows(out[j].logits);
      if (out[j].ema_logits.defined()) out[j].ema_logits = group->gather_rows(out[j].ema_logits);
      out[j].targets = group->gather_rows(out[j].targets);
      if (out[j].mask.defined()) out[j].mask = group->gather_rows(out[j].mask);
    }
  }
  return out;
}

}  // namespace

Predictions predict(MultiLabelModel& model, data::DataLoader& loader, const std::vector<int64_t>& classes) {
  const at::Tensor index = at::tensor(classes, at::kLong);
  model.eval();
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> logits, targets, masks;
  Predictions out;
  loader.start_epoch(0);
  const c10::Device device = model.parameters().empty() ? c10::Device(c10::kCPU) : model.parameters().front().device();
  while (auto batch = loader.next()) {
    logits.push_back(model.forward(batch->images.to(device)).to(at::kCPU, at::kFloat));
    targets.push_back(batch->targets.index_select(1, index));
    if (batch->mask.defined()) masks.push_back(batch->mask.index_select(1, index));
    out.indices.insert(out.indices.end(), batch->indices.begin(), batch->indices.end());
  }
  out.logits = logits.empty() ? at::zeros({0, static_cast<int64_t>(classes.size())}) : at::cat(logits);
  out.targets = targets.empty() ? out.logits.clone() : at::cat(targets);
  if (!masks.empty()) out.mask = at::cat(masks);
  return out;
}

std::vector<JobResult> train_jobs(std::vector<Job>& jobs, const TrainSettings& settings, const RunConfig& config,
                                  std::shared_ptr<const data::Dataset> train,
                                  std::shared_ptr<const data::Dataset> val, bool resume) {
  const bool adamw = settings.optimizer == "adamw";
  Distributed* group = settings.data_parallel ? distributed() : nullptr;
  // The writer of the checkpoints: rank 0 of a data-parallel job, every rank of its own jobs.
  const bool main = group == nullptr || group->is_main();
  const bool show = distributed() == nullptr || distributed()->is_main();  // progress: rank 0 only
  Compute compute;
  compute.device = runtime_device(config);
  compute.precision = parse_precision(config.section("runtime").get_string("amp"));
  compute.channels_last = config.section("runtime").get_bool("channels_last");
  if (compute.precision != Precision::full && !compute.device.is_cuda()) {
    config.section("runtime").fail("amp", "mixed precision needs a CUDA device (runtime.device)");
  }
  auto make = [&](std::shared_ptr<const data::Dataset> d, bool training) {
    data::LoaderOptions o = data::loader_options(config, training, settings.batch_size);
    o.pin_memory = compute.device.is_cuda();
    if (group == nullptr) {
      o.rank = 0;
      o.world_size = 1;
    }
    return std::make_unique<data::DataLoader>(std::move(d), data::ImagePipeline(data::pipeline_options(config, training)), o);
  };
  auto train_loader = make(train, true);
  auto val_loader = make(val, false);
  const int64_t steps_per_epoch = train_loader->num_batches();
  if (steps_per_epoch == 0) throw ConfigError("the training set is empty (or smaller than one batch)");

  std::vector<JobState> states(jobs.size());
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    JobState& s = states[j];
    s.job = &jobs[j];
    fs::create_directories(jobs[j].dir);
    s.optimizer = make_optimizer(*jobs[j].model, settings);
    if (settings.schedule == "onecycle") {
      OneCycleOptions o = settings.one_cycle;
      o.max_lr = settings.lr;
      o.total_steps = settings.epochs * steps_per_epoch;
      s.schedule = std::make_unique<OneCycle>(o);
    }
    if (jobs[j].ema_model) s.ema = std::make_unique<ModelEma>(jobs[j].ema_model, *jobs[j].model, settings.ema);
    s.scaler = std::make_unique<LossScaler>(compute.precision == Precision::fp16);
    bool identity = static_cast<int64_t>(jobs[j].classes.size()) == train->num_classes();
    for (std::size_t c = 0; identity && c < jobs[j].classes.size(); ++c) identity = jobs[j].classes[c] == int64_t(c);
    if (!identity) s.classes = at::tensor(jobs[j].classes, at::kLong);
    restore(s, resume, settings, config);
    // The schedule position follows the epochs done, so a resumed run may use another number
    // of processes (and so of steps per epoch).
    s.step = s.start_epoch * steps_per_epoch;
    if (group != nullptr) {
      std::vector<at::Tensor> state;
      for (auto& p : jobs[j].model->parameters()) state.push_back(p.data());
      for (auto& b : jobs[j].model->buffers()) state.push_back(b);
      group->broadcast(state);
      if (s.ema) copy_state(*jobs[j].model, s.ema->shadow());
    }
  }

  const auto start = std::chrono::steady_clock::now();
  int64_t first_epoch = settings.epochs;
  for (const JobState& s : states) {
    if (!s.stopped) first_epoch = std::min(first_epoch, s.start_epoch);
  }
  for (int64_t epoch = first_epoch; epoch < settings.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    std::vector<JobState*> active;
    for (JobState& s : states) {
      if (s.start_epoch <= epoch && !s.stopped) {
        active.push_back(&s);
        s.loss_sum = 0;
        s.loss_count = 0;
      }
    }
    if (active.empty()) break;  // every job stopped early
    train_loader->start_epoch(epoch);
    std::optional<Progress> progress;
    if (show) {
      progress.emplace("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(settings.epochs) + " (" +
                           std::to_string(active.size()) + (active.size() == 1 ? " model" : " models") + ")",
                       steps_per_epoch, settings.log_seconds);
    }
    int64_t done = 0;
    std::string status;
    while (auto batch = train_loader->next()) {
      for (JobState* s : active) {
        s->loss_sum += train_step(*s, *batch, compute, epoch, settings, adamw, group);
        ++s->loss_count;
      }
      ++done;
      const JobState& first = *active.front();
      std::ostringstream extra;
      extra.precision(4);
      extra << "loss " << first.loss_sum / std::max<int64_t>(first.loss_count, 1) << " lr "
            << (first.schedule ? first.schedule->lr(first.step) : settings.lr) << " img/s "
            << static_cast<int64_t>(done * settings.batch_size * (group ? group->world_size() : 1) /
                                    std::max(since_start(epoch_start), 1e-9));
      status = extra.str();
      if (progress) progress->update(done, status);
    }
    if (progress) progress->finish(status);

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    const std::vector<ValidationOutputs> outputs = validate(active, *val_loader, group, compute);
    for (std::size_t a = 0; a < active.size(); ++a) {
      JobState* s = active[a];
      Job& job = *s->job;
      const ValidationOutputs& v = outputs[a];
      const Metrics regular = evaluate(v.logits, v.targets, v.mask, settings.threshold);
      Metrics ema_metrics;
      ema_metrics.map = -1;
      if (s->ema) ema_metrics = evaluate(v.ema_logits, v.targets, v.mask, settings.threshold);
      const bool ema_better = ema_metrics.map > regular.map;  // ties go to the regular model
      const Metrics& best_now = ema_better ? ema_metrics : regular;
      const bool improved = best_now.map > s->best_map;
      if (improved) {
        s->best_map = best_now.map;
        s->best_epoch = epoch + 1;
        s->best_source = ema_better ? "ema" : "model";
        s->best_metrics = best_now;
      }
      const double lr = s->schedule ? s->schedule->lr(std::max<int64_t>(s->step - 1, 0)) : settings.lr;
      s->history.push_back({{"epoch", epoch + 1},
                            {"train_loss", s->loss_sum / std::max<int64_t>(s->loss_count, 1)},
                            {"map", regular.map},
                            {"map_ema", s->ema ? ema_metrics.map : regular.map},
                            {"lr", lr},
                            {"seconds", seconds}});
      log::info("{} epoch {}: loss {:.4f}, mAP {:.2f}{}{}", job.name, epoch + 1,
                s->loss_sum / std::max<int64_t>(s->loss_count, 1), regular.map,
                s->ema ? fmt::format(", EMA mAP {:.2f}", ema_metrics.map) : std::string(),
                improved ? " (best)" : "");
      s->stopped = stops_early(*s, epoch + 1, settings);
      if (s->stopped) {
        log::info("{} stops early: no better mAP for {} epochs (best {:.2f} at epoch {})", job.name,
                  settings.patience, s->best_map, s->best_epoch);
      }
      const CheckpointMeta meta = meta_of(*s, epoch + 1, config, *train);
      torch::nn::Module* ema_module = s->ema ? &s->ema->shadow() : nullptr;
      const at::Tensor rng = cpu_generator_state();
      if (main) {  // one writer; the others wait for the files below
        if (improved) save_checkpoint(job.dir / "best.ckpt", meta, *job.model, ema_module, s->optimizer.get(), rng);
        save_checkpoint(job.dir / "last.ckpt", meta, *job.model, ema_module, s->optimizer.get(), rng);
        write_history(*s);
      }
    }
    if (group != nullptr) group->barrier();
  }

  std::vector<JobResult> results;
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (JobState& s : states) {
    JobResult r;
    r.name = s.job->name;
    r.best_map = s.best_map;
    r.best_epoch = s.best_epoch;
    r.best_source = s.best_source;
    r.seconds = total;
    if (s.best_metrics.ap.empty() && fs::exists(s.job->dir / "best.ckpt")) {
      // Finished before this call (resume): evaluate the best weights again for the metrics.
      load_checkpoint_weights(s.job->dir / "best.ckpt", s.best_source, *s.job->model);
      const Predictions p = predict(*s.job->model, *val_loader, s.job->classes);
      s.best_metrics = evaluate(p.logits, p.targets, p.mask, settings.threshold);
    }
    r.best_metrics = s.best_metrics;
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace cpsd::engine
