//go:build !linux

package tfmodel

// StartupLog is empty where TensorFlow's startup lines are not held (see startup_linux.go).
func StartupLog() string { return "" }
