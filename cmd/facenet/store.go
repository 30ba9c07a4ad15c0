package main

import (
	"context"
	"errors"
	"io/fs"

	"fmt"
	"os"

	"github.com/facenet-go/facenet/internal/fsutil"
	"github.com/facenet-go/facenet/store"
	"github.com/facenet-go/facenet/verify"
)

// dbHelp describes --db for every command that takes it.
const dbHelp = "identity store: a file path (SQLite, created by enroll if missing) or a postgres:// URL; " +
	"a snapshot database file (the format before stores) is read-only: run 'facenet db import' on it"

// identities is the store a command opened: a store, or a snapshot database file opened
// read-only (the format every database had before stores, still the fast bulk format).
type identities struct {
	st   *store.Store
	snap *verify.DB
	name string // as messages print it: a path, or a redacted URL
}

// openStore is the one place the CLI turns a --db (or a db subcommand's STORE) into a store.
// write is for commands that change it: they refuse a snapshot file, in one line telling the
// user to import it. space, when not nil, creates a missing SQLite store (or an empty
// PostgreSQL database) with it, and is checked against an existing store's.
func openStore(ctx context.Context, name string, space *verify.Space, write bool) (*identities, error) {
	if name == "" {
		return nil, usageError("no store given")
	}
	shown := displayStore(name)
	if !store.IsPostgres(name) {
		if path, err := fsutil.Destination(name); err == nil && verify.IsDatabaseFile(path) {
			if write {
				return nil, fmt.Errorf("store %s: %w: it is read-only here; run 'facenet db import %s' to make it a store", shown, store.ErrSnapshot, shown)
			}
			db, err := verify.Open(name)
			if err != nil {
				return nil, err
			}
			if space != nil {
				if err := db.Space().Check(*space); err != nil {
					return nil, fmt.Errorf("store %s: %w", shown, err)
				}
			}
			return &identities{snap: db, name: shown}, nil
		}
	}
	st, err := store.Open(ctx, name, store.Options{Space: space})
	if err != nil {
		return nil, err
	}
	return &identities{st: st, name: shown}, nil
}

// storeExists reports whether name is a store that is there already (a PostgreSQL URL always
// counts: its database is not created here), as opposed to a path openStore would create.
func storeExists(name string) bool {
	if store.IsPostgres(name) {
		return true
	}
	path, err := fsutil.Destination(name)
	if err != nil {
		return true // openStore reports why
	}
	_, err = os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// Current is the contents, for search.
func (s *identities) Current(ctx context.Context) (*verify.DB, error) {
	if s.snap != nil {
		return s.snap, nil
	}
	return s.st.Current(ctx)
}

// Space is the store's embedding space.
func (s *identities) Space() verify.Space {
	if s.snap != nil {
		return s.snap.Space()
	}
	return s.st.Space()
}

// List is the identities in insertion order with their sample counts.
func (s *identities) List(ctx context.Context) ([]store.Identity, error) {
	if s.st != nil {
		return s.st.List(ctx)
	}
	var out []store.Identity
	for _, n := range s.snap.Names() {
		samples, err := s.snap.Samples(n)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Identity{Name: n, Samples: len(samples)})
	}
	return out, nil
}

// Info describes the store.
func (s *identities) Info(ctx context.Context, path string) (store.Info, error) {
	if s.st != nil {
		return s.st.Info(ctx)
	}
	in := store.Info{Name: s.name, Kind: "snapshot", Space: s.snap.Space(), SchemaVersion: 1,
		Identities: s.snap.Len(), Samples: s.snap.NumSamples()}
	fi, err := os.Stat(path)
	if err != nil {
		return store.Info{}, err
	}
	in.Bytes = fi.Size()
	return in, nil
}

// Close closes the store.
func (s *identities) Close() error {
	if s.st != nil {
		return s.st.Close()
	}
	return nil
}

// loadIdentities opens a store to search it (verify, identify): its contents, the store closed.
func loadIdentities(ctx context.Context, name string) (*verify.DB, error) {
	s, err := openStore(ctx, name, nil, false)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Current(ctx)
}

// displayStore is a store's name as messages print it.
func displayStore(name string) string {
	if store.IsPostgres(name) {
		return store.Redact(name)
	}
	return displayPath(name)
}
