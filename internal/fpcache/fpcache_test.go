package fpcache

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
)

// model makes a directory with a variables/ folder of two small files.
func model(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "variables"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "variables", "variables.index"), []byte("index"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "variables", "variables.data-00000-of-00001"), []byte("weights-1"), 0o644))
	return dir
}

// poison replaces every cached fingerprint by a marker: a later call that returns the marker
// read the cache instead of hashing, one that returns the real value hashed.
func poison(t *testing.T) {
	t.Helper()
	dir, err := Dir()
	require.NoError(t, err)
	path := filepath.Join(dir, FileName)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var c cacheFile
	require.NoError(t, json.Unmarshal(raw, &c))
	require.NotEmpty(t, c.Entries)
	for i := range c.Entries {
		c.Entries[i].Fingerprint = "cached"
	}
	raw, err = json.Marshal(c)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw, 0o600))
}

func TestFingerprint(t *testing.T) {
	data := func(dir string) string { return filepath.Join(dir, "variables", "variables.data-00000-of-00001") }
	tests := []struct {
		name   string
		change func(t *testing.T, dir string) // after the value is cached and poisoned
		cached bool                           // the poisoned value must come back
	}{
		{"unchanged: from the cache", func(t *testing.T, dir string) {}, true},
		{"same size, mtime put back: ctime tells", func(t *testing.T, dir string) {
			st, err := os.Stat(data(dir))
			require.NoError(t, err)
			time.Sleep(10 * time.Millisecond) // a ctime tick apart on coarse clocks
			require.NoError(t, os.WriteFile(data(dir), []byte("weights-2"), 0o644))
			require.NoError(t, os.Chtimes(data(dir), st.ModTime(), st.ModTime()))
		}, false},
		{"replaced by another file", func(t *testing.T, dir string) {
			tmp := data(dir) + ".new"
			require.NoError(t, os.WriteFile(tmp, []byte("weights-3"), 0o644))
			require.NoError(t, os.Rename(tmp, data(dir)))
		}, false},
		{"file added", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "variables", "extra"), []byte("x"), 0o644))
		}, false},
		{"damaged cache", func(t *testing.T, dir string) {
			cdir, err := Dir()
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(cdir, FileName), []byte("{not json"), 0o600))
		}, false},
		{"cache path is a directory", func(t *testing.T, dir string) {
			cdir, err := Dir()
			require.NoError(t, err)
			require.NoError(t, os.Remove(filepath.Join(cdir, FileName)))
			require.NoError(t, os.Mkdir(filepath.Join(cdir, FileName), 0o700))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", t.TempDir())
			dir := model(t)
			want, err := encoding.Fingerprint(dir)
			require.NoError(t, err)
			got, err := Fingerprint(dir)
			require.NoError(t, err)
			require.Equal(t, want, got, "first call hashes")
			poison(t)
			tt.change(t, dir)
			got, err = Fingerprint(dir)
			require.NoError(t, err)
			if tt.cached {
				require.Equal(t, "cached", got)
				return
			}
			want, err = encoding.Fingerprint(dir)
			require.NoError(t, err)
			require.Equal(t, want, got, "a changed model (or cache) is hashed again")
		})
	}
	t.Run("errors are Fingerprint's", func(t *testing.T) {
		t.Setenv("XDG_CACHE_HOME", t.TempDir())
		dir := model(t)
		require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "variables", "zero")))
		_, err := Fingerprint(dir)
		require.ErrorContains(t, err, "not a regular file (a character device)")
		_, err = Fingerprint(filepath.Join(t.TempDir(), "missing"))
		require.ErrorContains(t, err, "no such file or directory")
	})
}
