package encoding

import (
	"encoding/binary"
	"fmt"
)

// BMP follows Pillow's BmpImagePlugin: the header variants it reads (core, info, v2-v5), its
// table of bit-field layouts, its gray-palette detection (which turns an identity palette into
// mode "1" or "L" and then reads the pixels with that mode's raw layout), the raw decoder's
// stride rules and its Python RLE4/RLE8 decoder, quirks included.

// bmpRaw is a Pillow raw mode: how a row's bytes become pixels.
type bmpRaw int

const (
	rawP1 bmpRaw = iota
	rawP4
	rawP8
	rawBit // "1"
	rawL   // "L"
	rawBGR15
	rawBGR16
	rawBGR
	rawBGRX
	rawXBGR
	rawBGXR
	rawABGR
	rawRGBA
	rawBGRA
	rawBGAR
)

func (r bmpRaw) bits() int {
	switch r {
	case rawP1, rawBit:
		return 1
	case rawP4:
		return 4
	case rawP8, rawL:
		return 8
	case rawBGR15, rawBGR16:
		return 16
	case rawBGR:
		return 24
	}
	return 32
}

type bmpHeader struct {
	width, height int
	topDown       bool
	bits          int
	compression   uint32
	raw           bmpRaw
	paletted      bool   // mode "P"
	palette       []byte // raw palette bytes, entries of palettePad bytes in B, G, R order
	palettePad    int
	offset        int
	rle           bool
	rle4          bool
}

const (
	bmpRGB       = 0
	bmpRLE8      = 1
	bmpRLE4      = 2
	bmpBitfields = 3
)

func parseBMPHeader(data []byte) (*bmpHeader, error) {
	if len(data) < 18 {
		return nil, fmt.Errorf("%w: bmp: header cut off", ErrTruncated)
	}
	h := &bmpHeader{}
	offset := int(binary.LittleEndian.Uint32(data[10:]))
	headerSize := int(binary.LittleEndian.Uint32(data[14:]))
	pos := 18
	need := headerSize - 4
	if need < 0 {
		need = 0
	}
	if pos+need > len(data) {
		return nil, fmt.Errorf("%w: bmp: header cut off", ErrTruncated)
	}
	hd := data[pos : pos+need]
	pos += need
	var colors int
	var masks [4]uint32
	switch headerSize {
	case 12:
		h.width = int(binary.LittleEndian.Uint16(hd[0:]))
		h.height = int(binary.LittleEndian.Uint16(hd[2:]))
		h.bits = int(binary.LittleEndian.Uint16(hd[6:]))
		h.compression = bmpRGB
		h.palettePad = 3
	case 40, 52, 56, 64, 108, 124:
		h.topDown = hd[7] == 0xFF
		h.width = int(binary.LittleEndian.Uint32(hd[0:]))
		rawHeight := binary.LittleEndian.Uint32(hd[4:])
		h.height = int(rawHeight)
		if h.topDown {
			h.height = int(1<<32 - uint64(rawHeight))
		}
		h.bits = int(binary.LittleEndian.Uint16(hd[10:]))
		h.compression = binary.LittleEndian.Uint32(hd[12:])
		colors = int(binary.LittleEndian.Uint32(hd[28:]))
		h.palettePad = 4
		if h.compression == bmpBitfields {
			if len(hd) >= 48 {
				for i := 0; i < 3; i++ {
					masks[i] = binary.LittleEndian.Uint32(hd[36+4*i:])
				}
				if len(hd) >= 52 {
					masks[3] = binary.LittleEndian.Uint32(hd[48:])
				}
			} else {
				if pos+12 > len(data) {
					return nil, fmt.Errorf("%w: bmp: bit masks cut off", ErrTruncated)
				}
				for i := 0; i < 3; i++ {
					masks[i] = binary.LittleEndian.Uint32(data[pos:])
					pos += 4
				}
			}
		}
	default:
		return nil, fmt.Errorf("%w: bmp: header type %d", ErrUnsupportedFormat, headerSize)
	}
	if colors == 0 {
		colors = 1 << min(h.bits, 62)
	}
	if offset == 14+headerSize && h.bits <= 8 {
		offset += 4 * colors
	}
	switch h.bits {
	case 1:
		h.raw, h.paletted = rawP1, true
	case 4:
		h.raw, h.paletted = rawP4, true
	case 8:
		h.raw, h.paletted = rawP8, true
	case 16:
		h.raw = rawBGR15
	case 24:
		h.raw = rawBGR
	case 32:
		h.raw = rawBGRX
	default:
		return nil, fmt.Errorf("%w: bmp: pixel depth %d", ErrUnsupportedFormat, h.bits)
	}
	switch h.compression {
	case bmpBitfields:
		raw, ok := bmpMaskModes(h.bits, masks)
		if !ok {
			return nil, fmt.Errorf("%w: bmp: bit-field layout %d-bit %08x", ErrUnsupportedFormat, h.bits, masks)
		}
		h.raw = raw
	case bmpRGB:
	case bmpRLE8, bmpRLE4:
		h.rle, h.rle4 = true, h.compression == bmpRLE4
	default:
		return nil, fmt.Errorf("%w: bmp: compression %d", ErrUnsupportedFormat, h.compression)
	}
	if h.paletted {
		if colors <= 0 || colors > 65536 {
			return nil, fmt.Errorf("%w: bmp: palette size %d", ErrInvalidImage, colors)
		}
		h.palette = data[min(pos, len(data)):min(pos+h.palettePad*colors, len(data))]
		pos += len(h.palette)
		if bmpGrayPalette(h.palette, colors, h.palettePad) {
			// Pillow then reads the pixels with the gray mode's own raw layout.
			h.paletted = false
			if colors == 2 {
				h.raw = rawBit
			} else {
				h.raw = rawL
			}
		} else if len(h.palette)*8/(8*h.palettePad) > 256 {
			return nil, fmt.Errorf("%w: bmp: palette has %d entries", ErrInvalidImage, colors)
		}
	}
	if offset == 0 {
		offset = pos
	}
	h.offset = offset
	return h, nil
}

