// SPDX-License-Identifier: Apache-2.0
// Reading PyTorch files written by Python's torch.save, safetensors, exporting back, and
// numerical parity with torchvision's ResNets.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include <torch/torch.h>

#include "cpsd/core/model.h"
#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/core/state_dict.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

class Weights : public test::SharedFixture<Weights> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    dir_ = new test::TempDir();
    const std::string cmd = std::string(CPSD_TEST_PYTHON) + " " +
                            (test::source_dir() / "tests/weights/make_fixtures.py").string() + " " +
                            dir_->path().string() + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "python3-torch is needed (scripts/install-deps.sh)";
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path file(const char* name) { return dir_->path() / name; }
  static test::TempDir* dir_;
};
test::TempDir* Weights::dir_ = nullptr;

std::map<std::string, at::Tensor> as_map(const StateDict& sd) {
  std::map<std::string, at::Tensor> m;
  for (const auto& [k, v] : sd) m[k] = v;
  return m;
}

void expect_reference(const StateDict& sd) {
  auto m = as_map(sd);
  ASSERT_EQ(m.size(), 7u);
  EXPECT_TRUE(at::equal(m["conv.weight"], at::arange(24, at::kFloat).reshape({2, 3, 2, 2})));
  EXPECT_TRUE(at::equal(m["bn.running_mean"], at::tensor({1.5f, -2.0f})));
  EXPECT_EQ(m["bn.num_batches_tracked"].item<int64_t>(), 7);
  EXPECT_EQ(m["half"].scalar_type(), at::kHalf);
  EXPECT_TRUE(at::equal(m["half"].to(at::kFloat), at::arange(6, at::kFloat).reshape({2, 3})));
  EXPECT_TRUE(at::equal(m["transposed"], at::arange(6, at::kFloat).reshape({2, 3}).t()));
  EXPECT_TRUE(at::equal(m["view_a"], at::tensor({2.0f, 3.0f, 4.0f})));
  EXPECT_TRUE(at::equal(m["view_b"], at::tensor({5.0f, 6.0f, 7.0f, 8.0f, 9.0f})));
  EXPECT_EQ(sd.front().first, "conv.weight");  // file order kept
}

TEST_F(Weights, OrderedDictStateDict) { expect_reference(read_state_dict(file("plain.pth"))); }

TEST_F(Weights, NestedCheckpointsWithPythonObjectsAndPrefixes) {
  expect_reference(read_state_dict(file("nested.pth")));
  expect_reference(read_state_dict(file("q2l_style.pkl")));
  expect_reference(read_state_dict(file("nested.pth"), "model"));
  EXPECT_THROW(read_state_dict(file("nested.pth"), "state_dict_ema"), ConfigError);
}

TEST_F(Weights, Safetensors) {
  auto m = as_map(read_state_dict(file("weights.safetensors")));
  EXPECT_TRUE(at::equal(m["conv.weight"], at::arange(24, at::kFloat).reshape({2, 3, 2, 2})));
  EXPECT_EQ(m["bn.num_batches_tracked"].item<int64_t>(), 7);
}

