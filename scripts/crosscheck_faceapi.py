#!/usr/bin/env python3
"""Cross-check the converted dlib-resnet-v1 SavedModel against face-api.js itself.

Each image is preprocessed as our pipeline does it (keras load_img, nearest, to the profile's
150x150, RGB, float32 pixels 0..255), written as .npy, and given to
  * scripts/faceapi/descriptors.mjs: @vladmandic/face-api's own faceRecognitionNet in Node
    (tfjs cpu or wasm backend), the reference;
  * the exported SavedModel (serve / serving_default), as the Go code runs it;
  * optionally, the Go CLI's output (--go-json: JSON lines {"image": path, "embedding": [...]}, e.g.
    from `facenet embed --json --raw`).
It prints max |diff| per image and overall and exits 1 when a comparison is over --tolerance.

--identify prints who_is_it for camera_0..5 against the notebook database (when those images are
among --images), and --golden-out writes face-api's descriptors as JSON lines for testdata.

Example:
    .venv/bin/python scripts/crosscheck_faceapi.py \\
        --package build/node/node_modules/@vladmandic/face-api --model build/models/dlib-resnet-v1 \\
        --images ../shared/notebook/images/* testdata/faceapi/crops/*.png --identify
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

DESCRIPTORS_JS = Path(__file__).resolve().parent / "faceapi" / "descriptors.mjs"
# The notebook's database, in its insertion order (who_is_it keeps the first of equal distances).
DATABASE = ("danielle.png", "younes.jpg", "tian.jpg", "andrew.jpg", "kian.jpg", "dan.jpg",
            "sebastiano.jpg", "bertrand.jpg", "kevin.jpg", "felix.jpg", "benoit.jpg", "arnaud.jpg")
CAMERAS = tuple(f"camera_{i}.jpg" for i in range(6))
# The notebook's verify(image, identity) calls, in the order it printed them (EXPECTED.md).
VERIFY_CALLS = (("camera_0.jpg", "younes.jpg"), ("camera_2.jpg", "kian.jpg"), ("andrew.jpg", "andrew.jpg"),
                ("camera_1.jpg", "bertrand.jpg"), ("camera_3.jpg", "bertrand.jpg"),
                ("camera_1.jpg", "younes.jpg"), ("camera_3.jpg", "younes.jpg"))


class CheckError(Exception):
    """A failure of the check's machinery (as opposed to a difference over tolerance)."""


def read_profile(model: Path) -> dict:
    """The model's facenet-profile/v1, checked for what face-api's input convention needs."""
    path = model / "assets.extra" / "facenet.json"
    try:
        prof = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise CheckError(f"read profile {path}: {err}") from err
    inp = prof["input"]
    if inp["divide_by"] != 1.0 or inp["round_decimals"] is not None or inp["color_order"] != "RGB":
        raise CheckError(f"{path}: face-api takes RGB 0..255, profile says divide_by "
                         f"{inp['divide_by']}, round_decimals {inp['round_decimals']}, {inp['color_order']}")
    return prof


def preprocess(path: Path, prof: dict) -> np.ndarray:
    """Our pipeline's model input for one image: (H, W, 3) float32 RGB 0..255."""
    from keras.utils import load_img

    inp = prof["input"]
    img = load_img(path, color_mode="rgb", target_size=(inp["height"], inp["width"]),
                   interpolation=inp["interpolation"], keep_aspect_ratio=inp["keep_aspect_ratio"])
    return np.asarray(img, dtype=np.float32)


