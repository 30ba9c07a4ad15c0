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
