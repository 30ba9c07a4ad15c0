"""Deterministic Keras 3 SavedModel export, shared by the export scripts.

Keras' `model.export` collects the variables an endpoint uses in the order TensorFlow's traced function
captured them, which changes from run to run; the checkpoint then lists the same values in another order
and the variables files (and the model fingerprint computed from them) differ between two exports of the
same weights. Exporting with that list sorted by variable path makes two exports byte-identical.
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


def export(model, out_dir):
    """Export `model` to `out_dir` (tag "serve", signature "serving_default") deterministically."""
    _sorted_variables_patch()
    model.export(out_dir, verbose=False)
