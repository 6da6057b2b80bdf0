#!/usr/bin/python3
"""Expected outputs of timm's own TResNet-M/L/XL and ResNeXt50-32x4d (the architecture of
the SWSL weights) for tests/weights/backbone_parity_test, read from a timm checkout outside
this repository. No weights are stored: every tensor is set by a formula the test repeats,
BatchNorm statistics are mean 0 and variance 1, and the logits are those of eval mode, in
float64. Statistics taken from a 4-image batch (the first version of this fixture) made the
deep TResNets chaotic: a relative change of 1e-15 in the input moved TResNet-XL's logits by
0.97, so that fixture held for one BLAS only. With fixed statistics the logits move by at
most 1e-12 (relative) for an input change of 1e-12, and float32 is within 2e-6 of float64. Most of a
logit is then the same for every image, so the test also compares the logits less their
batch mean, the part the image decides.

usage: PYTHONPATH=PATH/TO/timm backbone_parity_fixture.py > tests/weights/backbone_parity_expected.json
"""
import json
import math
import sys

import torch


def wave(shape, a, b):
    """0.5 + 0.5 sin(a i) cos(b i) over the flat row-major index i: an image-like input."""
    i = torch.arange(math.prod(shape), dtype=torch.float64)
    return (0.5 + 0.5 * torch.sin(a * i) * torch.cos(b * i)).float().reshape(shape)


def formula(name, shape):
    """t = sin(1.7 i + 0.3 len(name)); matrices and kernels (2/sqrt(fan_in)) t, vectors
    named *weight 1 + 0.1 t, other vectors 0.1 t."""
    n = math.prod(shape)
    t = torch.sin(1.7 * torch.arange(n, dtype=torch.float64) + 0.3 * len(name))
    if len(shape) >= 2:
        t = t * (2.0 / math.sqrt(n / shape[0]))
    elif name.endswith("weight"):
        t = 1.0 + 0.1 * t
    else:
        t = 0.1 * t
    return t.float().reshape(shape)


def case(timm, arch, classes, size):
    model = timm.create_model(arch, pretrained=False, num_classes=classes)
    state = model.state_dict()
    with torch.no_grad():
        for name, t in state.items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_mean") or name.endswith("running_var"):
                t.fill_(0.0 if name.endswith("mean") else 1.0)
            else:
                t.copy_(formula(name, tuple(t.shape)))
        model.double().eval()
        logits = model(wave((4, 3, size, size), 0.37, 0.011).double())
    return {"timm": arch, "classes": classes, "size": size,
            "state": {k: list(v.shape) for k, v in state.items()
                      if not k.endswith("num_batches_tracked")},
            "logits": [float("%.17g" % v) for v in logits.flatten().tolist()]}


def main():
    import timm
    cases = [case(timm, "tresnet_m", 5, 96), case(timm, "tresnet_l", 5, 128),
             case(timm, "tresnet_xl", 5, 96), case(timm, "resnext50_32x4d", 5, 96)]
    json.dump({"source": "timm %s timm/models/tresnet.py, resnet.py; float64, eval mode, statistics 0/1"
               % timm.__version__, "torch": torch.__version__, "cases": cases}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
