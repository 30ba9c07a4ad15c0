#!/usr/bin/env python
"""Golden data for the Go `encoding` package: what keras load_img + numpy make of a corpus.

The corpus is the 18 notebook images plus images generated here from a fixed seed in every
format and mode the Go decoder claims (JPEG 4:2:0/4:2:2/4:4:4, progressive, gray, CMYK, Adobe
RGB; PNG in every colour type and bit depth, palettes with and without tRNS, interlaced; GIF;
BMP in the header, bit-field and RLE variants Pillow reads) at sizes where Pillow's NEAREST rule
bites, plus broken files. For each (image, target size, interpolation, keep_aspect_ratio) the
manifest records the sha256 of the uint8 array `np.array(load_img(...))` and of the float32
tensor `np.expand_dims(np.around(x / 255.0, 12), 0).astype(float32)`; for each image the sha256
of its RGB bytes without resizing; for each broken file the error Python raised.

Everything is deterministic: the same Pillow/numpy/keras give byte-identical files.

  make golden                      # regenerate (writes testdata/preprocess, copies notebook images)
  golden_preprocess.py --check     # regenerate in memory, fail if anything differs from disk
  golden_preprocess.py --bench     # time the Python pipeline for the Go benchmark comparison
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import struct
import sys
import time
import warnings
import zlib
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import PIL  # noqa: E402
from PIL import Image, features  # noqa: E402

SEED = 20241128
TARGETS = [(160, 160), (96, 96), (150, 150), (120, 200)]  # (height, width) as keras target_size
INTERPOLATIONS = ["nearest", "bilinear", "bicubic", "hamming", "box", "lanczos"]
NOTEBOOK = [
    "andrew.jpg", "arnaud.jpg", "benoit.jpg", "bertrand.jpg", "camera_0.jpg", "camera_1.jpg",
    "camera_2.jpg", "camera_3.jpg", "camera_4.jpg", "camera_5.jpg", "dan.jpg", "danielle.png",
    "felix.jpg", "kevin.jpg", "kian.jpg", "sebastiano.jpg", "tian.jpg", "younes.jpg",
]
# Generated images that also get every non-nearest filter (the notebook images always do).
ALL_FILTERS = {
    "j_420_q90_640x480.jpg", "j_gray_200x150.jpg", "p_rgba8_61x47.png", "p_pal8_trns_90x70.png",
    "b_24_33x17.bmp", "g_basic_100x80.gif", "p_rgb8_1024x100.png", "p_rgb8_3x500.png",
    "j_1x1.jpg",
}
# (divide_by, decimals) pairs whose 256-entry tables are recorded; -1 = no rounding.
ROUNDING = [(255.0, 12), (255.0, -1), (1.0, -1), (127.5, 6), (255.0, 0), (255.0, 3), (255.0, 15), (3.0, 12)]


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def pattern(w: int, h: int, seed: int, noise: int = 12) -> np.ndarray:
    """An RGB test card: gradients and diagonal stripes, plus seeded noise so that every pixel
    differs from its neighbours (a resize that picks the wrong pixel shows)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    r = x * 255 // max(w - 1, 1)
    g = y * 255 // max(h - 1, 1)
    b = (x * 7 + y * 13) % 256
    img = np.stack([r, g, b], -1).astype(np.int32)
    if noise:
        img += rng.integers(-noise, noise + 1, size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def pil_bytes(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# PNG writer: every colour type and depth, any filter, Adam7, chunk games.

def png_chunk(cid: bytes, data: bytes, crc: int | None = None) -> bytes:
    if crc is None:
        crc = zlib.crc32(cid + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + cid + data + struct.pack(">I", crc)


def pack_samples(samples: np.ndarray, depth: int) -> bytes:
    """samples: (w, channels) ints -> one packed PNG row."""
    flat = samples.reshape(-1).astype(np.uint32)
    if depth == 16:
        return flat.astype(">u2").tobytes()
    if depth == 8:
        return flat.astype(np.uint8).tobytes()
    per = 8 // depth
    pad = (-len(flat)) % per
    flat = np.concatenate([flat, np.zeros(pad, np.uint32)]).reshape(-1, per)
    shifts = np.array([8 - depth * (i + 1) for i in range(per)], np.uint32)
    return (flat << shifts).sum(axis=1).astype(np.uint8).tobytes()


def filter_row(ft: int, row: bytes, prev: bytes, bpp: int) -> bytes:
    x = np.frombuffer(row, np.uint8).astype(np.int32)
    b = np.frombuffer(prev, np.uint8).astype(np.int32)
    a = np.concatenate([np.zeros(bpp, np.int32), x[:-bpp]])[: len(x)]
    c = np.concatenate([np.zeros(bpp, np.int32), b[:-bpp]])[: len(x)]
    if ft == 0:
        p = np.zeros_like(x)
    elif ft == 1:
        p = a
    elif ft == 2:
        p = b
    elif ft == 3:
        p = (a + b) // 2
    else:
        pa, pb, pc = np.abs(b - c), np.abs(a - c), np.abs(a + b - 2 * c)
        p = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
    return bytes([ft]) + ((x - p) & 0xFF).astype(np.uint8).tobytes()


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_raw(samples: np.ndarray, depth: int, interlace: bool) -> bytes:
    """samples: (h, w, channels) -> filtered scanlines, filters cycling through 0..4."""
    h, w, ch = samples.shape
    bits = depth * ch
    bpp = max(1, bits // 8)
    out = bytearray()
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    n = 0
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        prev = bytes(len(pack_samples(sub[0], depth)))
        for row in sub:
            packed = pack_samples(row, depth)
            out += filter_row(n % 5, packed, prev, bpp)
            prev = packed
            n += 1
    return bytes(out)


def png_file(samples, depth, color_type, *, palette=None, trns=None, interlace=False, splits=1,
             before_idat=(), idat_crc=None, end=True, raw=None, width=None, height=None) -> bytes:
    h, w = samples.shape[:2] if samples is not None else (height, width)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    for cid, data, crc in before_idat:
        out += png_chunk(cid, data, crc)
    if palette is not None:
        out += png_chunk(b"PLTE", palette)
    if trns is not None:
        out += png_chunk(b"tRNS", trns)
    if raw is None:
        raw = png_raw(samples, depth, interlace)
    z = zlib.compress(raw, 9)
    step = max(1, -(-len(z) // splits))
    parts = [z[i:i + step] for i in range(0, len(z), step)]
    if splits > 1:
        parts.insert(1, b"")  # an empty IDAT is legal
    for i, p in enumerate(parts):
        out += png_chunk(b"IDAT", p, idat_crc if i == 0 else None)
    if end:
        out += png_chunk(b"IEND", b"")
    return out


def gray_samples(w, h, depth, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    top = (1 << depth) - 1
    v = (x * 3 + y * 5) % (top + 1)
    v = (v + rng.integers(0, 2, size=v.shape)) % (top + 1)
    return v[..., None]


def wide_samples(w, h, seed, channels, depth):
    rng = np.random.default_rng(seed)
    top = (1 << depth) - 1
    return rng.integers(0, top + 1, size=(h, w, channels))


# ---------------------------------------------------------------------------------------------
# GIF writer for the cases PIL cannot make (local palettes, frames off the screen, indices past
# the palette): literal-only LZW, valid for every decoder.

def lzw_literals(indices: np.ndarray, min_code: int) -> bytes:
    clear, end = 1 << min_code, (1 << min_code) + 1
    width = min_code + 1
    codes = [clear]
    run = 0
    for v in indices.reshape(-1).tolist():
        if run == (1 << min_code) - 2:
            codes.append(clear)
            run = 0
        codes.append(int(v))
        run += 1
    codes.append(end)
    acc = nbits = 0
    data = bytearray()
    for c in codes:
        acc |= c << nbits
        nbits += width
        while nbits >= 8:
            data.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        data.append(acc & 0xFF)
    blocks = bytearray()
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        blocks += bytes([len(chunk)]) + chunk
    return bytes([min_code]) + bytes(blocks) + b"\x00"


def gif_file(screen, frame_box, indices, *, global_pal=None, local_pal=None, transparency=None,
             min_code=None, interlace=False, trailer=True, background=0) -> bytes:
    sw, sh = screen
    x0, y0, fw, fh = frame_box
    out = bytearray(b"GIF89a" + struct.pack("<HH", sw, sh))
    if global_pal is not None:
        bits = (len(global_pal) // 3).bit_length() - 1
        out += bytes([0x80 | (bits - 1), background, 0]) + global_pal
    else:
        out += b"\x00\x00\x00"
    if transparency is not None:
        out += b"\x21\xF9\x04" + bytes([1]) + b"\x00\x00" + bytes([transparency]) + b"\x00"
    flags = 0x40 if interlace else 0
    if local_pal is not None:
        bits = (len(local_pal) // 3).bit_length() - 1
        flags |= 0x80 | (bits - 1)
    out += b"," + struct.pack("<HHHH", x0, y0, fw, fh) + bytes([flags])
    if local_pal is not None:
        out += local_pal
    rows = indices
    if interlace:
        order = list(range(0, fh, 8)) + list(range(4, fh, 8)) + list(range(2, fh, 4)) + list(range(1, fh, 2))
        rows = indices[order]
    out += lzw_literals(rows, min_code or max(2, int(indices.max()).bit_length()))
    if trailer:
        out += b";"
    return bytes(out)


def gray_ramp_palette(n):
    return bytes(v for i in range(n) for v in (i, i, i))


def color_palette(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=n * 3).astype(np.uint8).tobytes()


# ---------------------------------------------------------------------------------------------
# BMP writer: core / info / v4 / v5 headers, bit fields, palettes, RLE.

def bmp_file(width, height, bits, pixel_data, *, header=40, compression=0, palette=b"", masks=None,
             top_down=False, colors=0, offset=None) -> bytes:
    if header == 12:
        info = struct.pack("<IHHHH", 12, width, height, 1, bits)
    else:
        h = -height if top_down else height
        info = struct.pack("<IiiHHIIiiII", header, width, h, 1, bits, compression, len(pixel_data),
                           2835, 2835, colors, 0)
        extra = b""
        if header >= 52:
            m = list(masks or (0, 0, 0, 0))
            extra = struct.pack("<III", *m[:3])
            if header >= 56:
                extra += struct.pack("<I", m[3])
        info += extra
        info += b"\x00" * (header - len(info))
    after = b""
    if header == 40 and compression == 3:
        after = struct.pack("<III", *masks[:3])
    off = 14 + len(info) + len(after) + len(palette) if offset is None else offset
    body = info + after + palette
    head = b"BM" + struct.pack("<IHHI", 14 + len(body) + len(pixel_data), 0, 0, off)
    pad = b"\x00" * max(0, off - 14 - len(body))
    return head + body + pad + pixel_data


def bmp_rows(rows: list[bytes], top_down=False) -> bytes:
    out = bytearray()
    for r in (rows if top_down else rows[::-1]):
        out += r + b"\x00" * ((-len(r)) % 4)
    return bytes(out)


def pack_bits(values: np.ndarray, bits: int) -> bytes:
    return pack_samples(values[:, None], bits)


def rle8(rows: np.ndarray) -> bytes:
    """RLE8 with encoded runs, absolute runs (padded to a word), a delta and end markers."""
    out = bytearray()
    h = rows.shape[0]
    for yi, row in enumerate(rows[::-1]):  # bottom-up
        vals = row.tolist()
        i = 0
        if yi == 1:
            out += b"\x00\x02\x03\x00"  # delta: 3 right
            i = 3
        while i < len(vals):
            j = i
            while j < len(vals) and vals[j] == vals[i] and j - i < 255:
                j += 1
            if j - i >= 2 or len(vals) - i < 3:
                out += bytes([j - i, vals[i]])
                i = j
            else:
                k = min(len(vals), i + 5)
                seg = vals[i:k]
                if len(seg) < 3:
                    out += bytes([len(seg), seg[0]])
                    i += 1
                    continue
                out += bytes([0, len(seg)]) + bytes(seg) + (b"\x00" if len(seg) % 2 else b"")
                i = k
        out += b"\x00\x00" if yi < h - 1 else b"\x00\x01"
    return bytes(out)


def rle4(rows: np.ndarray) -> bytes:
    out = bytearray()
    h = rows.shape[0]
    for yi, row in enumerate(rows[::-1]):
        vals = row.tolist()
        i = 0
        while i < len(vals):
            if i % 8 == 0 and len(vals) - i >= 4:
                seg = vals[i:i + 4]  # absolute run of 4 nibbles, 2 bytes
                out += bytes([0, 4, (seg[0] << 4) | seg[1], (seg[2] << 4) | seg[3]])
                i += 4
            else:
                n = min(3, len(vals) - i)
                a, b = vals[i], vals[i + 1] if i + 1 < len(vals) else 0
                out += bytes([n, (a << 4) | b])
                i += n
        out += b"\x00\x00" if yi < h - 1 else b"\x00\x01"
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# The corpus

def jpeg_variants(files: dict[str, bytes], broken: dict, unsupported: dict) -> None:
    def J(name, w, h, seed, noise=12, mode="RGB", **kw):
        img = Image.fromarray(pattern(w, h, seed, noise))
        if mode != "RGB":
            img = img.convert(mode)
        files[name] = pil_bytes(img, "JPEG", **kw)

    J("j_420_q90_640x480.jpg", 640, 480, 1, quality=90)
    J("j_422_q90_333x251.jpg", 333, 251, 2, quality=90, subsampling=1)
    J("j_444_q95_256x256.jpg", 256, 256, 3, quality=95, subsampling=0)
    J("j_420_prog_512x384.jpg", 512, 384, 4, quality=85, progressive=True)
    J("j_444_prog_97x131.jpg", 97, 131, 5, quality=90, subsampling=0, progressive=True)
    J("j_gray_200x150.jpg", 200, 150, 6, mode="L", quality=90)
    J("j_gray_prog_64x64.jpg", 64, 64, 7, mode="L", quality=90, progressive=True)
    J("j_cmyk_120x90.jpg", 120, 90, 8, mode="CMYK", quality=90)
    J("j_rgb_adobe_80x60.jpg", 80, 60, 9, quality=90, keep_rgb=True, subsampling=0)
    J("j_optimize_restart_300x200.jpg", 300, 200, 10, quality=80, optimize=True, restart_marker_blocks=3)
    J("j_1x1.jpg", 1, 1, 11, quality=90)
    J("j_420_odd_17x9.jpg", 17, 9, 12, quality=90)
    J("j_420_1024x64.jpg", 1024, 64, 13, quality=85)
    J("j_420_128x128.jpg", 128, 128, 14, quality=90)
    J("j_420_q75_1024x768.jpg", 1024, 768, 15, noise=3, quality=75)
    J("j_420_64x1024.jpg", 64, 1024, 16, quality=85)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90": load_img ignores it
    J("j_exif_rot6_96x64.jpg", 96, 64, 17, quality=90, exif=exif.tobytes())

    # Fill bytes before a marker and a comment: Pillow's marker walk and libjpeg both skip them.
    base = pil_bytes(Image.fromarray(pattern(40, 30, 18)), "JPEG", quality=90)
    dqt = base.index(b"\xff\xdb")
    files["j_fill_bytes_40x30.jpg"] = base[:dqt] + b"\xff\xfe\x00\x06junk" + b"\xff\xff\xff" + base[dqt:]
    # No EOI: libjpeg's Huffman decoder reads ahead for the last MCU, so a suspending source
    # (Pillow's) stops short of the last row: "image file is truncated".
    broken["jpeg_baseline_no_eoi.jpg"] = (base[:-2], "truncated")

    bench = pil_bytes(Image.fromarray(pattern(1920, 1280, 99, noise=2)), "JPEG", quality=90)
    files["bench_1920x1280.jpg"] = bench

    prog = pil_bytes(Image.fromarray(pattern(160, 120, 19)), "JPEG", quality=90, progressive=True)
    broken["jpeg_truncated_baseline.jpg"] = (files["j_420_q90_640x480.jpg"][: len(files["j_420_q90_640x480.jpg"]) * 6 // 10], "truncated")
    broken["jpeg_truncated_progressive.jpg"] = (prog[: len(prog) * 6 // 10], "truncated")
    broken["jpeg_progressive_no_eoi.jpg"] = (prog[:-2], "truncated")
    sof = base.index(b"\xff\xc0")
    bomb = bytearray(base)
    struct.pack_into(">HH", bomb, sof + 5, 65000, 65000)
    broken["jpeg_bomb.jpg"] = (bytes(bomb), "bomb")
    zero = bytearray(base)
    struct.pack_into(">H", zero, sof + 5, 0)
    broken["jpeg_zero_height.jpg"] = (bytes(zero), "invalid")
    broken["jpeg_only_soi.jpg"] = (b"\xff\xd8\xff", "truncated")
    corrupt = bytearray(files["j_420_128x128.jpg"])
    sos = corrupt.index(b"\xff\xda")
    corrupt[sos + 2: sos + 4] = b"\x00\x02"  # SOS with an impossible length
    broken["jpeg_bad_sos.jpg"] = (bytes(corrupt), "invalid")


def png_variants(files, broken, unsupported) -> None:
    P = files.__setitem__
    for depth in (1, 2, 4, 8, 16):
        P(f"p_gray{depth}_37x23.png", png_file(gray_samples(37, 23, depth, depth), depth, 0))
    g16 = gray_samples(29, 31, 16, 5)
    g16[::3] = np.minimum(g16[::3], 255)  # some values below 256, kept by Pillow's I;16 -> RGB
    P("p_gray16_mixed_29x31.png", png_file(g16, 16, 0))
    P("p_gray8_trns_30x20.png", png_file(gray_samples(30, 20, 8, 6), 8, 0, trns=b"\x00\x07"))
    rgb = pattern(45, 33, 21).astype(np.int64)
    P("p_rgb8_45x33.png", png_file(rgb, 8, 2))
    P("p_rgb8_trns_45x33.png", png_file(rgb, 8, 2, trns=b"\x00\x10\x00\x20\x00\x30"))
    P("p_rgb16_40x30.png", png_file(wide_samples(40, 30, 22, 3, 16), 16, 2))
    for depth in (1, 2, 4, 8):
        n = 1 << depth
        idx = wide_samples(35, 27, 30 + depth, 1, depth)
        P(f"p_pal{depth}_35x27.png", png_file(idx, depth, 3, palette=color_palette(n, depth)))
    idx8 = wide_samples(90, 70, 40, 1, 8)
    P("p_pal8_trns_90x70.png", png_file(idx8, 8, 3, palette=color_palette(256, 41),
                                        trns=bytes(range(0, 256, 2))))
    P("p_pal4_trns1_30x30.png", png_file(wide_samples(30, 30, 42, 1, 4), 4, 3,
                                         palette=color_palette(16, 43), trns=b"\xff\xff\x00"))
    short = wide_samples(24, 16, 44, 1, 8)  # indices up to 255, palette of 10: the rest is black
    P("p_pal8_short_palette_24x16.png", png_file(short, 8, 3, palette=color_palette(10, 45)))
    P("p_pal8_no_plte_20x10.png", png_file(wide_samples(20, 10, 46, 1, 8), 8, 3))
    P("p_la8_33x21.png", png_file(wide_samples(33, 21, 47, 2, 8), 8, 4))
    P("p_la16_33x21.png", png_file(wide_samples(33, 21, 48, 2, 16), 16, 4))
    P("p_rgba8_61x47.png", png_file(wide_samples(61, 47, 49, 4, 8), 8, 6))
    P("p_rgba16_25x19.png", png_file(wide_samples(25, 19, 50, 4, 16), 16, 6))
    # Adam7, including sub-byte pixels and sizes where some passes are empty
    P("p_gray8_interlaced_41x29.png", png_file(gray_samples(41, 29, 8, 51), 8, 0, interlace=True))
    P("p_gray1_interlaced_13x7.png", png_file(gray_samples(13, 7, 1, 52), 1, 0, interlace=True))
    P("p_pal2_interlaced_19x11.png", png_file(wide_samples(19, 11, 53, 1, 2), 2, 3, interlace=True,
                                              palette=color_palette(4, 54)))
    P("p_rgb8_interlaced_50x40.png", png_file(pattern(50, 40, 55).astype(np.int64), 8, 2, interlace=True))
    P("p_rgba16_interlaced_9x6.png", png_file(wide_samples(9, 6, 56, 4, 16), 16, 6, interlace=True))
    P("p_rgb8_interlaced_1x1.png", png_file(pattern(1, 1, 57).astype(np.int64), 8, 2, interlace=True))
    P("p_rgb8_interlaced_3x2.png", png_file(pattern(3, 2, 58).astype(np.int64), 8, 2, interlace=True))
    # Pillow-specific acceptance: split IDATs, no IEND, a bad CRC on IDAT (never checked),
    # a zlib stream that stops early on a row boundary (remaining rows stay index 0).
    rgb2 = pattern(60, 44, 59).astype(np.int64)
    P("p_rgb8_split_idat_60x44.png", png_file(rgb2, 8, 2, splits=4))
    P("p_rgb8_no_iend_60x44.png", png_file(rgb2, 8, 2, end=False))
    P("p_rgb8_bad_idat_crc_60x44.png", png_file(rgb2, 8, 2, idat_crc=0x12345678))
    pal_idx = wide_samples(32, 20, 60, 1, 8)
    raw = png_raw(pal_idx, 8, False)
    P("p_pal8_short_rows_32x20.png", png_file(None, 8, 3, palette=color_palette(256, 61),
                                              raw=raw[: 11 * 33], width=32, height=20))
    P("p_rgb8_text_chunks_20x20.png", png_file(pattern(20, 20, 62).astype(np.int64), 8, 2,
                                               before_idat=[(b"tEXt", b"Comment\x00hello", None),
                                                            (b"gAMA", struct.pack(">I", 45455), None),
                                                            (b"pHYs", struct.pack(">IIB", 2835, 2835, 1), None)]))
    # NEAREST-rule sizes, odd sizes and extreme aspect ratios (test card, compresses well)
    for w, h in [(64, 64), (128, 128), (256, 256), (512, 200), (1024, 100), (161, 97),
                 (159, 161), (1000, 7), (3, 500), (1, 1), (320, 320), (300, 96)]:
        P(f"p_rgb8_{w}x{h}.png", png_file(pattern(w, h, 1000 + w + h, noise=3).astype(np.int64), 8, 2))
    # Pillow's own writer
    P("p_pil_rgba_70x50.png", pil_bytes(Image.fromarray(wide_samples(70, 50, 63, 4, 8).astype(np.uint8), "RGBA"), "PNG"))
    P("p_pil_p_adaptive_70x50.png", pil_bytes(Image.fromarray(pattern(70, 50, 64)).quantize(37), "PNG"))
    P("p_pil_i16_40x40.png", pil_bytes(Image.fromarray(wide_samples(40, 40, 65, 1, 16)[..., 0].astype(np.uint16)), "PNG"))

    ok = png_file(pattern(20, 12, 66).astype(np.int64), 8, 2)
    bad = bytearray(ok)
    bad[29] ^= 0xFF  # IHDR CRC
    broken["png_bad_ihdr_crc.png"] = (bytes(bad), "invalid")
    broken["png_bad_text_crc.png"] = (png_file(pattern(20, 12, 66).astype(np.int64), 8, 2,
                                               before_idat=[(b"tEXt", b"k\x00v", 0xDEADBEEF)]), "invalid")
    broken["png_truncated.png"] = (files["p_rgb8_256x256.png"][: len(files["p_rgb8_256x256.png"]) // 2], "truncated")
    broken["png_bomb.png"] = (png_file(None, 8, 2, raw=b"\x00" * 10, width=100000, height=100000), "bomb")
    broken["png_zero_width.png"] = (png_file(None, 8, 2, raw=b"\x00", width=0, height=10), "invalid")
    raw_bad = bytearray(png_raw(pattern(10, 4, 67).astype(np.int64), 8, False))
    raw_bad[31] = 7  # filter type 7 on row 1
    broken["png_bad_filter.png"] = (png_file(None, 8, 2, raw=bytes(raw_bad), width=10, height=4), "invalid")
    z = bytearray(ok)
    idat = z.index(b"IDAT")
    z[idat + 8: idat + 12] = b"\xff\xff\xff\xff"  # corrupt deflate data
    broken["png_corrupt_deflate.png"] = (bytes(z), "invalid")
    broken["png_bad_bit_depth.png"] = (png_file(None, 3, 2, raw=b"\x00", width=1, height=1), "invalid")
    broken["png_short_stream.png"] = (png_file(None, 8, 2, raw=b"\x00" * 5, width=10, height=1), "truncated")


def gif_variants(files, broken, unsupported) -> None:
    base = pattern(100, 80, 70)
    pimg = Image.fromarray(base).quantize(64)
    files["g_basic_100x80.gif"] = pil_bytes(pimg, "GIF")  # interlaced by Pillow's default
    files["g_noninterlaced_100x80.gif"] = pil_bytes(pimg, "GIF", interlace=False)
    files["g_gray_64x64.gif"] = pil_bytes(Image.fromarray(pattern(64, 64, 71)).convert("L"), "GIF")
    files["g_trans_50x40.gif"] = pil_bytes(Image.fromarray(pattern(50, 40, 72)).quantize(16), "GIF", transparency=3)
    frames = [Image.fromarray(pattern(48, 36, 73 + i)).quantize(32) for i in range(3)]
    files["g_anim_48x36.gif"] = pil_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:])
    files["g_1x1.gif"] = pil_bytes(Image.fromarray(pattern(1, 1, 76)).quantize(2), "GIF")
    files["g_1024x40.gif"] = pil_bytes(Image.fromarray(pattern(1024, 40, 77, noise=0)).quantize(64), "GIF")

    idx = wide_samples(20, 10, 78, 1, 3)[..., 0]
    pal8 = color_palette(8, 79)
    # Outside the frame Pillow leaves index 0 (or the transparent index), not the background.
    files["g_small_frame_40x30.gif"] = gif_file((40, 30), (5, 7, 20, 10), idx, global_pal=pal8, background=6)
    files["g_small_frame_trns_40x30.gif"] = gif_file((40, 30), (5, 7, 20, 10), idx, global_pal=pal8,
                                                     transparency=5, background=6)
    files["g_frame_exceeds_screen.gif"] = gif_file((10, 10), (0, 2, 20, 10), idx, global_pal=pal8)
    files["g_local_palette_20x10.gif"] = gif_file((20, 10), (0, 0, 20, 10), idx, local_pal=pal8)
    files["g_local_identity_20x10.gif"] = gif_file((20, 10), (0, 0, 20, 10), idx, global_pal=pal8,
                                                   local_pal=gray_ramp_palette(8))
    files["g_no_palette_20x10.gif"] = gif_file((20, 10), (0, 0, 20, 10), idx)
    files["g_identity_palette_20x10.gif"] = gif_file((20, 10), (0, 0, 20, 10), idx, global_pal=gray_ramp_palette(8))
    big = wide_samples(24, 12, 80, 1, 4)[..., 0]
    files["g_index_past_palette_24x12.gif"] = gif_file((24, 12), (0, 0, 24, 12), big,
                                                       global_pal=color_palette(4, 81), min_code=4)
    files["g_literal_interlaced_17x13.gif"] = gif_file((17, 13), (0, 0, 17, 13), wide_samples(17, 13, 82, 1, 3)[..., 0],
                                                       global_pal=pal8, interlace=True)

    g = files["g_basic_100x80.gif"]
    broken["gif_truncated.gif"] = (g[: len(g) // 2], "truncated")
    early = gif_file((20, 10), (0, 0, 20, 10), idx[:5], global_pal=pal8)
    early = early.replace(struct.pack("<HHHH", 0, 0, 20, 5), struct.pack("<HHHH", 0, 0, 20, 10), 1)
    broken["gif_early_end_code.gif"] = (early, "truncated")
    broken["gif_bomb.gif"] = (gif_file((20000, 20000), (0, 0, 2, 2), idx[:2, :2], global_pal=pal8), "bomb")
    broken["gif_no_image.gif"] = (b"GIF89a" + struct.pack("<HH", 10, 10) + b"\x00\x00\x00;", "invalid")
    broken["gif_zero_frame.gif"] = (gif_file((0, 0), (0, 0, 0, 0), np.zeros((1, 1), np.int64), global_pal=pal8), "invalid")


def bmp_variants(files, broken, unsupported) -> None:
    def rgb_rows(img):
        return [r[:, ::-1].tobytes() for r in img]  # BGR

    img = pattern(33, 17, 90)
    files["b_24_33x17.bmp"] = bmp_file(33, 17, 24, bmp_rows(rgb_rows(img)))
    files["b_24_topdown_33x17.bmp"] = bmp_file(33, 17, 24, bmp_rows(rgb_rows(img), top_down=True), top_down=True)
    files["b_24_core_33x17.bmp"] = bmp_file(33, 17, 24, bmp_rows(rgb_rows(img)), header=12)
    img2 = pattern(21, 13, 91)
    bgrx = [np.concatenate([r[:, ::-1], np.full((21, 1), 77, np.uint8)], 1).tobytes() for r in img2]
    files["b_32_bgrx_21x13.bmp"] = bmp_file(21, 13, 32, bmp_rows(bgrx))
    a = wide_samples(21, 13, 92, 1, 8).astype(np.uint8)
    for name, order, masks, header in [
        ("bgra_v5", "bgra", (0xFF0000, 0xFF00, 0xFF, 0xFF000000), 124),
        ("rgba_v4", "rgba", (0xFF, 0xFF00, 0xFF0000, 0xFF000000), 108),
        ("abgr_v5", "abgr", (0xFF000000, 0xFF0000, 0xFF00, 0xFF), 124),
        ("xbgr_v3", "xbgr", (0xFF000000, 0xFF0000, 0xFF00, 0), 56),
        ("bgxr_v5", "bgxr", (0xFF000000, 0xFF00, 0xFF, 0), 124),
        ("bgar_v5", "bgar", (0xFF000000, 0xFF00, 0xFF, 0xFF0000), 124),
    ]:
        ch = {"r": img2[..., 0:1], "g": img2[..., 1:2], "b": img2[..., 2:3], "a": a, "x": a}
        rows = [np.concatenate([ch[c][y] for c in order], 1).tobytes() for y in range(13)]
        files[f"b_32_{name}_21x13.bmp"] = bmp_file(21, 13, 32, bmp_rows(rows), header=header, compression=3, masks=masks)
    bgr_bf = [r[:, ::-1].tobytes() for r in img2]
    files["b_24_bitfields_21x13.bmp"] = bmp_file(21, 13, 24, bmp_rows(bgr_bf), compression=3,
                                                 masks=(0xFF0000, 0xFF00, 0xFF))
    px = wide_samples(23, 11, 93, 1, 16)[..., 0].astype("<u2")
    files["b_16_555_23x11.bmp"] = bmp_file(23, 11, 16, bmp_rows([r.tobytes() for r in px]))
    files["b_16_565_23x11.bmp"] = bmp_file(23, 11, 16, bmp_rows([r.tobytes() for r in px]), compression=3,
                                           masks=(0xF800, 0x7E0, 0x1F))
    files["b_16_555_bitfields_23x11.bmp"] = bmp_file(23, 11, 16, bmp_rows([r.tobytes() for r in px]), compression=3,
                                                     masks=(0x7C00, 0x3E0, 0x1F))

    def pal_bgrx(rgb: bytes) -> bytes:
        return b"".join(bytes([rgb[i + 2], rgb[i + 1], rgb[i], 0]) for i in range(0, len(rgb), 3))

    for bits in (1, 4, 8):
        n = 1 << bits
        idx = wide_samples(27, 9, 94 + bits, 1, bits)[..., 0]
        rows = [pack_bits(r, bits) for r in idx]
        files[f"b_{bits}_pal_27x9.bmp"] = bmp_file(27, 9, bits, bmp_rows(rows), palette=pal_bgrx(color_palette(n, bits)))
    idx = wide_samples(27, 9, 97, 1, 8)[..., 0] % 200
    files["b_8_colors200_27x9.bmp"] = bmp_file(27, 9, 8, bmp_rows([r.astype(np.uint8).tobytes() for r in idx]),
                                               palette=pal_bgrx(color_palette(200, 98)), colors=200)
    files["b_8_gray_27x9.bmp"] = bmp_file(27, 9, 8, bmp_rows([r.astype(np.uint8).tobytes() for r in wide_samples(27, 9, 99, 1, 8)[..., 0]]),
                                          palette=pal_bgrx(gray_ramp_palette(256)))
    bw = wide_samples(27, 9, 100, 1, 1)[..., 0]
    files["b_1_bw_27x9.bmp"] = bmp_file(27, 9, 1, bmp_rows([pack_bits(r, 1) for r in bw]),
                                        palette=pal_bgrx(b"\x00\x00\x00\xff\xff\xff"))
    g4 = wide_samples(4, 3, 101, 1, 4)[..., 0]
    files["b_4_gray_identity_4x3.bmp"] = bmp_file(4, 3, 4, bmp_rows([pack_bits(r, 4) for r in g4]),
                                                  palette=pal_bgrx(gray_ramp_palette(16)))
    core_pal = b"".join(bytes([c[2], c[1], c[0]]) for c in np.frombuffer(color_palette(256, 102), np.uint8).reshape(-1, 3))
    idx8 = wide_samples(19, 7, 103, 1, 8)[..., 0]
    files["b_8_core_19x7.bmp"] = bmp_file(19, 7, 8, bmp_rows([r.astype(np.uint8).tobytes() for r in idx8]),
                                          header=12, palette=core_pal)
    ridx = (np.arange(30 * 12).reshape(12, 30) // 4 % 7).astype(np.int64)
    ridx[5, 10:15] = [1, 2, 3, 4, 5]
    files["b_rle8_30x12.bmp"] = bmp_file(30, 12, 8, rle8(ridx), compression=1, palette=pal_bgrx(color_palette(256, 104)))
    ridx4 = (np.arange(26 * 10).reshape(10, 26) // 3 % 16).astype(np.int64)
    files["b_rle4_26x10.bmp"] = bmp_file(26, 10, 4, rle4(ridx4), compression=2, palette=pal_bgrx(color_palette(16, 105)))
    files["b_pil_rgb_35x22.bmp"] = pil_bytes(Image.fromarray(pattern(35, 22, 106)), "BMP")
    files["b_pil_p_35x22.bmp"] = pil_bytes(Image.fromarray(pattern(35, 22, 107)).quantize(50), "BMP")
    files["b_pil_l_35x22.bmp"] = pil_bytes(Image.fromarray(pattern(35, 22, 108)).convert("L"), "BMP")
    files["b_pil_1_35x22.bmp"] = pil_bytes(Image.fromarray(pattern(35, 22, 109)).convert("1"), "BMP")
    files["b_pil_rgba_35x22.bmp"] = pil_bytes(Image.fromarray(wide_samples(35, 22, 110, 4, 8).astype(np.uint8), "RGBA"), "BMP")

    b24 = files["b_24_33x17.bmp"]
    broken["bmp_truncated.bmp"] = (b24[: len(b24) - 100], "truncated")
    broken["bmp_bomb.bmp"] = (bmp_file(20000, 20000, 24, b""), "bomb")
    broken["bmp_zero_height.bmp"] = (bmp_file(10, 0, 24, b""), "invalid")
    g9 = wide_samples(9, 3, 111, 1, 4)[..., 0]
    broken["bmp_4bit_gray_stride.bmp"] = (bmp_file(9, 3, 4, bmp_rows([pack_bits(r, 4) for r in g9]),
                                                   palette=pal_bgrx(gray_ramp_palette(16))), "invalid")
    broken["bmp_bad_bitfields.bmp"] = (bmp_file(4, 4, 32, b"\x00" * 64, compression=3,
                                                masks=(0xF00, 0xF0, 0xF)), "unsupported")
    broken["bmp_2bit.bmp"] = (bmp_file(4, 4, 2, b"\x00" * 16, palette=b"\x00" * 16), "unsupported")
    broken["bmp_rle_short.bmp"] = (bmp_file(30, 12, 8, rle8(ridx)[:40], compression=1,
                                            palette=pal_bgrx(color_palette(256, 104))), "truncated")


def other_files(files, broken, unsupported) -> None:
    rng = np.random.default_rng(SEED)
    broken["empty.jpg"] = (b"", "unsupported")
    broken["text_named.jpg"] = (b"This is a text file with an image extension.\n", "unsupported")
    broken["garbage.png"] = (rng.integers(0, 256, size=2048).astype(np.uint8).tobytes(), "unsupported")
    small = Image.fromarray(pattern(16, 12, 120))
    unsupported["tiny.tiff"] = pil_bytes(small, "TIFF")
    # WebP (Pillow's own libwebp) and Netpbm, binary and plain, are decoded; TIFF is not.
    # testdata/formats (scripts/golden_formats.py) has the many variants of each.
    files["tiny.webp"] = pil_bytes(small, "WEBP", lossless=True)
    files["tiny.ppm"] = pil_bytes(small, "PPM")
    files["tiny_gray.pgm"] = pil_bytes(small.convert("L"), "PPM")
    files["tiny_plain.ppm"] = b"P3\n2 1\n255\n1 2 3 4 5 6\n"


def build_corpus():
    files: dict[str, bytes] = {}
    broken: dict[str, tuple[bytes, str]] = {}
    unsupported: dict[str, bytes] = {}
    jpeg_variants(files, broken, unsupported)
    png_variants(files, broken, unsupported)
    gif_variants(files, broken, unsupported)
    bmp_variants(files, broken, unsupported)
    other_files(files, broken, unsupported)
    return files, broken, unsupported


# ---------------------------------------------------------------------------------------------
# What keras makes of them

def keras_load_img():
    from keras.utils import load_img  # imported late: TensorFlow is slow to import
    return load_img


def tensor_bytes(arr: np.ndarray, divide_by=255.0, decimals=12, bgr=False, nchw=False) -> bytes:
    x = arr / divide_by
    if decimals >= 0:
        x = np.around(x, decimals=decimals)
    if bgr:
        x = x[..., ::-1]
    if nchw:
        x = np.transpose(x, (2, 0, 1))
    return np.ascontiguousarray(np.expand_dims(x, 0)).astype("<f4").tobytes()


def describe(e: BaseException) -> str:
    # object addresses ("<_io.BytesIO object at 0x7f...>") would make the manifest differ per run
    return re.sub(r" at 0x[0-9a-f]+", "", f"{type(e).__name__}: {e}")


def image_cases(load_img, path: Path, rel: str, all_filters: bool, variants: bool) -> tuple[dict, list]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(path) as im:
            mode, size = im.mode, im.size
        full = np.array(load_img(path))
    info = {"file": rel, "file_sha256": sha(path.read_bytes()), "mode": mode, "width": size[0],
            "height": size[1], "rgb_sha256": sha(full.tobytes())}
    cases = []
    for interp in (INTERPOLATIONS if all_filters else ["nearest"]):
        for h, w in TARGETS:
            for keep in (False, True):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    arr = np.array(load_img(path, target_size=(h, w), interpolation=interp, keep_aspect_ratio=keep))
                assert arr.shape == (h, w, 3), (rel, arr.shape)
                case = {"file": rel, "height": h, "width": w, "interpolation": interp,
                        "keep_aspect_ratio": keep, "uint8_sha256": sha(arr.tobytes()),
                        "float32_sha256": sha(tensor_bytes(arr))}
                if variants and interp == "nearest" and not keep:
                    case["variants"] = {
                        "bgr": sha(tensor_bytes(arr, bgr=True)),
                        "nchw": sha(tensor_bytes(arr, nchw=True)),
                        "bgr_nchw": sha(tensor_bytes(arr, bgr=True, nchw=True)),
                        "div1_noround": sha(tensor_bytes(arr, 1.0, -1)),
                        "div127.5_round6": sha(tensor_bytes(arr, 127.5, 6)),
                    }
                cases.append(case)
    return info, cases


def rounding_tables() -> list:
    out = []
    v = np.arange(256, dtype=np.uint8)
    for div, dec in ROUNDING:
        x = v / div
        if dec >= 0:
            x = np.around(x, decimals=dec)
        out.append({"divide_by": div, "decimals": dec, "float64_sha256": sha(x.astype("<f8").tobytes()),
                    "float32_sha256": sha(x.astype("<f4").tobytes())})
    return out


def rejection(load_img, path: Path) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.array(load_img(path, target_size=(160, 160)))
    except Exception as e:  # noqa: BLE001 - any failure is a rejection, recorded verbatim
        return describe(e)
    return None


# np.save output for WriteNPY: arrays holding arange(n) in the given dtype and shape.
NPY_ARRAYS = [("f4_2x3.npy", "<f4", (2, 3)), ("u1_5.npy", "|u1", (5,)), ("f4_0x3.npy", "<f4", (0, 3)),
              ("u1_1x2x2x3.npy", "|u1", (1, 2, 2, 3)), ("f4_scalar.npy", "<f4", ())]


def npy_files() -> dict[str, bytes]:
    out = {}
    for name, dtype, shape in NPY_ARRAYS:
        n = int(np.prod(shape)) if shape else 1
        arr = (np.arange(n) % 256).astype(dtype).reshape(shape)
        buf = io.BytesIO()
        np.save(buf, arr)
        out[name] = buf.getvalue()
    return out


def generate(out: Path, images: Path, shared: Path | None, write: bool) -> dict:
    """Builds the corpus and the manifest. With write=False nothing is written: the corpus is
    compared to the files on disk by the caller."""
    files, broken, unsupported = build_corpus()
    corpus = out / "corpus"
    if write:
        corpus.mkdir(parents=True, exist_ok=True)
        for old in corpus.iterdir():
            if old.name not in files and old.name not in broken and old.name not in unsupported:
                old.unlink()
        if shared is not None:
            images.mkdir(parents=True, exist_ok=True)
            for name in NOTEBOOK:
                src = shared / "notebook" / "images" / name
                dst = images / name
                if not dst.exists() or dst.read_bytes() != src.read_bytes():
                    shutil.copyfile(src, dst)
        for name, data in files.items():
            (corpus / name).write_bytes(data)
        for name, (data, _) in broken.items():
            (corpus / name).write_bytes(data)
        for name, data in unsupported.items():
            (corpus / name).write_bytes(data)
        (out / "npy").mkdir(exist_ok=True)
        for name, data in npy_files().items():
            (out / "npy" / name).write_bytes(data)

    import tempfile
    load_img = keras_load_img()
    manifest = {
        "about": "Generated by scripts/golden_preprocess.py; see testdata/preprocess/README.md.",
        "versions": {"pillow": PIL.__version__, "numpy": np.__version__, "libjpeg_turbo": features.version("libjpeg_turbo"),
                     "keras": __import__("keras").__version__},
        "targets": [list(t) for t in TARGETS],
        "images": [], "cases": [], "broken": [], "unsupported": [], "rounding": rounding_tables(),
        "npy": [{"file": f"preprocess/npy/{name}", "descr": dtype, "shape": list(shape), "values": "arange(n) % 256",
                 "file_sha256": sha(npy_files()[name])} for name, dtype, shape in NPY_ARRAYS],
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)

        def path_for(name: str, data: bytes) -> Path:
            p = tmpdir / name
            p.write_bytes(data)
            return p

        for name in NOTEBOOK:
            info, cases = image_cases(load_img, images / name, f"images/{name}", True, True)
            manifest["images"].append(info)
            manifest["cases"].extend(cases)
        for name in sorted(files):
            info, cases = image_cases(load_img, path_for(name, files[name]), f"preprocess/corpus/{name}",
                                      name in ALL_FILTERS, False)
            manifest["images"].append(info)
            manifest["cases"].extend(cases)
        for name in sorted(broken):
            data, expect = broken[name]
            err = rejection(load_img, path_for(name, data))
            if err is None:
                raise SystemExit(f"{name}: Python accepted a file listed as broken")
            manifest["broken"].append({"file": f"preprocess/corpus/{name}", "file_sha256": sha(data),
                                       "expect": expect, "python_error": err})
        for name in sorted(unsupported):
            data = unsupported[name]
            err = rejection(load_img, path_for(name, data))
            if err is not None:
                raise SystemExit(f"{name}: Python rejected a format it should read: {err}")
            manifest["unsupported"].append({"file": f"preprocess/corpus/{name}", "file_sha256": sha(data),
                                            "python": "accepted"})
    manifest["_corpus"] = {**files, **{k: v[0] for k, v in broken.items()}, **unsupported}
    return manifest


def manifest_json(manifest: dict) -> str:
    """One record per line keeps diffs readable and the file small."""
    m = {k: v for k, v in manifest.items() if k != "_corpus"}
    lines = ["{"]
    keys = list(m)
    for i, k in enumerate(keys):
        v = m[k]
        comma = "," if i < len(keys) - 1 else ""
        if isinstance(v, list) and v and isinstance(v[0], dict):
            lines.append(f"  {json.dumps(k)}: [")
            for j, item in enumerate(v):
                lines.append("    " + json.dumps(item, sort_keys=True) + ("," if j < len(v) - 1 else ""))
            lines.append("  ]" + comma)
        else:
            lines.append(f"  {json.dumps(k)}: {json.dumps(v, sort_keys=True)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Timing of the Python pipeline, for the Go benchmark's ratio

def bench(images: Path, out: Path, iterations: int, repeat: int) -> dict:
    load_img = keras_load_img()
    results = {}
    for name, path in [("notebook_96x96", images / "andrew.jpg"), ("1920x1280", out / "corpus" / "bench_1920x1280.jpg")]:
        for label, fn in [
            ("load_img", lambda p=path: np.asarray(load_img(p, target_size=(160, 160)))),
            ("load_img+around+expand_dims", lambda p=path: np.expand_dims(
                np.around(np.array(load_img(p, target_size=(160, 160))) / 255.0, decimals=12), 0)),
        ]:
            fn()
            n = iterations if name.startswith("notebook") else max(3, iterations // 10)
            rounds, cpu = [], []
            for _ in range(repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                for _ in range(n):
                    fn()
                rounds.append((time.perf_counter() - t0) / n * 1e3)
                cpu.append((time.process_time() - c0) / n * 1e3)
            rounds.sort()
            cpu.sort()
            # On a shared machine the minimum wall time and the CPU time are the least disturbed
            # by other load; the Go benchmarks report cpu-ns/op the same way.
            results[f"{name}/{label}"] = {"iterations": n, "rounds": repeat, "min_ms_per_op": round(rounds[0], 4),
                                          "median_ms_per_op": round(rounds[len(rounds) // 2], 4),
                                          "median_cpu_ms_per_op": round(cpu[len(cpu) // 2], 4)}
    return results


def main(argv=None) -> int:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=here.parent / "shared",
                    help="the shared material (notebook images are copied from SHARED/notebook/images); default %(default)s")
    ap.add_argument("--out", type=Path, default=here / "testdata" / "preprocess",
                    help="where the corpus and manifest.json go; default %(default)s")
    ap.add_argument("--images", type=Path, default=None,
                    help="the notebook image copies (default: OUT/../images)")
    ap.add_argument("--check", action="store_true",
                    help="regenerate in memory and exit 1 if the corpus or manifest on disk differ")
    ap.add_argument("--bench", action="store_true", help="time keras load_img (+ numpy) and print JSON")
    ap.add_argument("--iterations", type=int, default=200,
                    help="--bench iterations per round for the small image, a tenth for the large one (default %(default)s)")
    ap.add_argument("--repeat", type=int, default=5, help="--bench rounds; the minimum and median are reported (default %(default)s)")
    args = ap.parse_args(argv)
    images = args.images or args.out.parent / "images"

    if args.bench:
        print(json.dumps(bench(images, args.out, args.iterations, args.repeat), indent=2))
        return 0

    if args.check:
        manifest = generate(args.out, images, None, write=False)
        problems = []
        for name, data in manifest["_corpus"].items():
            p = args.out / "corpus" / name
            if not p.exists() or p.read_bytes() != data:
                problems.append(f"corpus/{name} differs")
        for name, data in npy_files().items():
            p = args.out / "npy" / name
            if not p.exists() or p.read_bytes() != data:
                problems.append(f"npy/{name} differs")
        on_disk = (args.out / "manifest.json").read_text() if (args.out / "manifest.json").exists() else ""
        if on_disk != manifest_json(manifest):
            problems.append("manifest.json differs")
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0

    shared = args.shared if (args.shared / "notebook" / "images").is_dir() else None
    manifest = generate(args.out, images, shared, write=True)
    (args.out / "manifest.json").write_text(manifest_json(manifest))
    n = len(manifest["cases"])
    size = sum(len(v) for v in manifest["_corpus"].values())
    print(f"{len(manifest['images'])} images, {n} cases, {len(manifest['broken'])} broken, "
          f"{len(manifest['unsupported'])} unsupported; corpus {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
