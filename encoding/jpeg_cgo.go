package encoding

// This is the only cgo in the package: libjpeg-turbo's own decoder, driven the way Pillow's
// JpegDecode.c drives it, so the pixels match Pillow bit for bit (ISLOW IDCT, fancy upsampling,
// libjpeg's YCbCr->RGB). Go's image/jpeg uses a different IDCT and upsampling and is off by
// several levels.

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <jpeglib.h>

enum { FN_OK = 0, FN_ERROR = 1, FN_SUSPENDED = 2, FN_MISMATCH = 3, FN_TOO_MANY_SCANS = 4 };

// A progressive file can repeat empty scans, each costing a pass over the whole coefficient
// buffer: 60 KB of them keep Pillow busy for seconds. libjpeg-turbo recommends a scan limit
// (its TJPARAM_SCANLIMIT fuzzers use 500); real encoders write a few dozen at most.
#define FN_MAX_SCANS 500

struct fn_error {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
};

struct fn_progress {
	struct jpeg_progress_mgr pub;
	struct fn_error *err;
};

static void fn_progress_monitor(j_common_ptr cinfo) {
	j_decompress_ptr d = (j_decompress_ptr)cinfo;
	if (d->input_scan_number > FN_MAX_SCANS) {
		longjmp(((struct fn_progress *)cinfo->progress)->err->jump, 2);
	}
}

// error_exit must not return: jump back to fn_jpeg_decode, which turns it into a Go error
// instead of libjpeg's default exit().
static void fn_error_exit(j_common_ptr cinfo) {
	struct fn_error *e = (struct fn_error *)cinfo->err;
	longjmp(e->jump, 1);
}

// Warnings (corrupt-data recoveries) are ignored, as Pillow ignores them.
static void fn_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void fn_init_source(j_decompress_ptr cinfo) { (void)cinfo; }
static void fn_term_source(j_decompress_ptr cinfo) { (void)cinfo; }

// The whole file is in the buffer, so a request for more data means the file is truncated.
// Returning FALSE suspends the decoder instead of inventing an EOI marker, exactly like
// Pillow's suspending source when ImageFile.load has no more bytes to give it.
static boolean fn_fill_input_buffer(j_decompress_ptr cinfo) {
	(void)cinfo;
	return FALSE;
}

static void fn_skip_input_data(j_decompress_ptr cinfo, long n) {
	struct jpeg_source_mgr *src = cinfo->src;
	if (n <= 0) {
		return;
	}
	if ((size_t)n > src->bytes_in_buffer) {
		src->next_input_byte += src->bytes_in_buffer;
		src->bytes_in_buffer = 0;
	} else {
		src->next_input_byte += n;
		src->bytes_in_buffer -= (size_t)n;
	}
}

// fn_jpeg_decode decodes data into out (height rows of width*components bytes).
// components selects libjpeg's output colour space: 1 gray, 3 RGB, 4 CMYK.
static int fn_jpeg_decode(const unsigned char *data, unsigned long size, int components,
                          unsigned char *out, int width, int height, char *msg) {
	struct jpeg_decompress_struct cinfo;
	struct fn_error jerr;
	struct jpeg_source_mgr src;
	struct fn_progress progress;
	int ok, jumped;

	cinfo.err = jpeg_std_error(&jerr.pub);
	jerr.pub.error_exit = fn_error_exit;
	jerr.pub.output_message = fn_output_message;
	jumped = setjmp(jerr.jump);
	if (jumped) {
		if (jumped == 1) {
			(*cinfo.err->format_message)((j_common_ptr)&cinfo, msg);
		}
		jpeg_destroy_decompress(&cinfo);
		return jumped == 2 ? FN_TOO_MANY_SCANS : FN_ERROR;
	}
	jpeg_create_decompress(&cinfo);
	progress.pub.progress_monitor = fn_progress_monitor;
	progress.err = &jerr;
	cinfo.progress = &progress.pub;

	src.init_source = fn_init_source;
	src.fill_input_buffer = fn_fill_input_buffer;
	src.skip_input_data = fn_skip_input_data;
	src.resync_to_restart = jpeg_resync_to_restart;
	src.term_source = fn_term_source;
	src.next_input_byte = data;
	src.bytes_in_buffer = size;
	cinfo.src = &src;

	do {
		ok = jpeg_read_header(&cinfo, FALSE);
	} while (ok == JPEG_HEADER_TABLES_ONLY);
	if (ok == JPEG_SUSPENDED) {
		jpeg_destroy_decompress(&cinfo);
		return FN_SUSPENDED;
	}

	switch (components) {
	case 1:
		cinfo.out_color_space = JCS_GRAYSCALE;
		break;
	case 3:
		cinfo.out_color_space = JCS_RGB;
		break;
	default:
		cinfo.out_color_space = JCS_CMYK;
		break;
	}

	if (!jpeg_start_decompress(&cinfo)) {
		jpeg_destroy_decompress(&cinfo);
		return FN_SUSPENDED;
	}
	if ((int)cinfo.output_width != width || (int)cinfo.output_height != height ||
	    cinfo.output_components != components) {
		jpeg_destroy_decompress(&cinfo);
		return FN_MISMATCH;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW row = out + (size_t)cinfo.output_scanline * (size_t)width * (size_t)components;
		if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
			jpeg_destroy_decompress(&cinfo);
			return FN_SUSPENDED;
		}
	}
	// Pillow accepts a file whose scanlines are all decoded even if the EOI marker is missing,
	// so a suspension here is not an error; a libjpeg error still jumps to the handler.
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	return FN_OK;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// libjpegDecode decodes a whole JPEG file held in data into dst, which must hold
// width*height*components bytes. components is 1 (gray), 3 (RGB) or 4 (CMYK as stored, i.e.
// Adobe-inverted for Photoshop files).
func libjpegDecode(data []byte, components, width, height int, dst []byte) error {
	if len(data) == 0 || len(dst) != width*height*components {
		return fmt.Errorf("%w: jpeg: bad decode buffer", ErrInvalidImage)
	}
	var msg [C.JMSG_LENGTH_MAX]C.char
	rc := C.fn_jpeg_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(components),
		(*C.uchar)(unsafe.Pointer(&dst[0])), C.int(width), C.int(height), &msg[0])
	switch rc {
	case C.FN_OK:
		return nil
	case C.FN_SUSPENDED:
		return fmt.Errorf("%w: jpeg data ends before the last scanline", ErrTruncated)
	case C.FN_TOO_MANY_SCANS:
		return fmt.Errorf("%w: jpeg has more than %d scans", ErrInvalidImage, C.FN_MAX_SCANS)
	case C.FN_MISMATCH:
		return fmt.Errorf("%w: jpeg: libjpeg's frame differs from the SOF header", ErrInvalidImage)
	default:
		return fmt.Errorf("%w: jpeg: %s", ErrInvalidImage, C.GoString(&msg[0]))
	}
}
