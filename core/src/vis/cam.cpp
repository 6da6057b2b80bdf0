// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/vis/cam.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <torch/nn/functional/upsampling.h>
#include <opencv2/imgproc.hpp>

#include "cpsd/core/image_codec.h"
#include "cpsd/sdk/error.h"

namespace cpsd::vis {
namespace {

cv::Mat to_mat(const at::Tensor& map) {  // [H, W] in [0, 1] -> CV_8UC1
  const at::Tensor bytes = (map.clamp(0, 1) * 255).round().to(at::kByte).contiguous().cpu();
  return cv::Mat(static_cast<int>(bytes.size(0)), static_cast<int>(bytes.size(1)), CV_8UC1,
                 bytes.data_ptr<uint8_t>())
      .clone();
}

}  // namespace

ActivationMap activation_map(MultiLabelModel& model, const at::Tensor& input, int64_t class_index) {
  TORCH_CHECK(input.dim() == 4 && input.size(0) == 1,
              "activation_map: expected one image [1, 3, H, W]");
  TORCH_CHECK(class_index >= 0 && class_index < model.num_classes(), "activation_map: class ",
              class_index, " outside the model's ", model.num_classes());
  model.eval();
  std::vector<at::Tensor> features;
  {
    at::NoGradGuard no_grad;
    features = model.backbone().forward_features(input);
  }
  at::Tensor deepest = features.back().detach().requires_grad_(true);
  features.back() = deepest;
  const at::Tensor logits = model.head().forward(features);
  ActivationMap out;
  out.score = at::sigmoid(logits[0][class_index]).item<double>();
  at::Tensor weights = model.head().class_activation_weights();  // [classes, C], or none: Grad-CAM
  if (weights.defined()) {
    TORCH_CHECK(weights.dim() == 2 && weights.size(0) == model.num_classes() &&
                    weights.size(1) == deepest.size(1),
                "activation_map: the head's class activation weights are ", weights.sizes(),
                ", not [", model.num_classes(), ", ", deepest.size(1), "]");
    weights = weights[class_index].detach();
  } else {
    logits[0][class_index].backward();
    weights = deepest.grad()[0].mean({1, 2});
  }
  at::NoGradGuard no_grad;
  at::Tensor cam = at::relu((weights.view({-1, 1, 1}) * deepest.detach()[0]).sum(0));  // [h, w]
  cam = torch::nn::functional::interpolate(
      cam.unsqueeze(0).unsqueeze(0), torch::nn::functional::InterpolateFuncOptions()
                                         .size(std::vector<int64_t>{input.size(2), input.size(3)})
                                         .mode(torch::kBilinear)
                                         .align_corners(false))[0][0];
  const double top = cam.max().item<double>();
  out.map = (top > 0 ? cam / top : at::zeros_like(cam)).to(at::kCPU, at::kFloat);
  return out;
}

void write_map_png(const std::filesystem::path& png, const ActivationMap& map) {
  image::write_png_atomically(png, to_mat(map.map), image::Order::bgr);
}

void write_panel_grid(const std::filesystem::path& png, const std::vector<Panel>& panels,
                      int columns, int height) {
  if (panels.empty() || columns < 1) throw RuntimeError("no panels to draw");
  constexpr int kLine = 17, kGap = 6;
  std::size_t lines = 1;
  for (const Panel& p : panels)
    lines = std::max<std::size_t>(lines, 1 + std::count(p.caption.begin(), p.caption.end(), '\n'));
  const int kCaption = 8 + kLine * static_cast<int>(lines);
  std::vector<cv::Mat> tiles;
  int width = 0;
  for (const Panel& p : panels) {
    cv::Mat picture = image::read(p.image_path, image::Order::bgr);
    const int w =
        std::max(1, picture.cols * height / std::max(1, picture.rows));  // keep the aspect
    cv::resize(picture, picture, cv::Size(w, height), 0, 0, cv::INTER_AREA);
    cv::Mat heat;
    cv::resize(to_mat(p.map.map), heat, picture.size(), 0, 0, cv::INTER_LINEAR);
    cv::applyColorMap(heat, heat, cv::COLORMAP_JET);
    cv::Mat tile(height + kCaption, w, CV_8UC3, cv::Scalar(255, 255, 255));
    cv::addWeighted(picture, 0.55, heat, 0.45, 0, tile(cv::Rect(0, 0, w, height)));
    std::size_t start = 0;
    for (int line = 0; start <= p.caption.size(); ++line) {  // one caption line per '\n'
      const std::size_t end = std::min(p.caption.find('\n', start), p.caption.size());
      cv::putText(tile, p.caption.substr(start, end - start),
                  cv::Point(4, height + 4 + kLine * (line + 1)), cv::FONT_HERSHEY_SIMPLEX, 0.45,
                  cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
      start = end + 1;
    }
    width = std::max(width, w);
    tiles.push_back(tile);
  }
  const int rows = (static_cast<int>(tiles.size()) + columns - 1) / columns;
  cv::Mat grid(rows * (height + kCaption + kGap) + kGap, columns * (width + kGap) + kGap, CV_8UC3,
               cv::Scalar(255, 255, 255));
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const int r = static_cast<int>(i) / columns, c = static_cast<int>(i) % columns;
    tiles[i].copyTo(grid(cv::Rect(kGap + c * (width + kGap), kGap + r * (height + kCaption + kGap),
                                  tiles[i].cols, tiles[i].rows)));
  }
  image::write_png_atomically(png, grid, image::Order::bgr);
}

}  // namespace cpsd::vis
