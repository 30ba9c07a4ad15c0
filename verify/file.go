package verify

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"unicode/utf8"

	"github.com/facenet-go/facenet/internal/fsutil"
	"github.com/facenet-go/facenet/vec"
)

// Sentinel errors of the database file. See the FORMAT section of the package documentation.
var (
	// ErrNotDatabase reports a file that does not start with the database magic.
	ErrNotDatabase = errors.New("not a facenet identity database")
	// ErrUnsupportedVersion reports a database written by a newer format version.
	ErrUnsupportedVersion = errors.New("unsupported database version")
	// ErrCorrupt reports a database file that is truncated, fails its checksum or holds
	// values no writer produces. The file is left as it is.
	ErrCorrupt = errors.New("corrupt database")
	// ErrConflict reports a Save that would replace a file this DB was not loaded from (or
	// that changed on disk since): saving would lose whatever that file holds.
	ErrConflict = errors.New("database file changed on disk or is not the one loaded")
)

// magic starts every database file. As PNG's, its first byte has the high bit set and it
// holds "\r\n" and "\n", so 7-bit transfers and newline conversions are detected.
const magic = "\x89FID\r\n\x1a\n"

// formatVersion is the version this package writes and the only one it reads.
const formatVersion = 1

// headerLen is the fixed part of the header: magic, version, flags, dim, identities, rows.
const headerLen = 8 + 2 + 2 + 4 + 4 + 8

// chunk is the unit of streaming I/O for the big arrays: large enough to amortize calls,
// small enough to stay in cache while it is checksummed and converted.
const chunk = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the database in the file format to w. It implements io.WriterTo.
func (db *DB) WriteTo(w io.Writer) (int64, error) {
	cw := &crcWriter{w: w, crc: crc32.New(castagnoli)}
	h := make([]byte, 0, headerLen+8+len(db.space.Fingerprint)+len(db.space.Profile))
	h = append(h, magic...)
	h = binary.LittleEndian.AppendUint16(h, formatVersion)
	h = binary.LittleEndian.AppendUint16(h, 0)
	h = binary.LittleEndian.AppendUint32(h, uint32(db.space.Dim))
	h = binary.LittleEndian.AppendUint32(h, uint32(len(db.names)))
	h = binary.LittleEndian.AppendUint64(h, uint64(len(db.owner)))
	h = binary.LittleEndian.AppendUint32(h, uint32(len(db.space.Fingerprint)))
	h = append(h, db.space.Fingerprint...)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(db.space.Profile)))
	h = append(h, db.space.Profile...)
	cw.Write(h)
	var nb []byte
	for _, n := range db.names {
		nb = binary.LittleEndian.AppendUint16(nb[:0], uint16(len(n)))
		cw.Write(append(nb, n...))
	}
	buf := make([]byte, chunk)
	for i := 0; i < len(db.owner); i += chunk / 4 {
		part := db.owner[i:min(i+chunk/4, len(db.owner))]
		for j, o := range part {
			binary.LittleEndian.PutUint32(buf[4*j:], o)
		}
		cw.Write(buf[:4*len(part)])
	}
	for i := 0; i < len(db.data); i += chunk / 4 {
		part := db.data[i:min(i+chunk/4, len(db.data))]
		for j, f := range part {
			binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(f))
		}
		cw.Write(buf[:4*len(part)])
	}
	sum := binary.LittleEndian.AppendUint32(nil, cw.crc.Sum32())
	cw.Write(sum)
	return cw.n, cw.err
}

// crcWriter checksums what it writes and keeps the first error, so WriteTo reads straight.
type crcWriter struct {
	w   io.Writer
	crc hash.Hash32
	n   int64
	err error
}

func (c *crcWriter) Write(p []byte) {
	if c.err != nil {
		return
	}
	c.crc.Write(p)
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
}

// ReadDB decodes a database of size bytes from r. Every length is checked against size
// before anything is allocated for it, and the checksum over the whole file is verified, so
// a truncated or damaged file gives ErrCorrupt (or ErrNotDatabase, ErrUnsupportedVersion),
// never a panic or a huge allocation.
func ReadDB(r io.Reader, size int64) (*DB, error) {
	d := &decoder{r: bufio.NewReaderSize(r, 64<<10), crc: crc32.New(castagnoli), left: size}
	db, err := d.decode()
	if err != nil {
		return nil, err
	}
	return db, nil
}

