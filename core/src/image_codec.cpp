// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/image_codec.h"

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

#include <png.h>
#include <turbojpeg.h>

#include "cpsd/core/atomic_file.h"
#include "cpsd/sdk/error.h"

namespace cpsd::image {
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& why) {
  throw RuntimeError(source + ": " + why);
}

// The most pixels decoded, checked before anything is allocated: a header of a few bytes
// can declare gigapixels (OpenCV's limit is 2^30; a training image needs far fewer).
constexpr uint64_t kMaxPixels = uint64_t{1} << 28;

void check_size(uint64_t width, uint64_t height, const std::string& source) {
  if (width == 0 || height == 0)
    fail(source, "the header declares no pixels (corrupt or truncated)");
  if (width * height > kMaxPixels)
    fail(source, "declares " + std::to_string(width) + "x" + std::to_string(height) +
                     " pixels, more than cpsd decodes (2^28)");
}

bool is_jpeg(const std::vector<uint8_t>& b) { return b.size() > 3 && b[0] == 0xFF && b[1] == 0xD8; }

// libjpeg decodes a truncated JPEG into a partly grey image with only a warning: a JPEG
// must end with its end-of-image marker (within the last 4 KiB, after any trailing bytes).
bool jpeg_complete(const std::vector<uint8_t>& b) {
  const std::size_t tail = std::min<std::size_t>(b.size(), 4096);
  for (std::size_t i = b.size() - 1; i + tail >= b.size() && i >= 1; --i) {
    if (b[i - 1] == 0xFF && b[i] == 0xD9) return true;
  }
  return false;
}

bool is_png(const std::vector<uint8_t>& b) {
  return b.size() > 8 && png_sig_cmp(b.data(), 0, 8) == 0;
}

// One TurboJPEG instance per thread and direction: creating one costs more than a small
// decode, and an instance must not be shared between threads. Both directions pass
// TJFLAG_ACCURATEDCT (libjpeg's accurate integer DCT; TurboJPEG's compressor otherwise takes
// the fast one): the pixels PIL and OpenCV decode, and the bytes OpenCV's imwrite wrote.
tjhandle thread_decompressor() {
  thread_local std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitDecompress(), tjDestroy);
  if (!handle) throw RuntimeError(std::string("TurboJPEG: ") + tjGetErrorStr2(nullptr));
  return handle.get();
}

tjhandle thread_compressor() {
  thread_local std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitCompress(), tjDestroy);
  if (!handle) throw RuntimeError(std::string("TurboJPEG: ") + tjGetErrorStr2(nullptr));
  return handle.get();
}

// A non-zero TurboJPEG return is fatal unless the library calls it a warning (libjpeg's
// recoverable corruptions, which OpenCV and PIL also accept).
void check_tj(int rc, tjhandle tj, const std::string& source) {
  if (rc != 0 && tjGetErrorCode(tj) != TJERR_WARNING)
    fail(source, std::string("cannot decode JPEG: ") + tjGetErrorStr2(tj));
}

// Adobe CMYK JPEGs store inverted ink: each colour is ink * black / 255.
cv::Mat cmyk_to_colour(const cv::Mat& cmyk, Order order) {
  cv::Mat out(cmyk.rows, cmyk.cols, CV_8UC3);
  for (int y = 0; y < cmyk.rows; ++y) {
    const uint8_t* in = cmyk.ptr<uint8_t>(y);
    uint8_t* px = out.ptr<uint8_t>(y);
    for (int x = 0; x < cmyk.cols; ++x, in += 4, px += 3) {
      const int k = in[3];
      const uint8_t r = static_cast<uint8_t>(in[0] * k / 255);
      const uint8_t g = static_cast<uint8_t>(in[1] * k / 255);
      const uint8_t b = static_cast<uint8_t>(in[2] * k / 255);
      px[0] = order == Order::rgb ? r : b;
      px[1] = g;
      px[2] = order == Order::rgb ? b : r;
    }
  }
  return out;
}

