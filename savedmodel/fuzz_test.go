package savedmodel_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facenet-go/facenet/savedmodel"
)

const maxSeedBytes = 64 << 10

// FuzzParse feeds Parse mutations of real SavedModels: every input must give a Model or an error
// wrapping ErrCorrupt, never a panic, and a Model must keep its documented invariants.
// Run it with a short minimization budget, e.g.
//
//	go test -run XXX -fuzz FuzzParse -fuzzminimizetime 50x ./savedmodel/
//
// (the default 60 s per new input, spent shrinking a 20 KB model, looks like a stalled fuzzer).
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "testdata", "savedmodel", "*", savedmodel.FileNamePB))
	models := os.Getenv("FACENET_MODELS")
	if models == "" {
		models = filepath.Join("..", "build", "models")
	}
	for _, pattern := range []string{"*", filepath.Join("*", "*")} {
		more, _ := filepath.Glob(filepath.Join(models, pattern, savedmodel.FileNamePB))
		seeds = append(seeds, more...)
	}
	if len(seeds) == 0 {
		f.Fatal("no seed SavedModels under testdata/savedmodel")
	}
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		// Megabyte seeds (the full FaceNet graph) slow mutation to a few inputs a minute and add
		// no structure the small models lack.
		if len(data) <= maxSeedBytes {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := savedmodel.Parse(data)
		if err != nil {
			if !errors.Is(err, savedmodel.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if len(m.MetaGraphs) == 0 {
			t.Fatal("a Model without MetaGraphs")
		}
		for _, mg := range m.MetaGraphs {
			if !slices.IsSortedFunc(mg.Signatures, func(a, b savedmodel.Signature) int { return strings.Compare(a.Key, b.Key) }) {
				t.Fatal("signatures not sorted")
			}
			for _, s := range mg.Signatures {
				for _, ts := range [][]savedmodel.Tensor{s.Inputs, s.Outputs} {
					for _, tn := range ts {
						if tn.UnknownRank != (tn.Shape == nil) {
							t.Fatalf("tensor %q: UnknownRank %v with shape %v", tn.Key, tn.UnknownRank, tn.Shape)
						}
					}
				}
			}
		}
		_ = m.TagSets()
		_, _ = m.MetaGraph()
	})
}
