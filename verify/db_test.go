package verify

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"math"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/fsutil"
	"github.com/facenet-go/facenet/vec"
)

var testSpace = Space{Fingerprint: "sha256:abc", Profile: []byte(`{"resize": "nearest", "size": 160}`), Dim: 3}

// sampleDB has three identities, one with two samples, enrolled out of order.
func sampleDB(t testing.TB) *DB {
	t.Helper()
	db, err := New(testSpace)
	require.NoError(t, err)
	require.NoError(t, db.Enrol("danielle", []float32{1, 0, 0}))
	require.NoError(t, db.Enrol("younes", []float32{0, 1, 0}))
	require.NoError(t, db.Enrol("tian", []float32{0, 0, 1}))
	require.NoError(t, db.Enrol("younes", []float32{0, 0.6, 0.8}))
	return db
}

func requireSameDB(t *testing.T, want, got *DB) {
	t.Helper()
	require.Equal(t, want.Space(), got.Space())
	require.Equal(t, want.Names(), got.Names())
	require.Equal(t, want.Labelled(), got.Labelled())
	require.Equal(t, want.owner, got.owner)
	require.Equal(t, want.data, got.data)
}

func TestDBEdits(t *testing.T) {
	db := sampleDB(t)
	require.Equal(t, []string{"danielle", "younes", "tian"}, db.Names())
	require.Equal(t, 3, db.Len())
	require.Equal(t, 4, db.NumSamples())
	s, err := db.Samples("younes")
	require.NoError(t, err)
	require.Equal(t, [][]float32{{0, 1, 0}, {0, 0.6, 0.8}}, s)

	require.NoError(t, db.Rename("younes", "Younes B."))
	require.Equal(t, []string{"danielle", "Younes B.", "tian"}, db.Names())
	require.False(t, db.Has("younes"))

	require.NoError(t, db.RemoveSample("Younes B.", 0))
	s, err = db.Samples("Younes B.")
	require.NoError(t, err)
	require.Equal(t, [][]float32{{0, 0.6, 0.8}}, s)

	require.NoError(t, db.Remove("danielle"))
	require.Equal(t, []string{"Younes B.", "tian"}, db.Names())
	m, err := WhoIsIt([]float32{0, 0, 1}, db, 0.7)
	require.NoError(t, err)
	require.Equal(t, "tian", m.Identity)
	require.Equal(t, map[string][][]float32{"Younes B.": {{0, 0.6, 0.8}}, "tian": {{0, 0, 1}}}, db.Labelled())

	// Enrolling again appends a new identity at the end.
	require.NoError(t, db.Enrol("danielle", []float32{1, 0, 0}))
	require.Equal(t, []string{"Younes B.", "tian", "danielle"}, db.Names())
}

func TestDBEditErrors(t *testing.T) {
	db := sampleDB(t)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"enrol wrong dim", db.Enrol("x", []float32{1, 2}), ErrModelMismatch},
		{"enrol NaN", db.Enrol("x", []float32{1, 2, float32(math.NaN())}), vec.ErrNonFinite},
		{"enrol empty name", db.Enrol("", []float32{1, 2, 3}), ErrInvalidName},
		{"enrol newline", db.Enrol("a\nb", []float32{1, 2, 3}), ErrInvalidName},
		{"enrol bad UTF-8", db.Enrol("\xff", []float32{1, 2, 3}), ErrInvalidName},
		{"enrol long name", db.Enrol(string(bytes.Repeat([]byte("a"), MaxNameLen+1)), []float32{1, 2, 3}), ErrInvalidName},
		{"remove unknown", db.Remove("nobody"), ErrUnknownIdentity},
		{"rename unknown", db.Rename("nobody", "x"), ErrUnknownIdentity},
		{"rename onto existing", db.Rename("tian", "younes"), ErrDuplicateIdentity},
		{"rename to invalid", db.Rename("tian", ""), ErrInvalidName},
		{"remove sample unknown", db.RemoveSample("nobody", 0), ErrUnknownIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.err, tt.want)
		})
	}
	require.Error(t, db.Enrol("x"), "no embeddings")
	require.Error(t, db.RemoveSample("tian", 0), "last sample")
	require.Error(t, db.RemoveSample("younes", 2), "out of range")
	// A failed enrol of several embeddings adds none of them.
	require.ErrorIs(t, db.Enrol("tian", []float32{1, 1, 1}, []float32{1}), ErrModelMismatch)
	requireSameDB(t, sampleDB(t), db)
}

