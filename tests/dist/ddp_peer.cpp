// SPDX-License-Identifier: Apache-2.0
// One rank of the DistributedDataParallel comparison (tests/dist/ddp_reference.py's model,
// data and steps) trained with cpsd's GradientReducer; rank 0 writes its weights and
// buffers. Rank and rendezvous come from RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT.
//
// usage: cpsd_ddp_peer DIR STEPS   (reads DIR/init.pth and DIR/data.pth; writes DIR/cpsd.pt,
// the tensors, and DIR/cpsd.names, their names)
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>

#include <torch/torch.h>

#include "cpsd/core/distributed.h"
#include "cpsd/core/state_dict.h"

namespace {

constexpr int64_t kBatch = 4;

torch::nn::Sequential make_model() {
  return torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1)),
                               torch::nn::BatchNorm2d(8), torch::nn::ReLU(),
                               torch::nn::AdaptiveAvgPool2d(1), torch::nn::Flatten(),
                               torch::nn::Linear(8, 4));
}

void load(torch::nn::Module& model, const cpsd::StateDict& state) {
  torch::NoGradGuard no_grad;
  auto params = model.named_parameters();
  auto buffers = model.named_buffers();
  for (const auto& [name, value] : state) {
    at::Tensor* target = params.find(name);
    if (target == nullptr) target = buffers.find(name);
    if (target == nullptr) throw std::runtime_error("no '" + name + "' in the model");
    target->copy_(value);
  }
}

at::Tensor entry(const cpsd::StateDict& state, const std::string& name) {
  for (const auto& [key, value] : state) {
    if (key == name) return value;
  }
  throw std::runtime_error("no '" + name + "' in data.pth");
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 3) {
    std::fprintf(stderr, "usage: cpsd_ddp_peer DIR STEPS\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const int64_t steps = std::atoll(argv[2]);
  torch::set_num_threads(1);
  const cpsd::DistEnv env = cpsd::detect_dist_env();
  auto group = cpsd::Distributed::connect(env, std::chrono::seconds(60));
  torch::nn::Sequential model = make_model();
  load(*model, cpsd::read_state_dict(dir / "init.pth"));
  const cpsd::StateDict data = cpsd::read_state_dict(dir / "data.pth");
  const at::Tensor x = entry(data, "x"), y = entry(data, "y");
  cpsd::GradientReducer reducer(*group, model->parameters(), model->buffers());
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.5));
  model->train();
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t first = (step * env.world_size + env.rank) * kBatch;
    reducer.before_forward();
    const at::Tensor logits = model->forward(x.narrow(0, first, kBatch));
    const at::Tensor loss =
        torch::binary_cross_entropy_with_logits(logits, y.narrow(0, first, kBatch));
    sgd.zero_grad();
    reducer.backward(loss);
    sgd.step();
  }
  if (env.rank == 0) {
    std::vector<at::Tensor> out;
    std::ofstream names(dir / "cpsd.names");
    for (const auto& p : model->named_parameters()) {
      out.push_back(p.value().detach());
      names << p.key() << '\n';
    }
    for (const auto& b : model->named_buffers()) {
      out.push_back(b.value());
      names << b.key() << '\n';
    }
    torch::save(out, (dir / "cpsd.pt").string());
  }
  group->barrier();
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "cpsd_ddp_peer: %s\n", e.what());
  return 1;
}
