#!/usr/bin/env bash
# The SDK is self-sufficient: install cpsd into a fresh prefix, build the example plugin
# as a separate CMake project with find_package(cpsd), install it elsewhere, and load it
# with the *installed* cpsd.
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

# Installed headers compile on their own (no path into the source tree).
grep -rq "$source_dir" "$work/prefix/lib/cmake/cpsd" && { echo "FAIL: package refers to the source tree"; exit 1; }
echo "PASS"
