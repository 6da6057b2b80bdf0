// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/data/loader.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include <ATen/ATen.h>
#include <opencv2/core.hpp>

#include "augment.h"
#include "cpsd/core/log.h"

namespace cpsd::data {

struct DataLoader::State {
  std::shared_ptr<const Dataset> dataset;
  ImagePipeline pipeline;
  LoaderOptions options;
  bool has_ignored = false;
  int64_t samples_per_epoch = 0;  // this rank's share, the same every epoch
  int64_t batches_per_epoch = 0;

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::thread> workers;
  bool stopping = false;

  // Current epoch, guarded by mutex.
  int64_t epoch = -1;
  uint64_t generation = 0;
  std::vector<int64_t> order;  // this rank's samples, in epoch order
  int64_t batches = 0;
  int64_t next_claim = 0;  // next batch a worker may start
  int64_t consumed = 0;    // batches handed out by next()
  int64_t in_flight = 0;
  struct Result {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  std::map<int64_t, Result> ready;
  std::atomic<int64_t> bad{0};

  State(std::shared_ptr<const Dataset> d, ImagePipeline p, LoaderOptions o)
      : dataset(std::move(d)), pipeline(std::move(p)), options(o) {}

  Batch build(int64_t b, int64_t epoch_number, const std::vector<int64_t>& epoch_order) {
    const int64_t begin = b * options.batch_size;
    const int64_t end =
        std::min<int64_t>(begin + options.batch_size, static_cast<int64_t>(epoch_order.size()));
    const int64_t n = end - begin, c = dataset->num_classes(), s = pipeline.options().image_size;
    Batch batch;
    batch.images =
        at::empty({n, 3, s, s}, at::TensorOptions(at::kFloat).pinned_memory(options.pin_memory));
    batch.targets = at::zeros({n, c}, at::kFloat);
    if (has_ignored) batch.mask = at::ones({n, c}, at::kFloat);
    float* images = batch.images.data_ptr<float>();
    float* targets = batch.targets.data_ptr<float>();
    int64_t row = 0;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t index = epoch_order[i];
      const Sample& sample = dataset->samples[index];
      Rng rng(sample_seed(options.seed, epoch_number, index));
      try {
        pipeline.load(sample.path, rng, images + row * 3 * s * s);
      } catch (const BadImage& e) {
        if (!options.skip_bad_images) {
          throw BadImage(std::string(e.what()) +
                         " (set data.on_bad_image = \"skip\" to skip unusable images)");
        }
        const int64_t count = ++bad;
        log::warn("skipping image {} ({} skipped so far)", e.what(), count);
        if (count > options.max_bad_images) {
          throw BadImage("more than " + std::to_string(options.max_bad_images) +
                         " unusable images (data.max_bad_images); last: " + e.what());
        }
        continue;
      }
      for (int64_t l : sample.labels) targets[row * c + l] = 1.0f;
      if (has_ignored) {
        float* mask = batch.mask.data_ptr<float>();
        for (int64_t l : sample.ignored) mask[row * c + l] = 0.0f;
      }
      batch.indices.push_back(index);
      ++row;
    }
    if (row < n) {  // skipped images: keep only the filled rows
      batch.images = batch.images.narrow(0, 0, row).contiguous();
      batch.targets = batch.targets.narrow(0, 0, row).contiguous();
      if (has_ignored) batch.mask = batch.mask.narrow(0, 0, row).contiguous();
    }
    return batch;
  }

