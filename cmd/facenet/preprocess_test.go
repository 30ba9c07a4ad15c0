package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// preprocessGolden finds the keras load_img case of scripts/golden_preprocess.py's manifest.
func preprocessGolden(t *testing.T, file string, h, w int, interp string, keep bool) (uint8SHA, float32SHA string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "preprocess", "manifest.json"))
	require.NoError(t, err)
	var m struct {
		Cases []struct {
			File            string `json:"file"`
			Height          int    `json:"height"`
			Width           int    `json:"width"`
			Interpolation   string `json:"interpolation"`
			KeepAspectRatio bool   `json:"keep_aspect_ratio"`
			Uint8SHA256     string `json:"uint8_sha256"`
			Float32SHA256   string `json:"float32_sha256"`
			Variants        map[string]string
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(data, &m))
	for _, c := range m.Cases {
		if c.File == file && c.Height == h && c.Width == w && c.Interpolation == interp && c.KeepAspectRatio == keep {
			return c.Uint8SHA256, c.Float32SHA256
		}
	}
	t.Fatalf("no golden case for %s %dx%d %s keep=%v", file, h, w, interp, keep)
	return "", ""
}

// npyPayload checks the .npy header and returns the array bytes.
func npyPayload(t *testing.T, path, descr, shape string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")))
	n := int(binary.LittleEndian.Uint16(b[8:10]))
	header := string(b[10 : 10+n])
	require.Contains(t, header, "'descr': '"+descr+"'")
	require.Contains(t, header, "'shape': "+shape)
	return b[10+n:]
}

func TestPreprocess(t *testing.T) {
	dir := t.TempDir()
	images := filepath.Join("..", "..", "testdata", "images")
	corpus := filepath.Join("..", "..", "testdata", "preprocess", "corpus")
	andrew := filepath.Join(images, "andrew.jpg")
	u8, f32 := preprocessGolden(t, "images/andrew.jpg", 160, 160, "nearest", false)
	_, f32Bicubic := preprocessGolden(t, "preprocess/corpus/j_420_q90_640x480.jpg", 120, 200, "bicubic", true)
	u8Danielle, _ := preprocessGolden(t, "images/danielle.png", 96, 96, "nearest", false)

	tests := []struct {
		name   string
		args   []string
		descr  string
		shape  string
		sha    string
		planar bool // compare after converting (3, H, W) back to (H, W, 3)
	}{
		{"notebook input", []string{"--size", "160x160", andrew}, "<f4", "(160, 160, 3)", f32, false},
		{"uint8", []string{"--size", "160x160", "--uint8", andrew}, "|u1", "(160, 160, 3)", u8, false},
		{"bicubic keep aspect", []string{"--size", "120x200", "--interpolation", "bicubic", "--keep-aspect-ratio",
			filepath.Join(corpus, "j_420_q90_640x480.jpg")}, "<f4", "(120, 200, 3)", f32Bicubic, false},
		{"flags after the image", []string{filepath.Join(images, "danielle.png"), "--size", "96x96", "--uint8"}, "|u1", "(96, 96, 3)", u8Danielle, false},
		{"channels first", []string{"--size", "160x160", "--uint8", "--channels-first", andrew}, "|u1", "(3, 160, 160)", u8, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "out"+string(rune('a'+i))+".npy")
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"preprocess", "--out", out}, tt.args...), &stdout, &stderr)
			require.Equal(t, 0, code, "stderr: %s", stderr.String())
			require.Contains(t, stdout.String(), out)
			payload := npyPayload(t, out, tt.descr, tt.shape)
			if tt.planar {
				n := len(payload) / 3
				hwc := make([]byte, len(payload))
				for p := 0; p < n; p++ {
					hwc[3*p], hwc[3*p+1], hwc[3*p+2] = payload[p], payload[n+p], payload[2*n+p]
				}
				payload = hwc
			}
			sum := sha256.Sum256(payload)
			require.Equal(t, tt.sha, hex.EncodeToString(sum[:]))
		})
	}
}

func TestPreprocessRejects(t *testing.T) {
	dir := t.TempDir()
	andrew := filepath.Join("..", "..", "testdata", "images", "andrew.jpg")
	truncated := filepath.Join("..", "..", "testdata", "preprocess", "corpus", "jpeg_truncated_baseline.jpg")
	text := filepath.Join("..", "..", "testdata", "preprocess", "corpus", "text_named.jpg")
	out := filepath.Join(dir, "x.npy")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no --out", []string{"--size", "160x160", andrew}, 2, "--out is required"},
		{"no image", []string{"--out", out}, 2, "exactly one IMAGE"},
		{"two images", []string{"--out", out, andrew, andrew}, 2, "exactly one IMAGE"},
		{"bad size", []string{"--out", out, "--size", "160", andrew}, 2, "HEIGHTxWIDTH"},
		{"zero size", []string{"--out", out, "--size", "0x160", andrew}, 2, "HEIGHTxWIDTH"},
		{"negative size", []string{"--out", out, "--size", "-5x160", andrew}, 2, "HEIGHTxWIDTH with positive integers"},
		{"size over the bound", []string{"--out", out, "--size", "100000x100000", andrew}, 2, `--size "100000x100000": each side must be at most 4096`},
		{"width over the bound", []string{"--out", out, "--size", "160x4097", andrew}, 2, "at most 4096"},
		{"size past int64", []string{"--out", out, "--size", "160x99999999999999999999", andrew}, 2, "at most 4096"},
		{"size at the bound", []string{"--out", out, "--size", "4096x1", "--uint8", filepath.Join(dir, "none.jpg")}, 1, "none.jpg"},
		{"bad interpolation", []string{"--out", out, "--interpolation", "cubic", andrew}, 2, "interpolation"},
		{"unknown jpeg decoder", []string{"--out", out, "--jpeg-decoder", "turbo9", andrew}, 2, `--jpeg-decoder: unknown decoder "turbo9"`},
		{"missing file", []string{"--out", out, filepath.Join(dir, "none.jpg")}, 1, "none.jpg"},
		{"text named .jpg", []string{"--out", out, text}, 1, text + ": unsupported image format"},
		{"truncated jpeg", []string{"--out", out, truncated}, 1, truncated + ": image file is truncated"},
		{"unwritable output", []string{"--out", filepath.Join(dir, "no", "such", "dir.npy"), andrew}, 1, "write "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"preprocess"}, tt.args...), &stdout, &stderr)
			require.Equal(t, tt.wantCode, code, "stderr: %s", stderr.String())
			msg := stderr.String()
			if tt.wantCode == 1 {
				require.Equal(t, 1, bytes.Count(stderr.Bytes(), []byte("\n")), "one line: %q", msg)
			}
			require.Contains(t, msg, "facenet preprocess: ")
			require.Contains(t, msg, tt.wantErr)
			_, err := os.Stat(out)
			require.ErrorIs(t, err, os.ErrNotExist, "no output on failure")
		})
	}
}
