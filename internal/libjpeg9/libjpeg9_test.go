package libjpeg9

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	notLib := filepath.Join(dir, "libjpeg.so.9")
	require.NoError(t, os.WriteFile(notLib, []byte("not an ELF file"), 0o644))
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "none", "libjpeg.so.9"),
			"libjpeg9 decoder: " + filepath.Join(dir, "none", "libjpeg.so.9") + ": not found (run make setup)"},
		{"not a library", notLib, "libjpeg9 decoder: " + notLib + ": "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := load(tt.path)
			require.ErrorIs(t, err, ErrUnavailable)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// The real library, checked against the header this package was compiled with: jpeg_CreateDecompress
// rejects a struct size other than its own, so a 1x1 decode passing means the layouts agree.
func TestDecodeWithRealLibrary(t *testing.T) {
	require.NoError(t, Load(), "the make targets set %s", EnvPath)
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "preprocess", "corpus", "j_1x1.jpg"))
	require.NoError(t, err)
	dst := make([]byte, 3)
	require.NoError(t, Decode(data, 3, 1, 1, dst))
	require.ErrorIs(t, Decode(data, 3, 2, 1, make([]byte, 6)), ErrMismatch)
	require.ErrorIs(t, Decode(data[:len(data)/2], 3, 1, 1, dst), ErrSuspended)
	// A quantization table numbered 15: libjpeg's error_exit, caught by longjmp, with its message.
	badDQT := append([]byte{0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x0F}, make([]byte, 64)...)
	err = Decode(badDQT, 1, 1, 1, make([]byte, 1))
	require.ErrorIs(t, err, ErrCorrupt)
	require.Contains(t, err.Error(), "Bogus DQT index 15")
}
