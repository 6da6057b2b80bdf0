#!/usr/bin/python3
"""Writes PyTorch files of every shape cpsd's reader must handle, and torchvision
reference outputs. usage: make_fixtures.py OUT_DIR [parity]"""
import argparse
import collections
import io
import json
import os
import pathlib
import pickle
import struct
import sys
import zipfile
import zlib

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
    hostile(out)


# ---- Hostile files (and odd legitimate ones) for the reader's checks. They are only written
# here, never loaded: several would run code in Python's torch.load.

def write_zip(path, entries, zip64=False, deflate=(), sizes=None):
    """A zip archive written byte by byte, so headers can lie. entries: [(name, data)];
    deflate: names to compress; sizes: {name: declared uncompressed size}."""
    out, central = bytearray(), bytearray()
    for name, data in entries:
        raw = name.encode()
        crc = zlib.crc32(data)
        if name in deflate:
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            body, method = packer.compress(data) + packer.flush(), 8
        else:
            body, method = data, 0
        size = (sizes or {}).get(name, len(data))
        offset = len(out)
        if zip64:
            extra = struct.pack("<HHQQ", 1, 16, size, len(body))
            out += struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, method, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(raw), len(extra)) + raw + extra + body
            cextra = struct.pack("<HHQQQ", 1, 24, size, len(body), offset)
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, method, 0, 0, crc, 0xFFFFFFFF,
                                   0xFFFFFFFF, len(raw), len(cextra), 0, 0, 0, 0, 0xFFFFFFFF) + raw + cextra
        else:
            out += struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, method, 0, 0, crc, len(body), size,
                               len(raw), 0) + raw + body
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, method, 0, 0, crc, len(body),
                                   size, len(raw), 0, 0, 0, 0, 0, offset) + raw
    cd_offset, n = len(out), len(entries)
    out += central
    if zip64:
        record = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, n, n, len(central), cd_offset)
        out += struct.pack("<IIQI", 0x07064b50, 0, record, 1)
        out += struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        out += struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, n, n, len(central), cd_offset, 0)
    with open(path, "wb") as f:
        f.write(bytes(out))


def zip_entries(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


class FakeStorage:
    """Pickled as torch.save pickles a storage: a persistent id."""
    def __init__(self, key, numel, kind=torch.FloatStorage):
        self.key, self.numel, self.kind = key, numel, kind


class FakeTensor:
    """Pickled as torch.save pickles a tensor, with any geometry."""
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, FakeStorage):
            return ("storage", obj.kind, obj.key, "cpu", obj.numel)
        return None


def torch_zip(path, pickled, records=None, extra=()):
    """A .pth as torch.save lays it out around the pickle bytes `pickled`."""
    write_zip(path, [("archive/data.pkl", pickled)] +
              [("archive/data/" + k, v) for k, v in (records or {}).items()] +
              [("archive/version", b"3\n")] + list(extra))


def crafted(path, obj, records):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(obj)
    torch_zip(path, buf.getvalue(), records)


class Runs:
    """pickle.dumps(Runs(f, arg)) is what a malicious checkpoint holds: a call of f(arg)."""
    def __init__(self, f, arg):
        self.f, self.arg = f, arg

    def __reduce__(self):
        return (self.f, (self.arg,))


