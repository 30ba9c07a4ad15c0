#!/usr/bin/env python3
"""Golden data for FaceNet's own pixel rules, for the Go `encoding` package.

David Sandberg's facenet (which the notebook's weights come from) feeds its networks either
`prewhiten(x)` (2017 checkpoints, such as 20170512-110547) or `fixed_image_standardization(x)`
(2018 checkpoints), not the notebook's `np.around(x / 255.0, 12)`. This script runs both, verbatim
from facenet/src/facenet.py, on the RGB arrays the Go side decodes exactly (every image in
testdata/preprocess/corpus that Pillow opens, unresized, and the notebook images through
load_img at 160x160 with nearest and bilinear), plus constant images (where prewhiten's
1/sqrt(size) floor applies), and records the sha256 of each float32 result and numpy's float64
mean and std as hex, so the Go side can be checked bit for bit.

Deterministic: the same numpy and Pillow give a byte-identical file; nothing here runs TensorFlow.
"""

import argparse
import hashlib
import json
import sys
import warnings
from pathlib import Path

import facenet_scripts  # noqa: F401  (first: pins numpy's OpenBLAS kernel before numpy loads)
import numpy as np
import PIL
from PIL import Image

import export_facenet as ef


# --- facenet/src/facenet.py, verbatim (the TensorFlow cast written as numpy's float32) -------------

def prewhiten(x):
    mean = np.mean(x)
    std = np.std(x)
    std_adj = np.maximum(std, 1.0/np.sqrt(x.size))
    y = np.multiply(np.subtract(x, mean), 1/std_adj)
    return y


def fixed_image_standardization(image):
    # facenet: image = (tf.cast(image, tf.float32) - 127.5)/128.0; both operations are exact in
    # float32 for 0..255, so numpy's float32 gives TensorFlow's bytes on any CPU.
    return (image.astype(np.float32) - np.float32(127.5)) / np.float32(128.0)


# (width, height, value): constant images hit prewhiten's floor (std 0 < 1/sqrt(size)).
CONSTANT = [(160, 160, 0), (160, 160, 128), (7, 5, 255), (1, 1, 37)]
NOTEBOOK_SIZES = [("nearest", 160, 160), ("bilinear", 160, 160)]


def sha(b):
    return hashlib.sha256(b).hexdigest()


def record(name, rgb, **extra):
    """One case: the uint8 HxWx3 array's sha, prewhiten's and fixed standardization's float32 shas."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    pw = prewhiten(rgb)
    fs = fixed_image_standardization(rgb)
    return {"name": name, **extra, "width": int(rgb.shape[1]), "height": int(rgb.shape[0]),
            "rgb_sha256": sha(rgb.tobytes()),
            "mean": float(np.mean(rgb)).hex(), "std": float(np.std(rgb)).hex(),
            "prewhiten_sha256": sha(pw.astype(np.float32).tobytes()),
            "prewhiten_first": [float(v) for v in pw.astype(np.float32).reshape(-1)[:4]],
            "fixed_standardization_sha256": sha(fs.tobytes())}


def golden(corpus, images):
    cases = []
    # The images golden_preprocess.py recorded as decoded (broken and unsupported files are its
    # subject, not this file's).
    manifest = json.loads((Path(corpus).parent / "manifest.json").read_text(encoding="utf-8"))
    decoded = {Path(i["file"]).name for i in manifest["images"] if i["file"].startswith("preprocess/corpus/")}
    for path in sorted(p for p in Path(corpus).iterdir() if p.name in decoded):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's palette-transparency note
            with Image.open(path) as im:
                rgb = np.array(im.convert("RGB"))
        cases.append(record(f"corpus/{path.name}", rgb, file=f"preprocess/corpus/{path.name}"))
    for name in ef.NOTEBOOK_IMAGES:
        for interp, h, w in NOTEBOOK_SIZES:
            img = ef.keras.utils.load_img(Path(images) / name, target_size=(h, w), interpolation=interp)
            cases.append(record(f"images/{name}@{interp}{w}x{h}", np.array(img), file=f"images/{name}",
                                interpolation=interp, target=[h, w]))
    for w, h, v in CONSTANT:
        cases.append(record(f"constant {w}x{h} {v}", np.full((h, w, 3), v, np.uint8), constant=v))
    return {"about": "facenet's prewhiten and fixed_image_standardization, verbatim, on exact RGB arrays",
            "generator": "scripts/golden_pixel_rules.py",
            "versions": {"numpy": np.__version__, "pillow": PIL.__version__}, "cases": cases}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("testdata/preprocess/corpus"),
                        help="images to decode unresized (default testdata/preprocess/corpus)")
    parser.add_argument("--images", type=Path, required=True, help="the notebook's images/ directory")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    try:
        doc = golden(args.corpus, args.images)
    except OSError as err:
        print(f"golden_pixel_rules: {err}", file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(doc['cases'])} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
