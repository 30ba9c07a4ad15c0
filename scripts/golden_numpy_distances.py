#!/usr/bin/env python3
"""Write numpy's float32 results for the notebook's vector arithmetic, for the Go parity tests.

For seeded random float32 vectors (lengths 128, 100, 64, 512, 7) this records, bit for bit:
  dist: np.linalg.norm(a - b) of two (1, n) float32 arrays   (the notebook's verify/who_is_it distance)
  norm: np.linalg.norm(a, ord=2) of a (1, n) float32 array    (the notebook's img_to_encoding norm)
as float32 bit patterns (hex), so the Go side can check it rounds exactly as numpy (OpenBLAS) does.
numpy's sdot kernel depends on the CPU; the file records which OpenBLAS core numpy ran on.
"""

import argparse
import json
import os
import sys

import facenet_scripts  # noqa: F401  (first: pins numpy's OpenBLAS kernel before numpy loads)
import numpy as np


def f32hex(x):
    return "%08x" % np.float32(x).view(np.uint32)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--count", type=int, default=300, help="vectors per length (default 300)")
    args = p.parse_args(argv)
    rng = np.random.default_rng(20261128)
    cases = []
    for n in (128, 100, 64, 512, 7):
        for _ in range(args.count if n == 128 else args.count // 5):
            scale = rng.uniform(0.01, 20)
            a = (rng.normal(size=(1, n)) * scale).astype(np.float32)
            b = (a + rng.normal(size=(1, n)) * rng.uniform(0.001, 0.2) * scale).astype(np.float32)
            cases.append({
                "a": [f32hex(v) for v in a.ravel()],
                "b": [f32hex(v) for v in b.ravel()],
                "dist": f32hex(np.linalg.norm(a - b)),
                "norm": f32hex(np.linalg.norm(a, ord=2)),
            })
    doc = {
        "generator": "scripts/golden_numpy_distances.py",
        "numpy": np.__version__,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "cases": cases,
    }
    with open(args.out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
