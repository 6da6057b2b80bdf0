#!/usr/bin/env bash
# The paper's models at 224: forward and training-step images/s of ResNet101 and ResNeXt50
# against torchvision in PyTorch (same threads, same run); for all five models cpsd's own
# forward images/s, MACs per image (reference/backbones.md) and achieved GFLOP/s (2 x MACs).
# usage: bench/models/run.sh [BUILD_DIR] [THREADS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
threads=${2:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cpsd_rate() {  # backbone head extra mode batch steps
  printf '[model]\nbackbone = "%s"\nhead = "%s"\nnum_classes = 80\ninput_size = 224\n[runtime]\nthreads = %s\n%s\n' \
    "$1" "$2" "$threads" "$3" >"$work/m.toml"
  local flag=""; [[ $4 == forward ]] && flag=--forward
  "$build/bin/cpsd" model bench --config "$work/m.toml" --batch "$5" --steps "$6" --warmup 1 $flag --log-level warn |
    sed -E 's/.*, ([0-9.]+) images\/s/\1/'
}
echo "== against torchvision (224, $threads threads) =="
printf "%-18s %-8s %12s %12s %7s\n" model mode "cpsd img/s" "torch img/s" ratio
for arch in resnet101 resnext50_32x4d; do
  ours=$(cpsd_rate $arch linear "" forward 8 4)
  theirs=$(/usr/bin/python3 "$here/torch_forward.py" $arch 8 224 "$threads" 4 1)
  printf "%-18s %-8s %12s %12s %6.2fx\n" $arch forward "$ours" "$theirs" "$(awk -v a="$ours" -v b="$theirs" 'BEGIN {print a / b}')"
  ours=$(cpsd_rate $arch linear "" train 4 3)
  theirs=$(/usr/bin/python3 "$here/../train_step/torch_step.py" $arch 4 224 "$threads" 3 1 80)
  printf "%-18s %-8s %12s %12s %6.2fx\n" $arch train "$ours" "$theirs" "$(awk -v a="$ours" -v b="$theirs" 'BEGIN {print a / b}')"
done
echo
echo "== the five paper models, cpsd forward at 224 =="
printf "%-22s %10s %10s %10s\n" model "img/s" "GMAC/img" "GFLOP/s"
row() {  # name backbone head extra gmacs
  local rate
  rate=$(cpsd_rate "$2" "$3" "$4" forward 4 3)
  printf "%-22s %10s %10s %10.1f\n" "$1" "$rate" "$5" "$(awk -v r="$rate" -v g="$5" 'BEGIN {print 2 * r * g}')"
}
row "R101" resnet101 linear "" 7.80
row "ResNeXt50 (SWSL)" resnext50_32x4d linear "" 4.23
row "TResNet-L" tresnet_l linear "" 10.88
row "R101-TF" resnet101 transformer "" 15.64
row "Q2L-R101 (CPSD copy)" resnet101 query2label $'[backbone.resnet101]\nfrozen_bn = true\nfrozen_stages = 1' 18.05
