"""Checks of scripts/make_hostile_models.py: two runs write identical files, and each model is broken
in the one way its name says (read from saved_model.pb, so the check does not trust TensorFlow's
loader, which is what the Go tests exercise)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

import make_hostile_models as mhm  # noqa: E402


def tree_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def run_script(out: Path) -> None:
    # A fresh process each time, as `make models` runs it: in the pytest process other tests have
    # already built TensorFlow graphs, so its name counters (and the files) would differ.
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_hostile_models.py"), "--out", str(out)],
                   check=True, capture_output=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile")
    run_script(out)
    return out


def signature(model_dir: Path, key: str = "serving_default"):
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString((model_dir / "saved_model.pb").read_bytes())
    mg = sm.meta_graphs[0]
    return list(mg.meta_info_def.tags), mg.signature_def.get(key)


def shape(info):
    return [d.size for d in info.tensor_shape.dim]


def test_every_model_is_written(built):
    assert sorted(p.name for p in built.iterdir()) == sorted(mhm.MODELS)
    for name in mhm.MODELS:
        assert (built / name / "saved_model.pb").is_file(), name


def test_two_runs_are_identical(built, tmp_path):
    run_script(tmp_path)
    assert tree_hashes(tmp_path) == tree_hashes(built)


def test_control_model_contract(built):
    tags, sig = signature(built / "good")
    assert tags == ["serve"]
    assert list(sig.inputs) == ["image"] and list(sig.outputs) == ["embedding"]
    assert shape(sig.inputs["image"]) == [-1, 16, 16, 3]
    assert shape(sig.outputs["embedding"]) == [-1, 128]


@pytest.mark.parametrize("name, check", [
    ("wrong_tag", lambda tags, sig: tags == ["train"]),
    ("uint8_input", lambda tags, sig: sig.inputs["image"].dtype == 4),  # DT_UINT8
    ("rank3_input", lambda tags, sig: shape(sig.inputs["image"]) == [-1, 16, 16]),
    ("rank2_input", lambda tags, sig: shape(sig.inputs["image"]) == [-1, 128]),
    ("output_4d", lambda tags, sig: shape(sig.outputs["embedding"]) == [-1, 4, 4, 8]),
    ("output_1d", lambda tags, sig: shape(sig.outputs["embedding"]) == [-1]),
    ("int_output", lambda tags, sig: sig.outputs["embedding"].dtype == 3),  # DT_INT32
    ("two_inputs", lambda tags, sig: sorted(sig.inputs) == ["image", "mask"]),
    ("two_outputs", lambda tags, sig: sorted(sig.outputs) == ["embedding", "logits"]),
    ("huge_input", lambda tags, sig: shape(sig.inputs["image"]) == [-1, 100000, 100000, 3]),
])
def test_signature_is_broken_as_named(built, name, check):
    tags, sig = signature(built / name)
    assert sig is not None, name
    assert check(tags, sig), name


def test_files_are_broken_as_named(built):
    assert not (built / "missing_variables" / "variables").exists()
    good = next((built / "good" / "variables").glob("variables.data-*"))
    cut = next((built / "truncated_variables" / "variables").glob("variables.data-*"))
    assert cut.stat().st_size == good.stat().st_size // 2
    _, sig = signature(built / "wrong_signature_key")
    assert sig is None
    _, sig = signature(built / "wrong_signature_key", "predict")
    assert sig is not None
    assert not (built / "bad_profile" / "assets.extra" / "facenet.json").read_text().rstrip().endswith("}")


def test_outputs_are_what_the_names_say(built):
    import numpy as np
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(0).uniform(0, 1, (2, 16, 16, 3)).astype(np.float32))
    run = {n: tf.saved_model.load(str(built / n)).signatures["serving_default"] for n in
           ["good", "nan_output", "inf_output", "zero_output", "batch_collapse"]}
    good = run["good"](image=x)["embedding"].numpy()
    assert good.shape == (2, 128) and np.all(np.isfinite(good)) and np.any(good != 0)
    assert np.all(np.isnan(run["nan_output"](image=x)["embedding"].numpy()))
    assert np.all(run["inf_output"](image=x)["embedding"].numpy() == np.inf)
    assert np.all(run["zero_output"](image=x)["embedding"].numpy() == 0)
    assert run["batch_collapse"](image=x)["embedding"].shape == (1, 128)


def test_help():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_hostile_models.py"), "--help"],
                         capture_output=True, text=True, check=True)
    assert "--out" in out.stdout and "huge_input" in out.stdout
