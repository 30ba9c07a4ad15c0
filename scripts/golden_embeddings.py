#!/usr/bin/env python3
"""Golden outputs of the face-recognition notebook's own functions, for the Go parity tests.

Runs `img_to_encoding`, `verify` and `who_is_it` as the notebook wrote them, on a FaceNet SavedModel
(wrapped in a Keras model so `predict_on_batch` works as in the notebook), over the notebook's 18
images and its database, and writes every raw output, normalized embedding, distance, decision and
printed message to JSON. Floats are float32 values written as the shortest decimal of their exact value,
so they read back bit for bit.
"""

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

import facenet_scripts  # noqa: F401  (first: pins numpy's OpenBLAS kernel before numpy loads)
import export_facenet as ef
import keras
import numpy as np
import PIL
import tensorflow as tf


# --- The notebook's functions, verbatim (only the docstrings and comments are left out) ----------

def img_to_encoding(image_path, model):
    img = tf.keras.preprocessing.image.load_img(image_path, target_size=(160, 160))
    img = np.around(np.array(img) / 255.0, decimals=12)
    x_train = np.expand_dims(img, axis=0)
    embedding = model.predict_on_batch(x_train)
    return embedding / np.linalg.norm(embedding, ord=2)


def verify(image_path, identity, database, model):
    encoding = img_to_encoding(image_path, model)
    dist = np.linalg.norm(encoding - database[identity])
    if dist < 0.7:
        print("It's " + str(identity) + ", welcome in!")
        door_open = True
    else:
        print("It's not " + str(identity) + ", please go away")
        door_open = False
    return dist, door_open


def who_is_it(image_path, database, model):
    encoding = img_to_encoding(image_path, model)
    min_dist = 100
    for (name, db_enc) in database.items():
        dist = np.linalg.norm(encoding - db_enc)
        if dist < min_dist:
            min_dist = dist
            identity = name
    if min_dist > 0.7:
        print("Not in the database.")
    else:
        print("it's " + str(identity) + ", the distance is " + str(min_dist))
    return min_dist, identity


# --- facenet's own preprocessing (the model's "accuracy" profile) ---------------------------------

def facenet_img_to_encoding(image_path, model):
    """img_to_encoding with what Sandberg's facenet feeds its 2017 checkpoints: a bilinear resize to
    160x160 (compare.py's misc.imresize(..., interp='bilinear') is PIL's BILINEAR, as load_img's) and
    facenet.prewhiten instead of /255."""
    import golden_pixel_rules as gpr
    img = tf.keras.preprocessing.image.load_img(image_path, target_size=(160, 160), interpolation="bilinear")
    x_train = np.expand_dims(gpr.prewhiten(np.array(img)), axis=0)
    embedding = model.predict_on_batch(x_train)
    return embedding / np.linalg.norm(embedding, ord=2)


def golden_accuracy(model_dir, images_dir):
    """Embeddings and the notebook's verify distances under the accuracy profile."""
    model_dir, images_dir = Path(model_dir), Path(images_dir)
    profile = ef.read_profile(model_dir)
    model = RecordingModel(load_savedmodel(model_dir, profile))
    emb = {name: facenet_img_to_encoding(str(images_dir / name), model) for name in ef.NOTEBOOK_IMAGES}
    raw = {}
    for name in ef.NOTEBOOK_IMAGES:
        facenet_img_to_encoding(str(images_dir / name), model)
        raw[name] = model.last_raw
    database = {identity: emb[name] for identity, name in ef.DATABASE}
    verify_rows = [{"image": n, "identity": i, "distance": _f32(np.linalg.norm(emb[n] - database[i]))}
                   for n, i in VERIFY_CALLS]
    return {
        "generator": "scripts/golden_embeddings.py --accuracy",
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                     "numpy": np.__version__, "pillow": PIL.__version__},
        "fingerprint": profile["fingerprint"],
        "preprocessing": "load_img(160x160, bilinear), facenet.prewhiten, predict_on_batch, / norm",
        "images": {n: {"raw": _vec(raw[n]), "embedding": _vec(emb[n])} for n in ef.NOTEBOOK_IMAGES},
        "verify": verify_rows,
    }


