package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
)

// TestCropFaceGolden: CropFace then encoding's Resize gives the same uint8 bytes as Pillow's
// crop then resize (scripts/golden_crop.py) on the mtcnn package's boxes of the celeb5 photos.
func TestCropFaceGolden(t *testing.T) {
	data, err := os.ReadFile("../testdata/detect/golden_crop.json")
	require.NoError(t, err)
	var g struct {
		Size  int `json:"size"`
		Cases []struct {
			File   string `json:"file"`
			Box    [4]int `json:"box"`
			Margin int    `json:"margin"`
			Filter string `json:"filter"`
			Crop   [4]int `json:"crop"`
			SHA256 string `json:"sha256"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(data, &g))
	require.NotEmpty(t, g.Cases)
	imgs := map[string]*encoding.Image{}
	for _, c := range g.Cases {
		t.Run(filepath.Base(c.File)+"/"+c.Filter, func(t *testing.T) {
			img := imgs[c.File]
			if img == nil {
				img, err = encoding.DecodeFile(filepath.Join("../build/celeb5", c.File), encoding.DecodeOptions{})
				require.NoError(t, err, "make test extracts build/celeb5")
				imgs[c.File] = img
			}
			f := Face{Box: c.Box}
			require.Equal(t, image.Rect(c.Crop[0], c.Crop[1], c.Crop[2], c.Crop[3]), CropBox(f, c.Margin, img.Width, img.Height))
			crop, err := CropFace(img, f, c.Margin)
			require.NoError(t, err)
			filter, err := encoding.ParseInterpolation(c.Filter)
			require.NoError(t, err)
			out, err := crop.Resize(g.Size, g.Size, filter, image.Rectangle{})
			require.NoError(t, err)
			sum := sha256.Sum256(out.Pix)
			require.Equal(t, c.SHA256, hex.EncodeToString(sum[:]), "margin %d", c.Margin)
		})
	}
}

func TestCropFaceBadInput(t *testing.T) {
	img := &encoding.Image{Width: 10, Height: 10, Pix: make([]uint8, 300)}
	for _, tc := range []struct {
		name   string
		img    *encoding.Image
		face   Face
		margin int
	}{
		{"nil image", nil, Face{Box: [4]int{0, 0, 5, 5}}, 0},
		{"negative margin", img, Face{Box: [4]int{0, 0, 5, 5}}, -2},
		{"box outside", img, Face{Box: [4]int{20, 20, 5, 5}}, 0},
		{"empty box", img, Face{Box: [4]int{2, 2, 0, 0}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CropFace(tc.img, tc.face, tc.margin)
			require.Error(t, err)
		})
	}
	// A box at the border is clipped, not refused.
	c, err := CropFace(img, Face{Box: [4]int{-3, 8, 6, 6}}, 4)
	require.NoError(t, err)
	require.Equal(t, [2]int{5, 4}, [2]int{c.Width, c.Height})
}