func TestSpace(t *testing.T) {
	tests := []struct {
		name string
		s    Space
		want error
	}{
		{"no fingerprint", Space{Dim: 3}, ErrInvalidSpace},
		{"zero dim", Space{Fingerprint: "m", Dim: 0}, ErrInvalidSpace},
		{"huge dim", Space{Fingerprint: "m", Dim: MaxDim + 1}, ErrInvalidSpace},
		{"profile not JSON", Space{Fingerprint: "m", Dim: 3, Profile: []byte("{")}, ErrInvalidSpace},
		{"ok without profile", Space{Fingerprint: "m", Dim: 3}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.s)
			if tt.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
			}
		})
	}
	spaced := testSpace
	spaced.Profile = []byte("{\n  \"resize\":\"nearest\",\"size\" : 160 }")
	require.NoError(t, testSpace.Check(spaced), "whitespace does not matter")
	for _, other := range []Space{
		{Fingerprint: "sha256:def", Profile: testSpace.Profile, Dim: 3},
		{Fingerprint: "sha256:abc", Profile: testSpace.Profile, Dim: 128},
		{Fingerprint: "sha256:abc", Profile: []byte(`{"resize": "bilinear", "size": 160}`), Dim: 3},
		{Fingerprint: "sha256:abc", Dim: 3},
	} {
		require.ErrorIs(t, testSpace.Check(other), ErrModelMismatch, "%+v", other)
	}
}

func TestSaveOpenRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "faces.db")
	db := sampleDB(t)
	require.NoError(t, db.Save(path))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "biometric data is private by default")

	got, err := Open(path)
	require.NoError(t, err)
	requireSameDB(t, db, got)

	// Edit and save over the file it came from, twice.
	require.NoError(t, got.Enrol("andrew", []float32{0.6, 0.8, 0}))
	require.NoError(t, got.Save(path))
	require.NoError(t, got.Remove("tian"))
	require.NoError(t, got.Save(path))
	again, err := Open(path)
	require.NoError(t, err)
	requireSameDB(t, got, again)
	require.Equal(t, []string{"danielle", "younes", "andrew"}, again.Names())

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files left behind")
}

func TestSaveNeverOverwritesAnotherFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "faces.db")
	require.NoError(t, os.WriteFile(path, []byte("precious, not a database"), 0o644))

	// A new database may not replace an existing file.
	db := sampleDB(t)
	require.ErrorIs(t, db.Save(path), ErrConflict)

	// A file that fails to load gives an error and no database to save.
	_, err := OpenOrCreate(path, testSpace)
	require.ErrorIs(t, err, ErrNotDatabase)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "precious, not a database", string(b))

	// A database rewritten by someone else since it was loaded is not clobbered.
	path2 := filepath.Join(dir, "shared.db")
	require.NoError(t, sampleDB(t).Save(path2))
	first, err := Open(path2)
	require.NoError(t, err)
	second, err := Open(path2)
	require.NoError(t, err)
	require.NoError(t, second.Enrol("kian", []float32{1, 1, 0}))
	require.NoError(t, second.Save(path2))
	require.NoError(t, first.Enrol("dan", []float32{1, 0, 1}))
	require.ErrorIs(t, first.Save(path2), ErrConflict)
	onDisk, err := Open(path2)
	require.NoError(t, err)
	require.True(t, onDisk.Has("kian"))
}

func TestSaveThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.db")
	link := filepath.Join(dir, "faces.db")
	require.NoError(t, sampleDB(t).Save(real))
	require.NoError(t, os.Symlink("real.db", link))
	db, err := Open(link)
	require.NoError(t, err)
	require.NoError(t, db.Enrol("kian", []float32{1, 1, 0}))
	require.NoError(t, db.Save(link))
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	require.Equal(t, fs.ModeSymlink, fi.Mode().Type(), "the link stays a link")
	got, err := Open(real)
	require.NoError(t, err)
	require.True(t, got.Has("kian"), "the target has the change")
}

