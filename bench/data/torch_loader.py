#!/usr/bin/python3
"""The peer: PyTorch's DataLoader with PIL decoding and torchvision transforms doing the
same work as cpsd's training pipeline (squash resize, flip, CutoutPIL, RandAugment,
ToTensor), batched. Prints images/s.

usage: torch_loader.py DATASET_DIR SIZE BATCH WORKERS BATCHES
"""
import os
import random
import sys
import time

import torch
from PIL import Image, ImageDraw
from torchvision import transforms


class CutoutPIL:
    """The CPSD/ASL recipe's Cutout."""

    def __init__(self, factor=0.5):
        self.factor = factor

    def __call__(self, x):
        w, h = x.size
        ch, cw = int(self.factor * h + 0.5), int(self.factor * w + 0.5)
        yc, xc = random.randint(0, h - 1), random.randint(0, w - 1)
        box = [max(xc - cw // 2, 0), max(yc - ch // 2, 0), min(xc + cw // 2, w), min(yc + ch // 2, h)]
        ImageDraw.Draw(x).rectangle(box, fill=tuple(random.randint(0, 255) for _ in range(3)))
        return x


class CsvDataset(torch.utils.data.Dataset):
    def __init__(self, root, transform):
        with open(os.path.join(root, "classes.txt")) as f:
            self.classes = [c.strip() for c in f if c.strip()]
        with open(os.path.join(root, "train.csv")) as f:
            rows = [line.strip().split(",") for line in f.readlines()[1:]]
        self.items = [(os.path.join(root, "images", p), labels.split(";")) for p, labels in rows]
        self.transform = transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, labels = self.items[i]
        target = torch.zeros(len(self.classes))
        for name in labels:
            target[self.classes.index(name)] = 1
        return self.transform(Image.open(path).convert("RGB")), target


def main():
    root, size, batch, workers, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(1)
    transform = transforms.Compose([
        transforms.Resize((size, size)), transforms.RandomHorizontalFlip(), CutoutPIL(0.5),
        transforms.RandAugment(num_ops=2, magnitude=9), transforms.ToTensor()])
    loader = torch.utils.data.DataLoader(CsvDataset(root, transform), batch_size=batch, shuffle=True,
                                         num_workers=workers, persistent_workers=workers > 0)
    start, images, done = time.perf_counter(), 0, 0
    while done < batches:
        for x, _ in loader:
            images += x.shape[0]
            done += 1
            if done == batches:
                break
    print("%.1f" % (images / (time.perf_counter() - start)))


if __name__ == "__main__":
    main()