def run_faceapi(package: Path, arrays: list[np.ndarray], backend: str, node: str) -> list[np.ndarray]:
    """face-api.js descriptors for the arrays, in order."""
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, arr in enumerate(arrays):
            files.append(str(Path(tmp) / f"{i:04d}.npy"))
            np.save(files[-1], arr)
        listing = Path(tmp) / "inputs.txt"
        listing.write_text("\n".join(files) + "\n")
        cmd = [node, str(DESCRIPTORS_JS), "--package", str(package), "--backend", backend,
               "--list", str(listing)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError as err:
            raise CheckError(f"run {node}: {err}") from err
        if proc.returncode != 0:
            raise CheckError(f"descriptors.mjs exit {proc.returncode}: {proc.stderr.strip()}")
    by_file = {}
    for line in proc.stdout.splitlines():
        if line.strip():
            rec = json.loads(line)
            by_file[rec["image"]] = np.asarray(rec["embedding"], dtype=np.float32)
    missing = [f for f in files if f not in by_file]
    if missing:
        raise CheckError(f"descriptors.mjs gave no embedding for {missing}")
    return [by_file[f] for f in files]


def run_savedmodel(model: Path, prof: dict, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The SavedModel's outputs, one image per call as the Go CLI feeds it."""
    import tensorflow as tf

    sig = prof["signature"]
    fn = tf.saved_model.load(str(model)).signatures[sig["signature_def"]]
    return [fn(**{sig["input"]: tf.constant(a[None])})[sig["output"]].numpy()[0] for a in arrays]


def read_go_json(path: Path, images: list[Path]) -> list[np.ndarray]:
    """The Go embeddings for images, matched by path as given, then resolved path, then basename."""
    recs = []
    try:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip():
                rec = json.loads(line)
                recs.append((rec["image"], np.asarray(rec["embedding"], dtype=np.float32)))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CheckError(f"read {path}: {err}") from err
    exact = {img: emb for img, emb in recs}
    resolved = {str(Path(img).resolve()): emb for img, emb in recs}
    names: dict[str, list[np.ndarray]] = {}
    for img, emb in recs:
        names.setdefault(Path(img).name, []).append(emb)
    out = []
    for img in images:
        emb = exact.get(str(img))
        if emb is None:
            emb = resolved.get(str(img.resolve()))
        if emb is None and len(names.get(img.name, [])) == 1:
            emb = names[img.name][0]
        if emb is None:
            raise CheckError(f"{path}: no embedding for {img}")
        out.append(emb)
    return out


def compare(label: str, images: list[Path], ref: list[np.ndarray], got: list[np.ndarray],
            tolerance: float, verbose: bool) -> float:
    """Print per-image and overall max |diff|; return the overall one."""
    worst = 0.0
    for img, a, b in zip(images, ref, got):
        if a.shape != b.shape:
            raise CheckError(f"{label}: {img}: shapes {a.shape} vs {b.shape}")
        d = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
        worst = max(worst, d)
        if verbose or d > tolerance:
            print(f"  {label}: {img.name}: max|diff| {d:.3g}{'  OVER' if d > tolerance else ''}")
    print(f"{label}: max|diff| {worst:.3g} over {len(images)} images (tolerance {tolerance:g}): "
          f"{'ok' if worst <= tolerance else 'FAIL'}")
    return worst


def identify(images: list[Path], embs: list[np.ndarray], threshold: float, label: str) -> None:
    """who_is_it for each camera image against the notebook database, as the notebook does it."""
    by_name = {img.name: e for img, e in zip(images, embs)}
    if not all(n in by_name for n in DATABASE):
        print(f"{label}: --identify needs the 12 database images among --images")
        return
    print(f"{label}: nearest database identity (threshold {threshold}):")
    for cam in CAMERAS:
        if cam not in by_name:
            continue
        dists = [(float(np.linalg.norm(by_name[cam] - by_name[n])), n) for n in DATABASE]
        min_dist, who = 100.0, None
        for d, n in dists:
            if d < min_dist:
                min_dist, who = d, n
        runners = ", ".join(f"{n.split('.')[0]} {d:.4f}" for d, n in sorted(dists)[1:3])
        print(f"  {cam}: {who.split('.')[0]} {min_dist:.4f} "
              f"({'match' if min_dist < threshold else 'over threshold'}; next: {runners})")
    print(f"{label}: the notebook's verify calls (accept when distance < {threshold}):")
    for img, who in VERIFY_CALLS:
        if img in by_name:
            d = float(np.linalg.norm(by_name[img] - by_name[who]))
            print(f"  verify({img}, {who.split('.')[0]}): {d:.4f} {'accept' if d < threshold else 'reject'}")


def write_golden(path: Path, images: list[Path], embs: list[np.ndarray]) -> None:
    """face-api's descriptors as JSON lines {"image": file name, "embedding"}, sorted by name.

    The values are float32 widened to float64 and printed in full, so they parse back exactly.
    """
    names = [img.name for img in images]
    if len(set(names)) != len(names):
        raise CheckError("--golden-out needs distinct file names")
    lines = []
    for name, emb in sorted(zip(names, embs), key=lambda p: p[0]):
        lines.append(json.dumps({"image": name, "embedding": [float(v) for v in emb]}))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Compare face-api.js descriptors (Node) with the converted SavedModel and, "
                    "optionally, the Go CLI's output. Exit 1 over tolerance.")
    parser.add_argument("--package", required=True, type=Path,
                        help="installed @vladmandic/face-api package dir")
    parser.add_argument("--model", required=True, type=Path, help="the dlib-resnet-v1 SavedModel dir")
    parser.add_argument("--images", required=True, nargs="+", type=Path, help="image files")
    parser.add_argument("--go-json", type=Path,
                        help="JSON lines {\"image\", \"embedding\"} from the Go CLI, compared to face-api")
    parser.add_argument("--backend", default="cpu", choices=("cpu", "wasm"),
                        help="tfjs backend for face-api (default cpu)")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="max |diff| allowed (1e-4)")
    parser.add_argument("--identify", action="store_true",
                        help="print the nearest notebook identity for camera_0..5")
    parser.add_argument("--golden-out", type=Path, help="write face-api's descriptors here (JSON lines)")
    parser.add_argument("--node", default="node", help="Node.js executable (default node)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every image's diff")
    args = parser.parse_args(argv)

    try:
        prof = read_profile(args.model)
        arrays = []
        for img in args.images:
            try:
                arrays.append(preprocess(img, prof))
            except (OSError, ValueError) as err:
                raise CheckError(f"load {img}: {err}") from err
        ref = run_faceapi(args.package, arrays, args.backend, args.node)
        ours = run_savedmodel(args.model, prof, arrays)
        go = read_go_json(args.go_json, args.images) if args.go_json else None
        worst = compare(f"SavedModel vs face-api.js ({args.backend})", args.images, ref, ours,
                        args.tolerance, args.verbose)
        if go is not None:
            worst = max(worst, compare(f"Go vs face-api.js ({args.backend})", args.images, ref, go,
                                       args.tolerance, args.verbose))
        if args.identify:
            threshold = prof["distance"]["threshold"]
            identify(args.images, ref, threshold, "face-api.js")
            identify(args.images, ours, threshold, "SavedModel")
        if args.golden_out:
            write_golden(args.golden_out, args.images, ref)
    except CheckError as err:
        print(f"crosscheck_faceapi: {err}", file=sys.stderr)
        return 1
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
