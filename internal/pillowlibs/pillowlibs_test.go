package pillowlibs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The copies `make pillow-libs` made are Pillow 11.0.0's, and a missing or altered file is
// refused with one line that names it and what to run.
func TestPath(t *testing.T) {
	for _, lib := range []Lib{Libjpeg, Libsharpyuv, Libwebp, Libwebpdemux} {
		p, err := Path(lib)
		require.NoError(t, err, "run make pillow-libs")
		require.Equal(t, lib.Name, filepath.Base(p))
	}

	dir := t.TempDir()
	t.Setenv(EnvDir, dir)
	require.Equal(t, dir, Dir())
	_, err := Path(Libjpeg)
	require.ErrorIs(t, err, ErrUnavailable)
	require.Equal(t, filepath.Join(dir, Libjpeg.Name)+": not found (run make pillow-libs)", err.Error())

	require.NoError(t, os.WriteFile(filepath.Join(dir, Libwebp.Name), []byte("not libwebp"), 0o644))
	_, err = Path(Libwebp)
	require.ErrorIs(t, err, ErrUnavailable)
	require.Contains(t, err.Error(), "want "+Libwebp.SHA256)
	require.NotContains(t, err.Error(), "\n")
}
