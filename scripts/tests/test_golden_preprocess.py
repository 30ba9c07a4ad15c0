"""Checks of scripts/golden_preprocess.py: deterministic corpus, files of the intended kinds,
and a committed manifest that matches what the script produces today."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]

import golden_preprocess as gp  # noqa: E402


@pytest.fixture(scope="module")
def corpus():
    return gp.build_corpus()


def test_corpus_is_deterministic(corpus):
    again = gp.build_corpus()
    assert corpus[0] == again[0]
    assert corpus[1] == again[1]
    assert corpus[2] == again[2]


def test_corpus_size_stays_small(corpus):
    files, broken, unsupported = corpus
    total = sum(map(len, files.values())) + sum(len(v[0]) for v in broken.values()) + sum(map(len, unsupported.values()))
    assert total < 4_000_000
    assert len(files["bench_1920x1280.jpg"]) < 1_000_000


@pytest.mark.parametrize(
    "name, mode, size",
    [
        ("p_gray2_37x23.png", "L", (37, 23)),
        ("p_gray16_37x23.png", "I;16", (37, 23)),
        ("p_la16_33x21.png", "RGBA", (33, 21)),
        ("p_pal4_35x27.png", "P", (35, 27)),
        ("j_cmyk_120x90.jpg", "CMYK", (120, 90)),
        ("j_gray_200x150.jpg", "L", (200, 150)),
        ("g_identity_palette_20x10.gif", "L", (20, 10)),
        ("g_no_palette_20x10.gif", "L", (20, 10)),
        ("g_local_identity_20x10.gif", "L", (20, 10)),
        ("g_frame_exceeds_screen.gif", "P", (20, 12)),
        ("b_8_gray_27x9.bmp", "L", (27, 9)),
        ("b_1_bw_27x9.bmp", "1", (27, 9)),
        ("b_32_bgra_v5_21x13.bmp", "RGBA", (21, 13)),
        ("b_rle4_26x10.bmp", "P", (26, 10)),
    ],
)
def test_generated_images_have_the_intended_mode(corpus, name, mode, size):
    im = Image.open(io.BytesIO(corpus[0][name]))
    assert (im.mode, im.size) == (mode, size)
    np.array(im.convert("RGB"))  # decodes


def test_png_writer_round_trips_through_pillow():
    samples = gp.wide_samples(13, 7, 1, 3, 8)
    for interlace in (False, True):
        data = gp.png_file(samples, 8, 2, interlace=interlace)
        assert np.array_equal(np.array(Image.open(io.BytesIO(data))), samples.astype(np.uint8))


def test_broken_files_are_rejected_by_pillow(corpus):
    for name, (data, expect) in corpus[1].items():
        assert expect in {"truncated", "bomb", "invalid", "unsupported"}, name
        with pytest.raises(Exception):
            np.array(Image.open(io.BytesIO(data)).convert("RGB"))


def test_committed_golden_data_is_current():
    """`--check` regenerates everything (keras load_img included) and compares with disk."""
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "golden_preprocess.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_help_describes_the_flags():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "golden_preprocess.py"), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for flag in ("--shared", "--out", "--check", "--bench"):
        assert flag in proc.stdout
