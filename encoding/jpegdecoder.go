package encoding

import (
	"errors"
	"fmt"

	"github.com/facenet-go/facenet/internal/libjpeg9"
)

// JPEGDecoder names the libjpeg that decodes JPEG files. The two give different pixels on
// subsampled (4:2:0, 4:2:2...) files because libjpeg 7 and later upsample chroma with a scaled IDCT.
type JPEGDecoder string

const (
	// LibjpegTurbo is libjpeg-turbo (Debian's libjpeg62-turbo), what Pillow 9.3 and later bundle:
	// the default, and what the zero value means.
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

// decode runs the chosen libjpeg over a whole file; see libjpegDecode for the arguments.
func (d JPEGDecoder) decode(data []byte, components, width, height int, dst []byte) error {
	switch d {
	case "", LibjpegTurbo:
		return libjpegDecode(data, components, width, height, dst)
	case Libjpeg9:
		return libjpeg9Decode(data, components, width, height, dst)
	}
	_, err := ParseJPEGDecoder(string(d))
	return err
}

// libjpeg9Decode is libjpegDecode with IJG libjpeg 9d, its errors mapped to this package's sentinels
// the same way.
func libjpeg9Decode(data []byte, components, width, height int, dst []byte) error {
	err := libjpeg9.Decode(data, components, width, height, dst)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, libjpeg9.ErrUnavailable):
		return fmt.Errorf("%w: %v", ErrDecoderUnavailable, err)
	case errors.Is(err, libjpeg9.ErrSuspended):
		return fmt.Errorf("%w: jpeg data ends before the last scanline", ErrTruncated)
	case errors.Is(err, libjpeg9.ErrTooManyScans):
		return fmt.Errorf("%w: jpeg has more than %d scans", ErrInvalidImage, libjpeg9.MaxScans)
	case errors.Is(err, libjpeg9.ErrMismatch):
		return fmt.Errorf("%w: jpeg: %v", ErrInvalidImage, err)
	}
	return fmt.Errorf("%w: jpeg: %v", ErrInvalidImage, err)
}
