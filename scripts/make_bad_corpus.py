#!/usr/bin/env python3
"""Write testdata/bad/: hostile and broken image files that every image-taking facenet command must
refuse with one clear error line, quickly and without large allocations.

Each file is built from a small seeded image (Pillow's own encoders, so the valid parts are what real
software writes) and then broken in one way: empty files, text named .jpg/.png, truncated baseline and
progressive JPEGs, a PNG with a bad CRC, headers announcing 100000x100000 pixels (JPEG can only say
65535x65535) or zero width/height, garbage after valid headers, a GIF without frames, BMPs with
impossible sizes, headers just under the pixel limit with almost no data behind them, and a
progressive JPEG with thousands of scans.

manifest.json lists every file with its sha256, why it is bad, the error class the Go package must
return ("unsupported", "invalid", "truncated", "bomb": encoding.ErrUnsupportedFormat,
ErrInvalidImage, ErrTruncated, ErrDecompressionBomb) and what keras.utils.load_img (Pillow 11) does
with it, so the expectations come from the reference rather than from the Go code. Hostile files
that Pillow nevertheless decodes (an RLE escape past the end of the bitmap, a harmless chunk after
the image data) are listed under "accepted" instead, with the sha256 of Pillow's
Image.open(f).convert("RGB") pixels: the Go decoder must decode them to the same bytes, within the
memory the header allows. It also describes
the inputs the tests make at run time (a directory, a dangling symlink, a FIFO, a missing file),
which cannot be committed.

The output is deterministic: fixed seeds, no timestamps. --check regenerates in memory and fails if
the directory differs.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import struct
import sys
import warnings
import zlib
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

SEED = 90909
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A header this size (13000 x 13000 = 169 M pixels) is under Pillow's 178,956,970-pixel
# DecompressionBombError limit, so a decoder must start on it: with no data behind it, it must fail
# without touching the 507 MB the header announces.
NEAR_LIMIT = 13000

# Inputs the tests create themselves (git cannot hold them, or holding them would be pointless).
RUNTIME_CASES = [
    {"name": "directory.jpg", "kind": "directory", "reason": "a directory whose name looks like an image"},
    {"name": "dangling.jpg", "kind": "dangling symlink", "reason": "a symlink to a file that does not exist"},
    {"name": "missing.jpg", "kind": "missing", "reason": "a path that does not exist"},
    {"name": "fifo.jpg", "kind": "fifo", "reason": "a named pipe nobody writes to: reading it blocks forever"},
    {"name": "unreadable.jpg", "kind": "chmod 000",
     "reason": "a file without read permission; the tests run as root, which reads it anyway, so "
               "they check only that it either fails cleanly or decodes the valid image inside"},
]


def seeded(w: int, h: int, seed: int) -> np.ndarray:
    """A smooth colour pattern with noise: compresses like a photo, not like flat colour."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 127 // max(w + h - 2, 1)], -1)
    return np.clip(base + rng.integers(-12, 13, (h, w, 3)), 0, 255).astype(np.uint8)


def pil_bytes(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png_chunk(cid: bytes, data: bytes, crc: int | None = None) -> bytes:
    if crc is None:
        crc = zlib.crc32(cid + data)
    return struct.pack(">I", len(data)) + cid + data + struct.pack(">I", crc & 0xFFFFFFFF)


def ihdr(width: int, height: int, depth: int = 8, color_type: int = 2) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0))


def bmp(width: int, height: int, bits: int = 24, pixels: bytes = b"", *, header: int = 40, offset: int | None = None) -> bytes:
    """A BITMAPINFOHEADER file; header > 40 pads the info header to that declared size."""
    info = struct.pack("<IiiHHIIiiII", header, width, height, 1, bits, 0, 0, 2835, 2835, 0, 0)
    info += b"\x00" * max(0, header - 40)
    if offset is None:
        offset = 14 + len(info)
    return b"BM" + struct.pack("<IHHI", 14 + len(info) + len(pixels), 0, 0, offset) + info + pixels


def bmp_rle(width: int, height: int, rle: bytes, *, rle4: bool = False) -> bytes:
    """An RLE8 (or RLE4) BITMAPINFOHEADER file with a gray ramp palette broken at entry 1 (so the
    image stays mode "P") and the given compressed stream."""
    bits, colors = (4, 16) if rle4 else (8, 256)
    palette = b"".join(bytes([i * 7 % 256, i, 255 - i, 0]) for i in range(colors))
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bits, 2 if rle4 else 1, len(rle), 2835, 2835, colors, 0)
    offset = 14 + len(info) + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(rle), 0, 0, offset) + info + palette + rle


