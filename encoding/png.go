package encoding

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf8"
)

// The PNG decoder is written out rather than taken from image/png because Pillow's PngImagePlugin
// and ZipDecode.c accept and reject differently: CRCs are checked only for chunks before the
// first IDAT, IEND is optional, data after the last row (including the Adler-32) is ignored, a
// zlib stream that ends on a row boundary leaves the remaining rows at zero, a missing PLTE
// gives black. Pixel conversion follows Pillow's unpackers and Convert.c.

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngMode is the (bit depth, colour type) pair's Pillow mode and raw mode.
type pngMode int

const (
	pngUnknown pngMode = iota
	pngBilevel         // "1" / "1"
	pngGray2           // "L" / "L;2"
	pngGray4           // "L" / "L;4"
	pngGray8           // "L" / "L"
	pngGray16          // "I;16" / "I;16B"
	pngRGB8            // "RGB" / "RGB"
	pngRGB16           // "RGB" / "RGB;16B"
	pngPalette         // "P" / "P;1", "P;2", "P;4", "P"
	pngGrayA8          // "LA" / "LA"
	pngGrayA16         // "RGBA" / "LA;16B"
	pngRGBA8           // "RGBA" / "RGBA"
	pngRGBA16          // "RGBA" / "RGBA;16B"
)

type pngHeader struct {
	width, height int
	depth         int
	mode          pngMode
	bits          int // bits per pixel of the raw mode
	interlaced    bool
	palette       []byte // PLTE payload, nil if none
	hasPalette    bool
	bbox          *[4]int // APNG fcTL region of the default image
	idatPos       int     // offset of the first IDAT payload
	idatLen       int
	// textMemory is PngStream.text_memory: the decoded length of every tEXt, zTXt and iTXt
	// value so far, before and after the image data.
	textMemory int
	// nFrames is PngStream.im_n_frames from acTL, 0 for None; defaultImage is set when the
	// IDAT of an APNG is not its first frame. Together they make Pillow's is_animated.
	nFrames      int
	defaultImage bool
	seq          int // PngStream._seq_num, -1 for None
	inflater     io.ReadCloser
	scratch      []byte
}

// Pillow's PngImagePlugin limits: MAX_TEXT_CHUNK (ImageFile.SAFEBLOCK) bounds one decompressed
// iCCP, zTXt or iTXt payload, MAX_TEXT_MEMORY the text of all chunks together.
const (
	pngMaxTextChunk  = 1 << 20
	pngMaxTextMemory = 64 * pngMaxTextChunk
)

// pngInflate is PngImagePlugin._safe_zlib_decompress: tooLarge when the zlib stream inflates
// past MAX_TEXT_CHUNK (Pillow's ValueError, which refuses the file); broken for a stream zlib
// rejects before that (Pillow's zlib.error, which the handlers ignore). A stream cut short is
// neither: Python's decompressobj returns what it could inflate. Only the length is counted,
// through one reused inflater and buffer, unless keep asks for the bytes: 65 chunks of a
// 1 KB text bomb must not cost 65 MiB.
func (h *pngHeader) pngInflate(s []byte, keep bool) (n int, out []byte, tooLarge, broken bool) {
	var err error
	if h.inflater == nil {
		h.inflater, err = zlib.NewReader(bytes.NewReader(s))
	} else {
		err = h.inflater.(zlib.Resetter).Reset(bytes.NewReader(s), nil)
	}
	if err != nil {
		h.inflater = nil
		return 0, nil, false, true
	}
	if h.scratch == nil {
		h.scratch = make([]byte, 32<<10)
	}
	for {
		var m int
		m, err = h.inflater.Read(h.scratch)
		if n+m > pngMaxTextChunk {
			return n + m, nil, true, false
		}
		if keep {
			out = append(out, h.scratch[:m]...)
		}
		n += m
		if err != nil {
			break
		}
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return n, out, false, true
	}
	return n, out, false, false
}

