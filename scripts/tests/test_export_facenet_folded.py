"""Tests of scripts/export_facenet_folded.py: BatchNorm folding is exact (float64), keeps the ScaleSum
constants, removes every BN and the Dropout, and its weights come from numpy alone."""

import copy
import os
from pathlib import Path

import keras
import numpy as np
import pytest

import export_facenet as ef
import export_facenet_folded as ff

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("FACENET_SHARED", ROOT.parent / "shared"))
MODEL_JSON = SHARED / "notebook" / "keras-facenet-h5" / "model.json"

# The stem and the first Inception-ResNet block (Conv2D+BN pairs, a bias conv, a ScaleSum), then the
# notebook's head: AvgPool, Dropout, the Dense 'Bottleneck' and its BatchNorm (axis 1).
MINI_OUTPUT = "Block35_1_Activation"
HEAD = ["AvgPool", "Dropout", "Bottleneck", "Bottleneck_BatchNorm"]


@pytest.fixture(scope="module")
def config():
    return ef.load_model_json(MODEL_JSON)


def sub_graph(config, dtype="float32"):
    layers = {l["name"]: l for l in config["layers"]}
    names = [l["name"] for l in config["layers"]]
    cut = names.index(MINI_OUTPUT) + 1
    out = copy.deepcopy(config["layers"][:cut]) + [copy.deepcopy(layers[n]) for n in HEAD]
    out[cut]["inbound_nodes"] = [[[MINI_OUTPUT, 0, 0, {}]]]
    out[0]["config"]["dtype"] = dtype
    return {"name": "mini", "layers": out, "input_layers": config["input_layers"],
            "output_layers": [["Bottleneck_BatchNorm", 0, 0]]}


def exact_model(cfg, seed=5):
    """The sub-graph with seeded weights and BN statistics far from (0, 1), so folding is exercised."""
    model = ef.build_model(cfg)
    ef.seed_weights(model, seed)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.5, n).astype(np.float32))
            layer.moving_variance.assign(rng.uniform(0.05, 3.0, n).astype(np.float32))
    return model


def test_fold_formula_in_float64():
    rng = np.random.default_rng(1)
    w, b = rng.normal(size=(3, 3, 4, 6)), rng.normal(size=6)
    beta, mean, var, gamma = rng.normal(size=6), rng.normal(size=6), rng.uniform(0.1, 2, 6), rng.normal(size=6)
    x = rng.normal(size=(10, 3 * 3 * 4))
    y = x @ w.reshape(-1, 6) + b
    want = (y - mean) / np.sqrt(var + 1e-3) * gamma + beta
    k, c = ff.fold(w, b, beta, mean, var, 1e-3, gamma)
    np.testing.assert_allclose(x @ k.reshape(-1, 6) + c, want, rtol=0, atol=1e-12)
    k, c = ff.fold(w, None, beta, mean, var, 1e-3)  # FaceNet's case: no bias, scale=False
    np.testing.assert_allclose(x @ k.reshape(-1, 6) + c, (x @ w.reshape(-1, 6) - mean) / np.sqrt(var + 1e-3) + beta,
                               rtol=0, atol=1e-12)
    with pytest.raises(ef.ExportError, match="moving_mean has shape"):
        ff.fold(w, None, beta, mean[:5], var, 1e-3)


def test_folding_is_exact_in_float64_on_a_sub_graph(config):
    # The dtype policy, not only floatx: once any earlier test has fixed the global policy (Keras does
    # that when it first builds a layer), set_floatx alone leaves new layers in float32.
    policy = keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    try:
        cfg = sub_graph(config, "float64")
        exact = exact_model(cfg)
        folds = ff.plan(cfg)
        folded, aliases = ff.build_folded(cfg, folds)
        ff.fill_folded(folded, exact, cfg, folds, dtype=np.float64)
        x = np.random.default_rng(2).uniform(0, 1, (2, 160, 160, 3))
        want = np.asarray(exact(x, training=False))
        got = np.asarray(folded(x, training=False))
    finally:
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy(policy)
    assert want.dtype == got.dtype == np.float64
    assert np.max(np.abs(want)) > 0.1
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * np.max(np.abs(want)))
    assert aliases["Dropout"] == "AvgPool" and aliases["Bottleneck_BatchNorm"] == "Bottleneck"


