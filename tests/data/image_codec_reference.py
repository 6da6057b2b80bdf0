#!/usr/bin/env python3
"""Writes test images with PIL and what PIL (or a formula) decodes them to.

usage: image_codec_reference.py OUT_DIR
       image_codec_reference.py --decode FILE...
For every NAME it writes NAME.<jpg|png> and, per reduction R it applies, NAME.r<R>.rgb: a
text line "width height" then width * height * 3 bytes of RGB, as PIL decodes it (JPEG
reductions through PIL's draft mode, libjpeg's DCT scaling). --decode writes FILE.pil.rgb,
PIL's decoding of each FILE, in the same form.
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image

if sys.argv[1] == "--decode":
    for name in sys.argv[2:]:
        rgb = np.asarray(Image.open(name).convert("RGB"))
        with open(name + ".pil.rgb", "wb") as f:
            f.write(f"{rgb.shape[1]} {rgb.shape[0]}\n".encode() + rgb.tobytes())
    sys.exit(0)

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(5)


def photo(w, h):
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 / w, y * 255 / h, (x + y) * 127 / (w + h) + 64], axis=-1)
    return np.clip(base + rng.normal(0, 24, base.shape), 0, 255).astype(np.uint8)


def expect(name, rgb, reduction=1):
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    with open(out / f"{name}.r{reduction}.rgb", "wb") as f:
        f.write(f"{rgb.shape[1]} {rgb.shape[0]}\n".encode())
        f.write(rgb.tobytes())


def opened_at(path, mode, r):
    """PIL's decoding of the JPEG at path in mode, reduced by r (libjpeg's DCT scaling)."""
    im = Image.open(path)
    w, h = im.size
    if r > 1:
        im.draft(mode, (w // r, h // r))
        assert im.size == (-(-w // r), -(-h // r)), (path, r, im.size)
    return im


def jpeg(name, image, reductions, **save):
    path = out / f"{name}.jpg"
    image.save(path, quality=90, **save)
    for r in reductions:
        expect(name, np.asarray(opened_at(path, "RGB", r).convert("RGB")), r)


def png(name, image, rgb=None):
    image.save(out / f"{name}.png")
    expect(name, np.asarray(image.convert("RGB")) if rgb is None else rgb)


jpeg("photo420", Image.fromarray(photo(97, 61)), [1, 2, 4, 8])
jpeg("photo444", Image.fromarray(photo(64, 40)), [1, 2], subsampling=0)
jpeg("grey", Image.fromarray(photo(45, 33)[:, :, 0]), [1, 2])
png("rgb", Image.fromarray(photo(31, 17)))
rgba = np.concatenate([photo(23, 19), rng.integers(0, 256, (19, 23, 1), dtype=np.uint8)], -1)
png("rgba", Image.fromarray(rgba, "RGBA"), rgba[:, :, :3])  # alpha dropped, not blended
png("grey_alpha", Image.fromarray(rgba[:, :, :2], "LA"), np.repeat(rgba[:, :, :1], 3, -1))
palette = Image.fromarray(photo(29, 21)).convert("P", palette=Image.ADAPTIVE, colors=16)
palette.info["transparency"] = 3
png("palette", palette)
# 16-bit grey: the high byte of each sample (PIL's own conversion clips instead).
deep = rng.integers(0, 65536, (13, 27), dtype=np.uint16)
png("grey16", Image.fromarray(deep, "I;16"), np.repeat((deep >> 8)[:, :, None], 3, -1).astype(np.uint8))


def cmyk_jpeg(name, ink, reductions):
    """An Adobe CMYK JPEG (PIL stores the ink inverted); the expected RGB is the formula
    colour = (255 - ink) * (255 - black) / 255, rounded down, of the ink PIL decodes."""
    path = out / f"{name}.jpg"
    Image.fromarray(ink, "CMYK").save(path, quality=90)
    for r in reductions:
        im = opened_at(path, "CMYK", r)
        assert im.mode == "CMYK", im.mode
        decoded = np.asarray(im).astype(np.int32)
        white = 255 - decoded
        expect(name, white[:, :, :3] * white[:, :, 3:] // 255, r)


cmyk_jpeg("cmyk", np.concatenate([photo(38, 26), photo(38, 26)[:, :, :1] // 2], -1), [1, 2])
