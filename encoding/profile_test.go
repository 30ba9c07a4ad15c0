package encoding_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

func TestFingerprintDefinition(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "variables", "variables.index"), []byte("index"))
	writeFile(t, filepath.Join(dir, "variables", "variables.data-00000-of-00001"), []byte("data"))
	writeFile(t, filepath.Join(dir, "saved_model.pb"), []byte("graph: not part of the fingerprint"))
	hexsum := func(b string) string { s := sha256.Sum256([]byte(b)); return hex.EncodeToString(s[:]) }
	want := hexsum(fmt.Sprintf("variables/variables.data-00000-of-00001\n%s\nvariables/variables.index\n%s\n", hexsum("data"), hexsum("index")))
	got, err := encoding.Fingerprint(dir)
	require.NoError(t, err)
	require.Equal(t, "sha256:"+want, got)

	writeFile(t, filepath.Join(dir, "variables", "variables.index"), []byte("other weights"))
	changed, err := encoding.Fingerprint(dir)
	require.NoError(t, err)
	require.NotEqual(t, got, changed)

	_, err = encoding.Fingerprint(t.TempDir())
	require.Error(t, err)
}

func TestLoadProfileFallsBackToTheNotebook(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "variables", "variables.index"), []byte("x"))
	p, found, err := encoding.LoadProfile(dir)
	require.NoError(t, err)
	require.False(t, found)
	require.Equal(t, 160, p.Input.Height)
	require.Equal(t, "nearest", p.Input.Interpolation)
	require.Equal(t, 255.0, p.Input.DivideBy)
	require.Equal(t, 12, *p.Input.RoundDecimals)
	require.True(t, p.Output.L2Normalize)
	require.Equal(t, 0.7, p.Distance.Threshold)
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, p.Fingerprint)
}

func TestLoadProfileReadsTheFile(t *testing.T) {
	dir := t.TempDir()
	doc := `{"format": "facenet-profile/v1", "name": "dlib", "signature": {"tag_set": ["serve"],
	  "signature_def": "serving_default", "input": "input", "output": "output_0"},
	  "input": {"height": 150, "width": 150, "channels": 3, "layout": "NHWC", "color_order": "RGB",
	  "interpolation": "nearest", "keep_aspect_ratio": false, "divide_by": 1.0, "round_decimals": null},
	  "output": {"dim": 128, "l2_normalize": false}, "distance": {"metric": "euclidean", "threshold": 0.6},
	  "fingerprint": "sha256:abc"}`
	writeFile(t, filepath.Join(dir, filepath.FromSlash(encoding.ProfileFile)), []byte(doc))
	p, found, err := encoding.LoadProfile(dir)
	require.NoError(t, err)
	require.True(t, found)
	require.Nil(t, p.Input.RoundDecimals)
	require.Equal(t, 1.0, p.Input.DivideBy)
	require.False(t, p.Output.L2Normalize)
	require.Equal(t, "sha256:abc", p.Fingerprint)
}

func TestProfileValidation(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*encoding.Profile)
		message string
	}{
		{"format", func(p *encoding.Profile) { p.Format = "v0" }, "format"},
		{"size", func(p *encoding.Profile) { p.Input.Height = 0 }, "input size"},
		{"channels", func(p *encoding.Profile) { p.Input.Channels = 1 }, "channels"},
		{"layout", func(p *encoding.Profile) { p.Input.Layout = "CHW" }, "layout"},
		{"color order", func(p *encoding.Profile) { p.Input.ColorOrder = "YUV" }, "color_order"},
		{"divide_by", func(p *encoding.Profile) { p.Input.DivideBy = 0 }, "divide_by"},
		{"round_decimals", func(p *encoding.Profile) { r := 40; p.Input.RoundDecimals = &r }, "round_decimals"},
		{"metric", func(p *encoding.Profile) { p.Distance.Metric = "cosine" }, "metric"},
		{"threshold", func(p *encoding.Profile) { p.Distance.Threshold = -1 }, "threshold"},
		{"interpolation", func(p *encoding.Profile) { p.Input.Interpolation = "magic" }, "magic"},
		{"jpeg_decoder", func(p *encoding.Profile) { p.Input.JPEGDecoder = "libjpeg6b" }, `jpeg_decoder "libjpeg6b"`},
		{"crop rule", func(p *encoding.Profile) { p.Crop = &encoding.CropProfile{Rule: "dlib"} }, `crop rule "dlib"`},
		{"crop none with a margin", func(p *encoding.Profile) { p.Crop = &encoding.CropProfile{Rule: "none", Margin: 32} }, "takes no margin"},
		{"crop margin", func(p *encoding.Profile) { p.Crop = &encoding.CropProfile{Rule: "mtcnn-margin", Margin: -2} }, "crop margin -2"},
		{"crop margin too large", func(p *encoding.Profile) { p.Crop = &encoding.CropProfile{Rule: "mtcnn-margin", Margin: 5000} }, "crop margin 5000"},
		{"crop filter", func(p *encoding.Profile) { p.Crop = &encoding.CropProfile{Rule: "mtcnn-margin", Filter: "magic"} }, "crop filter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := encoding.NotebookProfile()
			tc.mutate(&p)
			err := p.Validate()
			require.ErrorIs(t, err, encoding.ErrProfile)
			require.Contains(t, err.Error(), tc.message)

			raw, err := json.Marshal(p)
			require.NoError(t, err)
			_, err = encoding.ParseProfile(raw)
			require.ErrorIs(t, err, encoding.ErrProfile)
		})
	}
	_, err := encoding.ParseProfile([]byte("{not json"))
	require.ErrorIs(t, err, encoding.ErrProfile)
	require.NoError(t, encoding.NotebookProfile().Validate())

	// The crop rules that are valid, and which of them detect.
	for _, c := range []struct {
		crop    *encoding.CropProfile
		detects bool
	}{
		{nil, false},
		{&encoding.CropProfile{Rule: "none"}, false},
		{&encoding.CropProfile{Rule: "mtcnn-margin", Margin: 32, Filter: "bilinear"}, true},
		{&encoding.CropProfile{Rule: "mtcnn-margin"}, true},
	} {
		p := encoding.NotebookProfile()
		p.Crop = c.crop
		require.NoError(t, p.Validate())
		require.Equal(t, c.detects, p.Detects())
		raw, err := json.Marshal(p)
		require.NoError(t, err)
		back, err := encoding.ParseProfile(raw)
		require.NoError(t, err)
		require.Equal(t, p, back)
	}
}