// addText is PngStream.check_text_memory.
func (h *pngHeader) addText(n int) error {
	h.textMemory += n
	if h.textMemory > pngMaxTextMemory {
		return fmt.Errorf("%w: png: too much memory used in text chunks: %d>MAX_TEXT_MEMORY", ErrInvalidImage, h.textMemory)
	}
	return nil
}

// animated is PngImageFile.is_animated.
func (h *pngHeader) animated() bool {
	n := max(h.nFrames, 1)
	if h.defaultImage {
		n++
	}
	return n > 1
}

func pngModeOf(depth, colorType int) (pngMode, int) {
	switch colorType {
	case 0:
		switch depth {
		case 1:
			return pngBilevel, 1
		case 2:
			return pngGray2, 2
		case 4:
			return pngGray4, 4
		case 8:
			return pngGray8, 8
		case 16:
			return pngGray16, 16
		}
	case 2:
		switch depth {
		case 8:
			return pngRGB8, 24
		case 16:
			return pngRGB16, 48
		}
	case 3:
		switch depth {
		case 1, 2, 4, 8:
			return pngPalette, depth
		}
	case 4:
		switch depth {
		case 8:
			return pngGrayA8, 16
		case 16:
			return pngGrayA16, 32
		}
	case 6:
		switch depth {
		case 8:
			return pngRGBA8, 32
		case 16:
			return pngRGBA16, 64
		}
	}
	return pngUnknown, 0
}

