package encoding

import (
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxFileBytes is the largest file LoadImg and DecodeFile read: 8 bytes for each pixel Pillow's
// bomb limit allows (no supported format stores more per pixel) plus 1 MiB of headers.
const MaxFileBytes = 8*DefaultMaxPixels + 1<<20

// readImageFile reads path whole, after asking the file what it is: a FIFO would block the
// reader forever, a device such as /dev/zero never ends, and a sparse file can claim terabytes,
// so anything but a regular file of at most MaxFileBytes is refused before a byte is read.
// O_NONBLOCK keeps the open itself from waiting for a FIFO's writer; it does nothing to regular
// files.
func readImageFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file (%s)", ErrUnsupportedFormat, fileKind(st.Mode()))
	}
	if st.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%w: file is %d bytes, more than %d", ErrDecompressionBomb, st.Size(), int64(MaxFileBytes))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%w: file grew past %d bytes while read", ErrDecompressionBomb, int64(MaxFileBytes))
	}
	return data, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
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
	data, err := readImageFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	img, err := Load(data, opts)
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
	if opts.Width == 0 || len(data) < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF {
		img, err := Decode(data, decOpts)
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
