#!/usr/bin/env bash
# The paper's Table 3 on fashion-scenes: baseline, sd, cgpd, dgpd, cpsd and random (k = 5)
# with the demo config, for several seeds; prints mean and spread (sample std) per method.
# usage: bench/ablation/run.sh [BUILD_DIR] [SEEDS...]   e.g. bench/ablation/run.sh build 0 1 2
# Extra config overrides: CPSD_SET="--set a=b --set c=d" bench/ablation/run.sh ...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
shift || true
seeds=("${@:-0 1 2}")
[[ $# -eq 0 ]] && seeds=(0 1 2)
cd "$root"
test -f data/fashion-scenes/design.json || "$build/bin/cpsd" data make-fashion-scenes --out data/fashion-scenes
test -f data/fashion-items/items.json || "$build/bin/cpsd" data make-fashion-items --out data/fashion-items
"$build/bin/cpsd" pretrain --config configs/demo/pretrain_fashion_items.toml  # once; then up to date
runs=()
for seed in "${seeds[@]}"; do
  name="ablation${CPSD_TAG:-}-seed$seed"
  # shellcheck disable=SC2086
  "$build/bin/cpsd" run configs/demo/fashion_scenes.toml --set runtime.seed="$seed" --set run.name="$name" \
    --set 'run.methods=["baseline", "sd", "cgpd", "dgpd", "cpsd", "random"]' ${CPSD_SET:-} >/dev/null
  runs+=("runs/$name")
done
/usr/bin/python3 "$here/summarize.py" "${runs[@]}"
