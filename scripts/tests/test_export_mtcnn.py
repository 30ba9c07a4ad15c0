"""Tests of export_mtcnn.py: the SavedModels in build/models/mtcnn give the same numbers as the mtcnn
package's own networks and TensorFlow ops (same process, same CPU: equal, not close), and the profile
records the package's weight hashes."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import export_mtcnn

ROOT = Path(__file__).resolve().parents[2]
MODELS = Path(os.environ.get("FACENET_MODELS", ROOT / "build" / "models")) / "mtcnn"


@pytest.fixture(scope="module")
def tf():
    import tensorflow
    return tensorflow


def rgb(h, w, seed):
    return np.random.RandomState(seed).randint(0, 256, (1, h, w, 3)).astype(np.uint8)


def test_help():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "export_mtcnn.py"), "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--out" in out and "mtcnn 1.0.0" in out


@pytest.mark.parametrize("name", ["pnet", "rnet", "onet"])
def test_profile_hashes_the_package_weights(name):
    doc = json.loads((MODELS / name / "assets.extra" / "mtcnn.json").read_text())
    assert doc["licence"] == "MIT" and "mtcnn 1.0.0" in doc["source"]
    assert doc["weights_sha256"] == hashlib.sha256(export_mtcnn.weights_file(name).read_bytes()).hexdigest()


def test_pnet_equals_package(tf):
    from mtcnn.stages import StagePNet
    from mtcnn.utils.images import normalize_images, scale_images

    net = StagePNet().model
    sig = tf.saved_model.load(str(MODELS / "pnet")).signatures["serving_default"]
    for h, w, scale in [(37, 53, 0.6), (96, 96, 0.3017)]:
        norm = normalize_images(rgb(h, w, h))  # float64, as mtcnn computes it
        want = net(scale_images(norm, scale))
        size = (np.asarray(norm.shape[1:3]) * scale).astype(np.int32).astype(np.float32)
        got = sig(image=tf.constant(norm.astype(np.float32)), size=tf.constant(size))
        np.testing.assert_array_equal(got["reg"].numpy(), want[0].numpy())
        np.testing.assert_array_equal(got["prob"].numpy(), want[1].numpy())


def test_pnet_strips_equal_whole_level(tf):
    """A pyramid level above PNET_STRIP_ABOVE pixels runs P-Net in strips of rows: the same shapes and
    values as the package's P-Net on the whole level (bit for bit with oneDNN's AVX-512 kernels; other
    kernels block some strip shapes differently, by up to 1.2e-7 measured with AVX2)."""
    from mtcnn.stages import StagePNet

    net = StagePNet().model
    sig = tf.saved_model.load(str(MODELS / "pnet")).signatures["serving_default"]
    for h, w in [(1501, 1100), (2000, 600)]:
        assert h * w > export_mtcnn.PNET_STRIP_ABOVE
        norm = ((rgb(h, w, w).astype(np.float32) - 127.5) / 128)
        want = net(tf.image.resize(norm, (h, w), method="area"))
        got = sig(image=tf.constant(norm), size=tf.constant([h, w], tf.float32))
        for k, wnt in zip(["reg", "prob"], want):
            assert got[k].shape == wnt.shape, k
            np.testing.assert_allclose(got[k].numpy(), wnt.numpy(), rtol=0, atol=5e-7, err_msg=k)


@pytest.mark.parametrize("name, side", [("rnet", 24), ("onet", 48)])
def test_refine_nets_equal_package(tf, name, side):
    from mtcnn.stages import StageONet, StageRNet
    from mtcnn.utils.images import extract_patches, normalize_images

    net = (StageRNet if name == "rnet" else StageONet)().model
    sig = tf.saved_model.load(str(MODELS / name)).signatures["serving_default"]
    norm = normalize_images(rgb(60, 80, 1))
    rows = np.array([[0, 3.2, 4.7, 40.1, 41.6, 0.9], [0, -5.0, 20.5, 70.25, 95.75, 0.8]])
    want = net(extract_patches(norm, rows, expected_size=(side, side)))
    boxes = (rows[:, [2, 1, 4, 3]] / np.array([[60, 80, 60, 80]])).astype(np.float32)
    got = sig(image=tf.constant(norm.astype(np.float32)), boxes=tf.constant(boxes))
    keys = ["reg", "prob"] if name == "rnet" else ["reg", "landmarks", "prob"]
    for k, wnt in zip(keys, want):
        np.testing.assert_array_equal(got[k].numpy(), wnt.numpy(), err_msg=k)
