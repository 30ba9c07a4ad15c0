#!/usr/bin/env python
"""Golden data for the libjpeg9 JPEG decoder: what Pillow <= 8.4 (IJG libjpeg 9d) makes of a corpus.

Pillow 8.4 does not install on this Python, so the reference is the library itself: the IJG
libjpeg 9d shared object bundled in the Pillow 8.4.0 wheel (build/libjpeg9/libjpeg.so.9, put there
by `make libjpeg9`), driven here through ctypes the way Pillow's JpegDecode.c drives it: library
defaults (ISLOW IDCT, fancy upsampling, block smoothing), out_color_space RGB for 3-component files,
GRAYSCALE for 1, CMYK for 4. Pillow then turns what libjpeg returns into RGB: gray is replicated and
CMYK is unpacked as "CMYK;I" (Pillow assumes Adobe's inverted CMYK) and converted with cmyk2rgb;
those two steps are done here with Pillow 11, whose conversions are unchanged since 8.4.

The ctypes structures below are written from jpeglib.h of jpeg-9d (JPEG_LIB_VERSION 90) and checked
by the library itself: jpeg_CreateDecompress refuses a struct size other than its own.

The corpus: the notebook's JPEGs (testdata/images), the valid JPEGs of the preprocess corpus
(testdata/preprocess/corpus/j_*.jpg) and files generated here from a fixed seed (odd sizes,
progressive 4:2:0, restart intervals, CMYK, 4:4:0 / 4:1:1 sampling, which Pillow cannot write, made by
libjpeg-turbo's cjpeg from Pillow-written PPMs, and Adobe YCCK, written by the 9d library's own compressor). For each file the manifest records its sha256, size,
component count, the sha256 of the RGB bytes Pillow 8.4 would return, the largest per-channel
difference from Pillow 11 (libjpeg-turbo), and for the notebook images the sha256 of load_img's
160x160 nearest resize of those bytes.

  make golden                                   # regenerate testdata/preprocess/libjpeg9
  golden_libjpeg9.py --lib build/libjpeg9/libjpeg.so.9 --testdata testdata --check
"""

from __future__ import annotations

import argparse
import ctypes as C
import hashlib
import io
import json
import sys
from pathlib import Path

import facenet_scripts
import numpy as np
from PIL import Image

SEED = 20251202
JPEG_LIB_VERSION = 90
JCS_GRAYSCALE, JCS_RGB, JCS_CMYK = 1, 2, 4
JPEG_HEADER_TABLES_ONLY = 2
NOTEBOOK_TARGET = (160, 160)  # the notebook's load_img target_size (width, height for PIL)

c_fn = C.c_void_p  # function pointers the script never calls through the struct


class ErrorMgr(C.Structure):
    _fields_ = [
        ("error_exit", c_fn), ("emit_message", c_fn), ("output_message", c_fn),
        ("format_message", c_fn), ("reset_error_mgr", c_fn),
        ("msg_code", C.c_int), ("msg_parm", C.c_char * 80), ("trace_level", C.c_int),
        ("num_warnings", C.c_long), ("jpeg_message_table", C.c_void_p), ("last_jpeg_message", C.c_int),
        ("addon_message_table", C.c_void_p), ("first_addon_message", C.c_int), ("last_addon_message", C.c_int),
    ]


