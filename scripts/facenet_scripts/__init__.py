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


def file_sha256(path):
    """Hex sha256 of a file, read in 1 MiB chunks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def variables_fingerprint(model_dir):
    """The team's model fingerprint, as Go's encoding.Fingerprint computes it: sha256 over
    "relpath\\nhex(sha256(file))\\n" for every regular file under <dir>/variables/ (symlinks are not
    followed, so a link cannot pull another model's weights in), sorted by slash-separated path
    relative to <dir>. Raises FileNotFoundError without a variables/ directory."""
    import hashlib
    from pathlib import Path

    model_dir = Path(model_dir)
    var_dir = model_dir / "variables"
    if not var_dir.is_dir():
        raise FileNotFoundError(f"{model_dir}: no variables/ directory")
    entries = sorted((p.relative_to(model_dir).as_posix(), p) for p in var_dir.rglob("*")
                     if p.is_file() and not p.is_symlink())
    outer = hashlib.sha256()
    for rel, path in entries:
        outer.update(f"{rel}\n{file_sha256(path)}\n".encode("utf-8"))
    return "sha256:" + outer.hexdigest()


def cjpeg(ppm, *args, scans=None):
    """JPEG bytes from libjpeg-turbo's cjpeg (Debian libjpeg-turbo-progs; `make golden` installs it) run on
    the PPM/PGM bytes ppm with the options args, and the scan script scans (text) if given: the golden
    corpora use it for the sampling factors and scan layouts Pillow cannot write."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    exe = shutil.which("cjpeg")
    if exe is None:
        raise SystemExit("cjpeg not found: install libjpeg-turbo-progs (make golden does)")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.ppm"
        src.write_bytes(ppm)
        opts = list(args)
        if scans is not None:
            (Path(tmp) / "scans.txt").write_text(scans)
            opts += ["-scans", str(Path(tmp) / "scans.txt")]
        return subprocess.run([exe, *opts, str(src)], check=True, capture_output=True).stdout


# numpy 2.0.2 sorts float64 with one of three sorts, chosen by the CPU, and they order equal keys
# differently: x86-simd-sort's AVX-512 argsort, its AVX2 argsort, numpy's own introsort. mtcnn's box
# order follows np.argsort, so golden files made with mtcnn record the answer of each (internal/npsort
# is the Go side of all three).
NUMPY_SORTS = ("AVX512_SKX", "AVX2", "baseline")


def numpy_sort():
    """The sort np.argsort(float64) runs in this process (import numpy first thing after this module)."""
    from numpy._core._multiarray_umath import __cpu_features__ as f

    if f.get("AVX512F") and f.get("AVX512CD") and f.get("AVX512_SKX"):
        return "AVX512_SKX"
    return "AVX2" if f.get("AVX2") else "baseline"


def numpy_sort_env(sort, env=None):
    """A copy of env (os.environ by default) in which a child Python's numpy runs `sort` (one of
    NUMPY_SORTS), by NPY_DISABLE_CPU_FEATURES: every AVX-512 feature for AVX2, every feature above
    numpy's baseline for the introsort. Raises SystemExit if this CPU cannot run `sort`."""
    from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_features__

    if sort not in NUMPY_SORTS:
        raise ValueError(f"unknown numpy sort {sort!r}")
    found = [k for k, v in __cpu_features__.items() if v]
    need = {"AVX512_SKX": "AVX512_SKX", "AVX2": "AVX2"}.get(sort)
    if need and need not in found:
        raise SystemExit(f"this CPU has no {need}: numpy's {sort} sort cannot run here")
    env = dict(os.environ if env is None else env)
    env.pop("NPY_ENABLE_CPU_FEATURES", None)
    off = {"AVX512_SKX": [], "AVX2": [k for k in found if k.startswith("AVX512")],
           "baseline": [k for k in found if k not in __cpu_baseline__]}[sort]
    if off:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(off)
    else:
        env.pop("NPY_DISABLE_CPU_FEATURES", None)
    return env
