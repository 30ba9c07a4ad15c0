package encoding

import "errors"

// Errors callers can branch on with errors.Is. Every error returned by this package wraps one of
// them, and errors from DecodeFile and LoadImg also name the file.
var (
	// ErrUnsupportedFormat: the bytes are not JPEG, PNG, GIF, BMP, WebP or Netpbm (judged by
	// content, not by the file name), or use a variant of them this package does not decode.
	// For a format Pillow opens but this package does not (TIFF, HEIF, AVIF, ...) the message
	// names it ("TIFF is not supported").
	ErrUnsupportedFormat = errors.New("unsupported image format")
	// ErrInvalidImage: the file claims a supported format but its structure is broken
	// (bad checksum, impossible header, corrupt compressed data, zero size).
	ErrInvalidImage = errors.New("invalid image")
	// ErrTruncated: the file ends before the image data does. Pillow raises "image file is
	// truncated" for these unless LOAD_TRUNCATED_IMAGES is set, and so does this package.
	ErrTruncated = errors.New("image file is truncated")
	// ErrDecompressionBomb: the header announces more pixels than DecodeOptions.MaxPixels
	// allows; nothing was decoded.
	ErrDecompressionBomb = errors.New("image exceeds the pixel limit (possible decompression bomb)")
	// ErrInvalidOptions: a target size, interpolation, crop box or pixel option is not usable.
	ErrInvalidOptions = errors.New("invalid options")
	// ErrDecoderUnavailable: the decoder the options chose (JPEGDecoder libjpeg9) cannot be loaded,
	// e.g. because `make setup` has not put its library under build/libjpeg9.
	ErrDecoderUnavailable = errors.New("image decoder unavailable")
)