cv::Mat decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& source, Order order,
                    int reduction) {
  if (!jpeg_complete(bytes)) fail(source, "truncated JPEG (no end-of-image marker)");
  tjhandle tj = thread_decompressor();
  int width = 0, height = 0, subsampling = 0, colourspace = 0;
  if (tjDecompressHeader3(tj, bytes.data(), bytes.size(), &width, &height, &subsampling,
                          &colourspace) != 0)
    fail(source, std::string("cannot read the JPEG header: ") + tjGetErrorStr2(tj));
  const tjscalingfactor factor{1, reduction};
  const int w = TJSCALED(width, factor), h = TJSCALED(height, factor);
  check_size(static_cast<uint64_t>(w), static_cast<uint64_t>(h), source);
  const bool cmyk = colourspace == TJCS_CMYK || colourspace == TJCS_YCCK;
  const int format = cmyk ? TJPF_CMYK : order == Order::rgb ? TJPF_RGB : TJPF_BGR;
  cv::Mat out(h, w, cmyk ? CV_8UC4 : CV_8UC3);
  check_tj(tjDecompress2(tj, bytes.data(), bytes.size(), out.data, w, static_cast<int>(out.step), h,
                         format, TJFLAG_ACCURATEDCT),
           tj, source);
  return cmyk ? cmyk_to_colour(out, order) : out;
}

// libpng reports errors by longjmp; the handler carries the message out.
struct PngError {
  std::jmp_buf jump;
  std::string message;
};

void on_png_error(png_structp png, png_const_charp message) {
  auto* error = static_cast<PngError*>(png_get_error_ptr(png));
  error->message = message;
  std::longjmp(error->jump, 1);
}

void on_png_warning(png_structp, png_const_charp) {}

struct PngSource {
  const std::vector<uint8_t>* bytes;
  std::size_t offset;
};

void read_png_bytes(png_structp png, png_bytep out, png_size_t count) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (count > source->bytes->size() - source->offset) png_error(png, "the file ends early");
  std::memcpy(out, source->bytes->data() + source->offset, count);
  source->offset += count;
}

// Palette, grey, 16-bit and alpha all become 8-bit three-channel colour (the high byte of
// 16-bit samples, alpha dropped): what OpenCV's IMREAD_COLOR and PIL's convert("RGB") give.
void set_png_transforms(png_structp png, png_infop info, Order order) {
  png_set_expand(png);
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  const png_byte type = png_get_color_type(png, info);
  if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  if (order == Order::bgr) png_set_bgr(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
}

// The read structures of one decode, destroyed however it ends.
struct PngReader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngReader() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

cv::Mat decode_png(const std::vector<uint8_t>& bytes, const std::string& source, Order order) {
  PngError error;
  PngReader r;
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &error, on_png_error, on_png_warning);
  r.info = r.png ? png_create_info_struct(r.png) : nullptr;
  if (!r.info) fail(source, "cannot decode PNG: out of memory");
  PngSource input{&bytes, 0};
  cv::Mat out;
  std::vector<png_bytep> rows;
  if (setjmp(error.jump)) fail(source, "cannot decode PNG: " + error.message);
  png_set_read_fn(r.png, &input, read_png_bytes);
  png_read_info(r.png, r.info);
  set_png_transforms(r.png, r.info, order);
  const png_uint_32 width = png_get_image_width(r.png, r.info);
  const png_uint_32 height = png_get_image_height(r.png, r.info);
  check_size(width, height, source);
  out.create(static_cast<int>(height), static_cast<int>(width), CV_8UC3);
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = out.ptr<png_byte>(static_cast<int>(y));
  png_read_image(r.png, rows.data());
  png_read_end(r.png, nullptr);
  return out;
}

void write_png_bytes(png_structp png, png_bytep data, png_size_t count) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + count);
}

void flush_nothing(png_structp) {}

void write_bytes(const std::filesystem::path& file, const std::vector<uint8_t>& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw RuntimeError("cannot write " + file.string() + " (disk full or no permission)");
}

}  // namespace

