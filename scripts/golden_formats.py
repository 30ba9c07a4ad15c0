#!/usr/bin/env python
"""Golden data for the formats issue 16 added to the Go `encoding` package, from the real Pillow.

Writes testdata/formats/: multi-scan JPEG (progressive with every sampling layout, arithmetic,
non-interleaved; written by cjpeg), lossless JPEG (SOF3, which only the libjpeg-turbo 3.0.4 that Pillow 11's
wheel bundles decodes; written with that same library through scripts/formats/lossless_jpeg.c,
since Pillow cannot write it), WebP (lossy, lossless, alpha, animated; written by Pillow's libwebp
1.4.0), plain Netpbm P1-P3 and binary P4/P5/P6 with maxvals other than 255, TIFF (refused by the
Go side), and hostile files of each. manifest.json records, for every file Pillow opens, the mode,
the size, the sha256 of `np.array(Image.open(f).convert("RGB"))` and of load_img's NEAREST resize
to 160x160 (`convert("RGB").resize((160, 160), Image.NEAREST)`, what keras.utils.load_img does);
for every file Pillow refuses, the exception and the Go error class expected.

  make golden                                    # regenerate (run by the Makefile)
  golden_formats.py --libs build/pillow-libs --out testdata/formats [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import struct
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import facenet_scripts
import numpy as np
from PIL import Image, features

SEED = 20261203
HERE = Path(__file__).resolve().parent
LIBJPEG = "libjpeg-45e70d75.so.62.4.0"


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def pattern(w: int, h: int, seed: int, noise: int = 12) -> np.ndarray:
    """Gradients and stripes plus seeded noise, so that a wrong pixel shows."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x * 7 + y * 13) % 256], -1)
    img = img.astype(np.int32) + rng.integers(-noise, noise + 1, size=(h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def pil_bytes(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def pnm(arr: np.ndarray) -> bytes:
    magic = b"P6" if arr.ndim == 3 else b"P5"
    return b"%s\n%d %d\n255\n" % (magic, arr.shape[1], arr.shape[0]) + arr.tobytes()


# ---------------------------------------------------------------------------------------------
# Lossless JPEG, written by libjpeg-turbo 3.0.4 itself.

def lossless_jpegs(libs: Path) -> tuple[dict[str, bytes], dict[str, tuple[bytes, str]]]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        exe = t / "lossless_jpeg"
        subprocess.run(["cc", "-O2", "-o", str(exe), str(HERE / "formats" / "lossless_jpeg.c"),
                        str(libs / LIBJPEG), f"-Wl,-rpath,{libs}"], check=True)
        rgb = pattern(61, 47, SEED)
        gray = pattern(33, 21, SEED + 1)[:, :, 1].copy()
        (t / "rgb.ppm").write_bytes(pnm(rgb))
        (t / "gray.pgm").write_bytes(pnm(gray))
        (t / "big.ppm").write_bytes(pnm(pattern(320, 240, SEED + 2)))
        for name, src, psv, pt, cs, restart in [
            ("jl_rgb_psv1_61x47.jpg", "rgb.ppm", 1, 0, "rgb", None),
            ("jl_rgb_psv7_61x47.jpg", "rgb.ppm", 7, 0, "rgb", None),
            ("jl_ycc_psv6_pt2_61x47.jpg", "rgb.ppm", 6, 2, "ycc", None),
            ("jl_rgb_psv4_restart_61x47.jpg", "rgb.ppm", 4, 0, "rgb", 2),
            ("jl_gray_psv2_33x21.jpg", "gray.pgm", 2, 0, "gray", None),
            ("jl_ycc_psv1_320x240.jpg", "big.ppm", 1, 0, "ycc", None),
        ]:
            args = [str(exe), str(t / src), str(t / name), str(psv), str(pt), cs]
            if restart:
                args.append(str(restart))
            subprocess.run(args, check=True)
            out[name] = (t / name).read_bytes()
    big = out["jl_ycc_psv1_320x240.jpg"]
    sof = big.index(b"\xff\xc3")
    bomb = bytearray(big)
    struct.pack_into(">HH", bomb, sof + 5, 20000, 20000)
    bad = {"jl_truncated.jpg": (big[: len(big) // 2], "truncated"), "jl_bomb_20000x20000.jpg": (bytes(bomb), "bomb")}
    return out, bad


# ---------------------------------------------------------------------------------------------
# Multi-scan JPEG (progressive, arithmetic, non-interleaved), for the decoder's sparse coefficient
# buffer: a NEAREST resize keeps few source rows, and the rows it keeps must decode as in a full
# decode. Written by libjpeg-turbo's cjpeg (Debian libjpeg-turbo-progs, `make golden` installs
# it) for the sampling factors and scan scripts Pillow cannot set; CMYK by Pillow.

def cjpeg(arr: np.ndarray, *args: str, scans: str | None = None) -> bytes:
    return facenet_scripts.cjpeg(pnm(arr), *args, scans=scans)


def multiscan_jpegs() -> dict[str, bytes]:
    wide = pattern(333, 251, SEED + 60, 40)
    tall = pattern(120, 1500, SEED + 61, 40)
    files = {
        "jm_prog_arith_420_333x251.jpg": cjpeg(wide, "-progressive", "-arithmetic", "-sample", "2x2,1x1,1x1"),
        "jm_prog_411_333x251.jpg": cjpeg(wide, "-progressive", "-sample", "4x1,1x1,1x1"),
        "jm_prog_414_333x251.jpg": cjpeg(wide, "-progressive", "-sample", "1x4,1x1,1x1"),
        "jm_prog_chroma2x2_333x251.jpg": cjpeg(wide, "-progressive", "-sample", "1x1,2x2,1x1"),
        "jm_prog_restart_gray_333x251.jpg": cjpeg(wide[:, :, 1].copy(), "-progressive", "-restart", "1", "-grayscale"),
        "jm_seq_scans_420_333x251.jpg": cjpeg(wide, "-sample", "2x2,1x1,1x1", scans="0;\n1;\n2;\n"),
        "jm_prog_420_120x1500.jpg": cjpeg(tall, "-progressive", "-quality", "92", "-sample", "2x2,1x1,1x1"),
        "jm_prog_440_120x1500.jpg": cjpeg(tall, "-progressive", "-sample", "1x2,1x1,1x1"),
    }
    # Scans that never bring the DC and the low AC coefficients to full precision: libjpeg then
    # smooths each block from the DC values of its 5x5 neighbours (jdcoefct.c), which packed rows
    # must keep exact.
    partial = "0,1,2: 0 0 0 1;\n0: 1 5 0 2;\n1: 1 63 0 1;\n2: 1 63 0 1;\n0: 6 63 0 1;\n"
    files["jm_prog_partial_420_120x1500.jpg"] = cjpeg(tall, "-sample", "2x2,1x1,1x1", scans=partial)
    files["jm_prog_partial_gray_120x1500.jpg"] = cjpeg(tall[:, :, 0].copy(), "-grayscale",
                                                       scans="0: 0 0 0 2;\n0: 1 9 0 1;\n0: 10 63 0 2;\n")
    cmyk = Image.fromarray(tall).convert("CMYK")
    files["jm_prog_cmyk_120x1500.jpg"] = pil_bytes(cmyk, "JPEG", progressive=True, quality=90)
    return files


# ---------------------------------------------------------------------------------------------
# WebP, written by Pillow's libwebp 1.4.0.

def rgba(w: int, h: int, seed: int) -> Image.Image:
    a = pattern(w, h, seed)
    y, x = np.mgrid[0:h, 0:w]
    alpha = ((x * 255) // max(w - 1, 1)).astype(np.uint8)
    alpha[::5, :] = 0  # fully transparent rows: what convert("RGB") keeps under them matters
    return Image.fromarray(np.dstack([a, alpha]), "RGBA")


def webps() -> tuple[dict[str, bytes], dict[str, tuple[bytes, str]]]:
    files: dict[str, bytes] = {}
    bad: dict[str, tuple[bytes, str]] = {}
    rgb = Image.fromarray(pattern(61, 47, SEED + 10))
    files["w_lossy_q80_61x47.webp"] = pil_bytes(rgb, "WEBP", quality=80)
    files["w_lossy_q30_m6_61x47.webp"] = pil_bytes(rgb, "WEBP", quality=30, method=6)
    files["w_lossless_61x47.webp"] = pil_bytes(rgb, "WEBP", lossless=True)
    files["w_lossy_640x480.webp"] = pil_bytes(Image.fromarray(pattern(640, 480, SEED + 11, 40)), "WEBP", quality=90)
    files["w_lossy_1x1.webp"] = pil_bytes(Image.fromarray(pattern(1, 1, SEED + 12)), "WEBP")
    files["w_lossy_odd_17x9.webp"] = pil_bytes(Image.fromarray(pattern(17, 9, SEED + 13)), "WEBP")
    files["w_gray_lossy_40x30.webp"] = pil_bytes(Image.fromarray(pattern(40, 30, SEED + 14)[:, :, 0].copy(), "L"), "WEBP")
    a = rgba(45, 33, SEED + 15)
    files["w_alpha_lossy_45x33.webp"] = pil_bytes(a, "WEBP", quality=85)
    files["w_alpha_lossless_45x33.webp"] = pil_bytes(a, "WEBP", lossless=True)
    files["w_alpha_lossless_exact_45x33.webp"] = pil_bytes(a, "WEBP", lossless=True, exact=True)
    frames = [Image.fromarray(pattern(48, 36, SEED + 20 + i)) for i in range(3)]
    files["w_anim_48x36.webp"] = pil_bytes(frames[0], "WEBP", save_all=True, append_images=frames[1:],
                                           duration=100, loop=0, quality=80)
    aframes = [rgba(48, 36, SEED + 30 + i) for i in range(2)]
    files["w_anim_alpha_lossless_48x36.webp"] = pil_bytes(aframes[0], "WEBP", save_all=True,
                                                          append_images=aframes[1:], duration=50, lossless=True)
    files["w_exif_icc_32x24.webp"] = pil_bytes(Image.fromarray(pattern(32, 24, SEED + 16)), "WEBP",
                                               exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00", icc_profile=b"\x00" * 64)

    lossy = files["w_lossy_640x480.webp"]
    bad["w_truncated_half.webp"] = (lossy[: len(lossy) // 2], "truncated")
    bad["w_truncated_header.webp"] = (lossy[:20], "truncated")
    bad["w_riff_only.webp"] = (b"RIFF\x04\x00\x00\x00WEBP", "unsupported")
    bad["w_unknown_chunk.webp"] = (b"RIFF\x0c\x00\x00\x00WEBPABCD\x00\x00\x00\x00", "unsupported")
    vp8l = files["w_lossless_61x47.webp"]
    corrupt = bytearray(vp8l)
    for i in range(30, len(corrupt), 7):
        corrupt[i] ^= 0x5A
    bad["w_lossless_corrupt.webp"] = (bytes(corrupt), "invalid")
    # A still VP8X canvas of 16384x16384 around a 1x1 frame: libwebp refuses the mismatch.
    small = files["w_lossy_1x1.webp"][12:]  # its VP8 chunk
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (16383).to_bytes(3, "little") * 2
    body = b"WEBP" + vp8x + small
    bad["w_canvas_16384_frame_1x1.webp"] = (b"RIFF" + struct.pack("<I", len(body)) + body, "invalid")
    # The same canvas as an animation of one 1x1 frame, which libwebp's demuxer accepts: Pillow
    # refuses it with DecompressionBombError once the decoder is made; Go before allocating.
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x02\x00\x00\x00" + (16383).to_bytes(3, "little") * 2
    anim = b"ANIM" + struct.pack("<I", 6) + b"\x00\x00\x00\x00\x00\x00"
    frame = (0).to_bytes(3, "little") * 2 + (0).to_bytes(3, "little") * 2 + (100).to_bytes(3, "little") + b"\x00"
    anmf = b"ANMF" + struct.pack("<I", len(frame) + len(small)) + frame + small
    body = b"WEBP" + vp8x + anim + anmf
    bad["w_bomb_anim_canvas_16384.webp"] = (b"RIFF" + struct.pack("<I", len(body)) + body, "bomb")
    # An animation whose first frame (17x9) covers part of a 40x30 canvas at (6, 4): the rest
    # is WebPAnimDecoder's transparent black.
    frame17 = files["w_lossy_odd_17x9.webp"][12:]
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x02\x00\x00\x00" + (39).to_bytes(3, "little") + (29).to_bytes(3, "little")
    anim = b"ANIM" + struct.pack("<I", 6) + b"\xff\x10\x20\x30\x00\x00"  # a background colour Pillow ignores
    head = (3).to_bytes(3, "little") + (2).to_bytes(3, "little") + (16).to_bytes(3, "little") + (8).to_bytes(3, "little")
    anmf = b"ANMF" + struct.pack("<I", 16 + len(frame17)) + head + (100).to_bytes(3, "little") + b"\x00" + frame17
    body = b"WEBP" + vp8x + anim + anmf
    files["w_anim_offset_frame_40x30.webp"] = b"RIFF" + struct.pack("<I", len(body)) + body
    return files, bad


# ---------------------------------------------------------------------------------------------
# Netpbm: plain P1-P3 (PpmPlainDecoder) and binary with other maxvals (PpmDecoder).

def netpbms() -> tuple[dict[str, bytes], dict[str, tuple[bytes, str]]]:
    rng = np.random.default_rng(SEED + 40)
    files: dict[str, bytes] = {}
    bad: dict[str, tuple[bytes, str]] = {}

    def plain(magic: bytes, w: int, h: int, maxval: int | None, samples, sep=b" ", per_line=12) -> bytes:
        head = b"%s\n# a comment\n%d %d\n" % (magic, w, h) + (b"%d\n" % maxval if maxval else b"")
        toks = [b"%d" % v for v in np.asarray(samples).reshape(-1)]
        lines = [sep.join(toks[i:i + per_line]) for i in range(0, len(toks), per_line)]
        return head + b"\n".join(lines) + b"\n"

    bits = rng.integers(0, 2, size=(13, 19))
    files["n_p1_19x13.pbm"] = plain(b"P1", 19, 13, None, bits)
    files["n_p1_packed_19x13.pbm"] = b"P1 19 13\n" + b"".join(b"%d" % v for v in bits.reshape(-1)) + b"\n"
    files["n_p1_comments_8x2.pbm"] = b"P1\n8 2\n1010#x\n1010\n0101 0 1 0 1\n# end\n"
    g = rng.integers(0, 256, size=(11, 17))
    files["n_p2_255_17x11.pgm"] = plain(b"P2", 17, 11, 255, g)
    files["n_p2_15_17x11.pgm"] = plain(b"P2", 17, 11, 15, g % 16)
    files["n_p2_1000_17x11.pgm"] = plain(b"P2", 17, 11, 1000, rng.integers(0, 1001, size=(11, 17)))
    files["n_p2_65535_9x7.pgm"] = plain(b"P2", 9, 7, 65535, rng.integers(0, 65536, size=(7, 9)))
    c = rng.integers(0, 256, size=(9, 14, 3))
    files["n_p3_255_14x9.ppm"] = plain(b"P3", 14, 9, 255, c)
    files["n_p3_100_14x9.ppm"] = plain(b"P3", 14, 9, 100, c % 101, sep=b"\t")
    files["n_p3_4000_14x9.ppm"] = plain(b"P3", 14, 9, 4000, rng.integers(0, 4001, size=(9, 14, 3)))
    files["n_p3_comment_glues_2x1.ppm"] = b"P3 2 1 255\n1 2#c\n3 4 5 6 7\n"
    files["n_p3_extra_tokens_1x1.ppm"] = b"P3 1 1 255 1 2 3 4 5 x y\n"
    # A 200x100 P3 past Pillow's 1 MiB read block, with tokens and comments across the boundary.
    big = rng.integers(0, 256, size=(100, 200, 3))
    body = plain(b"P3", 200, 100, 255, big, per_line=7)
    files["n_p3_200x100.ppm"] = body.replace(b"\n", b"\n# a comment between rows\n", 2000)
    # Pillow's plain decoder reads 1 MiB blocks: a token cut by the block boundary, and a comment
    # that spans it.
    head = b"P3\n2 2\n255\n"
    start = b"10 20 30 "
    pad = (1 << 20) - len(head) - len(start) - 2  # the boundary falls inside "123"
    files["n_p3_token_across_block_2x2.ppm"] = head + start + b"#" + b"x" * (pad - 2) + b"\n" + b"123 4 5 6 7 8 9 10 11\n"
    start = b"10 20 30 #"
    files["n_p3_comment_across_block_2x2.ppm"] = head + start + b"y" * ((1 << 20) - len(head) - len(start) + 100) + b"\n40 50 60 70 80 90 100 110 120\n"
    # binary with other maxvals (PpmDecoder) and P4
    files["n_p5_1000_17x11.pgm"] = b"P5 17 11 1000\n" + rng.integers(0, 1001, size=(11, 17)).astype(">u2").tobytes()
    files["n_p6_31_14x9.ppm"] = b"P6 14 9 31\n" + rng.integers(0, 32, size=(9, 14, 3)).astype(np.uint8).tobytes()
    files["n_p6_4000_14x9.ppm"] = b"P6 14 9 4000\n" + rng.integers(0, 4001, size=(9, 14, 3)).astype(">u2").tobytes()
    files["n_p4_19x13.pbm"] = b"P4\n19 13\n" + np.packbits(bits, axis=1).tobytes()

    bad["n_p1_bad_token.pbm"] = (b"P1 2 2\n1 0\n2 1\n", "invalid")
    bad["n_p1_short.pbm"] = (b"P1 4 4\n1 0 1\n", "truncated")
    bad["n_p2_too_large.pgm"] = (b"P2 2 1 15\n3 16\n", "invalid")
    bad["n_p2_negative.pgm"] = (b"P2 2 1 15\n3 -1\n", "invalid")
    bad["n_p2_not_a_number.pgm"] = (b"P2 2 1 15\n3 z\n", "invalid")
    bad["n_p3_long_token.ppm"] = (b"P3 1 1 255\n000000000001 2 3\n", "invalid")
    bad["n_p3_short.ppm"] = (b"P3 2 2 255\n1 2 3 4 5 6\n", "truncated")
    bad["n_p3_bomb.ppm"] = (b"P3 20000 20000 255\n1 2 3\n", "bomb")
    bad["n_p2_maxval_zero.pgm"] = (b"P2 1 1 0\n0\n", "invalid")
    bad["n_p6_4000_short.ppm"] = (b"P6 2 2 4000\n\x00\x01\x00\x02", "truncated")
    return files, bad


# ---------------------------------------------------------------------------------------------

def tiffs() -> dict[str, tuple[bytes, str]]:
    im = Image.fromarray(pattern(20, 10, SEED + 50))
    return {"t_rgb_20x10.tif": (pil_bytes(im, "TIFF"), "unsupported"),
            "t_rgb_lzw_20x10.tif": (pil_bytes(im, "TIFF", compression="tiff_lzw"), "unsupported")}


def describe(e: BaseException) -> str:
    return re.sub(r" at 0x[0-9a-f]+", "", f"{type(e).__name__}: {e}")


def pillow_result(data: bytes) -> tuple[dict | None, str | None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                mode, size = im.mode, im.size
                rgb = im.convert("RGB")
                full = np.array(rgb)
                small = np.array(rgb.resize((160, 160), Image.NEAREST))
    except Exception as e:  # noqa: BLE001 - any failure is a refusal, recorded verbatim
        return None, describe(e)
    return {"mode": mode, "width": size[0], "height": size[1], "rgb_sha256": sha(full.tobytes()),
            "nearest_160_sha256": sha(small.tobytes())}, None


def build(libs: Path) -> tuple[dict[str, bytes], dict]:
    files: dict[str, bytes] = {}
    refused: dict[str, tuple[bytes, str]] = {}
    j, jb = lossless_jpegs(libs)
    files.update(j)
    refused.update(jb)
    files.update(multiscan_jpegs())
    w, wb = webps()
    files.update(w)
    refused.update(wb)
    n, nb = netpbms()
    files.update(n)
    refused.update(nb)
    refused.update(tiffs())
    manifest = {"pillow": Image.__version__, "libjpeg_turbo": features.version("libjpeg_turbo"),
                "libwebp": features.version("webp"), "images": [], "refused": []}
    for name in sorted(files):
        info, err = pillow_result(files[name])
        if err is not None:
            raise SystemExit(f"{name}: Pillow refused a file meant to be read: {err}")
        manifest["images"].append({"file": name, "file_sha256": sha(files[name]), **info})
    for name in sorted(refused):
        data, expect = refused[name]
        info, err = pillow_result(data)
        if expect == "unsupported" and name.startswith("t_"):
            # TIFF: Pillow reads it; the Go side refuses it by name.
            if info is None:
                raise SystemExit(f"{name}: Pillow refused a TIFF: {err}")
            err = "accepted by Pillow; not supported here"
        elif err is None:
            raise SystemExit(f"{name}: Pillow accepted a file meant to be refused")
        manifest["refused"].append({"file": name, "file_sha256": sha(data), "expect": expect, "python_error": err})
    return {**files, **{k: v[0] for k, v in refused.items()}}, manifest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--libs", type=Path, required=True, help="build/pillow-libs")
    ap.add_argument("--out", type=Path, required=True, help="testdata/formats")
    ap.add_argument("--check", action="store_true", help="fail if anything differs from the files on disk")
    args = ap.parse_args()
    corpus, manifest = build(args.libs)
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    if args.check:
        bad = [n for n, d in corpus.items() if not (args.out / n).is_file() or (args.out / n).read_bytes() != d]
        if (args.out / "manifest.json").read_text() != text:
            bad.append("manifest.json")
        if bad:
            print("differs from disk: " + ", ".join(sorted(bad)), file=sys.stderr)
            return 1
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.iterdir():
        if old.name not in corpus and old.name != "manifest.json":
            old.unlink()
    for name, data in corpus.items():
        (args.out / name).write_bytes(data)
    (args.out / "manifest.json").write_text(text)
    print(f"{args.out}: {len(manifest['images'])} images, {len(manifest['refused'])} refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
