package detect_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/facenet-go/facenet/detect"
	"github.com/facenet-go/facenet/encoding"
)

// Detect the face in one of the notebook's crops with the SavedModels `make models` writes.
func Example() {
	d, err := detect.Load("../build/models/mtcnn", detect.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	shared := os.Getenv("FACENET_SHARED")
	if shared == "" {
		shared = "../../shared"
	}
	img, err := encoding.LoadImg(filepath.Join(shared, "notebook", "images", "andrew.jpg"), encoding.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	faces, err := d.Detect(context.Background(), img)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range faces {
		fmt.Printf("box %v confidence %.4f left eye %v nose %v\n", f.Box, f.Confidence, f.Keypoints.LeftEye, f.Keypoints.Nose)
	}
	// Output:
	// box [31 15 42 61] confidence 0.9998 left eye (48,35) nose (60,49)
}