// bmpMaskModes is BmpImagePlugin's SUPPORTED / MASK_MODES table.
func bmpMaskModes(bits int, m [4]uint32) (bmpRaw, bool) {
	switch bits {
	case 32:
		switch m {
		case [4]uint32{0xFF0000, 0xFF00, 0xFF, 0}:
			return rawBGRX, true
		case [4]uint32{0xFF000000, 0xFF0000, 0xFF00, 0}:
			return rawXBGR, true
		case [4]uint32{0xFF000000, 0xFF00, 0xFF, 0}:
			return rawBGXR, true
		case [4]uint32{0xFF000000, 0xFF0000, 0xFF00, 0xFF}:
			return rawABGR, true
		case [4]uint32{0xFF, 0xFF00, 0xFF0000, 0xFF000000}:
			return rawRGBA, true
		case [4]uint32{0xFF0000, 0xFF00, 0xFF, 0xFF000000}, [4]uint32{}:
			return rawBGRA, true
		case [4]uint32{0xFF000000, 0xFF00, 0xFF, 0xFF0000}:
			return rawBGAR, true
		}
	case 24:
		if m[0] == 0xFF0000 && m[1] == 0xFF00 && m[2] == 0xFF {
			return rawBGR, true
		}
	case 16:
		switch {
		case m[0] == 0xF800 && m[1] == 0x7E0 && m[2] == 0x1F:
			return rawBGR16, true
		case m[0] == 0x7C00 && m[1] == 0x3E0 && m[2] == 0x1F:
			return rawBGR15, true
		}
	}
	return 0, false
}

// bmpGrayPalette: entry i is (i, i, i), or for two colours black and white. Pillow compares
// the byte o8(i), so indices wrap at 256.
func bmpGrayPalette(p []byte, colors, pad int) bool {
	for i := 0; i < colors; i++ {
		v := byte(i)
		if colors == 2 && i == 1 {
			v = 255
		}
		o := i * pad
		if o+3 > len(p) || p[o] != v || p[o+1] != v || p[o+2] != v {
			return false
		}
	}
	return true
}

