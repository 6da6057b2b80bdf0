#!/usr/bin/python3
"""Rewrites a PyTorch checkpoint in the format cpsd reads: a zip-format torch.save of a
plain dict of CPU tensors. Use it for legacy (pre-1.6, non-zip) files such as the 2017
torchvision weights or early-2020 TResNet files, or for checkpoints that pickle whole
modules.

usage: convert_checkpoint.py IN.pth OUT.pth [--entry model|state_dict|state_dict_ema]
"""
import argparse
import collections

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--entry", default="", help="member of a checkpoint dict holding the weights")
    a = ap.parse_args()
    obj = torch.load(a.src, map_location="cpu")
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if a.entry:
        obj = obj[a.entry]
    elif isinstance(obj, dict) and not any(torch.is_tensor(v) for v in obj.values()):
        for key in ("state_dict_ema", "model_ema", "state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    out = collections.OrderedDict((k, v.detach().cpu().contiguous()) for k, v in obj.items() if torch.is_tensor(v))
    if not out:
        raise SystemExit("convert_checkpoint: no tensors found in %s" % a.src)
    torch.save(dict(out), a.dst)
    print("wrote %s: %d tensors" % (a.dst, len(out)))


if __name__ == "__main__":
    main()