def hostile(out):
    import builtins
    import subprocess
    import numpy
    path = lambda name: os.path.join(out, name)
    sd = state_dict()
    # 1. Globals. torch.save pickles the payloads (GLOBAL + REDUCE; STACK_GLOBAL in protocol 4).
    torch.save({"state_dict": sd, "payload": Runs(os.system, "echo pwned")}, path("evil_reduce.pth"))
    torch.save({"state_dict": sd, "payload": Runs(builtins.eval, "print(1)")}, path("evil_stack_global.pth"),
               pickle_protocol=4)
    text = b"X\x0a\x00\x00\x00echo pwned"
    torch_zip(path("evil_os_system.pth"), b"\x80\x02cos\nsystem\n" + text + b"\x85R.")
    torch_zip(path("evil_inst.pth"), b"(" + text + b"isubprocess\nPopen\n.")
    torch_zip(path("evil_obj.pth"), b"(cbuiltins\neval\n" + text + b"o.")
    torch_zip(path("evil_newobj.pth"), b"\x80\x02csubprocess\nPopen\n" + text + b"\x85\x81}b.")
    # A call of something that is not a global: data never becomes an action.
    torch_zip(path("evil_string_call.pth"), b"\x80\x02X\x1f\x00\x00\x00torch._utils._rebuild_tensor_v2)R.")
    # Legitimate Python data that checkpoints hold beside their tensors.
    torch.save({"state_dict": sd, "args": argparse.Namespace(out=pathlib.Path("/tmp/run"), tags={"a", "b"}),
                "best_mAP": numpy.float64(85.0), "device": torch.device("cpu"), "dtype": torch.float16,
                "blob": b"\x00\x01", "seed": 2 ** 70, "shape": torch.Size([2, 3])}, path("data_objects.pth"))
    torch.save(sd, path("protocol4.pth"), pickle_protocol=4)
    # Deep, cyclic and huge pickles.
    depth = 1000000
    torch_zip(path("deep.pth"), b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b".")
    torch_zip(path("cycle.pth"), b"\x80\x02}q\x00X\x04\x00\x00\x00selfh\x00s.")
    torch_zip(path("many_values.pth"), b"\x80\x02" + b"N" * 3000000 + b".")
    torch_zip(path("many_memo.pth"), b"\x80\x02N" + b"\x94" * 3000000 + b".")
    # One dict held twice by the next, 40 times over: 2^40 paths for a walk that expands them.
    laughs = b"\x80\x02}q\x00"
    for i in range(1, 41):
        laughs += (b"}q" + bytes([i]) + b"(X\x01\x00\x00\x00ah" + bytes([i - 1]) + b"X\x01\x00\x00\x00bh" +
                   bytes([i - 1]) + b"u")
    torch_zip(path("laughs.pth"), laughs + b".")
    # 2. Zip entry names, sizes and methods.
    entries = zip_entries(path("plain.pth"))
    write_zip(path("zip_deflated.pth"), entries, deflate={n for n, _ in entries})
    write_zip(path("zip64.pth"), entries, zip64=True)
    write_zip(path("zip_climb.pth"), entries + [("plain/../../../home/user/.bashrc", b"echo pwned\n")])
    write_zip(path("zip_parent.pth"), entries + [("../x", b"x")])
    write_zip(path("zip_absolute.pth"), entries + [("/etc/cron.d/x", b"x")])
    write_zip(path("zip_duplicate.pth"), entries + [("plain/DATA/0", b"\x00" * 96)])
    write_zip(path("zip_bomb.pth"), entries, deflate={"plain/data/0"}, sizes={"plain/data/0": 0xFFFFFFF0})
    write_zip(path("zip64_bomb.pth"), entries, zip64=True, deflate={"plain/data/0"},
              sizes={"plain/data/0": 2 ** 40})
    write_zip(path("zip_stored_sizes.pth"), entries, sizes={"plain/data/0": 2 ** 31})
    # 3. Tensor geometry against a storage of 10 floats.
    ten = struct.pack("<10f", *range(10))

    def geometry(name, offset, size, stride, numel=10):
        crafted(path(name), collections.OrderedDict(w=FakeTensor(FakeStorage("0", numel), offset, size, stride)),
                {"0": ten})
    geometry("past_storage.pth", 5, [6], [1])
    geometry("huge_shape.pth", 0, [2 ** 40], [1])
    geometry("overflow_shape.pth", 0, [2 ** 40, 2 ** 40, 2 ** 40], [0, 0, 0])
    geometry("expanded.pth", 0, [2 ** 40], [0])
    geometry("negative_size.pth", 0, [-5], [1])
    geometry("negative_stride.pth", 5, [3], [-1])
    geometry("negative_offset.pth", -1, [3], [1])
    geometry("stride_overflow.pth", 0, [2, 2], [2 ** 62, 2 ** 62])
    geometry("size_stride_lengths.pth", 0, [2, 2], [1])
    # 4. Storages: shared ones (views, legitimately), truncated, missing, misnamed.
    shared = FakeStorage("0", 10)
    crafted(path("shared_storage.pth"), collections.OrderedDict(
        a=FakeTensor(shared, 0, [3], [1]), b=FakeTensor(shared, 2, [2, 3], [1, 2]),
        c=FakeTensor(shared, 0, [5, 2], [1, 5]), d=FakeTensor(shared, 9, [0], [1])), {"0": ten})
    geometry("truncated_storage.pth", 0, [3], [1], numel=20)
    geometry("huge_storage.pth", 0, [3], [1], numel=2 ** 40)
    crafted(path("missing_storage.pth"), collections.OrderedDict(w=FakeTensor(FakeStorage("7", 10), 0, [3], [1])),
            {"0": ten})
    crafted(path("storage_key.pth"), collections.OrderedDict(
        w=FakeTensor(FakeStorage("../../../etc/passwd", 10), 0, [3], [1])), {"0": ten})
    crafted(path("storage_types.pth"), collections.OrderedDict(
        a=FakeTensor(FakeStorage("0", 10), 0, [3], [1]),
        b=FakeTensor(FakeStorage("0", 5, torch.LongStorage), 0, [3], [1])), {"0": ten})


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
