package main

import (
	"flag"
	"os"
	"runtime/debug"
	"syscall"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/encoding"
)

// modelFlags registers the flags of every command that runs a model: --model and --profile.
func modelFlags(fs *flag.FlagSet) (dir, profile *string) {
	dir = fs.String("model", "", "SavedModel directory (required)")
	profile = fs.String("profile", "", "which of the model's profiles to apply: its default ("+encoding.ProfileFile+
		") unless named; facenet-keras also has \"accuracy\" (facenet's prewhiten and bilinear resize, "+
		encoding.NamedProfileFile("accuracy")+")")
	return dir, profile
}

// openPipeline opens the model every model command runs: its profile called profile ("" for its
// default one, or the notebook's rules when it has none), the detector with --detect, and the
// CLI's quiet window around TensorFlow's loaders.
func openPipeline(dir, profile string, opts facenet.Options) (*facenet.Pipeline, error) {
	opts.Profile = profile
	opts.Quiet = quietStderr
	return facenet.Open(cmdContext, dir, opts)
}

// quietStderr points file descriptor 2 at /dev/null until restore is called. TensorFlow's loader
// logs INFO lines ("MLIR V1 optimization pass is not enabled") through a copy of absl that no
// environment variable reaches, and the CLI promises one line per error. tfmodel calls it around
// TensorFlow's C loader only (every Go-side check and read runs before, with stderr intact), and
// Load's failures come back as errors, printed after restore. A crash inside the window (a Go
// fatal error such as "out of memory", a panic, a signal from TensorFlow's C++ code) would
// otherwise print its report into /dev/null and leave only exit status 2: the runtime's crash
// output is pointed at the real stderr for the duration, so it always reaches the user.
func quietStderr() (restore func()) {
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
