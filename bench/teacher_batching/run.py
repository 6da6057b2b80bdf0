"""Would batching the ten teachers into one computation pay on the CPU?

Ten demo ResNets (width 16, 3x3 stem of stride 2, basic blocks [1, 1, 1, 1], 64x64 images,
batch 64) trained one after another on the same batch, against the same ten as one model
whose convolutions are grouped (groups = 10: teacher t owns channel group t of every layer,
which is exactly ten independent models), NCHW and channels-last, Adam, 2 threads.
Prints seconds per step of all ten. Uses PyTorch (the same LibTorch kernels as cpsd).
usage: /usr/bin/python3 bench/teacher_batching/run.py [--steps N] [--threads T]
"""
import argparse
import time

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, cin, cout, stride, groups):
        super().__init__()
        g = groups
        self.conv1 = nn.Conv2d(cin * g, cout * g, 3, stride, 1, groups=g, bias=False)
        self.bn1 = nn.BatchNorm2d(cout * g)
        self.conv2 = nn.Conv2d(cout * g, cout * g, 3, 1, 1, groups=g, bias=False)
        self.bn2 = nn.BatchNorm2d(cout * g)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin * g, cout * g, 1, stride, groups=g, bias=False), nn.BatchNorm2d(cout * g))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class DemoResNets(nn.Module):
    """`models` demo ResNets side by side; the stem reads the shared RGB batch."""

    def __init__(self, models, width=16, classes=6):
        super().__init__()
        w, g = width, models
        self.stem = nn.Conv2d(3, w * g, 3, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(w * g)
        self.blocks = nn.Sequential(Block(w, w, 1, g), Block(w, 2 * w, 2, g),
                                    Block(2 * w, 4 * w, 2, g), Block(4 * w, 8 * w, 2, g))
        self.head = nn.Conv1d(8 * w * g, classes * g, 1, groups=g)

    def forward(self, x):
        x = self.blocks(torch.relu(self.bn(self.stem(x))))
        return self.head(x.mean((2, 3)).unsqueeze(-1)).squeeze(-1)


def seconds_per_step(models, images, steps):
    optimizers = [torch.optim.Adam(m.parameters(), 1e-3) for m in models]
    for i in range(steps + 2):
        if i == 2:
            start = time.perf_counter()
        for model, optimizer in zip(models, optimizers):
            optimizer.zero_grad()
            model(images).sigmoid().sum().backward()
            optimizer.step()
    return (time.perf_counter() - start) / steps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    images = torch.randn(64, 3, 64, 64)
    print(f"ten demo teachers, one training step on a batch of 64 at 64x64, {a.threads} threads")
    print(f"{'layout':<14} {'one by one s':>13} {'grouped s':>10} {'grouped / one by one':>21}")
    for layout in (torch.contiguous_format, torch.channels_last):
        x = images.contiguous(memory_format=layout)
        separate = [DemoResNets(1).to(memory_format=layout) for _ in range(10)]
        grouped = [DemoResNets(10).to(memory_format=layout)]
        s, g = seconds_per_step(separate, x, a.steps), seconds_per_step(grouped, x, a.steps)
        name = "NCHW" if layout is torch.contiguous_format else "channels-last"
        print(f"{name:<14} {s:13.3f} {g:10.3f} {g / s:20.2f}x")


if __name__ == "__main__":
    main()
