#!/usr/bin/env bash
# The SDK is self-sufficient: install cpsd into a fresh prefix, build the example plugins
# (a backbone, a decomposer) as separate CMake projects with find_package(cpsd), install them
# elsewhere, and use them with the *installed* cpsd, the decomposer as a distillation branch.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$source_dir/sdk/examples/hello_backbone" -B "$work/build" \
      -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$work/build" >/dev/null
cmake --install "$work/build" --prefix "$work/user" >/dev/null

plugins="$work/user/lib/cpsd/plugins"
test -f "$plugins/cpsd_plugin_hello.so" || { echo "FAIL: plugin not installed into $plugins"; exit 1; }
cpsd="$work/prefix/bin/cpsd"

out=$("$cpsd" plugins --plugin-path "$plugins")
echo "$out"
grep -q "backbone/hello_cnn" <<<"$out" || { echo "FAIL: hello_cnn not listed"; exit 1; }
grep -q "head/linear" <<<"$out" || { echo "FAIL: installed in-tree plugins not found"; exit 1; }
grep -q "\[default\]" <<<"$out" || { echo "FAIL: no default plugin directory"; exit 1; }

cat >"$work/hello.toml" <<'TOML'
[model]
backbone = "hello_cnn"
head = "linear"
num_classes = 3
input_size = 32
TOML
info=$("$cpsd" model info --config "$work/hello.toml" --plugin-path "$plugins")
echo "$info"
grep -q -- "-> \[1, 3\]" <<<"$info" || { echo "FAIL: model did not run"; exit 1; }

# A decomposer of one's own is a distillation branch by config alone: build the SDK's
# decomposer example the same way and run a method of CGP (k = 3) and it (k = 2).
cmake -S "$source_dir/sdk/examples/frequency_decomposer" -B "$work/build-freq" \
      -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$work/build-freq" >/dev/null
cmake --install "$work/build-freq" --prefix "$work/user" >/dev/null
test -f "$plugins/cpsd_plugin_frequency_partition.so" || { echo "FAIL: decomposer plugin not installed"; exit 1; }
"$cpsd" data make-fashion-scenes --out "$work/fs" --train-images 96 --val-images 32 --seed 3 >/dev/null
cat >"$work/run.toml" <<TOML
base = ["$source_dir/configs/_base_/methods/paper.toml"]
[runtime]
threads = 1
[data]
root = "$work/fs"
image_size = 32
[data.train]
annotations = "annotations/instances_train.json"
images = "train"
[data.val]
annotations = "annotations/instances_val.json"
images = "val"
[model]
backbone = "resnet"
head = "linear"
[backbone.resnet]
width = 4
stem = "small"
[train]
loss = "asl"
epochs = 1
batch_size = 16
[distill]
loss = "distill"
[branches.cgp3]
decomposer = "cgp"
k = 3
[branches.freq]
decomposer = "frequency"
k = 2
weight = 2.0
[decomposer.frequency]
rarest_first = true
[methods]
cgp_freq = ["cgp3", "freq"]
[run]
output = "$work/runs"
name = "mine"
methods = ["baseline", "cgp_freq"]
TOML
check=$("$cpsd" config check "$work/run.toml" --plugin-path "$plugins")
echo "$check"
grep -q "method cgp_freq: cgp3 (decomposer/cgp, k = 3) + freq (decomposer/frequency, k = 2)" <<<"$check" ||
  { echo "FAIL: config check does not show the method"; exit 1; }
table=$("$cpsd" run "$work/run.toml" --plugin-path "$plugins" --log-level warn)
echo "$table"
grep -q "| cgp_freq |" <<<"$table" || { echo "FAIL: no row for the method"; exit 1; }
run="$work/runs/mine"
for f in partitions/cgp3.k3.json partitions/freq.k2.json teachers/cgp3_2/best.ckpt teachers/freq_1/best.ckpt \
         cgp_freq/best.ckpt results.json; do
  test -f "$run/$f" || { echo "FAIL: $f missing"; exit 1; }
done
grep -q '"decomposer": "frequency"' "$run/partitions/freq.k2.json" || { echo "FAIL: partition not by the plugin"; exit 1; }
"$cpsd" report "$run" --plugin-path "$plugins" >/dev/null
grep -q "freq merged" "$run/report/index.html" || { echo "FAIL: the report lacks the plugin's branch"; exit 1; }

# Installed headers compile on their own (no path into the source tree).
grep -rq "$source_dir" "$work/prefix/lib/cmake/cpsd" && { echo "FAIL: package refers to the source tree"; exit 1; }
echo "PASS"