class DecompressStruct(C.Structure):
    _fields_ = [
        # jpeg_common_fields
        ("err", C.POINTER(ErrorMgr)), ("mem", C.c_void_p), ("progress", C.c_void_p),
        ("client_data", C.c_void_p), ("is_decompressor", C.c_int), ("global_state", C.c_int),
        ("src", C.c_void_p),
        ("image_width", C.c_uint), ("image_height", C.c_uint), ("num_components", C.c_int),
        ("jpeg_color_space", C.c_int),
        ("out_color_space", C.c_int), ("scale_num", C.c_uint), ("scale_denom", C.c_uint),
        ("output_gamma", C.c_double), ("buffered_image", C.c_int), ("raw_data_out", C.c_int),
        ("dct_method", C.c_int), ("do_fancy_upsampling", C.c_int), ("do_block_smoothing", C.c_int),
        ("quantize_colors", C.c_int), ("dither_mode", C.c_int), ("two_pass_quantize", C.c_int),
        ("desired_number_of_colors", C.c_int), ("enable_1pass_quant", C.c_int),
        ("enable_external_quant", C.c_int), ("enable_2pass_quant", C.c_int),
        ("output_width", C.c_uint), ("output_height", C.c_uint), ("out_color_components", C.c_int),
        ("output_components", C.c_int), ("rec_outbuf_height", C.c_int),
        ("actual_number_of_colors", C.c_int), ("colormap", C.c_void_p),
        ("output_scanline", C.c_uint), ("input_scan_number", C.c_int), ("input_iMCU_row", C.c_uint),
        ("output_scan_number", C.c_int), ("output_iMCU_row", C.c_uint), ("coef_bits", C.c_void_p),
        ("quant_tbl_ptrs", C.c_void_p * 4), ("dc_huff_tbl_ptrs", C.c_void_p * 4),
        ("ac_huff_tbl_ptrs", C.c_void_p * 4),
        ("data_precision", C.c_int), ("comp_info", C.c_void_p), ("is_baseline", C.c_int),
        ("progressive_mode", C.c_int), ("arith_code", C.c_int),
        ("arith_dc_L", C.c_uint8 * 16), ("arith_dc_U", C.c_uint8 * 16), ("arith_ac_K", C.c_uint8 * 16),
        ("restart_interval", C.c_uint),
        ("saw_JFIF_marker", C.c_int), ("JFIF_major_version", C.c_uint8), ("JFIF_minor_version", C.c_uint8),
        ("density_unit", C.c_uint8), ("X_density", C.c_uint16), ("Y_density", C.c_uint16),
        ("saw_Adobe_marker", C.c_int), ("Adobe_transform", C.c_uint8), ("color_transform", C.c_int),
        ("CCIR601_sampling", C.c_int), ("marker_list", C.c_void_p),
        ("max_h_samp_factor", C.c_int), ("max_v_samp_factor", C.c_int),
        ("min_DCT_h_scaled_size", C.c_int), ("min_DCT_v_scaled_size", C.c_int),
        ("total_iMCU_rows", C.c_uint), ("sample_range_limit", C.c_void_p),
        ("comps_in_scan", C.c_int), ("cur_comp_info", C.c_void_p * 4), ("MCUs_per_row", C.c_uint),
        ("MCU_rows_in_scan", C.c_uint), ("blocks_in_MCU", C.c_int), ("MCU_membership", C.c_int * 10),
        ("Ss", C.c_int), ("Se", C.c_int), ("Ah", C.c_int), ("Al", C.c_int),
        ("block_size", C.c_int), ("natural_order", C.c_void_p), ("lim_Se", C.c_int),
        ("unread_marker", C.c_int),
        ("master", C.c_void_p), ("main", C.c_void_p), ("coef", C.c_void_p), ("post", C.c_void_p),
        ("inputctl", C.c_void_p), ("marker", C.c_void_p), ("entropy", C.c_void_p), ("idct", C.c_void_p),
        ("upsample", C.c_void_p), ("cconvert", C.c_void_p), ("cquantize", C.c_void_p),
    ]


