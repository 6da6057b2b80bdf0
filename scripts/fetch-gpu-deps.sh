#!/usr/bin/env bash
# Downloads (does not install) the Debian packages bench/gpu_check.sh unpacks on a GPU
# machine where nothing can be installed: toml++'s headers.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu-deps
cd .gpu-deps
apt-get download libtomlplusplus-dev >/dev/null
ls -1
