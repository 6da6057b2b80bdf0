#!/usr/bin/env bash
# The quickstart, stage by stage: wall time and images/s of each stage of `make quickstart`
# (data, data check, baseline, teachers, student), with the thread and worker settings
# used, so that a regression in any stage shows. Runs from the repository root's data/
# (made when missing, and timed then) into a temporary run directory.
# usage: bench/quickstart/run.sh [BUILD_DIR] [--set KEY=VALUE ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
shift $(($# > 0 ? 1 : 0))
cpsd="$build/bin/cpsd"
config="$root/configs/demo/fashion_scenes.toml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
now() { date +%s.%N; }

data_seconds=0
if [[ ! -f data/fashion-scenes/design.json ]]; then
  start=$(now)
  "$cpsd" data make-fashion-scenes --out data/fashion-scenes --log-level warn
  data_seconds=$(awk -v a="$start" -v b="$(now)" 'BEGIN {print b - a}')
fi
start=$(now)
"$cpsd" data check --config "$config" --check-split both --log-level warn >"$work/data-check.txt"
check_seconds=$(awk -v a="$start" -v b="$(now)" 'BEGIN {print b - a}')
start=$(now)
"$cpsd" run "$config" --set run.output="$work" --set run.name=quickstart "$@" 2>"$work/run.log" >/dev/null ||
  { tail -20 "$work/run.log"; exit 1; }
run_seconds=$(awk -v a="$start" -v b="$(now)" 'BEGIN {print b - a}')
/usr/bin/python3 "$here/summary.py" --run "$work/quickstart" --data-seconds "$data_seconds" \
  --check-seconds "$check_seconds" --run-seconds "$run_seconds"
