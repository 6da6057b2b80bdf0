#!/usr/bin/python3
"""Mean and spread over seeds of the methods in several runs' results.json.

usage: summarize.py RUN_DIR...   (prints a Markdown table)
"""
import json
import statistics
import sys


def main():
    rows = {}
    for run in sys.argv[1:]:
        with open(run + "/results.json") as f:
            for r in json.load(f)["results"]:
                rows.setdefault(r["method"], []).append(r)
    print("| method | runs | mAP | CF1 | OF1 |")
    print("|---|---:|---:|---:|---:|")
    for method, rs in rows.items():
        cells = []
        for key in ("map", "cf1", "of1"):
            values = [r[key] for r in rs]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append("%.2f ± %.2f" % (statistics.mean(values), spread))
        print("| %s | %d | %s |" % (method, len(rs), " | ".join(cells)))


if __name__ == "__main__":
    main()
