#!/usr/bin/env python3
"""Cut 150x150 face crops from @vladmandic/face-api's sample photos (demo/sample*.jpg).

Faces are found by face-api itself (detect.mjs: SSD MobileNet v1 + 68 landmarks); each crop is the
square box face-api cuts for its recognition net (landmarks.align with dlib alignment), resized to
150x150 with Pillow's bilinear filter and written as PNG, so every decoder reads the same pixels and
our pipeline (load_img to 150x150) does not resize them again. A crops.json next to them records
the source photo, its sha256, the detector score and the box.

Example:
    .venv/bin/python scripts/faceapi/make_crops.py \\
        --package build/node/node_modules/@vladmandic/face-api --out testdata/faceapi/crops
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 150
HERE = Path(__file__).resolve().parent


def detect(package: Path, photos: list[Path], node: str) -> list[dict]:
    """Run detect.mjs over the photos (decoded by Pillow, passed as uint8 .npy)."""
    with tempfile.TemporaryDirectory() as tmp:
        npys = []
        for photo in photos:
            npy = Path(tmp) / f"{photo.stem}.npy"
            with Image.open(photo) as img:
                np.save(npy, np.asarray(img.convert("RGB")))
            npys.append(str(npy))
        cmd = [node, str(HERE / "detect.mjs"), "--package", str(package), *npys]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.strip()}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", required=True, type=Path,
                        help="the installed face-api package (its demo/ holds the sample photos)")
    parser.add_argument("--out", required=True, type=Path, help="directory for the PNG crops")
    parser.add_argument("--per-photo", type=int, default=1,
                        help="faces to keep per photo, highest detector score first (default 1)")
    parser.add_argument("--node", default="node", help="the Node.js executable (default: node)")
    args = parser.parse_args(argv)
    if args.per_photo < 1:
        parser.error("--per-photo must be at least 1")

    photos = sorted((args.package / "demo").glob("sample*.jpg"))
    if not photos:
        print(f"make_crops: no demo/sample*.jpg in {args.package}", file=sys.stderr)
        return 1
    try:
        detections = detect(args.package, photos, args.node)
    except (OSError, RuntimeError) as err:
        print(f"make_crops: {err}", file=sys.stderr)
        return 1

    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    for photo, found in zip(photos, detections):
        kept = 0
        with Image.open(photo) as img:
            rgb = img.convert("RGB")
            for face in found["faces"]:
                x, y, w, h = face["aligned"]
                # face-api does not pad a box that leaves the photo; skip such faces instead.
                if x < 0 or y < 0 or x + w > rgb.width or y + h > rgb.height or w != h:
                    continue
                name = f"{photo.stem}_face{kept}.png"
                crop = rgb.resize((SIZE, SIZE), Image.BILINEAR, box=(x, y, x + w, y + h))
                crop.info = {}  # no ICC profile or other metadata carried over from the photo
                crop.save(args.out / name)
                records.append({
                    "crop": name,
                    "source": f"@vladmandic/face-api/demo/{photo.name}",
                    "source_sha256": hashlib.sha256(photo.read_bytes()).hexdigest(),
                    "score": round(face["score"], 4),
                    "box_xywh": [x, y, w, h],
                    "resize": f"PIL bilinear {w}x{h} -> {SIZE}x{SIZE}",
                })
                kept += 1
                if kept == args.per_photo:
                    break
        if kept == 0:
            print(f"make_crops: no usable face in {photo.name}", file=sys.stderr)
    # One record per line keeps the file short and its diffs readable.
    (args.out / "crops.json").write_text("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]\n")
    print(f"wrote {len(records)} crops to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
