package verify_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/facenet-go/facenet/vec"
	"github.com/facenet-go/facenet/verify"
)

// notebookBench is the notebook's own data (scripts/golden_embeddings.py): its 12-identity database,
// the camera probes and what who_is_it answered for each, so every benchmark below first checks that
// it computes the notebook's answer.
type notebookBench struct {
	db     *verify.DB
	probes [][]float32 // normalized camera embeddings, with want[i] the notebook's answer
	want   []struct {
		Image    string  `json:"image"`
		Identity string  `json:"identity"`
		Distance float64 `json:"distance"`
		Message  string  `json:"message"`
	}
	raw [][]float32 // the model's unnormalized outputs for the probes
}

func loadNotebookBench(b *testing.B) *notebookBench {
	b.Helper()
	data, err := os.ReadFile(testenv.Testdata(b, "facenet/golden_notebook.json"))
	if err != nil {
		b.Fatalf("golden notebook data (make golden): %v", err)
	}
	var g struct {
		Fingerprint   string            `json:"fingerprint"`
		DatabaseOrder []string          `json:"database_order"`
		DatabaseFiles map[string]string `json:"database_files"`
		Images        map[string]struct {
			Raw       []float32 `json:"raw"`
			Embedding []float32 `json:"embedding"`
		} `json:"images"`
		WhoIsIt []struct {
			Image    string  `json:"image"`
			Identity string  `json:"identity"`
			Distance float64 `json:"distance"`
			Message  string  `json:"message"`
		} `json:"who_is_it"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		b.Fatal(err)
	}
	db, err := verify.New(verify.Space{Fingerprint: g.Fingerprint, Dim: 128})
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range g.DatabaseOrder {
		if err := db.Enrol(id, g.Images[g.DatabaseFiles[id]].Embedding); err != nil {
			b.Fatal(err)
		}
	}
	if db.Len() != 12 {
		b.Fatalf("notebook database has %d identities, want 12", db.Len())
	}
	nb := &notebookBench{db: db}
	for _, w := range g.WhoIsIt {
		img, ok := g.Images[w.Image]
		if !ok || len(img.Embedding) != 128 || len(img.Raw) != 128 {
			b.Fatalf("golden data has no 128-d embedding for %s", w.Image)
		}
		nb.probes = append(nb.probes, img.Embedding)
		nb.raw = append(nb.raw, img.Raw)
		nb.want = append(nb.want, w)
	}
	return nb
}

// BenchmarkL2Distance is one notebook distance, np.linalg.norm(encoding - database[identity]), on
// 128-d embeddings.
func BenchmarkL2Distance(b *testing.B) {
	nb := loadNotebookBench(b)
	p, q := nb.probes[0], nb.probes[1]
	d, err := vec.L2Distance(p, q)
	if err != nil || !(d > 0 && d < 2) {
		b.Fatalf("L2Distance of two unit vectors = %v, %v", d, err)
	}
	for b.Loop() {
		if _, err := vec.L2Distance(p, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNormalize is img_to_encoding's embedding / np.linalg.norm(embedding) on a raw 128-d model
// output.
func BenchmarkNormalize(b *testing.B) {
	nb := loadNotebookBench(b)
	v := nb.raw[0]
	got, err := vec.Normalize(v)
	if err != nil {
		b.Fatal(err)
	}
	for i := range got {
		if d := got[i] - nb.probes[0][i]; d > 1e-6 || d < -1e-6 {
			b.Fatalf("component %d: %v, notebook %v", i, got[i], nb.probes[0][i])
		}
	}
	for b.Loop() {
		if _, err := vec.Normalize(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWhoIsItNotebook is who_is_it against the notebook's 12-identity database, the camera probes
// in turn: the exact scan, and the Index that answers the same for large databases (at this size its
// setup per probe is the cost).
func BenchmarkWhoIsItNotebook(b *testing.B) {
	nb := loadNotebookBench(b)
	ix := verify.NewIndex(nb.db)
	searches := []struct {
		name string
		fn   func([]float32) (verify.Match, error)
	}{
		{"scan", func(p []float32) (verify.Match, error) { return verify.WhoIsIt(p, nb.db, verify.NotebookThreshold) }},
		{"index", func(p []float32) (verify.Match, error) { return ix.WhoIsIt(p, verify.NotebookThreshold) }},
	}
	for _, s := range searches {
		b.Run(s.name, func(b *testing.B) {
			for i, p := range nb.probes {
				m, err := s.fn(p)
				if err != nil {
					b.Fatal(err)
				}
				// The distance may be an ulp off numpy's float32 sum (verify accumulates in float64), so
				// the printed digits may differ; the decision may not.
				w := nb.want[i]
				if m.Identity != w.Identity || m.Known == (w.Message == "Not in the database.") ||
					math.Abs(float64(m.Distance)-w.Distance) > 1e-6 {
					b.Fatalf("%s: %+v, notebook: %+v", w.Image, m, w)
				}
			}
			for i := 0; b.Loop(); i++ {
				if _, err := s.fn(nb.probes[i%len(nb.probes)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
