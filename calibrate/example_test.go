package calibrate_test

import (
	"fmt"
	"log"

	"github.com/facenet-go/facenet/calibrate"
	"github.com/facenet-go/facenet/vec"
)

func unit(v []float32) []float32 {
	u, err := vec.Normalize(v)
	if err != nil {
		log.Fatal(err)
	}
	return u
}

func ExampleLabelled() {
	// Four people, three photos each: each person's photos are close together.
	labelled := map[string][][]float32{}
	for p := range 4 {
		for s := range 3 {
			v := make([]float32, 7)
			v[p] = 1
			v[4+s] = 0.3
			labelled[fmt.Sprint("person", p)] = append(labelled[fmt.Sprint("person", p)], unit(v))
		}
	}
	c, err := calibrate.Labelled(labelled, calibrate.Options{Folds: 4})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d genuine, %d impostor pairs\n", len(c.Genuine), len(c.Impostor))
	fmt.Printf("threshold %.3f, accuracy %.2f, EER %.2f\n", c.Threshold, c.Accuracy, c.EER)
	// Output:
	// 12 genuine, 54 impostor pairs
	// threshold 0.407, accuracy 1.00, EER 0.00
}
