"""Export the PyPI mtcnn 1.0.0 networks (P-Net, R-Net, O-Net) as three TensorFlow SavedModels.

The weights are the package's own `mtcnn/assets/weights/{pnet,rnet,onet}.lz4` (joblib + lz4), loaded with
the package's `load_weights` and copied into the package's own Keras network classes: no TensorFlow
computation touches them. Each SavedModel also runs, inside its graph, the TensorFlow image op that
mtcnn 1.0.0 applies in Python before the network, so a caller of the SavedModel gets the same numbers:

  pnet: image (1,H,W,3) normalized, size (2,) [new_h, new_w] as floats holding integers
        -> tf.image.resize(image, size, AREA) -> P-Net -> reg (1,h,w,4), prob (1,h,w,2)
        (on a level above a megapixel, P-Net runs in strips of rows: see PNET_STRIP_ABOVE)
  rnet: image (1,H,W,3) normalized, boxes (N,4) [y1,x1,y2,x2] normalized as mtcnn computes them
        -> tf.image.crop_and_resize(image, boxes, 0, 24x24) -> R-Net -> reg (N,4), prob (N,2)
  onet: the same with 48x48 -> O-Net -> reg (N,4), landmarks (N,10), prob (N,2)

"Normalized" is mtcnn's (x - 127.5) / 128 of the uint8 RGB pixels; those values are exact in float32,
and mtcnn's float64 input to these ops is cast to float32 inside them, so float32 inputs give the same
results. Each directory gets assets.extra/mtcnn.json: provenance (PyPI mtcnn 1.0.0, MIT) and the
sha256 of the .lz4 file its weights came from. Output is deterministic (PYTHONHASHSEED=0, as make sets).
"""

import argparse
import hashlib
import importlib.metadata
import importlib.resources
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import savedmodel_export

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MTCNN_VERSION = "1.0.0"


class ExportError(Exception):
    pass


def weights_file(name: str) -> Path:
    path = Path(str(importlib.resources.files("mtcnn.assets.weights") / f"{name}.lz4"))
    if not path.is_file():
        raise ExportError(f"{path}: weights file missing from the mtcnn package")
    return path


# P-Net runs on a pyramid level above PNET_STRIP_ABOVE pixels in strips of rows of about
# PNET_STRIP_PIXELS each: its activations on a whole 4.5-megapixel level (a 12-megapixel photo's first
# scale) peak near 600 MB, on a strip near 40 MB. P-Net is convolutional (3x3 valid, 2x2/2 'same' pool,
# 3x3, 3x3, then 1x1): output row r reads input rows 2r .. 2r+11, so input rows [2a, 2b+10) give
# exactly output rows [a, b), and the last strip, cut by the image's end, pads its pool as the whole
# image does. The values are the whole image's: bit for bit on an AVX-512 Xeon; with oneDNN capped
# to AVX2 its kernels block some strip shapes differently and values move by up to 3e-8.
PNET_STRIP_ABOVE = 1 << 20
PNET_STRIP_PIXELS = 1 << 19


