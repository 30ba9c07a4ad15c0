#!/usr/bin/env python3
"""Measure oneDNN's bfloat16 auto mixed precision on a FaceNet SavedModel: speed and distance change.

Opt-in measurement only, never a default: grappler's `auto_mixed_precision_onednn_bfloat16` rewrites
the graph's convolutions and matmuls to bfloat16 (8 bits of mantissa), which pays only on CPUs with
AVX512-BF16 or AMX, and moves the notebook's distances by up to about 0.02. The script runs the same
images through the model's serving signature in float32 and then, in a fresh process (the option is
process-wide), with the rewrite on, and prints seconds per image per batch size and the largest change
of any normalized embedding and of any pairwise distance. Output is one JSON object.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import facenet_scripts  # noqa: F401  (pins numpy's OpenBLAS kernel, quiets TensorFlow)


def run_one(model, images, batches, reps, intra, inter, bf16):
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(intra)
    tf.config.threading.set_inter_op_parallelism_threads(inter)
    if bf16:
        tf.config.optimizer.set_experimental_options({"auto_mixed_precision_onednn_bfloat16": True})
    import export_facenet as ef

    x = ef.load_notebook_images(images)
    sig = tf.saved_model.load(model).signatures["serving_default"]
    out = {"bf16": bf16, "seconds_per_image": {}}
    for b in batches:
        xb = np.concatenate([x] * (-(-b // len(x))))[:b]
        sig(input_1=tf.constant(xb))  # warm-up: builds the (rewritten) graph and oneDNN primitives
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            sig(input_1=tf.constant(xb))
            times.append((time.perf_counter() - t0) / b)
        out["seconds_per_image"][str(b)] = sorted(times)[len(times) // 2]
    raw = sig(input_1=tf.constant(x))["output_0"].numpy().astype(np.float64)
    out["embeddings"] = (raw / np.linalg.norm(raw, axis=1, keepdims=True)).tolist()
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="SavedModel directory (e.g. build/models/facenet-keras)")
    parser.add_argument("--images", required=True, help="the notebook's images/ (18 images)")
    parser.add_argument("--batches", default="1,16", help="batch sizes to time (default 1,16)")
    parser.add_argument("--reps", type=int, default=5, help="timed runs per batch size; the median is kept")
    parser.add_argument("--intra", type=int, default=2)
    parser.add_argument("--inter", type=int, default=1)
    parser.add_argument("--child", choices=["fp32", "bf16"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",")]
    if args.child:
        print(json.dumps(run_one(args.model, args.images, batches, args.reps, args.intra, args.inter,
                                 args.child == "bf16")))
        return 0
    import numpy as np

    res = {}
    for kind in ("fp32", "bf16"):
        child = [sys.executable, __file__, "--child", kind, "--model", args.model, "--images", args.images,
                 "--batches", args.batches, "--reps", str(args.reps), "--intra", str(args.intra),
                 "--inter", str(args.inter)]
        p = subprocess.run(child, capture_output=True, text=True, env=os.environ)
        if p.returncode != 0:
            print(f"bench_bf16: {kind} run failed:\n{p.stderr[-2000:]}", file=sys.stderr)
            return 1
        res[kind] = json.loads(p.stdout.strip().splitlines()[-1])
    a, b = np.array(res["fp32"]["embeddings"]), np.array(res["bf16"]["embeddings"])
    i, j = np.triu_indices(len(a), k=1)
    da, db = np.linalg.norm(a[i] - a[j], axis=1), np.linalg.norm(b[i] - b[j], axis=1)
    report = {
        "model": str(Path(args.model).resolve()),
        "seconds_per_image": {k: res[k]["seconds_per_image"] for k in res},
        "max_embedding_change": float(np.max(np.abs(a - b))),
        "max_distance_change": float(np.max(np.abs(da - db))),
        "decisions_changed_at_0.7": int(np.sum((da < 0.7) != (db < 0.7))),
        "pairs": int(len(da)),
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
