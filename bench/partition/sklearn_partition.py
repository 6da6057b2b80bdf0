#!/usr/bin/python3
"""scikit-learn's SpectralClustering on the same affinity as cpsd's CGP/DGP, timed, and
its agreement (adjusted Rand index) with a cpsd partition file.

usage: sklearn_partition.py --stats S.json --decomposer cgp|dgp --k K --tau T
                            --repeat N --compare PART.json
prints: <median ms> <ARI>
"""
import argparse
import json
import time
import warnings

import numpy as np
from sklearn.cluster import SpectralClustering
from sklearn.metrics import adjusted_rand_score


def affinity(stats, tau, decomposer):
    n = np.asarray(stats["counts"], float)
    e = np.asarray(stats["cooccurrence"], float)
    np.fill_diagonal(e, 0)
    s = np.divide(e, n[:, None], out=np.zeros_like(e), where=n[:, None] > 0)
    t = np.power(s, 1.0 / tau)
    p = (t + t.T) / 2
    if decomposer == "dgp":
        p = 1 - p
    np.fill_diagonal(p, 0)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stats", required=True)
    ap.add_argument("--decomposer", required=True)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--tau", type=float, default=3.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--compare", required=True)
    a = ap.parse_args()
    p = affinity(json.load(open(a.stats)), a.tau, a.decomposer)
    times, labels = [], None
    warnings.simplefilter("ignore")
    for r in range(a.repeat):
        start = time.perf_counter()
        labels = SpectralClustering(n_clusters=a.k, affinity="precomputed", n_init=20,
                                    random_state=r).fit(p).labels_
        times.append((time.perf_counter() - start) * 1e3)
    ours = np.zeros(len(p), int)
    for g, group in enumerate(json.load(open(a.compare))["groups"]):
        ours[group["indices"]] = g
    print("%.1f %.3f" % (float(np.median(times)), adjusted_rand_score(labels, ours)))


if __name__ == "__main__":
    main()
