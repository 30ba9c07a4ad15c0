package encoding

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/facenet-go/facenet/internal/libjpegturbo"
)

// jpegHeader is what Pillow's JpegImageFile._open learns before handing the file to libjpeg:
// the frame size and the number of components, which pick the PIL mode (L, RGB or CMYK).
type jpegHeader struct {
	width, height int
	layers        int
	// sampling holds each component's (h<<4 | v) sampling factors, from the last SOF.
	sampling []byte
	// multiScan: progressive, or a first scan with fewer components than the frame. libjpeg then
	// buffers the DCT coefficients of the image (coefBufferBytes) before it can output a row.
	multiScan bool
}

// coefBufferBytes is the size of libjpeg's whole-image coefficient buffer for a multi-scan file
// (jdcoefct.c: one 128-byte block per 8x8 block of each component, rounded up to whole MCUs), and
// an allowance for its per-row buffers otherwise. It is most of what decoding a large progressive
// file costs, in libjpeg as in Pillow: a pixel's value is known only after the last scan.
//
// rows, when not nil, is the decode that keeps only some output rows (rows[y] >= 0):
// internal/libjpegturbo then holds in full only the block rows those rows read (the sample row
// and one either side, for the upsampler) and packs every other block into 10 bytes (its DC and
// a mask of its nonzero coefficients), plus a scratch strip of five block rows per component.
func (h jpegHeader) coefBufferBytes(rows []int32) int64 {
	if !h.multiScan || len(h.sampling) == 0 {
		return int64(h.width) * int64(max(h.layers, 1)) * 16 * 8
	}
	hmax, vmax := 1, 1
	for _, s := range h.sampling {
		hmax, vmax = max(hmax, int(s>>4)), max(vmax, int(s&15))
	}
	var n int64
	for _, s := range h.sampling {
		hs, vs := max(int(s>>4), 1), max(int(s&15), 1)
		bw := (int64(h.width)*int64(hs) + int64(8*hmax) - 1) / int64(8*hmax)
		bh := (int64(h.height)*int64(vs) + int64(8*vmax) - 1) / int64(8*vmax)
		bw = (bw + int64(hs) - 1) / int64(hs) * int64(hs)
		bh = (bh + int64(vs) - 1) / int64(vs) * int64(vs)
		if rows == nil {
			n += bw * bh * 128
			continue
		}
		keep := make([]bool, bh)
		full := int64(0)
		for y, r := range rows {
			if r < 0 {
				continue
			}
			s := int64(y) * int64(vs) / int64(vmax)
			for b := max(s-1, 0) / 8; b <= (s+1)/8 && b < bh; b++ {
				if !keep[b] {
					keep[b] = true
					full++
				}
			}
		}
		n += full * bw * 128
		if full < bh {
			n += bw*bh*10 + 5*int64(vs)*bw*128
		}
	}
	return n
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
	var icc [][]byte // ICC_PROFILE APP2 segments since the last SOF
	var mpf []byte   // the last MPF APP2 segment's payload
	var sos []byte   // the first SOS segment's header
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
				case marker == 0xFFDA:
					sos = seg
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
					h.sampling = h.sampling[:0]
					for i := 0; i < h.layers && 6+3*i+1 < len(seg); i++ {
						h.sampling = append(h.sampling, seg[6+3*i+1])
					}
					h.multiScan = marker == 0xFFC2 || marker == 0xFFC6 || marker == 0xFFCA || marker == 0xFFCE
					if err := checkICC(icc); err != nil {
						return h, err
					}
					icc = nil
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
				case marker == 0xFFE2 && hasPrefix(seg, "ICC_PROFILE\x00"):
					icc = append(icc, seg)
				case marker == 0xFFE2 && hasPrefix(seg, "MPF\x00"):
					mpf = seg[4:]
				case marker == 0xFFED && hasPrefix(seg, "Photoshop 3.0\x00"):
					if err := checkPhotoshop(seg); err != nil {
						return h, err
					}
				}
			}
			if marker == 0xFFDA {
				if !seenSOF || h.width <= 0 || h.height <= 0 {
					return h, fmt.Errorf("%w: jpeg: no frame size before the scan", ErrInvalidImage)
				}
				if mpf != nil && mpfEntriesCutOff(mpf) {
					return h, fmt.Errorf("%w: jpeg: MPF index lists more images than it has entries for", ErrInvalidImage)
				}
				if len(sos) > 0 && int(sos[0]) < h.layers {
					h.multiScan = true // a non-interleaved first scan: more scans follow
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

// checkICC is the ICC fix-up of Pillow's SOF handler: it sorts the ICC_PROFILE segments seen
// so far and reads the marker count at byte 13 of the smallest, an IndexError (the file is not
// identified) when that segment has no such byte.
func checkICC(icc [][]byte) error {
	if len(icc) == 0 {
		return nil
	}
	first := icc[0]
	for _, s := range icc[1:] {
		if bytes.Compare(s, first) < 0 {
			first = s
		}
	}
	if len(first) <= 13 {
		return fmt.Errorf("%w: jpeg: ICC profile segment of %d bytes has no marker count", ErrInvalidImage, len(first))
	}
	return nil
}

// checkPhotoshop walks the image resource blocks of a Photoshop APP13 segment as Pillow's APP
// handler does. Its short reads of 16- and 32-bit fields end the walk quietly (struct.error),
// but the resource-name length is indexed without a guard: a block cut off right after its
// resource code is an IndexError, and the file is not identified.
func checkPhotoshop(s []byte) error {
	off := 14
	for off+4 <= len(s) && string(s[off:off+4]) == "8BIM" {
		off += 4
		if off+2 > len(s) {
			return nil
		}
		code := int(s[off])<<8 | int(s[off+1])
		off += 2
		if off >= len(s) {
			return fmt.Errorf("%w: jpeg: Photoshop resource cut off before its name", ErrInvalidImage)
		}
		off += 1 + int(s[off])
		off += off & 1
		if off+4 > len(s) {
			return nil
		}
		size := int(binary.BigEndian.Uint32(s[off:]))
		off += 4
		if code == 0x03ED && len(s)-off < 14 || code == 0x03ED && size < 14 {
			return nil // ResolutionInfo shorter than its fields: struct.error
		}
		off += size
		off += off & 1
	}
	return nil
}

// mpfEntriesCutOff follows Pillow's _getmp over an MPF APP2 payload (a TIFF directory): when
// NumberOfImages promises more 16-byte MP entries than the MPEntry field holds, unpacking the
// first missing one raises struct.error, which Image.open treats as "cannot identify". Every
// other malformation (no TIFF header, a cut-off directory, missing or mistyped tags, an
// entry that is not JPEG) only makes Pillow warn and read the file as a plain JPEG.
func mpfEntriesCutOff(mp []byte) bool {
	if len(mp) < 8 {
		return false
	}
	var bo binary.ByteOrder
	switch string(mp[:4]) {
	case "MM\x00\x2A", "MM\x2A\x00", "MM\x00\x2B":
		bo = binary.BigEndian
	case "II\x2A\x00", "II\x00\x2A", "II\x2B\x00":
		bo = binary.LittleEndian
	default:
		return false
	}
	if mp[2] == 0x2B {
		return false // BigTIFF: Pillow's header unpack fails, a plain JPEG
	}
	entryOrder := binary.ByteOrder(binary.LittleEndian) // _getmp's own choice
	if string(mp[:4]) == "MM\x00\x2A" {
		entryOrder = binary.BigEndian
	}
	type tag struct {
		typ  uint16
		data []byte
	}
	tags := map[uint16]tag{}
	pos := int(bo.Uint32(mp[4:]))
	// TIFF field types Pillow loads, and their sizes; others are skipped.
	units := map[uint16]int{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}
	if pos >= 0 && pos+2 <= len(mp) {
		n := int(bo.Uint16(mp[pos:]))
		pos += 2
		for i := 0; i < n && pos+12 <= len(mp); i++ {
			e := mp[pos : pos+12]
			pos += 12
			id, typ, count := bo.Uint16(e), bo.Uint16(e[2:]), uint64(bo.Uint32(e[4:]))
			unit, ok := units[typ]
			if !ok {
				continue
			}
			size := count * uint64(unit)
			var data []byte
			if size > 4 {
				off := uint64(bo.Uint32(e[8:]))
				if off+size > uint64(len(mp)) {
					break // a short read ends the directory (OSError, caught)
				}
				data = mp[off : off+size]
			} else {
				data = e[8 : 8+size]
			}
			if len(data) > 0 {
				tags[id] = tag{typ, data}
			}
		}
	}
	q, ok := tags[0xB001]
	raw, ok2 := tags[0xB002]
	if !ok || !ok2 || (raw.typ != 1 && raw.typ != 7) {
		return false // KeyError, or an entry list that is no byte string: a plain JPEG
	}
	var quant int64
	switch q.typ { // the first value of an integer field; anything else is a TypeError
	case 3:
		quant = int64(bo.Uint16(q.data))
	case 4, 13:
		quant = int64(bo.Uint32(q.data))
	case 6:
		quant = int64(int8(q.data[0]))
	case 8:
		quant = int64(int16(bo.Uint16(q.data)))
	case 9:
		quant = int64(int32(bo.Uint32(q.data)))
	case 16:
		quant = int64(min(bo.Uint64(q.data), 1<<62))
	default:
		return false
	}
	for e := int64(0); e < quant; e++ {
		if e*16+16 > int64(len(raw.data)) {
			return true
		}
		if entryOrder.Uint32(raw.data[e*16:])>>24&7 != 0 {
			return false // "unsupported picture format in MPO": a warning
		}
	}
	return false
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
// ("CMYK;I") and converted with Pillow's cmyk2rgb (in C, row by row, with libjpeg-turbo).
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
	if opts.JPEGDecoder.isTurbo() {
		// Converted to RGB row by row in C: no CMYK or gray buffer beside the image.
		if err := libjpegErr(libjpegturbo.DecodeRGB(data, h.layers, h.width, h.height, nil, img.Pix)); err != nil {
			return nil, err
		}
		return img, nil
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
