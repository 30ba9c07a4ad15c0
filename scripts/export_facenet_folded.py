#!/usr/bin/env python3
"""Export an inference-only FaceNet: every BatchNormalization folded into the layer before it.

scripts/export_facenet.py exports the notebook's graph as it is; TensorFlow then computes each of its 112
BatchNormalizations (scale=False, center=True, after a Conv2D or the Dense 'Bottleneck' with
use_bias=False) as separate Rsqrt/Mul/Sub/AddV2 ops over every activation, and grappler does not fuse
them. At inference a BatchNormalization is an affine map per channel,

    y = (x - mean) / sqrt(var + eps) * gamma + beta     (gamma = 1 here: scale=False)

so with x = conv(input, W) (+ b) it is the same layer with

    W' = W * s,   b' = (b - mean) * s + beta,   s = gamma / sqrt(var + eps)   (per output channel),

which grappler's remapper then fuses with the following ReLU into one oneDNN convolution. Other rewrites:
the Dropout (the identity at inference) is dropped, and with it the variable holding its seed; each
convolution's bias is added by one BiasAdd (Keras 3's Conv2D adds Reshape and Squeeze ops around it). The
ScaleSum residual scales stay the same layers with the same float32 constants (folding them into the
1x1 convolutions would save no op: the add is needed anyway).

The folded weights are computed here with numpy in float64 from the float32 weights of the .h5 and then
rounded once to float32, never by running TensorFlow: the export's variables, and so its fingerprint,
are the same bytes on every CPU (oneDNN picks other kernels, with other rounding, per CPU). The result
is a different model file with its own fingerprint (its floats are rounded differently); on the
notebook's images it stays within 1e-5 of facenet-keras on every embedding.

Writes <out> (SavedModel, tag serve, signature serving_default, input input_1, output output_0) with the
profile <out>/assets.extra/facenet.json naming it facenet-keras-folded.
"""

import argparse
import sys
import time
from pathlib import Path

import export_facenet as ef  # noqa: E402  (pins numpy's OpenBLAS kernel and quiets TensorFlow first)

import keras  # noqa: E402
import numpy as np  # noqa: E402

MODEL_NAME = "facenet-keras-folded"
FOLDABLE = ("Conv2D", "Dense")
# What the exact export's embeddings and the folded one's may differ by (the project's parity bound).
TOLERANCE = 1e-5


def fold(kernel, bias, beta, mean, variance, epsilon, gamma=None):
    """BatchNormalization (inference) after a layer with `kernel` (output channels last) and optional
    `bias`, as one layer: returns (kernel', bias') in float64. Exact in real arithmetic; callers round
    the result to float32 once."""
    kernel = np.asarray(kernel, dtype=np.float64)
    n = kernel.shape[-1]
    for name, v in (("beta", beta), ("moving_mean", mean), ("moving_variance", variance),
                    ("bias", bias), ("gamma", gamma)):
        if v is not None and np.shape(v) != (n,):
            raise ef.ExportError(f"fold: {name} has shape {np.shape(v)}, want ({n},)")
    scale = 1.0 / np.sqrt(np.asarray(variance, dtype=np.float64) + float(epsilon))
    if gamma is not None:
        scale = scale * np.asarray(gamma, dtype=np.float64)
    b = np.zeros(n) if bias is None else np.asarray(bias, dtype=np.float64)
    new_bias = (b - np.asarray(mean, dtype=np.float64)) * scale + np.asarray(beta, dtype=np.float64)
    return kernel * scale, new_bias


class BiasConv2D(keras.layers.Conv2D):
    """Conv2D (channels_last) adding its bias with one BiasAdd on the variable.

    Keras 3's Conv2D reshapes the bias to (1, 1, 1, C) and adds it, which TensorFlow's backend turns
    into Reshape + Squeeze + BiasAdd: two extra ops per convolution, run at every call. The sum is the
    same float32 addition either way."""

    def call(self, inputs):
        import tensorflow as tf

        out = tf.nn.bias_add(self.convolution_op(inputs, self.kernel), self.bias, data_format="NHWC")
        return self.activation(out) if self.activation is not None else out


