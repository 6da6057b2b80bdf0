#!/usr/bin/python3
"""Expected outputs of ML-Decoder's own head (Alibaba-MIIL/ML_Decoder,
src_files/ml_decoder/ml_decoder.py, read from a checkout outside this repository) for
tests/weights/ml_decoder_test: every tensor of its state dict and the input are set by a
formula the test repeats, so no weights are stored.

usage: ml_decoder_fixture.py PATH/TO/ml_decoder.py > tests/weights/ml_decoder_expected.json
"""
import importlib.util
import json
import math
import sys

import torch


def formula(name, shape):
    """value[i] = 0.1 * sin(1.7 * i + 0.3 * len(name)), i the flat index in row-major order."""
    n = math.prod(shape)
    i = torch.arange(n, dtype=torch.float64)
    return (0.1 * torch.sin(1.7 * i + 0.3 * len(name))).float().reshape(shape)


def case(module, classes, groups, embedding, channels, h, w):
    torch.manual_seed(0)
    head = module.MLDecoder(num_classes=classes, num_of_groups=groups, decoder_embedding=embedding,
                            initial_num_features=channels)
    state = head.state_dict()
    with torch.no_grad():
        for name, t in state.items():
            t.copy_(formula(name, tuple(t.shape)))
    head.eval()
    x = formula("input", (2, channels, h, w))
    with torch.no_grad():
        logits = head(x)
    return {"classes": classes, "groups": groups, "embedding": embedding, "channels": channels,
            "height": h, "width": w,
            "parameters": sum(p.numel() for p in head.parameters()),
            "state": {k: list(v.shape) for k, v in state.items()},
            "logits": logits.flatten().tolist()}


def main():
    spec = importlib.util.spec_from_file_location("ml_decoder", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    sys.modules["ml_decoder"] = module  # torch.jit.script reads its source through inspect
    spec.loader.exec_module(module)
    cases = [case(module, 10, 4, 32, 24, 3, 4),     # 4 groups of 3 classes, the last cut to 1
             case(module, 10, -1, 32, 24, 2, 2)]    # default groups (100) capped: one per class
    json.dump({"source": "Alibaba-MIIL/ML_Decoder src_files/ml_decoder/ml_decoder.py, eval mode",
               "torch": torch.__version__, "cases": cases}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
