// Package pillowlibs finds the shared libraries that the pinned Pillow wheel bundles
// (pillow.libs/ in the virtualenv), copied by `make pillow-libs` (mk/pillowlibs.mk) into
// build/pillow-libs/ under their wheel names, and checks each against the sha256 the make rule
// checked. The decoders that dlopen them (internal/libjpegturbo, internal/libwebp) so run the very
// machine code Pillow runs, whatever the system's libjpeg or libwebp is; a changed file is
// refused instead of quietly decoding differently.
package pillowlibs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// EnvDir names the environment variable that points at the folder; `make env` sets it.
const EnvDir = "FACENET_PILLOW_LIBS"

// ErrUnavailable means a library file is missing, altered or cannot be loaded.
var ErrUnavailable = errors.New("pillow library unavailable")

// Lib is one bundled library: its file name in the wheel (which is also its SONAME, so libraries
// that need it find it once it is loaded) and the sha256 of the Pillow 11.0.0 wheel's copy.
type Lib struct {
	Name   string
	SHA256 string
}

// The libraries of Pillow 11.0.0's manylinux_2_28 x86-64 wheel that the decoders load; the
// hashes are mk/pillowlibs.mk's.
var (
	// Libjpeg is libjpeg-turbo 3.0.4 built with the libjpeg 6.2 ABI.
	Libjpeg = Lib{"libjpeg-45e70d75.so.62.4.0", "1e7818d0aa22603ed6642d3971c282beaa6901a958333b5ff2303b8b5ffe4a0a"}
	// Libsharpyuv is libwebp 1.4.0's RGB->YUV helper, which Libwebp needs.
	Libsharpyuv = Lib{"libsharpyuv-898c0cb5.so.0.1.0", "6cb84e415687c46688c68315b768c338854f083a1ed710330f2abd72d63aeef2"}
	// Libwebp is libwebp 1.4.0's decoder and encoder.
	Libwebp = Lib{"libwebp-2fd3cdca.so.7.1.9", "4181f98f98df6c076e8b6790e2840a9a9a085664432804ac2e82fbbb946f0767"}
	// Libwebpdemux is libwebp 1.4.0's container parser and WebPAnimDecoder, which Pillow's
	// WebP plugin decodes every file with.
	Libwebpdemux = Lib{"libwebpdemux-f2642bcc.so.2.0.15", "f37b7e5d40ce430a22ef195092d7f2b6d8678ca43f6e517e6fbe7ee9c0f50148"}
)

// Dir is the folder the libraries are loaded from: $FACENET_PILLOW_LIBS when set, otherwise
// build/pillow-libs beside the executable's bin/ directory or, failing that, in the source tree
// this package was built from (where `go test` finds it).
func Dir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "..", "build", "pillow-libs"))
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", "..", "build", "pillow-libs"))
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return filepath.Clean(c)
		}
	}
	if len(candidates) == 0 {
		return "build/pillow-libs"
	}
	return filepath.Clean(candidates[0])
}

// Path returns lib's file in Dir after checking its sha256; the error, ErrUnavailable, names the
// file and what to run.
func Path(lib Lib) (string, error) {
	p := filepath.Join(Dir(), lib.Name)
	data, err := os.ReadFile(p)
	if err != nil {
		return "", unavailable(fmt.Sprintf("%s: not found (run make pillow-libs)", p))
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != lib.SHA256 {
		return "", unavailable(fmt.Sprintf("%s: sha256 %s, want %s (Pillow 11.0.0's; run make pillow-libs)", p, got, lib.SHA256))
	}
	return p, nil
}

// Unavailable wraps msg as ErrUnavailable with only msg as its text, so the one line a user sees
// names the file and the reason.
func Unavailable(msg string) error { return unavailable(msg) }

type unavailable string

func (e unavailable) Error() string        { return string(e) }
func (e unavailable) Is(target error) bool { return target == ErrUnavailable }
