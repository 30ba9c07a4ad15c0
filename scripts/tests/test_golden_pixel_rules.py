"""Tests of scripts/golden_pixel_rules.py: facenet's rules as its paper code has them, and the
committed file is exactly what the script writes today (numpy only: the same on every CPU)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import golden_pixel_rules as gpr

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("FACENET_SHARED", ROOT.parent / "shared"))
COMMITTED = ROOT / "testdata" / "preprocess" / "pixel_rules.json"


def test_prewhiten_is_zero_mean_unit_std_with_its_floor():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    y = gpr.prewhiten(x)
    assert y.dtype == np.float64
    assert abs(y.mean()) < 1e-12 and abs(y.std() - 1) < 1e-12
    flat = gpr.prewhiten(np.full((4, 4, 3), 9, np.uint8))  # std 0: divided by 1/sqrt(48)
    assert np.array_equal(flat, np.zeros((4, 4, 3)))


@pytest.mark.parametrize("v, want", [(0, -127.5 / 128), (127, -0.5 / 128), (128, 0.5 / 128), (255, 127.5 / 128)])
def test_fixed_standardization(v, want):
    got = gpr.fixed_image_standardization(np.array([[[v, v, v]]], np.uint8))
    assert got.dtype == np.float32 and float(got[0, 0, 0]) == want


def test_committed_file_is_what_the_script_writes():
    doc = gpr.golden(ROOT / "testdata" / "preprocess" / "corpus", SHARED / "notebook" / "images")
    committed = json.loads(COMMITTED.read_text())
    assert doc == committed
    assert len(doc["cases"]) > 100
