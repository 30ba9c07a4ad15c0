package savedmodel_test

import (
	"fmt"
	"log"

	"github.com/facenet-go/facenet/savedmodel"
)

// Read a SavedModel, pick the MetaGraph tagged "serve" and print what its default signature
// expects and returns.
func Example() {
	m, err := savedmodel.Read("../testdata/savedmodel/half_plus_two")
	if err != nil {
		log.Fatal(err)
	}
	mg, err := m.MetaGraph() // the "serve" tag set
	if err != nil {
		log.Fatal(err)
	}
	sig, err := mg.Signature("serving_default")
	if err != nil {
		log.Fatal(err)
	}
	for _, in := range sig.Inputs {
		fmt.Printf("input  %s: %s %s shape %v\n", in.Key, in.Name, in.DType, in.Shape)
	}
	for _, out := range sig.Outputs {
		fmt.Printf("output %s: %s %s shape %v\n", out.Key, out.Name, out.DType, out.Shape)
	}
	// Output:
	// input  x: x:0 DT_FLOAT shape [-1 1]
	// output y: y:0 DT_FLOAT shape [-1 1]
}
