package encoding

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"
	"sync"
)

// PillowMaxImagePixels is Pillow's Image.MAX_IMAGE_PIXELS. Pillow warns above it and raises
// DecompressionBombError above twice it.
const PillowMaxImagePixels = 89_478_485

// DefaultMaxPixels is the largest image Decode accepts when DecodeOptions.MaxPixels is 0: the
// point where Pillow raises DecompressionBombError (2 * PillowMaxImagePixels).
const DefaultMaxPixels = 2 * PillowMaxImagePixels

// Image is an 8-bit RGB image: Pix holds Height rows of Width pixels, 3 bytes (R, G, B) each,
// with no padding. It is what np.array(load_img(...)) holds in Python.
type Image struct {
	Width, Height int
	Pix           []uint8
}

// DecodeOptions tunes Decode.
type DecodeOptions struct {
	// MaxPixels rejects, before any pixel is decoded, an image whose header announces more
	// than MaxPixels pixels (Pillow counts max(1, w) * max(1, h)). 0 means DefaultMaxPixels,
	// a negative value disables the check.
	MaxPixels int64
	// JPEGDecoder picks the libjpeg for JPEG files; "" is LibjpegTurbo.
	JPEGDecoder JPEGDecoder
}

// Decode decodes a JPEG, PNG, GIF (first frame), BMP, WebP (first frame) or Netpbm (P1 to P6)
// file held in data into RGB exactly as PIL.Image.open(...).convert("RGB") does with Pillow 11:
// the format is found from the magic bytes, EXIF orientation is not applied, alpha is dropped
// without compositing, palettes, 16-bit samples and CMYK follow Pillow's conversion rules.
//
// Decode waits for its share of the process's decode budget (SetDecodeBudget) first.
func Decode(data []byte, opts DecodeOptions) (*Image, error) {
	release := reserveDecode(decodeEstimate(data, opts, nil))
	defer release()
	return decode(data, opts)
}

// decode is Decode without the budget.
func decode(data []byte, opts DecodeOptions) (*Image, error) {
	switch {
	case len(data) == 0:
		return nil, fmt.Errorf("%w: empty file", ErrUnsupportedFormat)
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return decodeJPEG(data, opts, nil)
	case bytes.HasPrefix(data, pngSignature):
		return decodePNG(data, opts)
	case bytes.HasPrefix(data, []byte("GIF87a")) || bytes.HasPrefix(data, []byte("GIF89a")):
		return decodeGIF(data, opts)
	case bytes.HasPrefix(data, []byte("BM")):
		return decodeBMP(data, opts)
	case isPPM(data):
		return decodePPM(data, opts)
	case isWebP(data):
		return decodeWebP(data, opts)
	case isRIFFWebP(data):
		return nil, fmt.Errorf("%w: a RIFF WEBP file without a VP8, VP8L or VP8X chunk first (Pillow does not identify it)", ErrUnsupportedFormat)
	}
	if name := otherFormat(data); name != "" {
		return nil, fmt.Errorf("%w: %s is not supported (only JPEG, PNG, GIF, BMP, WebP and PBM/PGM/PPM are decoded)", ErrUnsupportedFormat, name)
	}
	return nil, fmt.Errorf("%w: not a JPEG, PNG, GIF, BMP, WebP or Netpbm file", ErrUnsupportedFormat)
}

// otherFormat names the image formats Pillow opens (and keras.utils.load_img users feed) that
// this package does not decode, from their magic bytes, so the refusal says what the file is.
func otherFormat(b []byte) string {
	has := func(off int, magic string) bool {
		return len(b) >= off+len(magic) && string(b[off:off+len(magic)]) == magic
	}
	switch {
	case has(0, "II*\x00"), has(0, "MM\x00*"), has(0, "II+\x00"), has(0, "MM\x00+"):
		return "TIFF"
	case has(4, "ftypavif"), has(4, "ftypavis"):
		return "AVIF"
	case has(4, "ftypheic"), has(4, "ftypheix"), has(4, "ftypmif1"), has(4, "ftypmsf1"):
		return "HEIF"
	case has(0, "\x00\x00\x00\x0cjP  \r\n\x87\n"), has(0, "\xff\x4f\xff\x51"):
		return "JPEG 2000"
	case has(0, "\xff\x0a"), has(0, "\x00\x00\x00\x0cJXL \r\n\x87\n"):
		return "JPEG XL"
	case has(0, "\x00\x00\x01\x00"):
		return "ICO"
	case has(0, "8BPS"):
		return "PSD"
	case has(0, "qoif"):
		return "QOI"
	case has(0, "DDS "):
		return "DDS"
	case has(0, "%!PS"), has(0, "\xc5\xd0\xd3\xc6"):
		return "EPS"
	}
	return ""
}

// DecodeFile reads and decodes the file at path; errors name the file.
func DecodeFile(path string, opts DecodeOptions) (*Image, error) {
	img, err := withImageFile(path, opts, func(data []byte) (*Image, error) {
		return Decode(data, opts)
	})
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return img, nil
}

// checkPixels applies Pillow's order of checks once a header is parsed: a zero or negative
// dimension is "not identified", then the decompression-bomb limit.
func checkPixels(width, height int, opts DecodeOptions) error {
	if width <= 0 || height <= 0 {
		return fmt.Errorf("%w: image size %dx%d", ErrInvalidImage, width, height)
	}
	limit := opts.MaxPixels
	if limit == 0 {
		limit = DefaultMaxPixels
	}
	// BMP sizes are unsigned 32-bit, as Pillow reads them: their product can pass 2^63.
	pixels := int64(math.MaxInt64)
	if hi, lo := bits.Mul64(uint64(width), uint64(height)); hi == 0 && lo <= math.MaxInt64 {
		pixels = int64(lo)
	}
	if limit > 0 && pixels > limit {
		return fmt.Errorf("%w: %dx%d is %d pixels, limit %d", ErrDecompressionBomb, width, height, pixels, limit)
	}
	// Without a limit the buffers must still be addressable.
	if pixels > math.MaxInt/4 {
		return fmt.Errorf("%w: %dx%d cannot be allocated", ErrDecompressionBomb, width, height)
	}
	return nil
}

// scratch recycles the full-size pixel buffers of JPEGs that Load decodes only to resize:
// fresh multi-megabyte allocations cost page faults and zeroing on every image.
var scratch sync.Pool // of *[]byte

func getScratch(n int) *[]byte {
	if p, ok := scratch.Get().(*[]byte); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n)
	return &b
}

func newImage(width, height int) *Image {
	return &Image{Width: width, Height: height, Pix: make([]uint8, 3*width*height)}
}
