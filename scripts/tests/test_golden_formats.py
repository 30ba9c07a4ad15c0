"""Checks of scripts/golden_formats.py: the committed testdata/formats is what the real Pillow (and
the libjpeg-turbo it bundles, for the lossless JPEGs) produces today."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import features

ROOT = Path(__file__).resolve().parents[2]
LIBS = Path(os.environ.get("FACENET_PILLOW_LIBS", ROOT / "build" / "pillow-libs"))
SCRIPT = ROOT / "scripts" / "golden_formats.py"


def test_committed_formats_are_current():
    r = subprocess.run([sys.executable, str(SCRIPT), "--libs", str(LIBS), "--out", str(ROOT / "testdata" / "formats"),
                        "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_pillow_bundles_the_libraries_the_go_side_loads():
    assert features.version("libjpeg_turbo") == "3.0.4"
    assert features.version("webp") == "1.4.0"
