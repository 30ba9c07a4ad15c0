// Package fpcache remembers the weights fingerprints (encoding.Fingerprint) of SavedModels
// without a profile, so the CLI hashes a model's variables/ once instead of on every command
// (10 GiB of weights took 38 s per command).
//
// The cache is one JSON file in the user's cache directory ($XDG_CACHE_HOME/facenet, else
// ~/.cache/facenet: os.UserCacheDir), not beside the model: model folders are often read-only
// or shared (build/models, a mounted volume), and a file written there would change what
// `facenet inspect` lists. An entry is keyed by the model directory's real path and holds, for
// every file Fingerprint hashes, its size, modification time, change time, inode and device. It
// is used only when all of them still match: a file cannot be rewritten without changing its
// ctime, which no user call can set back, and a file replaced by another has another inode. Any
// problem with the cache (missing, unreadable, damaged, not writable) only means hashing again.
package fpcache

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"syscall"
	"time"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/fsutil"
)

// FileName is the cache file's name inside Dir.
const FileName = "fingerprints.json"

// maxEntries bounds the cache (least recently used models go first), and maxBytes its file.
const (
	maxEntries = 256
	maxBytes   = 8 << 20
)

// fileStat is what identifies one version of a file without reading it.
type fileStat struct {
	Path  string `json:"path"`
	Size  int64  `json:"size"`
	Mtime int64  `json:"mtime_ns"`
	Ctime int64  `json:"ctime_ns"`
	Ino   uint64 `json:"ino"`
	Dev   uint64 `json:"dev"`
}

type entry struct {
	Dir         string     `json:"dir"`
	Files       []fileStat `json:"files"`
	Fingerprint string     `json:"fingerprint"`
	Used        int64      `json:"used_unix"`
}

type cacheFile struct {
	Format  string  `json:"format"`
	Entries []entry `json:"entries"`
}

const format = "facenet-fingerprints/v1"

// Dir is the directory of the cache file: $XDG_CACHE_HOME/facenet or ~/.cache/facenet.
func Dir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "facenet"), nil
}

// Fingerprint returns encoding.Fingerprint(dir), from the cache when every file of the model's
// variables/ is unchanged since it was computed, else computed and stored.
func Fingerprint(dir string) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return encoding.Fingerprint(dir)
	}
	if real, err = filepath.Abs(real); err != nil {
		return encoding.Fingerprint(dir)
	}
	before, err := stats(real)
	if err != nil {
		return encoding.Fingerprint(dir) // says what is wrong with the files
	}
	cacheDir, err := Dir()
	if err != nil {
		return encoding.Fingerprint(dir)
	}
	path := filepath.Join(cacheDir, FileName)
	c := load(path)
	for i, e := range c.Entries {
		if e.Dir == real && slices.Equal(e.Files, before) {
			c.Entries[i].Used = time.Now().Unix()
			save(path, c) // best effort: only the LRU order is lost
			return e.Fingerprint, nil
		}
	}
	fp, err := encoding.Fingerprint(dir)
	if err != nil {
		return "", err
	}
	// Store only when nothing changed while hashing: the value must belong to the stats it is
	// stored under.
	if after, err := stats(real); err == nil && slices.Equal(before, after) {
		c.Entries = slices.DeleteFunc(c.Entries, func(e entry) bool { return e.Dir == real })
		c.Entries = append(c.Entries, entry{Dir: real, Files: before, Fingerprint: fp, Used: time.Now().Unix()})
		if len(c.Entries) > maxEntries {
			sort.SliceStable(c.Entries, func(i, j int) bool { return c.Entries[i].Used > c.Entries[j].Used })
			c.Entries = c.Entries[:maxEntries]
		}
		save(path, c)
	}
	return fp, nil
}

// stats lists the files encoding.Fingerprint hashes with what identifies their version.
func stats(dir string) ([]fileStat, error) {
	files, err := encoding.VariablesFiles(dir)
	if err != nil {
		return nil, err
	}
	out := make([]fileStat, len(files))
	for i, rel := range files {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel))) // symlinks: the target's version
		if err != nil {
			return nil, err
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok || !st.Mode().IsRegular() {
			return nil, errors.New("not a regular file")
		}
		out[i] = fileStat{Path: rel, Size: st.Size(), Mtime: st.ModTime().UnixNano(),
			Ctime: sys.Ctim.Nano(), Ino: sys.Ino, Dev: uint64(sys.Dev)}
	}
	return out, nil
}

// load reads the cache; a missing or damaged one is empty.
func load(path string) cacheFile {
	raw, err := fsutil.ReadFile(path, maxBytes)
	if err != nil {
		return cacheFile{Format: format}
	}
	var c cacheFile
	if json.Unmarshal(raw, &c) != nil || c.Format != format {
		return cacheFile{Format: format}
	}
	return c
}

// save writes the cache atomically (a temporary file renamed over it), so concurrent commands
// see one complete version or another; the last writer wins, which costs at most a rehash.
func save(path string, c cacheFile) {
	raw, err := json.Marshal(c)
	if err != nil || len(raw) > maxBytes {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+FileName+".tmp-*")
	if err != nil {
		return
	}
	_, err = f.Write(raw)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
}
