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
