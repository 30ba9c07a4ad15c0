"""savedmodel_export: two exports of the same weights are byte-identical, and each weight is saved once
(Keras 3's own model.export saves every variable twice, and TensorFlow's C API restores both)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import savedmodel_export


def small_model():
    import keras

    keras.utils.set_random_seed(7)
    inp = keras.Input((8, 8, 3), name="x")
    y = keras.layers.Conv2D(4, 3, name="conv")(inp)
    y = keras.layers.BatchNormalization(name="bn")(y)
    y = keras.layers.GlobalAveragePooling2D(name="gap")(y)
    y = keras.layers.Dense(5, name="dense")(y)
    return keras.Model(inp, y)


def checkpoint_values(out_dir):
    import tensorflow as tf

    r = tf.train.load_checkpoint(str(out_dir / "variables" / "variables"))
    return [k for k in r.get_variable_to_shape_map() if k.endswith("VARIABLE_VALUE")]


def saved_variables(out_dir):
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString((out_dir / "saved_model.pb").read_bytes())
    graph = sm.meta_graphs[0]
    objects = sum(n.WhichOneof("kind") == "variable" for n in graph.object_graph_def.nodes)
    handles = sum(n.op == "VarHandleOp" for n in graph.graph_def.node)
    return objects, handles


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = small_model()
    a, b = tmp_path_factory.mktemp("a") / "m", tmp_path_factory.mktemp("b") / "m"
    savedmodel_export.export(model, str(a))
    savedmodel_export.export(model, str(b))
    return model, a, b


def test_each_weight_saved_once(exported):
    model, a, _ = exported
    n = len(model.weights)
    assert len(checkpoint_values(a)) == n
    assert saved_variables(a) == (n, n)


def test_byte_identical(exported):
    _, a, b = exported
    for name in ("variables/variables.data-00000-of-00001", "variables/variables.index"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_reloaded_outputs_equal_model(exported):
    import tensorflow as tf

    model, a, _ = exported
    x = np.random.default_rng(1).random((2, 8, 8, 3), dtype=np.float32)
    got = tf.saved_model.load(str(a)).signatures["serving_default"](tf.constant(x))
    (out,) = got.values()
    np.testing.assert_array_equal(out.numpy(), model(x, training=False).numpy())


def test_keras_alone_saves_twice(tmp_path):
    # The reason for the patch: if a Keras upgrade stops duplicating, this fails and the patch can go.
    # A fresh interpreter, because the patch, once applied, holds for the whole process.
    code = f"""
import sys
sys.path[:0] = {sys.path!r}
from test_savedmodel_export import small_model, checkpoint_values
from pathlib import Path
m = small_model()
m.export({str(tmp_path / "plain")!r}, verbose=False)
print(len(checkpoint_values(Path({str(tmp_path / "plain")!r}))), len(m.weights))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         cwd=Path(__file__).parent).stdout.split()
    saved, weights = int(out[-2]), int(out[-1])
    assert saved == 2 * weights
