#!/usr/bin/python3
"""The distillation study on fashion-scenes behind docs/ablation.md.

Each cell is one `cpsd run` of configs/demo/fashion_scenes.toml with some overrides, for
every seed. Cells that change only the student reuse the baseline, partitions and teachers
of the cell they name in `share` (symbolic links), so a variant costs one student. Cells
whose results.json exists are not run again: the study can be stopped and resumed.

usage: study.py [--build DIR] [--seeds 0 1 2] [--groups main loss ...] [--table-only]
Prints one Markdown table per group: mean ± sample std over the seeds done (n), and
for the method columns the paired difference to the same seed's baseline.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = "configs/demo/fashion_scenes.toml"
OUTPUT = "runs/study"
ALL = ["baseline", "sd", "cgpd", "dgpd", "cpsd", "random"]
SCRATCH = ["model.pretrained=\"\""]

# (group, cell, overrides, methods, share)
CELLS = [
    # The paper's Table 3 with the defaults, from the pretrained backbone and from scratch.
    ("main", "pretrained", [], ALL, None),
    ("main", "scratch", SCRATCH, ALL, None),
    # The authors' settings (configs/demo/fashion_scenes_reference.toml): teachers in train
    # mode on the student's batch, 0.5 ASL + 0.25/0.25 summed MSE, student lr / 10.
    ("main", "reference", ["@reference"], ["cpsd"], "pretrained"),
    # Distillation weight and reduction (cpsd student; teachers of main/pretrained).
    ("loss", "mse sum 0.5 (reference)", ["loss.distill.metric=\"mse\"", "loss.distill.reduction=\"sum\"",
                                         "loss.distill.weight=0.5", "distill.cls_weight=0.5"], ["cpsd"], "pretrained"),
    ("loss", "mse sum 0.1", ["loss.distill.metric=\"mse\"", "loss.distill.reduction=\"sum\"",
                             "loss.distill.weight=0.1", "distill.cls_weight=0.5"], ["cpsd"], "pretrained"),
    ("loss", "mse mean 0.5", ["loss.distill.metric=\"mse\"", "loss.distill.reduction=\"mean\"",
                              "loss.distill.weight=0.5", "distill.cls_weight=0.5"], ["cpsd"], "pretrained"),
    ("loss", "kl T=4 sum 0.5", ["loss.distill.metric=\"kl\"", "loss.distill.reduction=\"sum\"",
                                "loss.distill.temperature=4.0", "loss.distill.weight=0.5", "distill.cls_weight=0.5"],
     ["cpsd"], "pretrained"),
    ("loss", "bce T=1 sum 0.5", ["loss.distill.metric=\"bce\"", "loss.distill.reduction=\"sum\"",
                                 "loss.distill.temperature=1.0", "loss.distill.weight=0.5", "distill.cls_weight=0.5"],
     ["cpsd"], "pretrained"),
    # Where the teacher logits come from.
    ("logits", "online, eval mode", ["distill.mode=\"online\"", "distill.teacher_mode=\"eval\""], ["cpsd"], "pretrained"),
    ("logits", "online, train mode", ["distill.mode=\"online\"", "distill.teacher_mode=\"train\""], ["cpsd"], "pretrained"),
    ("logits", "cached", ["distill.mode=\"cached\""], ["cpsd"], "pretrained"),
    # Teacher and student epochs (the paper: 20 and 80).
    ("epochs", "teachers 3, student 12", ["distill.epochs=12"], ["cpsd"], "pretrained"),
    ("epochs", "teachers 6, student 6", ["teachers.epochs=6"], ["cpsd"], None),
    # Number of sub-tasks.
    ("k", "k = 2", ["partition.k=2"], ["cpsd"], None),
    ("k", "k = 8", ["partition.k=8"], ["cpsd"], None),
]

REFERENCE = "configs/demo/fashion_scenes_reference.toml"


def cell_dir(seed, cell):
    return os.path.join(ROOT, OUTPUT, "seed%d-%s" % (seed, slug(cell)))


def slug(name):
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").replace("--", "-")


def run_cell(build, seed, group, cell, overrides, methods, share):
    out = cell_dir(seed, cell)
    if os.path.exists(os.path.join(out, "results.json")):
        return
    config = CONFIG
    sets = []
    for o in overrides:
        if o == "@reference":
            config = REFERENCE
        else:
            sets += ["--set", o]
    if share is not None:
        base = cell_dir(seed, share)
        if not os.path.exists(os.path.join(base, "results.json")):
            print("study: %s/%s needs %s first" % (group, cell, share), file=sys.stderr)
            return
        os.makedirs(out, exist_ok=True)
        for d in ("baseline", "teachers", "partitions"):
            link = os.path.join(out, d)
            if not os.path.lexists(link):
                os.symlink(os.path.join("..", os.path.basename(base), d), link)
    wanted = ["baseline"] + [m for m in methods if m != "baseline"]
    command = [os.path.join(build, "bin", "cpsd"), "run", config, "--set", "runtime.seed=%d" % seed,
               "--set", "run.output=\"%s\"" % os.path.join(ROOT, OUTPUT), "--set", "run.name=\"%s\"" % os.path.basename(out),
               "--set", "run.methods=%s" % json.dumps(wanted)] + sets
    os.makedirs(os.path.dirname(out), exist_ok=True)
    log = out + ".log"
    start = time.time()
    print("study: seed %d %s/%s ..." % (seed, group, cell), file=sys.stderr, flush=True)
    with open(log, "w") as f:
        code = subprocess.call(command, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    if code != 0:
        print("study: seed %d %s/%s failed (exit %d), see %s" % (seed, group, cell, code, log), file=sys.stderr)
        sys.exit(1)
    print("study: seed %d %s/%s done in %.0f s" % (seed, group, cell, time.time() - start), file=sys.stderr)


def results(seed, cell):
    path = os.path.join(cell_dir(seed, cell), "results.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return {r["method"]: r["map"] for r in json.load(f)["results"]}


def fmt(values):
    if not values:
        return "–"
    spread = statistics.stdev(values) if len(values) > 1 else float("nan")
    return "%.2f ± %.2f" % (statistics.mean(values), spread) if len(values) > 1 else "%.2f" % values[0]


def tables(seeds, groups):
    for group in groups:
        cells = [c for c in CELLS if c[0] == group]
        methods = [m for m in ALL if any(m in c[3] or m == "baseline" for c in cells)]
        print("\n#### %s\n" % group)
        print("| setting | seeds | " + " | ".join(methods) + " | " +
              " | ".join("%s − baseline" % m for m in methods if m != "baseline") + " |")
        print("|---|---:|" + "---:|" * (2 * len(methods) - 1))
        for _, cell, _, cell_methods, _ in cells:
            per_seed = [r for r in (results(s, cell) for s in seeds) if r is not None]
            row = [cell, str(len(per_seed))]
            for m in methods:
                row.append(fmt([r[m] for r in per_seed if m in r]) if m == "baseline" or m in cell_methods else "")
            for m in methods:
                if m == "baseline":
                    continue
                if m in cell_methods:
                    row.append(fmt([r[m] - r["baseline"] for r in per_seed if m in r and "baseline" in r]))
                else:
                    row.append("")
            print("| " + " | ".join(row) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--groups", nargs="+", default=["main", "loss", "logits", "epochs", "k"])
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    if not args.table_only:
        cpsd = os.path.join(os.path.abspath(args.build), "bin", "cpsd")
        for make, marker in (("make-fashion-scenes", "data/fashion-scenes/design.json"),
                             ("make-fashion-items", "data/fashion-items/items.json")):
            if not os.path.exists(os.path.join(ROOT, marker)):
                subprocess.check_call([cpsd, "data", make, "--out", os.path.dirname(marker)], cwd=ROOT)
        # The pretrained backbone of the demo (a cache: returns at once when up to date).
        subprocess.check_call([cpsd, "pretrain", "--config", "configs/demo/pretrain_fashion_items.toml"], cwd=ROOT)
        for group in args.groups:  # every seed of a group before the next group
            for seed in args.seeds:
                for cell in CELLS:
                    if cell[0] == group:
                        run_cell(os.path.abspath(args.build), seed, *cell)
    tables(args.seeds, args.groups)


if __name__ == "__main__":
    main()
