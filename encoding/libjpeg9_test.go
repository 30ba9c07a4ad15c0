package encoding

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// libjpeg9Manifest is scripts/golden_libjpeg9.py's output: what IJG libjpeg 9d, the library of the
// Pillow 8.4.0 wheel, decodes from each corpus file, driven from Python through ctypes.
type libjpeg9Manifest struct {
	LibrarySHA256 string `json:"library_sha256"`
	Images        []struct {
		File          string `json:"file"`
		FileSHA256    string `json:"file_sha256"`
		Width         int    `json:"width"`
		Height        int    `json:"height"`
		Components    int    `json:"components"`
		RGBSHA256     string `json:"rgb_sha256"`
		MaxDiffTurbo  int    `json:"max_diff_vs_libjpeg_turbo"`
		Nearest160SHA string `json:"nearest_160x160_sha256"`
	} `json:"images"`
}

func loadLibjpeg9Manifest(t *testing.T) *libjpeg9Manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, "preprocess", "libjpeg9", "manifest.json"))
	require.NoError(t, err, "run `make golden`")
	var m libjpeg9Manifest
	require.NoError(t, json.Unmarshal(data, &m))
	require.GreaterOrEqual(t, len(m.Images), 40)
	return &m
}

func TestLibjpeg9MatchesPillow84(t *testing.T) {
	m := loadLibjpeg9Manifest(t)
	for _, g := range m.Images {
		t.Run(g.File, func(t *testing.T) {
			data := readGolden(t, g.File, g.FileSHA256)
			img, err := Decode(data, DecodeOptions{JPEGDecoder: Libjpeg9})
			require.NoError(t, err)
			require.Equal(t, [2]int{g.Width, g.Height}, [2]int{img.Width, img.Height})
			require.Equal(t, g.RGBSHA256, shaHex(img.Pix), "RGB bytes differ from libjpeg 9d's")
		})
	}
}

// The two decoders must really differ where the notebook's numbers depend on it (its 4:2:0 JPEGs),
// by as much as the Python reference measured with Pillow 11's libjpeg-turbo.
func TestLibjpeg9DiffersFromTurboOnNotebookImages(t *testing.T) {
	m := loadLibjpeg9Manifest(t)
	worst := 0
	for _, g := range m.Images {
		if !strings.HasPrefix(g.File, "images/") {
			continue
		}
		t.Run(g.File, func(t *testing.T) {
			data := readGolden(t, g.File, g.FileSHA256)
			turbo, err := Decode(data, DecodeOptions{})
			require.NoError(t, err)
			ijg, err := Decode(data, DecodeOptions{JPEGDecoder: Libjpeg9})
			require.NoError(t, err)
			d := 0
			for i := range turbo.Pix {
				d = max(d, absDiff(turbo.Pix[i], ijg.Pix[i]))
			}
			require.Positive(t, d)
			require.Equal(t, g.MaxDiffTurbo, d)
			worst = max(worst, d)
		})
	}
	t.Logf("notebook JPEGs: libjpeg9 vs libjpeg-turbo differ by up to %d levels", worst)
	require.Positive(t, worst)
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// load_img(camera_0.jpg, target_size=(160, 160)) as the notebook's Pillow 8.4 returned it.
func TestLibjpeg9NotebookLoadImg(t *testing.T) {
	m := loadLibjpeg9Manifest(t)
	var want string
	for _, g := range m.Images {
		if g.File == "images/camera_0.jpg" {
			want = g.Nearest160SHA
		}
	}
	require.NotEmpty(t, want)
	opts := LoadOptions{Height: 160, Width: 160, Interpolation: Nearest, JPEGDecoder: Libjpeg9}
	img, err := LoadImg(filepath.Join(testdataDir, "images", "camera_0.jpg"), opts)
	require.NoError(t, err)
	require.Equal(t, want, shaHex(img.Pix))
	turbo, err := LoadImg(filepath.Join(testdataDir, "images", "camera_0.jpg"), LoadOptions{Height: 160, Width: 160})
	require.NoError(t, err)
	require.NotEqual(t, want, shaHex(turbo.Pix), "the default decoder must stay libjpeg-turbo")
}

func TestLibjpeg9Errors(t *testing.T) {
	corpus := filepath.Join(testdataDir, "preprocess", "corpus")
	tests := []struct {
		file string
		want error
	}{
		{"jpeg_truncated_baseline.jpg", ErrTruncated},
		{"jpeg_truncated_progressive.jpg", ErrTruncated},
		{"jpeg_bad_sos.jpg", ErrInvalidImage},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(corpus, tt.file))
			require.NoError(t, err)
			_, turboErr := Decode(data, DecodeOptions{})
			_, err = Decode(data, DecodeOptions{JPEGDecoder: Libjpeg9})
			require.ErrorIs(t, err, tt.want)
			require.ErrorIs(t, turboErr, tt.want, "both decoders report the same kind of failure")
		})
	}
}

func TestParseJPEGDecoder(t *testing.T) {
	tests := []struct {
		in   string
		want JPEGDecoder
		err  bool
	}{
		{"", LibjpegTurbo, false},
		{"libjpeg-turbo", LibjpegTurbo, false},
		{"libjpeg9", Libjpeg9, false},
		{"libjpeg8", "", true},
		{"LIBJPEG9", "", true},
	}
	for _, tt := range tests {
		got, err := ParseJPEGDecoder(tt.in)
		if tt.err {
			require.ErrorIs(t, err, ErrInvalidOptions)
			require.Contains(t, err.Error(), tt.in)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
	}
	_, err := Load([]byte{0xFF, 0xD8, 0xFF}, LoadOptions{JPEGDecoder: "mozjpeg"})
	require.ErrorIs(t, err, ErrInvalidOptions)
}

// Hostile and broken files (testdata/bad, the preprocess corpus) fail with libjpeg9 exactly when they
// fail with libjpeg-turbo, as the same kind of error: the 2000-scan bomb, truncations, garbage.
func TestLibjpeg9FailsLikeTurbo(t *testing.T) {
	bad, err := filepath.Glob(filepath.Join(testdataDir, "bad", "*.jpg"))
	require.NoError(t, err)
	corpus, err := filepath.Glob(filepath.Join(testdataDir, "preprocess", "corpus", "*.jpg"))
	require.NoError(t, err)
	files := append(bad, corpus...)
	require.Greater(t, len(files), 30)
	kinds := []error{ErrTruncated, ErrInvalidImage, ErrUnsupportedFormat, ErrDecompressionBomb}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			_, turboErr := Decode(data, DecodeOptions{})
			_, ijgErr := Decode(data, DecodeOptions{JPEGDecoder: Libjpeg9})
			require.Equal(t, turboErr == nil, ijgErr == nil, "turbo: %v, libjpeg9: %v", turboErr, ijgErr)
			for _, k := range kinds {
				require.Equal(t, errors.Is(turboErr, k), errors.Is(ijgErr, k), "turbo: %v, libjpeg9: %v", turboErr, ijgErr)
			}
		})
	}
}
