"""Tests for convert_faceapi.py (and the quick parts of crosscheck_faceapi.py).

The real package comes from `make setup` (build/node, pinned by scripts/faceapi/package-lock.json);
FACEAPI_PACKAGE overrides its path. Node.js runs face-api itself for the reference values.
"""

import hashlib
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import convert_faceapi as cf
import crosscheck_faceapi as cc

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(os.environ.get("FACEAPI_PACKAGE",
                              ROOT / "build" / "node" / "node_modules" / "@vladmandic" / "face-api"))
SHARED = Path(os.environ.get("FACENET_SHARED", ROOT.parent / "shared"))
CROPS = ROOT / "testdata" / "faceapi" / "crops"


@pytest.fixture(scope="module")
def package():
    if not (PACKAGE / cf.MANIFEST).is_file():
        pytest.fail(f"no face-api package at {PACKAGE}: run `make setup` (npm ci into build/node)")
    return PACKAGE


@pytest.fixture(scope="module")
def exported(package, tmp_path_factory):
    """The real model converted twice, into two directories."""
    dirs = [tmp_path_factory.mktemp("a") / "m", tmp_path_factory.mktemp("b") / "m"]
    docs = [cf.export(package, d) for d in dirs]
    return dirs, docs


def f32(*values):
    return np.array(values, dtype=np.float32)


@pytest.mark.parametrize("name,raw,spec,want", [
    # q * scale + min, by hand: 0*.1-1, 1*.1-1, 10*.1-1, 255*.1-1.
    ("uint8", bytes([0, 1, 10, 255]),
     {"shape": [2, 2], "quantization": {"dtype": "uint8", "scale": 0.1, "min": -1.0}},
     f32(-1.0, -0.9, 0.0, 24.5).reshape(2, 2)),
    # tfjs adds in float64 and rounds once: 3*0.1 - 0.3 is 2**-54 in doubles (float32 arithmetic
    # would give exactly 0).
    ("float64 sum", bytes([3]),
     {"shape": [1], "quantization": {"dtype": "uint8", "scale": 0.1, "min": -0.3}},
     f32(2.0 ** -54)),
    ("uint16 little-endian", (513).to_bytes(2, "little") + (65535).to_bytes(2, "little"),
     {"shape": [2], "quantization": {"dtype": "uint16", "scale": 0.5, "min": 1.0}},
     f32(257.5, 32768.5)),
    ("float32 unquantized", np.array([1.5, -2.25], dtype="<f4").tobytes(), {"shape": [2]},
     f32(1.5, -2.25)),
])
def test_dequantize(name, raw, spec, want):
    got = cf.dequantize(raw, {"name": name, "dtype": "float32", **spec})
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("raw,spec,message", [
    (bytes(3), {"shape": [4], "quantization": {"dtype": "uint8", "scale": 1, "min": 0}}, "3 values, want 4"),
    (bytes(4), {"shape": [4], "quantization": {"dtype": "float16"}}, "unsupported quantization"),
    (bytes(4), {"shape": [4], "quantization": {"dtype": "uint8", "scale": 1}}, "without scale and min"),
    (bytes(4), {"shape": [4], "dtype": "int32"}, "want float32"),
    (bytes(12), {"shape": [4]}, "12 bytes, want 16"),
])
def test_dequantize_rejects_bad_entries(raw, spec, message):
    with pytest.raises(cf.ConversionError, match=message):
        cf.dequantize(raw, {"name": "w", "dtype": "float32", **spec})


