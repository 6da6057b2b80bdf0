# SPDX-License-Identifier: Apache-2.0
"""The largest gradients of a ResNet101 step under the summed ASL loss (fp32, CPU), and the
largest power-of-two fp16 loss scale that keeps them finite: the measurement behind
LossScaler's policy (core/include/cpsd/core/engine/amp.h).

usage: /usr/bin/python3 bench/fp16_gradients.py [SEEDS] [BATCH] [SIZE]   (default 3 16 224)"""
import math
import sys

import torch
import torchvision


def summed_asl(logits, y, gamma_neg=4.0, clip=0.05, eps=1e-8):
    p = torch.sigmoid(logits)
    p_m = (p - clip).clamp(min=0)
    positive = torch.log(p.clamp(min=eps))
    negative = torch.log((1 - p_m).clamp(min=eps)) * p_m.detach() ** gamma_neg
    return -(y * positive + (1 - y) * negative).sum()


def one_seed(seed, batch, size):
    torch.manual_seed(seed)
    model = torchvision.models.resnet101(num_classes=80).train()
    largest_activation = [0.0]

    def watch(module, inputs, output):
        def record(g):
            largest_activation[0] = max(largest_activation[0], g.abs().max().item())
        output.register_hook(record)

    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.Linear)):
            m.register_forward_hook(watch)
    x = torch.randn(batch, 3, size, size)
    y = (torch.rand(batch, 80) < 0.05).float()  # about 3 positives per image, as COCO
    summed_asl(model(x), y).backward()
    largest_param = max(p.grad.abs().max().item() for p in model.parameters())
    largest = max(largest_param, largest_activation[0])
    safe = 2 ** math.floor(math.log2(65504.0 / largest))
    print(f"seed {seed}: largest activation gradient {largest_activation[0]:.4g}, "
          f"parameter gradient {largest_param:.4g}; largest safe fp16 scale {safe} "
          f"(GradScaler starts at 65536)")


def main():
    seeds, batch, size = (int(a) for a in (sys.argv[1:] + ["3", "16", "224"][len(sys.argv) - 1:]))
    torch.set_num_threads(2)
    for seed in range(seeds):
        one_seed(seed, batch, size)


if __name__ == "__main__":
    main()
