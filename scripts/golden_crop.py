#!/usr/bin/env python3
"""Golden file for FaceNet's crop rule (issue 18): testdata/detect/golden_crop.json.

For every celeb5 photo in the mtcnn golden file (whose boxes are the real mtcnn 1.0.0
detect_faces output), the face's box [x, y, w, h] is grown by margin/2 on each side in image
pixels and clipped to the image, as Sandberg's align_dataset_mtcnn.py does; the crop is then
resized with Pillow 11 to 160x160 with each filter. The sha256 of the uint8 RGB bytes is written,
so the file does not depend on the CPU (no TensorFlow runs here)."""
import argparse
import hashlib
import json
from pathlib import Path

from PIL import Image

FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR}
MARGINS = (0, 32, 44)
SIZE = 160


def crop_box(box, margin, w, h):
    x, y, bw, bh = box
    half = margin // 2
    return (max(x - half, 0), max(y - half, 0), min(x + bw + half, w), min(y + bh + half, h))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--golden", default="testdata/detect/golden_mtcnn.json", help="mtcnn golden file")
    ap.add_argument("--photos", required=True, help="build/celeb5")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cases = []
    for c in json.load(open(a.golden))["cases"]:
        if c["root"] != "photos":
            continue
        img = Image.open(Path(a.photos) / c["file"]).convert("RGB")
        for i, f in enumerate(c["faces"]):
            for m in MARGINS:
                crop = img.crop(crop_box(f["box"], m, img.width, img.height))
                for name, flt in FILTERS.items():
                    px = crop.resize((SIZE, SIZE), flt).tobytes()
                    cases.append({"file": c["file"], "face": i, "box": f["box"], "margin": m,
                                  "filter": name, "crop": list(crop_box(f["box"], m, img.width, img.height)),
                                  "sha256": hashlib.sha256(px).hexdigest()})
    with open(a.out, "w") as fh:
        json.dump({"reference": "Pillow crop+resize on mtcnn 1.0.0 boxes", "size": SIZE, "cases": cases},
                  fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
