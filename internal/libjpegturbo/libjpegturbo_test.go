package libjpegturbo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func read(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", rel))
	require.NoError(t, err)
	return data
}

// Lossless JPEG (SOF3), which Debian's 2.1.5 refuses, decodes; a truncated file suspends.
func TestDecodeLossless(t *testing.T) {
	data := read(t, "formats/jl_rgb_psv1_61x47.jpg")
	dst := make([]byte, 61*47*3)
	require.NoError(t, Decode(data, 3, 61, 47, dst))
	require.ErrorIs(t, Decode(data[:len(data)/2], 3, 61, 47, dst), ErrSuspended)
	require.ErrorIs(t, Decode(data, 3, 60, 47, dst[:60*47*3]), ErrMismatch)
}

// DecodeRGB's rows map keeps exactly the rows asked for, in the order given, and its CMYK and
// gray conversion is the same whether rows are kept or dropped.
func TestDecodeRGBRows(t *testing.T) {
	for _, tc := range []struct {
		file        string
		comps, w, h int
	}{
		{"preprocess/corpus/j_cmyk_120x90.jpg", 4, 120, 90},
		{"preprocess/corpus/j_gray_200x150.jpg", 1, 200, 150},
		{"preprocess/corpus/j_420_prog_512x384.jpg", 3, 512, 384},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data := read(t, tc.file)
			full := make([]byte, 3*tc.w*tc.h)
			require.NoError(t, DecodeRGB(data, tc.comps, tc.w, tc.h, nil, full))
			rows := make([]int32, tc.h)
			var kept []int
			for y := range rows {
				rows[y] = -1
				if y%7 == 3 {
					rows[y] = int32(len(kept))
					kept = append(kept, y)
				}
			}
			part := make([]byte, 3*tc.w*len(kept))
			require.NoError(t, DecodeRGB(data, tc.comps, tc.w, tc.h, rows, part))
			stride := 3 * tc.w
			for i, y := range kept {
				require.Equal(t, full[y*stride:(y+1)*stride], part[i*stride:(i+1)*stride], "row %d", y)
			}
			require.ErrorIs(t, DecodeRGB(data, tc.comps, tc.w, tc.h, rows[:1], part), ErrMismatch)
		})
	}
}

// sof reads a JPEG's frame size and component count from its first SOF marker.
func sof(t *testing.T, data []byte) (w, h, comps int) {
	t.Helper()
	w, h, comps, ok := frame(data)
	require.True(t, ok, "no SOF marker")
	return w, h, comps
}

