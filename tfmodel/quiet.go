package tfmodel

import (
	"os"
	"runtime/debug"
	"syscall"
)

// QuietStderr points file descriptor 2 at /dev/null until restore is called. TensorFlow's loader
// logs INFO lines ("MLIR V1 optimization pass is not enabled") through a copy of absl that no
// environment variable reaches, and a CLI promises one line per error. With Options.Quiet set to
// it, Load calls it around TensorFlow's C loader only (every Go-side check and read runs before,
// with stderr intact), and Load's failures come back as errors, printed after restore. The
// redirection is process-wide: other goroutines' writes to stderr are lost while it lasts. A crash inside the window (a Go
// fatal error such as "out of memory", a panic, a signal from TensorFlow's C++ code) would
// otherwise print its report into /dev/null and leave only exit status 2: the runtime's crash
// output is pointed at the real stderr for the duration, so it always reaches the user.
func QuietStderr() (restore func()) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return func() {}
	}
	defer null.Close()
	saved, err := syscall.Dup(2)
	if err != nil {
		return func() {}
	}
	real := os.NewFile(uintptr(saved), "stderr")
	if err := debug.SetCrashOutput(real, debug.CrashOptions{}); err != nil {
		real.Close()
		return func() {}
	}
	if err := syscall.Dup3(int(null.Fd()), 2, 0); err != nil {
		debug.SetCrashOutput(nil, debug.CrashOptions{})
		real.Close()
		return func() {}
	}
	return func() {
		syscall.Dup3(saved, 2, 0)
		debug.SetCrashOutput(nil, debug.CrashOptions{})
		real.Close()
	}
}