cv::Mat decode(const std::vector<uint8_t>& bytes, const std::string& source, Order order,
               int reduction) {
  if (reduction != 1 && reduction != 2 && reduction != 4 && reduction != 8)
    fail(source, "the JPEG reduction must be 1, 2, 4 or 8, not " + std::to_string(reduction));
  if (is_jpeg(bytes)) return decode_jpeg(bytes, source, order, reduction);
  if (is_png(bytes)) return decode_png(bytes, source, order);
  fail(source, "not a JPEG or PNG file (the formats cpsd reads; convert other images first)");
}

int jpeg_reduction_for(const std::vector<uint8_t>& bytes, int64_t min_side) {
  int width = 0, height = 0, subsampling = 0, colourspace = 0;
  if (!is_jpeg(bytes) || tjDecompressHeader3(thread_decompressor(), bytes.data(), bytes.size(),
                                             &width, &height, &subsampling, &colourspace) != 0)
    return 1;
  const int64_t shortest = std::min(width, height);
  for (int r : {8, 4, 2}) {
    if (shortest >= r * min_side) return r;
  }
  return 1;
}

cv::Mat read(const std::filesystem::path& file, Order order, int64_t min_side) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file.string(), "cannot open (missing file or no permission)");
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  if (bytes.empty()) fail(file.string(), "empty file");
  return decode(bytes, file.string(), order,
                min_side > 0 ? jpeg_reduction_for(bytes, min_side) : 1);
}

std::vector<uint8_t> encode_png(const cv::Mat& image, Order order) {
  if (image.type() != CV_8UC1 && image.type() != CV_8UC3)
    throw RuntimeError("encode_png: needs an 8-bit grey or three-channel image");
  std::vector<uint8_t> bytes;
  PngError error;
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, &error, on_png_error, on_png_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw RuntimeError("encode_png: out of memory");
  }
  if (setjmp(error.jump)) {
    png_destroy_write_struct(&png, &info);
    throw RuntimeError("encode_png: " + error.message);
  }
  png_set_write_fn(png, &bytes, write_png_bytes, flush_nothing);
  const int type = image.channels() == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB;
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.cols),
               static_cast<png_uint_32>(image.rows), 8, type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 6);
  png_write_info(png, info);
  if (order == Order::bgr && image.channels() == 3) png_set_bgr(png);
  for (int y = 0; y < image.rows; ++y) png_write_row(png, image.ptr<png_byte>(y));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return bytes;
}

std::vector<uint8_t> encode_jpeg(const cv::Mat& image, Order order, int quality) {
  if (image.type() != CV_8UC3)
    throw RuntimeError("encode_jpeg: needs an 8-bit three-channel image");
  if (quality < 1 || quality > 100)
    throw RuntimeError("encode_jpeg: quality must be in 1..100, not " + std::to_string(quality));
  tjhandle tj = thread_compressor();
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const int format = order == Order::rgb ? TJPF_RGB : TJPF_BGR;
  if (tjCompress2(tj, image.data, image.cols, static_cast<int>(image.step), image.rows, format,
                  &buffer, &size, TJSAMP_420, quality, TJFLAG_ACCURATEDCT) != 0) {
    tjFree(buffer);
    throw RuntimeError(std::string("encode_jpeg: ") + tjGetErrorStr2(tj));
  }
  std::vector<uint8_t> bytes(buffer, buffer + size);
  tjFree(buffer);
  return bytes;
}

void write_png(const std::filesystem::path& file, const cv::Mat& image, Order order) {
  write_bytes(file, encode_png(image, order));
}

void write_jpeg(const std::filesystem::path& file, const cv::Mat& image, Order order, int quality) {
  write_bytes(file, encode_jpeg(image, order, quality));
}

void write_png_atomically(const std::filesystem::path& file, const cv::Mat& image, Order order) {
  const std::vector<uint8_t> bytes = encode_png(image, order);
  write_file_atomically(
      file, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace cpsd::image