def test_folded_sub_graph_in_float32_and_its_structure(config):
    cfg = sub_graph(config)
    exact = exact_model(cfg)
    folds = ff.plan(cfg)
    n_bn = sum(l["class_name"] == "BatchNormalization" for l in cfg["layers"])
    assert len(folds) == n_bn and folds["Bottleneck_BatchNorm"] == "Bottleneck"
    folded, _ = ff.build_folded(cfg, folds)
    ff.fill_folded(folded, exact, cfg, folds)
    kinds = {type(l).__name__ for l in folded.layers}
    assert "BatchNormalization" not in kinds and "Dropout" not in kinds
    assert all(folded.get_layer(p).use_bias for p in folds.values())
    # Every biased convolution adds its bias with a single BiasAdd (no Reshape/Squeeze around it).
    convs = [l for l in folded.layers if isinstance(l, keras.layers.Conv2D)]
    assert convs and all(type(l) is ff.BiasConv2D for l in convs)
    # The ScaleSum residual constants are the very same floats.
    scales = {l.name: l.scale for l in exact.layers if isinstance(l, ef.ScaleSum)}
    assert scales and scales == {l.name: l.scale for l in folded.layers if isinstance(l, ef.ScaleSum)}
    x = np.random.default_rng(3).uniform(0, 1, (2, 160, 160, 3)).astype(np.float32)
    want, got = np.asarray(exact(x, training=False)), np.asarray(folded(x, training=False))
    assert np.max(np.abs(got - want)) <= 1e-5 * max(1.0, np.max(np.abs(want)))


def test_folded_weights_are_numpy_not_tensorflow(config):
    """Every folded weight is fold() of the exact weights rounded to float32: bit for bit the numpy
    result, so the export's bytes cannot depend on the CPU."""
    cfg = sub_graph(config)
    exact = exact_model(cfg)
    folds = ff.plan(cfg)
    folded, _ = ff.build_folded(cfg, folds)
    ff.fill_folded(folded, exact, cfg, folds)
    for bn, prod in folds.items():
        b = exact.get_layer(bn)
        k, c = ff.fold(exact.get_layer(prod).kernel.numpy(), None, b.beta.numpy(), b.moving_mean.numpy(),
                       b.moving_variance.numpy(), b.epsilon)
        got = folded.get_layer(prod)
        np.testing.assert_array_equal(got.kernel.numpy(), k.astype(np.float32))
        np.testing.assert_array_equal(got.bias.numpy(), c.astype(np.float32))


def test_plan_on_the_notebook_graph(config):
    folds = ff.plan(config)
    assert len(folds) == 112
    folded, aliases = ff.build_folded(config, folds)
    assert len(folded.layers) == ef.EXPECTED_LAYERS - 112 - 1
    assert tuple(folded.outputs[0].shape) == (None, ef.EMBEDDING_DIM)
    assert [t.name for t in folded.inputs] == [ef.INPUT_NAME]
    # Parameters: each BN's beta/mean/variance (3 per channel) become one bias per channel.
    bn_channels = sum(l["config"]["filters"] if l["class_name"] == "Conv2D" else l["config"]["units"]
                      for l in config["layers"] if l["name"] in folds.values())
    assert folded.count_params() == ef.EXPECTED_PARAMS - 2 * bn_channels


def test_other_batchnorms_are_not_folded(config):
    cfg = sub_graph(config)
    for l in cfg["layers"]:
        if l["name"] == "Conv2d_1a_3x3":
            l["config"]["activation"] = "relu"  # a BN after an activation is not an affine map of the conv
    folds = ff.plan(cfg)
    assert "Conv2d_1a_3x3_BatchNorm" not in folds and len(folds) > 0
