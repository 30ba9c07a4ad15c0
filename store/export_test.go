package store

// SetParallelMin lets tests take the parallel load path on small stores.
func SetParallelMin(n int64) (restore func()) {
	old := parallelMin
	parallelMin = n
	return func() { parallelMin = old }
}
