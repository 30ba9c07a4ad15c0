package encoding

import (
	"fmt"
	"math"
)

// Netpbm follows Pillow's PpmImagePlugin: its header tokenizer (comments anywhere in a token,
// tokens of at most 10 characters, Python's int()); for binary P4 bitmaps, P5 graymaps and P6
// pixmaps the raw decoder for maxval 255 (and 65535 for gray) and its Python PpmDecoder for other
// maxvals, which rescales each sample with round(value / maxval * out_max), rounding half to
// even; for the plain (ASCII) P1-P3 its PpmPlainDecoder (ppmplain.go).

// isPPM reports the magic numbers decodePPM reads: P1 to P6 followed by whitespace (or the end
// of the file), as Pillow's _read_magic finds them.
func isPPM(b []byte) bool {
	return len(b) >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6' && (len(b) == 2 || isPPMSpace(b[2]))
}

func isPPMSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// ppmToken is PpmImageFile._read_token from pos: it returns the token and the position after
// the whitespace that ended it.
func ppmToken(data []byte, pos int) ([]byte, int, error) {
	var tok []byte
	for len(tok) <= 10 {
		if pos >= len(data) {
			break
		}
		c := data[pos]
		pos++
		switch {
		case isPPMSpace(c):
			if len(tok) == 0 {
				continue
			}
			return tok, pos, nil
		case c == '#':
			// the rest of the line, up to CR, LF or the end of the file
			for pos < len(data) {
				pos++
				if d := data[pos-1]; d == '\r' || d == '\n' {
					break
				}
			}
			continue
		}
		tok = append(tok, c)
	}
	if len(tok) == 0 {
		return nil, pos, fmt.Errorf("%w: ppm: reached EOF while reading header", ErrInvalidImage)
	}
	if len(tok) > 10 {
		return nil, pos, fmt.Errorf("%w: ppm: token too long in file header", ErrInvalidImage)
	}
	return tok, pos, nil
}

// pyInt is Python's int() of an ASCII token: an optional sign, digits, single underscores
// between digits.
func pyInt(tok []byte) (int64, bool) {
	s, neg := tok, false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if len(s) == 0 || s[0] == '_' || s[len(s)-1] == '_' {
		return 0, false
	}
	var v int64
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			v = v*10 + int64(c-'0')
		case c == '_' && s[i-1] != '_':
		default:
			return 0, false
		}
	}
	if neg {
		v = -v
	}
	return v, true
}

type ppmHeader struct {
	kind                  byte // '1' to '6'
	width, height, maxval int
	pos                   int // where the samples start
}

// parsePPMHeader is PpmImageFile._open followed by Image.open's checks: the size must be
// positive, then the decompression-bomb limit.
func parsePPMHeader(data []byte, opts DecodeOptions) (*ppmHeader, error) {
	kind := data[1]
	pos := min(3, len(data))
	var vals [3]int64
	n := 3
	if kind == '1' || kind == '4' {
		n = 2 // bitmaps have no maxval
	}
	for i := 0; i < n; i++ {
		tok, next, err := ppmToken(data, pos)
		if err != nil {
			return nil, err
		}
		v, ok := pyInt(tok)
		if !ok {
			return nil, fmt.Errorf("%w: ppm: header value %q is not a number", ErrInvalidImage, tok)
		}
		vals[i], pos = v, next
	}
	width, height, maxval := vals[0], vals[1], vals[2]
	if n == 3 && !(maxval > 0 && maxval < 65536) {
		return nil, fmt.Errorf("%w: ppm: maxval must be greater than 0 and less than 65536", ErrInvalidImage)
	}
	if width <= 0 || height <= 0 {
		return nil, fmt.Errorf("%w: ppm: image size %dx%d", ErrInvalidImage, width, height)
	}
	if width > math.MaxInt32 || height > math.MaxInt32 {
		return nil, fmt.Errorf("%w: ppm: %dx%d", ErrDecompressionBomb, width, height)
	}
	w, h := int(width), int(height)
	if err := checkPixels(w, h, opts); err != nil {
		return nil, err
	}
	return &ppmHeader{kind: kind, width: w, height: h, maxval: int(maxval), pos: pos}, nil
}

func decodePPM(data []byte, opts DecodeOptions) (*Image, error) {
	hd, err := parsePPMHeader(data, opts)
	if err != nil {
		return nil, err
	}
	kind, w, h, maxval := hd.kind, hd.width, hd.height, hd.maxval
	src := data[hd.pos:]
	if kind <= '3' {
		return decodePPMPlain(src, kind, w, h, maxval)
	}
	bands := 1
	if kind == '6' {
		bands = 3
	}
	var need int
	switch {
	case kind == '4':
		need = (w + 7) / 8 * h
	case maxval < 256:
		need = w * h * bands
	default:
		need = 2 * w * h * bands
	}
	if len(src) < need {
		return nil, fmt.Errorf("%w: ppm: %d of %d bytes of pixel data", ErrTruncated, len(src), need)
	}
	img := newImage(w, h)
	pix := img.Pix
	switch {
	case kind == '4': // "1;I": a set bit is black
		stride := (w + 7) / 8
		for y := 0; y < h; y++ {
			row := src[y*stride:]
			for x := 0; x < w; x++ {
				v := byte(255)
				if row[x/8]>>(7-x%8)&1 != 0 {
					v = 0
				}
				o := 3 * (y*w + x)
				pix[o], pix[o+1], pix[o+2] = v, v, v
			}
		}
	case maxval == 255 && bands == 3:
		copy(pix, src[:need])
	case maxval == 255:
		grayToRGB(pix, src[:need])
	default:
		// Gray with maxval above 255 is mode "I": samples kept (65535) or rescaled to 65535,
		// then clamped to 255 by the RGB conversion. Otherwise samples rescale to 255.
		outMax := 255.0
		if bands == 1 && maxval > 255 && maxval != 65535 {
			outMax = 65535
		}
		wide := maxval > 255
		for i := 0; i < w*h*bands; i++ {
			var v float64
			if wide {
				v = float64(int(src[2*i])<<8 | int(src[2*i+1]))
			} else {
				v = float64(src[i])
			}
			if !(bands == 1 && maxval == 65535) {
				v = min(outMax, math.RoundToEven(v/float64(maxval)*outMax))
			}
			b := byte(min(v, 255))
			if bands == 3 {
				pix[i] = b
			} else {
				pix[3*i], pix[3*i+1], pix[3*i+2] = b, b, b
			}
		}
	}
	return img, nil
}