// TestSparseRows: when a decode keeps only some rows, the block rows no kept row reads are held
// packed (DC and a nonzero mask) instead of in full, and every kept row still equals the same row
// of a full decode: every multi-scan file of the corpora (progressive Huffman and arithmetic,
// non-interleaved sequential, gray, CMYK, YCCK, 4:2:0, 4:2:2, 4:4:0, 4:1:1, 1x4, chroma sampled
// above luma, restarts, odd sizes), for row sets from one row to all rows but one.
func TestSparseRows(t *testing.T) {
	files := []string{
		"images/andrew.jpg",
		"preprocess/corpus/j_444_prog_97x131.jpg",
		"preprocess/corpus/j_gray_prog_64x64.jpg",
		"preprocess/corpus/j_420_prog_512x384.jpg",
		"preprocess/libjpeg9/corpus/g_420_prog_odd_33x47.jpg",
		"preprocess/libjpeg9/corpus/g_440_prog_odd_37x23.jpg",
		"preprocess/libjpeg9/corpus/g_422_prog_restart_75x41.jpg",
		"preprocess/libjpeg9/corpus/g_cmyk_prog_41x29.jpg",
		"preprocess/libjpeg9/corpus/g_ycck_adobe_prog_33x21.jpg",
	}
	more, err := filepath.Glob(filepath.Join("..", "..", "testdata", "formats", "jm_*.jpg"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(more), 9, "testdata/formats lacks the multi-scan files (make golden)")
	for _, m := range more {
		files = append(files, filepath.Join("formats", filepath.Base(m)))
	}
	sets := []struct {
		name string
		keep func(y, h int) bool
	}{
		{"nearest 160", nearest160},
		{"every 7th", func(y, h int) bool { return y%7 == 3 }},
		{"first row", func(y, h int) bool { return y == 0 }},
		{"last row", func(y, h int) bool { return y == h-1 }},
		{"middle row", func(y, h int) bool { return y == h/2 }},
		{"all but one", func(y, h int) bool { return y != h/3 }},
		{"random tenth", func(y, h int) bool { return (y*2654435761)%1000 < 100 }},
	}
	for _, f := range files {
		data := read(t, f)
		w, h, comps := sof(t, data)
		full := make([]byte, 3*w*h)
		require.NoError(t, DecodeRGB(data, comps, w, h, nil, full), f)
		stride := 3 * w
		for _, set := range sets {
			t.Run(f+"/"+set.name, func(t *testing.T) {
				rows := make([]int32, h)
				var kept []int
				for y := range rows {
					rows[y] = -1
					if set.keep(y, h) {
						rows[y] = int32(len(kept))
						kept = append(kept, y)
					}
				}
				if len(kept) == 0 {
					kept, rows[0] = append(kept, 0), 0
				}
				part := make([]byte, stride*len(kept))
				require.NoError(t, DecodeRGB(data, comps, w, h, rows, part))
				for i, y := range kept {
					require.Equal(t, full[y*stride:(y+1)*stride], part[i*stride:(i+1)*stride], "row %d of %d kept", y, h)
				}
				blocks := lastBlocks.Load()
				if h >= 200 && len(kept) == 1 {
					require.Greater(t, blocks[1], 5*blocks[0], "block rows packed")
				}
			})
		}
	}
}

// nearest160 reports whether NEAREST to 160 rows reads source row y of h (Pillow's centre rule).
func nearest160(y, h int) bool {
	for i := range 160 {
		if int((float64(i)+0.5)*float64(h)/160) == y {
			return true
		}
	}
	return false
}

// FuzzSparseRows: on any input, decoding only some rows (sparse coefficient arrays) fails exactly
// when the full decode fails, and otherwise gives the same kept rows. Seeds: the multi-scan files
// of TestSparseRows.
func FuzzSparseRows(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("..", "..", "testdata", "formats", "jm_*.jpg"))
	require.NoError(f, err)
	seeds = append(seeds, filepath.Join("..", "..", "testdata", "preprocess", "corpus", "j_420_prog_512x384.jpg"),
		filepath.Join("..", "..", "testdata", "preprocess", "libjpeg9", "corpus", "g_ycck_adobe_prog_33x21.jpg"))
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		require.NoError(f, err)
		f.Add(data, uint8(9), uint8(4))
	}
	f.Fuzz(func(t *testing.T, data []byte, every, offset uint8) {
		w, h, comps, ok := frame(data)
		if !ok || w*h > 1<<22 || (comps != 1 && comps != 3 && comps != 4) {
			return
		}
		full := make([]byte, 3*w*h)
		errFull := DecodeRGB(data, comps, w, h, nil, full)
		step := int(every%32) + 1
		rows := make([]int32, h)
		var kept []int
		for y := range rows {
			rows[y] = -1
			if y%step == int(offset)%step {
				rows[y] = int32(len(kept))
				kept = append(kept, y)
			}
		}
		if len(kept) == 0 {
			return
		}
		stride := 3 * w
		part := make([]byte, stride*len(kept))
		errPart := DecodeRGB(data, comps, w, h, rows, part)
		if (errFull == nil) != (errPart == nil) {
			t.Fatalf("full decode: %v, sparse: %v", errFull, errPart)
		}
		if errFull != nil {
			return
		}
		for i, y := range kept {
			require.Equal(t, full[y*stride:(y+1)*stride], part[i*stride:(i+1)*stride], "row %d", y)
		}
	})
}

// frame is sof without a testing.T: ok is false when there is no SOF marker.
func frame(data []byte) (w, h, comps int, ok bool) {
	for i := 2; i+9 < len(data); {
		if data[i] != 0xff {
			i++
			continue
		}
		m := data[i+1]
		if m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc {
			return int(data[i+7])<<8 | int(data[i+8]), int(data[i+5])<<8 | int(data[i+6]), int(data[i+9]), true
		}
		if m == 0xd8 || m == 0x01 || m == 0xff || (m >= 0xd0 && m <= 0xd7) {
			i += 2
			continue
		}
		i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
	}
	return 0, 0, 0, false
}
