package main

import (
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/testenv"
)

// A celeb5 val photo in which mtcnn 1.0.0 finds one face (testdata/detect/golden_mtcnn.json).
const detectPhoto = "val/madonna/httpcdnfuncheapcomwpcontentuploadsVOGUEjpg.jpg"

func TestDetectCommand(t *testing.T) {
	mtcnn := filepath.Join(testenv.ModelsDir(t), "mtcnn")
	photo := filepath.Join(testenv.ModuleRoot(t), "build/celeb5", detectPhoto)
	tmp := t.TempDir()
	blank := filepath.Join(tmp, "blank.png")
	f, err := os.Create(blank)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, image.NewRGBA(image.Rect(0, 0, 160, 120))))
	require.NoError(t, f.Close())
	drawn := filepath.Join(tmp, "drawn.png")
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderr   string
		drawFile string
	}{
		{"text", []string{photo}, 0, []string{photo + ": box 57 63 78 108 confidence 0.99993"}, "", ""},
		{"json", []string{"--json", photo}, 0, []string{`"box":[57,63,78,108]`, `"left_eye":[70,102]`}, "", ""},
		{"draw", []string{"--draw", drawn, photo}, 0, []string{"box 57 63 78 108"}, "", drawn},
		{"no face", []string{blank}, 1, nil, blank + ": no face found", ""},
		{"no face among faces", []string{blank, photo, blank}, 1, []string{"box 57 63 78 108"}, "blank.png: no face found\nfacenet detect: " + blank + ": no face found", ""},
		{"no photos", nil, 2, nil, "no photos given", ""},
		{"draw two", []string{"--draw", drawn, photo, photo}, 2, nil, "--draw takes one photo", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"detect", "--detector", mtcnn}, tc.args...)...)
			require.Equal(t, tc.code, code, stderr)
			for _, s := range tc.stdout {
				require.Contains(t, stdout, s)
			}
			if tc.stderr == "" {
				require.Empty(t, stderr)
			} else {
				require.Contains(t, stderr, tc.stderr)
			}
			if tc.code == 1 {
				require.Equal(t, strings.Count(tc.stderr, "\n")+1, strings.Count(stderr, "\n"), "one line per photo without a face")
			}
			if tc.drawFile != "" {
				f, err := os.Open(tc.drawFile)
				require.NoError(t, err)
				defer f.Close()
				img, err := png.Decode(f)
				require.NoError(t, err)
				r, g, _, _ := img.At(57, 63).RGBA()
				require.Equal(t, [2]uint32{30, 220}, [2]uint32{r >> 8, g >> 8})
			}
			if tc.name == "json" {
				var v faceJSON
				require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(stdout)), &v))
				require.Equal(t, [4]int{57, 63, 78, 108}, v.Box)
			}
		})
	}
}
