package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/testenv"
)

// writeBlank writes a face-less PNG at path.
func writeBlank(t *testing.T, path string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, image.NewRGBA(image.Rect(0, 0, 160, 120))))
	require.NoError(t, f.Close())
}

// TestEnrollDetectSkipsFacelessPhotos: enroll --dir --detect enrolls the largest face of each photo,
// skips a photo without a face with one line naming it, counts the skips in its summary, and leaves
// out an identity none of whose photos has a face; a folder with no face at all, or a NAME=PHOTO
// without one, fails in one line and writes no database.
func TestEnrollDetectSkipsFacelessPhotos(t *testing.T) {
	model := testenv.Model(t, "facenet-keras")
	photo := filepath.Join(testenv.ModuleRoot(t), "build/celeb5", detectPhoto)
	tmp := t.TempDir()

	mixed := filepath.Join(tmp, "mixed")
	require.NoError(t, os.MkdirAll(filepath.Join(mixed, "madonna"), 0o755))
	require.NoError(t, os.Symlink(photo, filepath.Join(mixed, "madonna", "a.jpg")))
	writeBlank(t, filepath.Join(mixed, "madonna", "b.png"))
	writeBlank(t, filepath.Join(mixed, "nobody", "c.png"))
	db := filepath.Join(tmp, "mixed.db")
	code, stdout, stderr := runCLI("enroll", "--quiet", "--model", model, "--detect", "--db", db, "--dir", mixed)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "enrolled 1 images of 1 identities into "+db+" (1 identities, 1 samples); skipped 2 photos without a face\n", stdout)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	require.Equal(t, []string{
		"facenet enroll: skipped " + filepath.Join(mixed, "madonna", "b.png") + ` (identity "madonna"): no face found`,
		"facenet enroll: skipped " + filepath.Join(mixed, "nobody", "c.png") + ` (identity "nobody"): no face found`,
		`facenet enroll: identity "nobody" left out: none of its 1 photos has a face`,
	}, lines)
	// The enrolled face is the photo's: it identifies itself.
	code, stdout, stderr = runCLI("identify", "--model", model, "--detect", "--db", db, photo)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "it's madonna")

	for _, tc := range []struct {
		name  string
		args  []string
		want  string
		lines int // on stderr: the skips, then the error
	}{
		{"a folder without any face", []string{"--dir", filepath.Join(tmp, "blank")}, "no face found in any photo; nothing written", 3},
		{"a named photo without a face", []string{"x=" + filepath.Join(tmp, "blank", "x", "x.png")}, `identity "x": ` + filepath.Join(tmp, "blank", "x", "x.png") + ": no face found", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeBlank(t, filepath.Join(tmp, "blank", "x", "x.png"))
			db := filepath.Join(tmp, "none.db")
			code, stdout, stderr := runCLI(append([]string{"enroll", "--quiet", "--model", model, "--detect", "--db", db}, tc.args...)...)
			require.Equal(t, 1, code)
			require.Empty(t, stdout)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			require.Len(t, lines, tc.lines, stderr)
			require.Contains(t, lines[len(lines)-1], tc.want)
			require.NoFileExists(t, db)
		})
	}
}
