// Package libjpeg9 decodes JPEG files with IJG libjpeg 9d, the library Pillow <= 8.4 wheels bundle
// (Pillow.libs/libjpeg-183418da.so.9.4.0) and so the one the Keras notebook decoded with. Since
// libjpeg 7, IJG makes subsampled chroma full size with a scaled IDCT, where libjpeg-turbo keeps
// libjpeg 6b's triangle upsampling: on 4:2:0 files the two differ by tens of levels, so matching the
// notebook's printed numbers needs this library, not a reimplementation.
//
// The library is not linked: `make libjpeg9` (mk/libjpeg9.mk) puts the wheel's .so, hash-checked, at
// build/libjpeg9/libjpeg.so.9, and this package dlopens it on first use, so programs built with it
// start and decode with libjpeg-turbo whether or not the file is there. It compiles against jpeg-9d's
// own jpeglib.h (from a PyPI sdist, also fetched by make): libjpeg 9's jpeg_decompress_struct differs
// from the 6b/8 layout libjpeg-turbo's header declares, and jpeg_CreateDecompress checks the size
// and JPEG_LIB_VERSION (90) the caller was compiled with, so a wrong header fails loudly.
//
// The decoder is driven exactly like encoding's libjpeg-turbo path, i.e. like Pillow's JpegDecode.c:
// library defaults (ISLOW IDCT, fancy upsampling), a suspending source over the whole file, at most
// MaxScans scans, error_exit through longjmp, warnings ignored.
package libjpeg9

