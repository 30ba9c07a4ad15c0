"""Time the Python reference detector, mtcnn 1.0.0's MTCNN(device="CPU:0").detect_faces, per photo.

The photos are the 5-celebrity ones the golden file testdata/detect/golden_mtcnn.json lists (the Go
benchmark BenchmarkDetect runs on the same ones), decoded with Pillow before timing. Each photo is
detected once to warm up, then --rounds passes over all of them are timed; the best pass is reported
in ms per photo. With --go-ms (the Go benchmark's ms/photo) it also prints the ratio.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Time mtcnn 1.0.0 detect_faces on the golden photos.")
    parser.add_argument("--golden", type=Path, default=Path("testdata/detect/golden_mtcnn.json"))
    parser.add_argument("--photos", type=Path, required=True, help="the extracted 5-celebrity folder")
    parser.add_argument("--images", type=Path, help="the notebook crops: also time the 1728x864 mosaic_x3")
    parser.add_argument("--go-large-ms", type=float, help="Go's ms for mosaic_x3, to print the ratio")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the photos (best kept)")
    parser.add_argument("--go-ms", type=float, help="Go's ms/photo, to print the ratio")
    args = parser.parse_args(argv)

    import numpy as np
    from PIL import Image
    from mtcnn import MTCNN

    cases = [c for c in json.loads(args.golden.read_text())["cases"] if c["root"] == "photos"]
    if not cases:
        print("bench_detect: no photos in the golden file", file=sys.stderr)
        return 1
    imgs = []
    for c in cases:
        with Image.open(args.photos / c["file"]) as im:
            imgs.append(np.asarray(im.convert("RGB")))
    det = MTCNN(device="CPU:0")
    for img in imgs:
        det.detect_faces(img)
    best = float("inf")
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for img in imgs:
            det.detect_faces(img)
        best = min(best, time.perf_counter() - t0)
    ms = best / len(imgs) * 1e3
    print(f"python mtcnn 1.0.0 detect_faces: {ms:.2f} ms/photo ({len(imgs)} photos, best of {args.rounds})")
    if args.go_ms:
        print(f"go detect: {args.go_ms:.2f} ms/photo; Go is {ms / args.go_ms:.2f}x faster")
    if args.images:
        from golden_mtcnn import synthetic

        crops = []
        for p in sorted(q for q in args.images.iterdir() if q.is_file()):
            with Image.open(p) as im:
                crops.append(np.asarray(im.convert("RGB")))
        big = dict(synthetic(crops))["mosaic_x3"]
        det.detect_faces(big)
        best = float("inf")
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            det.detect_faces(big)
            best = min(best, time.perf_counter() - t0)
        print(f"python mtcnn 1.0.0 detect_faces: {best * 1e3:.1f} ms for the {big.shape[1]}x{big.shape[0]} mosaic")
        if args.go_large_ms:
            print(f"go detect: {args.go_large_ms:.1f} ms for it; Go is {best * 1e3 / args.go_large_ms:.2f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
