package fsutil

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// special makes, in dir, one of each kind of path a hostile user can give: a FIFO nobody writes
// to, a socket, a directory, a symlink to /dev/zero, a 3 GiB sparse file, and a regular file.
func special(t *testing.T, dir string) map[string]string {
	t.Helper()
	p := func(n string) string { return filepath.Join(dir, n) }
	require.NoError(t, syscall.Mkfifo(p("fifo"), 0o644))
	l, err := net.Listen("unix", p("socket"))
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	require.NoError(t, os.Mkdir(p("dir"), 0o755))
	require.NoError(t, os.Symlink("/dev/zero", p("zero")))
	f, err := os.Create(p("sparse"))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(3<<30))
	require.NoError(t, f.Close())
	require.NoError(t, os.WriteFile(p("small"), []byte("hello"), 0o644))
	require.NoError(t, os.Symlink("small", p("link-to-small")))
	return map[string]string{"fifo": p("fifo"), "socket": p("socket"), "dir": p("dir"), "zero": p("zero"),
		"sparse": p("sparse"), "small": p("small"), "link": p("link-to-small"), "missing": p("missing")}
}

func TestReadFile(t *testing.T) {
	paths := special(t, t.TempDir())
	tests := []struct {
		name, path string
		want       string // error text; "" means success
	}{
		{"fifo", paths["fifo"], "not a regular file (a named pipe)"},
		{"socket", paths["socket"], "not a regular file (a socket)"},
		{"directory", paths["dir"], "not a regular file (a directory)"},
		{"/dev/zero", paths["zero"], "not a regular file (a character device)"},
		{"sparse 3 GiB", paths["sparse"], "file too large: 3221225472 bytes, at most 1048576"},
		{"missing", paths["missing"], "no such file or directory"},
		{"regular", paths["small"], ""},
		{"symlink to a regular file", paths["link"], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			data, err := ReadFile(tt.path, 1<<20)
			require.Less(t, time.Since(start), time.Second, "a refusal must not wait or read")
			if tt.want == "" {
				require.NoError(t, err)
				require.Equal(t, "hello", string(data))
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.path)
			require.Contains(t, err.Error(), tt.want)
			_, err = Check(tt.path, 1<<20)
			require.ErrorContains(t, err, tt.want, "Check refuses what ReadFile refuses")
		})
	}
	t.Run("limit is inclusive", func(t *testing.T) {
		data, err := ReadFile(paths["small"], 5)
		require.NoError(t, err)
		require.Len(t, data, 5)
		_, err = ReadFile(paths["small"], 4)
		require.ErrorIs(t, err, ErrTooLarge)
	})
	t.Run("/proc file of size 0 that streams", func(t *testing.T) {
		// /proc/self/status is regular, reports size 0 and has content: the limit still holds.
		data, err := ReadFile("/proc/self/status", 1<<20)
		require.NoError(t, err)
		require.NotEmpty(t, data)
		_, err = ReadFile("/proc/self/status", 16)
		require.ErrorIs(t, err, ErrTooLarge)
	})
}

func TestDestination(t *testing.T) {
	dir := t.TempDir()
	paths := special(t, dir)
	p := func(n string) string { return filepath.Join(dir, n) }
	require.NoError(t, os.Symlink("nowhere/../target.db", p("dangling")))
	require.NoError(t, os.Symlink("dangling", p("chain")))
	require.NoError(t, os.Symlink("loop-b", p("loop-a")))
	require.NoError(t, os.Symlink("loop-a", p("loop-b")))
	require.NoError(t, os.Symlink("fifo", p("link-to-fifo")))
	tests := []struct {
		name, path, want, err string
	}{
		{"missing file", paths["missing"], paths["missing"], ""},
		{"regular file", paths["small"], paths["small"], ""},
		{"symlink to a regular file", paths["link"], paths["small"], ""},
		{"dangling symlink", p("dangling"), p("target.db"), ""},
		{"chain ending dangling", p("chain"), p("target.db"), ""},
		{"fifo", paths["fifo"], "", "not a regular file (a named pipe)"},
		{"socket", paths["socket"], "", "not a regular file (a socket)"},
		{"directory", paths["dir"], "", "not a regular file (a directory)"},
		{"symlink to /dev/zero", paths["zero"], "", "links to /dev/zero): not a regular file (a character device)"},
		{"symlink to a fifo", p("link-to-fifo"), "", "named pipe"},
		{"symlink loop", p("loop-a"), "", "too many levels of symbolic links"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Destination(tt.path)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				require.Contains(t, err.Error(), tt.path)
				return
			}
			require.NoError(t, err)
			require.Equal(t, filepath.Clean(tt.want), filepath.Clean(got))
		})
	}
}

// TestPublishNew: the name is given only when free, and a name taken first is never replaced.
func TestPublishNew(t *testing.T) {
	for _, tc := range []struct {
		name  string
		taken bool
	}{
		{"free name", false},
		{"taken name", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tmp, path := filepath.Join(dir, ".new"), filepath.Join(dir, "store")
			require.NoError(t, os.WriteFile(tmp, []byte("mine"), 0o600))
			if tc.taken {
				require.NoError(t, os.WriteFile(path, []byte("theirs"), 0o600))
			}
			err := PublishNew(tmp, path)
			got, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			if tc.taken {
				require.ErrorIs(t, err, fs.ErrExist)
				require.Equal(t, "theirs", string(got))
				require.FileExists(t, tmp, "the caller still owns its file")
				return
			}
			require.NoError(t, err)
			require.Equal(t, "mine", string(got))
			require.NoFileExists(t, tmp)
		})
	}
}
