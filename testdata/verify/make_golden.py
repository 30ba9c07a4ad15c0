#!/usr/bin/env python3
"""Write the numpy reference tables that the Go package verify is tested against.

The tables are committed; rerun this only to regenerate them (the output is deterministic):

    .venv/bin/python testdata/verify/make_golden.py --out testdata/verify

float32_repr.json  str() of numpy float32 scalars, as the notebook prints distances
distances.json     np.linalg.norm(a - b), squared distance, cosine, per-row normalization
triplet.json       the notebook's triplet_loss computed with numpy
calibration.json   facenet's calculate_roc (David Sandberg, src/facenet.py), run literally over a
                   threshold grid on synthetic distances with the Go package's fold assignment
"""
import argparse
import json
import os
import struct

import numpy as np


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", float(np.float32(x))))[0]


def repr_table(rng):
    vals = [0.5992949, 1.0259346, 0.0, -0.0, 0.54364836, 0.38616243, 1.3963861, 1.3872949,
            0.7, 1.0, 100.0, 1e-4, 9.9e-5, 1e-5, 1.5e-5, 1e16, 1e15, 9.999e15, 123456789.0,
            3.4028235e38, 1e-45, 1.17549435e-38, 0.1, 16777216.0, 2.0, 1.4142135]
    bits = [f32_bits(v) for v in vals]
    bits += [0x7FC00000, 0x7F800000, 0xFF800000]  # nan, inf, -inf
    # Every exponent, random mantissas and signs.
    for _ in range(3000):
        b = int(rng.integers(0, 2**32))
        if (b >> 23) & 0xFF == 0xFF:  # skip nan/inf payloads
            continue
        bits.append(b)
    # Distance-like values, and values around the positional/scientific switches.
    for v in rng.uniform(0, 2, 1500).astype(np.float32):
        bits.append(f32_bits(v))
    for edge in (1e-4, 1e16):
        b = f32_bits(edge)
        bits += [b + d for d in range(-3, 4)]
    for k in range(-45, 39):
        bits.append(f32_bits(10.0 ** k))
    out = []
    for b in bits:
        f = np.frombuffer(struct.pack("<I", b), dtype=np.float32)[0]
        out.append({"bits": b, "str": str(f)})
    return out


def vec(a):
    return [float(x) for x in a]


def distance_table(rng):
    rows = []
    for i in range(16):
        dim = [128, 128, 128, 3, 7, 512][i % 6]
        a = rng.normal(0, 1, dim).astype(np.float32)
        b = rng.normal(0, 1, dim).astype(np.float32)
        if i % 2 == 0:  # the notebook's unit embeddings
            a = a / np.linalg.norm(a)
            b = b / np.linalg.norm(b)
        if i % 5 == 0:  # a close pair, as a genuine match
            b = (a + rng.normal(0, 0.01, dim)).astype(np.float32)
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        rows.append({
            "a": vec(a), "b": vec(b),
            "l2_float32": float(np.linalg.norm(a - b)),
            "sq_l2_float32": float(np.sum(np.square(a - b))),
            "l2_float64": float(np.linalg.norm(a64 - b64)),
            "cosine_float64": float(np.dot(a64, b64) / (np.linalg.norm(a64) * np.linalg.norm(b64))),
            "normalized_a": vec(a / np.linalg.norm(a)),
        })
    return rows


