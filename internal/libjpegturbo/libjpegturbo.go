// Package libjpegturbo decodes JPEG files with the libjpeg-turbo that Pillow 11.0.0's wheel bundles
// (pillow.libs/libjpeg-45e70d75.so.62.4.0, "libjpeg-turbo version 3.0.4"): the very library behind
// PIL.Image.open in the virtualenv, so the pixels are Pillow's by construction. Debian's
// libjpeg62-turbo is 2.1.5, which decodes baseline and progressive files identically but refuses
// lossless JPEG (SOF3, "Unsupported JPEG process"), which 3.0 decodes.
//
// The library is not linked: `make pillow-libs` (mk/pillowlibs.mk) copies it, hash-checked, into
// build/pillow-libs/, and this package dlopens it on first use after checking the hash again
// (internal/pillowlibs). It compiles against Debian's libjpeg62-turbo-dev jpeglib.h: 3.0.4 keeps
// the libjpeg 6.2 ABI (JPEG_LIB_VERSION 62, the same jpeg_decompress_struct), and
// jpeg_CreateDecompress checks the struct size and version this header declares, so a mismatch
// fails loudly instead of corrupting memory.
//
// The decoder is driven like Pillow's JpegDecode.c: library defaults (ISLOW IDCT, fancy
// upsampling, libjpeg's YCbCr->RGB), a suspending source over the whole file, error_exit through
// longjmp, warnings ignored; plus a scan limit (MaxScans). Rows can be converted to RGB as they
// are decoded (gray replicated, Adobe-inverted CMYK through Pillow's cmyk2rgb) and rows nobody
// needs dropped, so a caller that resizes never holds the full CMYK or full-size image; a
// multi-scan file then keeps in full only the DCT coefficients of the block rows those rows read
// (the sparse arrays below: written here, not taken from a library, because they must give
// exactly libjpeg's coefficients for the rows kept).
package libjpegturbo

