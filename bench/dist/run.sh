#!/usr/bin/env bash
# Data-parallel scaling on this machine: the demo model on fashion-scenes, one process
# against `cpsd launch --nproc 2` (Gloo over loopback), the same global batch, one epoch.
# Each process gets 1 LibTorch thread with 2 ranks, and all cores alone.
# usage: bench/dist/run.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
cd "$root"
test -f data/fashion-scenes/design.json || "$build/bin/cpsd" data make-fashion-scenes --out data/fashion-scenes
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(--config configs/demo/fashion_scenes.toml --set train.epochs=1 --set run.output="$work" --set train.ema=0
        --set train.log_seconds=1000 --fresh)
rate() { grep -o 'img/s [0-9]*' "$1" | tail -1 | awk '{print $2}'; }
"$build/bin/cpsd" train "${common[@]}" --set run.name=one --set train.batch_size=64 --set data.workers=2 2>"$work/one.log" >/dev/null
"$build/bin/cpsd" launch --nproc 2 -- train "${common[@]}" --set run.name=two --set train.batch_size=32 \
  --set runtime.threads=1 --set data.workers=1 2>"$work/two.log" >/dev/null
one=$(rate "$work/one.log")
two=$(rate "$work/two.log")
printf "%-26s %10s\n" setup "images/s"
printf "%-26s %10s\n" "1 process, 2 threads" "$one"
printf "%-26s %10s\n" "2 ranks x 1 thread" "$two"
awk -v a="$two" -v b="$one" 'BEGIN {printf "2-rank efficiency against 1 process on the same 2 cores: %.0f%%\n", 100 * a / b}'
