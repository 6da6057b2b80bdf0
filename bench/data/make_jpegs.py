#!/usr/bin/python3
"""Writes N COCO-sized (640x480) JPEG photos-like images (smooth shapes over noise) and a
cpsd CSV dataset (image,labels + classes.txt) for the loader benchmark."""
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFilter


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    rng = random.Random(0)
    classes = ["c%d" % i for i in range(20)]
    rows = []
    for i in range(n):
        img = Image.effect_noise((640, 480), 40).convert("RGB")
        draw = ImageDraw.Draw(img)
        labels = rng.sample(classes, rng.randint(1, 4))
        for _ in range(12):
            x, y = rng.randint(0, 600), rng.randint(0, 440)
            w, h = rng.randint(30, 300), rng.randint(30, 300)
            colour = tuple(rng.randint(0, 255) for _ in range(3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x, y, x + w, y + h], fill=colour)
        img = img.filter(ImageFilter.GaussianBlur(1))
        name = "%05d.jpg" % i
        img.save(os.path.join(out, "images", name), quality=90)
        rows.append("%s,%s" % (name, ";".join(labels)))
    with open(os.path.join(out, "train.csv"), "w") as f:
        f.write("image,labels\n" + "\n".join(rows) + "\n")
    with open(os.path.join(out, "classes.txt"), "w") as f:
        f.write("\n".join(classes) + "\n")


if __name__ == "__main__":
    main()
