package main

import (
	"flag"

	"github.com/facenet-go/facenet/encoding"
)

// jpegDecoderFlag registers --jpeg-decoder on fs. With a model, "" means the profile's choice
// (libjpeg-turbo when the profile says nothing); without one, "" is libjpeg-turbo.
func jpegDecoderFlag(fs *flag.FlagSet) *string {
	return fs.String("jpeg-decoder", "",
		"libjpeg-turbo (what Pillow bundles today) or libjpeg9 (Pillow <= 8.4, the notebook's decoder); overrides the model profile's jpeg_decoder")
}

// parseJPEGDecoderFlag checks the flag's value; "" stays "" so the profile decides.
func parseJPEGDecoderFlag(s string) (encoding.JPEGDecoder, error) {
	if s == "" {
		return "", nil
	}
	d, err := encoding.ParseJPEGDecoder(s)
	if err != nil {
		return "", usageError("--jpeg-decoder: unknown decoder %q (want libjpeg-turbo or libjpeg9)", s)
	}
	return d, nil
}
