// SPDX-License-Identifier: Apache-2.0
// cpsd's data parallelism (GradientReducer) against PyTorch's own DistributedDataParallel:
// 2 ranks over Gloo, the same model, initial weights and batches, plain SGD (a gradient
// scaled wrongly shows in the weights) and BatchNorm that updates (buffers must come from
// rank 0 as DistributedDataParallel sends them).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include <torch/torch.h>

#include "cpsd/core/state_dict.h"
#include "test_support.h"

namespace {

constexpr int kSteps = 6;

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// Both ranks of cpsd_ddp_peer; true when both exit with 0.
bool run_peers(const std::filesystem::path& dir) {
  const std::string port = std::to_string(free_port());
  std::vector<pid_t> children;
  for (int rank = 0; rank < 2; ++rank) {
    const pid_t pid = fork();
    if (pid == 0) {
      setenv("RANK", std::to_string(rank).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      setenv("WORLD_SIZE", "2", 1);
      setenv("MASTER_ADDR", "127.0.0.1", 1);
      setenv("MASTER_PORT", port.c_str(), 1);
      execl(CPSD_TEST_DDP_PEER, CPSD_TEST_DDP_PEER, dir.c_str(), std::to_string(kSteps).c_str(),
            static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    children.push_back(pid);
  }
  bool ok = true;
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return ok;
}

std::map<std::string, at::Tensor> cpsd_result(const std::filesystem::path& dir) {
  std::vector<at::Tensor> tensors;
  torch::load(tensors, (dir / "cpsd.pt").string());
  std::ifstream names(dir / "cpsd.names");
  std::map<std::string, at::Tensor> out;
  std::string name;
  for (const at::Tensor& t : tensors) {
    std::getline(names, name);
    out[name] = t;
  }
  return out;
}

}  // namespace

TEST(DataParallel, EqualsPyTorchDistributedDataParallel) {
  cpsd::test::TempDir dir;
  const std::string script = std::string(CPSD_TEST_SOURCE_DIR) + "/tests/dist/ddp_reference.py";
  const std::string command = std::string(CPSD_TEST_PYTHON) + " " + script + " " +
                              dir.path().string() + " " + std::to_string(free_port()) + " " +
                              std::to_string(kSteps);
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  ASSERT_TRUE(run_peers(dir.path()));
  const std::map<std::string, at::Tensor> ours = cpsd_result(dir.path());
  const cpsd::StateDict reference = cpsd::read_state_dict(dir.path() / "reference.pth");
  const cpsd::StateDict init = cpsd::read_state_dict(dir.path() / "init.pth");
  ASSERT_EQ(ours.size(), reference.size());
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const auto& [name, expected] = reference[i];
    ASSERT_TRUE(ours.count(name)) << name;
    const at::Tensor got = ours.at(name).to(torch::kDouble), want = expected.to(torch::kDouble);
    EXPECT_LE((got - want).abs().max().item<double>(), 1e-6) << name;
    // Every parameter and statistic moved, so the comparison means something (but the
    // convolution's bias: BatchNorm right after it takes its gradient to 0).
    if (name != "0.bias" && name != "1.num_batches_tracked") {
      EXPECT_GT((want - init[i].second.to(torch::kDouble)).abs().max().item<double>(), 1e-3)
          << name;
    }
  }
  EXPECT_EQ(ours.at("1.num_batches_tracked").item<int64_t>(), kSteps);
}
