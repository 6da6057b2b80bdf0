#!/usr/bin/python3
"""Writes synthetic label statistics (cpsd's statistics JSON) with planted structure.

Images are simulated: each picks a few "scenes" (blocks of classes that co-occur, with a
long-tailed popularity) and draws labels mostly from them, so CGP has blocks to find and
classes from different scenes rarely meet. Deterministic for a seed.

usage: make_stats.py --classes M --images N --blocks B --seed S --out stats.json
"""
import argparse
import json

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--classes", type=int, default=80)
    ap.add_argument("--images", type=int, default=20000)
    ap.add_argument("--blocks", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    m = a.classes
    block_of = np.arange(m) % a.blocks
    class_pop = rng.pareto(1.5, m) + 0.2               # long tail inside blocks
    block_pop = rng.pareto(1.0, a.blocks) + 0.5
    block_pop /= block_pop.sum()
    labels = np.zeros((a.images, m), dtype=bool)
    for i in range(a.images):
        scenes = rng.choice(a.blocks, size=rng.integers(1, 3), replace=False, p=block_pop)
        for s in scenes:
            members = np.flatnonzero(block_of == s)
            p = class_pop[members] / class_pop[members].sum()
            take = rng.choice(members, size=min(len(members), rng.integers(1, 4)), replace=False, p=p)
            labels[i, take] = True
        if rng.random() < 0.1:                          # a little noise across scenes
            labels[i, rng.integers(m)] = True
    counts = labels.sum(0)
    co = labels.T.astype(np.int64) @ labels.astype(np.int64)
    np.fill_diagonal(co, 0)
    out = {"classes": [f"c{j:04d}_b{block_of[j]}" for j in range(m)], "num_images": int(a.images),
           "counts": counts.tolist(), "cooccurrence": co.tolist()}
    with open(a.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
