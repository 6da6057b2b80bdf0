#!/usr/bin/env bash
# Student stage cost and mAP with online teachers against cached teacher logits, on the
# teachers of an existing run (e.g. the quickstart's), in the same session.
# usage: bench/distill_modes.sh [BUILD_DIR] [RUN_DIR] [CONFIG]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
source_run=${2:-runs/quickstart}
config=${3:-configs/demo/fashion_scenes.toml}
cd "$root"
test -f "$source_run/teachers/manifest.json" || { echo "no teachers in $source_run: run it first" >&2; exit 1; }
printf "%-8s %14s %8s\n" mode "student stage" mAP
for mode in online cached; do
  run="runs/distill-$mode"
  rm -rf "$run" && mkdir -p "$run"
  cp -r "$source_run/teachers" "$source_run/partitions" "$run/"
  "$build/bin/cpsd" distill --config "$config" --method cpsd --set run.name="distill-$mode" \
    --set distill.mode=$mode --log-level warn >/dev/null
  /usr/bin/python3 - "$run/results.json" "$mode" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
stage = sum(s["seconds"] for s in r["stages"] if s["stage"] in ("student cpsd", "teacher logits"))
print("%-8s %13.0fs %8.2f" % (sys.argv[2], stage, r["results"][0]["map"]))
PY
done
