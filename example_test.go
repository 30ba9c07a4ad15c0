package facenet_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/verify"
)

// The notebook, end to end: enrol younes from his photo, then verify camera_0.jpg against him,
// with the real FaceNet weights `make models` exports.
func Example() {
	ctx := context.Background()
	models := os.Getenv("FACENET_MODELS")
	if models == "" {
		models = "build/models"
	}
	shared := os.Getenv("FACENET_SHARED")
	if shared == "" {
		shared = "../shared"
	}
	images := filepath.Join(shared, "notebook", "images")

	p, err := facenet.Open(ctx, filepath.Join(models, "facenet-keras"), facenet.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	db, err := verify.New(p.Space())
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"younes", "kian"} {
		emb, err := p.EncodeFile(ctx, filepath.Join(images, name+".jpg"))
		if err != nil {
			log.Fatal(err)
		}
		if err := db.Enrol(name, emb); err != nil {
			log.Fatal(err)
		}
	}

	d, err := p.Verify(ctx, filepath.Join(images, "camera_0.jpg"), "younes", db)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (distance %.3f)\n", d.Message(), d.Distance)

	m, err := p.Identify(ctx, filepath.Join(images, "kian.jpg"), verify.NewSearcher(db))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Message())
	// Output:
	// It's younes, welcome in! (distance 0.602)
	// it's kian, the distance is 0.0
}