def _fast(layer):
    """The layer, or for a channels_last Conv2D with a bias, the same layer as a BiasConv2D."""
    if type(layer) is keras.layers.Conv2D and layer.use_bias and layer.data_format == "channels_last":
        return BiasConv2D.from_config(layer.get_config())
    return layer


def _consumers(config):
    out = {}
    for layer_json in config["layers"]:
        for src in ef._inbound(layer_json):
            out.setdefault(src, []).append(layer_json["name"])
    return out


def plan(config):
    """Which BatchNormalization folds into which layer: {bn name: producer name}. A BN folds when its
    only input is a Conv2D/Dense that feeds nothing else and it normalizes the channel (last) axis;
    any other BN would stay (none in FaceNet), so the fold can never change what the graph computes."""
    layers = {l["name"]: l for l in config["layers"]}
    consumers = _consumers(config)
    folds = {}
    for layer_json in config["layers"]:
        if layer_json["class_name"] != "BatchNormalization":
            continue
        cfg = layer_json["config"]
        srcs = ef._inbound(layer_json)
        if len(srcs) != 1:
            continue
        src = layers[srcs[0]]
        axis = ef._one_axis(layer_json["name"], cfg["axis"])
        rank = 4 if src["class_name"] == "Conv2D" else 2
        if src["class_name"] in FOLDABLE and consumers.get(src["name"]) == [layer_json["name"]] and \
                axis in (-1, rank - 1) and src["config"].get("activation", "linear") == "linear":
            folds[layer_json["name"]] = src["name"]
    return folds


def build_folded(config, folds):
    """The functional model of `config` with each folded BN merged into its producer (which gets a bias
    and keeps its name) and the Dropout removed. Returns (model, aliases): aliases maps a removed
    layer's name to the layer whose output stands for it."""
    producers = {p: bn for bn, p in folds.items()}
    tensors, aliases = {}, {}
    for layer_json in config["layers"]:
        name, kind = layer_json["name"], layer_json["class_name"]
        if kind == "InputLayer":
            cfg = layer_json["config"]
            shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
            tensors[name] = keras.Input(shape=tuple(shape[1:]), dtype=cfg.get("dtype", "float32"),
                                        name=name)
            continue
        srcs = ef._inbound(layer_json)
        inputs = [tensors[s] for s in srcs]
        if name in folds or kind == "Dropout":
            if len(inputs) != 1:
                raise ef.ExportError(f"layer {name}: {len(inputs)} inputs, cannot remove it")
            tensors[name] = inputs[0]
            aliases[name] = aliases.get(srcs[0], srcs[0])
            continue
        if name in producers:
            layer_json = {**layer_json, "config": {**layer_json["config"], "use_bias": True}}
        layer = _fast(ef.make_layer(layer_json))
        tensors[name] = layer(inputs[0] if len(inputs) == 1 else inputs)
    outs = [tensors[o[0]] for o in config["output_layers"]]
    ins = [tensors[i[0]] for i in config["input_layers"]]
    model = keras.Model(ins[0] if len(ins) == 1 else ins, outs[0] if len(outs) == 1 else outs,
                        name=f"{config.get('name')}_folded")
    return model, aliases


def fill_folded(folded, exact, config, folds, dtype=np.float32):
    """Set every weight of `folded` from the exact model's (float32 values read back from its variables,
    i.e. the .h5's bytes): folded producers get fold() in float64 rounded once to `dtype` (float32; the
    tests use float64 to check that folding itself is exact), every other layer its weights unchanged."""
    producers = {p: bn for bn, p in folds.items()}
    eps = {l["name"]: float(l["config"]["epsilon"]) for l in config["layers"]
           if l["class_name"] == "BatchNormalization"}
    src = {l.name: l for l in exact.layers}
    for layer in folded.layers:
        if not layer.weights:
            continue
        if layer.name not in producers:
            layer.set_weights([np.asarray(w, dtype=dtype) for w in src[layer.name].get_weights()])
            continue
        bn = src[producers[layer.name]]
        bn_w = {ef._weight_key(v.name): np.asarray(v.numpy()) for v in bn.weights}
        prod_w = {ef._weight_key(v.name): np.asarray(v.numpy()) for v in src[layer.name].weights}
        kernel, bias = fold(prod_w["kernel"], prod_w.get("bias"), bn_w["beta"], bn_w["moving_mean"],
                            bn_w["moving_variance"], eps[bn.name], bn_w.get("gamma"))
        layer.set_weights([kernel.astype(dtype), bias.astype(dtype)])


