package encoding

import (
	"fmt"
)

// jpegHeader is what Pillow's JpegImageFile._open learns before handing the file to libjpeg:
// the frame size and the number of components, which pick the PIL mode (L, RGB or CMYK).
type jpegHeader struct {
	width, height int
	layers        int
}

// parseJPEGHeader walks the markers like Pillow's JpegImagePlugin (including its tolerance for
// fill bytes and stray data) up to the first SOS. Files Pillow cannot identify are rejected here
// with the same reasons.
func parseJPEGHeader(data []byte) (jpegHeader, error) {
	var h jpegHeader
	if len(data) < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF {
		return h, fmt.Errorf("%w: not a JPEG file", ErrInvalidImage)
	}
	pos := 3
	cur := []byte{0xFF} // Pillow re-reads the third byte (0xFF) as the start of the next marker
	seenSOF := false
	for {
		if len(cur) == 0 {
			return h, fmt.Errorf("%w: jpeg: no start of scan", ErrTruncated)
		}
		if cur[0] != 0xFF {
			// Pillow skips non-0xFF junk between markers one byte at a time.
			cur, pos = readN(data, pos, 1)
			continue
		}
		var next []byte
		next, pos = readN(data, pos, 1)
		if len(next) == 0 {
			return h, fmt.Errorf("%w: jpeg: no start of scan", ErrTruncated)
		}
		marker := 0xFF00 | int(next[0])
		switch {
		case marker >= 0xFFC0 && marker <= 0xFFFE:
			switch {
			case marker == 0xFFC8 || (marker >= 0xFFD0 && marker <= 0xFFD9) || (marker >= 0xFFF0 && marker <= 0xFFFD):
				// markers without a payload in Pillow's table
			default:
				seg, npos, err := jpegSegment(data, pos)
				if err != nil {
					return h, err
				}
				pos = npos
				switch {
				case isSOF(marker):
					if len(seg) < 6 {
						return h, fmt.Errorf("%w: jpeg: short SOF segment", ErrInvalidImage)
					}
					if seg[0] != 8 {
						return h, fmt.Errorf("%w: jpeg: cannot handle %d-bit layers", ErrInvalidImage, seg[0])
					}
					h.height = int(seg[1])<<8 | int(seg[2])
					h.width = int(seg[3])<<8 | int(seg[4])
					h.layers = int(seg[5])
					if h.layers != 1 && h.layers != 3 && h.layers != 4 {
						return h, fmt.Errorf("%w: jpeg: cannot handle %d-layer images", ErrInvalidImage, h.layers)
					}
					seenSOF = true
				case marker == 0xFFDB:
					if err := checkDQT(seg); err != nil {
						return h, err
					}
				case (marker == 0xFFE0 && hasPrefix(seg, "JFIF")) || (marker == 0xFFEE && hasPrefix(seg, "Adobe")):
					// Pillow reads a 16-bit version at offset 5 of these without a guard.
					if len(seg) < 7 {
						return h, fmt.Errorf("%w: jpeg: short %X segment", ErrInvalidImage, marker)
					}
				}
			}
			if marker == 0xFFDA {
				if !seenSOF || h.width <= 0 || h.height <= 0 {
					return h, fmt.Errorf("%w: jpeg: no frame size before the scan", ErrInvalidImage)
				}
				return h, nil
			}
			cur, pos = readN(data, pos, 1)
		case marker == 0xFFFF:
			cur = []byte{0xFF} // fill byte
		case marker == 0xFF00:
			cur, pos = readN(data, pos, 1)
		default:
			return h, fmt.Errorf("%w: jpeg: no marker found", ErrInvalidImage)
		}
	}
}

// isSOF reports the markers Pillow's table routes to its SOF handler (DHP included).
func isSOF(m int) bool {
	switch m {
	case 0xFFC0, 0xFFC1, 0xFFC2, 0xFFC3, 0xFFC5, 0xFFC6, 0xFFC7, 0xFFC9, 0xFFCA, 0xFFCB,
		0xFFCD, 0xFFCE, 0xFFCF, 0xFFDE:
		return true
	}
	return false
}

