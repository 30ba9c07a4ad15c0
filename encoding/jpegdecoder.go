package encoding

import (
	"errors"
	"fmt"

	"github.com/facenet-go/facenet/internal/libjpeg9"
	"github.com/facenet-go/facenet/internal/libjpegturbo"
)

// JPEGDecoder names the libjpeg that decodes JPEG files. The two give different pixels on
// subsampled (4:2:0, 4:2:2...) files because libjpeg 7 and later upsample chroma with a scaled IDCT.
type JPEGDecoder string

const (
	// LibjpegTurbo is libjpeg-turbo 3.0.4, the very library Pillow 11.0.0's wheel bundles, loaded
	// at run time from build/pillow-libs (`make setup`): the default, and what the zero value means.
	LibjpegTurbo JPEGDecoder = "libjpeg-turbo"
	// Libjpeg9 is IJG libjpeg 9d, what Pillow 8.4 and earlier bundle and so the decoder the Keras
	// notebook ran; its library is loaded at run time from build/libjpeg9 (`make setup`).
	Libjpeg9 JPEGDecoder = "libjpeg9"
)

// JPEGDecoders lists the accepted names, default first.
var JPEGDecoders = []JPEGDecoder{LibjpegTurbo, Libjpeg9}

// ParseJPEGDecoder accepts "libjpeg-turbo", "libjpeg9" or "" (libjpeg-turbo).
func ParseJPEGDecoder(s string) (JPEGDecoder, error) {
	switch JPEGDecoder(s) {
	case "", LibjpegTurbo:
		return LibjpegTurbo, nil
	case Libjpeg9:
		return Libjpeg9, nil
	}
	return "", fmt.Errorf("%w: unknown JPEG decoder %q (want libjpeg-turbo or libjpeg9)", ErrInvalidOptions, s)
}

// isTurbo reports the default decoder, which can convert and drop rows as it decodes.
func (d JPEGDecoder) isTurbo() bool { return d == "" || d == LibjpegTurbo }

// decode runs the chosen libjpeg over a whole file into dst, which holds width*height*components
// bytes; components is 1 (gray), 3 (RGB) or 4 (CMYK as stored, i.e. Adobe-inverted for Photoshop
// files).
func (d JPEGDecoder) decode(data []byte, components, width, height int, dst []byte) error {
	switch d {
	case "", LibjpegTurbo:
		return libjpegErr(libjpegturbo.Decode(data, components, width, height, dst))
	case Libjpeg9:
		return libjpeg9Decode(data, components, width, height, dst)
	}
	_, err := ParseJPEGDecoder(string(d))
	return err
}

// libjpeg9Decode is libjpegturbo.Decode with IJG libjpeg 9d.
func libjpeg9Decode(data []byte, components, width, height int, dst []byte) error {
	return libjpegErr(libjpeg9.Decode(data, components, width, height, dst))
}

// libjpegErr maps either libjpeg package's errors to this package's sentinels, the same way for
// both.
func libjpegErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, libjpeg9.ErrUnavailable), errors.Is(err, libjpegturbo.ErrUnavailable):
		return fmt.Errorf("%w: %v", ErrDecoderUnavailable, err)
	case errors.Is(err, libjpeg9.ErrSuspended), errors.Is(err, libjpegturbo.ErrSuspended):
		return fmt.Errorf("%w: jpeg data ends before the last scanline", ErrTruncated)
	case errors.Is(err, libjpeg9.ErrTooManyScans), errors.Is(err, libjpegturbo.ErrTooManyScans):
		return fmt.Errorf("%w: jpeg has more than %d scans", ErrInvalidImage, libjpegturbo.MaxScans)
	case errors.Is(err, libjpeg9.ErrMismatch), errors.Is(err, libjpegturbo.ErrMismatch):
		return fmt.Errorf("%w: jpeg: libjpeg's frame differs from the SOF header", ErrInvalidImage)
	}
	return fmt.Errorf("%w: jpeg: %v", ErrInvalidImage, err)
}
