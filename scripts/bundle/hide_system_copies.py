#!/usr/bin/env python3
"""Hides this machine's installed copies of the bundle's packages, for proving the bundle.

usage (as root, inside a private mount namespace, e.g. `unshare --mount`):
    hide_system_copies.py BUNDLE_DIR
Every regular file that a package of BUNDLE_DIR/packages.txt installed here gets /dev/null
bound over it, so a build in that namespace sees only the bundle's copies: a header, CMake
file or library missing from the bundle then fails the build instead of being taken from
the system. Prints how many files of how many packages were hidden.
"""
import ctypes
import os
import subprocess
import sys

MS_BIND = 4096


def installed_files(package):
    done = subprocess.run(["dpkg-query", "-L", package], capture_output=True, text=True)
    if done.returncode != 0:
        return []  # not installed here: nothing to hide
    return [p for p in done.stdout.splitlines() if os.path.isfile(p) and not os.path.islink(p)]


def main():
    bundle = sys.argv[1]
    with open(os.path.join(bundle, "packages.txt")) as f:
        packages = [line.strip() for line in f if line.strip()]
    libc = ctypes.CDLL(None, use_errno=True)
    hidden, touched = 0, 0
    for package in packages:
        files = installed_files(package)
        touched += bool(files)
        for path in files:
            if libc.mount(b"/dev/null", path.encode(), None, MS_BIND, None) != 0:
                err = ctypes.get_errno()
                sys.exit(f"hide_system_copies: cannot hide {path}: {os.strerror(err)}")
            hidden += 1
    print(f"hid {hidden} files of the {touched} bundled packages installed on this machine")


if __name__ == "__main__":
    main()
