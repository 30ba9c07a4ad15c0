package encoding

import (
	"bytes"
	"fmt"
	"math"
)

// Plain (ASCII) Netpbm, P1 bitmaps, P2 graymaps and P3 pixmaps, decoded as Pillow 11's
// PpmPlainDecoder does, quirks included, because they decide which files are read and how:
//   - the data is read in ImageFile.SAFEBLOCK (1 MiB) blocks, comments are cut out of each
//     block before it is split into tokens, so a comment glues the tokens on either side of it
//     ("1#c\n2" is the token 12), and a comment that runs past a block ends at the next block's
//     first CR or LF, with _find_comment_end's preference for the later one when the block
//     starts with the other;
//   - P1 takes every non-blank byte as a token, refusing anything but 0 and 1 in a whole block
//     even past the last pixel;
//   - P2 and P3 tokens are Python int()s of at most 10 bytes, checked against maxval and scaled
//     with round(value / maxval * out_max) (out_max 65535 for P2 above maxval 255, mode "I",
//     clamped to 255 by convert("RGB"), else 255); tokens after the last pixel are not read;
//   - too few samples is "not enough image data".

// ppmSafeBlock is Pillow's ImageFile.SAFEBLOCK, the size of each read of the plain decoder.
const ppmSafeBlock = 1 << 20

// ppmPlainReader is the decoder's file position and its comment state.
type ppmPlainReader struct {
	data         []byte
	pos          int
	commentSpans bool
}

func (r *ppmPlainReader) readBlock() []byte {
	n := min(ppmSafeBlock, len(r.data)-r.pos)
	b := r.data[r.pos : r.pos+n]
	r.pos += n
	return b
}

// findCommentEnd is _find_comment_end: the lowest non-negative index of LF or CR at or after
// start, except that when one of them is at index 0 the other one's index wins if it exists.
func findCommentEnd(block []byte, start int) int {
	a, b := indexFrom(block, '\n', start), indexFrom(block, '\r', start)
	if a*b > 0 {
		return min(a, b)
	}
	return max(a, b)
}

func indexFrom(b []byte, c byte, start int) int {
	if i := bytes.IndexByte(b[start:], c); i >= 0 {
		return start + i
	}
	return -1
}

// ignoreComments is _ignore_comments. Pillow deletes one comment at a time from the block (a
// copy of the rest each time); deleting them in one forward pass gives the same bytes without
// the quadratic cost, since the text before the first '#' never holds another.
func (r *ppmPlainReader) ignoreComments(block []byte) []byte {
	if r.commentSpans {
		for len(block) > 0 {
			if end := findCommentEnd(block, 0); end != -1 {
				block = block[end+1:]
				break
			}
			block = r.readBlock()
		}
	}
	r.commentSpans = false
	if bytes.IndexByte(block, '#') < 0 {
		return block
	}
	out := make([]byte, 0, len(block))
	for {
		start := bytes.IndexByte(block, '#')
		if start == -1 {
			return append(out, block...)
		}
		out = append(out, block[:start]...)
		end := findCommentEnd(block, start)
		if end == -1 {
			r.commentSpans = true
			return out
		}
		block = block[end+1:]
	}
}

// ppmFields is bytes.split() with no argument: runs of ASCII whitespace separate tokens.
func ppmFields(b []byte) [][]byte {
	return bytes.FieldsFunc(b, func(c rune) bool { return c < 0x80 && isPPMSpace(byte(c)) })
}

// decodePPMPlain decodes the samples of a plain Netpbm file; src starts where Pillow's tile
// does, right after the whitespace that ends the header.
func decodePPMPlain(src []byte, kind byte, w, h, maxval int) (*Image, error) {
	r := &ppmPlainReader{data: src}
	img := newImage(w, h)
	if kind == '1' {
		return img, r.decodeBitonal(img)
	}
	return img, r.decodeBlocks(img, kind, maxval)
}

// decodeBitonal is _decode_bitonal: '0' is white, '1' black.
func (r *ppmPlainReader) decodeBitonal(img *Image) error {
	total := img.Width * img.Height
	n := 0
	for n != total {
		block := r.readBlock()
		if len(block) == 0 {
			break
		}
		block = r.ignoreComments(block)
		var tokens []byte
		for _, f := range ppmFields(block) {
			tokens = append(tokens, f...)
		}
		for _, c := range tokens {
			if c != '0' && c != '1' {
				return fmt.Errorf("%w: ppm: invalid token for this mode: %q", ErrInvalidImage, c)
			}
		}
		for _, c := range tokens[:min(len(tokens), total-n)] {
			v := byte(255)
			if c == '1' {
				v = 0
			}
			o := 3 * n
			img.Pix[o], img.Pix[o+1], img.Pix[o+2] = v, v, v
			n++
		}
	}
	if n != total {
		return fmt.Errorf("%w: ppm: not enough image data (%d of %d pixels)", ErrTruncated, n, total)
	}
	return nil
}

// decodeBlocks is _decode_blocks for P2 (one band) and P3 (three).
func (r *ppmPlainReader) decodeBlocks(img *Image, kind byte, maxval int) error {
	const maxLen = 10
	bands, outMax := 3, 255.0
	if kind == '2' {
		bands = 1
		if maxval > 255 {
			outMax = 65535 // mode "I"
		}
	}
	total := img.Width * img.Height * bands
	n := 0
	var half []byte
	for n != total {
		block := r.readBlock()
		if len(block) == 0 {
			if len(half) == 0 {
				break
			}
			block = []byte(" ") // flush the half token
		}
		block = r.ignoreComments(block)
		if len(half) > 0 {
			block = append(half, block...)
			half = nil
		}
		tokens := ppmFields(block)
		if len(block) > 0 && !isPPMSpace(block[len(block)-1]) {
			half = append([]byte(nil), tokens[len(tokens)-1]...)
			tokens = tokens[:len(tokens)-1]
			if len(half) > maxLen {
				return fmt.Errorf("%w: ppm: token too long in data: %q", ErrInvalidImage, half[:maxLen+1])
			}
		}
		for _, tok := range tokens {
			if len(tok) > maxLen {
				return fmt.Errorf("%w: ppm: token too long in data: %q", ErrInvalidImage, tok[:maxLen+1])
			}
			v, ok := pyInt(tok)
			switch {
			case !ok:
				return fmt.Errorf("%w: ppm: sample %q is not a number", ErrInvalidImage, tok)
			case v < 0:
				return fmt.Errorf("%w: ppm: channel value is negative: %d", ErrInvalidImage, v)
			case v > int64(maxval):
				return fmt.Errorf("%w: ppm: channel value too large for this mode: %d", ErrInvalidImage, v)
			}
			b := byte(min(255, math.RoundToEven(float64(v)/float64(maxval)*outMax)))
			if bands == 3 {
				img.Pix[n] = b
			} else {
				img.Pix[3*n], img.Pix[3*n+1], img.Pix[3*n+2] = b, b, b
			}
			n++
			if n == total {
				break
			}
		}
	}
	if n != total {
		return fmt.Errorf("%w: ppm: not enough image data (%d of %d samples)", ErrTruncated, n, total)
	}
	return nil
}
