// Package fsutil is the one way this module opens the files it reads and checks the files it
// writes, so that no path can hang it or exhaust its memory.
//
// A FIFO blocks open(2) until a writer comes and read(2) until it writes; a character device such
// as /dev/zero never ends; a sparse file can claim terabytes it does not hold; /proc files report
// size 0 and stream. ReadFile therefore opens with O_NONBLOCK (which changes nothing for regular
// files), asks the open file what it is with fstat, refuses anything but a regular file and any
// file over the caller's limit, and reads through io.LimitReader so a file growing while read
// cannot pass the limit either. Check does the same for files that another library (TensorFlow)
// reads itself.
package fsutil

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// Errors callers branch on; both are wrapped with the path and the detail.
var (
	// ErrNotRegular means the path is a directory, FIFO, device or socket where a file was wanted.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge means the file is larger than the limit for its kind.
	ErrTooLarge = errors.New("file too large")
)

// ReadFile reads the regular file at path, of at most limit bytes. Symlinks are followed; what
// they point to must be a regular file too. Errors name the path.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, st, err := open(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Size the buffer from fstat (a regular file's size is exact) and read one byte more than the
	// limit, to notice a file that grows while it is read.
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%s: %w: grew past %d bytes while read", path, ErrTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// Open opens the regular file at path for reading, after the same checks as ReadFile; the caller
// reads it (through an io.LimitReader of limit bytes when the size matters) and closes it.
func Open(path string, limit int64) (*os.File, fs.FileInfo, error) {
	return open(path, limit)
}

// Check reports whether path is a regular file of at most limit bytes, by opening it as ReadFile
// does (without reading), for files another library will read by itself.
func Check(path string, limit int64) (fs.FileInfo, error) {
	f, st, err := open(path, limit)
	if err != nil {
		return nil, err
	}
	f.Close()
	return st, nil
}

func open(path string, limit int64) (*os.File, fs.FileInfo, error) {
	f, st, err := OpenRegular(path, limit)
	var pe *fs.PathError
	if err != nil && !errors.As(err, &pe) {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return f, st, err
}

// OpenRegular is Open for callers that name the path in their own errors: its refusals
// (ErrNotRegular with the kind of file, ErrTooLarge with the sizes) do not repeat it. The image
// reader uses it, so that every file the program opens goes through the same checks.
func OpenRegular(path string, limit int64) (*os.File, fs.FileInfo, error) {
	// stat first so that a socket (which open(2) refuses with a bare ENXIO) or a FIFO is named and
	// never opened; fstat after the open decides, in case the path changed in between. O_NONBLOCK
	// keeps the open itself from waiting for a FIFO's writer; it does nothing to regular files.
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w (%s)", ErrNotRegular, Kind(st.Mode()))
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err // *PathError: names the path
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%w (%s)", ErrNotRegular, Kind(st.Mode()))
	}
	if st.Size() > limit {
		f.Close()
		return nil, nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, st.Size(), limit)
	}
	return f, st, nil
}

// Kind names what a file mode is, for messages: "a directory", "a named pipe", ...
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	}
	return "mode " + m.String()
}

// maxLinks bounds the symlink chain Destination follows, as the kernel's ELOOP limit does.
const maxLinks = 40

// Destination returns where a write to path should go, for writers that replace files by
// renaming a temporary file over them. A symlink is followed to its final target, dangling or
// not, so the rename replaces the target and keeps the link (renaming over the link itself would
// replace the link and leave its target stale). What exists at the target must be a regular
// file: a device, FIFO, socket or directory there gives ErrNotRegular, so /dev/null is never
// replaced by a regular file. A missing target is fine (the write creates it).
func Destination(path string) (string, error) {
	target := path
	for hops := 0; ; hops++ {
		st, err := os.Lstat(target)
		if errors.Is(err, fs.ErrNotExist) {
			return target, nil
		}
		if err != nil {
			return "", err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			if !st.Mode().IsRegular() {
				return "", fmt.Errorf("%s: %w (%s): refusing to replace it", describe(path, target), ErrNotRegular, Kind(st.Mode()))
			}
			return target, nil
		}
		if hops == maxLinks {
			return "", fmt.Errorf("%s: too many levels of symbolic links", path)
		}
		link, err := os.Readlink(target)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(target), link)
		}
		target = link
	}
}

func describe(path, target string) string {
	if path == target {
		return path
	}
	return path + " (links to " + target + ")"
}

// WriteAtomic replaces path with what write produces, through a temporary file in the same
// directory that is given perm before any byte is written (a database holds biometric data),
// synced, renamed into place, and made durable by syncing the directory: readers, and a crash
// at any point, see the old file or the new one, never half of one. path goes through
// Destination first, so a symlink is followed and a device or FIFO is refused.
func WriteAtomic(path string, perm fs.FileMode, write func(io.Writer) error) error {
	path, err := Destination(path)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		err = write(f)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// PublishNew gives the complete file tmp the name path if, and only if, nothing has that name
// yet, atomically (a hard link: there is no moment at which path names a partial file, and a
// file another process published there first is never replaced), then removes the name tmp and
// makes the new name durable. It returns an error wrapping fs.ErrExist when path was taken.
func PublishNew(tmp, path string) error {
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("publish %s: %w", path, err)
	}
	if err := os.Remove(tmp); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	return syncDir(dir)
}

// syncDir makes a rename durable. Windows cannot open a directory for syncing, and its rename
// is already durable metadata, so it is skipped there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
