"""Golden face detections from the real PyPI mtcnn 1.0.0 package, for the Go detect package's tests.

For every image it runs mtcnn.MTCNN(device="CPU:0").detect_faces on the RGB uint8 array Pillow decodes
(PIL.Image.open(path).convert("RGB")), with the package's defaults, and records:
  faces:  what detect_faces returns (integer xywh box, confidence, integer keypoints);
  rows:   the same faces before rounding: [x1, y1, x2, y2] fitted to the image and the ten landmark
          coordinates (x of the five points, then y), as float64;
  synthetic: a mosaic of the --images crops (6 per row, grey 128 around them), the same
             enlarged 3x by pixel replication and halved by taking every second pixel, a grey frame;
  stages: how many boxes leave P-Net, R-Net and O-Net, and R-Net's boxes, to locate a difference.
The stage values come from running the package's own stage objects in the order detect_faces does;
the script checks that they reproduce detect_faces' answer before writing anything.
  by_sort: where numpy's other sorts change the answer, the faces and rows under each (see below).
Output is deterministic: images in sorted order, JSON with sorted keys. TensorFlow's float32 results
vary by about 1e-6 between CPUs, so the Go tests compare with bounds, not bit for bit.

mtcnn orders boxes with np.argsort, and numpy 2.0.2 leaves tied confidences (a saturated 1.0) in an
order that depends on which of its three sorts the CPU runs (facenet_scripts.NUMPY_SORTS): the main
answer is numpy's AVX-512 sort's (so the file is made on a CPU with AVX512_SKX), and the script runs
itself again with each other sort (--sort), recording by_sort for every case whose faces change. The
Go tests compare against the answer for the sort their CPU runs, as Go follows numpy's choice.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import facenet_scripts

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Photos of the 5-celebrity val set: every third in sorted order, 8 of them.
PHOTO_STRIDE, PHOTO_COUNT = 3, 8


def pick_photos(root: Path) -> list[Path]:
    photos = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return photos[::PHOTO_STRIDE][:PHOTO_COUNT]


# Synthetic cases built from the notebook crops (the Go test builds the same pixels): a mosaic with many
# faces, several at the border, and a uniform grey frame with none.
MOSAIC_COLS = 6


def synthetic(crops):
    import numpy as np

    rows = -(-len(crops) // MOSAIC_COLS)
    h, w = crops[0].shape[:2]
    mosaic = np.full((rows * h, MOSAIC_COLS * w, 3), 128, np.uint8)
    for i, c in enumerate(crops):
        if c.shape != crops[0].shape:
            raise ValueError(f"crop {i} is {c.shape}, the first is {crops[0].shape}")
        r, q = divmod(i, MOSAIC_COLS)
        mosaic[r * h:(r + 1) * h, q * w:(q + 1) * w] = c
    # Pixel replication and subsampling are exact in both languages: a 1728x864 frame with 18 large
    # faces (the pyramid's many levels, thousands of P-Net proposals) and one with 48-pixel faces.
    big = mosaic.repeat(3, axis=0).repeat(3, axis=1)
    small = mosaic[::2, ::2]
    return [("mosaic", mosaic), ("mosaic_x3", big), ("mosaic_half", np.ascontiguousarray(small)),
            ("blank", np.full((240, 320, 3), 128, np.uint8))]


def run(det, img):
    import numpy as np
    import tensorflow as tf
    from mtcnn.utils.bboxes import limit_bboxes
    from mtcnn.utils.images import load_images_batch, standarize_batch

    raw = load_images_batch([img])
    norm, oshapes, _ = standarize_batch(raw, normalize=True)
    counts, rnet = [], []
    b = None
    try:
        for i, stage in enumerate(det.stages):
            b = stage(bboxes_batch=b, images_normalized=norm, images_oshapes=oshapes)
            counts.append(int(b.shape[0]))
            if i == 1:
                rnet = b[:, 1:6].tolist()
    except tf.errors.InvalidArgumentError:  # what detect_faces reads as "no face"
        b = np.empty((0, 16))
    if b.shape[0]:
        b = limit_bboxes(b, images_shapes=oshapes, limit_landmarks=False)
    return b, counts, rnet


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Write golden MTCNN detections (mtcnn 1.0.0 detect_faces, defaults) as JSON.")
    parser.add_argument("--images", required=True, type=Path, help="folder of images, all of them used")
    parser.add_argument("--photos", required=True, type=Path,
                        help="the extracted 5-celebrity folder (build/celeb5); "
                             f"every {PHOTO_STRIDE}rd photo, {PHOTO_COUNT} in all, sorted by path")
    parser.add_argument("--out", required=True, type=Path, help="JSON file to write")
    parser.add_argument("--sort", choices=facenet_scripts.NUMPY_SORTS,
                        help="only this numpy sort's answer, without by_sort (the script runs itself so)")
    args = parser.parse_args(argv)
    if args.sort is None:
        return with_sorts(args, argv)

    import numpy as np
    from PIL import Image
    from mtcnn import MTCNN

    if facenet_scripts.numpy_sort() != args.sort:
        print(f"golden_mtcnn: numpy runs its {facenet_scripts.numpy_sort()} sort, not {args.sort}", file=sys.stderr)
        return 1

    det = MTCNN(device="CPU:0")
    inputs = [("images", p) for p in sorted(args.images.iterdir()) if p.is_file()]
    inputs += [("photos", p) for p in pick_photos(args.photos)]
    if not inputs:
        print("golden_mtcnn: no images", file=sys.stderr)
        return 1
    arrays = []
    for root, path in inputs:
        with Image.open(path) as im:
            arrays.append((root, path, np.asarray(im.convert("RGB"))))
    crops = [a for root, _, a in arrays if root == "images"]
    arrays += [("synthetic", Path(name), a) for name, a in synthetic(crops)]
    cases = []
    for root, path, img in arrays:
        faces = det.detect_faces(img)
        rows, counts, rnet = run(det, img)
        if len(faces) != rows.shape[0]:
            print(f"golden_mtcnn: {path}: stages give {rows.shape[0]} faces, detect_faces {len(faces)}",
                  file=sys.stderr)
            return 1
        for f, r in zip(faces, rows):
            if f["confidence"] != r[5]:
                print(f"golden_mtcnn: {path}: stage confidences differ from detect_faces", file=sys.stderr)
                return 1
        base = {"images": args.images, "photos": args.photos, "synthetic": Path()}[root]
        cases.append({
            "root": root,
            "file": str(path.relative_to(base)),
            "width": int(img.shape[1]), "height": int(img.shape[0]),
            "faces": [{"box": [int(v) for v in f["box"]], "confidence": float(f["confidence"]),
                       "keypoints": {k: [int(v) for v in xy] for k, xy in f["keypoints"].items()}}
                      for f in faces],
            "rows": [[float(v) for v in r[1:5]] + [float(v) for v in r[6:16]] for r in rows],
            "stages": {"counts": counts, "rnet": rnet},
        })
        print(f"{path.name}: {len(faces)} faces", file=sys.stderr)
    doc = {"reference": "PyPI mtcnn 1.0.0, MTCNN(device='CPU:0').detect_faces, defaults",
           "numpy_sort": args.sort, "cases": cases}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return 0


def with_sorts(args, argv):
    """Run this script once per numpy sort, in children, and merge: the AVX-512 sort's file with
    by_sort added where another sort's faces differ."""
    argv = list(sys.argv[1:] if argv is None else argv)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for sort in facenet_scripts.NUMPY_SORTS:
            path = Path(tmp) / f"{sort}.json"
            cmd = [sys.executable, os.path.abspath(__file__), *argv, "--out", str(path), "--sort", sort]
            if subprocess.run(cmd, env=facenet_scripts.numpy_sort_env(sort)).returncode != 0:
                return 1
            out[sort] = json.loads(path.read_text())
    main_sort, *others = facenet_scripts.NUMPY_SORTS
    doc = out[main_sort]
    doc.pop("numpy_sort")
    doc["reference"] += f"; numpy {__import__('numpy').__version__} sorts: main {main_sort}, by_sort the others"
    for i, c in enumerate(doc["cases"]):
        for sort in others:
            o = out[sort]["cases"][i]
            if (o["root"], o["file"]) != (c["root"], c["file"]):
                raise SystemExit(f"golden_mtcnn: the {sort} run has case {o['file']} where {c['file']} was")
            if (o["faces"], o["rows"]) != (c["faces"], c["rows"]):
                c.setdefault("by_sort", {})[sort] = {"faces": o["faces"], "rows": o["rows"]}
                print(f"golden_mtcnn: {c['file']}: numpy's {sort} sort gives other faces", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
