import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "make_test_models.py")


def _digests(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if "variables" in dirpath:
                p = os.path.join(dirpath, f)
                out[os.path.relpath(p, root)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    a = tmp_path_factory.mktemp("a")
    b = tmp_path_factory.mktemp("b")
    for d in (a, b):
        subprocess.run([sys.executable, SCRIPT, "--out", str(d)], check=True, capture_output=True)
    return a, b


def test_exports_are_byte_identical(exported):
    a, b = exported
    da, db = _digests(a), _digests(b)
    assert len(da) >= 12  # index + data for each of the six models
    assert da == db


def test_signatures(exported):
    import tensorflow as tf

    a, _ = exported
    want = {
        "keras_cnn": ({"image": [None, 16, 16, 3]}, {"output_0"}),
        "two_inputs": ({"a": [None, 4], "b": [None, 3]}, {"output_0"}),
        "channels_first": ({"nchw": [None, 3, 8, 8]}, {"output_0"}),
        "tf_module": ({"x": [None, 4]}, {"y", "norm"}),
    }
    for name, (inputs, outputs) in want.items():
        sig = tf.saved_model.load(str(a / name)).signatures["serving_default"]
        got = {k: v.shape.as_list() for k, v in sig.structured_input_signature[1].items()}
        assert got == inputs, name
        assert set(sig.structured_outputs.keys()) == outputs, name


def test_nan_model_outputs_nan(exported):
    import tensorflow as tf

    a, _ = exported
    sig = tf.saved_model.load(str(a / "nan_output")).signatures["serving_default"]
    out = sig(x=tf.constant(np.ones((2, 4), np.float32)))["output_0"].numpy()
    assert np.isnan(out).all()


def test_help():
    r = subprocess.run([sys.executable, SCRIPT, "--help"], capture_output=True, text=True, check=True)
    assert "--golden" in r.stdout
