// Package libwebp decodes WebP files with the libwebp 1.4.0 that Pillow 11.0.0's wheel bundles
// (pillow.libs/libwebp-2fd3cdca.so.7.1.9 and its libwebpdemux and libsharpyuv), driven as Pillow's
// _webp.c drives it: every file, still or animated, goes through WebPAnimDecoder with the default
// options (RGBA output, no threads), and Image.open's first frame is the first WebPAnimDecoderGetNext
// canvas. libwebp's decoder is integer arithmetic, so the very library gives Pillow's very pixels.
//
// The libraries are not linked: `make pillow-libs` copies them, hash-checked, into build/pillow-libs/
// and this package dlopens them on first use after checking the hashes again (internal/pillowlibs).
// The few declarations needed are written out here from libwebp 1.4.0's decode.h and demux.h (the
// ABI versions its *Internal entry points check are part of them), so no libwebp headers are needed
// to build.
package libwebp

/*
#cgo LDFLAGS: -ldl
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>

// decode.h and demux.h of libwebp 1.4.0.
#define FNW_DECODER_ABI_VERSION 0x0209
#define FNW_DEMUX_ABI_VERSION 0x0107
#define FNW_MSG_MAX 256
typedef struct { const uint8_t *bytes; size_t size; } fnw_data;                       // WebPData
typedef struct { int width, height, has_alpha, has_animation, format; uint32_t pad[5]; } fnw_features;  // WebPBitstreamFeatures
typedef struct { uint32_t canvas_width, canvas_height, loop_count, bgcolor, frame_count; uint32_t pad[4]; } fnw_anim_info;  // WebPAnimInfo
enum { FNW_STATUS_OK = 0, FNW_STATUS_NOT_ENOUGH_DATA = 7 };
enum { FNW_OK = 0, FNW_NO_DECODER = 1, FNW_MISMATCH = 2, FNW_NO_FRAME = 3 };

static int (*fnw_get_decoder_version)(void);
static int (*fnw_get_features)(const uint8_t *, size_t, fnw_features *, int);
static void *(*fnw_anim_new)(const fnw_data *, const void *, int);
static int (*fnw_anim_info_get)(const void *, fnw_anim_info *);
static int (*fnw_anim_next)(void *, uint8_t **, int *);
static void (*fnw_anim_delete)(void *);

// fnw_load dlopens the three libraries in dependency order (each finds the one before by its
// SONAME) and resolves the entry points; on failure msg (FNW_MSG_MAX bytes) says why.
static int fnw_load(const char *sharpyuv, const char *webp, const char *demux, char *msg) {
	const char *paths[3] = {sharpyuv, webp, demux};
	void *h[3];
	int i;
	for (i = 0; i < 3; i++) {
		h[i] = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL);
		if (h[i] == NULL) {
			snprintf(msg, FNW_MSG_MAX, "%s", dlerror());
			return 0;
		}
	}
#define FNW_SYM(var, lib, name) \
	if ((*(void **)&var = dlsym(h[lib], name)) == NULL) { \
		snprintf(msg, FNW_MSG_MAX, "no symbol %s", name); \
		return 0; \
	}
	FNW_SYM(fnw_get_decoder_version, 1, "WebPGetDecoderVersion");
	FNW_SYM(fnw_get_features, 1, "WebPGetFeaturesInternal");
	FNW_SYM(fnw_anim_new, 2, "WebPAnimDecoderNewInternal");
	FNW_SYM(fnw_anim_info_get, 2, "WebPAnimDecoderGetInfo");
	FNW_SYM(fnw_anim_next, 2, "WebPAnimDecoderGetNext");
	FNW_SYM(fnw_anim_delete, 2, "WebPAnimDecoderDelete");
#undef FNW_SYM
	return 1;
}

static int fnw_version(void) { return fnw_get_decoder_version(); }

// fnw_features_of is WebPGetFeatures: the canvas size and alpha flag from the headers alone.
static int fnw_features_of(const uint8_t *data, size_t size, int *w, int *h, int *alpha) {
	fnw_features f;
	int rc;
	memset(&f, 0, sizeof f);
	rc = fnw_get_features(data, size, &f, FNW_DECODER_ABI_VERSION);
	*w = f.width;
	*h = f.height;
	*alpha = f.has_alpha;
	return rc;
}

// fnw_decode_first is _anim_decoder_new followed by one get_next: the first frame's canvas,
// whose R, G and B go to out (width*height*3 bytes), as convert("RGB") keeps them.
static int fnw_decode_first(const uint8_t *data, size_t size, int width, int height, uint8_t *out) {
	fnw_data src = {data, size};
	fnw_anim_info info;
	uint8_t *buf = NULL;
	int ts = 0;
	size_t i, n;
	void *dec = fnw_anim_new(&src, NULL, FNW_DEMUX_ABI_VERSION);
	if (dec == NULL) {
		return FNW_NO_DECODER;
	}
	if (!fnw_anim_info_get(dec, &info)) {
		fnw_anim_delete(dec);
		return FNW_NO_DECODER;
	}
	if ((int)info.canvas_width != width || (int)info.canvas_height != height) {
		fnw_anim_delete(dec);
		return FNW_MISMATCH;
	}
	if (!fnw_anim_next(dec, &buf, &ts)) {
		fnw_anim_delete(dec);
		return FNW_NO_FRAME;
	}
	n = (size_t)width * (size_t)height;
	for (i = 0; i < n; i++) {
		out[3 * i] = buf[4 * i];
		out[3 * i + 1] = buf[4 * i + 1];
		out[3 * i + 2] = buf[4 * i + 2];
	}
	fnw_anim_delete(dec);
	return FNW_OK;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/facenet-go/facenet/internal/pillowlibs"
)

// Version is the libwebp Load accepts, as WebPGetDecoderVersion reports it.
const Version = 0x010400

// Errors; callers map them to their own sentinels.
var (
	// ErrUnavailable: a library file is missing, altered or cannot be loaded.
	ErrUnavailable = pillowlibs.ErrUnavailable
	// ErrNotEnoughData: the headers end before the canvas size (WebPGetFeatures).
	ErrNotEnoughData = errors.New("webp: data ends inside the headers")
	// ErrBitstream: WebPGetFeatures refused the headers.
	ErrBitstream = errors.New("webp: invalid headers")
	// ErrNoDecoder: WebPAnimDecoderNew refused the file, Pillow's "could not create decoder object".
	ErrNoDecoder = errors.New("webp: could not create decoder object")
	// ErrNoFrame: the first frame does not decode, Pillow's "failed to read next frame".
	ErrNoFrame = errors.New("webp: failed to read the first frame")
	// ErrMismatch: the decoder's canvas differs from the size the caller expected.
	ErrMismatch = errors.New("webp: canvas differs from the headers")
)

var (
	loadOnce sync.Once
	loadErr  error
)

// Load checks and loads the libraries once; later calls return the first result.
func Load() error {
	loadOnce.Do(func() { loadErr = load() })
	return loadErr
}

func load() error {
	var paths [3]*C.char
	for i, lib := range []pillowlibs.Lib{pillowlibs.Libsharpyuv, pillowlibs.Libwebp, pillowlibs.Libwebpdemux} {
		p, err := pillowlibs.Path(lib)
		if err != nil {
			return pillowlibs.Unavailable("libwebp decoder: " + err.Error())
		}
		paths[i] = C.CString(p)
		defer C.free(unsafe.Pointer(paths[i]))
	}
	var msg [C.FNW_MSG_MAX]C.char
	if C.fnw_load(paths[0], paths[1], paths[2], &msg[0]) == 0 {
		return pillowlibs.Unavailable("libwebp decoder: " + C.GoString(&msg[0]))
	}
	if v := int(C.fnw_version()); v != Version {
		return pillowlibs.Unavailable(fmt.Sprintf("libwebp decoder: version %#x, want %#x", v, Version))
	}
	return nil
}

// Features returns the canvas size and whether the file says it has alpha, from its headers
// alone (WebPGetFeatures), so a caller can bound the decode before anything is allocated.
func Features(data []byte) (width, height int, hasAlpha bool, err error) {
	if err := Load(); err != nil {
		return 0, 0, false, err
	}
	if len(data) == 0 {
		return 0, 0, false, ErrNotEnoughData
	}
	var w, h, a C.int
	switch rc := C.fnw_features_of((*C.uint8_t)(unsafe.Pointer(&data[0])), C.size_t(len(data)), &w, &h, &a); rc {
	case C.FNW_STATUS_OK:
		return int(w), int(h), a != 0, nil
	case C.FNW_STATUS_NOT_ENOUGH_DATA:
		return 0, 0, false, ErrNotEnoughData
	default:
		return 0, 0, false, fmt.Errorf("%w (VP8 status %d)", ErrBitstream, int(rc))
	}
}

// DecodeRGB decodes the first frame of data, a canvas of width x height (as Features reported),
// into dst (width*height*3 bytes): the R, G and B of WebPAnimDecoder's RGBA canvas, which is what
// Pillow's convert("RGB") keeps of it. libwebp holds the RGBA canvas (4 bytes a pixel) meanwhile.
func DecodeRGB(data []byte, width, height int, dst []byte) error {
	if err := Load(); err != nil {
		return err
	}
	if len(data) == 0 || width <= 0 || height <= 0 || len(dst) != 3*width*height {
		return ErrMismatch
	}
	switch C.fnw_decode_first((*C.uint8_t)(unsafe.Pointer(&data[0])), C.size_t(len(data)), C.int(width), C.int(height),
		(*C.uint8_t)(unsafe.Pointer(&dst[0]))) {
	case C.FNW_OK:
		return nil
	case C.FNW_NO_DECODER:
		return ErrNoDecoder
	case C.FNW_NO_FRAME:
		return ErrNoFrame
	default:
		return ErrMismatch
	}
}