  void work() {
    std::unique_lock<std::mutex> lock(mutex);
    while (true) {
      changed.wait(lock, [&] {
        return stopping || (next_claim < batches && next_claim < consumed + options.prefetch);
      });
      if (stopping) return;
      const int64_t b = next_claim++;
      const uint64_t my_generation = generation;
      const int64_t my_epoch = epoch;
      const std::vector<int64_t>& my_order = order;  // stable until in_flight drops to 0
      ++in_flight;
      lock.unlock();
      Result result;
      try {
        result.batch = build(b, my_epoch, my_order);
      } catch (...) {
        result.error = std::current_exception();
      }
      lock.lock();
      --in_flight;
      if (generation == my_generation) ready[b] = std::move(result);
      changed.notify_all();
    }
  }
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, ImagePipeline pipeline,
                       LoaderOptions options)
    : state_(std::make_unique<State>(std::move(dataset), std::move(pipeline), options)) {
  State& s = *state_;
  if (s.options.batch_size < 1) throw ConfigError("batch size must be >= 1");
  if (s.options.world_size < 1 || s.options.rank < 0 || s.options.rank >= s.options.world_size) {
    throw ConfigError("rank " + std::to_string(s.options.rank) + " is outside a world of " +
                      std::to_string(s.options.world_size));
  }
  s.options.prefetch = std::max(1, s.options.prefetch);
  for (const Sample& sample : s.dataset->samples) s.has_ignored |= !sample.ignored.empty();
  const auto n = static_cast<int64_t>(s.dataset->samples.size());
  const int64_t world = s.options.world_size, rank = s.options.rank;
  s.samples_per_epoch = world == 1              ? n
                        : s.options.even_shards ? (n + world - 1) / world
                                                : (n - rank + world - 1) / world;
  s.batches_per_epoch =
      s.options.drop_last ? s.samples_per_epoch / s.options.batch_size
                          : (s.samples_per_epoch + s.options.batch_size - 1) / s.options.batch_size;
  cv::setNumThreads(0);
  int workers = s.options.workers > 0
                    ? s.options.workers
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int w = 0; w < workers; ++w) s.workers.emplace_back([&s] { s.work(); });
}

DataLoader::~DataLoader() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
  }
  state_->changed.notify_all();
  for (std::thread& t : state_->workers) t.join();
}

void DataLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  State& s = *state_;
  if (first_batch < 0 || first_batch > s.batches_per_epoch) {
    throw RuntimeError("DataLoader::start_epoch: batch " + std::to_string(first_batch) +
                       " is outside an epoch of " + std::to_string(s.batches_per_epoch));
  }
  std::unique_lock<std::mutex> lock(s.mutex);
  ++s.generation;
  s.batches = 0;  // stop new claims, then wait for running ones (they read `order`)
  s.changed.wait(lock, [&] { return s.in_flight == 0; });
  s.ready.clear();
  s.epoch = epoch;
  const auto n = static_cast<int64_t>(s.dataset->samples.size());
  std::vector<int64_t> all(static_cast<std::size_t>(n));
  std::iota(all.begin(), all.end(), 0);
  if (s.options.shuffle) {
    Rng rng(sample_seed(s.options.seed, epoch, -1));
    for (int64_t i = n; i > 1; --i) std::swap(all[i - 1], all[augment::uniform_int(rng, i)]);
  }
  const int64_t world = s.options.world_size;
  if (world > 1 && s.options.even_shards && n % world != 0 && n > 0) {
    for (int64_t i = 0; n % world != 0 && i < world - n % world; ++i) all.push_back(all[i % n]);
  }
  s.order.clear();
  for (std::size_t i = static_cast<std::size_t>(s.options.rank); i < all.size();
       i += static_cast<std::size_t>(world)) {
    s.order.push_back(all[i]);
  }
  s.batches = s.batches_per_epoch;
  s.next_claim = first_batch;  // the batches before it are not decoded at all
  s.consumed = first_batch;
  lock.unlock();
  s.changed.notify_all();
}

std::optional<Batch> DataLoader::next() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  if (s.epoch < 0) throw RuntimeError("DataLoader::next() before start_epoch()");
  if (s.consumed >= s.batches) return std::nullopt;
  s.changed.wait(lock, [&] { return s.ready.count(s.consumed) > 0; });
  State::Result result = std::move(s.ready[s.consumed]);
  s.ready.erase(s.consumed);
  ++s.consumed;
  lock.unlock();
  s.changed.notify_all();
  if (result.error) std::rethrow_exception(result.error);
  return std::move(result.batch);
}

int64_t DataLoader::num_batches() const { return state_->batches_per_epoch; }

int64_t DataLoader::num_samples() const { return state_->samples_per_epoch; }

int64_t DataLoader::bad_images() const { return state_->bad.load(); }

const Dataset& DataLoader::dataset() const { return *state_->dataset; }

}  // namespace cpsd::data
