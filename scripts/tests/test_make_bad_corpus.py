"""Checks of scripts/make_bad_corpus.py: deterministic, small, committed up to date, and every file is
bad for the reference (Pillow through keras load_img) in the way the manifest says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

import make_bad_corpus as mbc  # noqa: E402

COMMITTED = ROOT / "testdata" / "bad"
# Pillow's DecompressionBombError threshold: 2 * Image.MAX_IMAGE_PIXELS.
PILLOW_BOMB_LIMIT = 2 * 89_478_485


@pytest.fixture(scope="module")
def files():
    return mbc.build()


@pytest.fixture(scope="module")
def rendered(files):
    return mbc.render(files)


@pytest.fixture(scope="module")
def manifest(rendered):
    return json.loads(rendered["manifest.json"])


def test_build_is_deterministic(files):
    assert mbc.build() == files


def test_corpus_is_small(rendered):
    assert sum(map(len, rendered.values())) < 500_000
    assert max(len(v) for k, v in rendered.items() if k != "manifest.json") < 96_000


def test_committed_corpus_is_current(rendered):
    have = {f.name: f.read_bytes() for f in COMMITTED.iterdir() if f.is_file()}
    assert sorted(have) == sorted(rendered), "run `make bad-corpus` (scripts/make_bad_corpus.py)"
    for name, data in rendered.items():
        assert have[name] == data, f"{name} differs: run `make bad-corpus`"


def test_brief_kinds_are_covered(manifest):
    names = {f["file"] for f in manifest["files"]}
    for wanted in ["empty.jpg", "text.jpg", "text.png", "jpeg_truncated_baseline.jpg", "jpeg_truncated_progressive.jpg",
                   "png_bad_crc.png", "png_bomb_100000x100000.png", "jpeg_bomb_65535x65535.jpg",
                   "png_zero_width.png", "jpeg_zero_height.jpg", "png_garbage_after_ihdr.png",
                   "jpeg_garbage_after_sos.jpg", "gif_no_frames.gif", "bmp_negative_width.bmp"]:
        assert wanted in names
    kinds = {r["kind"] for r in manifest["runtime"]}
    assert {"directory", "dangling symlink", "fifo"} <= kinds


def test_expectations_agree_with_pillow(manifest):
    """Pillow rejects every file (the scan bomb aside, refused by the Go decoder on purpose), and its
    verdict agrees with the class the Go side must return where Pillow is specific."""
    assert {f["expect"] for f in manifest["files"]} == {"unsupported", "invalid", "truncated", "bomb"}
    for f in manifest["files"]:
        verdict = f["pillow"]
        if f["file"].startswith("jpeg_scan_bomb") or f["file"] in mbc.FORMAT_NAMES:
            # refused on purpose: the scan bomb, and formats the Go package does not decode
            assert verdict.startswith("decodes it"), verdict
            continue
        assert not verdict.startswith("decodes it"), f"{f['file']}: Pillow accepts it"
        assert (f["expect"] == "bomb") == verdict.startswith("DecompressionBombError"), (f["file"], verdict)
        if "image file is truncated" in verdict:
            assert f["expect"] == "truncated", (f["file"], verdict)
        if verdict.startswith("OSError: Unsupported BMP"):
            assert f["expect"] == "unsupported", (f["file"], verdict)


def test_accepted_files_are_decoded_by_pillow(manifest):
    """The hostile files Pillow decodes anyway carry its pixels' hash; none of them is in "files"."""
    assert manifest["accepted"], "no accepted cases"
    refused = {f["file"] for f in manifest["files"]}
    for f in manifest["accepted"]:
        assert f["expect"] == "ok" and f["file"] not in refused, f["file"]
        assert f["pillow"].startswith("decodes it"), (f["file"], f["pillow"])
        assert len(f["rgb_sha256"]) == 64 and f["width"] > 0 and f["height"] > 0


def test_near_limit_headers_are_under_the_bomb_limit():
    assert mbc.NEAR_LIMIT ** 2 < PILLOW_BOMB_LIMIT < 100000 ** 2


def test_check_mode_and_help(tmp_path):
    script = ROOT / "scripts" / "make_bad_corpus.py"
    out = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, check=True)
    assert "--check" in out.stdout and "manifest.json" in out.stdout
    # An empty directory differs from the corpus; --check must say so and write nothing.
    res = subprocess.run([sys.executable, str(script), "--out", str(tmp_path), "--check"], capture_output=True, text=True)
    assert res.returncode == 1
    assert "differs" in res.stderr
    assert list(tmp_path.iterdir()) == []
