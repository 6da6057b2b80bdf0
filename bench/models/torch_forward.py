#!/usr/bin/python3
"""torchvision's forward pass (eval, no grad) on random data. Prints images/s.
usage: torch_forward.py ARCH BATCH SIZE THREADS STEPS WARMUP"""
import sys
import time

import torch
import torchvision


def main():
    arch, batch, size, threads, steps, warmup = sys.argv[1], *map(int, sys.argv[2:7])
    torch.set_num_threads(threads)
    model = getattr(torchvision.models, arch)(num_classes=80).eval()
    x = torch.rand(batch, 3, size, size)
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        start = time.perf_counter()
        for _ in range(steps):
            model(x)
    print("%.2f" % (batch * steps / (time.perf_counter() - start)))


if __name__ == "__main__":
    main()
