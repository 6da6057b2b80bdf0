#!/usr/bin/env bash
# Builds and checks the whole host where nothing can be installed. Unpacks the bundle made
# by fetch.sh into a private prefix, builds cpsd against the machine's LibTorch, checks
# that every binary and plugin finds its libraries, runs ctest, then the demo (`make demo`,
# on CUDA when nvidia-smi lists a GPU). Needs a C++17 compiler, CMake >= 3.18, make, and a
# LibTorch: by default the one of python3's PyTorch (torch.utils.cmake_prefix_path).
# usage: scripts/bundle/build.sh [BUNDLE_DIR] [WORK_DIR]   (defaults .bundle, build-bundle)
# env:   TORCH_DIR    a directory holding TorchConfig.cmake (default: python3's PyTorch)
#        PYTHON       the tests' numerical references (torch, torchvision, numpy, sklearn, PIL)
#        STEPS        any of "unpack build check test demo" (default: all, in that order)
#        CTEST_ARGS   extra ctest arguments, e.g. "-E Report" where chromium is missing
#        DEMO_DEVICE  cuda or cpu (default: cuda when there is a GPU)
#        CMAKE_ARGS   extra CMake arguments, e.g. -DCPSD_DATA_PARALLEL=OFF
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bundle=$(cd "${1:-$root/.bundle}" && pwd)
work=${2:-$root/build-bundle}
mkdir -p "$work"
work=$(cd "$work" && pwd)
prefix=$work/prefix
lib=$prefix/usr/lib/x86_64-linux-gnu
python=$(command -v "${PYTHON:-python3}")
steps=${STEPS:-unpack build check test demo}
jobs=$(nproc)
say() { printf '== %s (%s)\n' "$*" "$(date +%T)"; }
has_step() { [[ " $steps " == *" $1 "* ]]; }

# The bundle's libraries are Debian 12's, linked against glibc 2.36.
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
if [[ -n $glibc ]] && [[ $(printf '%s\n2.36\n' "$glibc" | sort -V | head -1) != 2.36 ]]; then
  echo "build: warning: glibc $glibc is older than Debian 12's 2.36; bundled libraries may not load" >&2
fi

torch_dir=${TORCH_DIR:-$("$python" -c 'import os, torch; print(os.path.join(torch.utils.cmake_prefix_path, "Torch"))')}
[[ -f $torch_dir/TorchConfig.cmake ]] || { echo "build: no TorchConfig.cmake in $torch_dir (set TORCH_DIR)" >&2; exit 1; }
torch_include=$(cd "$torch_dir/../../.." && pwd)/include
[[ -d $torch_include/torch ]] || torch_include=/usr/include  # Debian's libtorch-dev layout

extract() {  # DEB DIR: dpkg-deb where there is one, else ar and tar
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$1" "$2"
    return
  fi
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && ar x "$1" && tar -xf data.tar.* -C "$2")
  rm -rf "$tmp"
}

unpack() {
  say "unpacking $(ls "$bundle"/debs/*.deb | wc -l) packages into $prefix"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  for deb in "$bundle"/debs/*.deb; do
    if [[ $(basename "$deb") == libgloo-dev_* && $torch_include != /usr/include &&
          -s $torch_include/gloo/algorithm.h ]]; then
      echo "   libgloo-dev left out: the LibTorch has its own Gloo headers"
      continue
    fi
    extract "$deb" "$prefix"
  done
  # The links to link against that Debian's alternatives system would make on installation
  # (the libraries themselves stay in lapack/ and blas/; see LD_LIBRARY_PATH below).
  for name in lapack blas; do
    ln -sf "$name/lib$name.so.3" "$lib/lib$name.so"
  done
  # zlib1g-dev's link to the library of zlib1g, which every machine has.
  if [[ ! -e $lib/libz.so ]]; then
    ln -sf "$(ldconfig -p | awk '/libz.so.1 .*x86-64/ {print $NF; exit}')" "$lib/libz.so"
  fi
  du -sh "$prefix" | sed 's/^/   prefix: /'
}

# The bundle's libraries first; its reference LAPACK and BLAS only where the machine has
# none (a machine's own, often faster, BLAS is kept: a LibTorch may load it too).
ld_path=$lib
ldconfig -p 2>/dev/null | grep -q "liblapack.so.3 " || ld_path+=":$lib/lapack:$lib/blas"
export LD_LIBRARY_PATH=$ld_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

build() {
  say "configuring against $torch_dir"
  cmake -S "$root" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DTorch_DIR="$torch_dir" \
    -DCMAKE_PREFIX_PATH="$prefix/usr" -DCPSD_TEST_PYTHON="$python" ${CMAKE_ARGS:-} \
    >"$work/configure.log" 2>&1 ||
    { tail -30 "$work/configure.log"; exit 1; }
  say "building with $jobs jobs (log: $work/build.log)"
  cmake --build "$work/build" -j "$jobs" >"$work/build.log" 2>&1 ||
    { grep -E "error|Error" -A3 "$work/build.log" | head -40; exit 1; }
}

# Every binary and plugin must find every library it loads; also says how many came from
# the prefix, so a library taken from the system shows.
check() {
  say "checking what the binaries load"
  local missing=0 files
  files=$(find "$work/build/bin" "$work/build/lib" -type f \( -perm -u+x -o -name '*.so*' \))
  for f in $files; do
    if ldd "$f" | grep -q "not found"; then
      echo "   $f: $(ldd "$f" | grep "not found" | awk '{print $1}' | tr '\n' ' ')" >&2
      missing=1
    fi
  done
  ((missing == 0)) || { echo "check: libraries not found (add their packages to packages.txt)" >&2; exit 1; }
  echo "   cpsd loads $(ldd "$work/build/bin/cpsd" | grep -c "$prefix") libraries from the prefix:"
  ldd "$work/build/bin/cpsd" "$work/build/lib/libcpsd_core.so" | grep "$prefix" |
    awk '{print $1}' | sort -u | xargs | fold -s -w 92 | sed 's/^/     /'
}

# A failing test does not stop the demo from running; the script's status reports it.
tests_failed=0
run_tests() {
  say "ctest"
  # shellcheck disable=SC2086  # CTEST_ARGS is a list of arguments
  ctest --test-dir "$work/build" --output-on-failure -j "$jobs" ${CTEST_ARGS:-} || tests_failed=1
}

demo() {
  local device=${DEMO_DEVICE:-cpu}
  if [[ -z ${DEMO_DEVICE:-} ]] && command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    device=cuda
  fi
  say "the demo on $device"
  if [[ -f $bundle/fashion-scenes.tar.gz && ! -f $root/data/fashion-scenes/design.json ]]; then
    mkdir -p "$root/data"
    tar -xzf "$bundle/fashion-scenes.tar.gz" -C "$root/data"
  fi
  local start=$SECONDS
  make -C "$root" --no-print-directory demo BUILD_DIR="$work/build" RUN_DIR="$work/demo" \
    FASHION_MNIST="$prefix/usr/share/datasets/fashion-mnist" \
    DEMO_SET="--set runtime.device=$device --set run.output=$work/demo"
  echo "   demo: $((SECONDS - start)) s"
}

has_step unpack && unpack
has_step build && build
has_step check && check
has_step test && run_tests
has_step demo && demo
if ((tests_failed)); then
  say "done, but tests failed (above)"
  exit 1
fi
say done