/*
#cgo CFLAGS: -I${SRCDIR}/../../build/libjpeg9/include
#cgo LDFLAGS: -ldl
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <dlfcn.h>
#include <libjpeg9/jpeglib.h>

enum { FN9_OK = 0, FN9_ERROR = 1, FN9_SUSPENDED = 2, FN9_MISMATCH = 3, FN9_TOO_MANY_SCANS = 4 };
#define FN9_MAX_SCANS 500
#define FN9_MSG_MAX JMSG_LENGTH_MAX

// The library's entry points, found with dlsym: nothing here links against libjpeg 9.
static struct jpeg_error_mgr *(*fn9_std_error)(struct jpeg_error_mgr *);
static void (*fn9_create_decompress)(j_decompress_ptr, int, size_t);
static void (*fn9_destroy_decompress)(j_decompress_ptr);
static int (*fn9_read_header)(j_decompress_ptr, boolean);
static boolean (*fn9_start_decompress)(j_decompress_ptr);
static JDIMENSION (*fn9_read_scanlines)(j_decompress_ptr, JSAMPARRAY, JDIMENSION);
static boolean (*fn9_finish_decompress)(j_decompress_ptr);
static boolean (*fn9_resync_to_restart)(j_decompress_ptr, int);

// fn9_load dlopens path and resolves every symbol; on failure msg (FN9_MSG_MAX bytes) says why.
static int fn9_load(const char *path, char *msg) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(msg, FN9_MSG_MAX, "%s", dlerror());
		return 0;
	}
#define FN9_SYM(var, name) \
	if ((*(void **)&var = dlsym(h, name)) == NULL) { \
		snprintf(msg, FN9_MSG_MAX, "no symbol %s", name); \
		dlclose(h); \
		return 0; \
	}
	FN9_SYM(fn9_std_error, "jpeg_std_error");
	FN9_SYM(fn9_create_decompress, "jpeg_CreateDecompress");
	FN9_SYM(fn9_destroy_decompress, "jpeg_destroy_decompress");
	FN9_SYM(fn9_read_header, "jpeg_read_header");
	FN9_SYM(fn9_start_decompress, "jpeg_start_decompress");
	FN9_SYM(fn9_read_scanlines, "jpeg_read_scanlines");
	FN9_SYM(fn9_finish_decompress, "jpeg_finish_decompress");
	FN9_SYM(fn9_resync_to_restart, "jpeg_resync_to_restart");
#undef FN9_SYM
	return 1;
}

struct fn9_error {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
};

struct fn9_progress {
	struct jpeg_progress_mgr pub;
	struct fn9_error *err;
};

// A progressive file can repeat empty scans, each a pass over the coefficients: stop at the same
// limit as the libjpeg-turbo path.
static void fn9_progress_monitor(j_common_ptr cinfo) {
	j_decompress_ptr d = (j_decompress_ptr)cinfo;
	if (d->input_scan_number > FN9_MAX_SCANS) {
		longjmp(((struct fn9_progress *)cinfo->progress)->err->jump, 2);
	}
}

// error_exit must not return (libjpeg's own calls exit()): jump back into fn9_decode.
static void fn9_error_exit(j_common_ptr cinfo) {
	longjmp(((struct fn9_error *)cinfo->err)->jump, 1);
}

// Warnings (corrupt-data recoveries) are ignored, as Pillow ignores them.
static void fn9_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void fn9_init_source(j_decompress_ptr cinfo) { (void)cinfo; }
static void fn9_term_source(j_decompress_ptr cinfo) { (void)cinfo; }

// The whole file is in the buffer: asking for more suspends, like Pillow's source at end of file.
static boolean fn9_fill_input_buffer(j_decompress_ptr cinfo) {
	(void)cinfo;
	return FALSE;
}

static void fn9_skip_input_data(j_decompress_ptr cinfo, long n) {
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

// fn9_decode decodes data into out (height rows of width*components bytes); components picks the
// output colour space: 1 gray, 3 RGB, 4 CMYK.
static int fn9_decode(const unsigned char *data, unsigned long size, int components,
                      unsigned char *out, int width, int height, char *msg) {
	struct jpeg_decompress_struct cinfo;
	struct fn9_error jerr;
	struct jpeg_source_mgr src;
	struct fn9_progress progress;
	int ok, jumped;

	memset(&cinfo, 0, sizeof cinfo);
	cinfo.err = fn9_std_error(&jerr.pub);
	jerr.pub.error_exit = fn9_error_exit;
	jerr.pub.output_message = fn9_output_message;
	jumped = setjmp(jerr.jump);
	if (jumped) {
		if (jumped == 1) {
			(*cinfo.err->format_message)((j_common_ptr)&cinfo, msg);
		}
		fn9_destroy_decompress(&cinfo);
		return jumped == 2 ? FN9_TOO_MANY_SCANS : FN9_ERROR;
	}
	// jpeg_create_decompress's expansion: the library rejects a struct size or version it was not
	// built with ("JPEG parameter struct mismatch"), which is the check that this header fits it.
	fn9_create_decompress(&cinfo, JPEG_LIB_VERSION, sizeof(struct jpeg_decompress_struct));
	progress.pub.progress_monitor = fn9_progress_monitor;
	progress.err = &jerr;
	cinfo.progress = &progress.pub;

	src.init_source = fn9_init_source;
	src.fill_input_buffer = fn9_fill_input_buffer;
	src.skip_input_data = fn9_skip_input_data;
	src.resync_to_restart = fn9_resync_to_restart;
	src.term_source = fn9_term_source;
	src.next_input_byte = data;
	src.bytes_in_buffer = size;
	cinfo.src = &src;

	do {
		ok = fn9_read_header(&cinfo, FALSE);
	} while (ok == JPEG_HEADER_TABLES_ONLY);
	if (ok == JPEG_SUSPENDED) {
		fn9_destroy_decompress(&cinfo);
		return FN9_SUSPENDED;
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

	if (!fn9_start_decompress(&cinfo)) {
		fn9_destroy_decompress(&cinfo);
		return FN9_SUSPENDED;
	}
	if ((int)cinfo.output_width != width || (int)cinfo.output_height != height ||
	    cinfo.output_components != components) {
		fn9_destroy_decompress(&cinfo);
		return FN9_MISMATCH;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW row = out + (size_t)cinfo.output_scanline * (size_t)width * (size_t)components;
		if (fn9_read_scanlines(&cinfo, &row, 1) != 1) {
			fn9_destroy_decompress(&cinfo);
			return FN9_SUSPENDED;
		}
	}
	// As in Pillow, every scanline decoded is success even if the EOI marker is missing.
	fn9_finish_decompress(&cinfo);
	fn9_destroy_decompress(&cinfo);
	return FN9_OK;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"unsafe"
)

// MaxScans is the most scans a progressive file may have, as on the libjpeg-turbo path.
const MaxScans = C.FN9_MAX_SCANS

// EnvPath names the environment variable that points at the library file; `make env` sets it.
const EnvPath = "FACENET_LIBJPEG9"

// Errors Decode returns; callers map them to their own sentinels.
var (
	// ErrUnavailable: the library file is missing or cannot be loaded.
	ErrUnavailable = errors.New("libjpeg9 decoder unavailable")
	// ErrSuspended: the data ends before the last scanline.
	ErrSuspended = errors.New("jpeg data ends before the last scanline")
	// ErrTooManyScans: a progressive file has more than MaxScans scans.
	ErrTooManyScans = fmt.Errorf("jpeg has more than %d scans", MaxScans)
	// ErrMismatch: libjpeg's frame differs from the size or component count the caller expected.
	ErrMismatch = errors.New("libjpeg's frame differs from the SOF header")
	// ErrCorrupt: libjpeg raised an error; the wrapping error carries its message.
	ErrCorrupt = errors.New("libjpeg9 error")
)

var (
	loadOnce sync.Once
	loadErr  error
)

// Path is the library file Decode loads: $FACENET_LIBJPEG9 when set, otherwise
// build/libjpeg9/libjpeg.so.9 beside the executable's bin/ directory or, failing that, in the source
// tree this package was built from (where `go test` finds it).
func Path() string {
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "..", "build", "libjpeg9", "libjpeg.so.9"))
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", "..", "build", "libjpeg9", "libjpeg.so.9"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return filepath.Clean(c)
		}
	}
	if len(candidates) == 0 {
		return "libjpeg.so.9"
	}
	return filepath.Clean(candidates[0])
}

// Load loads the library once; later calls return the first result.
func Load() error {
	loadOnce.Do(func() { loadErr = load(Path()) })
	return loadErr
}

// load dlopens path and resolves the entry points Decode calls.
func load(path string) error {
	if _, err := os.Stat(path); err != nil {
		return unavailableError("libjpeg9 decoder: " + path + ": not found (run make setup)")
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var msg [C.FN9_MSG_MAX]C.char
	if C.fn9_load(cpath, &msg[0]) == 0 {
		return unavailableError("libjpeg9 decoder: " + path + ": " + C.GoString(&msg[0]))
	}
	return nil
}

// unavailableError is ErrUnavailable with a message that says which file and why, and nothing else,
// so the one line a user sees is "libjpeg9 decoder: <path>: not found (run make setup)".
type unavailableError string

func (e unavailableError) Error() string        { return string(e) }
func (e unavailableError) Is(target error) bool { return target == ErrUnavailable }

// Decode decodes the whole JPEG file in data into dst, which must hold width*height*components bytes.
// components is 1 (gray), 3 (RGB) or 4 (CMYK as stored, i.e. Adobe-inverted for Photoshop files).
func Decode(data []byte, components, width, height int, dst []byte) error {
	if err := Load(); err != nil {
		return err
	}
	if len(data) == 0 || width <= 0 || height <= 0 || len(dst) != width*height*components {
		return fmt.Errorf("%w: bad decode buffer", ErrMismatch)
	}
	var msg [C.FN9_MSG_MAX]C.char
	rc := C.fn9_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(components),
		(*C.uchar)(unsafe.Pointer(&dst[0])), C.int(width), C.int(height), &msg[0])
	switch rc {
	case C.FN9_OK:
		return nil
	case C.FN9_SUSPENDED:
		return ErrSuspended
	case C.FN9_TOO_MANY_SCANS:
		return ErrTooManyScans
	case C.FN9_MISMATCH:
		return ErrMismatch
	default:
		return fmt.Errorf("%w: %s", ErrCorrupt, C.GoString(&msg[0]))
	}
}