def build(model_json, weights, images_dir=None):
    """The exact model (from the .h5) and its folded twin. Returns (folded, fields, report)."""
    exact, fields, images, raw = ef.build(model_json, weights, images_dir=images_dir)
    config = ef.load_model_json(model_json)
    folds = plan(config)
    folded, _ = build_folded(config, folds)
    fill_folded(folded, exact, config, folds)
    fields = {
        **fields,
        "name": MODEL_NAME,
        "weights": fields["weights"] + f"; {len(folds)} BatchNormalizations folded into the "
                                       "preceding Conv2D/Dense (numpy float64, rounded to float32)",
        "description": "facenet-keras folded for inference: every BatchNormalization folded into its "
                       "convolution (and the Bottleneck Dense), Dropout removed, ScaleSum constants "
                       "unchanged. A different file with its own fingerprint: numerically within 1e-5 "
                       "of facenet-keras on every embedding, with the same decisions, and faster",
    }
    report = {"folded": len(folds), "layers": len(folded.layers), "params": folded.count_params(),
              "exact_params": exact.count_params()}
    if images is not None:
        got = np.asarray(folded(images, training=False), dtype=np.float64)
        raw = np.asarray(raw, dtype=np.float64)
        unit = lambda r: r / np.linalg.norm(r, axis=1, keepdims=True)  # noqa: E731
        report["images"] = len(raw)
        report["raw_diff"] = float(np.max(np.abs(got - raw)))
        report["embedding_diff"] = float(np.max(np.abs(unit(got) - unit(raw))))
        report["raw"] = got
    return folded, fields, images, report


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Export the notebook's FaceNet with every BatchNormalization folded into the "
                    "preceding convolution (weights computed with numpy, float64 then float32) and the "
                    "Dropout removed: an opt-in faster model, within 1e-5 of the exact export.")
    parser.add_argument("--model-json", required=True, type=Path,
                        help="the notebook's keras-facenet-h5/model.json")
    parser.add_argument("--weights", required=True, type=Path,
                        help="the notebook's trained weights (build/weights/facenet_keras.h5)")
    parser.add_argument("--out", required=True, type=Path, help="SavedModel directory to (re)write")
    parser.add_argument("--images", type=Path,
                        help="the notebook's images/, for the folded-vs-exact check (fails above 1e-5); "
                             "default: images/ next to the model.json's directory")
    args = parser.parse_args(argv)

    images_dir = args.images
    if images_dir is None:
        guess = args.model_json.resolve().parent.parent / "images"
        images_dir = guess if guess.is_dir() else None
    start = time.monotonic()
    try:
        folded, fields, images, report = build(args.model_json, args.weights, images_dir)
        if images is not None and report["embedding_diff"] > TOLERANCE:
            raise ef.ExportError(f"folded model's embeddings differ from the exact model's by "
                                 f"{report['embedding_diff']:.3g} > {TOLERANCE}")
        profile = ef.export_model(folded, args.out, fields)
        diff = None
        if images is not None:
            diff = ef.check_export(args.out, images, report["raw"])
    except ef.ExportError as err:
        print(f"export_facenet_folded: {err}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - start
    print(f"model      {folded.name}: {len(folded.layers)} layers, {report['params']:,} parameters "
          f"(exact: {report['exact_params']:,}); {report['folded']} BatchNormalizations folded")
    if images is not None:
        print(f"images     {report['images']} notebook images: folded vs exact max |raw diff| "
              f"{report['raw_diff']:.3g}, max |embedding diff| {report['embedding_diff']:.3g}; "
              f"SavedModel vs Keras {diff:.3g}")
    print(f"exported   {args.out} in {seconds:.1f}s")
    print(f"fingerprint {profile['fingerprint']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
