package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/facenet-go/facenet/internal/fsutil"
)

// writeAtomic writes path through a temporary file in the same directory, synced and renamed into
// place, so readers (and a crash) see the old file or the new one, never half of one. A symlink
// at path is followed, dangling or not, as the database's Save does: its target is written and
// the link kept. What exists at the target must be a regular file: renaming over a device, FIFO
// or socket would replace it (as root, --out /dev/null would replace the real /dev/null).
func writeAtomic(path string, perm os.FileMode, write func(io.Writer) error) error {
	path, err := fsutil.Destination(path)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, perm)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// checkDestination refuses, before any slow work, a destination flag whose path writeAtomic
// would refuse.
func checkDestination(flag, path string) error {
	if path == "" {
		return nil
	}
	if _, err := fsutil.Destination(path); err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	return nil
}
