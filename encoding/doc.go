// Package encoding turns image files into model input exactly as the Keras notebook does:
//
//	img = keras.utils.load_img(path, target_size=(h, w))          # LoadImg
//	x = np.around(np.array(img) / 255.0, decimals=12)             # FillTensor with KerasPixels
//	x = np.expand_dims(x, axis=0)                                 # one slice of a batch buffer
//
// "Exactly" means bit for bit against Pillow 11 and numpy 2 (checked by the golden tests in
// this package against files written by scripts/golden_preprocess.py):
//
//   - The format is found from the content (magic bytes), never from the file name. JPEG is
//     decoded by the very libjpeg-turbo 3.0.4 Pillow 11's wheel bundles (internal/libjpegturbo,
//     dlopened from build/pillow-libs), lossless SOF3 files included, with Pillow's settings (ISLOW IDCT, fancy
//     upsampling, libjpeg's YCbCr->RGB; gray replicated; CMYK read with Adobe polarity and
//     converted with Pillow's formula). PNG (every colour type and bit depth, Adam7), GIF
//     (frame 0 on the logical screen) and BMP (the header, bit-field and RLE variants Pillow
//     reads) have decoders here that follow Pillow's plugins, including what they tolerate
//     (no IEND, bad CRCs after the first IDAT) and what they reject, chunks and APP segments
//     after the header included. WebP is decoded by the libwebp 1.4.0 Pillow's wheel
//     bundles (internal/libwebp) through WebPAnimDecoder as Pillow does: the first frame, alpha
//     dropped. PBM/PGM/PPM, binary (P4-P6) and plain (P1-P3), follow PpmImagePlugin and its
//     PpmPlainDecoder. Other formats (TIFF first) give ErrUnsupportedFormat, naming the format
//     when Pillow would open it.
//   - Conversion to RGB follows Pillow's convert("RGB"): alpha is dropped without
//     compositing, palettes are looked up (missing entries black), 16-bit gray is clamped to
//     255, 16-bit colour keeps the high byte. EXIF orientation is ignored, as load_img does.
//   - Truncated files fail with ErrTruncated, as Pillow does without LOAD_TRUNCATED_IMAGES;
//     headers announcing more pixels than the limit fail with ErrDecompressionBomb before
//     anything is decoded. One deliberate difference: a JPEG with more than 500 scans is
//     refused (ErrInvalidImage), a guard libjpeg-turbo recommends against files that make the
//     decoder sweep the image thousands of times; Pillow decodes those, slowly.
//   - Resizing is Pillow's Image.resize: NEAREST with Geometry.c's running double sum, the
//     other filters with Resample.c's fixed-point arithmetic; keep_aspect_ratio uses Keras'
//     centred crop box.
//   - The float conversion is numpy's: float64 division, np.around (multiply, round half to
//     even, divide), then the float32 cast Keras applies at predict time.
//
// The package needs cgo, libjpeg's headers (libjpeg62-turbo-dev on Debian) and, at run time,
// the libraries `make pillow-libs` copies from the virtualenv's Pillow wheel; it does not need
// TensorFlow.
package encoding
