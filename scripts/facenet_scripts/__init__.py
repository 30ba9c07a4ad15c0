"""Helpers shared by the project's Python scripts (scripts/*.py), importable from scripts/.

Importing this package first pins what would otherwise make the scripts' output depend on the shell
they run in, before numpy or TensorFlow load:

- OPENBLAS_CORETYPE=Haswell on x86-64, unless set: numpy's float32 dot products (np.linalg.norm of a
  difference, the notebook's distance) follow the OpenBLAS kernel, and the golden files and the Go
  side's numpy-order distance follow the Haswell/Zen one. With the AVX-512 kernel an Intel Xeon prints
  other last digits. OpenBLAS reads the variable once, when numpy is first imported.
- TF_CPP_MIN_LOG_LEVEL=2, unless set: TensorFlow's C++ start-up lines are noise in a script's output.
"""

import os
import platform

if platform.machine() in ("x86_64", "AMD64"):
    os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def openblas_coretype():
    """The OpenBLAS core numpy runs on, as the environment chose it ("" when OpenBLAS picks by CPU)."""
    return os.environ.get("OPENBLAS_CORETYPE", "")