/*
#cgo LDFLAGS: -ldl
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <dlfcn.h>
#include <stdint.h>
#include <jpeglib.h>

enum { FNT_OK = 0, FNT_ERROR = 1, FNT_SUSPENDED = 2, FNT_MISMATCH = 3, FNT_TOO_MANY_SCANS = 4 };
// A progressive file can repeat empty scans, each costing a pass over the whole coefficient
// buffer: 60 KB of them keep Pillow busy for seconds. libjpeg-turbo recommends a scan limit
// (its TJPARAM_SCANLIMIT fuzzers use 500); real encoders write a few dozen at most.
#define FNT_MAX_SCANS 500
#define FNT_MSG_MAX JMSG_LENGTH_MAX

// The library's entry points, found with dlsym: nothing here links against a libjpeg.
static struct jpeg_error_mgr *(*fnt_std_error)(struct jpeg_error_mgr *);
static void (*fnt_create_decompress)(j_decompress_ptr, int, size_t);
static void (*fnt_destroy_decompress)(j_decompress_ptr);
static int (*fnt_read_header)(j_decompress_ptr, boolean);
static boolean (*fnt_start_decompress)(j_decompress_ptr);
static JDIMENSION (*fnt_read_scanlines)(j_decompress_ptr, JSAMPARRAY, JDIMENSION);
static boolean (*fnt_finish_decompress)(j_decompress_ptr);
static boolean (*fnt_resync_to_restart)(j_decompress_ptr, int);

// fnt_load dlopens path and resolves every symbol; on failure msg (FNT_MSG_MAX bytes) says why.
static int fnt_load(const char *path, char *msg) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(msg, FNT_MSG_MAX, "%s", dlerror());
		return 0;
	}
#define FNT_SYM(var, name) \
	if ((*(void **)&var = dlsym(h, name)) == NULL) { \
		snprintf(msg, FNT_MSG_MAX, "no symbol %s", name); \
		dlclose(h); \
		return 0; \
	}
	FNT_SYM(fnt_std_error, "jpeg_std_error");
	FNT_SYM(fnt_create_decompress, "jpeg_CreateDecompress");
	FNT_SYM(fnt_destroy_decompress, "jpeg_destroy_decompress");
	FNT_SYM(fnt_read_header, "jpeg_read_header");
	FNT_SYM(fnt_start_decompress, "jpeg_start_decompress");
	FNT_SYM(fnt_read_scanlines, "jpeg_read_scanlines");
	FNT_SYM(fnt_finish_decompress, "jpeg_finish_decompress");
	FNT_SYM(fnt_resync_to_restart, "jpeg_resync_to_restart");
#undef FNT_SYM
	return 1;
}

struct fnt_error {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
};

struct fnt_progress {
	struct jpeg_progress_mgr pub;
	struct fnt_error *err;
};

static void fnt_progress_monitor(j_common_ptr cinfo) {
	j_decompress_ptr d = (j_decompress_ptr)cinfo;
	if (d->input_scan_number > FNT_MAX_SCANS) {
		longjmp(((struct fnt_progress *)cinfo->progress)->err->jump, 2);
	}
}

// error_exit must not return (libjpeg's own calls exit()): jump back into fnt_decode.
static void fnt_error_exit(j_common_ptr cinfo) {
	longjmp(((struct fnt_error *)cinfo->err)->jump, 1);
}

// Warnings (corrupt-data recoveries) are ignored, as Pillow ignores them.
static void fnt_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void fnt_init_source(j_decompress_ptr cinfo) { (void)cinfo; }
static void fnt_term_source(j_decompress_ptr cinfo) { (void)cinfo; }

// The whole file is in the buffer, so a request for more data means the file is truncated.
// Returning FALSE suspends the decoder instead of inventing an EOI marker, exactly like
// Pillow's suspending source when ImageFile.load has no more bytes to give it.
static boolean fnt_fill_input_buffer(j_decompress_ptr cinfo) {
	(void)cinfo;
	return FALSE;
}

static void fnt_skip_input_data(j_decompress_ptr cinfo, long n) {
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

// fnt_to_rgb converts one decoded row of n pixels to RGB the way Pillow's convert("RGB") does
// after its JPEG decoder: gray is replicated; CMYK arrives Adobe-inverted ("CMYK;I"), is inverted
// back and goes through Convert.c's cmyk2rgb, out = clip(nk - MULDIV255(c, nk)) with nk = 255 - k.
static void fnt_to_rgb(const JSAMPLE *in, unsigned char *out, int n, int components) {
	int i, c;
	if (components == 1) {
		for (i = 0; i < n; i++) {
			out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = in[i];
		}
		return;
	}
	for (i = 0; i < n; i++) {
		int nk = in[4 * i + 3];
		for (c = 0; c < 3; c++) {
			int v = 255 - in[4 * i + c];
			int t = v * nk + 128;
			int r = nk - (((t >> 8) + t) >> 8);
			out[3 * i + c] = (unsigned char)(r < 0 ? 0 : r > 255 ? 255 : r);
		}
	}
}

// Sparse coefficient arrays. A multi-scan (progressive) file makes libjpeg keep every DCT
// coefficient of the image until the last scan: 128 bytes per 8x8 block and component, 1.3 GB
// for a 13000x13000 CMYK file, though a caller resizing to 160x160 with NEAREST keeps 160 of its
// rows. The memory manager's virtual block arrays are the library's own hook for where those
// coefficients live (jpeg_memory_mgr's request/realize/access_virt_barray, meant for backing
// store), so here they are replaced: block rows that feed a kept output row (with the rows the
// upsampler reads around it) hold their coefficients in full; every other block row holds, per
// block, its exact DC value and a 64-bit mask of which coefficients are nonzero. That is all
// the decoder ever needs from a block it will not output: the Huffman and arithmetic decoders
// read a coefficient back only to ask whether it is zero (progressive refinement, jdphuff.c
// decode_mcu_AC_refine, jdarith.c), DC refinement adds bits to the exact DC, and block smoothing
// (jdcoefct.c decompress_smooth_data) reads the DC values of the 5x5 neighbouring blocks and the
// block itself. A block row is rebuilt into a scratch row when the decoder asks for it and packed
// again at its next request, so the kept rows decode to the same coefficients, and the same
// pixels, as with the whole buffer (TestSparseRows compares every row kept against a full
// decode). The memory becomes the kept rows' blocks plus 10 bytes per block.
typedef struct fnt_barray {
	struct fnt_barray *next;
	JDIMENSION width, rows, maxaccess;
	int comp;
	JBLOCKROW *full;    // per block row: its coefficients, or NULL for a packed row
	uint64_t *mask;     // rows*width: bit k set when coefficient k (natural order) is nonzero
	JCOEF *dc;          // rows*width: the exact DC coefficient
	JBLOCKROW *view;    // what the last access returned
	JBLOCKROW scratch;  // maxaccess rows of width blocks, for packed rows while accessed
	JDIMENSION vstart, vn;
	boolean vwritable;
} fnt_barray;

struct fnt_sparse {
	jvirt_barray_ptr (*request)(j_common_ptr, int, boolean, JDIMENSION, JDIMENSION, JDIMENSION);
	void (*realize)(j_common_ptr);
	fnt_barray *head, **tail;
	int count;
	const int *rows; // per output row: >= 0 when the caller keeps it
	int height;
	long long full_blocks, packed_blocks;
};

static void fnt_bad_access(j_common_ptr c) {
	longjmp(((struct fnt_error *)c->err)->jump, 3);
}

static jvirt_barray_ptr fnt_request_barray(j_common_ptr c, int pool, boolean pre_zero,
                                           JDIMENSION width, JDIMENSION rows, JDIMENSION maxaccess) {
	struct fnt_sparse *sp = (struct fnt_sparse *)c->client_data;
	fnt_barray *a;
	if (pool != JPOOL_IMAGE) {
		return sp->request(c, pool, pre_zero, width, rows, maxaccess); // the library refuses it
	}
	a = (fnt_barray *)(*c->mem->alloc_small)(c, JPOOL_IMAGE, sizeof *a);
	memset(a, 0, sizeof *a);
	a->width = width;
	a->rows = rows;
	a->maxaccess = maxaccess;
	// jinit_d_coef_controller requests one array per component, in component order.
	a->comp = sp->count++;
	*sp->tail = a;
	sp->tail = &a->next;
	return (jvirt_barray_ptr)a;
}

// fnt_realize allocates the arrays once the frame is known (jpeg_start_decompress), every block
// zero as pre_zero asks: the full rows, and for packed rows the masks, DC values and scratch.
static void fnt_realize(j_common_ptr c) {
	struct fnt_sparse *sp = (struct fnt_sparse *)c->client_data;
	j_decompress_ptr d = (j_decompress_ptr)c;
	fnt_barray *a;
	sp->realize(c);
	for (a = sp->head; a != NULL; a = a->next) {
		jpeg_component_info *cp;
		char *keep;
		JDIMENSION r, packed = 0;
		size_t rowbytes = (size_t)a->width * sizeof(JBLOCK);
		int y, keep_all;
		if (a->full != NULL) {
			continue;
		}
		// Anything but the layout jdcoefct.c makes keeps every row: the plain buffer, exactly.
		keep_all = sp->count != d->num_components || a->comp >= d->num_components;
		cp = keep_all ? NULL : &d->comp_info[a->comp];
		if (cp != NULL && (cp->v_samp_factor <= 0 || d->max_v_samp_factor <= 0 || cp->DCT_scaled_size <= 0 ||
		                   a->rows < cp->height_in_blocks || a->width < cp->width_in_blocks)) {
			keep_all = 1;
		}
		a->full = (JBLOCKROW *)(*c->mem->alloc_large)(c, JPOOL_IMAGE, (size_t)a->rows * sizeof(JBLOCKROW));
		a->view = (JBLOCKROW *)(*c->mem->alloc_small)(c, JPOOL_IMAGE, (size_t)a->maxaccess * sizeof(JBLOCKROW));
		keep = (char *)(*c->mem->alloc_large)(c, JPOOL_IMAGE, a->rows);
		memset(keep, keep_all, a->rows);
		if (!keep_all) {
			// Output row y reads the component's sample row s = y*v/vmax and, through fancy
			// upsampling, the sample rows either side of it.
			for (y = 0; y < sp->height; y++) {
				long s, lo, hi, b;
				if (sp->rows[y] < 0) {
					continue;
				}
				s = (long)y * cp->v_samp_factor / d->max_v_samp_factor;
				lo = (s > 0 ? s - 1 : 0) / cp->DCT_scaled_size;
				hi = (s + 1) / cp->DCT_scaled_size;
				for (b = lo; b <= hi && b < (long)a->rows; b++) {
					keep[b] = 1;
				}
			}
		}
		for (r = 0; r < a->rows; r++) {
			if (keep[r]) {
				a->full[r] = (JBLOCKROW)(*c->mem->alloc_large)(c, JPOOL_IMAGE, rowbytes);
				memset(a->full[r], 0, rowbytes);
			} else {
				a->full[r] = NULL;
				packed++;
			}
		}
		sp->full_blocks += (long long)(a->rows - packed) * a->width;
		sp->packed_blocks += (long long)packed * a->width;
		if (packed > 0) {
			size_t n = (size_t)a->rows * a->width;
			a->mask = (uint64_t *)(*c->mem->alloc_large)(c, JPOOL_IMAGE, n * sizeof(uint64_t));
			a->dc = (JCOEF *)(*c->mem->alloc_large)(c, JPOOL_IMAGE, n * sizeof(JCOEF));
			a->scratch = (JBLOCKROW)(*c->mem->alloc_large)(c, JPOOL_IMAGE, (size_t)a->maxaccess * rowbytes);
			memset(a->mask, 0, n * sizeof(uint64_t));
			memset(a->dc, 0, n * sizeof(JCOEF));
			memset(a->scratch, 0, (size_t)a->maxaccess * rowbytes);
		}
	}
}

// fnt_pack stores the packed rows of the last access back, if the decoder could write them.
static void fnt_pack(fnt_barray *a) {
	JDIMENSION i, b;
	int j, k;
	if (!a->vwritable) {
		return;
	}
	for (i = 0; i < a->vn; i++) {
		JDIMENSION r = a->vstart + i;
		if (a->full[r] != NULL) {
			continue;
		}
		for (b = 0; b < a->width; b++) {
			const JCOEF *blk = a->view[i][b];
			uint64_t m = 0;
			// Most coefficients are zero: test four at a time.
			for (j = 0; j < DCTSIZE2; j += 4) {
				uint64_t four;
				memcpy(&four, blk + j, sizeof four);
				if (four != 0) {
					for (k = j; k < j + 4; k++) {
						m |= (uint64_t)(blk[k] != 0) << k;
					}
				}
			}
			a->mask[(size_t)r * a->width + b] = m;
			a->dc[(size_t)r * a->width + b] = blk[0];
		}
	}
	a->vwritable = FALSE;
}

static JBLOCKARRAY fnt_access_barray(j_common_ptr c, jvirt_barray_ptr p, JDIMENSION start,
                                     JDIMENSION n, boolean writable) {
	fnt_barray *a = (fnt_barray *)p;
	JDIMENSION i, b;
	if (a->full == NULL || n > a->maxaccess || start > a->rows || n > a->rows - start) {
		fnt_bad_access(c);
	}
	fnt_pack(a);
	for (i = 0; i < n; i++) {
		JDIMENSION r = start + i;
		JBLOCKROW row;
		if (a->full[r] != NULL) {
			a->view[i] = a->full[r];
			continue;
		}
		row = a->scratch + (size_t)i * a->width;
		for (b = 0; b < a->width; b++) {
			JCOEF *blk = row[b];
			size_t at = (size_t)r * a->width + b;
			// Read only (the output pass): the IDCT of this row is dropped, and smoothing
			// reads its DC. Writable (a scan): the decoder asks which coefficients are zero.
			if (writable) {
				uint64_t m = a->mask[at];
				memset(blk, 0, sizeof(JBLOCK));
				for (; m != 0; m &= m - 1) {
					blk[__builtin_ctzll(m)] = 1;
				}
			}
			blk[0] = a->dc[at];
		}
		a->view[i] = row;
	}
	a->vstart = start;
	a->vn = n;
	a->vwritable = writable;
	return a->view;
}

// fnt_use_sparse installs the sparse arrays on cinfo for a decode that keeps only rows.
static void fnt_use_sparse(j_decompress_ptr cinfo, struct fnt_sparse *sp, const int *rows, int height) {
	memset(sp, 0, sizeof *sp);
	sp->request = cinfo->mem->request_virt_barray;
	sp->realize = cinfo->mem->realize_virt_arrays;
	sp->tail = &sp->head;
	sp->rows = rows;
	sp->height = height;
	cinfo->client_data = sp;
	cinfo->mem->request_virt_barray = fnt_request_barray;
	cinfo->mem->realize_virt_arrays = fnt_realize;
	cinfo->mem->access_virt_barray = fnt_access_barray;
}

// fnt_decode decodes data. components picks libjpeg's output colour space (1 gray, 3 RGB,
// 4 CMYK). With rgb 0, out holds rows of width*components bytes as decoded; with rgb 1, rows of
// width*3 bytes converted by fnt_to_rgb. rows, when not NULL, holds for each source row the row of
// out it goes to, or -1 to drop it; NULL keeps every row in order.
static int fnt_decode(const unsigned char *data, unsigned long size, int components,
                      unsigned char *out, int width, int height, const int *rows, int rgb,
                      long long *blocks, char *msg) {
	struct jpeg_decompress_struct cinfo;
	struct fnt_error jerr;
	struct jpeg_source_mgr src;
	struct fnt_progress progress;
	struct fnt_sparse sparse;
	JSAMPARRAY scratch = NULL;
	int ok, jumped;
	size_t stride = (size_t)width * (size_t)(rgb ? 3 : components);

	memset(&cinfo, 0, sizeof cinfo);
	cinfo.err = fnt_std_error(&jerr.pub);
	jerr.pub.error_exit = fnt_error_exit;
	jerr.pub.output_message = fnt_output_message;
	jumped = setjmp(jerr.jump);
	if (jumped) {
		if (jumped == 1) {
			(*cinfo.err->format_message)((j_common_ptr)&cinfo, msg);
		} else if (jumped == 3) {
			snprintf(msg, FNT_MSG_MAX, "Bogus virtual array access");
			jumped = 1;
		}
		fnt_destroy_decompress(&cinfo);
		return jumped == 2 ? FNT_TOO_MANY_SCANS : FNT_ERROR;
	}
	// jpeg_create_decompress's expansion: the library rejects a struct size or version it was not
	// built with ("JPEG parameter struct mismatch"), the check that this header fits it.
	fnt_create_decompress(&cinfo, JPEG_LIB_VERSION, sizeof(struct jpeg_decompress_struct));
	progress.pub.progress_monitor = fnt_progress_monitor;
	progress.err = &jerr;
	cinfo.progress = &progress.pub;
	if (rows != NULL) {
		fnt_use_sparse(&cinfo, &sparse, rows, height);
	}

	src.init_source = fnt_init_source;
	src.fill_input_buffer = fnt_fill_input_buffer;
	src.skip_input_data = fnt_skip_input_data;
	src.resync_to_restart = fnt_resync_to_restart;
	src.term_source = fnt_term_source;
	src.next_input_byte = data;
	src.bytes_in_buffer = size;
	cinfo.src = &src;

	do {
		ok = fnt_read_header(&cinfo, FALSE);
	} while (ok == JPEG_HEADER_TABLES_ONLY);
	if (ok == JPEG_SUSPENDED) {
		fnt_destroy_decompress(&cinfo);
		return FNT_SUSPENDED;
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

	if (!fnt_start_decompress(&cinfo)) {
		fnt_destroy_decompress(&cinfo);
		return FNT_SUSPENDED;
	}
	if ((int)cinfo.output_width != width || (int)cinfo.output_height != height ||
	    cinfo.output_components != components) {
		fnt_destroy_decompress(&cinfo);
		return FNT_MISMATCH;
	}
	// One row from the library's own pool (freed by jpeg_destroy_decompress, longjmp or not) for
	// rows that are converted or dropped.
	if (rows != NULL || (rgb && components != 3)) {
		scratch = (*cinfo.mem->alloc_sarray)((j_common_ptr)&cinfo, JPOOL_IMAGE,
		                                     (JDIMENSION)width * (JDIMENSION)components, 1);
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		int y = (int)cinfo.output_scanline;
		int dst = rows != NULL ? rows[y] : y;
		JSAMPROW row;
		if (dst >= 0 && (!rgb || components == 3)) {
			row = out + (size_t)dst * stride;
		} else {
			row = scratch[0];
		}
		if (fnt_read_scanlines(&cinfo, &row, 1) != 1) {
			fnt_destroy_decompress(&cinfo);
			return FNT_SUSPENDED;
		}
		if (dst >= 0 && rgb && components != 3) {
			fnt_to_rgb(row, out + (size_t)dst * stride, width, components);
		}
	}
	// Pillow accepts a file whose scanlines are all decoded even if the EOI marker is missing,
	// so a suspension here is not an error; a libjpeg error still jumps to the handler.
	fnt_finish_decompress(&cinfo);
	fnt_destroy_decompress(&cinfo);
	if (rows != NULL) {
		blocks[0] = sparse.full_blocks;
		blocks[1] = sparse.packed_blocks;
	}
	return FNT_OK;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/facenet-go/facenet/internal/pillowlibs"
)

// MaxScans is the most scans a progressive file may have.
const MaxScans = C.FNT_MAX_SCANS

// Errors Decode returns; callers map them to their own sentinels.
var (
	// ErrUnavailable: the library file is missing, altered or cannot be loaded.
	ErrUnavailable = pillowlibs.ErrUnavailable
	// ErrSuspended: the data ends before the last scanline.
	ErrSuspended = errors.New("jpeg data ends before the last scanline")
	// ErrTooManyScans: a progressive file has more than MaxScans scans.
	ErrTooManyScans = fmt.Errorf("jpeg has more than %d scans", MaxScans)
	// ErrMismatch: libjpeg's frame differs from the size or component count the caller expected.
	ErrMismatch = errors.New("libjpeg's frame differs from the SOF header")
	// ErrCorrupt: libjpeg raised an error; the error's text is libjpeg's message alone.
	ErrCorrupt = errors.New("libjpeg-turbo error")
)

var (
	loadOnce sync.Once
	loadErr  error
	// lastBlocks is the full and packed coefficient blocks of the latest decode that kept only
	// some rows (tests).
	lastBlocks atomic.Pointer[[2]int64]
)

// Load checks and loads the library once; later calls return the first result.
func Load() error {
	loadOnce.Do(func() {
		path, err := pillowlibs.Path(pillowlibs.Libjpeg)
		if err != nil {
			loadErr = pillowlibs.Unavailable("libjpeg-turbo decoder: " + err.Error())
			return
		}
		cpath := C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
		var msg [C.FNT_MSG_MAX]C.char
		if C.fnt_load(cpath, &msg[0]) == 0 {
			loadErr = pillowlibs.Unavailable("libjpeg-turbo decoder: " + path + ": " + C.GoString(&msg[0]))
		}
	})
	return loadErr
}

// Decode decodes the whole JPEG file in data into dst, which must hold width*height*components
// bytes. components is 1 (gray), 3 (RGB) or 4 (CMYK as stored, i.e. Adobe-inverted for Photoshop
// files).
func Decode(data []byte, components, width, height int, dst []byte) error {
	if width <= 0 || height <= 0 || len(dst) != width*height*components {
		return fmt.Errorf("%w: bad decode buffer", ErrMismatch)
	}
	return decode(data, components, width, height, nil, false, dst)
}

// DecodeRGB decodes data as Decode does but writes RGB (3 bytes a pixel, converted row by row as
// Pillow's convert("RGB") does), and only the rows rows asks for: rows[y] is the row of dst that
// source row y goes to, or -1 to drop it (nil keeps every row in order). dst must hold
// width*3 bytes for every row it receives.
func DecodeRGB(data []byte, components, width, height int, rows []int32, dst []byte) error {
	if width <= 0 || height <= 0 || (rows != nil && len(rows) != height) {
		return fmt.Errorf("%w: bad decode buffer", ErrMismatch)
	}
	n := height
	if rows != nil {
		n = 0
		for _, r := range rows {
			n = max(n, int(r)+1)
		}
	}
	if len(dst) < 3*width*n || n == 0 {
		return fmt.Errorf("%w: bad decode buffer", ErrMismatch)
	}
	return decode(data, components, width, height, rows, true, dst)
}

func decode(data []byte, components, width, height int, rows []int32, rgb bool, dst []byte) error {
	if err := Load(); err != nil {
		return err
	}
	if len(data) == 0 || (components != 1 && components != 3 && components != 4) {
		return fmt.Errorf("%w: bad decode buffer", ErrMismatch)
	}
	var crows *C.int
	if rows != nil {
		crows = (*C.int)(unsafe.Pointer(&rows[0]))
	}
	var msg [C.FNT_MSG_MAX]C.char
	var blocks [2]C.longlong
	rc := C.fnt_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(components),
		(*C.uchar)(unsafe.Pointer(&dst[0])), C.int(width), C.int(height), crows, C.int(b2i(rgb)),
		&blocks[0], &msg[0])
	if rows != nil {
		lastBlocks.Store(&[2]int64{int64(blocks[0]), int64(blocks[1])})
	}
	switch rc {
	case C.FNT_OK:
		return nil
	case C.FNT_SUSPENDED:
		return ErrSuspended
	case C.FNT_TOO_MANY_SCANS:
		return ErrTooManyScans
	case C.FNT_MISMATCH:
		return ErrMismatch
	default:
		return corruptError(C.GoString(&msg[0]))
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// corruptError is ErrCorrupt whose text is libjpeg's message ("Unsupported JPEG process: SOF
// type 0xc3"), as Pillow's OSError carries it.
type corruptError string

func (e corruptError) Error() string        { return string(e) }
func (e corruptError) Is(target error) bool { return target == ErrCorrupt }
