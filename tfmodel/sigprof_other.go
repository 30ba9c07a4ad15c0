//go:build !linux

package tfmodel

// withoutProfilingSignal is f itself where the SIGPROF block is not needed or not available.
func withoutProfilingSignal(f func()) { f() }