class CompressStruct(C.Structure):
    """jpeg_compress_struct of jpeg-9d, only to write YCCK files (no Pillow writes them)."""
    _fields_ = [
        ("err", C.POINTER(ErrorMgr)), ("mem", C.c_void_p), ("progress", C.c_void_p),
        ("client_data", C.c_void_p), ("is_decompressor", C.c_int), ("global_state", C.c_int),
        ("dest", C.c_void_p),
        ("image_width", C.c_uint), ("image_height", C.c_uint), ("input_components", C.c_int),
        ("in_color_space", C.c_int), ("input_gamma", C.c_double), ("scale_num", C.c_uint),
        ("scale_denom", C.c_uint), ("jpeg_width", C.c_uint), ("jpeg_height", C.c_uint),
        ("data_precision", C.c_int), ("num_components", C.c_int), ("jpeg_color_space", C.c_int),
        ("comp_info", C.c_void_p), ("quant_tbl_ptrs", C.c_void_p * 4), ("q_scale_factor", C.c_int * 4),
        ("dc_huff_tbl_ptrs", C.c_void_p * 4), ("ac_huff_tbl_ptrs", C.c_void_p * 4),
        ("arith_dc_L", C.c_uint8 * 16), ("arith_dc_U", C.c_uint8 * 16), ("arith_ac_K", C.c_uint8 * 16),
        ("num_scans", C.c_int), ("scan_info", C.c_void_p), ("raw_data_in", C.c_int), ("arith_code", C.c_int),
        ("optimize_coding", C.c_int), ("CCIR601_sampling", C.c_int), ("do_fancy_downsampling", C.c_int),
        ("smoothing_factor", C.c_int), ("dct_method", C.c_int), ("restart_interval", C.c_uint),
        ("restart_in_rows", C.c_int), ("write_JFIF_header", C.c_int), ("JFIF_major_version", C.c_uint8),
        ("JFIF_minor_version", C.c_uint8), ("density_unit", C.c_uint8), ("X_density", C.c_uint16),
        ("Y_density", C.c_uint16), ("write_Adobe_marker", C.c_int), ("color_transform", C.c_int),
        ("next_scanline", C.c_uint), ("progressive_mode", C.c_int), ("max_h_samp_factor", C.c_int),
        ("max_v_samp_factor", C.c_int), ("min_DCT_h_scaled_size", C.c_int), ("min_DCT_v_scaled_size", C.c_int),
        ("total_iMCU_rows", C.c_uint), ("comps_in_scan", C.c_int), ("cur_comp_info", C.c_void_p * 4),
        ("MCUs_per_row", C.c_uint), ("MCU_rows_in_scan", C.c_uint), ("blocks_in_MCU", C.c_int),
        ("MCU_membership", C.c_int * 10), ("Ss", C.c_int), ("Se", C.c_int), ("Ah", C.c_int), ("Al", C.c_int),
        ("block_size", C.c_int), ("natural_order", C.c_void_p), ("lim_Se", C.c_int),
        ("master", C.c_void_p), ("main", C.c_void_p), ("prep", C.c_void_p), ("coef", C.c_void_p),
        ("marker", C.c_void_p), ("cconvert", C.c_void_p), ("downsample", C.c_void_p), ("fdct", C.c_void_p),
        ("entropy", C.c_void_p), ("script_space", C.c_void_p), ("script_space_size", C.c_int),
    ]


JCS_YCCK = 5


