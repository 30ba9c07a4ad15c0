package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/testenv"
)

// foldedModel returns facenet-keras-folded (scripts/export_facenet_folded.py: the notebook's weights with
// every BatchNorm folded into its convolution) after checking that it is what it claims: its own
// fingerprint, not the exact export's, and a profile that says folded. The golden file was made from
// the exact export, so the tests below compare a different graph against it: its float32 rounding
// differs, and the bound is the same 1e-5 as across CPUs.
func foldedModel(t *testing.T, g notebookGolden) string {
	t.Helper()
	dir := testenv.Model(t, "facenet-keras-folded")
	prof, found, err := encoding.LoadProfile(dir)
	require.NoError(t, err)
	require.True(t, found, "facenet-keras-folded has no profile")
	fp, err := encoding.Fingerprint(dir)
	require.NoError(t, err)
	require.Equal(t, prof.Fingerprint, fp, "profile fingerprint differs from the variables on disk")
	require.NotEqual(t, g.Fingerprint, fp, "the folded model must have its own fingerprint")
	require.Equal(t, "facenet-keras-folded", prof.Name)
	require.Contains(t, prof.Description, "folded")
	return dir
}

// TestFoldedEmbeddingsMatchPythonNotebook: on all 18 notebook images the folded model's embeddings are
// within 1e-5 of the notebook's Python functions on the exact export (raw outputs within 1e-5 of their
// norm), one image at a time and in a batch.
func TestFoldedEmbeddingsMatchPythonNotebook(t *testing.T) {
	g := loadNotebookGolden(t)
	dir := foldedModel(t, g)
	paths := notebookImagePaths(t, g)
	for _, mode := range []struct {
		name string
		args []string
		want func(name string) []float64
		tol  func(want []float64) float64
	}{
		{"normalized", nil, func(n string) []float64 { return g.Images[n].Embedding }, absTol},
		{"raw", []string{"--raw"}, func(n string) []float64 { return g.Images[n].Raw }, relTol},
		{"batch of 18", []string{"--batch", "18"}, func(n string) []float64 { return g.Images[n].Embedding }, absTol},
	} {
		t.Run(mode.name, func(t *testing.T) {
			args := append([]string{"embed", "--model", dir, "--json"}, mode.args...)
			out, stderr, code := cli(t, append(args, paths...)...)
			require.Equal(t, 0, code, stderr)
			got := parseEmbedJSON(t, out)
			require.Len(t, got, len(g.Images))
			worst := 0.0
			for name := range g.Images {
				d := maxDiff(mode.want(name), got[name])
				require.LessOrEqual(t, d, mode.tol(mode.want(name)), name)
				worst = math.Max(worst, d)
			}
			t.Logf("folded: max |diff| over %d images: %.3g", len(got), worst)
		})
	}
}

// TestFoldedDecisionsMatchPythonNotebook replays the notebook's verify and who_is_it calls with the
// folded model on a database enrolled with it: every decision and message identical to the notebook's
// Python on the exact export, every distance within 1e-5.
func TestFoldedDecisionsMatchPythonNotebook(t *testing.T) {
	g := loadNotebookGolden(t)
	dir := foldedModel(t, g)
	images := testenv.Testdata(t, "images")
	db := filepath.Join(t.TempDir(), "folded.db")
	args := []string{"enroll", "--quiet", "--model", dir, "--db", db}
	for _, name := range g.DatabaseOrder {
		args = append(args, name+"="+filepath.Join(images, g.DatabaseFiles[name]))
	}
	out, stderr, code := cli(t, args...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, "12 identities, 12 samples")

	require.Len(t, g.Verify, 7)
	for _, v := range g.Verify {
		out, stderr, code := cli(t, "verify", "--json", "--model", dir, "--db", db, filepath.Join(images, v.Image), v.Identity)
		require.Equal(t, 0, code, stderr)
		var got struct {
			Distance float64 `json:"distance"`
			Accepted bool    `json:"accepted"`
			Message  string  `json:"message"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		require.InDelta(t, v.Distance, got.Distance, parityTolerance, "verify %s as %s", v.Image, v.Identity)
		require.Equal(t, v.DoorOpen, got.Accepted, "verify %s as %s", v.Image, v.Identity)
		requireSameMessage(t, v.Message, got.Message, "verify %s as %s", v.Image, v.Identity)
	}

	require.NotEmpty(t, g.WhoIsIt)
	args = []string{"identify", "--json", "--model", dir, "--db", db}
	for _, w := range g.WhoIsIt {
		args = append(args, filepath.Join(images, w.Image))
	}
	out, stderr, code = cli(t, args...)
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, len(g.WhoIsIt))
	for i, w := range g.WhoIsIt {
		var got struct {
			Image    string  `json:"image"`
			Identity string  `json:"identity"`
			Distance float64 `json:"distance"`
			Message  string  `json:"message"`
		}
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &got))
		require.Equal(t, w.Image, filepath.Base(got.Image))
		require.Equal(t, w.Identity, got.Identity, w.Image)
		require.InDelta(t, w.Distance, got.Distance, parityTolerance, w.Image)
		requireSameMessage(t, w.Message, got.Message, w.Image)
	}

	// Every distance of every notebook image to every identity, so a decision near the 0.7 threshold
	// anywhere in the matrix would show.
	out, stderr, code = cli(t, append([]string{"embed", "--json", "--model", dir}, notebookImagePaths(t, g)...)...)
	require.Equal(t, 0, code, stderr)
	emb := parseEmbedJSON(t, out)
	for probe, row := range g.Distances {
		for identity, want := range row {
			var s float64
			for i, v := range emb[probe] {
				d := float64(v) - float64(emb[g.DatabaseFiles[identity]][i])
				s += d * d
			}
			require.InDelta(t, want, math.Sqrt(s), parityTolerance, "%s vs %s", probe, identity)
			require.Equal(t, want < 0.7, math.Sqrt(s) < 0.7, "%s vs %s", probe, identity)
		}
	}
}