func isChunkID(id []byte) bool {
	if len(id) != 4 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// parsePNGHeader follows PngImageFile._open: chunks up to the first IDAT (or fdAT, or IEND) are
// read, handed to the same checks as Pillow's chunk handlers and CRC-verified.
func parsePNGHeader(data []byte) (*pngHeader, error) {
	h := &pngHeader{seq: -1}
	pos := len(pngSignature)
	for {
		if pos+8 > len(data) {
			return nil, fmt.Errorf("%w: png: chunk header cut off", ErrTruncated)
		}
		length := int(binary.BigEndian.Uint32(data[pos:]))
		id := data[pos+4 : pos+8]
		if !isChunkID(id) {
			return nil, fmt.Errorf("%w: png: broken file (chunk %q)", ErrInvalidImage, id)
		}
		pos += 8
		cid := string(id)
		if cid == "IDAT" || cid == "IEND" || cid == "fdAT" {
			if cid == "fdAT" {
				if length < 4 {
					return nil, fmt.Errorf("%w: png: truncated fdAT chunk", ErrInvalidImage)
				}
				if pos+4 > len(data) {
					return nil, fmt.Errorf("%w: png: fdAT cut off", ErrTruncated)
				}
				// Pillow compares with the last fcTL's number; without one (None) nothing matches.
				if n := int(binary.BigEndian.Uint32(data[pos:])); h.seq < 0 || n != h.seq+1 {
					return nil, fmt.Errorf("%w: png: APNG frame sequence error", ErrInvalidImage)
				}
				h.seq++
				pos += 4
				length -= 4
			}
			if cid == "IEND" {
				return nil, fmt.Errorf("%w: png: no image data before IEND", ErrInvalidImage)
			}
			if h.bbox == nil && h.nFrames != 0 {
				h.defaultImage = true
			}
			h.idatPos, h.idatLen = pos, length
			break
		}
		end := pos + length
		if length < 0 || end > len(data) || end < pos {
			return nil, fmt.Errorf("%w: png: %s chunk cut off", ErrTruncated, cid)
		}
		s := data[pos:end]
		if err := h.chunk(cid, s, &h.seq); err != nil {
			return nil, err
		}
		if end+4 > len(data) {
			return nil, fmt.Errorf("%w: png: incomplete checksum in %s", ErrTruncated, cid)
		}
		crc := crc32.NewIEEE()
		crc.Write(id)
		crc.Write(s)
		if crc.Sum32() != binary.BigEndian.Uint32(data[end:]) {
			return nil, fmt.Errorf("%w: png: bad checksum in %s chunk", ErrInvalidImage, cid)
		}
		pos = end + 4
	}
	if h.mode == pngUnknown || h.width <= 0 || h.height <= 0 {
		if h.mode == pngUnknown {
			return nil, fmt.Errorf("%w: png: unsupported bit depth / colour type", ErrInvalidImage)
		}
		return nil, fmt.Errorf("%w: png: image size %dx%d", ErrInvalidImage, h.width, h.height)
	}
	if h.hasPalette && len(h.palette)/3 > 256 {
		return nil, fmt.Errorf("%w: png: palette has %d entries", ErrInvalidImage, len(h.palette)/3)
	}
	return h, nil
}

// chunk applies the checks of Pillow's handler for one pre-IDAT chunk.
func (h *pngHeader) chunk(cid string, s []byte, seq *int) error {
	short := func(n int) error {
		if len(s) < n {
			return fmt.Errorf("%w: png: truncated %s chunk", ErrInvalidImage, cid)
		}
		return nil
	}
	switch cid {
	case "IHDR":
		if err := short(13); err != nil {
			return err
		}
		h.width = int(binary.BigEndian.Uint32(s[0:]))
		h.height = int(binary.BigEndian.Uint32(s[4:]))
		if m, bits := pngModeOf(int(s[8]), int(s[9])); m != pngUnknown {
			h.mode, h.bits, h.depth = m, bits, int(s[8])
		}
		h.interlaced = s[12] != 0
		if s[11] != 0 {
			return fmt.Errorf("%w: png: unknown filter category", ErrInvalidImage)
		}
	case "PLTE":
		if h.mode == pngPalette {
			h.palette, h.hasPalette = s, true
		}
	case "tRNS":
		switch h.mode {
		case pngBilevel, pngGray2, pngGray4, pngGray8, pngGray16:
			return short(2)
		case pngRGB8, pngRGB16:
			return short(6)
		}
	case "gAMA":
		return short(4)
	case "cHRM":
		// Pillow unpacks len/4 big-endian integers from the whole payload.
		if len(s)%4 != 0 {
			return fmt.Errorf("%w: png: cHRM chunk of %d bytes", ErrInvalidImage, len(s))
		}
	case "sRGB":
		return short(1)
	case "pHYs":
		return short(9)
	case "iCCP":
		i := indexByte(s, 0)
		if i+1 >= len(s) || i+1 < 0 {
			return fmt.Errorf("%w: png: malformed iCCP chunk", ErrInvalidImage)
		}
		if s[i+1] != 0 {
			return fmt.Errorf("%w: png: unknown compression method in iCCP chunk", ErrInvalidImage)
		}
		if _, _, tooLarge, _ := h.pngInflate(s[i+2:], false); tooLarge {
			return fmt.Errorf("%w: png: iCCP profile decompresses past %d bytes (MAX_TEXT_CHUNK)", ErrInvalidImage, pngMaxTextChunk)
		}
	case "tEXt":
		k, v := s, []byte(nil)
		if i := indexByte(s, 0); i >= 0 {
			k, v = s[:i], s[i+1:]
		}
		if len(k) > 0 {
			return h.addText(len(v)) // latin-1: one character per byte
		}
	case "zTXt":
		k, v := s, []byte(nil)
		if i := indexByte(s, 0); i >= 0 {
			k, v = s[:i], s[i+1:]
		}
		if len(v) > 0 && v[0] != 0 {
			return fmt.Errorf("%w: png: unknown compression method in zTXt chunk", ErrInvalidImage)
		}
		text := 0
		if len(v) > 0 {
			n, _, tooLarge, broken := h.pngInflate(v[1:], false)
			if tooLarge {
				return fmt.Errorf("%w: png: zTXt text decompresses past %d bytes (MAX_TEXT_CHUNK)", ErrInvalidImage, pngMaxTextChunk)
			}
			if !broken {
				text = n
			}
		}
		if len(k) > 0 {
			return h.addText(text)
		}
	case "iTXt":
		return h.iTXt(s)
	case "acTL":
		if err := short(8); err != nil {
			return err
		}
		// A second acTL makes the file a plain PNG, an impossible frame count is ignored.
		if h.nFrames != 0 {
			h.nFrames = 0
		} else if n := binary.BigEndian.Uint32(s); n != 0 && n <= 0x80000000 {
			h.nFrames = int(n)
		}
	case "fcTL":
		if err := short(26); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint32(s))
		if (*seq < 0 && n != 0) || (*seq >= 0 && n != *seq+1) {
			return fmt.Errorf("%w: png: APNG frame sequence error", ErrInvalidImage)
		}
		*seq = n
		w, hh := int(binary.BigEndian.Uint32(s[4:])), int(binary.BigEndian.Uint32(s[8:]))
		px, py := int(binary.BigEndian.Uint32(s[12:])), int(binary.BigEndian.Uint32(s[16:]))
		if px+w > h.width || py+hh > h.height {
			return fmt.Errorf("%w: png: APNG frame outside the image", ErrInvalidImage)
		}
		h.bbox = &[4]int{px, py, px + w, py + hh}
	}
	return nil
}

