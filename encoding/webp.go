package encoding

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/facenet-go/facenet/internal/libwebp"
)

// WebP is decoded by the libwebp 1.4.0 Pillow 11's wheel bundles, exactly as Pillow's WebP plugin
// uses it (internal/libwebp): the file is identified by Pillow's _accept (RIFF, WEBP, then a VP8,
// VP8L or VP8X chunk), the canvas size comes from the headers and goes through the
// decompression-bomb check before libwebp allocates anything, and the picture is the first frame
// of WebPAnimDecoder's RGBA canvas with alpha dropped, as convert("RGB") drops it: still files,
// lossy or lossless, with or without alpha, and animations alike.

// isRIFFWebP reports a RIFF container of WebP form type, the magic otherFormat names.
func isRIFFWebP(b []byte) bool {
	return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
}

// isWebP is Pillow's WebPImagePlugin._accept: a RIFF WebP whose first chunk is one of the three
// image chunks.
func isWebP(b []byte) bool {
	if !isRIFFWebP(b) || len(b) < 16 {
		return false
	}
	switch string(b[12:16]) {
	case "VP8 ", "VP8X", "VP8L":
		return true
	}
	return false
}

// webpSize is the canvas size from the headers (WebPGetFeatures).
func webpSize(data []byte) (int, int, error) {
	w, h, _, err := libwebp.Features(data)
	if err != nil {
		return 0, 0, webpErr(data, err)
	}
	return w, h, nil
}

func decodeWebP(data []byte, opts DecodeOptions) (*Image, error) {
	w, h, err := webpSize(data)
	if err != nil {
		return nil, err
	}
	if err := checkPixels(w, h, opts); err != nil {
		return nil, err
	}
	img := newImage(w, h)
	if err := libwebp.DecodeRGB(data, w, h, img.Pix); err != nil {
		return nil, webpErr(data, err)
	}
	return img, nil
}

// webpErr maps libwebp's errors to this package's sentinels. libwebp does not say why a file was
// refused; a RIFF size past the end of the data is the sign of a cut-off file.
func webpErr(data []byte, err error) error {
	cut := len(data) >= 8 && int64(binary.LittleEndian.Uint32(data[4:]))+8 > int64(len(data))
	switch {
	case errors.Is(err, libwebp.ErrUnavailable):
		return fmt.Errorf("%w: %v", ErrDecoderUnavailable, err)
	case errors.Is(err, libwebp.ErrNotEnoughData):
		return fmt.Errorf("%w: %v", ErrTruncated, err)
	case cut:
		return fmt.Errorf("%w: %v (the RIFF size says %d bytes, the file has %d)", ErrTruncated, err,
			binary.LittleEndian.Uint32(data[4:])+8, len(data))
	}
	return fmt.Errorf("%w: %v", ErrInvalidImage, err)
}
