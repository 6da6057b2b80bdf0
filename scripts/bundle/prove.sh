#!/usr/bin/env bash
# Proves the bundle on this machine: fetch.sh, then build.sh in a private mount namespace
# where the machine's own copies of every bundled package are hidden (hide_system_copies.py),
# against the LibTorch found here (Debian's libtorch-dev unless TORCH_DIR says otherwise).
# Needs root (for the mount namespace). Arguments and environment as build.sh's.
# usage: scripts/bundle/prove.sh [BUNDLE_DIR] [WORK_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bundle=${1:-$root/.bundle}
work=${2:-$root/build-bundle}
[[ $(id -u) == 0 ]] || { echo "prove: needs root (a private mount namespace)" >&2; exit 1; }
[[ -f $bundle/packages.txt ]] || "$root/scripts/bundle/fetch.sh" "$bundle"
if [[ -z ${TORCH_DIR:-} && -f /usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake ]]; then
  export TORCH_DIR=/usr/lib/x86_64-linux-gnu/cmake/Torch
fi
export PYTHON=${PYTHON:-/usr/bin/python3}
# Unpacking needs dpkg-deb, which loads some of the bundled libraries: done before hiding.
STEPS=unpack "$root/scripts/bundle/build.sh" "$bundle" "$work"
export STEPS=${STEPS:-build check test demo}
unshare --mount --propagation private bash -c '
  set -euo pipefail
  /usr/bin/python3 "$1/scripts/bundle/hide_system_copies.py" "$2"
  "$1/scripts/bundle/build.sh" "$2" "$3"
' prove "$root" "$bundle" "$work"
