package encoding

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Load's row-dropping JPEG path gives the bytes of decoding the whole image and resizing it, for
// down- and upscales, Keras' crop box, and a crop box that already has the target size.
func TestLoadJPEGRowsEqualsFullDecode(t *testing.T) {
	for _, file := range []string{"j_gray_200x150.jpg", "j_cmyk_120x90.jpg", "j_420_odd_17x9.jpg", "j_444_prog_97x131.jpg"} {
		data, err := os.ReadFile(filepath.Join(testdataDir, "preprocess", "corpus", file))
		require.NoError(t, err)
		full, err := decode(data, DecodeOptions{})
		require.NoError(t, err)
		for _, size := range [][2]int{{160, 160}, {100, 200}, {9, 17}, {1, 1}, {131, 97}, {400, 30}} {
			for _, keep := range []bool{false, true} {
				opts := LoadOptions{Height: size[0], Width: size[1], KeepAspectRatio: keep}
				want, err := full.ResizeKeras(opts)
				require.NoError(t, err)
				got, err := Load(data, opts)
				require.NoError(t, err)
				require.Equal(t, [2]int{want.Width, want.Height}, [2]int{got.Width, got.Height}, "%s %v %v", file, size, keep)
				require.Equal(t, want.Pix, got.Pix, "%s %v keep_aspect_ratio=%v", file, size, keep)
			}
		}
	}
	// 200x150 to width 200, height 100 with keep_aspect_ratio: the crop box is the target.
	p := nearestRowPlan(200, 150, LoadOptions{Height: 100, Width: 200, KeepAspectRatio: true})
	require.NotNil(t, p)
	require.True(t, p.isCut)
	require.Equal(t, 100, p.kept)
}
