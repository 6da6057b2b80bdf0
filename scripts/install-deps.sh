#!/usr/bin/env bash
# Installs the Debian packages cpsd needs to build, test and run. Idempotent: packages
# already installed are skipped, and nothing runs when all are there.
set -euo pipefail

packages=(
  # toolchain
  cmake g++ make pkg-config ccache
  # LibTorch (CPU) and a fast BLAS behind it (the reference BLAS is ~10x slower)
  libtorch-dev libopenblas0-openmp
  # plugin loading, command line, configs, logging, JSON, linear algebra, tests
  libboost-dev libboost-filesystem-dev libboost-program-options-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libeigen3-dev liblapack-dev
  libgtest-dev
  # multi-process training over PyTorch c10d (Gloo)
  libgloo-dev
  # JPEG and PNG files (TurboJPEG, libpng); resizing and drawing (OpenCV core and imgproc)
  libopencv-core-dev libopencv-imgproc-dev libturbojpeg0-dev libpng-dev zlib1g-dev
  # the built-in demo dataset's source images
  dataset-fashion-mnist
  # numerical references for the tests (and the peers of the benchmarks)
  python3-numpy python3-pil python3-sklearn python3-torch python3-torchvision
  # code style and bug-prone checks: make format-check, make lint
  clang-format-14 clang-tidy-14
  # a headless browser: the tests render `cpsd report`'s page and check the screenshot
  chromium
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