def triplet_table(rng):
    rows = []
    for i, (n, dim, alpha) in enumerate([(1, 128, 0.2), (3, 128, 0.2), (8, 128, 0.2), (5, 16, 0.5),
                                         (4, 128, 0.0), (6, 4, 2.0)]):
        a = rng.normal(0, 1, (n, dim)).astype(np.float32)
        p = (a + rng.normal(0, 0.5, (n, dim))).astype(np.float32)
        neg = rng.normal(0, 1, (n, dim)).astype(np.float32)
        if i % 2 == 0:
            a, p, neg = (x / np.linalg.norm(x, axis=1, keepdims=True) for x in (a, p, neg))
        def loss(a, p, neg):
            pos = np.sum(np.square(a - p), axis=-1)
            ng = np.sum(np.square(a - neg), axis=-1)
            return np.sum(np.maximum(pos - ng + alpha, 0.0))
        rows.append({
            "anchor": [vec(r) for r in a], "positive": [vec(r) for r in p],
            "negative": [vec(r) for r in neg], "alpha": alpha,
            "loss_float64": float(loss(a.astype(np.float64), p.astype(np.float64), neg.astype(np.float64))),
            "loss_float32": float(loss(a, p, neg)),
        })
    return rows


def calculate_accuracy(threshold, dist, actual_issame):
    # As facenet.calculate_accuracy: accept when dist < threshold.
    predict_issame = np.less(dist, threshold)
    tp = np.sum(np.logical_and(predict_issame, actual_issame))
    fp = np.sum(np.logical_and(predict_issame, np.logical_not(actual_issame)))
    tn = np.sum(np.logical_and(np.logical_not(predict_issame), np.logical_not(actual_issame)))
    fn = np.sum(np.logical_and(np.logical_not(predict_issame), actual_issame))
    tpr = 0 if (tp + fn == 0) else float(tp) / float(tp + fn)
    fpr = 0 if (fp + tn == 0) else float(fp) / float(fp + tn)
    acc = float(tp + tn) / dist.size
    return tpr, fpr, acc


def calibration_table(rng):
    rows = []
    for n_gen, n_imp, folds in ((200, 600, 10), (57, 91, 5)):
        gen = np.abs(rng.normal(0.6, 0.15, n_gen))
        imp = np.abs(rng.normal(1.15, 0.15, n_imp))
        dist = np.concatenate([gen, imp])
        same = np.concatenate([np.ones(n_gen, bool), np.zeros(n_imp, bool)])
        # The Go package's stratified folds: pair i of each class goes to fold i % folds.
        fold = np.concatenate([np.arange(n_gen) % folds, np.arange(n_imp) % folds])
        thresholds = np.arange(0, 4, 0.001)
        tprs = np.zeros((folds, len(thresholds)))
        fprs = np.zeros((folds, len(thresholds)))
        best, acc = [], []
        for f in range(folds):  # calculate_roc's loop, with these folds
            train, test = fold != f, fold == f
            acc_train = np.zeros(len(thresholds))
            for i, t in enumerate(thresholds):
                _, _, acc_train[i] = calculate_accuracy(t, dist[train], same[train])
            b = int(np.argmax(acc_train))
            for i, t in enumerate(thresholds):
                tprs[f, i], fprs[f, i], _ = calculate_accuracy(t, dist[test], same[test])
            _, _, a = calculate_accuracy(thresholds[b], dist[test], same[test])
            best.append(float(thresholds[b]))
            acc.append(a)
        tpr, fpr = np.mean(tprs, 0), np.mean(fprs, 0)
        rows.append({
            "genuine": [float(x) for x in gen], "impostor": [float(x) for x in imp], "folds": folds,
            "fold_thresholds": best, "fold_accuracies": acc,
            "accuracy_mean": float(np.mean(acc)), "accuracy_std": float(np.std(acc)),
            "tpr": [float(x) for x in tpr], "fpr": [float(x) for x in fpr],
            "auc": float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2)),
        })
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory to write the JSON tables to")
    ap.add_argument("--seed", type=int, default=20240611, help="numpy random seed (default: %(default)s)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    header = {"generator": "testdata/verify/make_golden.py --seed %d" % args.seed, "numpy": np.__version__}
    for name, fn in (("float32_repr.json", repr_table), ("distances.json", distance_table),
                     ("triplet.json", triplet_table), ("calibration.json", calibration_table)):
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(dict(header, rows=fn(rng)), f, sort_keys=True, indent=0)
            f.write("\n")


if __name__ == "__main__":
    main()