TEST_F(Weights, ClearErrors) {
  auto error = [](const std::filesystem::path& p) {
    try {
      read_state_dict(p);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error(file("legacy.pth")).find("scripts/convert_checkpoint.py"), std::string::npos);
  EXPECT_NE(error(file("module.pth")).find("pickled Python object"), std::string::npos);
  const std::string bytes = test::read_file(file("plain.pth"));
  test::write_file(file("cut.pth"), bytes.substr(0, bytes.size() / 2));
  EXPECT_NE(error(file("cut.pth")).find("cut.pth"), std::string::npos);
  const std::string st = test::read_file(file("weights.safetensors"));
  test::write_file(file("cut.safetensors"), st.substr(0, st.size() - 10));
  EXPECT_NE(error(file("cut.safetensors")).find("truncated"), std::string::npos);
  test::write_file(file("text.pth"), "hello");
  EXPECT_NE(error(file("text.pth")).find("not a PyTorch"), std::string::npos);
  EXPECT_NE(error(file("absent.pth")).find("not found"), std::string::npos);
}

// The ConfigError reading `p` gives, after checking that it names the file and came at once:
// the hostile files declare sizes like 2^40 elements, which would crash or stall an
// allocation, and nest a million deep, which would overflow the stack of a recursion.
std::string refusal(const std::filesystem::path& p) {
  return test::prompt_refusal<ConfigError>([&] { read_state_dict(p); }, p.string() + ": ");
}

void expect_refused(const std::filesystem::path& p, const std::string& says) {
  const std::string what = refusal(p);
  EXPECT_NE(what.find(says), std::string::npos)
      << p.filename() << " should be refused with '" << says << "'; got: " << what;
}

TEST_F(Weights, PickleGlobalsOutsideTheAllowListAreRefusedByName) {
  // torch.save of a checkpoint holding a payload: GLOBAL posix.system + REDUCE.
  expect_refused(file("evil_reduce.pth"), "pickle asks for global posix.system; only tensor");
  // Protocol 4: STACK_GLOBAL.
  expect_refused(file("evil_stack_global.pth"), "pickle asks for global builtins.eval");
  expect_refused(file("evil_os_system.pth"),
                 "pickle asks for global os.system; only tensor rebuild functions");
  expect_refused(file("evil_inst.pth"), "pickle asks for global subprocess.Popen");    // INST
  expect_refused(file("evil_obj.pth"), "pickle asks for global builtins.eval");        // OBJ
  expect_refused(file("evil_newobj.pth"), "pickle asks for global subprocess.Popen");  // + BUILD
  // A call of a string that spells a rebuild function: data never becomes an action.
  expect_refused(file("evil_string_call.pth"), "REDUCE of a str, not of a global");
  expect_refused(file("module.pth"), "holds a pickled Python object (torch.nn.modules.linear");
}

TEST_F(Weights, PlainPythonDataBesideTheTensorsLoads) {
  // argparse.Namespace holding a pathlib.Path and a set, a numpy float64, torch.device,
  // torch.float16, bytes, an int beyond int64, torch.Size.
  expect_reference(read_state_dict(file("data_objects.pth")));
  expect_reference(read_state_dict(file("protocol4.pth")));  // FRAME, MEMOIZE, STACK_GLOBAL
}

TEST_F(Weights, PicklesTooDeepCyclicOrLargeAreRefused) {
  expect_refused(file("deep.pth"), "pickle nests containers more than 256 deep");  // 10^6 lists
  expect_refused(file("cycle.pth"), "pickle holds a container that holds itself");
  expect_refused(file("many_values.pth"), "pickle holds more than 2097152 values");
  expect_refused(file("many_memo.pth"), "pickle memoizes more than 2097152 values");
  expect_refused(file("laughs.pth"), "once nested dicts are expanded");  // 2^40 paths
}

TEST_F(Weights, ZipEntriesThatClimbOutLieOrRepeatAreRefused) {
  expect_reference(read_state_dict(file("zip_deflated.pth")));  // re-zipped with deflate
  expect_reference(read_state_dict(file("zip64.pth")));         // zip64 records, as > 4 GiB files
  expect_refused(file("zip_climb.pth"), "'plain/../../../home/user/.bashrc' climbs out");
  expect_refused(file("zip_parent.pth"), "zip entry name '../x' climbs out of the archive");
  expect_refused(file("zip_absolute.pth"), "zip entry name '/etc/cron.d/x' is an absolute path");
  expect_refused(file("zip_duplicate.pth"), "two entries named plain/data/0 and plain/DATA/0");
  expect_refused(file("zip_bomb.pth"), "declares 4294967280 bytes from");
  expect_refused(file("zip64_bomb.pth"), "more than deflate can expand to");  // 2^40 bytes
  expect_refused(file("zip_stored_sizes.pth"), "is stored with two different sizes");
}

TEST_F(Weights, TensorGeometryMustLieInsideItsStorage) {
  // Each file: one tensor on a storage of 10 floats.
  expect_refused(file("past_storage.pth"), "reaches past the end of its storage (10 elements)");
  expect_refused(file("huge_shape.pth"),
                 "has 1099511627776 elements, more than its storage holds (10)");
  expect_refused(file("overflow_shape.pth"), "its element count overflows int64");
  expect_refused(file("expanded.pth"), "more than its storage holds");  // 2^40 x stride 0
  expect_refused(file("negative_size.pth"), "has a negative size");
  expect_refused(file("negative_stride.pth"), "has a negative stride");
  expect_refused(file("negative_offset.pth"), "has a negative storage offset");
  expect_refused(file("stride_overflow.pth"), "reaches past the end of its storage");
  expect_refused(file("size_stride_lengths.pth"), "a size and stride of different lengths");
}

TEST_F(Weights, StoragesSharedTruncatedMissingOrMisnamed) {
  // Four views of one storage 0..9, as torch.save writes views: all legitimate.
  auto m = as_map(read_state_dict(file("shared_storage.pth")));
  const at::Tensor base = at::arange(10, at::kFloat);
  EXPECT_TRUE(at::equal(m["a"], base.slice(0, 0, 3)));
  EXPECT_TRUE(at::equal(m["b"], base.as_strided({2, 3}, {1, 2}, 2)));
  EXPECT_TRUE(at::equal(m["c"], base.reshape({2, 5}).t()));
  EXPECT_EQ(m["d"].numel(), 0);
  EXPECT_TRUE(m["a"].is_alias_of(m["b"]));  // shared, as in torch.load
  expect_refused(file("truncated_storage.pth"),
                 "tensor data data/0 holds 40 bytes, fewer than its storage's 20 elements");
  expect_refused(file("huge_storage.pth"), "fewer than its storage's 1099511627776 elements");
  expect_refused(file("missing_storage.pth"), "missing tensor data data/7");
  expect_refused(file("storage_key.pth"), "storage key '../../../etc/passwd' is not a plain name");
  expect_refused(file("storage_types.pth"), "storage 0 is used as both torch.FloatStorage and");
}

// A safetensors file: its header's length (or `length`), the header, the data.
void write_safetensors(const std::filesystem::path& p, const std::string& header,
                       const std::string& data, uint64_t length = 0) {
  if (length == 0) length = header.size();
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  test::write_file(p, bytes + header + data);
}

TEST_F(Weights, SafetensorsHeadersThatLieAreRefused) {
  const std::string data(24, '\0');
  auto refused = [&](const char* name, const std::string& header, const std::string& says,
                     uint64_t length = 0) {
    write_safetensors(file(name), header, data, length);
    expect_refused(file(name), says);
  };
  refused("long.safetensors", "{}", "safetensors header length 1099511627776 is larger than",
          uint64_t{1} << 40);
  refused("text.safetensors", "{not json", "safetensors header is not JSON");
  refused("array.safetensors", "[1, 2]", "safetensors header is not a JSON object");
  refused("entry.safetensors", R"({"w": 3})", "tensor w: its header entry is not a JSON object");
  refused("outside.safetensors",
          R"({"w": {"dtype": "F32", "shape": [274877906944], "data_offsets": [0, 1099511627776]}})",
          "tensor w data_offsets [0, 1099511627776] reach past the end of the file (24 data");
  refused("inconsistent.safetensors",
          R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}})",
          "tensor w data_offsets [0, 8] hold 8 bytes, but F32 x its shape needs 16");
  refused("backwards.safetensors",
          R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})",
          "end before they begin");
  refused("overlap.safetensors",
          R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
              "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})",
          "tensors a and b overlap in the file");
  refused("dtype.safetensors", R"({"w": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 1]}})",
          "tensor w has unsupported dtype \"Q7\"");
  refused("negative.safetensors",
          R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})",
          "tensor w has a negative size in its shape");
  refused("overflow.safetensors",
          R"({"w": {"dtype": "F32", "shape": [1099511627776, 1099511627776, 1099511627776],
                    "data_offsets": [0, 0]}})",
          "tensor w: the element count of its shape overflows int64");
  refused("no_shape.safetensors", R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})",
          "tensor w has no shape");
  refused("offsets.safetensors",
          R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": ["0", 4]}})",
          "tensor w has no data_offsets (two non-negative integers)");
  // What the checks leave: a valid file with two tensors, one empty, in any header order.
  write_safetensors(file("ok.safetensors"),
                    R"({"z": {"dtype": "I64", "shape": [0, 3], "data_offsets": [16, 16]},
                        "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}})",
                    data.substr(0, 16));
  auto m = as_map(read_state_dict(file("ok.safetensors")));
  EXPECT_TRUE(at::equal(m["a"], at::zeros({2, 2})));
  EXPECT_EQ(m["z"].sizes(), (std::vector<int64_t>{0, 3}));
}

