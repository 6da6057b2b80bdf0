#!/usr/bin/env python3
"""PyTorch's ResNet101 training step at the same settings as cpsd_gpu_check bench:
channels-last, cuDNN autotuning, autocast, summed ASL, Adam with L2 decay. Prints images/s.
usage: torch_step.py BATCH SIZE STEPS PRECISION(bf16|fp16|off)"""
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


def main():
    batch, size, steps, precision = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    torch.backends.cudnn.benchmark = True
    model = torchvision.models.resnet101(num_classes=80).cuda().to(memory_format=torch.channels_last).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)
    scaler = torch.cuda.amp.GradScaler(enabled=precision == "fp16")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    x = torch.rand(batch, 3, size, size, device="cuda").contiguous(memory_format=torch.channels_last)
    y = (torch.rand(batch, 80, device="cuda") < 0.1).float()

    def step():
        opt.zero_grad()
        with torch.autocast("cuda", dtype=dtype, enabled=dtype is not None):
            logits = model(x)
        scaler.scale(asl(logits.float(), y)).backward()
        scaler.step(opt)
        scaler.update()

    for _ in range(5):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    print("%.1f" % (batch * steps / (time.perf_counter() - start)))


if __name__ == "__main__":
    main()
