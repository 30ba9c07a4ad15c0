package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"syscall"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/fpcache"
	"github.com/facenet-go/facenet/tfmodel"
)

// modelFlags registers the flags of every command that runs a model: --model and --profile.
func modelFlags(fs *flag.FlagSet) (dir, profile *string) {
	dir = fs.String("model", "", "SavedModel directory (required)")
	profile = fs.String("profile", "", "which of the model's profiles to apply: its default ("+encoding.ProfileFile+
		") unless named; facenet-keras also has \"accuracy\" (facenet's prewhiten and bilinear resize, "+
		encoding.NamedProfileFile("accuracy")+")")
	return dir, profile
}

// openEncoder loads the SavedModel in dir with its profile called profile ("" for its default one, or
// the notebook's rules when it has none) and returns an encoder over it; close releases the TensorFlow
// session.
func openEncoder(dir, profile string, opts encoding.EncoderOptions) (enc *encoding.Encoder, closeFn func() error, err error) {
	prof, found, err := encoding.LoadProfileWith(dir, fpcache.Fingerprint)
	if profile != "" {
		prof, found, err = encoding.LoadNamedProfile(dir, profile)
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := loadModel(dir, tfmodel.Options{
		Tags:      prof.Signature.TagSet,
		Signature: prof.Signature.SignatureDef,
		Input:     prof.Signature.Input,
		Output:    prof.Signature.Output,
		Quiet:     quietStderr,
	})
	if err != nil {
		return nil, nil, err
	}
	if in, ok := m.Input(); ok && len(in.Shape) == 4 {
		if !found {
			// No profile: the notebook's rules at the size and layout the model's signature declares.
			prof.Input = adaptToSignature(prof.Input, in.Shape)
		}
		h, w := in.Shape[1], in.Shape[2]
		if prof.Input.Layout == "NCHW" {
			h, w = in.Shape[2], in.Shape[3]
		}
		if h > 0 && w > 0 && (int(h) != prof.Input.Height || int(w) != prof.Input.Width) {
			m.Close()
			return nil, nil, fmt.Errorf("%s: model input is %dx%d but its profile says %dx%d", dir, h, w, prof.Input.Height, prof.Input.Width)
		}
	}
	enc, err = encoding.NewEncoder(m, prof, opts)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return enc, m.Close, nil
}

// adaptToSignature takes the input size, and channels-first layout, from a model's (N, H, W, 3) or
// (N, 3, H, W) input shape; unknown dimensions keep the notebook's values.
func adaptToSignature(in encoding.InputProfile, shape []int64) encoding.InputProfile {
	h, w := shape[1], shape[2]
	if shape[1] == 3 && shape[3] != 3 {
		in.Layout = "NCHW"
		h, w = shape[2], shape[3]
	}
	if h > 0 {
		in.Height = int(h)
	}
	if w > 0 {
		in.Width = int(w)
	}
	return in
}

// loadModel is tfmodel.Load; the reliability tests replace it in a child process to crash inside
// the quiet window.
var loadModel = tfmodel.Load

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
