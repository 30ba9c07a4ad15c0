#!/usr/bin/env python3
"""Write the small, deterministic SavedModels that the Go runtime (tfmodel) is tested against.

Each model exercises one way a SavedModel can look, so the Go loader is proven general rather than
tuned to FaceNet:

  keras_cnn       Keras 3 model.export: image input (None, 16, 16, 3), conv + pooling + dense -> (None, 8)
  two_inputs      Keras 3 model.export: inputs "a" (None, 4) and "b" (None, 3) -> (None, 2)
  channels_first  Keras 3 model.export: input (None, 3, 8, 8), NCHW, -> (None, 5)
  tf_module       tf.saved_model.save of a tf.Module: input "x" (None, 4) -> outputs "y" and "norm";
                  a second signature "double"
  int_input       Keras 3 model.export: int32 input (None, 4) (to test dtype refusal)
  nan_output      Keras 3 model.export: input (None, 4) -> output that is NaN for every input

With --golden DIR it also runs each model in Python on seeded inputs and writes DIR/<model>.json with
inputs and outputs, which the Go tests reproduce to within 1e-6.

Weights come from a fixed seed, so two runs write identical variables.
"""

import argparse
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.environ.get("PYTHONHASHSEED") != "0":
    # Keras' export orders checkpoint entries by set iteration, which follows the string hash seed: fix it
    # so two runs write byte-identical variables files.
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import numpy as np  # noqa: E402

import savedmodel_export  # noqa: E402

SEED = 20261128


def _keras():
    import keras

    keras.utils.set_random_seed(SEED)
    return keras


def _seed_weights(model, seed):
    """Overwrite every weight with seeded normal values, so the result does not depend on Keras' initializers."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.normal(0.0, 0.3, size=tuple(w.shape)).astype(w.dtype))


def build_keras_cnn():
    keras = _keras()
    inp = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inp)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    out = keras.layers.Dense(8, name="dense")(x)
    m = keras.Model(inp, out, name="keras_cnn")
    _seed_weights(m, 1)
    return m


def build_two_inputs():
    keras = _keras()
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    x = keras.layers.Concatenate(name="concat")([a, b])
    out = keras.layers.Dense(2, name="dense")(x)
    m = keras.Model([a, b], out, name="two_inputs")
    _seed_weights(m, 2)
    return m


def build_channels_first():
    keras = _keras()
    inp = keras.Input((3, 8, 8), name="nchw")
    # TF's CPU kernels do not run NCHW convolutions, so the graph transposes first; the signature is NCHW.
    x = keras.layers.Permute((2, 3, 1), name="to_nhwc")(inp)
    x = keras.layers.Conv2D(2, 3, activation="tanh", name="conv")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    out = keras.layers.Dense(5, name="dense")(x)
    m = keras.Model(inp, out, name="channels_first")
    _seed_weights(m, 3)
    return m


def build_int_input():
    keras = _keras()
    inp = keras.Input((4,), name="ids", dtype="int32")
    x = keras.layers.Lambda(lambda t: keras.ops.cast(t, "float32"), name="cast")(inp)
    out = keras.layers.Dense(2, name="dense")(x)
    m = keras.Model(inp, out, name="int_input")
    _seed_weights(m, 4)
    return m


def build_nan_output():
    keras = _keras()
    inp = keras.Input((4,), name="x")
    out = keras.layers.Lambda(lambda t: keras.ops.log(-keras.ops.abs(t) - 1.0), name="nan")(inp)
    return keras.Model(inp, out, name="nan_output")


def save_tf_module(out_dir):
    import tensorflow as tf

    rng = np.random.default_rng(5)

    class Affine(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(rng.normal(0, 0.5, (4, 3)).astype(np.float32), name="w")
            self.b = tf.Variable(rng.normal(0, 0.5, (3,)).astype(np.float32), name="b")

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def serve(self, x):
            y = tf.matmul(x, self.w) + self.b
            return {"y": y, "norm": tf.norm(y, axis=1)}

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def double(self, x):
            return {"doubled": 2.0 * x}

    m = Affine()
    tf.saved_model.save(m, out_dir, signatures={"serving_default": m.serve, "double": m.double})


KERAS_MODELS = {
    "keras_cnn": build_keras_cnn,
    "two_inputs": build_two_inputs,
    "channels_first": build_channels_first,
    "int_input": build_int_input,
    "nan_output": build_nan_output,
}


def export_all(out_root):
    os.makedirs(out_root, exist_ok=True)
    for name, build in KERAS_MODELS.items():
        d = os.path.join(out_root, name)
        shutil.rmtree(d, ignore_errors=True)
        savedmodel_export.export(build(), d)
        print(f"wrote {d}")
    d = os.path.join(out_root, "tf_module")
    shutil.rmtree(d, ignore_errors=True)
    save_tf_module(d)
    print(f"wrote {d}")


def golden_inputs(sig):
    """Seeded inputs for every input of a signature, with a batch of 3."""
    import tensorflow as tf

    rng = np.random.default_rng(7)
    feeds = {}
    for key, spec in sorted(sig.structured_input_signature[1].items()):
        shape = [3 if d is None else d for d in spec.shape.as_list()]
        if spec.dtype == tf.int32:
            feeds[key] = rng.integers(-5, 5, size=shape).astype(np.int32)
        else:
            feeds[key] = rng.uniform(-1, 1, size=shape).astype(np.float32)
    return feeds


def write_golden(out_root, golden_dir):
    import tensorflow as tf

    os.makedirs(golden_dir, exist_ok=True)
    for name in ["keras_cnn", "two_inputs", "channels_first", "tf_module"]:
        loaded = tf.saved_model.load(os.path.join(out_root, name))
        doc = {"model": name, "signatures": {}}
        for sig_key in sorted(loaded.signatures.keys()):
            sig = loaded.signatures[sig_key]
            feeds = golden_inputs(sig)
            outs = sig(**{k: tf.constant(v) for k, v in feeds.items()})
            doc["signatures"][sig_key] = {
                "inputs": {k: {"shape": list(v.shape), "data": v.ravel().tolist()} for k, v in feeds.items()},
                "outputs": {
                    k: {"shape": list(v.shape), "data": [float(x) for x in v.numpy().ravel()]}
                    for k, v in sorted(outs.items())
                },
            }
        path = os.path.join(golden_dir, f"{name}.json")
        with open(path, "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"wrote {path}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="directory to write the SavedModels into (one sub-folder each)")
    p.add_argument("--golden", metavar="DIR", help="also write Python's outputs on seeded inputs to DIR/<model>.json")
    p.add_argument("--skip-export", action="store_true", help="with --golden: reuse the models already in --out")
    args = p.parse_args(argv)
    if not args.skip_export:
        export_all(args.out)
    if args.golden:
        write_golden(args.out, args.golden)
    return 0


if __name__ == "__main__":
    sys.exit(main())