func decodeBMP(data []byte, opts DecodeOptions) (*Image, error) {
	h, err := parseBMPHeader(data)
	if err != nil {
		return nil, err
	}
	if err := checkPixels(h.width, h.height, opts); err != nil {
		return nil, err
	}
	var rows []byte // packed rows in file order, and their stride
	var stride int
	raw := h.raw
	if h.rle {
		// Pillow unpacks the expanded bytes as "P" or "L"; other modes have no such unpacker.
		if !h.paletted && raw != rawL {
			return nil, fmt.Errorf("%w: bmp: RLE data for a %d-bit image", ErrInvalidImage, h.bits)
		}
		rows, err = bmpRLE(data, h)
		if err != nil {
			return nil, err
		}
		if h.paletted {
			raw = rawP8
		}
		stride = h.width
	} else {
		stride = ((h.width*h.bits + 31) >> 3) &^ 3
		if h.offset < len(data) {
			rows = data[h.offset:]
		}
	}
	rowBytes := (h.width*raw.bits() + 7) / 8
	if stride < rowBytes {
		return nil, fmt.Errorf("%w: bmp: rows of %d bytes in a stride of %d", ErrInvalidImage, rowBytes, stride)
	}
	if need := (h.height-1)*stride + rowBytes; len(rows) < need {
		if h.rle {
			return nil, fmt.Errorf("%w: bmp: not enough RLE image data", ErrTruncated)
		}
		return nil, fmt.Errorf("%w: bmp: %d of %d bytes of pixel data", ErrTruncated, len(rows), need)
	}
	img := newImage(h.width, h.height)
	var index []byte
	if h.paletted {
		index = make([]byte, h.width*h.height)
	}
	for r := 0; r < h.height; r++ {
		y := h.height - 1 - r // bottom-up unless the height was negative
		if h.topDown {
			y = r
		}
		src := rows[r*stride : r*stride+rowBytes]
		if h.paletted {
			bmpIndexRow(raw, src, index[y*h.width:(y+1)*h.width])
		} else {
			bmpRGBRow(raw, src, img.Pix[3*y*h.width:3*(y+1)*h.width])
		}
	}
	if h.paletted {
		lut := bmpPaletteRGB(h.palette, h.palettePad)
		for i, v := range index {
			c := lut[v]
			img.Pix[3*i], img.Pix[3*i+1], img.Pix[3*i+2] = c[0], c[1], c[2]
		}
	}
	return img, nil
}

func bmpPaletteRGB(p []byte, pad int) *[256][3]byte {
	var lut [256][3]byte
	for i := 0; i < 256 && i*pad+pad <= len(p); i++ {
		o := i * pad
		lut[i] = [3]byte{p[o+2], p[o+1], p[o]}
	}
	return &lut
}

func bmpIndexRow(raw bmpRaw, src, dst []byte) {
	switch raw {
	case rawP1:
		for x := range dst {
			dst[x] = src[x/8] >> (7 - x%8) & 1
		}
	case rawP4:
		for x := range dst {
			dst[x] = src[x/2] >> (4 * (1 - x%2)) & 15
		}
	default:
		copy(dst, src)
	}
}