// TestSaveDestinations: a dangling symlink is written through (the target is created, the link
// kept), and nothing but a regular file is ever replaced: a FIFO, a socket, a character device
// or a directory at the path (or at a link's target) is refused and left as it was.
func TestSaveDestinations(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, dir, path string)
		want string // error text; "" means the save goes to target
	}{
		{"dangling symlink", func(t *testing.T, dir, path string) {
			require.NoError(t, os.Symlink("sub/../target.db", path))
			require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
		}, ""},
		{"chain of links, dangling", func(t *testing.T, dir, path string) {
			require.NoError(t, os.Symlink("middle", path))
			require.NoError(t, os.Symlink(filepath.Join(dir, "target.db"), filepath.Join(dir, "middle")))
		}, ""},
		{"fifo", func(t *testing.T, dir, path string) { require.NoError(t, syscall.Mkfifo(path, 0o644)) }, "(a named pipe)"},
		{"socket", func(t *testing.T, dir, path string) {
			l, err := net.Listen("unix", path)
			require.NoError(t, err)
			t.Cleanup(func() { l.Close() })
		}, "(a socket)"},
		{"directory", func(t *testing.T, dir, path string) { require.NoError(t, os.Mkdir(path, 0o755)) }, "(a directory)"},
		{"link to a fifo", func(t *testing.T, dir, path string) {
			require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "target.db"), 0o644))
			require.NoError(t, os.Symlink("target.db", path))
		}, "(a named pipe)"},
		{"character device", func(t *testing.T, dir, path string) {
			// A copy of /dev/null (major 1, minor 3) in the test's folder: replacing it would
			// be the bug, and must not touch the real one. mknod needs root (CAP_MKNOD); without
			// it a link to the real /dev/null is refused the same way, before any write.
			if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
				require.NoError(t, os.Symlink(os.DevNull, path))
			}
		}, "(a character device)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "faces.db")
			tt.make(t, dir, path)
			before, err := os.Lstat(path)
			require.NoError(t, err)
			db, err := OpenOrCreate(path, testSpace)
			if tt.want != "" {
				require.ErrorContains(t, err, tt.want, "opening refuses it already")
				db = sampleDB(t)
				err = db.Save(path)
				require.ErrorIs(t, err, fsutil.ErrNotRegular)
				require.ErrorContains(t, err, tt.want)
				after, err := os.Lstat(path)
				require.NoError(t, err)
				require.Equal(t, before.Mode(), after.Mode(), "left as it was")
				return
			}
			require.NoError(t, err)
			require.NoError(t, db.Enrol("kian", []float32{1, 1, 0}))
			require.NoError(t, db.Save(path))
			fi, err := os.Lstat(path)
			require.NoError(t, err)
			require.Equal(t, fs.ModeSymlink, fi.Mode().Type(), "the link stays a link")
			got, err := Open(filepath.Join(dir, "target.db"))
			require.NoError(t, err)
			require.True(t, got.Has("kian"), "the target was written")
			got, err = Open(path)
			require.NoError(t, err)
			require.True(t, got.Has("kian"), "and is read through the link")
		})
	}
}

func TestOpenOrCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "faces.db")
	db, err := OpenOrCreate(path, testSpace)
	require.NoError(t, err)
	require.Equal(t, 0, db.Len())
	require.NoError(t, db.Enrol("kian", []float32{1, 0, 0}))
	require.NoError(t, db.Save(path))

	db, err = OpenOrCreate(path, testSpace)
	require.NoError(t, err)
	require.Equal(t, []string{"kian"}, db.Names())

	other := testSpace
	other.Fingerprint = "sha256:other-model"
	_, err = OpenOrCreate(path, other)
	require.ErrorIs(t, err, ErrModelMismatch)
	other = testSpace
	other.Dim = 128
	_, err = OpenOrCreate(path, other)
	require.ErrorIs(t, err, ErrModelMismatch)

	_, err = Open(filepath.Join(dir, "missing.db"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = Open(dir)
	require.ErrorIs(t, err, ErrNotDatabase)
}

// encode returns the file bytes of db.
func encode(t testing.TB, db *DB) []byte {
	var buf bytes.Buffer
	n, err := db.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	return buf.Bytes()
}

func decodeBytes(b []byte) (*DB, error) { return ReadDB(bytes.NewReader(b), int64(len(b))) }

// withCRC recomputes the trailer, so a test can forge a well-checksummed bad file.
func withCRC(b []byte) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32c(b[:len(b)-4]))
	return b
}