type decoder struct {
	r    *bufio.Reader
	crc  hash.Hash32
	left int64 // bytes of the file not read yet
	buf  []byte
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// read returns the next n bytes, checksummed. The slice is reused by the next call.
func (d *decoder) read(n int) ([]byte, error) {
	if int64(n) > d.left {
		return nil, corrupt("truncated: %d bytes needed, %d left", n, d.left)
	}
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	b := d.buf[:n]
	if _, err := io.ReadFull(d.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, corrupt("truncated: file shorter than its stated size")
		}
		return nil, err
	}
	d.left -= int64(n)
	d.crc.Write(b)
	return b, nil
}

func (d *decoder) decode() (*DB, error) {
	if d.left < int64(len(magic)) {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrNotDatabase, d.left)
	}
	m, err := d.read(len(magic))
	if err != nil {
		return nil, err
	}
	if string(m) != magic {
		return nil, ErrNotDatabase
	}
	h, err := d.read(headerLen - len(magic))
	if err != nil {
		return nil, err
	}
	// h is the header after the magic (read reuses its buffer, so m is gone now).
	if v := binary.LittleEndian.Uint16(h[0:]); v != formatVersion {
		return nil, fmt.Errorf("%w: version %d, this program reads version %d", ErrUnsupportedVersion, v, formatVersion)
	}
	if f := binary.LittleEndian.Uint16(h[2:]); f != 0 {
		return nil, corrupt("flags %#x, want 0", f)
	}
	dim := binary.LittleEndian.Uint32(h[4:])
	nIdent := binary.LittleEndian.Uint32(h[8:])
	nRows := binary.LittleEndian.Uint64(h[12:])

	var space Space
	space.Dim = int(dim)
	fp, err := d.readString(MaxFingerprintLen, "fingerprint")
	if err != nil {
		return nil, err
	}
	space.Fingerprint = fp
	prof, err := d.readString(MaxProfileLen, "profile")
	if err != nil {
		return nil, err
	}
	if prof != "" {
		space.Profile = []byte(prof)
	}
	if err := space.validate(); err != nil {
		return nil, corrupt("%v", err)
	}
	db, err := New(space)
	if err != nil {
		return nil, corrupt("%v", err)
	}

	// Each name takes at least 3 bytes, so a count the file cannot hold is refused before
	// the slice is allocated.
	if int64(nIdent) > d.left/3 {
		return nil, corrupt("%d identities cannot fit in %d bytes", nIdent, d.left)
	}
	db.names = make([]string, 0, nIdent)
	db.index = make(map[string]int, nIdent)
	db.counts = make([]int, nIdent)
	for i := range int(nIdent) {
		b, err := d.read(2)
		if err != nil {
			return nil, err
		}
		b, err = d.read(int(binary.LittleEndian.Uint16(b)))
		if err != nil {
			return nil, err
		}
		name := string(b)
		if err := validStoredName(name); err != nil {
			return nil, corrupt("identity %d: %v", i, err)
		}
		db.index[name] = i // one map operation: a duplicate leaves the map a name short
		if len(db.index) != i+1 {
			return nil, corrupt("identity %q stored twice", name)
		}
		db.names = append(db.names, name)
	}

	// What is left must be exactly the owners, the rows and the checksum.
	rowBytes := 4 * (int64(dim) + 1)
	if d.left < 4 || nRows > uint64((d.left-4)/rowBytes) || int64(nRows)*rowBytes != d.left-4 {
		return nil, corrupt("%d rows of dimension %d do not match the %d bytes left", nRows, dim, d.left)
	}
	if nRows < uint64(nIdent) {
		return nil, corrupt("%d rows for %d identities", nRows, nIdent)
	}
	if nRows*uint64(dim) > math.MaxInt/4 {
		return nil, corrupt("%d rows of dimension %d do not fit in memory", nRows, dim)
	}
	db.owner = make([]uint32, nRows)
	for i := 0; i < len(db.owner); i += chunk / 4 {
		part := db.owner[i:min(i+chunk/4, len(db.owner))]
		b, err := d.read(4 * len(part))
		if err != nil {
			return nil, err
		}
		for j := range part {
			o := binary.LittleEndian.Uint32(b[4*j:])
			if o >= nIdent {
				return nil, corrupt("row %d belongs to identity %d of %d", i+j, o, nIdent)
			}
			part[j] = o
			db.counts[o]++
		}
	}
	for id, c := range db.counts {
		if c == 0 {
			return nil, corrupt("identity %q has no samples", db.names[id])
		}
	}
	db.data = make([]float32, nRows*uint64(dim))
	for i := 0; i < len(db.data); i += chunk / 4 {
		part := db.data[i:min(i+chunk/4, len(db.data))]
		b, err := d.read(4 * len(part))
		if err != nil {
			return nil, err
		}
		bad := false
		for j := range part {
			f := math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
			part[j] = f
			bad = bad || !(math.Abs(float64(f)) <= vec.MaxComponent)
		}
		if bad {
			return nil, corrupt("non-finite value in rows %d..%d", i/int(dim), (i+len(part)-1)/int(dim))
		}
	}
	want := d.crc.Sum32()
	b, err := d.read(4)
	if err != nil {
		return nil, err
	}
	if got := binary.LittleEndian.Uint32(b); got != want {
		return nil, corrupt("checksum %08x, contents give %08x", got, want)
	}
	return db, nil
}

