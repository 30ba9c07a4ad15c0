#!/usr/bin/env python3
"""Time the Python side of `make bench`: the notebook's img_to_encoding in a loop, or batched.

One process runs one mode, so the peak resident memory its parent reads (wait4's ru_maxrss) is that
mode's alone. The model is the same SavedModel the Go side loads, wrapped in a Keras model exactly as
scripts/golden_embeddings.py does (keras.layers.TFSMLayer in a keras.Model), and the TensorFlow
thread pools are sized before anything runs, with the numbers the Go side passes to tfmodel.Options.

Modes:
  loop     the notebook's img_to_encoding (load_img, np.around(x / 255, 12), expand_dims,
           predict_on_batch, divide by the L2 norm) once per image: the notebook verbatim.
  batched  the same preprocessing for every image, then model.predict(x, batch_size=BATCH) and each
           row divided by its L2 norm: how a Python user batches the notebook.

Prints one JSON object with the same fields as cmd/facenet-bench (side, mode, images, batch, intra,
inter, seconds and cpu_seconds per timed pass, warmup_s, load_s, preprocess_s, peak_rss_kib, embedding0).
"""

import argparse
import json
import resource
import sys
import time
from pathlib import Path

# export_facenet quiets TensorFlow's C++ logging before TensorFlow loads; golden_embeddings holds the
# notebook's img_to_encoding verbatim and the TFSMLayer wrapper.
import export_facenet as ef
import golden_embeddings as ge
import numpy as np
import tensorflow as tf


class BenchError(Exception):
    """The benchmark cannot run as asked (bad list, model or arguments)."""


def read_list(path):
    """Image paths, one per line, blank lines ignored."""
    paths = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()]
    paths = [p for p in paths if p]
    if not paths:
        raise BenchError(f"image list {path}: no image paths")
    return paths


def preprocess(path):
    """img_to_encoding's preprocessing for one image, without expand_dims (the notebook's lines)."""
    img = tf.keras.preprocessing.image.load_img(path, target_size=(160, 160))
    return np.around(np.array(img) / 255.0, decimals=12)


def encode_batched(model, paths, batch):
    """Every image preprocessed as the notebook does, one model.predict over batches, rows normalized."""
    x = np.stack([preprocess(p) for p in paths])
    embedding = model.predict(x, batch_size=batch, verbose=0)
    # The notebook divides by np.linalg.norm(embedding, ord=2); for a batch that is one matrix norm, so
    # each row gets its own vector norm here, which is what the notebook computes image by image.
    return embedding / np.linalg.norm(embedding, axis=1, keepdims=True)


def peak_rss_kib():
    """This process's peak resident set size in KiB: VmHWM, which starts afresh at exec. (ru_maxrss
    does not: it keeps the peak of the forked parent's pages from before exec.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def warmup_images(n, batch):
    """Leading images the batched warm-up encodes: a full batch plus, when n is not a multiple of
    batch, a batch of the remainder's size, so every shape of the timed pass has been traced and run
    once (Keras traces predict's function anew for a new batch shape). The Go side does the same."""
    if n <= batch:
        return n
    return min(n, batch + n % batch)


def passes(mode, model, paths, batch):
    """The warm-up (traces the tf.function and builds the executors: not timed) and the timed pass."""
    if mode == "loop":
        def warm():
            ge.img_to_encoding(paths[0], model)

        def timed():
            first = None
            for p in paths:
                e = ge.img_to_encoding(p, model)
                if first is None:
                    first = e
            return first[0]
        return warm, timed

    def warm():
        encode_batched(model, paths[:warmup_images(len(paths), batch)], batch)

    def timed():
        return encode_batched(model, paths, batch)[0]
    return warm, timed


def bench(mode, model_dir, paths, batch, intra, inter, reps):
    """Run one mode and return its report (a dict, see the module docstring)."""
    if mode not in ("loop", "batched"):
        raise BenchError(f"mode must be loop or batched, got {mode!r}")
    if batch <= 0 or reps <= 0 or intra < 0 or inter < 0:
        raise BenchError("batch and reps must be positive, intra and inter not negative")
    # Before any op runs: TensorFlow fixes its thread pools when its runtime starts.
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError as err:
        raise BenchError(f"TensorFlow already started, cannot size its thread pools: {err}") from err

    rep = {"side": "python", "mode": mode, "images": len(paths), "batch": 1 if mode == "loop" else batch,
           "intra": intra, "inter": inter}
    t0 = time.perf_counter()
    model = ge.load_savedmodel(Path(model_dir), ef.read_profile(Path(model_dir)))
    rep["load_s"] = time.perf_counter() - t0

    warm, timed = passes(mode, model, paths, batch)
    t0 = time.perf_counter()
    warm()
    rep["warmup_s"] = time.perf_counter() - t0

    seconds, cpu_seconds, first = [], [], None
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()  # process_time: every thread's user+system
        first = timed()
        seconds.append(time.perf_counter() - t0)
        cpu_seconds.append(time.process_time() - c0)
    rep["seconds"] = seconds
    rep["cpu_seconds"] = cpu_seconds

    t0 = time.perf_counter()
    for p in paths:
        preprocess(p)
    rep["preprocess_s"] = time.perf_counter() - t0
    rep["peak_rss_kib"] = peak_rss_kib()
    rep["embedding0"] = [float(np.float32(v)) for v in np.asarray(first).reshape(-1)]
    return rep


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Time the notebook's Python pipeline (one mode per process) on a FaceNet SavedModel "
                    "and print a JSON report; scripts/bench_compare.py runs it beside the Go side.")
    parser.add_argument("--mode", required=True, choices=["loop", "batched"],
                        help="loop: img_to_encoding per image; batched: model.predict over batches")
    parser.add_argument("--model", required=True, type=Path,
                        help="SavedModel directory with assets.extra/facenet.json")
    parser.add_argument("--list", required=True, type=Path, help="file with one image path per line")
    parser.add_argument("--batch", type=int, default=32, help="batch size of model.predict (batched mode)")
    parser.add_argument("--intra", type=int, default=2, help="TensorFlow intra-op threads")
    parser.add_argument("--inter", type=int, default=1, help="TensorFlow inter-op threads")
    parser.add_argument("--reps", type=int, default=1, help="timed passes over the images after the warm-up")
    args = parser.parse_args(argv)
    try:
        rep = bench(args.mode, args.model, read_list(args.list), args.batch, args.intra, args.inter, args.reps)
    except (BenchError, ef.ExportError, ge.GoldenError, OSError) as err:
        print(f"bench_python: {err}", file=sys.stderr)
        return 1
    print(json.dumps(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
