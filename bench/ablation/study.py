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

STAGES = ("baseline", "teachers", "partitions")


def loss(metric, reduction, weight, cls=0.5, temperature=None):
    sets = ["loss.distill.metric=\"%s\"" % metric, "loss.distill.reduction=\"%s\"" % reduction,
            "loss.distill.weight=%s" % weight, "distill.cls_weight=%s" % cls]
    return EVAL + sets + (["loss.distill.temperature=%s" % temperature] if temperature is not None else [])


# The main table and the loss rows were run with teachers in eval mode, before train mode
# became the demo's default (the logits group compares the two).
EVAL = ["distill.teacher_mode=\"eval\""]

# (group, cell, overrides, methods, share): `share` names the cell whose stages a cell reuses,
# as (cell, stages); None trains everything.
CELLS = [
    # The paper's Table 3 with the demo's config (pretrained backbone), eval-mode teachers.
    ("main", "pretrained", EVAL, ALL, None),
    # Distillation loss of the cpsd student, on the teachers of main/pretrained.
    ("loss", "mse sum 0.5 (reference)", loss("mse", "sum", 0.5), ["cpsd"], ("pretrained", STAGES)),
    ("loss", "mse sum 0.1", loss("mse", "sum", 0.1), ["cpsd"], ("pretrained", STAGES)),
    ("loss", "mse mean 0.5", loss("mse", "mean", 0.5), ["cpsd"], ("pretrained", STAGES)),
    ("loss", "bce T=1 sum 0.5", loss("bce", "sum", 0.5, temperature=1.0), ["cpsd"], ("pretrained", STAGES)),
    ("loss", "bce T=1 sum 1.0", loss("bce", "sum", 1.0, temperature=1.0), ["cpsd"], ("pretrained", STAGES)),
    ("loss", "kl T=4 sum 0.5", loss("kl", "sum", 0.5, temperature=4.0), ["cpsd"], ("pretrained", STAGES)),
    # Where the teacher logits come from (the default: online, teachers in eval mode).
    ("logits", "online, train mode", ["distill.teacher_mode=\"train\""], ["cpsd"], ("pretrained", STAGES)),
    ("logits", "cached", EVAL + ["distill.mode=\"cached\""], ["cpsd"], ("pretrained", STAGES)),
    # The authors' settings (configs/demo/fashion_scenes_reference.toml): teachers in train
    # mode on the student's batch, 0.5 ASL + 0.25/0.25 summed MSE, student lr / 10, 12 epochs.
    ("reference", "authors' settings", ["@reference"], ["cpsd"], ("pretrained", STAGES)),
    # From scratch: no pretrained backbone.
    ("scratch", "from scratch", ["model.pretrained=\"\""], ["baseline", "sd", "cpsd"], None),
    # Number of sub-tasks (new partitions and teachers; the baseline of main/pretrained).
    ("k", "k = 2", ["partition.k=2"], ["cpsd"], ("pretrained", ("baseline",))),
    ("k", "k = 8", ["partition.k=8"], ["cpsd"], ("pretrained", ("baseline",))),
    # Teacher and student epochs (the paper: 20 and 80).
    ("epochs", "teachers 3, student 12", ["distill.epochs=12"], ["cpsd"], ("pretrained", STAGES)),
    ("epochs", "teachers 6, student 6", ["teachers.epochs=6"], ["cpsd"], ("pretrained", ("baseline",))),
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
        base = cell_dir(seed, share[0])
        if not os.path.exists(os.path.join(base, "results.json")):
            print("study: %s/%s needs %s first" % (group, cell, share[0]), file=sys.stderr)
            return
        os.makedirs(out, exist_ok=True)
        for d in share[1]:
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


def fmt(values, signed=False):
    if not values:
        return "–"
    number = "%+.2f" if signed else "%.2f"
    if len(values) == 1:
        return number % values[0]
    return (number + " ± %.2f") % (statistics.mean(values), statistics.stdev(values))


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
                    row.append(fmt([r[m] - r["baseline"] for r in per_seed if m in r and "baseline" in r], True))
                else:
                    row.append("")
            print("| " + " | ".join(row) + " |")


def merged_teachers(seed, cell):
    """mAP of each branch's teachers merged into the full label order: the class-weighted mean
    of their best mAPs (AP is per class, so this is exactly the merged logits' mAP)."""
    path = os.path.join(cell_dir(seed, cell), "teachers", "manifest.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        manifest = json.load(f)
    sums = {}
    for t in manifest:
        n = len(t["class_indices"])
        total, count = sums.get(t["branch"], (0.0, 0))
        sums[t["branch"]] = (total + t["best_map"] * n, count + n)
    return {b: total / count for b, (total, count) in sums.items()}


def per_seed_table(seeds, cell):
    print("\n#### %s per seed\n" % cell)
    print("| seed | " + " | ".join(ALL) + " | best distilled |")
    print("|---:|" + "---:|" * len(ALL) + "---|")
    for seed in seeds:
        r = results(seed, cell)
        if r is None:
            continue
        distilled = [m for m in ALL if m != "baseline" and m in r]
        best = max(distilled, key=lambda m: r[m]) if distilled else "–"
        print("| %d | " % seed + " | ".join("%.2f" % r[m] if m in r else "–" for m in ALL) + " | %s |" % best)


def teacher_table(seeds, cell):
    branches = ["full", "cgp", "dgp", "random"]
    print("\n#### teachers of %s (merged into the full label order)\n" % cell)
    print("| seed | baseline | " + " | ".join(branches) + " |")
    print("|---:|---:|" + "---:|" * len(branches))
    for seed in seeds:
        r, t = results(seed, cell), merged_teachers(seed, cell)
        if r is None:
            continue
        print("| %d | %.2f | " % (seed, r["baseline"]) + " | ".join("%.2f" % t[b] if b in t else "–" for b in branches) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--groups", nargs="+", default=["main", "loss", "logits", "reference", "scratch", "k", "epochs"])
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
    if "main" in args.groups:
        per_seed_table(args.seeds, "pretrained")
        teacher_table(args.seeds, "pretrained")
    if "scratch" in args.groups:
        teacher_table(args.seeds, "from scratch")


if __name__ == "__main__":
    main()