// jpegSegment reads a length-prefixed segment the way Pillow does: a length below 2 reads
// nothing, a short file is an error.
func jpegSegment(data []byte, pos int) ([]byte, int, error) {
	if pos+2 > len(data) {
		return nil, pos, fmt.Errorf("%w: jpeg: segment length cut off", ErrTruncated)
	}
	n := (int(data[pos])<<8 | int(data[pos+1])) - 2
	pos += 2
	if n <= 0 {
		return nil, pos, nil
	}
	if pos+n > len(data) {
		return nil, pos, fmt.Errorf("%w: jpeg: segment cut off", ErrTruncated)
	}
	return data[pos : pos+n], pos + n, nil
}

// checkDQT mirrors Pillow's DQT handler, which rejects a table shorter than its precision says.
func checkDQT(s []byte) error {
	for len(s) > 0 {
		precision := 1
		if s[0]>>4 != 0 {
			precision = 2
		}
		n := 1 + precision*64
		if len(s) < n {
			return fmt.Errorf("%w: jpeg: bad quantization table marker", ErrInvalidImage)
		}
		s = s[n:]
	}
	return nil
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

func readN(data []byte, pos, n int) ([]byte, int) {
	if pos >= len(data) {
		return nil, pos
	}
	end := min(pos+n, len(data))
	return data[pos:end], end
}

// decodeJPEG decodes to Pillow's RGB: gray is replicated, CMYK is read with Adobe polarity
// ("CMYK;I") and converted with Pillow's cmyk2rgb.
// With a non-nil alloc the pixel buffer comes from it (every byte is overwritten, so it need
// not be zeroed).
func decodeJPEG(data []byte, opts DecodeOptions, alloc func(n int) []byte) (*Image, error) {
	h, err := parseJPEGHeader(data)
	if err != nil {
		return nil, err
	}
	if err := checkPixels(h.width, h.height, opts); err != nil {
		return nil, err
	}
	var img *Image
	if alloc != nil {
		img = &Image{Width: h.width, Height: h.height, Pix: alloc(3 * h.width * h.height)}
	} else {
		img = newImage(h.width, h.height)
	}
	switch h.layers {
	case 3:
		if err := opts.JPEGDecoder.decode(data, 3, h.width, h.height, img.Pix); err != nil {
			return nil, err
		}
	case 1:
		n := h.width * h.height
		// Decode the gray plane into the last third of Pix and expand forward in place.
		gray := img.Pix[2*n:]
		if err := opts.JPEGDecoder.decode(data, 1, h.width, h.height, gray); err != nil {
			return nil, err
		}
		grayToRGB(img.Pix, gray)
	case 4:
		cmyk := make([]byte, 4*h.width*h.height)
		if err := opts.JPEGDecoder.decode(data, 4, h.width, h.height, cmyk); err != nil {
			return nil, err
		}
		invertedCMYKToRGB(img.Pix, cmyk)
	}
	return img, nil
}

// grayToRGB expands gray into dst (3 bytes per pixel). gray may alias the last third of dst.
func grayToRGB(dst, gray []byte) {
	for i, j := 0, 0; i < len(gray); i, j = i+1, j+3 {
		v := gray[i]
		dst[j], dst[j+1], dst[j+2] = v, v, v
	}
}

// invertedCMYKToRGB applies Pillow's "CMYK;I" unpacking (every byte inverted) followed by
// Convert.c's cmyk2rgb: nk = 255-k; out = clip(nk - MULDIV255(c, nk)).
func invertedCMYKToRGB(dst, cmyk []byte) {
	for i, j := 0, 0; i+3 < len(cmyk); i, j = i+4, j+3 {
		nk := int(cmyk[i+3]) // 255 - (255 - raw k)
		for c := 0; c < 3; c++ {
			v := 255 - int(cmyk[i+c])
			dst[j+c] = clip8(nk - mulDiv255(v, nk))
		}
	}
}

// mulDiv255 is Pillow's MULDIV255: a*b/255 rounded, with its shift trick.
func mulDiv255(a, b int) int {
	t := a*b + 128
	return ((t >> 8) + t) >> 8
}

func clip8(v int) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v)
}
