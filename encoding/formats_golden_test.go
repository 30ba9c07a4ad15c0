package encoding

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testdata/formats is written by scripts/golden_formats.py from the real Pillow 11.0.0 (and the
// libjpeg-turbo 3.0.4 and libwebp 1.4.0 it bundles): lossless JPEG, WebP, Netpbm, TIFF and
// hostile files of each.
type formatsManifest struct {
	Pillow       string `json:"pillow"`
	LibjpegTurbo string `json:"libjpeg_turbo"`
	Libwebp      string `json:"libwebp"`
	Images       []struct {
		goldenImage
		Nearest160SHA256 string `json:"nearest_160_sha256"`
	} `json:"images"`
	Refused []goldenFile `json:"refused"`
}

func loadFormatsManifest(t testing.TB) *formatsManifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, "formats", "manifest.json"))
	require.NoError(t, err, "run `make golden` to generate testdata/formats")
	var m formatsManifest
	require.NoError(t, json.Unmarshal(data, &m))
	require.NotEmpty(t, m.Images)
	return &m
}

// Every file Pillow opens decodes to Pillow's convert("RGB") bytes, and load_img's NEAREST
// resize to 160x160 is Pillow's too.
func TestGoldenFormats(t *testing.T) {
	m := loadFormatsManifest(t)
	require.Equal(t, "3.0.4", m.LibjpegTurbo, "the libjpeg-turbo of the manifest")
	require.Equal(t, "1.4.0", m.Libwebp, "the libwebp of the manifest")
	for _, im := range m.Images {
		t.Run(im.File, func(t *testing.T) {
			rel := filepath.Join("formats", im.File)
			data := readGolden(t, rel, im.FileSHA256)
			img, err := Decode(data, DecodeOptions{})
			require.NoError(t, err)
			require.Equal(t, [2]int{im.Width, im.Height}, [2]int{img.Width, img.Height})
			require.Equal(t, im.RGBSHA256, shaHex(img.Pix), "RGB bytes differ from Pillow's (mode %s)", im.Mode)
			small, err := LoadImg(filepath.Join(testdataDir, rel), LoadOptions{Height: 160, Width: 160})
			require.NoError(t, err)
			require.Equal(t, im.Nearest160SHA256, shaHex(small.Pix), "load_img 160x160 differs from Pillow's")
		})
	}
}

// Every file Pillow refuses is refused, with the expected class and the file named; TIFF, which
// Pillow reads, is refused by name.
func TestGoldenFormatsRefused(t *testing.T) {
	m := loadFormatsManifest(t)
	require.NotEmpty(t, m.Refused)
	for _, b := range m.Refused {
		t.Run(b.File, func(t *testing.T) {
			rel := filepath.Join("formats", b.File)
			readGolden(t, rel, b.FileSHA256)
			path := filepath.Join(testdataDir, rel)
			_, err := LoadImg(path, LoadOptions{Height: 160, Width: 160})
			require.Error(t, err, "Python: %s", b.PythonError)
			require.ErrorIs(t, err, expectErr[b.Expect], "Python: %s", b.PythonError)
			require.Contains(t, err.Error(), path, "the error names the file")
			require.NotContains(t, err.Error(), "\n")
			if strings.HasPrefix(b.File, "t_") {
				require.Contains(t, err.Error(), "TIFF is not supported")
			}
		})
	}
}
