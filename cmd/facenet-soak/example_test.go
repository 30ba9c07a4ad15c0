package main

import "fmt"

// The verdict compares the last sample with the first one taken after the warm-up: memory that a
// process allocates once while it warms up does not count as growth.
func Example() {
	curve := []sample{
		{N: 1000, RSSKiB: 300 << 10}, // still warming up
		{N: 2000, RSSKiB: 400 << 10},
		{N: 10000, RSSKiB: 404 << 10},
	}
	pct, from, to, _ := growth(curve, 2000)
	fmt.Printf("%d -> %d embeddings: %+.1f%%\n", from.N, to.N, pct)
	// Output:
	// 2000 -> 10000 embeddings: +1.0%
}
