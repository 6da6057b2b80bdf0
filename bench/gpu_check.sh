#!/usr/bin/env bash
# GPU check: on a machine with an NVIDIA GPU, builds cpsd's model, loss and mixed-precision
# code against the machine's CUDA LibTorch (from its PyTorch), runs the CUDA tests, and
# measures ResNet101 training images/s at 448 against the same step in the machine's
# PyTorch (same batch, channels-last, autocast on both), in one run of a few minutes.
# On a machine without a GPU it says so and exits 0.
# toml++'s headers come from Debian's libtomlplusplus-dev .deb in .gpu-deps/
# (scripts/fetch-gpu-deps.sh fetches it) when the machine lacks them.
# With .bundle/ (scripts/bundle/fetch.sh) beside the source it then builds and checks the
# whole host with scripts/bundle/build.sh.
# usage: bench/gpu_check.sh [BATCH] [PRECISION: bf16|fp16]
set -euo pipefail
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check: no NVIDIA GPU on this machine; nothing to do"
  exit 0
fi
root=$(cd "$(dirname "$0")/.." && pwd)
batch=${1:-32}
precision=${2:-bf16}
work=${CPSD_GPU_WORK:-/tmp/cpsd-gpu}
mkdir -p "$work/deps"
for deb in "$root"/.gpu-deps/*.deb; do [[ -f $deb ]] && dpkg -x "$deb" "$work/deps"; done
python=$(command -v python3)
torch_dir=$("$python" -c 'import os, torch; print(os.path.join(torch.utils.cmake_prefix_path, "Torch"))')
nvidia-smi -L
"$python" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda)'
cmake -S "$root/bench/gpu" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DTorch_DIR="$torch_dir" \
  -DCPSD_EXTRA_INCLUDE="$work/deps/usr/include" >"$work/configure.log" 2>&1 || { tail -30 "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j "$(nproc)" >"$work/build.log" 2>&1 || { grep -E "error" -A3 "$work/build.log" | head -40; exit 1; }
echo "== CUDA tests =="
"$work/build/cpsd_gpu_check" tests
echo "== ResNet101 training step at 448, batch $batch, $precision autocast =="
ours=$("$work/build/cpsd_gpu_check" bench "$batch" 448 20 "$precision")
theirs=$("$python" "$root/bench/gpu/torch_step.py" "$batch" 448 20 "$precision")
echo "cpsd:    $ours"
echo "PyTorch: $theirs images/s"

# The whole host, when the bundle (scripts/bundle/fetch.sh) came with the source: built in a
# private prefix against this PyTorch's LibTorch, its libraries checked, ctest, the demo on CUDA.
if [[ -d $root/.bundle/debs ]]; then
  echo "== the whole host (scripts/bundle/build.sh) =="
  PYTHON="$python" "$root/scripts/bundle/build.sh" "$root/.bundle" "$work/host"
else
  echo "== the whole host: skipped, no .bundle/ (run scripts/bundle/fetch.sh where apt works) =="
fi
