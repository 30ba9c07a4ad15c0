package encoding

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"runtime/debug"
	"syscall"

	"github.com/facenet-go/facenet/internal/fsutil"
)

// MaxFileBytes is the largest file LoadImg and DecodeFile read: 8 bytes for each pixel Pillow's
// bomb limit allows (no supported format stores more per pixel) plus 1 MiB of headers.
const MaxFileBytes = 8*DefaultMaxPixels + 1<<20

const (
	// sniffBytes is how much of a file is read before anything else is decided: enough for
	// every header Pillow reads before its decompression-bomb check, in nearly every file.
	sniffBytes = 64 << 10
	// mapBytes is the size above which a PNG, GIF, BMP or Netpbm file is mapped rather than read: a
	// decoder then touches only the pages it parses, so a 1.4 GB file that fails in its first
	// chunks costs what those chunks cost.
	mapBytes = 64 << 20
)

// imageFile is the content of an image file: read into memory, or mapped read-only.
type imageFile struct {
	data   []byte
	mapped bool
}

func (f *imageFile) close() {
	if f.mapped {
		syscall.Munmap(f.data)
	}
}

// openImageFile gets path's content after asking the file what it is and reading only its
// head: a FIFO would block the reader forever, a device such as /dev/zero never ends, a sparse
// file can claim terabytes and a /proc file says it is empty while it streams gigabytes. So
// anything but a regular file of at most MaxFileBytes is refused before a byte is read; then
// the first sniffBytes decide: not an image format, a header Pillow refuses or a bomb is
// refused from them. The rest is read in one allocation of the file's size (never the
// doubling of a growing buffer), mapped when large, or, for a file that does not tell its
// size, read up to what its header's pixel count can use. The open and its checks are
// fsutil's, as for every other file the program reads.
func openImageFile(path string, opts DecodeOptions) (*imageFile, error) {
	f, st, err := fsutil.OpenRegular(path, MaxFileBytes)
	switch {
	case errors.Is(err, fsutil.ErrNotRegular):
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedFormat, err)
	case errors.Is(err, fsutil.ErrTooLarge):
		return nil, fmt.Errorf("%w: %w", ErrDecompressionBomb, err)
	case err != nil:
		return nil, err
	}
	defer f.Close()
	size := st.Size()
	n := sniffBytes
	if size > 0 && size < int64(n) {
		n = int(size) + 1 // one byte more tells whether the file grew
	}
	head := make([]byte, n)
	m, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	head = head[:m]
	if m < n {
		return &imageFile{data: head}, nil // the whole file
	}
	bound, err := checkHead(head, opts)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		// No size to trust: read what the header's pixels can use, and no more.
		rest, err := io.ReadAll(io.LimitReader(f, bound-int64(m)+1))
		if err != nil {
			return nil, err
		}
		if int64(m+len(rest)) > bound {
			return nil, fmt.Errorf("%w: file of unknown size streams more than %d bytes", ErrDecompressionBomb, bound)
		}
		return &imageFile{data: append(head, rest...)}, nil
	}
	if size > mapBytes && !isJPEG(head) && !isRIFFWebP(head) {
		// libjpeg and libwebp read through cgo, where a fault on a file truncated meanwhile
		// cannot be caught: JPEGs and WebPs are always read.
		data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
		if err == nil {
			if testHookMapped != nil {
				testHookMapped(path)
			}
			return &imageFile{data: data, mapped: true}, nil
		}
	}
	data := make([]byte, size)
	copy(data, head)
	k, err := io.ReadFull(f, data[m:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return &imageFile{data: data[:m+k]}, nil
}

// testHookMapped lets a test change a file once it is mapped (nil outside tests).
var testHookMapped func(path string)

func isJPEG(b []byte) bool { return len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF }

// checkHead judges the first sniffBytes of a longer file: an unknown format, a header error
// that more bytes cannot change, or a bomb refuse it; otherwise it returns how many bytes the
// header's image can use (8 per pixel plus 1 MiB, as MaxFileBytes), MaxFileBytes when the
// header does not fit in the head.
func checkHead(head []byte, opts DecodeOptions) (int64, error) {
	width, height := 0, 0
	var err error
	switch {
	case isJPEG(head):
		var h jpegHeader
		h, err = parseJPEGHeader(head)
		width, height = h.width, h.height
	case bytes.HasPrefix(head, pngSignature):
		var h *pngHeader
		if h, err = parsePNGHeader(head); h != nil {
			width, height = h.width, h.height
		}
	case bytes.HasPrefix(head, []byte("GIF87a")) || bytes.HasPrefix(head, []byte("GIF89a")):
		// The frame may grow the screen, never shrink it.
		width, height = int(binary.LittleEndian.Uint16(head[6:])), int(binary.LittleEndian.Uint16(head[8:]))
		if err := checkPixels(max(1, width), max(1, height), opts); errors.Is(err, ErrDecompressionBomb) {
			return 0, err
		}
		return MaxFileBytes, nil
	case bytes.HasPrefix(head, []byte("BM")):
		var h *bmpHeader
		if h, err = parseBMPHeader(head); h != nil {
			width, height = h.width, h.height
		}
	case isWebP(head):
		width, height, err = webpSize(head)
	case isPPM(head):
		var h *ppmHeader
		if h, err = parsePPMHeader(head, opts); errors.Is(err, ErrDecompressionBomb) {
			return 0, err
		} else if h != nil {
			width, height = h.width, h.height
		}
		err = nil // other header errors may be an artefact of the cut (a comment past the head)
		if h == nil {
			return MaxFileBytes, nil
		}
	default:
		_, err := decode(head, opts) // the unsupported-format error, from the magic bytes
		return 0, err
	}
	if err != nil {
		if errors.Is(err, ErrTruncated) {
			return MaxFileBytes, nil // the header goes on past the head
		}
		return 0, err
	}
	if err := checkPixels(width, height, opts); err != nil {
		return 0, err
	}
	return min(int64(MaxFileBytes), 8*int64(width)*int64(height)+1<<20), nil
}

// withImageFile runs decode on path's content. A mapped file that another process truncates
// meanwhile faults on the missing pages: with SetPanicOnFault that is a panic of this
// goroutine, turned into an error here, instead of a crash of the process.
func withImageFile(path string, opts DecodeOptions, decode func([]byte) (*Image, error)) (img *Image, err error) {
	f, err := openImageFile(path, opts)
	if err != nil {
		return nil, err
	}
	defer f.close()
	if f.mapped {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if r := recover(); r != nil {
				if _, fault := r.(interface{ Addr() uintptr }); !fault {
					panic(r)
				}
				img, err = nil, fmt.Errorf("%w: the file shrank while it was read", ErrTruncated)
			}
		}()
	}
	return decode(f.data)
}

