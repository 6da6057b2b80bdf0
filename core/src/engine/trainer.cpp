// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <sstream>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "../json_file.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/distributed.h"
#include "cpsd/core/engine/ema.h"
#include "cpsd/core/engine/grad_clip.h"
#include "cpsd/core/engine/run_layout.h"
#include "cpsd/core/log.h"
#include "cpsd/core/progress.h"
#include "cpsd/sdk/error.h"
#include "training_parts.h"

namespace fs = std::filesystem;

namespace cpsd::engine {

// Everything the trainer keeps per job.
struct Trainer::State {
  Job* job = nullptr;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<OneCycle> schedule;
  std::unique_ptr<ModelEma> ema;
  std::unique_ptr<LossScaler> scaler;
  std::unique_ptr<GradientReducer> reducer;  // data parallel: averages the gradients
  at::Tensor classes;       // long [C_job]; undefined when the job predicts every class in order
  uint64_t seed = 0;        // the job's generator stream (seed_step)
  int64_t start_epoch = 0;  // the epoch it continues in ...
  int64_t start_batch = 0;  // ... at this batch (a mid-epoch checkpoint's position)
  bool stopped = false;     // early stopping: no better epoch for `patience` epochs
  int64_t step = 0;
  Best best;
  Metrics best_metrics;
  Json history = Json::array();
  double loss_sum = 0;  // the epoch's losses read so far (read_losses) ...
  int64_t loss_count = 0;
  std::vector<at::Tensor> unread_losses;  // ... and those of the steps since, on the device