func TestLoadDamagedFiles(t *testing.T) {
	good := encode(t, sampleDB(t))
	db, err := decodeBytes(good)
	require.NoError(t, err)
	requireSameDB(t, sampleDB(t), db)

	// Every truncation is refused.
	for n := range len(good) {
		_, err := decodeBytes(good[:n])
		require.Error(t, err, "truncated to %d bytes", n)
		if n >= len(magic) {
			require.ErrorIs(t, err, ErrCorrupt, "truncated to %d bytes", n)
		}
	}
	// Every single flipped bit is refused.
	for i := range len(good) * 8 {
		b := bytes.Clone(good)
		b[i/8] ^= 1 << (i % 8)
		_, err := decodeBytes(b)
		require.Error(t, err, "bit %d flipped", i)
	}
	// A trailing byte is refused, as is a reader shorter than its stated size.
	_, err = decodeBytes(append(bytes.Clone(good), 0))
	require.ErrorIs(t, err, ErrCorrupt)
	_, err = ReadDB(bytes.NewReader(good[:len(good)-1]), int64(len(good)))
	require.ErrorIs(t, err, ErrCorrupt)

	hdr := len(magic)
	put := func(off int, v uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[off:], v)
		return withCRC(b)
	}
	nan := bytes.Clone(good)
	binary.LittleEndian.PutUint32(nan[len(nan)-8:], math.Float32bits(float32(math.NaN())))
	owner := len(good) - 4 - 4*4*3 - 4*4 // first owner entry
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"other magic", append([]byte("GIF89a.."), good[8:]...), ErrNotDatabase},
		{"version 2", func() []byte { b := bytes.Clone(good); b[hdr] = 2; return withCRC(b) }(), ErrUnsupportedVersion},
		{"flags", func() []byte { b := bytes.Clone(good); b[hdr+2] = 1; return withCRC(b) }(), ErrCorrupt},
		{"dim 0", put(12, 0), ErrCorrupt},
		{"huge identity count", put(16, math.MaxUint32), ErrCorrupt},
		{"huge fingerprint", put(28, math.MaxUint32), ErrCorrupt},
		{"NaN sample", withCRC(nan), ErrCorrupt},
		{"owner out of range", put(owner, 7), ErrCorrupt},
		{"identity without samples", put(owner+8, 0), ErrCorrupt}, // tian's only row
		{"empty", nil, ErrNotDatabase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeBytes(tt.b)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestOpenCorruptFileIsLeftAlone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "faces.db")
	b := encode(t, sampleDB(t))
	b[len(b)/2] ^= 0x40
	require.NoError(t, os.WriteFile(path, b, 0o600))
	_, err := Open(path)
	require.ErrorIs(t, err, ErrCorrupt)
	require.Contains(t, err.Error(), path)
	_, err = OpenOrCreate(path, testSpace)
	require.ErrorIs(t, err, ErrCorrupt)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, b, after)
}

// TestValidName: names print as what they are, on one line. Control characters, format
// characters (Cf: invisible or bidi-reordering) and line/paragraph separators are refused, with
// the character and its category named; other scripts, accents and emoji are names like any.
func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		want string // "" means valid
	}{
		{"andrew", ""},
		{"Zoë Ångström", ""},
		{"李小龍", ""},
		{"محمد", ""},
		{"kian 😀", ""},
		{"a b", ""}, // U+0020 is Zs, a plain space
		{"", "empty"},
		{"ki\u202ean", "U+202E, a format character (Unicode category Cf"}, // right-to-left override
		{"kian\u200b", "U+200B, a format character (Unicode category Cf"}, // zero-width space
		{"\ufeffkian", "U+FEFF, a format character (Unicode category Cf"}, // byte-order mark
		{"ki\u2066an", "U+2066, a format character"},                      // left-to-right isolate
		{"kian\u00ad", "U+00AD, a format character"},                      // soft hyphen
		{"line\u2028break", "U+2028, a line separator (Unicode category Zl)"},
		{"para\u2029break", "U+2029, a paragraph separator (Unicode category Zp)"},
		{"new\nline", "U+000A, a control character (Unicode category Cc)"},
		{"bell\a", "U+0007, a control character"},
		{"c1\u0085", "U+0085, a control character"},
		{"bad\xffutf8", "not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidName(tt.name)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidName)
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), "\n", "one line")
			db := sampleDB(t)
			require.ErrorIs(t, db.Enrol(tt.name, []float32{1, 0, 0}), ErrInvalidName)
			require.ErrorIs(t, db.Rename("tian", tt.name), ErrInvalidName)
		})
	}
}