func bmpRGBRow(raw bmpRaw, src, dst []byte) {
	n := len(dst) / 3
	set := func(x int, r, g, b byte) { dst[3*x], dst[3*x+1], dst[3*x+2] = r, g, b }
	switch raw {
	case rawBit:
		for x := 0; x < n; x++ {
			v := byte(0)
			if src[x/8]>>(7-x%8)&1 != 0 {
				v = 255
			}
			set(x, v, v, v)
		}
	case rawL:
		for x := 0; x < n; x++ {
			set(x, src[x], src[x], src[x])
		}
	case rawBGR15, rawBGR16:
		for x := 0; x < n; x++ {
			p := int(src[2*x]) | int(src[2*x+1])<<8
			if raw == rawBGR15 {
				set(x, byte((p>>10&31)*255/31), byte((p>>5&31)*255/31), byte((p&31)*255/31))
			} else {
				set(x, byte((p>>11&31)*255/31), byte((p>>5&63)*255/63), byte((p&31)*255/31))
			}
		}
	case rawBGR:
		for x := 0; x < n; x++ {
			set(x, src[3*x+2], src[3*x+1], src[3*x])
		}
	default:
		// 32-bit layouts: positions of R, G, B within the 4 bytes
		var ri, gi, bi int
		switch raw {
		case rawBGRX, rawBGRA:
			ri, gi, bi = 2, 1, 0
		case rawXBGR, rawABGR:
			ri, gi, bi = 3, 2, 1
		case rawBGXR, rawBGAR:
			ri, gi, bi = 3, 1, 0
		case rawRGBA:
			ri, gi, bi = 0, 1, 2
		}
		for x := 0; x < n; x++ {
			s := src[4*x : 4*x+4]
			set(x, s[ri], s[gi], s[bi])
		}
	}
}

// bmpRLE is BmpRleDecoder.decode: it expands RLE4/RLE8 into one byte per pixel in file row
// order. Its quirks are kept: the delta escape consumes four bytes and uses the last two, an
// absolute run in RLE4 drops the odd last pixel, word alignment is by absolute file position.
//
// The output never grows past the width x height bytes the header announces (checked against
// the pixel limit before this runs). Pillow's loop stops once it holds that many, and its raw
// unpacker ignores whatever a last escape appended beyond them, so clipping every append there
// gives the same image: a delta escape alone may add 255 rows, which in a 178-million-pixel-wide
// image is 45 GB (Pillow's MemoryError) from four bytes of file.
func bmpRLE(data []byte, h *bmpHeader) ([]byte, error) {
	pos := h.offset
	read := func(n int) []byte {
		if pos >= len(data) {
			pos += n
			return nil
		}
		b := data[pos:min(pos+n, len(data))]
		pos += n
		return b
	}
	xsize := h.width
	dest := xsize * h.height
	out := make([]byte, 0, dest)
	// zeros appends n zero bytes, never past dest.
	zeros := func(n int) {
		n = min(n, dest-len(out))
		out = append(out, make([]byte, n)...)
	}
	x := 0
	for len(out) < dest {
		pair := read(2)
		if len(pair) < 2 {
			break
		}
		n, b := int(pair[0]), pair[1]
		if n > 0 {
			if x+n > xsize {
				n = max(0, xsize-x)
			}
			n = min(n, dest-len(out))
			for i := 0; i < n; i++ {
				v := b
				if h.rle4 {
					if i%2 == 0 {
						v = b >> 4
					} else {
						v = b & 0x0F
					}
				}
				out = append(out, v)
			}
			x += n
			continue
		}
		switch b {
		case 0: // end of line
			if r := len(out) % xsize; r != 0 {
				zeros(xsize - r)
			}
			x = 0
		case 1: // end of bitmap
			return out, nil
		case 2: // delta
			if len(read(2)) < 2 {
				return out, nil
			}
			d := read(2)
			if len(d) != 2 {
				return nil, fmt.Errorf("%w: bmp: RLE delta cut off", ErrTruncated)
			}
			zeros(int(d[0]) + int(d[1])*xsize)
			x = len(out) % xsize
		default: // absolute run
			count := int(b)
			if h.rle4 {
				count /= 2
			}
			got := read(count)
			for _, v := range got {
				if len(out) >= dest {
					break
				}
				if h.rle4 {
					out = append(out, v>>4)
					if len(out) < dest {
						out = append(out, v&0x0F)
					}
				} else {
					out = append(out, v)
				}
			}
			if len(got) < count {
				return out, nil
			}
			x += int(b)
			if pos%2 != 0 {
				pos++
			}
		}
	}
	return out, nil
}
