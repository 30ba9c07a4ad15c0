package tfmodel_test

import (
	"context"
	"fmt"
	"log"

	"github.com/facenet-go/facenet/tfmodel"
)

// Load a SavedModel by its signature and run a batch of two images; no op names are needed.
// (The model is one of those `make models` writes.)
func ExampleLoad() {
	m, err := tfmodel.Load("../build/models/testmodels/keras_cnn", tfmodel.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	in, _ := m.Input()
	fmt.Println("input", in.Key, in.Shape, in.DType)

	batch := make([]float32, 2*16*16*3) // two 16x16 RGB images, NHWC
	out, shape, err := m.Predict(context.Background(), batch, []int64{2, 16, 16, 3})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("output", shape, len(out))
	// Output:
	// input image [-1 16 16 3] DT_FLOAT
	// output [2 8] 16
}