# The calls the notebook makes (EXPECTED.md), plus who_is_it on every camera image.
VERIFY_CALLS = [
    ("camera_0.jpg", "younes"), ("camera_2.jpg", "kian"), ("andrew.jpg", "andrew"),
    ("camera_1.jpg", "bertrand"), ("camera_3.jpg", "bertrand"), ("camera_1.jpg", "younes"),
    ("camera_3.jpg", "younes"),
]
WHO_IS_IT_CALLS = ef.CAMERA_IMAGES + ["younes.jpg"]

# TensorFlow's float32 results differ from CPU to CPU (oneDNN picks kernels per CPU) by about 1e-6 on
# these distances; the Go tests allow 1e-5. A decision whose distance lies closer than this to the
# threshold could flip on another machine, so such a golden file is refused instead of written.
MIN_THRESHOLD_MARGIN = 1e-4


class GoldenError(Exception):
    """The model or the images cannot produce a trustworthy golden file."""


class RecordingModel:
    """Passes predict_on_batch through to the model and keeps the raw output, so the notebook's
    img_to_encoding can stay verbatim while the golden file also gets the unnormalized embedding."""

    def __init__(self, model):
        self.model = model
        self.last_raw = None

    def predict_on_batch(self, x):
        self.last_raw = self.model.predict_on_batch(x)
        return self.last_raw


def load_savedmodel(model_dir, profile):
    """A Keras model around the SavedModel's signature, named as the profile says (what Go runs)."""
    sig, shape = profile["signature"], profile["input"]
    if sig["tag_set"] != ["serve"]:
        raise GoldenError(f"tag set {sig['tag_set']}: TFSMLayer loads only 'serve'")
    layer = keras.layers.TFSMLayer(str(model_dir), call_endpoint=sig["signature_def"])
    inputs = keras.Input(shape=(shape["height"], shape["width"], shape["channels"]), name=sig["input"])
    outputs = layer(inputs)
    if isinstance(outputs, dict):
        outputs = outputs[sig["output"]]
    return keras.Model(inputs, outputs)


