package encoding

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The manifest is written by scripts/golden_preprocess.py from keras load_img + numpy; every
// expected value here comes from it.
const testdataDir = "../testdata"

type goldenImage struct {
	File       string `json:"file"`
	FileSHA256 string `json:"file_sha256"`
	Mode       string `json:"mode"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	RGBSHA256  string `json:"rgb_sha256"`
}

type goldenCase struct {
	File            string            `json:"file"`
	Height          int               `json:"height"`
	Width           int               `json:"width"`
	Interpolation   string            `json:"interpolation"`
	KeepAspectRatio bool              `json:"keep_aspect_ratio"`
	Uint8SHA256     string            `json:"uint8_sha256"`
	Float32SHA256   string            `json:"float32_sha256"`
	Variants        map[string]string `json:"variants"`
}

type goldenFile struct {
	File        string `json:"file"`
	FileSHA256  string `json:"file_sha256"`
	Expect      string `json:"expect"`
	PythonError string `json:"python_error"`
}

type goldenRounding struct {
	DivideBy      float64 `json:"divide_by"`
	Decimals      int     `json:"decimals"`
	Float64SHA256 string  `json:"float64_sha256"`
	Float32SHA256 string  `json:"float32_sha256"`
}

type goldenManifest struct {
	Images      []goldenImage    `json:"images"`
	Cases       []goldenCase     `json:"cases"`
	Broken      []goldenFile     `json:"broken"`
	Unsupported []goldenFile     `json:"unsupported"`
	Rounding    []goldenRounding `json:"rounding"`
}

func loadManifest(t testing.TB) *goldenManifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, "preprocess", "manifest.json"))
	require.NoError(t, err, "run `make golden` to generate the manifest")
	var m goldenManifest
	require.NoError(t, json.Unmarshal(data, &m))
	require.NotEmpty(t, m.Cases)
	return &m
}

// readGolden reads a corpus file and checks it is the one the manifest describes.
func readGolden(t testing.TB, rel, want string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, rel))
	require.NoError(t, err)
	require.Equal(t, want, shaHex(data), "%s changed since the manifest was written", rel)
	return data
}

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func float32Bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(f))
	}
	return out
}

func tensorSHA(t testing.TB, img *Image, opts PixelOptions) string {
	t.Helper()
	dst := make([]float32, img.TensorLen())
	require.NoError(t, img.FillTensor(dst, opts))
	return shaHex(float32Bytes(dst))
}

var variantOptions = map[string]PixelOptions{
	"bgr":             {DivideBy: 255, RoundDecimals: 12, BGR: true},
	"nchw":            {DivideBy: 255, RoundDecimals: 12, ChannelsFirst: true},
	"bgr_nchw":        {DivideBy: 255, RoundDecimals: 12, BGR: true, ChannelsFirst: true},
	"div1_noround":    {DivideBy: 1, RoundDecimals: NoRounding},
	"div127.5_round6": {DivideBy: 127.5, RoundDecimals: 6},
}

func TestGoldenDecode(t *testing.T) {
	m := loadManifest(t)
	for _, im := range m.Images {
		t.Run(im.File, func(t *testing.T) {
			data := readGolden(t, im.File, im.FileSHA256)
			img, err := Decode(data, DecodeOptions{})
			require.NoError(t, err)
			require.Equal(t, [2]int{im.Width, im.Height}, [2]int{img.Width, img.Height})
			require.Equal(t, im.RGBSHA256, shaHex(img.Pix), "RGB bytes differ from PIL (mode %s)", im.Mode)
		})
	}
}

func TestGoldenLoadImg(t *testing.T) {
	m := loadManifest(t)
	byFile := map[string][]goldenCase{}
	var order []string
	for _, c := range m.Cases {
		if byFile[c.File] == nil {
			order = append(order, c.File)
		}
		byFile[c.File] = append(byFile[c.File], c)
	}
	for _, file := range order {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join(testdataDir, file)
			decoded, err := DecodeFile(path, DecodeOptions{})
			require.NoError(t, err)
			for i, c := range byFile[file] {
				interp, err := ParseInterpolation(c.Interpolation)
				require.NoError(t, err)
				opts := LoadOptions{Height: c.Height, Width: c.Width, Interpolation: interp, KeepAspectRatio: c.KeepAspectRatio}
				var img *Image
				if i == 0 {
					img, err = LoadImg(path, opts) // the whole path once per file
				} else {
					img, err = decoded.ResizeKeras(opts)
				}
				require.NoError(t, err)
				require.Equal(t, c.Uint8SHA256, shaHex(img.Pix), "uint8 %dx%d %s keep=%v", c.Height, c.Width, c.Interpolation, c.KeepAspectRatio)
				require.Equal(t, c.Float32SHA256, tensorSHA(t, img, KerasPixels), "float32 %dx%d %s keep=%v", c.Height, c.Width, c.Interpolation, c.KeepAspectRatio)
				for name, want := range c.Variants {
					opt, ok := variantOptions[name]
					require.True(t, ok, "unknown variant %s", name)
					require.Equal(t, want, tensorSHA(t, img, opt), "variant %s", name)
				}
			}
		})
	}
}

var expectErr = map[string]error{
	"truncated":   ErrTruncated,
	"bomb":        ErrDecompressionBomb,
	"invalid":     ErrInvalidImage,
	"unsupported": ErrUnsupportedFormat,
}

func TestGoldenBroken(t *testing.T) {
	m := loadManifest(t)
	require.NotEmpty(t, m.Broken)
	for _, b := range m.Broken {
		t.Run(b.File, func(t *testing.T) {
			readGolden(t, b.File, b.FileSHA256)
			path := filepath.Join(testdataDir, b.File)
			_, err := LoadImg(path, LoadOptions{Height: 160, Width: 160})
			require.Error(t, err, "Python rejected it: %s", b.PythonError)
			require.ErrorIs(t, err, expectErr[b.Expect], "Python: %s", b.PythonError)
			require.Contains(t, err.Error(), path, "the error names the file")
		})
	}
}

// Formats Pillow reads but this package does not: a clear ErrUnsupportedFormat.
func TestGoldenUnsupported(t *testing.T) {
	m := loadManifest(t)
	require.NotEmpty(t, m.Unsupported)
	for _, u := range m.Unsupported {
		t.Run(u.File, func(t *testing.T) {
			data := readGolden(t, u.File, u.FileSHA256)
			_, err := Decode(data, DecodeOptions{})
			require.ErrorIs(t, err, ErrUnsupportedFormat)
		})
	}
}

func TestGoldenRounding(t *testing.T) {
	m := loadManifest(t)
	require.NotEmpty(t, m.Rounding)
	for _, r := range m.Rounding {
		opts := PixelOptions{DivideBy: r.DivideBy, RoundDecimals: r.Decimals}
		var lut64 [256]float64
		require.NoError(t, opts.table64(&lut64))
		b := make([]byte, 8*256)
		for i, v := range lut64 {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		require.Equal(t, r.Float64SHA256, shaHex(b), "float64 table for /%v around %d", r.DivideBy, r.Decimals)
		lut, err := opts.Lookup()
		require.NoError(t, err)
		require.Equal(t, r.Float32SHA256, shaHex(float32Bytes(lut[:])), "float32 table for /%v around %d", r.DivideBy, r.Decimals)
	}
}