  double lr(const TrainSettings& s, int64_t at) const { return schedule ? schedule->lr(at) : s.lr; }
  double mean_loss() const { return loss_sum / std::max<int64_t>(loss_count, 1); }
  // The first batch of `epoch` this job trains on.
  int64_t first_batch(int64_t epoch) const { return epoch == start_epoch ? start_batch : 0; }
};

namespace {

// Steps between two reads of the losses on the host: each read waits for the device.
constexpr int64_t kLossReadSteps = 32;

at::Tensor restrict(const at::Tensor& t, const at::Tensor& classes) {
  return classes.defined() && t.defined() ? t.index_select(1, classes) : t;
}

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Early stopping: the best epoch is `patience` epochs behind the last one done (never
// before a first validation, which train.val_begin may put late).
bool stops_early(const Best& best, int64_t epochs_done, const TrainSettings& settings) {
  return settings.patience > 0 && best.epoch > 0 && epochs_done < settings.epochs &&
         epochs_done - best.epoch >= settings.patience;
}

// Whether the epoch `epochs_done` ends with validation: from val_begin every val_interval
// epochs, and the last.
bool validates(int64_t epochs_done, const TrainSettings& settings) {
  if (epochs_done >= settings.epochs) return true;
  return epochs_done >= settings.val_begin &&
         (epochs_done - settings.val_begin) % settings.val_interval == 0;
}

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

void write_history(const fs::path& dir, const Json& history) {
  write_file_atomically(RunLayout::metrics_json(dir), json_text(history));
  std::string csv = "epoch,train_loss,map,map_ema,lr,seconds\n";
  for (const Json& row : history) {
    std::ostringstream line;
    line << row["epoch"].get<int64_t>() << ',' << row["train_loss"].get<double>() << ',';
    if (row.contains("map"))  // else an epoch not validated: empty fields
      line << row["map"].get<double>() << ',' << row["map_ema"].get<double>();
    else
      line << ',';
    line << ',' << row["lr"].get<double>() << ',' << row["seconds"].get<double>() << '\n';
    csv += line.str();
  }
  write_file_atomically(RunLayout::metrics_csv(dir), csv);
}

// The finished epochs' metrics rows: kept in the checkpoint itself, so that a kill between
// its write and metrics.json's loses no row (older checkpoints: read from metrics.json).
Json restored_history(const CheckpointMeta& meta, const fs::path& dir) {
  if (!meta.history_json.empty()) return Json::parse(meta.history_json);
  Json history = Json::array();
  if (!fs::exists(RunLayout::metrics_json(dir))) return history;
  for (const Json& row : read_json_file(RunLayout::metrics_json(dir))) {
    if (row["epoch"].get<int64_t>() <= meta.epoch) history.push_back(row);
  }
  return history;
}

std::string epoch_label(int64_t epoch, int64_t epochs, int64_t first_batch, int64_t batches,
                        std::size_t models) {
  std::string label = "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs);
  if (first_batch > 0)
    label += " from step " + std::to_string(first_batch + 1) + "/" + std::to_string(batches);
  return label + " (" + std::to_string(models) + (models == 1 ? " model)" : " models)");
}

}  // namespace

Trainer::Trainer(TrainSettings settings, const RunConfig& config,
                 std::shared_ptr<const data::Dataset> train,
                 std::shared_ptr<const data::Dataset> val)
    : settings_(settings),
      config_(config),
      train_(std::move(train)),
      val_(std::move(val)),
      compute_(Compute::of(config)) {
  group_ = settings_.data_parallel ? distributed() : nullptr;
  writer_ = group_ == nullptr || group_->is_main();
  show_progress_ = distributed() == nullptr || distributed()->is_main();
  auto make = [&](std::shared_ptr<const data::Dataset> d, bool training) {
    data::LoaderOptions o = data::loader_options(config_, training, settings_.batch_size);
    o.pin_memory = compute_.device.is_cuda();
    if (group_ == nullptr) {
      o.rank = 0;
      o.world_size = 1;
    }
    return std::make_unique<data::DataLoader>(
        std::move(d), data::ImagePipeline(data::pipeline_options(config_, training)), o);
  };
  train_loader_ = make(train_, true);
  val_loader_ = make(val_, false);
  if (train_loader_->num_batches() == 0)
    throw ConfigError("the training set is empty (or smaller than one batch)");
}

Trainer::~Trainer() = default;

std::vector<JobResult> Trainer::run(std::vector<Job>& jobs, bool resume) {
  std::vector<State> states = prepare(jobs, resume);
  const auto start = std::chrono::steady_clock::now();
  int64_t first_epoch = settings_.epochs;
  for (const State& s : states) {
    if (!s.stopped) first_epoch = std::min(first_epoch, s.start_epoch);
  }
  for (int64_t epoch = first_epoch; epoch < settings_.epochs; ++epoch) {
    std::vector<State*> active;
    for (State& s : states) {
      if (s.start_epoch <= epoch && !s.stopped) active.push_back(&s);
    }
    if (active.empty()) break;  // every job stopped early
    const double seconds = run_epoch(active, epoch);
    end_epoch(active, epoch, seconds);
    if (group_ != nullptr) group_->barrier();
  }
  return finish(states, since(start));
}

// Set up each job: optimizer, schedule, EMA, loss scale; then continue from its checkpoint.
std::vector<Trainer::State> Trainer::prepare(std::vector<Job>& jobs, bool resume) {
  const int64_t steps_per_epoch = train_loader_->num_batches();
  std::vector<State> states(jobs.size());
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    State& s = states[j];
    Job& job = jobs[j];
    s.job = &job;
    s.seed = mix_seed(static_cast<uint64_t>(config_.section("runtime").get_int("seed")), job.name);
    fs::create_directories(job.dir);
    for (const fs::path& file : {RunLayout::last(job.dir), RunLayout::best(job.dir),
                                 RunLayout::metrics_json(job.dir), RunLayout::metrics_csv(job.dir)})
      remove_abandoned_temporaries(file);  // left by a killed run
    s.optimizer = make_optimizer(*job.model, settings_);
    if (settings_.schedule == Schedule::onecycle) {
      OneCycleOptions o = settings_.one_cycle;
      o.max_lr = settings_.lr;
      o.total_steps = settings_.epochs * steps_per_epoch;
      s.schedule = std::make_unique<OneCycle>(o);
    }
    if (job.ema_model) s.ema = std::make_unique<ModelEma>(job.ema_model, *job.model, settings_.ema);
    s.scaler = std::make_unique<LossScaler>(compute_.precision == Precision::fp16);
    if (!is_identity(job.classes, train_->num_classes()))
      s.classes = at::tensor(job.classes, at::kLong);
    if (resume) restore(s);
    // The schedule position follows the batches done, so a resumed run may use another
    // number of processes (and so of steps per epoch).
    s.step = s.start_epoch * steps_per_epoch + s.start_batch;
    if (group_ != nullptr) {
      broadcast_weights(*group_, *job.model);
      if (s.ema) copy_state(*job.model, s.ema->shadow());
      s.reducer = make_gradient_reducer(*group_, *job.model, config_);
    }
  }
  return states;
}

void Trainer::restore(State& s) {
  const fs::path last = RunLayout::last(s.job->dir);
  if (!fs::exists(last)) return;
  const CheckpointMeta meta = read_checkpoint_meta(last);
  check_resumable(meta, *s.job, config_, last);
  load_training_state(last, *s.job->model, s.ema ? &s.ema->shadow() : nullptr, s.optimizer.get());
  if (s.scaler->enabled() && meta.loss_scale > 0)
    s.scaler->restore(meta.loss_scale, meta.loss_scale_good_steps, meta.loss_scale_settled);
  s.start_epoch = std::min(meta.epoch, settings_.epochs);
  s.best = meta.best;
  s.stopped = stops_early(s.best, meta.epoch, settings_);
  s.history = restored_history(meta, s.job->dir);
  if (meta.position.batch > 0 && meta.epoch < settings_.epochs) {
    restore_position(s, meta.position);
    log::info("{}: resuming in epoch {} at step {}/{} from {}", s.job->name, meta.epoch + 1,
              s.start_batch + 1, train_loader_->num_batches(), last.string());
  } else {
    log::info("{}: resuming after epoch {} from {}", s.job->name, meta.epoch, last.string());
  }
}

// Continues the epoch where the checkpoint left it. With another number of processes or
// batch size the epoch's batches are other ones: go on after as many samples as were seen.
void Trainer::restore_position(State& s, const EpochPosition& position) {
  const int64_t world = group_ ? group_->world_size() : 1;
  const int64_t per_batch = settings_.batch_size * world;
  s.loss_sum = position.loss_sum;
  s.loss_count = position.loss_count;
  s.start_batch = position.batch;
  if (position.world_size != world || position.samples != position.batch * per_batch) {
    s.start_batch = std::min(position.samples / per_batch, train_loader_->num_batches());
    log::warn(
        "{}: its checkpoint was written by {} processes and this run has {} (or another "
        "batch size): it goes on after the same share of the epoch (batch {} of {}), not "
        "exactly as an uninterrupted run would",
        s.job->name, position.world_size, world, s.start_batch, train_loader_->num_batches());
  }
}

// One pass over the training set; every active job steps on each batch from its position.
// Writes the mid-epoch checkpoints. Returns seconds.
double Trainer::run_epoch(const std::vector<State*>& active, int64_t epoch) {
  const auto epoch_start = std::chrono::steady_clock::now();
  const int64_t steps = train_loader_->num_batches();
  int64_t first = steps;
  for (State* s : active) {
    if (s->first_batch(epoch) == 0) {
      s->loss_sum = 0;
      s->loss_count = 0;
    }
    first = std::min(first, s->first_batch(epoch));
  }
  train_loader_->start_epoch(epoch, first);
  std::optional<Progress> progress;
  if (show_progress_) {
    progress.emplace(epoch_label(epoch, settings_.epochs, first, steps, active.size()),
                     steps - first, settings_.log_seconds);
  }
  int64_t batch_number = first;
  // The lead job's mean loss (once its first losses are read), the lr and the rate.
  auto status = [&] {
    const State& lead = *active.front();
    std::ostringstream extra;
    extra.precision(4);
    if (lead.loss_count > 0) extra << "loss " << lead.mean_loss() << ' ';
    extra << "lr " << lead.lr(settings_, lead.step) << " img/s "
          << static_cast<int64_t>((batch_number - first) * settings_.batch_size *
                                  (group_ ? group_->world_size() : 1) /
                                  std::max(since(epoch_start), 1e-9));
    return extra.str();
  };
  while (auto batch = train_loader_->next()) {
    const StepBatch on_device{*batch, compute_.images(batch->images), compute_};  // once for all
    for (State* s : active) {
      if (batch_number >= s->first_batch(epoch)) step(*s, on_device, epoch);
    }
    ++batch_number;
    if (checkpoint_due(epoch * steps + batch_number)) {
      for (State* s : active) {
        if (batch_number > s->first_batch(epoch)) checkpoint_within(*s, epoch, batch_number);
      }
    }
    if (progress) progress->update(batch_number - first, status());
  }
  for (State* s : active) settle_losses(*s, epoch);
  if (progress) progress->finish(status());
  return since(epoch_start);
}

// One optimisation step of one job on one batch.
void Trainer::step(State& s, const StepBatch& batch, int64_t epoch) {
  Job& job = *s.job;
  job.model->train();
  seed_step(s.seed, s.step, group_ ? group_->rank() : 0);
  if (s.reducer) s.reducer->before_forward();
  const at::Tensor targets = compute_.other(restrict(batch.host.targets, s.classes));
  const at::Tensor mask = compute_.other(restrict(batch.host.mask, s.classes));
  at::Tensor logits;
  {
    AutocastScope autocast(compute_.precision);
    logits = job.model->forward(batch.images);
  }
  const at::Tensor total = job.objective->loss(logits, targets, mask, batch);
  // Kept on the device and read every few steps: a step does not wait for the device.
  at::Tensor value = total.detach().to(at::kDouble).reshape({1});
  if (group_ != nullptr) value = group_->mean(value);  // every rank keeps the same values
  s.unread_losses.push_back(value);
  fault_injection(s.step);
  s.optimizer->zero_grad();
  if (s.reducer) {
    s.reducer->backward(s.scaler->scale(total));  // all-reduce overlapped with backward
  } else {
    s.scaler->scale(total).backward();
  }
  const std::vector<at::Tensor> params = job.model->parameters();
  bool finite = s.scaler->unscale(params);
  if (group_ != nullptr && s.scaler->enabled())
    finite = group_->sum(finite ? 0.0 : 1.0) == 0.0;  // all ranks agree
  if (finite) {
    if (settings_.grad_clip > 0) clip_gradient_norm(params, settings_.grad_clip);
    const double momentum = s.schedule ? s.schedule->momentum(s.step) : 0.9;
    set_lr_and_momentum(*s.optimizer, s.lr(settings_, s.step), momentum, settings_.optimizer);
    s.optimizer->step();
    if (s.ema) s.ema->update(*job.model);
  }
  s.scaler->update(finite);  // an fp16 overflow skips the step and lowers the loss scale
  ++s.step;
  // At the same steps on every rank, so that all stop together on a non-finite loss.
  if (s.step % kLossReadSteps == 0) settle_losses(s, epoch);
}

// Reads the losses of the steps since the last read (one device sync). Adds them to the
// epoch's sum when all are finite and returns -1; else keeps them and returns the position
// of the first that is not.
int64_t Trainer::read_losses(State& s) {
  if (s.unread_losses.empty()) return -1;
  const at::Tensor values = at::cat(s.unread_losses).to(at::kCPU);
  const double* v = values.data_ptr<double>();
  for (int64_t i = 0; i < values.numel(); ++i) {
    if (!std::isfinite(v[i])) return i;
  }
  for (int64_t i = 0; i < values.numel(); ++i) s.loss_sum += v[i];
  s.loss_count += values.numel();
  s.unread_losses.clear();
  return -1;
}

// Stops the run at a non-finite loss, naming its step; the checkpoints are those written
// before it (a checkpoint is written only after its steps' losses were read).
void Trainer::settle_losses(State& s, int64_t epoch) {
  const int64_t bad = read_losses(s);
  if (bad < 0) return;
  const int64_t at = s.step - static_cast<int64_t>(s.unread_losses.size()) + bad;
  const double value = at::cat(s.unread_losses)[bad].item<double>();
  const Job& job = *s.job;
  throw RuntimeError(job.name + ": the loss is " + std::to_string(value) + " at epoch " +
                     std::to_string(epoch + 1) + ", step " + std::to_string(at + 1) +
                     "; training stopped (lower train.lr or set " +
                     "train.grad_clip); the last good checkpoint is " +
                     RunLayout::last(job.dir).string());
}

// Ends an epoch for every active job: its metrics row, validation when due (keeping the
// better of model and EMA as best), the checkpoints and early stopping.
void Trainer::end_epoch(const std::vector<State*>& active, int64_t epoch, double seconds) {
  const bool validated = validates(epoch + 1, settings_);
  const std::vector<ValidationOutputs> outputs =
      validated ? validate_all(active) : std::vector<ValidationOutputs>();
  for (std::size_t a = 0; a < active.size(); ++a) {
    State& s = *active[a];
    s.history.push_back({{"epoch", epoch + 1},
                         {"train_loss", s.mean_loss()},
                         {"lr", s.lr(settings_, std::max<int64_t>(s.step - 1, 0))},
                         {"seconds", seconds}});
    const bool improved = validated && choose_best(s, outputs[a], epoch);
    if (!validated) log::info("{} epoch {}: loss {:.4f}", s.job->name, epoch + 1, s.mean_loss());
    checkpoint(s, epoch + 1, EpochPosition{}, improved);
    if (!validated) continue;
    s.stopped = stops_early(s.best, epoch + 1, settings_);
    if (s.stopped) {
      log::info("{} stops early: no better mAP for {} epochs (best {:.2f} at epoch {})",
                s.job->name, settings_.patience, s.best.map, s.best.epoch);
    }
  }
}

// Every active job's (and its EMA's) logits on the validation set.
std::vector<ValidationOutputs> Trainer::validate_all(const std::vector<State*>& active) {
  std::vector<ValidationJob> jobs;
  for (State* s : active) {
    if (s->reducer) {  // each rank's last forward updated its own BatchNorm statistics
      s->reducer->broadcast_buffers();
      if (s->ema) group_->broadcast(s->ema->shadow().buffers());
    }
    jobs.push_back({s->job->model.get(), s->ema ? &s->ema->shadow() : nullptr, s->classes});
  }
  return validate(jobs, *val_loader_, group_, compute_);
}

// Scores one job's model and EMA, keeps the better as best when it improves (returns
// whether it did) and adds both mAPs to the epoch's metrics row.
bool Trainer::choose_best(State& s, const ValidationOutputs& v, int64_t epoch) {
  const Metrics regular = evaluate(v.logits, v.targets, v.mask, settings_.threshold);
  Metrics ema_metrics;
  ema_metrics.map = -1;
  if (s.ema) ema_metrics = evaluate(v.ema_logits, v.targets, v.mask, settings_.threshold);
  const bool ema_better = ema_metrics.map > regular.map;  // ties go to the regular model
  const Metrics& best_now = ema_better ? ema_metrics : regular;
  const bool improved = best_now.map > s.best.map;
  if (improved) {
    s.best = {best_now.map, epoch + 1, ema_better ? "ema" : "model"};
    s.best_metrics = best_now;
  }
  Json& row = s.history.back();
  row["map"] = regular.map;
  row["map_ema"] = s.ema ? ema_metrics.map : regular.map;
  log::info("{} epoch {}: loss {:.4f}, mAP {:.2f}{}{}", s.job->name, epoch + 1, s.mean_loss(),
            regular.map, s.ema ? fmt::format(", EMA mAP {:.2f}", ema_metrics.map) : std::string(),
            improved ? " (best)" : "");
  return improved;
}

// Whether the batch just trained (counted over the whole run) ends with a checkpoint.
bool Trainer::checkpoint_due(int64_t batches_done) const {
  if (!writer_) return false;  // the other ranks hold the same state
  if (settings_.checkpoint_steps > 0 && batches_done % settings_.checkpoint_steps == 0) return true;
  return settings_.checkpoint_minutes > 0 &&
         since(last_checkpoint_) >= settings_.checkpoint_minutes * 60;
}

void Trainer::checkpoint_within(State& s, int64_t epoch, int64_t batches_done) {
  // Not after a non-finite loss: the next read stops every rank at it.
  if (read_losses(s) >= 0) return;
  const int64_t world = group_ ? group_->world_size() : 1;
  const EpochPosition position{batches_done, world, batches_done * settings_.batch_size * world,
                               s.loss_sum, s.loss_count};
  checkpoint(s, epoch, position, false);
}

// Writes last.ckpt (and best.ckpt when `improved`) after `epochs_done` epochs and `position`
// batches of the next; metrics.csv and metrics.json at an epoch's end.
void Trainer::checkpoint(State& s, int64_t epochs_done, const EpochPosition& position,
                         bool improved) {
  if (!writer_) return;  // one writer; the others wait at the epoch's barrier
  CheckpointMeta meta;
  meta.job = s.job->name;
  meta.epoch = epochs_done;
  meta.step = s.step;
  meta.position = position;
  meta.loss_scale = s.scaler->current();
  meta.loss_scale_good_steps = s.scaler->good_steps();
  meta.loss_scale_settled = s.scaler->settled();
  meta.history_json = s.history.dump();
  meta.best = s.best;
  meta.config_toml = config_.to_toml();
  meta.class_indices = s.job->classes;
  for (int64_t c : s.job->classes)
    meta.class_names.push_back(train_->class_names[static_cast<std::size_t>(c)]);
  meta.model_signature = model_signature(config_);
  torch::nn::Module* ema = s.ema ? &s.ema->shadow() : nullptr;
  const fs::path& dir = s.job->dir;
  if (improved) save_checkpoint(RunLayout::best(dir), meta, *s.job->model, ema, s.optimizer.get());
  save_checkpoint(RunLayout::last(dir), meta, *s.job->model, ema, s.optimizer.get());
  if (position.batch == 0) write_history(dir, s.history);
  last_checkpoint_ = std::chrono::steady_clock::now();
}

std::vector<JobResult> Trainer::finish(std::vector<State>& states, double seconds) {
  std::vector<JobResult> results;
  for (State& s : states) {
    const fs::path best = RunLayout::best(s.job->dir);
    if (s.best_metrics.ap.empty() && fs::exists(best)) {
      // Finished before this call (resume): evaluate the best weights again for the metrics.
      load_checkpoint_weights(best, s.best.source, *s.job->model);
      const Predictions p = predict(*s.job->model, *val_loader_, s.job->classes);
      s.best_metrics = evaluate(p.logits, p.targets, p.mask, settings_.threshold);
    }
    results.push_back({s.job->name, s.best, s.best_metrics, seconds});
  }
  return results;
}

}  // namespace cpsd::engine
