package encoding

import (
	"encoding/binary"
	"fmt"
)

// GIF follows Pillow's GifImagePlugin for frame 0 and ports GifDecode.c's LZW decoder, because
// image/gif differs where Pillow is lenient (indices past the palette are black, the frame may
// exceed the logical screen, which then grows) and where it is strict (an early end code is an
// error once the data is exhausted).

// pillowReadBlock is ImageFile.MAXBLOCK: ImageFile.load hands the decoder the file in pieces of
// this size, which decides what an early LZW end code does.
const pillowReadBlock = 65536

type gifFrame struct {
	width, height  int // image size: logical screen, grown to hold the frame
	x0, y0, w, h   int // frame extent
	palette        []byte
	paletted       bool // pixels go through palette; otherwise they are gray levels (mode "L")
	transparency   int  // -1 if none
	interlaced     bool
	lzwBits        int
	dataPos        int
	screenPalette  []byte
	screenPaletted bool
}

// gifPaletteNeeded is GifImageFile._is_palette_needed: false for an identity gray ramp. Like
// its chained comparison it only fails on a cut-off palette when it reaches the missing byte.
func gifPaletteNeeded(p []byte) (bool, error) {
	cut := fmt.Errorf("%w: gif: palette cut off", ErrTruncated)
	for i := 0; i < len(p); i += 3 {
		if int(p[i]) != i/3 {
			return true, nil
		}
		if i+1 >= len(p) {
			return false, cut
		}
		if p[i+1] != p[i] {
			return true, nil
		}
		if i+2 >= len(p) {
			return false, cut
		}
		if p[i+2] != p[i+1] {
			return true, nil
		}
	}
	return false, nil
}

// parseGIF reads the screen descriptor and walks blocks to the first image descriptor, with
// GifImageFile._open and _seek(0)'s rules.
func parseGIF(data []byte, opts DecodeOptions) (*gifFrame, error) {
	if len(data) < 13 {
		return nil, fmt.Errorf("%w: gif: screen descriptor cut off", ErrTruncated)
	}
	f := &gifFrame{transparency: -1}
	f.width = int(binary.LittleEndian.Uint16(data[6:]))
	f.height = int(binary.LittleEndian.Uint16(data[8:]))
	flags := data[10]
	pos := 13
	if flags&128 != 0 {
		n := 3 << (flags&7 + 1)
		p := data[pos:min(pos+n, len(data))]
		pos += len(p)
		needed, err := gifPaletteNeeded(p)
		if err != nil {
			return nil, err
		}
		if needed {
			f.screenPalette, f.screenPaletted = p, true
		}
	}
	// readSub is GifImageFile.data: one sub-block, nil at a terminator or the end of the file.
	readSub := func() []byte {
		if pos >= len(data) || data[pos] == 0 {
			if pos < len(data) {
				pos++
			}
			return nil
		}
		n := int(data[pos])
		pos++
		b := data[pos:min(pos+n, len(data))]
		pos += len(b)
		return b
	}
	var local []byte
	localNeeded := false
	for {
		if pos >= len(data) || data[pos] == ';' {
			return nil, fmt.Errorf("%w: gif: no image in the file", ErrInvalidImage)
		}
		c := data[pos]
		pos++
		switch c {
		case '!':
			if pos >= len(data) {
				return nil, fmt.Errorf("%w: gif: extension cut off", ErrTruncated)
			}
			label := data[pos]
			pos++
			block := readSub()
			switch {
			case label == 249 && block != nil:
				// Pillow indexes the block without a length check.
				if len(block) < 3 || (block[0]&1 != 0 && len(block) < 4) {
					return nil, fmt.Errorf("%w: gif: short graphic control extension", ErrInvalidImage)
				}
				if block[0]&1 != 0 {
					f.transparency = int(block[3])
				}
			case label == 254:
				for block != nil {
					block = readSub()
				}
				continue
			case label == 255 && block != nil:
				if len(block) >= 11 && string(block[:11]) == "NETSCAPE2.0" {
					readSub() // the loop-count block
				}
			}
			for readSub() != nil {
			}
		case ',':
			if pos+9 > len(data) {
				return nil, fmt.Errorf("%w: gif: image descriptor cut off", ErrTruncated)
			}
			d := data[pos : pos+9]
			pos += 9
			f.x0 = int(binary.LittleEndian.Uint16(d[0:]))
			f.y0 = int(binary.LittleEndian.Uint16(d[2:]))
			f.w = int(binary.LittleEndian.Uint16(d[4:]))
			f.h = int(binary.LittleEndian.Uint16(d[6:]))
			if x1, y1 := f.x0+f.w, f.y0+f.h; x1 > f.width || y1 > f.height {
				f.width, f.height = max(x1, f.width), max(y1, f.height)
				if err := checkPixels(max(1, f.width), max(1, f.height), opts); err != nil {
					return nil, err
				}
			}
			f.interlaced = d[8]&64 != 0
			if d[8]&128 != 0 {
				n := 3 << (d[8]&7 + 1)
				local = data[pos:min(pos+n, len(data))]
				pos += len(local)
				var err error
				if localNeeded, err = gifPaletteNeeded(local); err != nil {
					return nil, err
				}
			}
			if pos >= len(data) {
				return nil, fmt.Errorf("%w: gif: image data cut off", ErrTruncated)
			}
			f.lzwBits = int(data[pos])
			f.dataPos = pos + 1
			// An identity local palette makes the frame mode "L", but Pillow still attaches the
			// global palette, and realising it at load turns the image into "P" with it.
			if localNeeded {
				f.palette, f.paletted = local, true
			} else {
				f.palette, f.paletted = f.screenPalette, f.screenPaletted
			}
			return f, nil
		}
		// anything else is skipped one byte at a time, as Pillow does
	}
}

