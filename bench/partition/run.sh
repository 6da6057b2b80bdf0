#!/usr/bin/env bash
# Partition benchmark: cpsd's CGP/DGP against scikit-learn's SpectralClustering
# (affinity="precomputed") on the same synthetic label statistics, in the same run.
# Times are medians of 5 runs of the clustering alone (no process start, no file I/O).
# usage: bench/partition/run.sh [BUILD_DIR]   (needs python3-sklearn)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
cpsd="$build/bin/cpsd"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repeat=5

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf "%-6s %-5s %3s %12s %12s %8s %6s\n" classes graph k "cpsd ms" "sklearn ms" speedup ARI
for spec in "80 20000 8" "1000 20000 40"; do
  read -r m images blocks <<<"$spec"
  /usr/bin/python3 "$here/make_stats.py" --classes "$m" --images "$images" --blocks "$blocks" \
    --seed 0 --out "$work/stats$m.json"
  for graph in cgp dgp; do
    for _ in $(seq $repeat); do
      "$cpsd" partition --stats "$work/stats$m.json" --decomposer $graph --k 5 --seed 0 \
        --out "$work/p.json" --no-picture --log-level warn | head -1 | sed -E 's/.* ([0-9.]+) ms$/\1/'
    done | median >"$work/ours"
    read -r theirs ari < <(/usr/bin/python3 "$here/sklearn_partition.py" --stats "$work/stats$m.json" \
      --decomposer $graph --k 5 --tau 3 --repeat $repeat --compare "$work/p.json")
    ours=$(cat "$work/ours")
    printf "%-6s %-5s %3s %12s %12s %7.1fx %6s\n" "$m" $graph 5 "$ours" "$theirs" \
      "$(awk -v a="$theirs" -v b="$ours" 'BEGIN {print a / b}')" "$ari"
  done
done