def pnet_strips(net, scaled, h, w):
    """P-Net on scaled (1, h, w, 3) strip by strip: the same (1, oh, ow, 4) and (1, oh, ow, 2)."""
    import tensorflow as tf

    oh = (h - 1) // 2 - 4  # conv 3 valid, pool 2/2 'same' (ceil), conv 3, conv 3
    rows = tf.maximum(16, PNET_STRIP_PIXELS // w)
    n = (oh + rows - 1) // rows
    regs = tf.TensorArray(tf.float32, size=n, infer_shape=False)
    probs = tf.TensorArray(tf.float32, size=n, infer_shape=False)

    def body(i, regs, probs):
        a = i * rows
        reg, prob = net(scaled[:, 2 * a:2 * (a + rows) + 10])
        return i + 1, regs.write(i, reg[0]), probs.write(i, prob[0])

    _, regs, probs = tf.while_loop(lambda i, *_: i < n, body, (tf.constant(0), regs, probs))
    return regs.concat()[None], probs.concat()[None]


def build(name: str):
    """The package's network with the package's weights, and the tf.Module that wraps it."""
    import tensorflow as tf
    from mtcnn.network.onet import ONet
    from mtcnn.network.pnet import PNet
    from mtcnn.network.rnet import RNet
    from mtcnn.utils.tensorflow import load_weights

    net = {"pnet": PNet, "rnet": RNet, "onet": ONet}[name]()
    net.build()
    net.set_weights(load_weights(f"{name}.lz4"))
    if name == "pnet":
        @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32, name="image"),
                                      tf.TensorSpec([2], tf.float32, name="size")])
        def serve(image, size):
            # mtcnn passes shape * scale (float64); tf.image.resize truncates it to int32.
            scaled = tf.image.resize(image, tf.cast(size, tf.int32), method=tf.image.ResizeMethod.AREA)
            h, w = tf.shape(scaled)[1], tf.shape(scaled)[2]
            reg, prob = tf.cond(h * w > PNET_STRIP_ABOVE, lambda: pnet_strips(net, scaled, h, w),
                                lambda: tuple(net(scaled)))
            return {"reg": reg, "prob": prob}
    else:
        side = 24 if name == "rnet" else 48

        @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32, name="image"),
                                      tf.TensorSpec([None, 4], tf.float32, name="boxes")])
        def serve(image, boxes):
            ind = tf.zeros([tf.shape(boxes)[0]], tf.int32)
            patches = tf.image.crop_and_resize(image, boxes, ind, (side, side))
            out = net(patches)
            if name == "rnet":
                return {"reg": out[0], "prob": out[1]}
            return {"reg": out[0], "landmarks": out[1], "prob": out[2]}
    # Keras' ExportArchive tracks the network's variables so TensorFlow's C API restores them (a bare
    # tf.Module holding a Keras 3 model saves graphs whose variables the C loader cannot find).
    import keras

    archive = keras.export.ExportArchive()
    archive.track(net)
    archive.add_endpoint("serve", serve)
    return archive


def export(name: str, out: Path) -> dict:
    import tensorflow as tf

    if out.exists() and (not out.is_dir() or
                         (any(out.iterdir()) and not (out / "saved_model.pb").exists())):
        raise ExportError(f"{out} exists and is not a SavedModel: refusing to replace it")
    src = weights_file(name)
    archive = build(name)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        savedmodel_export._sorted_variables_patch()
        archive.write_out(str(tmp), verbose=False)
        doc = {
            "format": "mtcnn-profile/v1",
            "name": name,
            "source": f"PyPI mtcnn {MTCNN_VERSION} (ipazc/mtcnn), mtcnn/assets/weights/{name}.lz4",
            "licence": "MIT",
            "weights_sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
            "defaults": {"min_face_size": 20, "min_size": 12, "scale_factor": 0.709,
                         "threshold_pnet": 0.6, "threshold_rnet": 0.7, "threshold_onet": 0.8,
                         "nms_pnet1": 0.5, "nms_pnet2": 0.7, "nms_rnet": 0.7, "nms_onet": 0.7},
        }
        (tmp / "assets.extra").mkdir(exist_ok=True)
        (tmp / "assets.extra" / "mtcnn.json").write_text(json.dumps(doc, indent=2) + "\n")
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Export PyPI mtcnn 1.0.0's P-Net, R-Net and O-Net (weights copied from the package) "
                    "as SavedModels OUT/{pnet,rnet,onet}/ with the pyramid resize / patch crop ops inside.",
        epilog="Inputs: pnet {image (1,H,W,3), size (2,)}, rnet/onet {image (1,H,W,3), boxes (N,4)}, "
               "float32, image normalized (x-127.5)/128.")
    parser.add_argument("--out", required=True, type=Path, help="directory to write pnet/, rnet/, onet/ into")
    args = parser.parse_args(argv)
    try:
        have = importlib.metadata.version("mtcnn")
        if have != MTCNN_VERSION:
            raise ExportError(f"mtcnn {have} installed, want {MTCNN_VERSION} (scripts/requirements.txt)")
        for name in ("pnet", "rnet", "onet"):
            doc = export(name, args.out / name)
            print(f"wrote {args.out / name} (weights sha256 {doc['weights_sha256']})")
    except ExportError as err:
        print(f"export_mtcnn: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
