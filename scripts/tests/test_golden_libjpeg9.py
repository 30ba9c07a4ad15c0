"""Checks of scripts/golden_libjpeg9.py: the committed libjpeg9 manifest is what the real libjpeg 9d
produces today, and the ctypes layout is the one the library checks."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIB = Path(os.environ.get("FACENET_LIBJPEG9", ROOT / "build" / "libjpeg9" / "libjpeg.so.9"))
SCRIPT = ROOT / "scripts" / "golden_libjpeg9.py"

import golden_libjpeg9 as gl  # noqa: E402


@pytest.fixture(scope="module")
def lib():
    assert LIB.is_file(), f"{LIB}: run make libjpeg9"
    return gl.Libjpeg9(LIB)


def test_committed_manifest_is_current():
    r = subprocess.run([sys.executable, str(SCRIPT), "--lib", str(LIB), "--testdata", str(ROOT / "testdata"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_generated_files_are_deterministic(lib):
    assert gl.generated(lib) == gl.generated(lib)


def test_decode_notebook_image(lib):
    w, h, comps, samples = lib.decode((ROOT / "testdata" / "images" / "camera_0.jpg").read_bytes())
    assert (w, h, comps, len(samples)) == (96, 96, 3, 96 * 96 * 3)


def test_library_rejects_a_wrong_struct_size():
    # The size check that vouches for the ctypes layout must be able to fail: the library's default
    # error_exit prints its message and exits.
    code = (
        "import ctypes, sys; import golden_libjpeg9 as gl; "
        "lib = gl.Libjpeg9(__import__('pathlib').Path(sys.argv[1])).lib; "
        "c = gl.DecompressStruct(); e = gl.ErrorMgr(); c.err = lib.jpeg_std_error(ctypes.byref(e)); "
        "lib.jpeg_CreateDecompress(ctypes.byref(c), 90, ctypes.sizeof(c) - 8)"
    )
    r = subprocess.run([sys.executable, "-c", code, str(LIB)], capture_output=True, text=True)
    assert r.returncode != 0
    assert "struct mismatch" in r.stderr
    assert ctypes.sizeof(gl.DecompressStruct) > 600