TEST_F(Weights, LoadReportAndExportRoundTrip) {
  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 2, 2)),
                            torch::nn::BatchNorm2d(2));
  StateDict sd = {{"0.weight", at::ones({2, 3, 2, 2})},
                  {"0.bias", at::zeros({3})},
                  {"1.weight", at::full({2}, 2.0)},
                  {"extra", at::zeros({1})}};
  const LoadReport r = load_state_dict(*net, sd);
  EXPECT_EQ(r.matched, (std::vector<std::string>{"0.weight", "1.weight"}));
  EXPECT_EQ(r.unexpected, std::vector<std::string>{"extra"});
  ASSERT_EQ(r.mismatched.size(), 1u);
  EXPECT_NE(r.mismatched[0].find("0.bias"), std::string::npos);
  EXPECT_EQ(r.missing, (std::vector<std::string>{"1.bias", "1.running_mean", "1.running_var"}));
  export_state_dict(*net, file("export.pth"));
  const auto back = as_map(read_state_dict(file("export.pth")));
  for (const auto& p : net->named_parameters())
    EXPECT_TRUE(at::equal(back.at(p.key()), p.value())) << p.key();
  for (const auto& b : net->named_buffers())
    EXPECT_TRUE(at::equal(back.at(b.key()), b.value())) << b.key();
  // Python's torch.load reads it as a dict of tensors with the same values.
  const std::string cmd = std::string(CPSD_TEST_PYTHON) + " -c \"import torch; d = torch.load('" +
                          file("export.pth").string() +
                          "'); assert isinstance(d, dict) and d['0.weight'].sum().item() == 24 and "
                          "d['1.num_batches_tracked'].dtype == torch.int64\"";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

