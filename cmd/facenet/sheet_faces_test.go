package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/testenv"
)

// TestIdentifySheetDetect: identify --detect --sheet draws every face's box in its photo, green with
// the name for a known face and red for an unknown one, photos wider than faceSheetWidth scaled.
func TestIdentifySheetDetect(t *testing.T) {
	model := testenv.Model(t, "facenet-keras")
	root := testenv.ModuleRoot(t)
	madonna := filepath.Join(root, "build/celeb5", detectPhoto)                                   // 218x218, one face at [57 63 78 108]
	group := filepath.Join(root, "build/node/node_modules/@vladmandic/face-api/demo/sample1.jpg") // 1920x1280, three strangers
	tmp := t.TempDir()
	db := filepath.Join(tmp, "m.db")
	code, _, stderr := runCLI("enroll", "--quiet", "--model", model, "--detect", "--db", db, "madonna="+madonna)
	require.Equal(t, 0, code, stderr)

	sheet := filepath.Join(tmp, "sheet.png")
	code, stdout, stderr := runCLI("identify", "--model", model, "--detect", "--db", db, "--sheet", sheet, madonna, group)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, madonna+" [57 63 78 108]: it's madonna")
	require.Regexp(t, `sample1.jpg \[418 359 180 237\]: +Not in the database.`, stdout)
	require.Contains(t, stdout, "contact sheet: "+sheet)

	f, err := os.Open(sheet)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	green := color.RGBA{30, 200, 60, 255}
	red := color.RGBA{220, 40, 40, 255}
	// The group photo is drawn at half size (960 wide), under the madonna photo and its caption.
	groupTop := gap + 218 + labelH + gap
	require.Equal(t, image.Rect(0, 0, faceSheetWidth+2*gap, groupTop+640+labelH+gap), img.Bounds())
	at := func(x, y int) color.RGBA { return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) }
	require.Equal(t, green, at(gap+57, gap+63), "madonna's box")
	require.Equal(t, green, at(gap+57+78-1, gap+63+108-1), "madonna's box, far corner")
	require.Equal(t, red, at(gap+209, groupTop+180), "an unknown face's box, scaled by 1/2")

	// Without --detect the sheet still needs --gallery.
	code, _, stderr = runCLI("identify", "--model", model, "--db", db, "--sheet", sheet, madonna)
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "--sheet needs --gallery")
}
