package encoding

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/testenv"
)

// pixelRulesGolden is what scripts/golden_pixel_rules.py writes: facenet's prewhiten and
// fixed_image_standardization, run verbatim by numpy on exact RGB arrays.
type pixelRulesGolden struct {
	Cases []struct {
		Name          string `json:"name"`
		File          string `json:"file"`
		Interpolation string `json:"interpolation"`
		Target        []int  `json:"target"`
		Constant      *int   `json:"constant"`
		Width         int    `json:"width"`
		Height        int    `json:"height"`
		RGBSHA256     string `json:"rgb_sha256"`
		Mean          string `json:"mean"`
		Std           string `json:"std"`
		Prewhiten     string `json:"prewhiten_sha256"`
		Fixed         string `json:"fixed_standardization_sha256"`
	} `json:"cases"`
}

func hexFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64) // Python's float.hex() is a valid Go hex float
	require.NoError(t, err, s)
	return v
}

// TestGoldenPixelRules: on every image, prewhiten's mean and std equal numpy's to the bit and both of
// facenet's rules give numpy's float32 tensor byte for byte.
func TestGoldenPixelRules(t *testing.T) {
	raw, err := os.ReadFile(testenv.Testdata(t, "preprocess/pixel_rules.json"))
	require.NoError(t, err, "regenerate with `make golden`")
	var g pixelRulesGolden
	require.NoError(t, json.Unmarshal(raw, &g))
	require.Greater(t, len(g.Cases), 100)
	constants := 0
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var img *Image
			switch {
			case c.Constant != nil:
				constants++
				img = &Image{Width: c.Width, Height: c.Height, Pix: make([]byte, 3*c.Width*c.Height)}
				for i := range img.Pix {
					img.Pix[i] = byte(*c.Constant)
				}
			case c.Target != nil:
				interp, err := ParseInterpolation(c.Interpolation)
				require.NoError(t, err)
				img, err = LoadImg(testenv.Testdata(t, filepath.FromSlash(c.File)), LoadOptions{Height: c.Target[0], Width: c.Target[1], Interpolation: interp})
				require.NoError(t, err)
			default:
				img, err = LoadImg(testenv.Testdata(t, filepath.FromSlash(c.File)), LoadOptions{})
				require.NoError(t, err)
			}
			require.Equal(t, c.RGBSHA256, shaHex(img.Pix), "decoded pixels")
			mean, stdAdj := prewhitenStats(img.Pix)
			require.Equal(t, hexFloat(t, c.Mean), mean, "np.mean")
			if std := hexFloat(t, c.Std); std >= 1/math.Sqrt(float64(len(img.Pix))) {
				require.Equal(t, std, stdAdj, "np.std")
			}
			require.Equal(t, c.Prewhiten, tensorSHA(t, img, PixelOptions{Rule: RulePrewhiten}), "prewhiten")
			require.Equal(t, c.Fixed, tensorSHA(t, img, PixelOptions{Rule: RuleFixedStandardization}), "fixed_image_standardization")
		})
	}
	require.Equal(t, 4, constants)
}

func TestPixelRuleErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"unknown rule", func() error {
			return (&Image{Width: 1, Height: 1, Pix: []byte{1, 2, 3}}).FillTensor(make([]float32, 3), PixelOptions{Rule: "whiten"})
		}, `pixel rule "whiten"`},
		{"prewhiten has no fixed table", func() error { _, err := PixelOptions{Rule: RulePrewhiten}.Lookup(); return err }, "depend on the image"},
		{"malformed image", func() error {
			return (&Image{Width: 2, Height: 1, Pix: []byte{1, 2, 3}}).FillTensor(make([]float32, 3), PixelOptions{Rule: RulePrewhiten})
		}, "malformed image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			require.ErrorIs(t, err, ErrInvalidOptions)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
