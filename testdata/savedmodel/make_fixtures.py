"""Write the generated SavedModel fixtures of testdata/savedmodel (see README.md there).

tf_functions: a TF2 tf.Module whose root exposes tf.functions with several traces, a bare
    concrete function, defaults of every Python kind, keyword-only and nested (dict/list)
    arguments, string and unknown-rank signatures: what the "Concrete Functions" part of
    saved_model_cli --all prints.
tf1_pbtxt: a TF1 SavedModel in text format (saved_model.pbtxt) with two MetaGraphs, one of them
    tagged with two tags, and two signatures.

Run with the project venv (TensorFlow 2.18): .venv/bin/python testdata/savedmodel/make_fixtures.py
"""

import argparse
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def tf_functions(out):
    import tensorflow as tf

    class Functions(tf.Module):
        def __init__(self):
            super().__init__()
            self.v = tf.Variable(2.0)

        @tf.function
        def k(self, x, flag=True, scale=0.5, mode="a", opt=None, lst=(1, 2), dct=None, *, kw):
            return x * self.v * scale + kw

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def f(self, x):
            return {"y": x * self.v, "z": tf.reduce_sum(x)}

        @tf.function(input_signature=[tf.TensorSpec(None, tf.string)])
        def g(self, s):
            return tf.strings.length(s)

    mod = Functions()
    mod.k(tf.constant([1.0]), kw=tf.constant(1.0))
    mod.k(tf.constant([[1.0]]), False, 1e-5, "b'q\"", None, [3, "z"], {"a": 1, "b": 2.5}, kw=tf.constant(2.0))
    mod.k(tf.constant(1, tf.float32), flag=False, scale=1e16, kw=tf.constant(3.0))
    mod.bare = mod.k.get_concrete_function(tf.TensorSpec([3], tf.float32, name="xx"), kw=tf.TensorSpec([], tf.float32))
    mod.nested = tf.function(
        lambda d: d["a"] + d["b"][0],
        input_signature=[{"a": tf.TensorSpec([2], tf.float32), "b": [tf.TensorSpec([2], tf.float32, name="bb")]}],
    )
    tf.saved_model.save(mod, out, signatures={"serving_default": mod.f, "strlen": mod.g})


def tf1_pbtxt(out):
    import tensorflow as tf

    with tf.Graph().as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 2], name="in")
        w = tf.compat.v1.get_variable("w", initializer=tf.constant([[1.0], [2.0]]))
        y = tf.matmul(x, w, name="out")
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            builder = tf.compat.v1.saved_model.Builder(out)
            sig = tf.compat.v1.saved_model.predict_signature_def({"in": x}, {"out": y})
            builder.add_meta_graph_and_variables(sess, ["serve", "gpu"], signature_def_map={"serving_default": sig, "other": sig})
            builder.add_meta_graph(["train"], signature_def_map={})
            builder.save(as_text=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)), help="directory to write the fixtures into (default: this script's directory)")
    opts = ap.parse_args(argv)
    import tensorflow as tf

    tf.random.set_seed(0)
    for name, make in [("tf_functions", tf_functions), ("tf1_pbtxt", tf1_pbtxt)]:
        path = os.path.join(opts.out, name)
        shutil.rmtree(path, ignore_errors=True)
        make(path)
        print("wrote", path)


if __name__ == "__main__":
    main()
