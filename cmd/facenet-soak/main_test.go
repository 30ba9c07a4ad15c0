package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/testenv"
)

// smallModel copies the 16x16 control model of build/models/hostile and gives it a profile.
func smallModel(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(testenv.Model(t, "hostile/good"))))
	p := encoding.NotebookProfile()
	p.Input.Height, p.Input.Width = 16, 16
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "assets.extra"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, encoding.ProfileFile), raw, 0o644))
	return dir
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		err  string
	}{
		{"no model", []string{"a.jpg"}, "-model is required"},
		{"no images", []string{"-model", "m"}, "no images"},
		{"zero n", []string{"-model", "m", "-n", "0", "a.jpg"}, "must be positive"},
		{"warm-up covers everything", []string{"-model", "m", "-n", "10", "-warmup", "10", "a.jpg"}, "nothing to measure"},
		{"negative growth", []string{"-model", "m", "-max-growth", "-1", "a.jpg"}, "percentage"},
		{"unknown flag", []string{"-model", "m", "-bogus", "a.jpg"}, "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			require.Equal(t, 2, run(tt.args, &bytes.Buffer{}, &stderr))
			require.Contains(t, stderr.String(), tt.err)
		})
	}
}

func TestGrowth(t *testing.T) {
	s := []sample{{N: 10, RSSKiB: 1000}, {N: 20, RSSKiB: 2000}, {N: 30, RSSKiB: 2100}, {N: 40, RSSKiB: 2050}}
	pct, from, to, ok := growth(s, 15)
	require.True(t, ok)
	require.Equal(t, 20, from.N)
	require.Equal(t, 40, to.N)
	require.InDelta(t, 2.5, pct, 1e-12)
	_, _, _, ok = growth(s, 50)
	require.False(t, ok, "no sample after the warm-up")
}

// TestSoakSmallModel runs a short soak on the small control model: one sample per 20
// embeddings, the same image giving the same bits every pass, and a summary line.
func TestSoakSmallModel(t *testing.T) {
	model := smallModel(t)
	images := testenv.Testdata(t, "images")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-model", model, "-n", "60", "-every", "20", "-warmup", "20", "-max-growth", "1000", "-json",
		filepath.Join(images, "andrew.jpg"), filepath.Join(images, "danielle.png")}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 4, stdout.String())
	for i, l := range lines[:3] {
		var s sample
		require.NoError(t, json.Unmarshal([]byte(l), &s))
		require.Equal(t, 20*(i+1), s.N)
		require.Positive(t, s.RSSKiB)
	}
	var summary struct {
		Growth float64 `json:"growth_percent"`
		From   sample  `json:"from"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[3]), &summary))
	require.Equal(t, 20, summary.From.N)
}

// TestSoakFailures: a missing model, a model without a profile and a bad image exit 1 with one
// line.
func TestSoakFailures(t *testing.T) {
	model := smallModel(t)
	andrew := filepath.Join(testenv.Testdata(t, "images"), "andrew.jpg")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing model", []string{"-model", filepath.Join(t.TempDir(), "none"), "-n", "2", "-warmup", "1", andrew}, "none"},
		{"no profile", []string{"-model", testenv.Model(t, "hostile/good"), "-n", "2", "-warmup", "1", andrew}, "has no " + encoding.ProfileFile},
		{"bad image", []string{"-model", model, "-n", "2", "-warmup", "1", testenv.Testdata(t, "bad/text.jpg")}, "unsupported image format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			require.Equal(t, 1, run(tt.args, &bytes.Buffer{}, &stderr))
			require.Equal(t, 1, strings.Count(stderr.String(), "\n"), stderr.String())
			require.Contains(t, stderr.String(), tt.want)
		})
	}
}