def test_load_weights_lays_entries_back_to_back_over_shards(tmp_path):
    (tmp_path / "model").mkdir()
    manifest = [{"paths": ["a.bin", "b.bin"], "weights": [
        {"name": "q", "shape": [3], "dtype": "float32",
         "quantization": {"dtype": "uint8", "scale": 2.0, "min": -1.0}},
        {"name": "f", "shape": [2], "dtype": "float32"},
    ]}]
    (tmp_path / cf.MANIFEST).write_text(json.dumps(manifest))
    data = bytes([0, 1, 2]) + np.array([7.0, -8.0], dtype="<f4").tobytes()
    (tmp_path / "model" / "a.bin").write_bytes(data[:5])  # the float32 entry spans both files
    (tmp_path / "model" / "b.bin").write_bytes(data[5:])
    got = cf.load_weights(tmp_path)
    np.testing.assert_array_equal(got["q"], f32(-1, 1, 3))
    np.testing.assert_array_equal(got["f"], f32(7, -8))

    (tmp_path / "model" / "b.bin").write_bytes(data[5:] + b"\0")
    with pytest.raises(cf.ConversionError, match="1 bytes left"):
        cf.load_weights(tmp_path)


def test_manifest_matches_the_network(package):
    manifest = json.loads((package / cf.MANIFEST).read_text())
    specs = [w for group in manifest for w in group["weights"]]
    weights = cf.load_weights(package)
    cf.check_weights(weights)  # every name and shape extractParamsFromWeightMap reads
    assert len(weights) == len(specs) == len(cf.expected_shapes())
    assert sum(cf.entry_size(s) for s in specs) == (package / "model" / "face_recognition_model.bin").stat().st_size
    # 29 convolutions (dlib's "29 conv layers") and the 256x128 fully connected layer.
    assert sum(name.endswith("/conv/filters") for name in weights) == 29
    assert weights["fc"].shape == (256, 128)


