package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/testenv"
)

// TestAccuracyProfileMatchesPython: `--profile accuracy` (facenet's bilinear resize and prewhiten on the
// notebook's weights) gives what scripts/golden_embeddings.py --accuracy computes in Python, within 1e-5.
func TestAccuracyProfileMatchesPython(t *testing.T) {
	raw, err := os.ReadFile(testenv.Testdata(t, "facenet/golden_accuracy.json"))
	require.NoError(t, err, "regenerate with `make golden`")
	var g struct {
		Fingerprint string `json:"fingerprint"`
		Images      map[string]struct {
			Embedding []float64 `json:"embedding"`
		} `json:"images"`
	}
	require.NoError(t, json.Unmarshal(raw, &g))
	require.Len(t, g.Images, 18)
	dir := testenv.Model(t, "facenet-keras")
	prof, found, err := encoding.LoadNamedProfile(dir, "accuracy")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "prewhiten", prof.Input.PixelRule)
	require.Equal(t, g.Fingerprint, prof.Fingerprint)

	var paths []string
	for name := range g.Images {
		paths = append(paths, filepath.Join(testenv.Testdata(t, "images"), name))
	}
	out, stderr, code := cli(t, append([]string{"embed", "--json", "--model", dir, "--profile", "accuracy", "--batch", "6"}, paths...)...)
	require.Equal(t, 0, code, stderr)
	got := parseEmbedJSON(t, out)
	worst := 0.0
	for name, want := range g.Images {
		d := maxDiff(want.Embedding, got[name])
		require.LessOrEqual(t, d, parityTolerance, name)
		worst = math.Max(worst, d)
	}
	t.Logf("max |embedding diff| over %d images: %.3g", len(got), worst)
}

// TestDatabaseRefusesAnotherPixelRule: the same weights under another profile are another embedding
// space, so a database enrolled with the notebook's rules refuses probes made with prewhiten.
func TestDatabaseRefusesAnotherPixelRule(t *testing.T) {
	dir := testenv.Model(t, "facenet-keras")
	images := testenv.Testdata(t, "images")
	db := filepath.Join(t.TempDir(), "notebook.db")
	_, stderr, code := cli(t, "enroll", "--quiet", "--model", dir, "--db", db, "younes="+filepath.Join(images, "younes.jpg"))
	require.Equal(t, 0, code, stderr)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "--profile", "accuracy", filepath.Join(images, "camera_0.jpg"), "younes"}, "store " + db},
		{[]string{"identify", "--profile", "accuracy", filepath.Join(images, "camera_0.jpg")}, "store " + db},
		{[]string{"verify", "--profile", "nosuch", filepath.Join(images, "camera_0.jpg"), "younes"}, `has no profile "nosuch"`},
		{[]string{"verify", "--profile", "../x", filepath.Join(images, "camera_0.jpg"), "younes"}, `profile name "../x"`},
	} {
		t.Run(tc.args[0]+" "+tc.args[2], func(t *testing.T) {
			args := append([]string{tc.args[0], "--model", dir, "--db", db}, tc.args[1:]...)
			_, stderr, code := cli(t, args...)
			require.Equal(t, 1, code, stderr)
			require.Contains(t, stderr, tc.want)
			require.Equal(t, 1, countLines(stderr), stderr)
		})
	}
}

func countLines(s string) int {
	n := 0
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if line != "" {
			n++
		}
	}
	return n
}
