"""Deterministic Keras 3 SavedModel export, shared by the export scripts.

Keras' `model.export` collects the variables an endpoint uses in the order TensorFlow's traced function
captured them, which changes from run to run; the checkpoint then lists the same values in another order
and the variables files (and the model fingerprint computed from them) differ between two exports of the
same weights. Exporting with that list sorted by variable path makes two exports byte-identical.

Keras' export also saves every weight twice: the archive's `variables` lists hold the Keras variables, each of
which the TensorFlow backend writes out as a new tf.Variable copied from the tf.Variable the endpoint
captured (`_all_variables`), so the checkpoint holds two copies and a C API session restores both into
memory (FaceNet: 981 variables, 182 MB read and resident, for the 491 the graph uses). Tracking the
captured tf.Variables themselves in those lists leaves one copy, with the same values and graph.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _sorted_variables_patch():
    from keras.src.export import saved_model_export_archive as archive

    original = archive._list_variables_used_by_fns
    if getattr(original, "_facenet_sorted", False):
        return

    def key(v):
        return (v.name, tuple(v.shape.as_list()))

    def sorted_list(fns):
        tvs, ntvs = original(fns)
        return sorted(tvs, key=key), sorted(ntvs, key=key)

    sorted_list._facenet_sorted = True
    archive._list_variables_used_by_fns = sorted_list


def _single_copy_patch():
    from keras.src.backend.tensorflow import export as tf_export

    cls = tf_export.TFExportArchive
    if getattr(cls._backend_track_layer, "_facenet_single_copy", False):
        return

    def underlying(vs):
        # A Keras variable's .value is the tf.Variable its layer's ops read: the one the endpoint
        # captures, and so the one `_all_variables` saves.
        return [getattr(v, "value", v) for v in vs]

    def track_layer(self, layer):
        self._tf_trackable.variables += underlying(layer.variables)
        self._tf_trackable.trainable_variables += underlying(layer.trainable_variables)
        self._tf_trackable.non_trainable_variables += underlying(layer.non_trainable_variables)

    track_layer._facenet_single_copy = True
    cls._backend_track_layer = track_layer


def export(model, out_dir):
    """Export `model` to `out_dir` (tag "serve", signature "serving_default") deterministically."""
    _sorted_variables_patch()
    _single_copy_patch()
    model.export(out_dir, verbose=False)
