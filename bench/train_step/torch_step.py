#!/usr/bin/python3
"""The peer of `cpsd model bench`: the same training step (forward, summed ASL loss,
backward, Adam with L2 decay) in PyTorch, on random data. Prints images/s.

usage: torch_step.py ARCH BATCH SIZE THREADS STEPS WARMUP CLASSES
ARCH: resnet18 | resnet50 | small (BasicBlock [1,1,1,1], width 16, 3x3 stride-1 stem, no pool)
"""
import sys
import time

import torch
import torchvision


def asl(logits, y, gamma_neg=4.0, clip=0.05, eps=1e-8):
    p = torch.sigmoid(logits)
    p_neg = (1 - p + clip).clamp(max=1)
    loss = y * torch.log(p.clamp(min=eps)) + (1 - y) * torch.log(p_neg.clamp(min=eps))
    with torch.no_grad():
        w = torch.pow(1 - (p * y + p_neg * (1 - y)), gamma_neg * (1 - y))
    return -(loss * w).sum()


def small(classes):
    m = torchvision.models.resnet.ResNet(torchvision.models.resnet.BasicBlock, [1, 1, 1, 1], num_classes=classes)
    # width 16 instead of 64, small stem: rebuild the stages at that width.
    m.inplanes = 16
    m.conv1 = torch.nn.Conv2d(3, 16, 3, 1, 1, bias=False)
    m.bn1 = torch.nn.BatchNorm2d(16)
    m.maxpool = torch.nn.Identity()
    m.layer1 = m._make_layer(torchvision.models.resnet.BasicBlock, 16, 1)
    m.layer2 = m._make_layer(torchvision.models.resnet.BasicBlock, 32, 1, stride=2)
    m.layer3 = m._make_layer(torchvision.models.resnet.BasicBlock, 64, 1, stride=2)
    m.layer4 = m._make_layer(torchvision.models.resnet.BasicBlock, 128, 1, stride=2)
    m.fc = torch.nn.Linear(128, classes)
    return m


def main():
    arch, batch, size, threads, steps, warmup, classes = sys.argv[1], *map(int, sys.argv[2:8])
    torch.set_num_threads(threads)
    model = small(classes) if arch == "small" else getattr(torchvision.models, arch)(num_classes=classes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)
    model.train()
    x = torch.rand(batch, 3, size, size)
    y = (torch.rand(batch, classes) < 0.1).float()

    def step():
        opt.zero_grad()
        asl(model(x), y).backward()
        opt.step()

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    print("%.1f" % (batch * steps / (time.perf_counter() - start)))


if __name__ == "__main__":
    main()