class Libjpeg9:
    """The 9d library's decompressor, one call per file."""

    def __init__(self, path: Path):
        self.lib = lib = C.CDLL(str(path))
        lib.jpeg_std_error.restype = C.POINTER(ErrorMgr)
        lib.jpeg_std_error.argtypes = [C.POINTER(ErrorMgr)]
        lib.jpeg_CreateDecompress.argtypes = [C.POINTER(DecompressStruct), C.c_int, C.c_size_t]
        lib.jpeg_mem_src.argtypes = [C.POINTER(DecompressStruct), C.c_void_p, C.c_ulong]
        lib.jpeg_read_header.argtypes = [C.POINTER(DecompressStruct), C.c_int]
        lib.jpeg_start_decompress.argtypes = [C.POINTER(DecompressStruct)]
        lib.jpeg_read_scanlines.argtypes = [C.POINTER(DecompressStruct), C.POINTER(C.c_void_p), C.c_uint]
        lib.jpeg_read_scanlines.restype = C.c_uint
        lib.jpeg_finish_decompress.argtypes = [C.POINTER(DecompressStruct)]
        lib.jpeg_destroy_decompress.argtypes = [C.POINTER(DecompressStruct)]
        cp = C.POINTER(CompressStruct)
        lib.jpeg_CreateCompress.argtypes = [cp, C.c_int, C.c_size_t]
        lib.jpeg_mem_dest.argtypes = [cp, C.POINTER(C.c_void_p), C.POINTER(C.c_ulong)]
        lib.jpeg_set_defaults.argtypes = [cp]
        lib.jpeg_set_colorspace.argtypes = [cp, C.c_int]
        lib.jpeg_set_quality.argtypes = [cp, C.c_int, C.c_int]
        lib.jpeg_simple_progression.argtypes = [cp]
        lib.jpeg_start_compress.argtypes = [cp, C.c_int]
        lib.jpeg_write_scanlines.argtypes = [cp, C.POINTER(C.c_void_p), C.c_uint]
        lib.jpeg_write_scanlines.restype = C.c_uint
        lib.jpeg_finish_compress.argtypes = [cp]
        lib.jpeg_destroy_compress.argtypes = [cp]

    def encode_ycck(self, cmyk: Image.Image, quality: int, progressive: bool = False) -> bytes:
        """A CMYK image written as YCCK (Adobe transform 2) with libjpeg's default sampling (Y and K
        2x2, Cb and Cr 1x1), in Photoshop's inverted polarity as Pillow reads it back ("CMYK;I")."""
        lib = self.lib
        cinfo = CompressStruct()
        jerr = ErrorMgr()
        cinfo.err = lib.jpeg_std_error(C.byref(jerr))
        lib.jpeg_CreateCompress(C.byref(cinfo), JPEG_LIB_VERSION, C.c_size_t(C.sizeof(CompressStruct)))
        out, size = C.c_void_p(), C.c_ulong()
        lib.jpeg_mem_dest(C.byref(cinfo), C.byref(out), C.byref(size))
        cinfo.image_width, cinfo.image_height = cmyk.size
        cinfo.input_components, cinfo.in_color_space = 4, JCS_CMYK
        lib.jpeg_set_defaults(C.byref(cinfo))
        lib.jpeg_set_colorspace(C.byref(cinfo), JCS_YCCK)
        lib.jpeg_set_quality(C.byref(cinfo), quality, 1)
        if progressive:
            lib.jpeg_simple_progression(C.byref(cinfo))
        lib.jpeg_start_compress(C.byref(cinfo), 1)
        raw = bytes(255 - b for b in cmyk.tobytes())  # Adobe stores inverted CMYK
        w = cmyk.size[0] * 4
        row = C.c_void_p()
        buf = C.create_string_buffer(raw, len(raw))
        while cinfo.next_scanline < cinfo.image_height:
            row.value = C.addressof(buf) + cinfo.next_scanline * w
            lib.jpeg_write_scanlines(C.byref(cinfo), C.byref(row), 1)
        lib.jpeg_finish_compress(C.byref(cinfo))
        data = C.string_at(out, size.value)
        lib.jpeg_destroy_compress(C.byref(cinfo))
        C.CDLL(None).free(out)
        return data

    def decode(self, data: bytes) -> tuple[int, int, int, bytes]:
        """(width, height, components, samples) as libjpeg returns them to Pillow. libjpeg's default
        error_exit prints its message and exits, which is the right end for a golden run."""
        lib = self.lib
        cinfo = DecompressStruct()
        jerr = ErrorMgr()
        cinfo.err = lib.jpeg_std_error(C.byref(jerr))
        # The library checks this size against its own struct: the layout above is right or this stops.
        lib.jpeg_CreateDecompress(C.byref(cinfo), JPEG_LIB_VERSION, C.sizeof(DecompressStruct))
        buf = C.create_string_buffer(data, len(data))
        lib.jpeg_mem_src(C.byref(cinfo), buf, len(data))
        while lib.jpeg_read_header(C.byref(cinfo), 1) == JPEG_HEADER_TABLES_ONLY:
            pass
        comps = cinfo.num_components
        cinfo.out_color_space = {1: JCS_GRAYSCALE, 3: JCS_RGB, 4: JCS_CMYK}[comps]
        lib.jpeg_start_decompress(C.byref(cinfo))
        w, h, n = cinfo.output_width, cinfo.output_height, cinfo.output_components
        assert n == comps, (n, comps)
        out = C.create_string_buffer(w * h * n)
        base = C.addressof(out)
        row = C.c_void_p()
        while cinfo.output_scanline < h:
            row.value = base + cinfo.output_scanline * w * n
            if lib.jpeg_read_scanlines(C.byref(cinfo), C.byref(row), 1) != 1:
                raise SystemExit("libjpeg9: read_scanlines returned no row")
        lib.jpeg_finish_decompress(C.byref(cinfo))
        lib.jpeg_destroy_decompress(C.byref(cinfo))
        return w, h, comps, out.raw