func decodeGIF(data []byte, opts DecodeOptions) (*Image, error) {
	f, err := parseGIF(data, opts)
	if err != nil {
		return nil, err
	}
	if err := checkPixels(f.width, f.height, opts); err != nil {
		return nil, err
	}
	if f.w <= 0 || f.h <= 0 {
		return nil, fmt.Errorf("%w: gif: empty frame", ErrInvalidImage)
	}
	// Frame 0 starts from the transparent index if there is one, else index 0.
	index := make([]byte, f.width*f.height)
	if f.transparency >= 0 {
		for i := range index {
			index[i] = byte(f.transparency)
		}
	}
	if err := lzwDecode(data, f, index); err != nil {
		return nil, err
	}
	img := newImage(f.width, f.height)
	if f.paletted {
		applyPalette(img.Pix, index, f.palette)
	} else {
		grayToRGB(img.Pix, index)
	}
	return img, nil
}

// gifLZW is GifDecode.c's state.
type gifLZW struct {
	bits, clear, end, next  int
	codesize, codemask      int
	bitbuffer, bitcount     int
	blocksize               int
	lastdata, lastcode      int
	bufferindex             int
	state                   int
	interlace, step, repeat int
	x, y                    int
	buffer                  [4096]byte
	data                    [4096]byte
	link                    [4096]uint16
	one                     [1]byte
}

const gifTable = 4096

// lzwDecode runs the decoder the way ImageFile.load drives it: input arrives in 64 KiB pieces
// and the decoder is called again after it returns, until it reports completion; running out
// of file first is "image file is truncated".
func lzwDecode(data []byte, f *gifFrame, index []byte) error {
	if f.lzwBits < 0 || f.lzwBits > 12 {
		return fmt.Errorf("%w: gif: LZW code size %d", ErrInvalidImage, f.lzwBits)
	}
	d := &gifLZW{bits: f.lzwBits, state: 1}
	d.clear = 1 << d.bits
	d.end = d.clear + 1
	if f.interlaced {
		d.interlace, d.step, d.repeat = 1, 8, 8
	} else {
		d.step = 1
	}
	start := f.dataPos
	limit := min(start+pillowReadBlock, len(data))
	for {
		consumed, done, err := d.decode(data[start:limit], f, index)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		start += consumed
		if limit == len(data) {
			return fmt.Errorf("%w: gif image data ends early", ErrTruncated)
		}
		limit = min(limit+pillowReadBlock, len(data))
	}
}