// iTXt is PngStream.chunk_iTXt: malformed chunks and text that is not UTF-8 are skipped, a
// compressed text past MAX_TEXT_CHUNK refuses the file, the rest counts characters towards
// MAX_TEXT_MEMORY.
func (h *pngHeader) iTXt(s []byte) error {
	i := indexByte(s, 0)
	if i < 0 {
		return nil
	}
	r := s[i+1:]
	if len(r) < 2 {
		return nil
	}
	cf, cm, r := r[0], r[1], r[2:]
	j := indexByte(r, 0)
	if j < 0 {
		return nil
	}
	lang, rest := r[:j], r[j+1:]
	k := indexByte(rest, 0)
	if k < 0 {
		return nil
	}
	tk, v := rest[:k], rest[k+1:]
	if cf != 0 {
		if cm != 0 {
			return nil
		}
		_, out, tooLarge, broken := h.pngInflate(v, true)
		if tooLarge {
			return fmt.Errorf("%w: png: iTXt text decompresses past %d bytes (MAX_TEXT_CHUNK)", ErrInvalidImage, pngMaxTextChunk)
		}
		if broken {
			return nil
		}
		v = out
	}
	if !utf8.Valid(lang) || !utf8.Valid(tk) || !utf8.Valid(v) {
		return nil
	}
	return h.addText(utf8.RuneCount(v))
}

func indexByte(s []byte, c byte) int {
	for i, b := range s {
		if b == c {
			return i
		}
	}
	return -1
}

// idatReader yields the image data the way PngImageFile.load_read does: the payloads of
// consecutive IDAT (or fdAT, minus its sequence number) chunks, CRCs unchecked, ending at the
// first other chunk or at the end of the file.
type idatReader struct {
	data      []byte
	pos       int
	remaining int
	done      bool
	seq       *int // PngStream._seq_num: load_read runs each fdAT through chunk_fdAT
}

