package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/facenet-go/facenet/verify"
)

// Store is what the service needs from an identity store. It is defined here, by its consumer, so
// that any store (the snapshot file of FileStore, a database-backed one) plugs in unchanged.
// Identities are listed through Current: a *verify.DB has Names and Samples.
type Store interface {
	// Space is the embedding space of the stored vectors; a model of another space is refused.
	Space() verify.Space
	// Current is an in-memory snapshot for searching. It must not change after it is returned,
	// and it is the same pointer while the store is unchanged, so a searcher built on it can be
	// cached by pointer.
	Current(ctx context.Context) (*verify.DB, error)
	// Enrol adds embeddings to name, creating the identity when it is new.
	Enrol(ctx context.Context, name string, embeddings ...[]float32) error
	// Remove deletes name and its samples; an unknown name wraps verify.ErrUnknownIdentity.
	Remove(ctx context.Context, name string) error
	// Close releases the store.
	Close() error
}

// FileStore is a Store over one identity database file (verify.Open / Save): every write is saved
// atomically before it is acknowledged, and readers get immutable snapshots, so a search never
// sees a half-applied write.
type FileStore struct {
	path string

	mu     sync.Mutex
	master *verify.DB // the DB that is saved; it remembers the file version it was loaded from
	snap   *verify.DB // a copy of master readers may hold; replaced, never changed, on writes
	closed bool
}

// ErrStoreClosed is returned by a FileStore after Close.
var ErrStoreClosed = errors.New("store closed")

// OpenFileStore opens the database file at path, or starts an empty one of space when there is
// none (written by the first enrolment). An existing database of another space is refused with
// verify.ErrModelMismatch.
func OpenFileStore(path string, space verify.Space) (*FileStore, error) {
	db, err := verify.OpenOrCreate(path, space)
	if err != nil {
		return nil, err
	}
	snap, err := cloneDB(db)
	if err != nil {
		return nil, err
	}
	return &FileStore{path: path, master: db, snap: snap}, nil
}

// cloneDB copies db through its own file format, which keeps the insertion order searches
// depend on.
func cloneDB(db *verify.DB) (*verify.DB, error) {
	var buf bytes.Buffer
	if _, err := db.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("copy database: %w", err)
	}
	return verify.ReadDB(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
}

// Space is the database's embedding space.
func (s *FileStore) Space() verify.Space {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap.Space()
}

// Current returns the latest snapshot.
func (s *FileStore) Current(ctx context.Context) (*verify.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStoreClosed
	}
	return s.snap, nil
}

// Enrol adds the embeddings to name and saves the file.
func (s *FileStore) Enrol(ctx context.Context, name string, embeddings ...[]float32) error {
	return s.write(ctx, func(db *verify.DB) error { return db.Enrol(name, embeddings...) })
}

// Remove deletes name and saves the file.
func (s *FileStore) Remove(ctx context.Context, name string) error {
	return s.write(ctx, func(db *verify.DB) error { return db.Remove(name) })
}

// write applies change to the master DB and saves it; on any failure the master is reloaded from
// the file, so memory never holds an identity the file does not.
func (s *FileStore) write(ctx context.Context, change func(*verify.DB) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := change(s.master); err != nil {
		s.reload()
		return err
	}
	if err := s.master.Save(s.path); err != nil {
		s.reload()
		return err
	}
	snap, err := cloneDB(s.master)
	if err != nil {
		return err
	}
	s.snap = snap
	return nil
}

// reload puts master back to the file's contents (or to the snapshot when there is no file yet).
func (s *FileStore) reload() {
	if db, err := verify.OpenOrCreate(s.path, s.snap.Space()); err == nil {
		s.master = db
	}
}

// Close marks the store closed; every write was saved when it returned.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

var _ Store = (*FileStore)(nil)
