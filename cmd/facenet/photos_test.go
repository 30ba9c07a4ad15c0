package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/testenv"
)

func TestPhotoCommands(t *testing.T) {
	model := testenv.Model(t, "facenet-keras")
	photo := filepath.Join(testenv.ModuleRoot(t), "build/celeb5", detectPhoto)
	tmp := t.TempDir()
	blank := filepath.Join(tmp, "blank.png")
	f, err := os.Create(blank)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, image.NewRGBA(image.Rect(0, 0, 160, 120))))
	require.NoError(t, f.Close())
	db := filepath.Join(tmp, "c.db")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"embed per face", []string{"embed", "--model", model, "--detect", photo}, 0, photo + " [57 63 78 108]: ", ""},
		{"enroll no face", []string{"enroll", "--quiet", "--model", model, "--detect", "--db", db, "x=" + blank}, 1, "", blank + ": no face found"},
		{"enroll", []string{"enroll", "--quiet", "--model", model, "--detect", "--db", db, "madonna=" + photo}, 0, "enrolled 1 images", ""},
		{"verify", []string{"verify", "--model", model, "--detect", "--db", db, photo, "madonna"}, 0, "welcome in! (distance 0.0 <", ""},
		{"identify", []string{"identify", "--model", model, "--detect", "--db", db, photo}, 0, photo + " [57 63 78 108]: it's madonna", ""},
		{"identify no face", []string{"identify", "--model", model, "--detect", "--db", db, blank}, 1, "", "no face found"},
		{"raw and detect", []string{"embed", "--model", model, "--detect", "--raw", photo}, 2, "", "--raw and --detect"},
		{"the photos profile detects", []string{"embed", "--model", model, "--profile", "photos", photo}, 0, photo + " [57 63 78 108]: ", ""},
		{"raw and the photos profile", []string{"embed", "--model", model, "--profile", "photos", "--raw", photo}, 2, "", "--raw and a profile that detects faces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stdout, tc.stdout)
			require.Contains(t, stderr, tc.stderr)
		})
	}
	// Without --detect the whole photo is the input, as before: no box in the label.
	code, stdout, _ := runCLI("embed", "--model", model, photo)
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(stdout, photo+": "))
}

// TestMarginFlag: --margin is never silently replaced by the profile's margin. It overrides the
// photos profile's 10 (once it was ignored there, so calibrate --profile photos --margin N measured
// margin 32 whatever N), and implies --detect on a profile that does not detect.
func TestMarginFlag(t *testing.T) {
	model := testenv.Model(t, "facenet-keras")
	photo := filepath.Join(testenv.ModuleRoot(t), "build/celeb5", detectPhoto)
	embed := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runCLI(append(append([]string{"embed", "--model", model}, args...), photo)...)
		require.Equal(t, 0, code, stderr)
		return stdout
	}
	for _, tc := range []struct {
		name      string
		args      []string
		sameAs    []string
		different []string
	}{
		{"the photos profile's margin is 10", []string{"--profile", "photos"}, []string{"--profile", "accuracy", "--detect", "--margin", "10"}, []string{"--profile", "accuracy", "--detect"}},
		{"--margin overrides the profile's", []string{"--profile", "photos", "--margin", "44"}, []string{"--profile", "accuracy", "--detect", "--margin", "44"}, []string{"--profile", "photos"}},
		{"--margin implies --detect", []string{"--profile", "accuracy", "--margin", "32"}, []string{"--profile", "accuracy", "--detect"}, []string{"--profile", "accuracy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := embed(tc.args...)
			require.Equal(t, embed(tc.sameAs...), got)
			require.NotEqual(t, embed(tc.different...), got)
		})
	}
}
