#!/usr/bin/env python3
"""Write SavedModels that are wrong in one way each, for the reliability tests of `facenet embed`,
tfmodel.Load/Predict and encoding.Encoder: every one must give a clear error, never a crash.

All are small tf.Module exports (a 16x16x3 image through 4x4 average pooling and a seeded 48x128
matrix, or a variation), so they load in milliseconds:

  good                   the control: input "image" (None, 16, 16, 3) float32 -> "embedding" (None, 128)
  missing_variables      good without its variables/ directory
  truncated_variables    good with variables.data cut to half its size
  wrong_tag              good with its MetaGraph tagged "train" instead of "serve"
  wrong_signature_key    the only signature is "predict", not "serving_default"
  uint8_input            input dtype uint8 instead of float32
  rank3_input            input (None, 16, 16): no channel axis
  rank2_input            input (None, 128): a vector, not an image
  nan_output             (None, 128) of NaN for every input
  inf_output             (None, 128) of +Inf for every input
  zero_output            (None, 128) of zeros: cannot be L2-normalized
  output_4d              output (None, 4, 4, 8) instead of (None, dim)
  output_1d              output (None,): one number per image
  int_output             output dtype int32
  batch_collapse         output (1, 128) whatever the batch size (a mean over the batch)
  two_inputs             inputs "image" and "mask" (None, 16, 16, 3) each
  two_outputs            outputs "embedding" and "logits", no profile choosing one
  huge_input             input (None, 100000, 100000, 3): preprocessing it would need 120 GB
  bad_profile            good with assets.extra/facenet.json that is not JSON
  profile_size_mismatch  good with a profile saying 160x160 for its 16x16 input
  profile_dim_mismatch   good with a profile saying the embedding has 64 dimensions

Models are written to OUT/<name>/ (default build/models/hostile). The content is deterministic: fixed
seeds, one process, models built in a fixed order; saved_model.pb edits are serialized
deterministically and drop fingerprint.pb, whose checksum they would falsify.

Every model here parses as a SavedModel, so tools that walk build/models (the inspect parity
tests run saved_model_cli on each) can read them; a saved_model.pb of random bytes is made by the
tests themselves in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

SEED = 4242
SIDE = 16
DIM = 128

# name -> one line saying what is wrong, in the order they are built.
MODELS = {
    "good": "control: a working 16x16 -> 128-d model",
    "missing_variables": "no variables/ directory",
    "truncated_variables": "variables.data cut to half its size",
    "wrong_tag": 'MetaGraph tagged "train", not "serve"',
    "wrong_signature_key": 'only signature is "predict", not "serving_default"',
    "uint8_input": "input dtype uint8",
    "rank3_input": "input (None, 16, 16)",
    "rank2_input": "input (None, 128)",
    "nan_output": "output is NaN",
    "inf_output": "output is +Inf",
    "zero_output": "output is all zeros",
    "output_4d": "output (None, 4, 4, 8)",
    "output_1d": "output (None,)",
    "int_output": "output dtype int32",
    "batch_collapse": "output (1, 128) for any batch",
    "two_inputs": 'inputs "image" and "mask"',
    "two_outputs": 'outputs "embedding" and "logits"',
    "huge_input": "input (None, 100000, 100000, 3)",
    "bad_profile": "assets.extra/facenet.json is not JSON",
    "profile_size_mismatch": "profile says 160x160, model takes 16x16",
    "profile_dim_mismatch": "profile says 64 dimensions, model gives 128",
}


def _tf():
    import tensorflow as tf

    tf.random.set_seed(SEED)
    return tf


def _weights(shape, seed):
    return np.random.default_rng(seed).normal(0.0, 0.2, size=shape).astype(np.float32)


def _module(tf, inputs, body, seed=1, extra_outputs=None):
    """A tf.Module with one serving function over `inputs` (name -> TensorSpec) returning body(...)."""

    class M(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(_weights((3 * (SIDE // 4) ** 2, DIM), seed), name="w")
            self.b = tf.Variable(_weights((DIM,), seed + 1), name="b")

        def embed(self, x):
            p = tf.nn.avg_pool2d(x, 4, 4, "VALID")
            return tf.matmul(tf.reshape(p, [-1, self.w.shape[0]]), self.w) + self.b

    m = M()
    specs = [tf.TensorSpec(spec[0], spec[1], name=name) for name, spec in inputs.items()]
    names = list(inputs)

    @tf.function(input_signature=specs)
    def serve(*args):
        return body(m, tf, **dict(zip(names, args)))

    m.serve = serve
    return m



def _builders(tf):
    f32 = tf.float32
    img = {"image": ([None, SIDE, SIDE, 3], f32)}

    def emb(m, tf, image):
        return {"embedding": m.embed(image)}

    return {
        "good": (img, emb),
        "wrong_signature_key": (img, emb),
        "uint8_input": ({"image": ([None, SIDE, SIDE, 3], tf.uint8)},
                        lambda m, tf, image: {"embedding": m.embed(tf.cast(image, tf.float32) / 255.0)}),
        "rank3_input": ({"image": ([None, SIDE, SIDE], f32)},
                        lambda m, tf, image: {"embedding": m.embed(tf.stack([image] * 3, axis=-1))}),
        "rank2_input": ({"image": ([None, DIM], f32)}, lambda m, tf, image: {"embedding": image * 2.0}),
        "nan_output": (img, lambda m, tf, image: {"embedding": tf.math.log(-tf.abs(m.embed(image)) - 1.0)}),
        "inf_output": (img, lambda m, tf, image: {"embedding": (tf.abs(m.embed(image)) + 1.0) / 0.0}),
        "zero_output": (img, lambda m, tf, image: {"embedding": 0.0 * m.embed(image)}),
        "output_4d": (img, lambda m, tf, image: {"embedding": tf.reshape(m.embed(image), [-1, 4, 4, 8])}),
        "output_1d": (img, lambda m, tf, image: {"embedding": tf.reduce_sum(m.embed(image), axis=1)}),
        "int_output": (img, lambda m, tf, image: {"embedding": tf.cast(1000.0 * m.embed(image), tf.int32)}),
        "batch_collapse": (img, lambda m, tf, image: {"embedding": tf.reduce_mean(m.embed(image), axis=0, keepdims=True)}),
        "two_inputs": ({"image": ([None, SIDE, SIDE, 3], f32), "mask": ([None, SIDE, SIDE, 3], f32)},
                       lambda m, tf, image, mask: {"embedding": m.embed(image * mask)}),
        "two_outputs": (img, lambda m, tf, image: {"embedding": m.embed(image), "logits": m.embed(image)[:, :10]}),
        "huge_input": ({"image": ([None, 100000, 100000, 3], f32)},
                       lambda m, tf, image: {"embedding": tf.matmul(tf.reduce_mean(image, axis=[1, 2]), m.w[:3])}),
    }


def _save(tf, m, out: Path, signature_key="serving_default"):
    tf.saved_model.save(m, str(out), signatures={signature_key: m.serve})


def _rewrite_pb(out: Path, edit):
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString((out / "saved_model.pb").read_bytes())
    edit(sm)
    (out / "saved_model.pb").write_bytes(sm.SerializeToString(deterministic=True))
    (out / "fingerprint.pb").unlink(missing_ok=True)


def _profile(height, width, dim):
    """A valid facenet-profile/v1 in the shape the export scripts write."""
    return {
        "format": "facenet-profile/v1", "name": "hostile", "description": "scripts/make_hostile_models.py",
        "signature": {"tag_set": ["serve"], "signature_def": "serving_default", "input": "image", "output": "embedding"},
        "input": {"height": height, "width": width, "channels": 3, "layout": "NHWC", "color_order": "RGB",
                  "interpolation": "nearest", "keep_aspect_ratio": False, "divide_by": 255.0, "round_decimals": 12},
        "output": {"dim": dim, "l2_normalize": True},
        "distance": {"metric": "euclidean", "threshold": 0.7},
        "fingerprint": "",
    }


def _write_profile(out: Path, content: str):
    (out / "assets.extra").mkdir(exist_ok=True)
    (out / "assets.extra" / "facenet.json").write_text(content)


def build_all(root: Path):
    tf = _tf()
    builders = _builders(tf)
    root.mkdir(parents=True, exist_ok=True)
    for name in MODELS:
        out = root / name
        shutil.rmtree(out, ignore_errors=True)
        if name in builders:
            inputs, body = builders[name]
            m = _module(tf, inputs, body)
            _save(tf, m, out, "predict" if name == "wrong_signature_key" else "serving_default")
        else:
            shutil.copytree(root / "good", out)
        if name == "missing_variables":
            shutil.rmtree(out / "variables")
        elif name == "truncated_variables":
            data = next((out / "variables").glob("variables.data-*"))
            data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
        elif name == "wrong_tag":
            def retag(sm):
                del sm.meta_graphs[0].meta_info_def.tags[:]
                sm.meta_graphs[0].meta_info_def.tags.append("train")
            _rewrite_pb(out, retag)
        elif name == "bad_profile":
            _write_profile(out, '{"format": "facenet-profile/v1", "input": {"height": 16,')
        elif name == "profile_size_mismatch":
            _write_profile(out, json.dumps(_profile(160, 160, DIM), indent=2) + "\n")
        elif name == "profile_dim_mismatch":
            _write_profile(out, json.dumps(_profile(SIDE, SIDE, 64), indent=2) + "\n")
        print(f"wrote {out}: {MODELS[name]}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="build/models/hostile", type=Path, help="directory to write into (default: %(default)s)")
    args = p.parse_args(argv)
    build_all(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
