package verify_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/facenet-go/facenet/vec"
	"github.com/facenet-go/facenet/verify"
)

// unit returns v normalized, as the notebook's img_to_encoding does.
func unit(v ...float32) []float32 {
	u, err := vec.Normalize(v)
	if err != nil {
		log.Fatal(err)
	}
	return u
}

// notebookDB is a tiny database in the notebook's insertion order.
func notebookDB() *verify.DB {
	db, err := verify.New(verify.Space{Fingerprint: "example-model", Dim: 3})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range []struct {
		name string
		emb  []float32
	}{
		{"danielle", unit(1, 0, 0)},
		{"younes", unit(0, 1, 0)},
		{"kian", unit(0, 0, 1)},
	} {
		if err := db.Enrol(e.name, e.emb); err != nil {
			log.Fatal(err)
		}
	}
	return db
}

func ExampleVerify() {
	db := notebookDB()
	probe := unit(0.1, 1, 0.2) // another photo of younes

	d, err := verify.Verify(probe, "younes", db, verify.NotebookThreshold)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Message(), verify.FormatFloat32(d.Distance))

	d, err = verify.Verify(probe, "kian", db, verify.NotebookThreshold)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Message(), verify.FormatFloat32(d.Distance))
	// Output:
	// It's younes, welcome in! 0.21954466
	// It's not kian, please go away 1.2687159
}

func ExampleWhoIsIt() {
	db := notebookDB()
	m, err := verify.WhoIsIt(unit(0.1, 1, 0.2), db, verify.NotebookThreshold)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Message())
	fmt.Printf("runner-up %s, margin %.3f\n", m.RunnerUp, m.Margin)

	m, err = verify.WhoIsIt(unit(1, 1, 1), db, verify.NotebookThreshold)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Message())
	// Output:
	// it's younes, the distance is 0.21954466
	// runner-up kian, margin 1.049
	// Not in the database.
}

func ExampleNewIndex() {
	ix := verify.NewIndex(notebookDB())
	m, err := ix.WhoIsIt(unit(0.1, 1, 0.2), verify.NotebookThreshold)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Message())
	top, err := ix.TopK(unit(1, 0.9, 0), 2)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(top)
	// Output:
	// it's younes, the distance is 0.21954466
	// [{danielle 0.71652746} {younes 0.81367713}]
}

func ExampleOpenOrCreate() {
	dir, err := os.MkdirTemp("", "faces")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "faces.db")
	space := verify.Space{Fingerprint: "sha256:1234", Profile: []byte(`{"size":160}`), Dim: 3}

	// enrol: open (or start) the database, add a face, save atomically.
	db, err := verify.OpenOrCreate(path, space)
	if err != nil {
		log.Fatal(err)
	}
	if err := db.Enrol("andrew", unit(1, 2, 3), unit(1, 2, 2.5)); err != nil {
		log.Fatal(err)
	}
	if err := db.Save(path); err != nil {
		log.Fatal(err)
	}

	// Later, another command opens it.
	db, err = verify.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(db.Names(), db.NumSamples(), "samples")

	// Embeddings from another model are refused.
	other := space
	other.Fingerprint = "sha256:abcd"
	_, err = verify.OpenOrCreate(path, other)
	fmt.Println(errors.Is(err, verify.ErrModelMismatch))
	// Output:
	// [andrew] 2 samples
	// true
}

func ExampleFormatFloat32() {
	for _, f := range []float32{0.5992949, 0, 1, 1.5e-5, 123456789} {
		fmt.Println(verify.FormatFloat32(f))
	}
	// Output:
	// 0.5992949
	// 0.0
	// 1.0
	// 1.5e-05
	// 123456790.0
}