def gif_screen(width: int, height: int) -> bytes:
    """GIF89a header, logical screen with a 2-colour global palette."""
    return b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"


def segment_end(data: bytes, marker: bytes) -> int:
    """Offset just past the first segment with this JPEG marker (its 2-byte length included)."""
    at = data.index(marker)
    return at + 2 + struct.unpack(">H", data[at + 2:at + 4])[0]


def with_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    out = bytearray(data)
    sof = out.index(b"\xff\xc0") if b"\xff\xc0" in out else out.index(b"\xff\xc2")
    struct.pack_into(">HH", out, sof + 5, height, width)
    return bytes(out)


def build() -> dict[str, tuple[bytes, str, str]]:
    """name -> (bytes, expected Go error class or "ok" for a file Pillow decodes, why the file is bad)."""
    rng = np.random.default_rng(SEED)
    photo = Image.fromarray(seeded(64, 48, SEED))
    base = pil_bytes(photo, "JPEG", quality=90)
    prog = pil_bytes(photo, "JPEG", quality=90, progressive=True)
    png = pil_bytes(photo, "PNG")
    gif = pil_bytes(photo.convert("P"), "GIF")
    sos_end = segment_end(base, b"\xff\xda")
    out: dict[str, tuple[bytes, str, str]] = {}

    def add(name, data, expect, reason):
        assert name not in out, name
        out[name] = (data, expect, reason)

    # Not images at all.
    add("empty.jpg", b"", "unsupported", "0 bytes, named .jpg")
    add("empty.png", b"", "unsupported", "0 bytes, named .png")
    add("text.jpg", b"This is a text file with an image extension.\n", "unsupported", "plain text named .jpg")
    add("text.png", b"#!/bin/sh\necho 'not a PNG'\n", "unsupported", "a shell script named .png")
    add("random.jpg", rng.integers(0, 256, 1024, dtype=np.uint8).tobytes(), "unsupported", "1 KiB of random bytes named .jpg")

    # JPEG.
    add("jpeg_only_soi.jpg", b"\xff\xd8\xff", "truncated", "the JPEG start-of-image marker and nothing else")
    add("jpeg_truncated_baseline.jpg", base[: sos_end + (len(base) - sos_end) // 2], "truncated",
        "baseline JPEG cut in the middle of its entropy-coded data")
    prog_scan2 = prog.index(b"\xff\xda", prog.index(b"\xff\xda") + 2)
    add("jpeg_truncated_progressive.jpg", prog[: prog_scan2 + 40], "truncated",
        "progressive JPEG cut inside its second scan")
    add("jpeg_header_only.jpg", base[:sos_end], "truncated", "every JPEG header up to the scan header, no image data")
    add("jpeg_garbage_after_sos.jpg", base[:sos_end] + rng.integers(0, 256, 2000, dtype=np.uint8).tobytes() + b"\xff\xd9",
        "invalid", "valid JPEG headers followed by 2000 random bytes as the scan (stray markers in it)")
    add("jpeg_garbage_before_sof.jpg", base[:20] + rng.integers(0, 256, 400, dtype=np.uint8).tobytes(), "truncated",
        "SOI and the JFIF header, then random bytes: no frame, no scan")
    add("jpeg_bomb_65535x65535.jpg", with_jpeg_size(base, 65535, 65535), "bomb",
        "SOF declares 65535x65535 (4.3 G pixels; 16-bit fields cannot say 100000)")
    add("jpeg_zero_width.jpg", with_jpeg_size(base, 0, 48), "invalid", "SOF declares width 0")
    add("jpeg_zero_height.jpg", with_jpeg_size(base, 64, 0), "invalid", "SOF declares height 0 (a DNL marker is not supported)")
    add(f"jpeg_near_limit_{NEAR_LIMIT}x{NEAR_LIMIT}_no_data.jpg", with_jpeg_size(base[:sos_end], NEAR_LIMIT, NEAR_LIMIT),
        "truncated", f"SOF declares {NEAR_LIMIT}x{NEAR_LIMIT} (under the bomb limit), no image data follows")
    # Thousands of empty progressive scans: each makes libjpeg sweep the whole coefficient buffer.
    flat = pil_bytes(Image.fromarray(np.full((2048, 2048), 128, np.uint8)), "JPEG", quality=50, progressive=True)
    first = flat.index(b"\xff\xda")
    second = flat.index(b"\xff\xda", first + 2)
    scan = flat[second: second + 2 + struct.unpack(">H", flat[second + 2:second + 4])[0]]
    add("jpeg_scan_bomb_2000_scans.jpg", flat[:second] + scan * 2000 + b"\xff\xd9", "invalid",
        "2048x2048 progressive JPEG with 2000 empty scans: Pillow decodes it, sweeping 4 M coefficients "
        "per scan; the Go decoder stops at 500 scans")

    # JPEG APP segments Pillow parses while it opens the file (issue 16, class 12): a Photoshop
    # resource cut off before its name length is an IndexError, an MPF index promising more
    # entries than it holds a struct.error, an ICC segment without its marker count byte an
    # IndexError in the SOF handler: each "cannot identify". Other malformations only warn.
    def app(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    def with_app(name, segment, expect, reason, *, before_sos=False):
        at = base.index(b"\xff\xda") if before_sos else 20  # just before the scan, or after SOI + JFIF
        add(name, base[:at] + segment + base[at:], expect, reason)

    ps = b"Photoshop 3.0\x00"
    with_app("jpeg_photoshop_resource_cut_off.jpg", app(0xED, ps + b"8BIM\x04\x04"), "invalid",
             "APP13 Photoshop resource that ends after its resource code, before its name length")
    with_app("jpeg_photoshop_size_cut_off.jpg", app(0xED, ps + b"8BIM\x04\x04\x00\x00\x00\x01"), "ok",
             "APP13 Photoshop resource that ends inside its size field (Pillow stops quietly)")
    with_app("jpeg_photoshop_resolution_short.jpg", app(0xED, ps + b"8BIM\x03\xed\x00\x00\x00\x00\x00\x04abcd"), "ok",
             "APP13 ResolutionInfo of 4 bytes instead of 16 (Pillow stops quietly)")

    def mpf(count: int, entries: bytes, *, entry_type: int = 7) -> bytes:
        # little-endian TIFF header, one IFD: NumberOfImages (LONG) and MPEntry, its data after the IFD
        ifd_at, n = 8, 2
        data_at = ifd_at + 2 + 12 * n + 4
        ifd = struct.pack("<H", n) + struct.pack("<HHII", 0xB001, 4, 1, count)
        ifd += struct.pack("<HHII", 0xB002, entry_type, len(entries), data_at if len(entries) > 4 else 0) + b"\0\0\0\0"
        return b"MPF\x00" + b"II\x2a\x00" + struct.pack("<I", ifd_at) + ifd + entries

    entry = struct.pack("<IIIHH", 0x030000, 1000, 0, 0, 0)
    with_app("jpeg_mpf_too_few_entries.jpg", app(0xE2, mpf(3, entry)), "invalid",
             "APP2 MPF index saying 3 images with one 16-byte MP entry")
    with_app("jpeg_mpf_one_entry.jpg", app(0xE2, mpf(1, entry)), "ok", "APP2 MPF index of one image, one entry (a plain JPEG)")
    with_app("jpeg_mpf_entry_not_jpeg.jpg", app(0xE2, mpf(3, struct.pack("<IIIHH", 0x01030000, 1000, 0, 0, 0))), "ok",
             "APP2 MPF index of 3 images whose first entry is not JPEG (Pillow warns, reads a plain JPEG)")
    with_app("jpeg_mpf_not_tiff.jpg", app(0xE2, b"MPF\x00" + b"garbage garbage"), "ok",
             "APP2 MPF payload that is not a TIFF directory (Pillow warns, reads a plain JPEG)")
    with_app("jpeg_mpf_entries_as_long.jpg", app(0xE2, mpf(3, entry, entry_type=4)[:-len(entry)] + entry), "ok",
             "APP2 MPF whose MPEntry is typed LONG, 64 bytes past the segment end (the directory read stops, a plain JPEG)")
    with_app("jpeg_icc_13_bytes.jpg", app(0xE2, b"ICC_PROFILE\x00\x01"), "invalid",
             "APP2 ICC_PROFILE segment of 13 bytes: no marker count")
    with_app("jpeg_icc_13_bytes_after_sof.jpg", app(0xE2, b"ICC_PROFILE\x00\x01"), "ok",
             "the same 13-byte ICC segment after the frame header: Pillow never assembles it", before_sos=True)
    with_app("jpeg_icc_short_segment_sorts_last.jpg",
             app(0xE2, b"ICC_PROFILE\x00\x01\x02" + b"p" * 40) + app(0xE2, b"ICC_PROFILE\x00\x02"), "ok",
             "a 13-byte ICC segment that sorts after a complete one: only the first in order is read")

    # Formats Pillow opens (issue 16, class 13): WebP through Pillow's own libwebp and plain Netpbm
    # are decoded as Pillow decodes them; TIFF is refused by design, and the refusal names it
    # ("message" in the manifest).
    small = Image.fromarray(seeded(16, 12, SEED))
    webp = pil_bytes(small, "WEBP", lossless=True)
    add("format_webp.webp", webp, "ok", "a lossless WebP, decoded by Pillow's libwebp 1.4.0")
    add("format_tiff.tif", pil_bytes(small, "TIFF"), "unsupported", "an uncompressed TIFF: not supported, named")
    add("format_ppm_plain.ppm", b"P3\n4 2\n255\n" + " ".join(str(v) for v in seeded(4, 2, SEED).ravel()).encode() + b"\n", "ok",
        "a plain (ASCII) PPM (P3), PpmPlainDecoder's rules")
    add("webp_truncated.webp", webp[:-3], "truncated", "a lossless WebP missing its last 3 bytes (libwebp: no decoder)")
    add("webp_riff_size_4g.webp", webp[:4] + struct.pack("<I", 0xFFFFFFF0) + webp[8:], "truncated",
        "a complete WebP whose RIFF size claims 4 GiB")
    one = pil_bytes(Image.new("RGB", (1, 1), (9, 8, 7)), "WEBP")[12:]
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x02\x00\x00\x00" + (16383).to_bytes(3, "little") * 2
    anmf_head = bytes(12) + (100).to_bytes(3, "little") + b"\x00"
    body = b"WEBP" + vp8x + b"ANIM" + struct.pack("<I", 6) + bytes(6) + b"ANMF" + struct.pack("<I", 16 + len(one)) + anmf_head + one
    add("webp_bomb_anim_canvas_16384x16384.webp", b"RIFF" + struct.pack("<I", len(body)) + body, "bomb",
        "an animation of one 1x1 frame on a 16384x16384 canvas: refused before libwebp allocates the canvas")
    add("ppm_plain_p1_bomb_20000x20000.pbm", b"P1 20000 20000\n0 1\n", "bomb", "a plain PBM header of 400M pixels")
    add("ppm_plain_comments_20000.ppm", b"P3 1 1 255\n" + b"#\n" * 20000 + b"1 2 3\n", "ok",
        "20,000 comments in the data: Pillow deletes them one by one (quadratic); Go in one pass")
    add("ppm_plain_token_2000_digits.pgm", b"P2 1 1 255\n" + b"9" * 2000, "invalid",
        "a 2,000-digit sample: refused as too long, never parsed")
    add("ppm_plain_short.ppm", b"P3 3 3 255\n1 2 3\n", "truncated", "a plain PPM with 3 of 27 samples")

    # Binary Netpbm, decoded as Pillow does: its tokenizer's quirks, maxvals other than 255
    # rescaled with round-half-even, 16-bit gray clamped by the RGB conversion.
    rs = np.random.default_rng(SEED + 13)
    g16 = lambda n, top: rs.integers(0, top + 1, n).astype(">u2").tobytes()  # noqa: E731
    add("ppm_p6.ppm", pil_bytes(small, "PPM"), "ok", "a binary PPM (P6) as Pillow writes it")
    add("ppm_p5.pgm", pil_bytes(small.convert("L"), "PPM"), "ok", "a binary PGM (P5) as Pillow writes it")
    add("ppm_p4.pbm", b"P4\n13 5\n" + rs.integers(0, 256, 10, dtype=np.uint8).tobytes(), "ok", "a binary PBM (P4), 13 pixels wide")
    add("ppm_p5_maxval_1000.pgm", b"P5 7 3 1000\n" + g16(21, 1100), "ok",
        "P5 with maxval 1000 (mode I, rescaled to 65535, clamped at 255), samples past maxval")
    add("ppm_p5_maxval_65535.pgm", b"P5 7 3 65535\n" + g16(21, 65535), "ok", "P5 with 16-bit samples read raw, clamped at 255")
    add("ppm_p6_maxval_1000.ppm", b"P6 5 3 1000\n" + g16(45, 1000), "ok", "P6 with 16-bit samples rescaled to 255")
    add("ppm_p6_maxval_100.ppm", b"P6 5 3 100\n" + rs.integers(0, 120, 45, dtype=np.uint8).tobytes(), "ok",
        "P6 with maxval 100: samples rescaled up (round half to even), those past maxval clipped")
    add("ppm_comments_and_underscore.ppm", b"P6\n# made by hand\n1_0 #a comment\n2\n2#inside a token\n55 " + bytes(range(60)), "ok",
        "P6 header with comments, one inside the maxval token, and Python's 1_0 for 10")
    add("ppm_token_too_long.ppm", b"P6 10000000000 1 255\n" + b"\0" * 30, "invalid", "a width of 11 digits: token too long")
    add("ppm_maxval_0.pgm", b"P5 4 4 0\n" + b"\0" * 16, "invalid", "maxval 0")
    add("ppm_zero_width.pgm", b"P5 0 4 255\n" + b"\0" * 16, "invalid", "width 0")
    add("ppm_not_a_number.pgm", b"P5 4x 4 255\n" + b"\0" * 16, "invalid", "width '4x'")
    add("ppm_truncated.ppm", pil_bytes(small, "PPM")[:300], "truncated", "a binary PPM cut inside its samples")
    add("ppm_truncated_maxval_1000.pgm", b"P5 7 3 1000\n" + g16(10, 1000), "truncated", "a 16-bit PGM cut inside its samples")
    add("ppm_header_cut_off.pgm", b"P5 7 ", "invalid", "a PGM header that ends before its height")
    add("ppm_bomb_100000x100000.ppm", b"P6 100000 100000 255\n" + b"\0" * 30, "bomb", "P6 header declaring 100000x100000")

    # PNG.
    bad_crc = bytearray(png)
    bad_crc[29] ^= 0xFF  # last byte of the IHDR CRC (8 signature + 8 chunk header + 13 data)
    add("png_bad_crc.png", bytes(bad_crc), "invalid", "IHDR chunk with a wrong CRC")
    idat = png_chunk(b"IDAT", zlib.compress(b"\x00" * 64, 9))
    iend = png_chunk(b"IEND", b"")
    add("png_bomb_100000x100000.png", PNG_SIGNATURE + ihdr(100000, 100000) + idat + iend, "bomb",
        "IHDR declares 100000x100000 (10 G pixels) over 64 bytes of data")
    add("png_zero_width.png", PNG_SIGNATURE + ihdr(0, 48) + idat + iend, "invalid", "IHDR declares width 0")
    add("png_zero_height.png", PNG_SIGNATURE + ihdr(64, 0) + idat + iend, "invalid", "IHDR declares height 0")
    add("png_ihdr_only.png", PNG_SIGNATURE + ihdr(64, 48), "truncated", "signature and IHDR, then the file ends")
    add("png_no_idat.png", PNG_SIGNATURE + ihdr(64, 48) + iend, "invalid", "IHDR then IEND: no image data at all")
    add("png_garbage_after_ihdr.png", PNG_SIGNATURE + ihdr(64, 48) + rng.integers(0, 256, 1000, dtype=np.uint8).tobytes(),
        "invalid", "valid signature and IHDR followed by 1000 random bytes")
    add("png_idat_not_zlib.png", PNG_SIGNATURE + ihdr(64, 48) + png_chunk(b"IDAT", rng.integers(0, 256, 1000, dtype=np.uint8).tobytes()) + iend,
        "invalid", "IDAT holds random bytes instead of a zlib stream")
    add("png_truncated.png", png[: len(png) // 2], "truncated", "a valid PNG cut in half")
    add(f"png_near_limit_{NEAR_LIMIT}x{NEAR_LIMIT}_64_bytes.png", PNG_SIGNATURE + ihdr(NEAR_LIMIT, NEAR_LIMIT) + idat + iend,
        "truncated", f"IHDR declares {NEAR_LIMIT}x{NEAR_LIMIT} (under the bomb limit) over 64 bytes of pixel data")

    # PNG chunks Pillow checks before the image data (issue 16, class 10): iCCP, zTXt and iTXt
    # payloads may inflate to MAX_TEXT_CHUNK (1 MiB), text in all may reach MAX_TEXT_MEMORY
    # (64 MiB), cHRM is unpacked as whole 32-bit integers.
    head, rest = png[:33], png[33:]  # signature + IHDR, then the IDAT chunks and IEND
    mib = 1 << 20
    zeros = lambda n: zlib.compress(b"\0" * n, 9)  # noqa: E731
    text = lambda n: zlib.compress(b"a" * n, 9)  # noqa: E731

    def pre(name, chunks, expect, reason):
        add(name, head + b"".join(chunks) + rest, expect, reason)

    pre("png_iccp_inflates_past_1mib.png", [png_chunk(b"iCCP", b"icc\0\0" + zeros(mib + 1))], "invalid",
        "iCCP profile of 1 KB that inflates to 1 MiB + 1 byte")
    pre("png_iccp_inflates_to_1000000.png", [png_chunk(b"iCCP", b"icc\0\0" + zeros(1_000_000))], "ok",
        "iCCP profile inflating to 1,000,000 bytes: under MAX_TEXT_CHUNK")
    pre("png_iccp_not_zlib.png", [png_chunk(b"iCCP", b"icc\0\0not zlib")], "ok", "iCCP profile that is not zlib data (ignored)")
    pre("png_ztxt_inflates_past_1mib.png", [png_chunk(b"zTXt", b"Comment\0\0" + text(mib + 1))], "invalid",
        "zTXt text of 1 KB that inflates past 1 MiB")
    pre("png_itxt_inflates_past_1mib.png", [png_chunk(b"iTXt", b"Comment\0\1\0en\0\0" + text(2 * mib))], "invalid",
        "compressed iTXt text inflating to 2 MiB")
    pre("png_itxt_uncompressed_bad_utf8.png", [png_chunk(b"iTXt", b"Comment\0\0\0en\0\0\xff\xfe")], "ok",
        "uncompressed iTXt whose text is not UTF-8 (skipped)")
    pre("png_ztxt_65_texts_over_64mib.png", [png_chunk(b"zTXt", b"k%d\0\0" % i + text(1_040_000)) for i in range(65)], "invalid",
        "65 zTXt chunks of 1,040,000 characters each: 67.6 M in all, over MAX_TEXT_MEMORY (64 MiB)")
    pre("png_ztxt_64_texts_under_64mib.png", [png_chunk(b"zTXt", b"k%d\0\0" % i + text(1_040_000)) for i in range(64)], "ok",
        "64 zTXt chunks of 1,040,000 characters each: 66.6 M in all, under MAX_TEXT_MEMORY")
    pre("png_chrm_5_bytes.png", [png_chunk(b"cHRM", b"\0" * 5)], "invalid", "cHRM chunk of 5 bytes (not a whole number of integers)")
    pre("png_chrm_0_bytes.png", [png_chunk(b"cHRM", b"")], "ok", "empty cHRM chunk (zero integers)")
    pre("png_ztxt_method_1.png", [png_chunk(b"zTXt", b"Comment\0\1" + text(10))], "invalid", "zTXt with compression method 1")

    # What Pillow's load_end parses after the image data (issue 16, class 11): every chunk up to
    # IEND goes through its handler, without CRC checks; a cut-off chunk fails, a cut-off chunk
    # header or a name that is no chunk name ends the walk.
    body = png[:-12]  # without IEND

    def post(name, tail, expect, reason):
        add(name, body + tail, expect, reason)

    post("png_trailing_ztxt_bomb.png", png_chunk(b"zTXt", b"Comment\0\0" + text(4 * mib)) + iend, "invalid",
        "zTXt after the image data inflating to 4 MiB")
    post("png_trailing_truncated_chunk.png", png_chunk(b"tEXt", b"Comment\0" + b"x" * 100)[:60], "truncated",
        "a tEXt chunk after the image data cut off inside its payload")
    post("png_trailing_truncated_unknown_chunk.png", png_chunk(b"prVt", b"x" * 100)[:60], "truncated",
        "an unknown chunk after the image data cut off inside its payload")
    post("png_trailing_fctl_bad_sequence.png", png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 5, 64, 48, 0, 0, 1, 10, 0, 0)) + iend,
        "invalid", "a stray fcTL after the image data with sequence number 5 (must be 0)")
    post("png_trailing_fctl_sequence_0.png", png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, 64, 48, 0, 0, 1, 10, 0, 0)) + iend,
        "ok", "a stray but well-formed fcTL (sequence 0) after the image data")
    post("png_trailing_gama_1_byte.png", png_chunk(b"gAMA", b"\1") + iend, "invalid", "a 1-byte gAMA after the image data")
    post("png_trailing_chrm_5_bytes.png", png_chunk(b"cHRM", b"\0" * 5) + iend, "invalid", "a 5-byte cHRM after the image data")
    post("png_trailing_fdat.png", png_chunk(b"fdAT", b"\0\0\0\1" + b"x" * 8) + iend, "invalid",
        "an fdAT after the image data of a PNG that is not animated")
    post("png_trailing_idat_cut_off.png", png_chunk(b"IDAT", b"x" * 200)[:100], "truncated",
        "an extra IDAT after the complete image data, cut off")
    post("png_trailing_bad_crc.png", png_chunk(b"tEXt", b"Comment\0hello", crc=0) + iend, "ok",
        "a tEXt after the image data with a wrong CRC (load_end does not check CRCs)")
    post("png_trailing_garbage.png", rng.integers(0, 256, 200, dtype=np.uint8).tobytes(), "ok",
        "200 random bytes after the image data instead of IEND")
    post("png_trailing_header_cut_off.png", b"\0\0\0\0\0\0\0\0\0\0", "ok",
        "after the image data only a CRC and a cut-off chunk header")
    # An APNG whose image data goes on in an fdAT: Pillow's load_read checks its sequence number.
    idat_at = png.index(b"IDAT") - 4
    idat_len = struct.unpack(">I", png[idat_at:idat_at + 4])[0]
    payload = png[idat_at + 8:idat_at + 8 + idat_len]
    actl = png_chunk(b"acTL", struct.pack(">II", 1, 0))
    fctl = png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, 64, 48, 0, 0, 1, 10, 0, 0))

    def split_apng(seq: int) -> bytes:
        half = len(payload) // 2
        return (head + actl + fctl + png_chunk(b"IDAT", payload[:half])
                + png_chunk(b"fdAT", struct.pack(">I", seq) + payload[half:]) + iend)

    add("png_apng_data_in_fdat.png", split_apng(1), "ok", "APNG whose image data continues in an fdAT with sequence number 1")
    add("png_apng_data_in_fdat_bad_sequence.png", split_apng(5), "invalid",
        "APNG whose image data continues in an fdAT with sequence number 5 (must be 1)")
    add("png_after_iend.png", png + png_chunk(b"gAMA", b"\1") + b"junk", "ok", "a 1-byte gAMA after IEND (never read)")

    # GIF.
    add("gif_no_frames.gif", gif_screen(10, 10) + b";", "invalid", "header, screen and palette, then the trailer: no frame")
    frame_2x2 = b",\x00\x00\x00\x00\x02\x00\x02\x00\x00" + b"\x02\x02\x44\x01\x00"  # descriptor, LZW min 2, data
    add("gif_bomb_65535x65535.gif", gif_screen(65535, 65535) + frame_2x2 + b";", "bomb",
        "logical screen of 65535x65535 (4.3 G pixels) around a 2x2 frame")
    add("gif_truncated.gif", gif[: len(gif) * 2 // 3], "truncated", "a valid GIF cut inside its LZW data")

    # BMP.
    row24 = b"\x00" * 32  # 10 pixels of 24 bits, padded to 4 bytes
    add("bmp_bomb_100000x100000.bmp", bmp(100000, 100000, 24, row24), "bomb", "header declares 100000x100000 (10 G pixels)")
    add("bmp_negative_width.bmp", bmp(-10, 10, 24, row24 * 10), "bomb",
        "width -10; Pillow reads the field unsigned, 4294967286 pixels wide")
    add("bmp_height_int32_min.bmp", bmp(10, -(2**31), 24, row24 * 10), "bomb",
        "height -2147483648: top-down with a magnitude no int32 holds")
    # Unsigned width and height whose product does not fit in 64 signed bits (found by FuzzPreprocess).
    overflow = bytearray(bmp(10, 10, 24, row24 * 10))
    struct.pack_into("<II", overflow, 18, 0xFFFFFFFF, 0xC0000000)
    add("bmp_pixel_count_overflow.bmp", bytes(overflow), "bomb",
        "width 4294967295 and height 3221225472 (both read unsigned, as Pillow does): 1.4e19 pixels, "
        "more than a signed 64-bit product holds")
    add("bmp_zero_width.bmp", bmp(0, 10, 24, row24 * 10), "invalid", "header declares width 0")
    add("bmp_offset_past_end.bmp", bmp(10, 10, 24, row24 * 10, offset=100000), "truncated",
        "pixel data offset 100000 in a 374-byte file")
    add("bmp_pixel_depth_0.bmp", bmp(10, 10, 0, row24 * 10), "unsupported", "0 bits per pixel")
    add("bmp_header_size_1000.bmp", bmp(10, 10, 24, row24 * 10, header=1000), "unsupported", "info header claims to be 1000 bytes long")
    add(f"bmp_near_limit_{NEAR_LIMIT}x{NEAR_LIMIT}_320_bytes.bmp", bmp(NEAR_LIMIT, NEAR_LIMIT, 24, row24 * 10), "truncated",
        f"header declares {NEAR_LIMIT}x{NEAR_LIMIT} (under the bomb limit) over 320 bytes of pixels")

    # BMP RLE escapes that would grow the output past the header's size (issue 16, class 1).
    # Pillow's Python decoder appends each escape's bytes whole and stops once it holds
    # width x height of them, ignoring the excess: a delta of 255 rows in a wide image is
    # 255 x width bytes from four bytes of file.
    add("bmp_rle8_delta_255_rows_100000x10.bmp", bmp_rle(100000, 10, b"\x04\x07" + b"\x00\x02\x00\x00\xff\xff" * 3 + b"\x00\x01"),
        "ok", "RLE8 100000x10 whose delta escapes skip 255 rows each (25 MB appended by Pillow for a 1 MB image)")
    add("bmp_rle4_delta_255_rows_100000x10.bmp", bmp_rle(100000, 10, b"\x05\x3a" + b"\x00\x02\x00\x00\xff\xff" * 3 + b"\x00\x01", rle4=True),
        "ok", "RLE4 100000x10 whose delta escapes skip 255 rows each")
    add("bmp_rle8_runs_past_end_64x4.bmp", bmp_rle(64, 4, (b"\x40\x05" + b"\x00\x00") * 6 + b"\x00\xfe" + bytes(range(254)) + b"\x00\x01"),
        "ok", "RLE8 64x4 with more encoded rows than the header has, then a 254-byte absolute run past the end")
    add("bmp_rle8_delta_then_run_16x16.bmp", bmp_rle(16, 16, b"\x00\x02\x00\x00\x03\x02" + b"\x10\x09" * 3 + b"\x00\x06" + bytes(range(1, 7)) + b"\x00\x00" + b"\x00\x02\x00\x00\x05\x20"),
        "ok", "RLE8 16x16 mixing delta escapes (the last 32 rows past the end), encoded and absolute runs, end-of-line")
    add("bmp_rle8_end_of_lines_only_1000x1000.bmp", bmp_rle(1000, 1000, b"\x00\x00" * 4000), "truncated",
        "RLE8 1000x1000 made of 4000 end-of-line escapes that add no pixels: not enough image data")
    add("bmp_rle8_delta_cut_off.bmp", bmp_rle(100000, 10, b"\x04\x07\x00\x02\x00\x00\xff"), "truncated",
        "RLE8 ending inside a delta escape's offsets")
    return out


# What the Go error must name for the formats it refuses by design.
FORMAT_NAMES = {"format_tiff.tif": "TIFF"}


def pillow_verdict(data: bytes) -> str:
    """What keras.utils.load_img (target 160x160, as the notebook calls it) does with the bytes."""
    from keras.utils import load_img  # late: importing TensorFlow takes seconds

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.array(load_img(io.BytesIO(data), target_size=(160, 160)))
    except Exception as e:  # noqa: BLE001 - any failure is the verdict, recorded verbatim
        # object addresses would make the manifest differ per run
        return re.sub(r" at 0x[0-9a-f]+", "", f"{type(e).__name__}: {e}")
    return f"decodes it ({arr.shape[1]}x{arr.shape[0]})"


def pillow_rgb(data: bytes) -> dict:
    """Size and sha256 of Image.open(...).convert("RGB"): the pixels the Go decoder must produce."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(io.BytesIO(data)) as im:
            rgb = im.convert("RGB")
    return {"width": rgb.width, "height": rgb.height, "rgb_sha256": hashlib.sha256(rgb.tobytes()).hexdigest()}


def manifest(files: dict[str, tuple[bytes, str, str]]) -> dict:
    import PIL

    entries, accepted = [], []
    for name in sorted(files):
        data, expect, reason = files[name]
        entry = {"file": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                 "expect": expect, "reason": reason, "pillow": pillow_verdict(data)}
        if name in FORMAT_NAMES:
            entry["message"] = FORMAT_NAMES[name]
        if expect == "ok":
            entry.update(pillow_rgb(data))
            accepted.append(entry)
        else:
            entries.append(entry)
    return {"generator": "scripts/make_bad_corpus.py", "pillow_version": PIL.__version__,
            "near_limit": NEAR_LIMIT, "files": entries, "accepted": accepted, "runtime": RUNTIME_CASES}


def render(files) -> dict[str, bytes]:
    out = {name: data for name, (data, _, _) in files.items()}
    out["manifest.json"] = (json.dumps(manifest(files), indent=1, sort_keys=True) + "\n").encode()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="testdata/bad", type=Path, help="directory to write (default: %(default)s)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if --out differs from what would be written")
    args = p.parse_args(argv)
    wanted = render(build())
    if args.check:
        have = {f.name: f.read_bytes() for f in args.out.iterdir() if f.is_file()} if args.out.is_dir() else {}
        diff = sorted(n for n in set(wanted) | set(have) if wanted.get(n) != have.get(n))
        for n in diff:
            print(f"differs: {args.out / n}", file=sys.stderr)
        return 1 if diff else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.iterdir():
        if old.is_file() and old.name not in wanted:
            old.unlink()
    for name, data in sorted(wanted.items()):
        (args.out / name).write_bytes(data)
    print(f"wrote {len(wanted) - 1} files and manifest.json to {args.out} ({sum(map(len, wanted.values()))} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
