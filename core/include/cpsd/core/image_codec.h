// SPDX-License-Identifier: Apache-2.0
// JPEG and PNG files to and from OpenCV matrices: libjpeg-turbo's TurboJPEG API (with its
// reduced-size decoding) and libpng, so that OpenCV is needed only for its core and imgproc.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "cpsd/core/export.h"

namespace cpsd::image {

/// Channel order of a three-channel 8-bit matrix: RGB for tensors, BGR for OpenCV's drawing.
enum class Order { rgb, bgr };

/// Decodes a JPEG or PNG held in memory into a CV_8UC3 matrix in `order`. Grey, palette,
/// 16-bit and CMYK sources become 8-bit colour; an alpha channel is dropped (not blended).
/// `reduction` (1, 2, 4 or 8) asks JPEG's DCT-domain downscaling for a 1/reduction image
/// (each side rounded up); a PNG ignores it. Throws RuntimeError naming `source` when the
/// bytes are neither format, are corrupt or truncated (a JPEG without its end-of-image
/// marker, which libjpeg would fill with grey), or the reduction is not one of those four.
CPSD_CORE_API cv::Mat decode(const std::vector<uint8_t>& bytes, const std::string& source,
                             Order order, int reduction = 1);

/// The largest JPEG reduction (8, 4 or 2) that keeps the image's shorter side at least
/// `min_side` pixels; 1 for a PNG, a smaller JPEG or an unreadable header.
CPSD_CORE_API int jpeg_reduction_for(const std::vector<uint8_t>& bytes, int64_t min_side);

/// The file's bytes, then decode(), at jpeg_reduction_for(min_side) when `min_side` > 0.
/// Throws RuntimeError naming the file when it cannot be opened, is empty, or cannot be
/// decoded.
CPSD_CORE_API cv::Mat read(const std::filesystem::path& file, Order order, int64_t min_side = 0);

/// PNG (zlib level 6) of a CV_8UC1 grey or CV_8UC3 matrix in `order`. Throws RuntimeError
/// for other types.
CPSD_CORE_API std::vector<uint8_t> encode_png(const cv::Mat& image, Order order);

/// Baseline JPEG (4:2:0, standard Huffman tables) of a CV_8UC3 matrix in `order` at
/// `quality` 1..100. Throws RuntimeError for other types or qualities.
CPSD_CORE_API std::vector<uint8_t> encode_jpeg(const cv::Mat& image, Order order, int quality);

/// encode_png / encode_jpeg written straight to `file` (not atomically: for files inside a
/// directory that is itself built atomically; see atomic_file.h otherwise). Throws
/// RuntimeError naming the file when it cannot be written.
CPSD_CORE_API void write_png(const std::filesystem::path& file, const cv::Mat& image, Order order);
CPSD_CORE_API void write_jpeg(const std::filesystem::path& file, const cv::Mat& image, Order order,
                              int quality);

/// encode_png written to `file` atomically (write_file_atomically): readers see the old
/// picture or the new one. Throws RuntimeError naming the file.
CPSD_CORE_API void write_png_atomically(const std::filesystem::path& file, const cv::Mat& image,
                                        Order order);

}  // namespace cpsd::image