// decode is ImagingGifDecode for a frame written at (f.x0, f.y0) of an image f.width wide,
// with no transparency skipping (frame 0). It returns the bytes consumed, or done once the
// last row is written.
func (d *gifLZW) decode(buf []byte, f *gifFrame, index []byte) (int, bool, error) {
	ptr := 0
	xsize, ysize := f.w, f.h
	broken := func() (int, bool, error) {
		return 0, false, fmt.Errorf("%w: gif: corrupt LZW data", ErrInvalidImage)
	}
	out := (d.y+f.y0)*f.width + f.x0 + d.x
	// newline is the NEWLINE macro; it reports true when the frame is complete.
	newline := func() bool {
		d.x = 0
		d.y += d.step
		for d.y >= ysize {
			switch d.interlace {
			case 1:
				d.repeat, d.y, d.interlace = 4, 4, 2
			case 2:
				d.step, d.repeat, d.y, d.interlace = 4, 2, 2, 3
			case 3:
				d.step, d.repeat, d.y, d.interlace = 2, 1, 1, 0
			default:
				return true
			}
		}
		out = (d.y+f.y0)*f.width + f.x0
		return false
	}
	for {
		if d.state == 1 {
			d.next = d.clear + 2
			d.codesize = d.bits + 1
			d.codemask = 1<<d.codesize - 1
			d.bufferindex = gifTable
			d.state = 2
		}
		var p []byte
		if d.bufferindex < gifTable {
			p = d.buffer[d.bufferindex:]
			d.bufferindex = gifTable
		} else {
			for d.bitcount < d.codesize {
				if d.blocksize > 0 {
					c := buf[ptr]
					ptr++
					d.blocksize--
					d.bitbuffer |= int(c) << d.bitcount
					d.bitcount += 8
				} else {
					// a new sub-block is only started when all of it is available
					if ptr >= len(buf) {
						return ptr, false, nil
					}
					c := int(buf[ptr])
					if len(buf)-ptr < c+1 {
						return ptr, false, nil
					}
					d.blocksize = c
					ptr++
				}
			}
			c := d.bitbuffer & d.codemask
			d.bitbuffer >>= d.codesize
			d.bitcount -= d.codesize
			if c == d.clear {
				if d.state != 2 {
					d.state = 1
				}
				continue
			}
			if c == d.end {
				return ptr, false, nil
			}
			if d.state == 2 {
				if c > d.clear {
					return broken()
				}
				d.lastdata, d.lastcode = c, c
				d.state = 3
			} else {
				thiscode := c
				if c > d.next {
					return broken()
				}
				if c == d.next {
					if d.bufferindex <= 0 {
						return broken()
					}
					d.bufferindex--
					d.buffer[d.bufferindex] = byte(d.lastdata)
					c = d.lastcode
				}
				for c >= d.clear {
					if d.bufferindex <= 0 || c >= gifTable {
						return broken()
					}
					d.bufferindex--
					d.buffer[d.bufferindex] = d.data[c]
					c = int(d.link[c])
				}
				d.lastdata = c
				if d.next < gifTable {
					d.data[d.next] = byte(c)
					d.link[d.next] = uint16(d.lastcode)
					if d.next == d.codemask && d.codesize < 12 {
						d.codesize++
						d.codemask = 1<<d.codesize - 1
					}
					d.next++
				}
				d.lastcode = thiscode
			}
			// The string's first byte goes out now; the rest, stacked in buffer, on the next turn.
			d.one[0] = byte(d.lastdata)
			p = d.one[:]
		}
		if d.y >= ysize {
			return 0, false, fmt.Errorf("%w: gif: too much image data", ErrInvalidImage)
		}
		for _, v := range p {
			index[out] = v
			out++
			d.x++
			if d.x >= xsize && newline() {
				return ptr, true, nil
			}
		}
	}
}
