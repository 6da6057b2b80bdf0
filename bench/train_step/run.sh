#!/usr/bin/env bash
# Training-step throughput: cpsd's ResNet plugins against torchvision's models in PyTorch
# (Debian's python3-torch, the same LibTorch build), same batch, size and threads, in the
# same run. Forward + summed ASL loss + backward + Adam step on random data.
# usage: bench/train_step/run.sh [BUILD_DIR] [THREADS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
threads=${2:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf "%-34s %10s %10s %8s\n" "model (batch, size)" "cpsd img/s" "torch img/s" ratio
run() {  # name backbone overrides batch size steps torch_arch
  local name=$1 backbone=$2 extra=$3 batch=$4 size=$5 steps=$6 arch=$7
  printf '[model]\nbackbone = "%s"\nhead = "linear"\nnum_classes = 80\ninput_size = %s\n[train]\nloss = "asl"\n[runtime]\nthreads = %s\n%s\n' \
    "$backbone" "$size" "$threads" "$extra" >"$work/m.toml"
  ours=$("$build/bin/cpsd" model bench --config "$work/m.toml" --batch "$batch" --steps "$steps" --warmup 2 \
    --log-level warn | sed -E 's/.*, ([0-9.]+) images\/s/\1/')
  theirs=$(/usr/bin/python3 "$here/torch_step.py" "$arch" "$batch" "$size" "$threads" "$steps" 2 80)
  printf "%-34s %10s %10s %7.2fx\n" "$name ($batch, $size)" "$ours" "$theirs" "$(awk -v a="$ours" -v b="$theirs" 'BEGIN {print a / b}')"
}
run "cpsd resnet (small, width 16)" resnet $'[backbone.resnet]\nwidth = 16' 64 64 10 small
run "resnet18" resnet18 "" 16 224 5 resnet18
run "resnet50" resnet50 "" 8 224 3 resnet50
