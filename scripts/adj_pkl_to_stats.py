#!/usr/bin/python3
"""Converts the label statistics published with ML-GCN and the CPSD reference code
(`coco_adj.pkl`, `nus_adj.pkl`: a pickled dict with `nums` and `adj`) and their class list
(`category_MLGCN.json` / `category_nus.json`: name -> index) into a cpsd statistics JSON.

usage: adj_pkl_to_stats.py ADJ.pkl CATEGORY.json OUT.json [--num-images N]

The pickles do not record the number of images; pass it with --num-images (COCO train2014
with at least one label: 82081) or leave it 0 (unknown). Needs python3-numpy to unpickle.
"""
import argparse
import json
import pickle

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("adj")
    ap.add_argument("categories")
    ap.add_argument("out")
    ap.add_argument("--num-images", type=int, default=0)
    a = ap.parse_args()
    with open(a.adj, "rb") as f:
        data = pickle.load(f)
    nums = np.asarray(data["nums"], dtype=np.int64)
    adj = np.asarray(data["adj"], dtype=np.int64)
    with open(a.categories) as f:
        index = json.load(f)
    names = [None] * len(index)
    for name, i in index.items():
        names[i] = name
    if len(names) != len(nums) or adj.shape != (len(nums), len(nums)):
        raise SystemExit("adj_pkl_to_stats: %d classes in %s but nums has %d and adj is %s"
                         % (len(names), a.categories, len(nums), adj.shape))
    np.fill_diagonal(adj, 0)
    out = {"classes": names, "num_images": a.num_images, "counts": nums.tolist(),
           "cooccurrence": adj.tolist()}
    with open(a.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
