#!/bin/bash
# Fuzzes each file parser of cpsd with libFuzzer for SECONDS (default 600) each, JOBS targets
# at a time (default: the number of cores). Builds build-fuzz/ with clang and
# -DCPSD_FUZZ=ON (ASan + UBSan + coverage). The seed corpus is tests/fuzz/corpus/<target>;
# what the fuzzer adds goes to build-fuzz/corpus/<target>, crashing inputs to
# build-fuzz/findings/<target>/. Prints one line per target; exits 1 when anything was found
# (copy a finding to tests/fuzz/regressions/<target>/ once fixed: the test suite replays it).
# usage: bench/fuzz.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-"pth safetensors elf statistics partition coco voc nuswide csv toml image"}
jobs=${JOBS:-$(nproc)}
dir=build-fuzz

missing=()
for p in clang-14 libclang-rt-14-dev; do  # the compiler and libFuzzer
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == "install ok installed" ]] ||
    missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DCPSD_FUZZ=ON -DCPSD_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir" -j "$jobs" --target cpsd_fuzzers

export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  t=$1
  mkdir -p "$dir/corpus/$t" "$dir/findings/$t"
  local start=$SECONDS
  "$dir/bin/cpsd_fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    -malloc_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$dir/findings/$t/" "$dir/corpus/$t" "tests/fuzz/corpus/$t" \
    >"$dir/findings/$t.log" 2>&1 || true
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/findings/$t.log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/findings/$t.log" | tail -1 | cut -d' ' -f2)
  found=$(find "$dir/findings/$t" -type f | wc -l)
  printf '%-12s %5ss %10s inputs run  coverage %6s  corpus %5s  findings %s\n' "$t" \
    "$((SECONDS - start))" "${runs:-?}" "${cov:-?}" "$(find "$dir/corpus/$t" -type f | wc -l)" "$found"
}

running=0
for t in $targets; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
total=$(find "$dir/findings" -mindepth 2 -type f | wc -l)
[ "$total" -eq 0 ] || { echo "fuzz: $total finding(s) under $dir/findings/ (logs: $dir/findings/*.log)" >&2; exit 1; }
