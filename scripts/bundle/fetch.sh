#!/usr/bin/env bash
# Downloads (does not install) the Debian 12 packages of scripts/bundle/packages.txt into a
# bundle directory that build.sh turns into a private prefix on a machine where nothing
# can be installed (copy it there with the source), with the demo's data.
# Needs apt-get with Debian 12's package lists (`apt-get update` once); no root.
# usage: scripts/bundle/fetch.sh [BUNDLE_DIR]   (default: .bundle in the source tree)
# CPSD_BUNDLE_DEMO_DATA: "scenes" (default) makes fashion-scenes, the demo's dataset, with
#   a built cpsd (CPSD, default build/bin/cpsd) and packs it (12 MiB; what `make demo`
#   would make from Fashion-MNIST, byte for byte); "fashion-mnist" takes Debian's
#   Fashion-MNIST instead (31 MiB; also where no cpsd is built); "none" leaves data out.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/.bundle}
mapfile -t packages < <(sed 's/#.*//' "$root/scripts/bundle/packages.txt" | tr ' ' '\n' | grep -v '^$')
demo_data=${CPSD_BUNDLE_DEMO_DATA:-scenes}
cpsd=${CPSD:-$root/build/bin/cpsd}
mkdir -p "$out/debs"
rm -f "$out"/debs/*.deb "$out/fashion-scenes.tar.gz"
if [[ $demo_data == scenes && ! -x $cpsd ]]; then
  echo "fetch: no built cpsd at $cpsd to make the demo's scenes; taking Fashion-MNIST instead"
  demo_data=fashion-mnist
fi
case $demo_data in
  scenes)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "$cpsd" data make-fashion-scenes --out "$tmp/fashion-scenes" --log-level warn
    tar -czf "$out/fashion-scenes.tar.gz" -C "$tmp" fashion-scenes
    ;;
  fashion-mnist) packages+=(dataset-fashion-mnist) ;;
  none) ;;
  *) echo "fetch: CPSD_BUNDLE_DEMO_DATA must be scenes, fashion-mnist or none" >&2; exit 2 ;;
esac
cd "$out/debs"
if ! apt-get download "${packages[@]}" >"$out/fetch.log" 2>&1; then
  echo "fetch: apt-get download failed (run apt-get update first?):" >&2
  grep -E "^E:" "$out/fetch.log" >&2 || tail -5 "$out/fetch.log" >&2
  exit 1
fi
# apt-get download names files <name>_<version>_<arch>.deb; the list records what was taken.
ls -1 *.deb >"$out/debs.txt"
printf '%s\n' "${packages[@]}" >"$out/packages.txt"
echo "fetch: $(wc -l <"$out/debs.txt") packages and demo data ($demo_data):" \
  "$(du -sh --apparent-size "$out" | cut -f1) in $out"
