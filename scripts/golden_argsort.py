#!/usr/bin/env python3
"""Write numpy's np.argsort permutations of tie-heavy float64 arrays, one per numpy CPU dispatch.

numpy 2.0.2 sorts float64 with x86-simd-sort's AVX-512 argsort on a CPU with AVX512_SKX, its AVX2
argsort on a CPU with AVX2, and its own introsort otherwise, and the three leave equal keys in
different orders. mtcnn orders boxes with np.argsort of their confidences, so internal/npsort
reproduces all three; this file holds numpy's answer for each, for its tests.

Each sort is run in a child Python with NPY_DISABLE_CPU_FEATURES switching off what lies above it
(facenet_scripts.numpy_sort_env), and the child reports the sort its numpy dispatches to, so a file is
only written when each sort really ran: generating it needs a CPU with AVX512_SKX (the Go tests then
check, on any CPU, the sorts it can run).
"""

import argparse
import json
import os
import subprocess
import sys

import facenet_scripts
import numpy as np

SIZES = (2, 3, 5, 8, 9, 15, 16, 17, 31, 33, 64, 100, 129, 255, 256, 257, 300, 511, 1100)

CHILD = r"""
import json, sys
import facenet_scripts
import numpy as np
cases = json.load(sys.stdin)
json.dump({"sort": facenet_scripts.numpy_sort(),
           "orders": [np.argsort(np.array(c, dtype=np.float64)).tolist() for c in cases]}, sys.stdout)
"""


def arrays(seed):
    """Deterministic arrays: few distinct values, probabilities with saturated 1.0s (rounded to 3 digits), rounded reals."""
    rng = np.random.default_rng(seed)
    out = []
    for n in SIZES:
        k = int(rng.integers(1, 6))
        out.append(rng.integers(0, k + 1, n).astype(np.float64))
        out.append(np.where(rng.random(n) < 0.5, 1.0, rng.random(n).round(3)))
        if n <= 300:
            out.append(rng.random(n).round(2))
    out.append(np.ones(2000))  # all equal: x86-simd-sort stops at once, numpy's introsort does not
    out.append(rng.integers(0, 3, 4000).astype(np.float64))  # deep recursion on the SIMD paths
    return [a.tolist() for a in out]


def run(cases, sort):
    env = facenet_scripts.numpy_sort_env(sort)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.abspath(__file__)), env.get("PYTHONPATH", "")])
    p = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(cases), env=env,
                       capture_output=True, text=True, check=True)
    r = json.loads(p.stdout)
    if r["sort"] != sort:
        sys.exit(f"golden_argsort: asked numpy for its {sort} sort, it ran {r['sort']}")
    return r


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--seed", type=int, default=20261203, help="seed of the arrays (default 20261203)")
    args = p.parse_args(argv)

    cases = arrays(args.seed)
    runs = {sort: run(cases, sort) for sort in facenet_scripts.NUMPY_SORTS}
    doc = {
        "numpy": np.__version__,
        "about": "np.argsort(float64) per numpy 2.0.2 CPU dispatch; written by scripts/golden_argsort.py",
        "cases": [{"keys": c, **{name: r["orders"][i] for name, r in runs.items()}} for i, c in enumerate(cases)],
    }
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    same = sum(1 for c in doc["cases"] if c["AVX512_SKX"] == c["AVX2"] == c["baseline"])
    print(f"golden_argsort: {len(cases)} arrays, {same} sorted alike by all three, -> {args.out}")


if __name__ == "__main__":
    main()
