#!/usr/bin/python3
"""Writes PyTorch files of every shape cpsd's reader must handle, and torchvision
reference outputs. usage: make_fixtures.py OUT_DIR [parity]"""
import argparse
import collections
import json
import os
import struct
import sys

import numpy as np
import torch


def state_dict():
    sd = collections.OrderedDict()
    sd["conv.weight"] = torch.arange(24, dtype=torch.float32).reshape(2, 3, 2, 2)
    sd["bn.running_mean"] = torch.tensor([1.5, -2.0])
    sd["bn.num_batches_tracked"] = torch.tensor(7)
    sd["half"] = torch.arange(6, dtype=torch.float16).reshape(2, 3)
    sd["transposed"] = torch.arange(6.0).reshape(2, 3).t()
    base = torch.arange(10.0)
    sd["view_a"] = base[2:5]
    sd["view_b"] = base[5:]
    return sd


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": {torch.float32: "F32", torch.int64: "I64"}[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def readers(out):
    sd = state_dict()
    torch.save(sd, os.path.join(out, "plain.pth"))
    torch.save({"model": collections.OrderedDict(("module." + k, v) for k, v in sd.items()), "epoch": 3,
                "args": argparse.Namespace(lr=0.1, name="x")}, os.path.join(out, "nested.pth"))
    p = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.Adam([p])
    p.sum().backward()
    opt.step()
    torch.save({"state_dict": collections.OrderedDict(("module.module." + k, v) for k, v in sd.items()),
                "optimizer": opt.state_dict(), "best_mAP": 85.0}, os.path.join(out, "q2l_style.pkl"))
    torch.save(sd, os.path.join(out, "legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(torch.nn.Linear(2, 2), os.path.join(out, "module.pth"))
    write_safetensors(os.path.join(out, "weights.safetensors"),
                      {"conv.weight": sd["conv.weight"], "bn.num_batches_tracked": sd["bn.num_batches_tracked"]})


def parity(out):
    import torchvision
    for arch in ("resnet101", "resnext50_32x4d"):
        torch.manual_seed(0)
        model = getattr(torchvision.models, arch)(num_classes=1000)
        with torch.no_grad():  # non-trivial BatchNorm statistics
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.1, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
                    m.weight.uniform_(0.5, 1.5)
        model.eval()
        torch.save(model.state_dict(), os.path.join(out, arch + ".pth"))
        io = {}
        for h, w in ((224, 224), (160, 224)):
            x = torch.rand(2, 3, h, w)
            with torch.no_grad():
                io["x_%dx%d" % (h, w)] = x
                io["y_%dx%d" % (h, w)] = model(x)
        torch.save(io, os.path.join(out, arch + "_io.pth"))




def predict_parity(out):
    """A torchvision resnet18 classifier, a 224x224 PNG, and PyTorch's sigmoid scores on it."""
    import torchvision
    from PIL import Image
    torch.manual_seed(1)
    model = torchvision.models.resnet18(num_classes=1000).eval()
    torch.save(model.state_dict(), os.path.join(out, "resnet18.pth"))
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)).save(os.path.join(out, "image.png"))
    x = torchvision.transforms.Compose([torchvision.transforms.ToTensor(), torchvision.transforms.Normalize(
        (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])(Image.open(os.path.join(out, "image.png")).convert("RGB"))
    with torch.no_grad():
        scores = torch.sigmoid(model(x.unsqueeze(0)))[0]
    with open(os.path.join(out, "scores.txt"), "w") as f:
        f.write(" ".join("%.8f" % s for s in scores[:20].tolist()))


if __name__ == "__main__":
    {"readers": readers, "parity": parity, "predict": predict_parity}[sys.argv[2] if len(sys.argv) > 2 else "readers"](sys.argv[1])
