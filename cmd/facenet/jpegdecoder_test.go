package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// preprocess --jpeg-decoder libjpeg9 writes what load_img(camera_0.jpg, target_size=(160, 160))
// returned under Pillow 8.4 (scripts/golden_libjpeg9.py); the default stays libjpeg-turbo's.
func TestPreprocessJPEGDecoder(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "preprocess", "libjpeg9", "manifest.json"))
	require.NoError(t, err)
	var m struct {
		Images []struct {
			File          string `json:"file"`
			Nearest160SHA string `json:"nearest_160x160_sha256"`
		} `json:"images"`
	}
	require.NoError(t, json.Unmarshal(raw, &m))
	want := map[string]string{}
	for _, g := range m.Images {
		want[g.File] = g.Nearest160SHA
	}
	turboSHA, _ := preprocessGolden(t, "images/andrew.jpg", 160, 160, "nearest", false)
	dir := t.TempDir()
	tests := []struct {
		name, image string
		flags       []string
		want        string
	}{
		{"libjpeg9 camera_0", "camera_0.jpg", []string{"--jpeg-decoder", "libjpeg9"}, want["images/camera_0.jpg"]},
		{"libjpeg9 younes", "younes.jpg", []string{"--jpeg-decoder", "libjpeg9"}, want["images/younes.jpg"]},
		{"explicit libjpeg-turbo", "andrew.jpg", []string{"--jpeg-decoder", "libjpeg-turbo"}, turboSHA},
		{"default", "andrew.jpg", nil, turboSHA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NotEmpty(t, tt.want)
			out := filepath.Join(dir, tt.name+".npy")
			args := append([]string{"preprocess", "--size", "160x160", "--uint8", "--out", out}, tt.flags...)
			code, _, stderr := runCLI(append(args, filepath.Join("..", "..", "testdata", "images", tt.image))...)
			require.Equal(t, 0, code, stderr)
			sum := sha256.Sum256(npyPayload(t, out, "|u1", "(160, 160, 3)"))
			require.Equal(t, tt.want, hex.EncodeToString(sum[:]))
		})
	}
}

// Every command that reads images refuses an unknown decoder with a usage error naming it, before
// it opens a model or a database.
func TestJPEGDecoderFlagRejectsUnknown(t *testing.T) {
	img := filepath.Join("..", "..", "testdata", "images", "andrew.jpg")
	dir := t.TempDir()
	tests := [][]string{
		{"embed", "--model", dir, img},
		{"enroll", "--model", dir, "--db", filepath.Join(dir, "db"), "andrew=" + img},
		{"verify", "--model", dir, "--db", filepath.Join(dir, "db"), img, "andrew"},
		{"identify", "--model", dir, "--db", filepath.Join(dir, "db"), img},
		{"calibrate", "--model", dir, dir},
		{"preprocess", "--out", filepath.Join(dir, "x.npy"), img},
	}
	for _, args := range tests {
		t.Run(args[0], func(t *testing.T) {
			code, _, stderr := runCLI(append(args, "--jpeg-decoder", "libjpeg-8")...)
			require.Equal(t, 2, code, stderr)
			require.Contains(t, stderr, `--jpeg-decoder: unknown decoder "libjpeg-8" (want libjpeg-turbo or libjpeg9)`)
		})
	}
}