def test_dequantized_weights_equal_tfjs_decode_weights(package):
    """Every tensor, bit for bit, against tfjs-core's own io.decodeWeights run by Node."""
    script = r"""
const { createRequire } = require('node:module');
const path = require('node:path');
const fs = require('node:fs');
const crypto = require('node:crypto');
const pkg = process.argv[1];
const req = createRequire(path.join(pkg, 'package.json'));
const tf = req('@tensorflow/tfjs-core');
req('@tensorflow/tfjs-backend-cpu'); // tensors need a backend to live on
const manifest = JSON.parse(fs.readFileSync(path.join(pkg, 'model/face_recognition_model-weights_manifest.json')));
const out = {};
for (const group of manifest) {
  const buf = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(pkg, 'model', p))));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  const map = tf.io.decodeWeights(ab, group.weights);
  for (const [name, t] of Object.entries(map)) {
    const v = t.dataSync();
    out[name] = crypto.createHash('sha256').update(Buffer.from(v.buffer, v.byteOffset, v.byteLength)).digest('hex');
  }
}
process.stdout.write(JSON.stringify(out));
"""
    proc = subprocess.run(["node", "-e", script, str(package)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    want = json.loads(proc.stdout)
    got = {name: hashlib.sha256(w.astype("<f4").tobytes()).hexdigest()
           for name, w in cf.load_weights(package).items()}
    assert got == want


def test_fingerprint_follows_the_contract(tmp_path):
    (tmp_path / "variables" / "sub").mkdir(parents=True)
    (tmp_path / "variables" / "variables.index").write_bytes(b"index")
    (tmp_path / "variables" / "sub" / "x").write_bytes(b"")
    (tmp_path / "saved_model.pb").write_bytes(b"not hashed")
    entries = [("variables/sub/x", b""), ("variables/variables.index", b"index")]
    text = "".join(f"{rel}\n{hashlib.sha256(data).hexdigest()}\n" for rel, data in entries)
    assert cf.fingerprint(tmp_path) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_export_is_reproducible(exported):
    (a, b), (doc_a, doc_b) = exported
    assert doc_a == doc_b
    assert doc_a["fingerprint"] == cf.fingerprint(a) == cf.fingerprint(b)
    for rel in ("variables/variables.index", "variables/variables.data-00000-of-00001"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes()


def test_profile_fields(exported):
    (model, _), _ = exported
    prof = json.loads((model / "assets.extra" / "facenet.json").read_text())
    version = json.loads((PACKAGE / "package.json").read_text())["version"]
    assert prof["format"] == "facenet-profile/v1"
    assert prof["name"] == "dlib-resnet-v1"
    assert prof["weights"] == f"face-api {version} face_recognition_model (dlib ResNet, 99.38% LFW)"
    assert prof["signature"] == {"tag_set": ["serve"], "signature_def": "serving_default",
                                 "input": "input", "output": "output_0"}
    assert prof["input"] == {"height": 150, "width": 150, "channels": 3, "layout": "NHWC",
                             "color_order": "RGB", "interpolation": "nearest",
                             "keep_aspect_ratio": False, "divide_by": 1.0, "round_decimals": None}
    assert prof["output"] == {"dim": 128, "l2_normalize": False}
    assert prof["distance"] == {"metric": "euclidean", "threshold": 0.6}
    assert prof["fingerprint"] == cf.fingerprint(model)


def test_savedmodel_signature_and_output_shape(exported):
    import tensorflow as tf

    (model, _), _ = exported
    fn = tf.saved_model.load(str(model)).signatures["serving_default"]
    assert list(fn.structured_input_signature[1]) == ["input"]
    spec = fn.structured_input_signature[1]["input"]
    assert spec.shape.as_list() == [None, 150, 150, 3] and spec.dtype == tf.float32
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(3, 150, 150, 3)).astype(np.float32)
    out = fn(input=tf.constant(batch))["output_0"].numpy()
    assert out.shape == (3, 128) and np.all(np.isfinite(out))
    # Rows are independent: the first image alone gives the first row.
    alone = fn(input=tf.constant(batch[:1]))["output_0"].numpy()
    np.testing.assert_allclose(alone[0], out[0], atol=1e-5)


def test_savedmodel_matches_faceapi_js(exported, capsys):
    """The quick cross-check: two images through face-api.js (WASM) and the SavedModel."""
    (model, _), _ = exported
    images = [str(SHARED / "notebook" / "images" / "camera_0.jpg"), str(CROPS / "sample1_face0.png")]
    code = cc.main(["--package", str(PACKAGE), "--model", str(model), "--backend", "wasm",
                    "--images", *images])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "max|diff|" in out and "ok" in out


def test_export_refuses_to_replace_other_dirs(package, tmp_path):
    (tmp_path / "keep.txt").write_text("not a model")
    with pytest.raises(cf.ConversionError, match="not a SavedModel"):
        cf.export(package, tmp_path)
    assert (tmp_path / "keep.txt").exists()


def test_main_reports_a_missing_package(tmp_path, capsys):
    assert cf.main(["--package", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("convert_faceapi: ") and str(tmp_path / "nope") in err
    assert not (tmp_path / "out").exists()


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps({"image": i, "embedding": e}) + "\n" for i, e in records))


@pytest.mark.parametrize("records,images,want,error", [
    ([("a/x.jpg", [1.0]), ("b/y.jpg", [2.0])], ["a/x.jpg", "b/y.jpg"], [[1.0], [2.0]], None),
    ([("elsewhere/x.jpg", [3.0])], ["a/x.jpg"], [[3.0]], None),  # unique basename
    ([("p/x.jpg", [1.0]), ("q/x.jpg", [2.0])], ["a/x.jpg"], None, "no embedding"),  # ambiguous
    ([("a/x.jpg", [1.0])], ["a/z.jpg"], None, "no embedding"),
])
def test_read_go_json_matches_images(tmp_path, records, images, want, error):
    path = tmp_path / "go.jsonl"
    _write_jsonl(path, records)
    paths = [Path(i) for i in images]
    if error:
        with pytest.raises(cc.CheckError, match=error):
            cc.read_go_json(path, paths)
        return
    got = cc.read_go_json(path, paths)
    assert [g.tolist() for g in got] == want