func (d *decoder) readString(max int, what string) (string, error) {
	b, err := d.read(4)
	if err != nil {
		return "", err
	}
	n := binary.LittleEndian.Uint32(b)
	if n > uint32(max) {
		return "", corrupt("%s length %d, max %d", what, n, max)
	}
	b, err = d.read(int(n))
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", corrupt("%s is not UTF-8", what)
	}
	return string(b), nil
}

// Open loads the database file at path. A missing file gives an error wrapping
// fs.ErrNotExist; a damaged one ErrCorrupt, ErrNotDatabase or ErrUnsupportedVersion, and the
// file is never touched. The returned DB remembers the file, so Save can check that nobody
// replaced it in between.
func Open(path string) (*DB, error) {
	// fsutil.Open refuses FIFOs (whose open would wait for a writer forever), devices, sockets
	// and directories before reading; ReadDB bounds what it allocates by the file's size.
	f, fi, err := fsutil.Open(path, math.MaxInt64)
	if errors.Is(err, fsutil.ErrNotRegular) {
		return nil, fmt.Errorf("open database %s: %w: %w", path, ErrNotDatabase, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	defer f.Close()
	db, err := ReadDB(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.origin = fi
	return db, nil
}

// OpenOrCreate opens the database at path, or returns a new empty one for space when no file
// exists there (it is written by the first Save). An existing database must be of the same
// embedding space (else ErrModelMismatch). Any other failure to load is returned as is: a
// database that cannot be read is never replaced by an empty one.
func OpenOrCreate(path string, space Space) (*DB, error) {
	db, err := Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return New(space)
	}
	if err != nil {
		return nil, err
	}
	if err := db.space.Check(space); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// Save writes the database to path atomically: into a temporary file in the same directory,
// fsynced, renamed over path, and the directory fsynced. A crash at any point leaves either
// the previous file or the new one, both complete and checksum-valid. A crash can leave a
// stray ".<name>.tmp-*" file next to path; it is never read. A symlink at path is followed,
// dangling or not: its target is written and the link kept. Anything but a regular file at the
// target (a device, FIFO, socket, directory) is refused with fsutil.ErrNotRegular.
//
// Save only replaces a file this DB was loaded from (or last saved to) and that has not
// changed since; any other existing file gives ErrConflict, so a database that failed to
// load, or that another process rewrote meanwhile, is never overwritten. The check and the
// rename are not one atomic step: concurrent writers still need a lock of their own.
func (db *DB) Save(path string) error {
	// Renaming over a symlink would replace the link and leave its target stale: write
	// where it points instead (a dangling link's target too), and never over a device.
	path, err := fsutil.Destination(path)
	if err != nil {
		return fmt.Errorf("save database: %w", err)
	}
	mode := fs.FileMode(0o600) // embeddings are biometric data
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		if db.origin == nil || !sameVersion(db.origin, fi) {
			return fmt.Errorf("save database %s: %w", path, ErrConflict)
		}
		mode = fi.Mode().Perm()
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("save database: %w", err)
	}
	err = fsutil.WriteAtomic(path, mode, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, chunk)
		if _, err := db.WriteTo(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("save database %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil {
		db.origin = fi
	}
	return nil
}

// sameVersion reports whether fi is still the file that was loaded: the same inode (every
// Save renames a new one into place), size and modification time.
func sameVersion(origin, fi os.FileInfo) bool {
	return os.SameFile(origin, fi) && origin.Size() == fi.Size() && origin.ModTime().Equal(fi.ModTime())
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
