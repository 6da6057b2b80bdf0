#!/usr/bin/python3
"""The distillation study on the built-in datasets behind docs/ablation.md.

Each cell is one `cpsd run` of the dataset's demo config (configs/demo/fashion_scenes.toml or
fashion_wardrobe.toml) with some overrides, for every seed. Cells that change only the student reuse the baseline, partitions and teachers
of the cell they name in `share` (symbolic links), so a variant costs one student. Cells
whose results.json exists are not run again: the study can be stopped and resumed.

usage: study.py [--build DIR] [--dataset scenes|wardrobe] [--seeds 0 1 2] [--groups main teachers ...]
                [--table-only]
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
# The demo config of each built-in dataset, and how to make the dataset.
DATASETS = {
    "scenes": ("configs/demo/fashion_scenes.toml", "data/fashion-scenes", []),
    "wardrobe": ("configs/demo/fashion_wardrobe.toml", "data/fashion-wardrobe", ["--design", "wardrobe"]),
}
ALL = ["baseline", "sd", "cgpd", "dgpd", "cpsd", "random"]

STAGES = ("baseline", "teachers", "partitions")
HOLDOUT = ["data.holdout=0.1"]


def loss(metric, reduction, weight, cls=0.5, temperature=None):
    sets = ["loss.distill.metric=\"%s\"" % metric, "loss.distill.reduction=\"%s\"" % reduction,
            "loss.distill.weight=%s" % weight, "distill.cls_weight=%s" % cls]
    return sets + (["loss.distill.temperature=%s" % temperature] if temperature is not None else [])


# (group, cell, overrides, methods, share): `share` names the cell whose stages a cell reuses,
# as (cell, stages); None trains everything. Every cell runs on the --dataset given.
CELLS = [
    # The paper's Table 3 with the demo's defaults (teachers on the baseline's schedule).
    ("main", "defaults", [], ALL, None),
    # How long and from where the teachers train (the CPSD student only).
    ("teachers", "teachers 3 epochs", ["teachers.epochs=3"], ["cpsd"], ("defaults", ("baseline",))),
    ("teachers", "early stop (patience 2, cap 12)", ["teachers.epochs=12", "teachers.patience=2"], ["cpsd"],
     ("defaults", ("baseline",))),
    ("teachers", "from the baseline, 2 epochs", ["teachers.init=\"baseline\"", "teachers.epochs=2"], ["cpsd"],
     ("defaults", ("baseline",))),
    # Distillation weighted by a held-out comparison of teachers and baseline: every model of
    # these cells trains on 90% of the training images (their own baseline).
    ("weighting", "held out 10%, unweighted", HOLDOUT, ["cpsd"], None),
    ("weighting", "held out 10%, per class", HOLDOUT + ["distill.weighting=\"class\""], ["cpsd"],
     ("held out 10%, unweighted", STAGES)),
    ("weighting", "held out 10%, per teacher", HOLDOUT + ["distill.weighting=\"teacher\""], ["cpsd"],
     ("held out 10%, unweighted", STAGES)),
    # Distillation loss of the cpsd student, on the teachers of main/defaults.
    ("loss", "mse sum 0.5 (reference)", loss("mse", "sum", 0.5), ["cpsd"], ("defaults", STAGES)),
    ("loss", "kl T=4 sum 0.5", loss("kl", "sum", 0.5, temperature=4.0), ["cpsd"], ("defaults", STAGES)),
    # Where the teacher logits come from (the default: online, teachers in train mode).
    ("logits", "online, eval mode", ["distill.teacher_mode=\"eval\""], ["cpsd"], ("defaults", STAGES)),
    ("logits", "cached", ["distill.mode=\"cached\""], ["cpsd"], ("defaults", STAGES)),
    # The authors' settings (configs/demo/fashion_scenes_reference.toml).
    ("reference", "authors' settings", ["@reference"], ["cpsd"], ("defaults", STAGES)),
    # Number of sub-tasks (new partitions and teachers; the baseline of main/defaults).
    ("k", "k = 2", ["partition.k=2"], ["cpsd"], ("defaults", ("baseline",))),
    ("k", "k = 8", ["partition.k=8"], ["cpsd"], ("defaults", ("baseline",))),
]

REFERENCE = "configs/demo/fashion_scenes_reference.toml"
CONFIG = DATASETS["scenes"][0]
OUTPUT = "runs/study/scenes"


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
    """Each branch's merged teachers (mAP, the baseline's, teachers ahead) from results.json."""
    path = os.path.join(cell_dir(seed, cell), "results.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        check = json.load(f).get("teacher_check", {})
    return {b["branch"]: b for b in check.get("branches", [])}


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
    print("\n#### teachers of %s against the baseline (merged into the full label order; teachers ahead)\n" % cell)
    print("| seed | baseline | " + " | ".join(branches) + " |")
    print("|---:|---:|" + "---:|" * len(branches))
    for seed in seeds:
        r, t = results(seed, cell), merged_teachers(seed, cell)
        if r is None or not t:
            continue
        cells = ["%.2f (%+.2f; %d/%d)" % (t[b]["merged_map"], t[b]["merged_map"] - t[b]["baseline_map"],
                                          t[b]["teachers"] - t[b]["teachers_behind"], t[b]["teachers"])
                 if b in t else "–" for b in branches]
        print("| %d | %.2f | " % (seed, r["baseline"]) + " | ".join(cells) + " |")


def main():
    global CONFIG, OUTPUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="scenes")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--groups", nargs="+", default=["main", "teachers", "weighting"])
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    CONFIG, data_dir, design = DATASETS[args.dataset]
    OUTPUT = os.path.join("runs", "study", args.dataset)
    if not args.table_only:
        cpsd = os.path.join(os.path.abspath(args.build), "bin", "cpsd")
        if not os.path.exists(os.path.join(ROOT, data_dir, "design.json")):
            subprocess.check_call([cpsd, "data", "make-fashion-scenes", "--out", data_dir] + design, cwd=ROOT)
        for group in args.groups:  # every seed of a group before the next group
            for seed in args.seeds:
                for cell in CELLS:
                    if cell[0] == group:
                        run_cell(os.path.abspath(args.build), seed, *cell)
    print("\n### %s (%s)" % (args.dataset, CONFIG))
    tables(args.seeds, args.groups)
    if "main" in args.groups:
        per_seed_table(args.seeds, "defaults")
        teacher_table(args.seeds, "defaults")


if __name__ == "__main__":
    main()
