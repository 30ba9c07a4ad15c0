"""Tests of scripts/golden_embeddings.py on a small SavedModel, and of the committed golden file."""

import json
import os
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import export_facenet as ef
import golden_embeddings as ge

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("FACENET_SHARED", ROOT.parent / "shared"))
IMAGES = SHARED / "notebook" / "images"
COMMITTED = ROOT / "testdata" / "facenet" / "golden_notebook.json"


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """A small seeded model with the notebook's input and output, exported with the team profile."""
    inputs = keras.Input((160, 160, 3), name="input_1")
    x = keras.layers.Conv2D(16, 5, strides=4, activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(128, name="embed")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(5)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])
    out = tmp_path_factory.mktemp("small") / "facenet"
    ef.export_model(model, out, {"weights": "test weights", "description": "small test model"})
    return out


@pytest.fixture(scope="module")
def doc(small_model):
    return ge.golden(small_model, IMAGES)


def check_consistent(doc):
    """What the notebook's rules imply about any golden document, whatever the weights."""
    threshold = doc["threshold"]
    assert threshold == 0.7
    assert doc["database_order"] == [i for i, _ in ef.DATABASE]
    assert doc["database_files"] == dict(ef.DATABASE)
    assert sorted(doc["images"]) == sorted(ef.NOTEBOOK_IMAGES)
    emb = {}
    for name, v in doc["images"].items():
        raw = np.array(v["raw"], dtype=np.float32)
        e = np.array(v["embedding"], dtype=np.float32)
        assert raw.shape == e.shape == (128,), name
        assert abs(float(np.linalg.norm(e.astype(np.float64))) - 1.0) < 1e-6, name
        np.testing.assert_allclose(e, raw / np.linalg.norm(raw.astype(np.float64)), rtol=0, atol=1e-6)
        emb[name] = e
    db = {identity: emb[f] for identity, f in ef.DATABASE}

    assert sorted(doc["distances"]) == ef.CAMERA_IMAGES
    for cam, row in doc["distances"].items():
        assert sorted(row) == sorted(db)
        for identity, d in row.items():
            want = np.linalg.norm(emb[cam] - db[identity])  # float32, as the notebook computes it
            assert np.float32(d) == want, (cam, identity)
            assert doc["distance_strings"][cam][identity] == str(want)

    assert [(r["image"], r["identity"]) for r in doc["verify"]] == ge.VERIFY_CALLS
    for r in doc["verify"]:
        d = np.float32(r["distance"])
        assert d == np.linalg.norm(emb[r["image"]] - db[r["identity"]])
        assert r["door_open"] == bool(d < threshold)
        want = (f"It's {r['identity']}, welcome in!" if r["door_open"]
                else f"It's not {r['identity']}, please go away")
        assert r["message"] == want

    assert [r["image"] for r in doc["who_is_it"]] == ge.WHO_IS_IT_CALLS
    for r in doc["who_is_it"]:
        dists = [np.linalg.norm(emb[r["image"]] - db[i]) for i in doc["database_order"]]
        best = int(np.argmin(dists))  # the first of equal minima, as the notebook's strict `<`
        assert r["identity"] == doc["database_order"][best]
        assert np.float32(r["distance"]) == dists[best]
        want = ("Not in the database." if dists[best] > threshold
                else "it's " + r["identity"] + ", the distance is " + str(dists[best]))
        assert r["message"] == want

    andrew = next(r for r in doc["verify"] if r["image"] == "andrew.jpg")
    assert (andrew["distance"], andrew["door_open"], andrew["message"]) == \
        (0.0, True, "It's andrew, welcome in!")
    younes = next(r for r in doc["who_is_it"] if r["image"] == "younes.jpg")
    assert (younes["identity"], younes["distance"], younes["message"]) == \
        ("younes", 0.0, "it's younes, the distance is 0.0")


def test_golden_follows_the_notebook_rules(doc, small_model):
    check_consistent(doc)
    profile = ef.read_profile(small_model)
    assert doc["fingerprint"] == profile["fingerprint"]
    assert doc["weights"] == "test weights"


def test_raw_outputs_are_the_signature_outputs(doc, small_model):
    # Through the SavedModel's serving_default signature directly, without Keras' predict_on_batch.
    sig = tf.saved_model.load(str(small_model)).signatures["serving_default"]
    for name in ["danielle.png", "andrew.jpg", "camera_0.jpg"]:
        x = ef.notebook_input(IMAGES / name)[None]
        want = sig(input_1=tf.constant(x))["output_0"].numpy()[0]
        np.testing.assert_array_equal(np.array(doc["images"][name]["raw"], np.float32), want)


def test_json_round_trips_float32_exactly(doc):
    text = ge.dumps(doc)
    assert json.loads(text) == doc
    for v in doc["images"].values():
        for x in v["raw"] + v["embedding"]:
            assert float(np.float32(x)) == x


@pytest.mark.parametrize("value, want", [
    ({"b": [1.5, 2.0], "a": {"y": True, "x": None}},
     '{\n  "a": {\n    "x": null,\n    "y": true\n  },\n  "b": [1.5, 2.0]\n}'),
    ([{"k": "v"}], '[\n  {\n    "k": "v"\n  }\n]'),
    ({}, "{}"),
])
def test_dumps_layout(value, want):
    assert ge.dumps(value) == want


def test_main_is_deterministic_and_rejects_stale_profile(small_model, tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for out in (a, b):
        assert ge.main(["--model", str(small_model), "--images", str(IMAGES), "--out", str(out)]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert "who_is_it(younes.jpg): it's younes, the distance is 0.0" in capsys.readouterr().out

    profile = small_model / "assets.extra" / "facenet.json"
    saved = profile.read_text()
    try:
        profile.write_text(saved.replace('"sha256:', '"sha256:0'))
        assert ge.main(["--model", str(small_model), "--images", str(IMAGES),
                        "--out", str(tmp_path / "c.json")]) == 1
        assert "fingerprint" in capsys.readouterr().err
    finally:
        profile.write_text(saved)


def test_missing_image_is_a_clear_error(small_model, tmp_path):
    with pytest.raises(ge.GoldenError, match="missing danielle.png"):
        ge.golden(small_model, tmp_path)


def test_committed_golden_file_is_consistent():
    doc = json.loads(COMMITTED.read_text())
    check_consistent(doc)
    assert doc["weights"].startswith("pretrained: facenet_keras.h5 sha256:6acdd8fb")
    assert doc["fingerprint"].startswith("sha256:") and len(doc["fingerprint"]) == 7 + 64
    # Made from the model `make models` exports, whose weights are copied (not computed), so it is the
    # same model on every CPU.
    model = Path(os.environ.get("FACENET_MODELS", ROOT / "build" / "models")) / "facenet-keras"
    assert ef.read_profile(model)["fingerprint"] == doc["fingerprint"]
    assert doc["threshold_margin"]["margin"] >= ge.MIN_THRESHOLD_MARGIN


def test_decision_too_close_to_the_threshold_is_refused(small_model, monkeypatch):
    # With the threshold moved onto a distance the small model gives, the file would hinge on rounding.
    doc = ge.golden(small_model, IMAGES)
    near = doc["verify"][0]["distance"]
    real = ef.read_profile
    monkeypatch.setattr(ef, "read_profile",
                        lambda d: real(d) | {"distance": {"metric": "euclidean", "threshold": near + 1e-6}})
    with pytest.raises(ge.GoldenError, match="could differ on another CPU"):
        ge.golden(small_model, IMAGES)