def _call(fn, *args):
    """Run a notebook function, returning its result and what it printed (without the final newline)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn(*args)
    return result, out.getvalue().removesuffix("\n")


def _f32(x):
    # The exact float32 value as a Python float: json writes its shortest round-tripping decimal.
    return float(np.float32(x))


def _vec(a):
    return [_f32(v) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


def golden(model_dir, images_dir):
    """Run the notebook over the images and return the golden document."""
    model_dir, images_dir = Path(model_dir), Path(images_dir)
    profile = ef.read_profile(model_dir)
    missing = [f for f in ef.NOTEBOOK_IMAGES if not (images_dir / f).is_file()]
    if missing:
        raise GoldenError(f"images dir {images_dir}: missing {', '.join(missing)}")
    model = RecordingModel(load_savedmodel(model_dir, profile))

    def path(name):
        return str(images_dir / name)

    images = {}
    for name in ef.NOTEBOOK_IMAGES:
        embedding = img_to_encoding(path(name), model)
        images[name] = {"raw": model.last_raw, "embedding": embedding}

    database = {}
    for identity, name in ef.DATABASE:
        database[identity] = img_to_encoding(path(name), model)
        if not np.array_equal(database[identity], images[name]["embedding"]):
            raise GoldenError(f"{name}: two runs of the model gave different embeddings")

    verify_rows = []
    for name, identity in VERIFY_CALLS:
        (dist, door_open), message = _call(verify, path(name), identity, database, model)
        verify_rows.append({"image": name, "identity": identity, "distance": _f32(dist),
                            "door_open": bool(door_open), "message": message})

    who_rows = []
    for name in WHO_IS_IT_CALLS:
        (min_dist, identity), message = _call(who_is_it, path(name), database, model)
        who_rows.append({"image": name, "identity": identity, "distance": _f32(min_dist),
                         "message": message})

    distances, distance_strings = {}, {}
    for name in ef.CAMERA_IMAGES:
        encoding = images[name]["embedding"]
        row = {identity: np.linalg.norm(encoding - database[identity]) for identity, _ in ef.DATABASE}
        distances[name] = {k: _f32(v) for k, v in row.items()}
        distance_strings[name] = {k: str(v) for k, v in row.items()}

    threshold = profile["distance"]["threshold"]
    decided = [(f"verify({r['image']}, {r['identity']})", r["distance"]) for r in verify_rows] + \
        [(f"who_is_it({r['image']})", r["distance"]) for r in who_rows]
    margin_call, margin_dist = min(decided, key=lambda c: abs(c[1] - threshold))
    margin = abs(margin_dist - threshold)
    if margin < MIN_THRESHOLD_MARGIN:
        raise GoldenError(f"{margin_call}: distance {margin_dist:.7g} is within {margin:.2g} of the "
                          f"threshold {threshold}; its decision could differ on another CPU")

    return {
        "generator": "scripts/golden_embeddings.py",
        "threshold_margin": {"call": margin_call, "distance": margin_dist, "margin": float(margin)},
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                     "numpy": np.__version__, "pillow": PIL.__version__},
        "model": profile["name"],
        "weights": profile["weights"],
        "fingerprint": profile["fingerprint"],
        "threshold": profile["distance"]["threshold"],
        "images": {name: {"raw": _vec(v["raw"]), "embedding": _vec(v["embedding"])}
                   for name, v in images.items()},
        "database_order": [identity for identity, _ in ef.DATABASE],
        "database_files": dict(ef.DATABASE),
        "verify": verify_rows,
        "who_is_it": who_rows,
        "distances": distances,
        "distance_strings": distance_strings,
    }


def dumps(value, indent=0):
    """JSON with sorted keys, one key per line, and lists of numbers on one line: stable and diffable."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f'{pad}  {json.dumps(k)}: {dumps(value[k], indent + 1)}' for k in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [f"{pad}  {dumps(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value, allow_nan=False)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Run the notebook's img_to_encoding / verify / who_is_it on a FaceNet SavedModel "
                    "and write the golden JSON the Go parity tests read.")
    parser.add_argument("--model", required=True, type=Path,
                        help="SavedModel directory with assets.extra/facenet.json "
                             "(e.g. build/models/facenet-keras)")
    parser.add_argument("--images", required=True, type=Path, help="the notebook's images/ directory")
    parser.add_argument("--out", required=True, type=Path, help="golden JSON file to write")
    parser.add_argument("--accuracy", action="store_true",
                        help="instead, facenet's own preprocessing (bilinear, prewhiten): the model's "
                             "accuracy profile")
    args = parser.parse_args(argv)
    if args.accuracy:
        try:
            doc = golden_accuracy(args.model, args.images)
        except (ef.ExportError, OSError) as err:
            print(f"golden_embeddings: {err}", file=sys.stderr)
            return 1
        args.out.write_text(dumps(doc) + "\n", encoding="utf-8")
        for row in doc["verify"]:
            print(f"accuracy verify({row['image']}, {row['identity']}): {row['distance']:.7g}")
        print(f"wrote {args.out} ({doc['fingerprint']})")
        return 0
    try:
        doc = golden(args.model, args.images)
    except (ef.ExportError, GoldenError, OSError) as err:
        print(f"golden_embeddings: {err}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumps(doc) + "\n", encoding="utf-8")
    for row in doc["verify"]:
        print(f"verify({row['image']}, {row['identity']}): {row['distance']:.7g} {row['message']}")
    for row in doc["who_is_it"]:
        print(f"who_is_it({row['image']}): {row['message']}")
    print(f"wrote {args.out} ({doc['fingerprint']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
