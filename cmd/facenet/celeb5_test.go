package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/facenet-go/facenet/verify"
)

// TestCeleb5Rank1: the 5-celebrity dataset as issue 18 measures it. Enroll the largest face of each
// train/ photo (FaceNet, the photos profile: MTCNN, margin 10, prewhiten), identify the largest face
// of each val/ photo, count nearest-identity hits. Photos where MTCNN finds no face are counted, not
// enrolled.
func TestCeleb5Rank1(t *testing.T) {
	root := testenv.ModuleRoot(t)
	trainDir := filepath.Join(root, "build/celeb5-train")
	valDir := filepath.Join(root, "build/celeb5/val")
	ctx := context.Background()
	ph, err := facenet.Open(ctx, testenv.Model(t, "facenet-keras"), facenet.Options{Profile: "photos"})
	require.NoError(t, err)
	defer ph.Close()
	db, err := verify.OpenOrCreate(filepath.Join(t.TempDir(), "c5.db"), ph.Space())
	require.NoError(t, err)
	people := func(dir string) map[string][]string {
		out := map[string][]string{}
		ents, err := os.ReadDir(dir)
		require.NoError(t, err, "make test extracts %s", dir)
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*"))
			require.NoError(t, err)
			sort.Strings(files)
			out[e.Name()] = files
		}
		return out
	}
	train, noFace := people(trainDir), 0
	names := make([]string, 0, len(train))
	for n := range train {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, p := range train[name] {
			embs, err := ph.EncodeFiles(ctx, p)
			if errors.Is(err, facenet.ErrNoFace) {
				noFace++
				continue
			}
			require.NoError(t, err)
			require.NoError(t, db.Enrol(name, embs...))
		}
	}
	hits, total := 0, 0
	for name, files := range people(valDir) {
		for _, p := range files {
			total++
			embs, err := ph.EncodeFiles(ctx, p)
			if errors.Is(err, facenet.ErrNoFace) {
				t.Logf("val %s: no face", p)
				continue
			}
			require.NoError(t, err)
			m, err := verify.WhoIsIt(embs[0], db, 1e6)
			require.NoError(t, err)
			if m.Identity == name {
				hits++
			} else {
				t.Logf("val %s: %s at %v", p, m.Identity, m.Distance)
			}
		}
	}
	t.Logf("5-celebrity rank-1: %d/%d val photos (train photos without a face: %d of %d enrolled)", hits, total, noFace, db.NumSamples()+noFace)
	require.Equal(t, 25, total)
	require.GreaterOrEqual(t, hits, 24)
}

// TestCeleb5Calibrate: calibrate over the 5-celebrity train/ and val/ folders (one identity per name
// across both) with the photos profile, as README reports it: 117 faces (MTCNN finds none in one
// train photo, skipped with one line), best threshold 1.204 at 98.67% accuracy (issue 18's goal:
// >= 98%), EER 2.81% at 1.265, AUC 0.991; the plot (--png) is drawn too. The best threshold lies on a
// plateau the ten folds span (1.189-1.204), and which of MTCNN's tied boxes survive (numpy's sort
// order, which Go follows per CPU) moves it along it: 1.200 with numpy's introsort.
func TestCeleb5Calibrate(t *testing.T) {
	root := testenv.ModuleRoot(t)
	png := filepath.Join(t.TempDir(), "roc.png")
	code, stdout, stderr := runCLI("calibrate", "--json", "--model", testenv.Model(t, "facenet-keras"), "--profile", "photos",
		"--png", png, filepath.Join(root, "build/celeb5-train"), filepath.Join(root, "build/celeb5/val"))
	require.Equal(t, 0, code, stderr)
	require.Equal(t, 1, strings.Count(stderr, "no face found"), stderr)
	var cal struct {
		Genuine      []float64 `json:"genuine"`
		Impostor     []float64 `json:"impostor"`
		AUC          float64   `json:"auc"`
		EER          float64   `json:"eer"`
		EERThreshold float64   `json:"eer_threshold"`
		Threshold    float64   `json:"threshold"`
		CVAccuracy   float64   `json:"cv_accuracy"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &cal))
	require.Len(t, cal.Genuine, 1333)
	require.Len(t, cal.Impostor, 5453)
	require.InDelta(t, 0.0283, cal.EER, 0.002)
	require.InDelta(t, 1.264, cal.EERThreshold, 0.005)
	require.InDelta(t, 1.197, cal.Threshold, 0.012)
	require.InDelta(t, 0.991, cal.AUC, 0.002)
	require.Greater(t, cal.CVAccuracy, 0.98)
	require.FileExists(t, png)
}
