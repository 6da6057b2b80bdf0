# SPDX-License-Identifier: Apache-2.0
"""PyTorch's DistributedDataParallel on 2 ranks (Gloo): the reference for cpsd's data
parallelism. Writes init.pth (initial weights), data.pth (x, y) and reference.pth (rank 0's
weights and buffers after STEPS steps of plain SGD, BatchNorm updating).

usage: ddp_reference.py OUT_DIR PORT STEPS"""
import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD, BATCH = 2, 4


def make_model():
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 4))


def rank_main(rank, out, port, steps):
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    model = make_model()
    model.load_state_dict(torch.load(os.path.join(out, "init.pth")))
    data = torch.load(os.path.join(out, "data.pth"))
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    sgd = torch.optim.SGD(ddp.parameters(), lr=0.5)
    for step in range(steps):
        first = (step * WORLD + rank) * BATCH  # rank r takes the r-th batch of each step
        x, y = data["x"][first:first + BATCH], data["y"][first:first + BATCH]
        sgd.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(ddp(x), y)
        loss.backward()
        sgd.step()
    if rank == 0:
        torch.save(model.state_dict(), os.path.join(out, "reference.pth"))
    dist.destroy_process_group()


def main():
    out, port, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.manual_seed(0)
    torch.save(make_model().state_dict(), os.path.join(out, "init.pth"))
    n = steps * WORLD * BATCH
    # Per-rank batches that differ in scale, so that their BatchNorm statistics differ.
    x = torch.randn(n, 3, 8, 8) * torch.linspace(0.5, 2.0, n).view(n, 1, 1, 1)
    y = (torch.rand(n, 4) > 0.5).float()
    torch.save({"x": x, "y": y}, os.path.join(out, "data.pth"))
    mp.spawn(rank_main, args=(out, port, steps), nprocs=WORLD)


if __name__ == "__main__":
    main()