def to_rgb(w: int, h: int, comps: int, samples: bytes) -> Image.Image:
    """Pillow's steps after libjpeg: mode L/RGB/CMYK (rawmode CMYK;I), then convert("RGB")."""
    if comps == 1:
        return Image.frombytes("L", (w, h), samples).convert("RGB")
    if comps == 4:
        return Image.frombytes("CMYK", (w, h), samples, "raw", "CMYK;I").convert("RGB")
    return Image.frombytes("RGB", (w, h), samples)


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def pattern(w: int, h: int, seed: int) -> Image.Image:
    """Smooth colour ramps plus noise: chroma that subsampling and upsampling visibly change."""
    rng = np.random.default_rng(SEED + seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 127 // max(w + h - 2, 1)], -1)
    noise = rng.integers(-40, 41, size=(h, w, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")


def pil_jpeg(im: Image.Image, **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, "JPEG", **kw)
    return b.getvalue()


def cjpeg(im: Image.Image, *args: str) -> bytes:
    """libjpeg-turbo's cjpeg for the sampling factors Pillow cannot set."""
    b = io.BytesIO()
    im.save(b, "PPM")
    return facenet_scripts.cjpeg(b.getvalue(), *args)


def generated(lib: Libjpeg9) -> dict[str, bytes]:
    g = {}
    g["g_420_odd_17x9.jpg"] = pil_jpeg(pattern(17, 9, 1), quality=90)
    g["g_420_prog_odd_33x47.jpg"] = pil_jpeg(pattern(33, 47, 2), quality=85, progressive=True)
    g["g_422_prog_restart_75x41.jpg"] = pil_jpeg(pattern(75, 41, 3), quality=88, subsampling=1,
                                                 progressive=True, restart_marker_rows=1)
    g["g_420_restart_blocks_64x48.jpg"] = pil_jpeg(pattern(64, 48, 4), quality=80, restart_marker_blocks=2)
    g["g_444_1x1.jpg"] = pil_jpeg(pattern(1, 1, 5), quality=95, subsampling=0)
    g["g_gray_odd_13x7.jpg"] = pil_jpeg(pattern(13, 7, 6).convert("L"), quality=90)
    g["g_cmyk_prog_41x29.jpg"] = pil_jpeg(pattern(41, 29, 7).convert("CMYK"), quality=90, progressive=True)
    g["g_440_96x96.jpg"] = cjpeg(pattern(96, 96, 8), "-quality", "90", "-sample", "1x2,1x1,1x1")
    g["g_411_96x96.jpg"] = cjpeg(pattern(96, 96, 9), "-quality", "90", "-sample", "4x1,1x1,1x1")
    g["g_440_prog_odd_37x23.jpg"] = cjpeg(pattern(37, 23, 10), "-quality", "85", "-progressive",
                                          "-sample", "1x2,1x1,1x1")
    g["g_411_restart_61x35.jpg"] = cjpeg(pattern(61, 35, 11), "-quality", "85", "-restart", "1",
                                         "-sample", "4x1,1x1,1x1")
    g["g_ycck_adobe_50x38.jpg"] = lib.encode_ycck(pattern(50, 38, 12).convert("CMYK"), 90)
    g["g_ycck_adobe_prog_33x21.jpg"] = lib.encode_ycck(pattern(33, 21, 13).convert("CMYK"), 85, progressive=True)
    return g


def build(lib: Libjpeg9, testdata: Path, out: Path) -> tuple[dict, dict[str, bytes]]:
    corpus: list[tuple[str, bytes, bool]] = []  # (path relative to testdata, bytes, notebook?)
    for p in sorted((testdata / "images").glob("*.jpg")):
        corpus.append((f"images/{p.name}", p.read_bytes(), True))
    for p in sorted((testdata / "preprocess" / "corpus").glob("j_*.jpg")):
        corpus.append((f"preprocess/corpus/{p.name}", p.read_bytes(), False))
    gen = generated(lib)
    rel_out = out.relative_to(testdata) if out.is_relative_to(testdata) else out
    for name, data in gen.items():
        corpus.append((f"{rel_out.as_posix()}/corpus/{name}", data, False))
    images = []
    for rel, data, notebook in corpus:
        w, h, comps, samples = lib.decode(data)
        rgb = to_rgb(w, h, comps, samples)
        turbo = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)
        diff = int(np.abs(np.asarray(rgb, dtype=np.int16) - turbo).max())
        entry = {
            "file": rel, "file_sha256": sha(data), "width": w, "height": h, "components": comps,
            "rgb_sha256": sha(rgb.tobytes()), "max_diff_vs_libjpeg_turbo": diff,
        }
        if notebook:
            resized = rgb.resize(NOTEBOOK_TARGET, Image.NEAREST)
            entry["nearest_160x160_sha256"] = sha(resized.tobytes())
        images.append(entry)
    manifest = {
        "decoder": "IJG libjpeg 9d (Pillow 8.4.0 wheel, Pillow.libs/libjpeg-183418da.so.9.4.0)",
        "library_sha256": sha(Path(lib.lib._name).read_bytes()),
        "images": images,
    }
    return manifest, gen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", type=Path, default=Path("build/libjpeg9/libjpeg.so.9"),
                    help="the libjpeg 9d shared object (make libjpeg9)")
    ap.add_argument("--testdata", type=Path, default=Path("testdata"), help="the repository's testdata folder")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default TESTDATA/preprocess/libjpeg9)")
    ap.add_argument("--check", action="store_true", help="regenerate in memory; fail if anything differs from disk")
    args = ap.parse_args(argv)
    out = (args.out or args.testdata / "preprocess" / "libjpeg9").resolve()
    testdata = args.testdata.resolve()
    if not args.lib.is_file():
        raise SystemExit(f"libjpeg9: {args.lib}: not found (run make libjpeg9)")
    manifest, gen = build(Libjpeg9(args.lib), testdata, out)
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    if args.check:
        bad = [n for n, d in gen.items() if not (out / "corpus" / n).is_file() or (out / "corpus" / n).read_bytes() != d]
        if (out / "manifest.json").read_text() != text:
            bad.append("manifest.json")
        if bad:
            print("differs from disk: " + ", ".join(bad), file=sys.stderr)
            return 1
        print(f"{len(manifest['images'])} images: up to date")
        return 0
    (out / "corpus").mkdir(parents=True, exist_ok=True)
    for name, data in gen.items():
        (out / "corpus" / name).write_bytes(data)
    (out / "manifest.json").write_text(text)
    worst = max(manifest["images"], key=lambda e: e["max_diff_vs_libjpeg_turbo"])
    print(f"{len(manifest['images'])} images -> {out}; largest libjpeg9 vs libjpeg-turbo difference "
          f"{worst['max_diff_vs_libjpeg_turbo']} ({worst['file']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
