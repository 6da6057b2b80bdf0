#!/usr/bin/env bash
# Loader benchmark: decode + squash-resize to 448 + flip + Cutout + RandAugment + batch, on
# 500 JPEGs of 640x480, cpsd's DataLoader against PyTorch's DataLoader (PIL + torchvision
# transforms) with the same number of workers, in the same run. Reports images/s and the
# peak memory of each process tree.
# usage: bench/data/run.sh [BUILD_DIR] [WORKERS]   (needs python3-torchvision)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
workers=${2:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
size=448 batch=32 batches=48   # 48 batches = about 3 epochs of 500 images

/usr/bin/python3 "$here/make_jpegs.py" "$work/ds" 500
ours=$(/usr/bin/python3 "$here/../peak_rss.py" "$work/ours.mem" -- \
  "$build/bin/cpsd" data bench --format csv --annotations "$work/ds/train.csv" \
  --images "$work/ds/images" --classes "$work/ds/classes.txt" --batch-size $batch --batches $batches \
  --set data.image_size=$size --set data.workers=$workers --set augment.flip=true \
  --set augment.cutout=0.5 --set augment.randaugment=true --log-level warn | sed -E 's/.*: ([0-9.]+) images\/s/\1/')
theirs=$(/usr/bin/python3 "$here/../peak_rss.py" "$work/theirs.mem" -- \
  /usr/bin/python3 "$here/torch_loader.py" "$work/ds" $size $batch "$workers" $batches)
printf "%-28s %12s %14s\n" loader "images/s" "peak MiB"
printf "%-28s %12s %14s\n" "cpsd ($workers workers)" "$ours" "$(cat "$work/ours.mem")"
printf "%-28s %12s %14s\n" "PyTorch DataLoader ($workers)" "$theirs" "$(cat "$work/theirs.mem")"
awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "speed-up: %.2fx\n", a / b}'