// LoadOptions are the arguments of keras.utils.load_img(path, color_mode="rgb",
// target_size=(Height, Width), interpolation, keep_aspect_ratio), plus the decoder's pixel
// limit.
type LoadOptions struct {
	// Height and Width are target_size; both 0 keeps the decoded size.
	Height, Width int
	// Interpolation is the filter used when the size changes; the zero value is Nearest, as
	// in Keras.
	Interpolation Interpolation
	// KeepAspectRatio crops the largest centred box with the target's aspect ratio before
	// resizing, as Keras does.
	KeepAspectRatio bool
	// MaxPixels is DecodeOptions.MaxPixels.
	MaxPixels int64
	// JPEGDecoder is DecodeOptions.JPEGDecoder: "" or LibjpegTurbo, or Libjpeg9 to decode as
	// Pillow <= 8.4 (the notebook's environment) did.
	JPEGDecoder JPEGDecoder
}

// LoadImg reads the image file at path and returns what keras.utils.load_img(path,
// target_size=(opts.Height, opts.Width), interpolation=..., keep_aspect_ratio=...) returns as
// an RGB array, byte for byte. Errors name the file.
func LoadImg(path string, opts LoadOptions) (*Image, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	img, err := withImageFile(path, DecodeOptions{MaxPixels: opts.MaxPixels}, func(data []byte) (*Image, error) {
		return Load(data, opts)
	})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return img, nil
}

// Load is LoadImg for an image already in memory.
func Load(data []byte, opts LoadOptions) (*Image, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	decOpts := DecodeOptions{MaxPixels: opts.MaxPixels, JPEGDecoder: opts.JPEGDecoder}
	if opts.Width != 0 && isJPEG(data) {
		if img, done, err := loadJPEGRows(data, opts, decOpts); done {
			return img, err
		}
	}
	release := reserveDecode(decodeEstimate(data, decOpts, nil))
	defer release()
	if opts.Width == 0 || !isJPEG(data) {
		img, err := decode(data, decOpts)
		if err != nil {
			return nil, err
		}
		return img.ResizeKeras(opts)
	}
	// A JPEG about to be resized: decode into a recycled buffer, which is free again once the
	// resized copy exists (a same-size image is returned as is and keeps it).
	var buf *[]byte
	img, err := decodeJPEG(data, decOpts, func(n int) []byte {
		buf = getScratch(n)
		return *buf
	})
	if err != nil {
		if buf != nil {
			scratch.Put(buf)
		}
		return nil, err
	}
	out, err := img.ResizeKeras(opts)
	if out != img && buf != nil {
		scratch.Put(buf)
	}
	return out, err
}

func (o LoadOptions) validate() error {
	if o.Height < 0 || o.Width < 0 || (o.Height == 0) != (o.Width == 0) {
		return fmt.Errorf("%w: target size %dx%d (height x width, both positive or both 0)", ErrInvalidOptions, o.Height, o.Width)
	}
	if o.Interpolation < Nearest || o.Interpolation > Lanczos {
		return fmt.Errorf("%w: unknown interpolation %d", ErrInvalidOptions, int(o.Interpolation))
	}
	if _, err := ParseJPEGDecoder(string(o.JPEGDecoder)); err != nil {
		return err
	}
	return nil
}

// ResizeKeras applies the resize step of load_img to a decoded image: nothing when the size
// already matches (or no target is set), otherwise Image.resize with the filter and, with
// KeepAspectRatio, Keras' centred crop box.
func (img *Image) ResizeKeras(opts LoadOptions) (*Image, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if img == nil {
		return nil, fmt.Errorf("%w: nil image", ErrInvalidOptions)
	}
	if opts.Width == 0 || (img.Width == opts.Width && img.Height == opts.Height) {
		return img, nil
	}
	var box image.Rectangle
	if opts.KeepAspectRatio {
		box = KerasCropBox(img.Width, img.Height, opts.Width, opts.Height)
	}
	return img.Resize(opts.Width, opts.Height, opts.Interpolation, box)
}

// KerasCropBox is load_img's keep_aspect_ratio box: the largest region of the target's
// aspect ratio, centred, with Keras' integer arithmetic. Without a positive target size it
// returns the whole image.
func KerasCropBox(width, height, targetWidth, targetHeight int) image.Rectangle {
	if targetWidth <= 0 || targetHeight <= 0 {
		return image.Rect(0, 0, width, height)
	}
	cropH := min(height, (width*targetHeight)/targetWidth)
	cropW := min(width, (height*targetWidth)/targetHeight)
	y0 := (height - cropH) / 2
	x0 := (width - cropW) / 2
	return image.Rect(x0, y0, x0+cropW, y0+cropH)
}
