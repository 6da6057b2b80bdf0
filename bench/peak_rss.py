#!/usr/bin/python3
"""Runs a command and reports the peak of the summed resident memory of its whole process
tree (workers included), sampled every 20 ms.

usage: peak_rss.py OUT_FILE -- command args...   (writes the peak in MiB to OUT_FILE)
"""
import os
import subprocess
import sys
import time


def tree_rss(root):
    children = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(pid))
        except OSError:
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open("/proc/%d/statm" % pid) as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


def main():
    out, command = sys.argv[1], sys.argv[sys.argv.index("--") + 1:]
    proc = subprocess.Popen(command)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.02)
    with open(out, "w") as f:
        f.write("%.0f\n" % (peak / 2**20))
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