// ReadByte makes idatReader a flate.Reader, so the inflater reads only the bytes it needs
// instead of buffering ahead: where it stops tells which chunk holds the last row.
func (r *idatReader) ReadByte() (byte, error) {
	if r.remaining > 0 && r.pos < len(r.data) {
		b := r.data[r.pos]
		r.pos++
		r.remaining--
		return b, nil
	}
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n == 1 {
			return b[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// loadEnd is PngImageFile.load_end, run from pos, the end of the chunk that held the last row:
// every chunk up to IEND goes through Pillow's handler for it (CRCs unchecked), so what a
// handler refuses after the image data fails the image as it does in Pillow, and a chunk
// that is cut off fails it as "Truncated File Read". A chunk header that is cut off or not a
// chunk name ends the walk quietly, as do IEND and, in an animated PNG, the next fcTL.
func (h *pngHeader) loadEnd(data []byte, pos int) error {
	seq := h.seq
	animated := h.animated()
	for {
		pos += 4 // CRC
		if pos+8 > len(data) {
			return nil
		}
		length := int(binary.BigEndian.Uint32(data[pos:]))
		id := data[pos+4 : pos+8]
		if !isChunkID(id) {
			return nil
		}
		pos += 8
		cid := string(id)
		switch {
		case cid == "IEND", cid == "fcTL" && animated:
			return nil
		case cid == "fdAT":
			if length < 4 {
				return fmt.Errorf("%w: png: truncated fdAT chunk after the image data", ErrInvalidImage)
			}
			if pos+4 > len(data) {
				return fmt.Errorf("%w: png: fdAT chunk cut off after the image data", ErrTruncated)
			}
			if n := int(binary.BigEndian.Uint32(data[pos:])); seq < 0 || n != seq+1 {
				return fmt.Errorf("%w: png: APNG frame sequence error after the image data", ErrInvalidImage)
			}
			seq++
		}
		if length > len(data)-pos {
			return fmt.Errorf("%w: png: %s chunk after the image data cut off", ErrTruncated, cid)
		}
		if cid != "IDAT" && cid != "fdAT" {
			if err := h.chunk(cid, data[pos:pos+length], &seq); err != nil {
				return fmt.Errorf("after the image data: %w", err)
			}
		}
		pos += length
	}
}

func (r *idatReader) Read(p []byte) (int, error) {
	for r.remaining == 0 {
		if r.done {
			return 0, io.EOF
		}
		// skip the CRC, read the next chunk header
		hdr := r.pos + 4
		if hdr+8 > len(r.data) {
			r.done = true
			return 0, io.EOF
		}
		length := int(binary.BigEndian.Uint32(r.data[hdr:]))
		switch string(r.data[hdr+4 : hdr+8]) {
		case "IDAT", "DDAT":
			r.pos = hdr + 8
		case "fdAT":
			// chunk_fdAT refuses a short chunk or a sequence number out of order.
			if length < 4 {
				r.done = true
				return 0, fmt.Errorf("%w: png: truncated fdAT chunk", ErrInvalidImage)
			}
			if hdr+12 > len(r.data) {
				r.done = true
				return 0, io.EOF
			}
			if n := int(binary.BigEndian.Uint32(r.data[hdr+8:])); r.seq == nil || *r.seq < 0 || n != *r.seq+1 {
				r.done = true
				return 0, fmt.Errorf("%w: png: APNG frame sequence error", ErrInvalidImage)
			}
			*r.seq++
			r.pos = hdr + 12
			length -= 4
		default:
			r.done = true
			return 0, io.EOF
		}
		if length < 0 {
			r.done = true
			return 0, io.EOF
		}
		r.remaining = length
	}
	avail := min(r.remaining, len(r.data)-r.pos)
	if avail <= 0 {
		r.done, r.remaining = true, 0
		return 0, io.EOF
	}
	n := copy(p, r.data[r.pos:r.pos+avail])
	r.pos += n
	r.remaining -= n
	return n, nil
}

// adam7 holds ZipDecode.c's interlace tables.
var adam7 = [7]struct{ offset, startCol, startRow, colInc, rowInc int }{
	{7, 0, 0, 8, 8}, {3, 4, 0, 8, 8}, {3, 0, 4, 4, 8}, {1, 2, 0, 4, 4},
	{1, 0, 2, 2, 4}, {0, 1, 0, 2, 2}, {0, 0, 1, 1, 2},
}

func decodePNG(data []byte, opts DecodeOptions) (*Image, error) {
	h, err := parsePNGHeader(data)
	if err != nil {
		return nil, err
	}
	if err := checkPixels(h.width, h.height, opts); err != nil {
		return nil, err
	}
	img := newImage(h.width, h.height)
	// The region the tile covers: the whole image, or the APNG default frame's box.
	x0, y0, w, hgt := 0, 0, h.width, h.height
	if h.bbox != nil {
		x0, y0 = h.bbox[0], h.bbox[1]
		w, hgt = h.bbox[2]-h.bbox[0], h.bbox[3]-h.bbox[1]
		if w <= 0 || hgt <= 0 {
			return nil, fmt.Errorf("%w: png: empty APNG frame", ErrInvalidImage)
		}
	}
	var index []byte // palette indices, converted once all rows are in
	if h.mode == pngPalette {
		index = make([]byte, h.width*h.height)
	}
	src := &idatReader{data: data, pos: h.idatPos, remaining: h.idatLen, seq: &h.seq}
	zr, err := zlib.NewReader(src)
	if err != nil {
		return nil, pngDataError(err)
	}
	bpp := (h.bits + 7) / 8
	rowBytes := (w*h.bits + 7) / 8
	cur := make([]byte, rowBytes+1)
	prev := make([]byte, rowBytes+1)
	put := func(row []byte, y, col, inc, n int) {
		pngUnpack(h.mode, h.bits, row, n, img.Pix, index, h.width, x0+col, inc, y0+y)
	}
	rowsDone := 0
	// readRow fetches one filtered row; end reports a zlib stream that ended cleanly on a row
	// boundary, which ZipDecode treats as the end of the image.
	readRow := func(buf []byte) (end bool, err error) {
		_, err = io.ReadFull(zr, buf)
		switch {
		case err == nil:
			return false, nil
		case errors.Is(err, io.EOF) && rowsDone > 0:
			return true, nil
		}
		return false, pngDataError(err)
	}
	if !h.interlaced {
		for y := 0; y < hgt; y++ {
			end, err := readRow(cur)
			if err != nil {
				return nil, err
			}
			if end {
				break
			}
			if err := unfilter(cur, prev, bpp); err != nil {
				return nil, err
			}
			put(cur[1:], y, 0, 1, w)
			rowsDone++
			cur, prev = prev, cur
		}
	} else {
	passes:
		for pass := 0; pass < 7; pass++ {
			p := adam7[pass]
			cols := (w + p.offset) / p.colInc
			n := (cols*h.bits + 7) / 8
			if n <= 0 || p.startRow >= hgt {
				continue
			}
			clear(prev[:n+1])
			for y := p.startRow; y < hgt; y += p.rowInc {
				end, err := readRow(cur[:n+1])
				if err != nil {
					return nil, err
				}
				if end {
					break passes
				}
				if err := unfilter(cur[:n+1], prev[:n+1], bpp); err != nil {
					return nil, err
				}
				put(cur[1:n+1], y, p.startCol, p.colInc, cols)
				rowsDone++
				cur, prev = prev, cur
			}
		}
	}
	// ZipDecode stops at the last row; only an error met right after it (a bad Adler-32 or
	// corrupt data where zlib would look next) fails the image.
	// load_end starts where the chunk holding the last row ends (the rest of it is skipped).
	tail := src.pos + src.remaining
	var peek [1]byte
	if _, err := zr.Read(peek[:]); err != nil && (errors.Is(err, zlib.ErrChecksum) || isCorrupt(err)) {
		return nil, pngDataError(err)
	}
	after := *h // chunks after the image data update Pillow's stream, not the image
	if err := after.loadEnd(data, tail); err != nil {
		return nil, err
	}
	if index != nil {
		applyPalette(img.Pix, index, h.palette)
	}
	return img, nil
}

func isCorrupt(err error) bool {
	var ce flate.CorruptInputError
	return errors.As(err, &ce)
}

func pngDataError(err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: png image data ends early", ErrTruncated)
	case errors.Is(err, ErrInvalidImage):
		return err
	default:
		return fmt.Errorf("%w: png image data: %v", ErrInvalidImage, err)
	}
}

// unfilter undoes the PNG row filter in place; row[0] is the filter type.
func unfilter(row, prev []byte, bpp int) error {
	n := len(row) - 1
	switch row[0] {
	case 0:
	case 1:
		for i := bpp + 1; i <= n; i++ {
			row[i] += row[i-bpp]
		}
	case 2:
		for i := 1; i <= n; i++ {
			row[i] += prev[i]
		}
	case 3:
		i := 1
		for ; i <= bpp && i <= n; i++ {
			row[i] += prev[i] / 2
		}
		for ; i <= n; i++ {
			row[i] += uint8((int(row[i-bpp]) + int(prev[i])) / 2)
		}
	case 4:
		i := 1
		for ; i <= bpp && i <= n; i++ {
			row[i] += prev[i]
		}
		for ; i <= n; i++ {
			a, b, c := int(row[i-bpp]), int(prev[i]), int(prev[i-bpp])
			pa, pb, pc := abs(b-c), abs(a-c), abs(a+b-2*c)
			switch {
			case pa <= pb && pa <= pc:
				row[i] += uint8(a)
			case pb <= pc:
				row[i] += uint8(b)
			default:
				row[i] += uint8(c)
			}
		}
	default:
		return fmt.Errorf("%w: png: unknown row filter %d", ErrInvalidImage, row[0])
	}
	return nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// pngUnpack converts n pixels of one unfiltered row to RGB (or palette indices) at row y,
// columns col, col+inc, ... with Pillow's unpacker and RGB conversion for the mode.
func pngUnpack(mode pngMode, bits int, row []byte, n int, pix, index []byte, width, col, inc, y int) {
	o := (y*width + col) * 3
	step := inc * 3
	switch mode {
	case pngBilevel, pngGray2, pngGray4:
		scale := byte(0x11) // L;4
		switch bits {
		case 1:
			scale = 255 // "1": any set bit is white
		case 2:
			scale = 0x55
		}
		mask := byte(1<<bits - 1)
		for k := 0; k < n; k++ {
			bit := k * bits
			v := (row[bit/8] >> (8 - bits - bit%8)) & mask * scale
			pix[o], pix[o+1], pix[o+2] = v, v, v
			o += step
		}
	case pngGray8:
		for k := 0; k < n; k++ {
			v := row[k]
			pix[o], pix[o+1], pix[o+2] = v, v, v
			o += step
		}
	case pngGray16:
		for k := 0; k < n; k++ {
			v := row[2*k+1] // I;16 -> RGB keeps the low byte when the high byte is 0, else 255
			if row[2*k] != 0 {
				v = 255
			}
			pix[o], pix[o+1], pix[o+2] = v, v, v
			o += step
		}
	case pngRGB8, pngRGBA8:
		size := bits / 8
		for k := 0; k < n; k++ {
			s := row[k*size:]
			pix[o], pix[o+1], pix[o+2] = s[0], s[1], s[2]
			o += step
		}
	case pngRGB16, pngRGBA16:
		size := bits / 8
		for k := 0; k < n; k++ {
			s := row[k*size:]
			pix[o], pix[o+1], pix[o+2] = s[0], s[2], s[4]
			o += step
		}
	case pngGrayA8, pngGrayA16:
		size := bits / 8
		for k := 0; k < n; k++ {
			v := row[k*size]
			pix[o], pix[o+1], pix[o+2] = v, v, v
			o += step
		}
	case pngPalette:
		i := y*width + col
		mask := byte(1<<bits - 1)
		for k := 0; k < n; k++ {
			if bits == 8 {
				index[i] = row[k]
			} else {
				bit := k * bits
				index[i] = (row[bit/8] >> (8 - bits - bit%8)) & mask
			}
			i += inc
		}
	}
}

// applyPalette maps indices through an RGB palette as Pillow's p2rgb does: a palette of
// len/3 entries, entries past its end black.
func applyPalette(pix, index, palette []byte) {
	var lut [256][3]byte
	for i := 0; i < 256 && 3*i+2 < len(palette); i++ {
		lut[i] = [3]byte{palette[3*i], palette[3*i+1], palette[3*i+2]}
	}
	for i, v := range index {
		c := lut[v]
		pix[3*i], pix[3*i+1], pix[3*i+2] = c[0], c[1], c[2]
	}
}
