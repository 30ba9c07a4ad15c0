package main

import (
	"fmt"
	"strings"
)

// The image list both sides read, and how much of it a batched warm-up runs: 36 images in batches
// of 8 end with a batch of 4, so the warm-up covers one batch of 8 and one of 4.
func Example() {
	paths, err := readList(strings.NewReader("andrew.jpg\n\nkian.jpg\n"))
	fmt.Println(paths, err)
	fmt.Println(warmupImages(36, 8), warmupImages(288, 32))
	// Output:
	// [andrew.jpg kian.jpg] <nil>
	// 12 32
}