class Parity : public Weights {
 public:  // make_shared() is called by test::make_shared_once
  void SetUp() override { test::make_shared_once<Parity>(); }
  static void make_shared() {
    Weights::make_shared();
    const std::string cmd = std::string(CPSD_TEST_PYTHON) + " " +
                            (test::source_dir() / "tests/weights/make_fixtures.py").string() + " " +
                            dir_->path().string() + " parity 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "python3-torchvision is needed";
    manager_ = new PluginManager();
    manager_->load({{test::plugin_dir(), "test"}});
  }
  static void TearDownTestSuite() {
    delete manager_;
    Weights::TearDownTestSuite();
  }
  static PluginManager* manager_;
};
PluginManager* Parity::manager_ = nullptr;

void expect_same_outputs(const std::string& arch, const std::filesystem::path& dir,
                         const Registry& registry) {
  const RunConfig config =
      RunConfig::parse("[runtime]\nthreads = 0\n[model]\nhead = \"linear\"\nbackbone = \"" + arch +
                           "\"\npretrained = \"" + (dir / (arch + ".pth")).string() + "\"\n",
                       "parity.toml", {}, registry);
  std::vector<std::string> names(1000, "c");
  auto model = build_model(config, registry, names);
  model->eval();
  auto io = as_map(read_state_dict(dir / (arch + "_io.pth")));
  torch::NoGradGuard no_grad;
  for (const char* size : {"224x224", "160x224"}) {
    const at::Tensor y = model->forward(io[std::string("x_") + size]);
    const double diff = (y - io[std::string("y_") + size]).abs().max().item<double>();
    EXPECT_LT(diff, 1e-4) << arch << " at " << size;
  }
}

TEST_F(Parity, Resnet101MatchesTorchvision) {
  expect_same_outputs("resnet101", dir_->path(), manager_->registry());
}
TEST_F(Parity, Resnext50MatchesTorchvision) {
  expect_same_outputs("resnext50_32x4d", dir_->path(), manager_->registry());
}

}  // namespace
}  // namespace cpsd

namespace cpsd {
namespace {

TEST(PredictParity, TorchvisionClassifierGivesPyTorchsScores) {
  test::TempDir tmp;
  const std::string cmd = std::string(CPSD_TEST_PYTHON) + " " +
                          (test::source_dir() / "tests/weights/make_fixtures.py").string() + " " +
                          tmp.path().string() + " predict 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  // No [data]: the input the backbone's weights expect (224, ImageNet's mean and std).
  test::write_file(tmp / "r18.toml",
                   "[model]\nbackbone = \"resnet18\"\nhead = \"linear\"\nnum_classes = 1000\n");
  const auto r = test::run_cpsd({"predict", "--config", (tmp / "r18.toml").string(), "--pretrained",
                                 (tmp / "resnet18.pth").string(), "--out", (tmp / "p.csv").string(),
                                 (tmp / "image.png").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("backbone 120 matched, 0 missing"), std::string::npos)
      << r.err;  // the load report
  std::stringstream csv(test::read_file(tmp / "p.csv"));
  std::string header, row;
  std::getline(csv, header);
  std::getline(csv, row);
  std::stringstream cells(row);
  std::string cell;
  std::getline(cells, cell, ',');  // the image path
  std::stringstream expected(test::read_file(tmp / "scores.txt"));
  for (int c = 0; c < 20; ++c) {
    double theirs = 0;
    expected >> theirs;
    std::getline(cells, cell, ',');
    EXPECT_NEAR(std::stod(cell), theirs, 1e-5) << "class " << c;
  }
}

}  // namespace
}  // namespace cpsd
