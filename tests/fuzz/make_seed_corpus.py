#!/usr/bin/python3
"""Writes the fuzzers' seed corpus: one small valid input (or a few) per parser, in the form
tests/fuzz/fuzz_targets.cpp gives it to the parser. usage: make_seed_corpus.py OUT_DIR"""
import collections
import json
import os
import pathlib
import struct
import subprocess
import sys
import tempfile

import torch

CLASSES = ["sky", "water", "dog", "cat"]


def write(out, target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def torch_bytes(obj):
    with tempfile.NamedTemporaryFile(suffix=".pth") as f:
        torch.save(obj, f.name)
        return pathlib.Path(f.name).read_bytes()


def safetensors_bytes(tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": {torch.float32: "F32", torch.int64: "I64"}[t.dtype],
                        "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def elf_bytes():
    with tempfile.TemporaryDirectory() as d:
        src, so = os.path.join(d, "p.c"), os.path.join(d, "p.so")
        open(src, "w").write("int cpsd_plugin_abi(void) { return 1; }\n")
        subprocess.run(["gcc", "-shared", "-fPIC", "-s", "-o", so, src], check=True)
        return open(so, "rb").read()


def image_seeds():
    """A small JPEG (4:2:0 and grey) and PNG (RGB, palette with transparency) from PIL."""
    import io
    import numpy as np
    from PIL import Image
    y, x = np.mgrid[0:12, 0:20]
    rgb = np.stack([x * 12, y * 20, (x + y) * 8], axis=-1).astype(np.uint8)
    seeds = {}
    for name, im, fmt in [("rgb.jpg", Image.fromarray(rgb), "JPEG"),
                          ("grey.jpg", Image.fromarray(rgb[:, :, 0]), "JPEG"),
                          ("rgb.png", Image.fromarray(rgb), "PNG"),
                          ("palette.png", Image.fromarray(rgb).convert("P", colors=8), "PNG")]:
        buf = io.BytesIO()
        im.save(buf, fmt, **({"transparency": 2} if name == "palette.png" else {}))
        seeds[name] = buf.getvalue()
    return seeds


def main():
    out = pathlib.Path(sys.argv[1])
    sd = collections.OrderedDict()
    sd["conv.weight"] = torch.arange(12, dtype=torch.float32).reshape(1, 3, 2, 2)
    sd["bn.num_batches_tracked"] = torch.tensor(3)
    write(out, "pth", "state_dict.pth", torch_bytes(sd))
    write(out, "pth", "checkpoint.pth", torch_bytes({"epoch": 3, "state_dict": sd, "args": [1.5, "x"]}))
    write(out, "safetensors", "weights.safetensors",
          safetensors_bytes({"a": torch.ones(2, 3), "b": torch.arange(4)}))
    write(out, "elf", "plugin.so", elf_bytes())
    cooc = [[3, 1, 0, 0], [1, 2, 1, 0], [0, 1, 4, 2], [0, 0, 2, 2]]
    write(out, "statistics", "statistics.json", json.dumps(
        {"classes": CLASSES, "num_images": 6, "counts": [3, 2, 4, 2], "cooccurrence": cooc}))
    write(out, "partition", "partition.json", json.dumps(
        {"format": "cpsd-partition", "version": 1, "decomposer": "cgp", "k": 2, "seed": 0,
         "classes": CLASSES, "options": {"tau": 3.0}, "diagnostics": {"eigengap": 0.1},
         "groups": [{"classes": ["sky", "water"]}, {"classes": ["dog", "cat"]}]}))
    write(out, "coco", "instances.json", json.dumps(
        {"images": [{"id": 1, "file_name": "a.jpg", "width": 8, "height": 8},
                    {"id": 2, "file_name": "b.jpg", "width": 8, "height": 8}],
         "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [0, 0, 2, 2]},
                         {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}],
         "categories": [{"id": 1, "name": "sky"}, {"id": 3, "name": "dog"}]}))
    write(out, "voc", "main.txt", "2008_000001  1\n2008_000002 -1\0"
          "2008_000001 -1\n2008_000002  0\0" "2008_000001  1\n2008_000002  1\n")
    write(out, "nuswide", "both.txt", "path,labels\nimages/a.jpg,sky;water\nimages/b.jpg,\"['sky']\"\n"
          "\0a\\1.jpg\nb\\2.jpg\n\0" "1\n0\n\0" "1\n1\n")
    write(out, "csv", "labels.txt", "sky\nwater\n# comment\ndog\n\0image,labels\na.jpg,sky;dog\nb.jpg,\n")
    for name, image in image_seeds().items():
        write(out, "image", name, image)
    write(out, "toml", "run.toml", """[runtime]
threads = 1
seed = 3
[data]
format = "csv"
image_size = 32
[train]
epochs = 2
lr = 1e-3
[run]
methods = ["baseline"]
""")


if __name__ == "__main__":
    main()
