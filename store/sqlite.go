package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/facenet-go/facenet/internal/fsutil"
	"github.com/facenet-go/facenet/verify"
	"github.com/mattn/go-sqlite3"
)

// applicationID marks an SQLite file as a facenet store ("FIDS"), so another application's
// database is refused rather than written into.
const applicationID = 0x46494453

var sqliteSchema = []string{
	`CREATE TABLE meta (
		one INTEGER PRIMARY KEY CHECK (one = 1) DEFAULT 1,
		schema_version INTEGER NOT NULL,
		fingerprint TEXT NOT NULL,
		profile BLOB NOT NULL,
		dim INTEGER NOT NULL,
		generation INTEGER NOT NULL,
		epoch INTEGER NOT NULL)`,
	// AUTOINCREMENT: ids are never reused, so an id is a place in the insertion order.
	`CREATE TABLE identity (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE)`,
	`CREATE TABLE sample (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		identity INTEGER NOT NULL REFERENCES identity(id),
		embedding BLOB NOT NULL)`,
	`CREATE INDEX sample_identity ON sample(identity)`,
	fmt.Sprintf(`PRAGMA application_id = %d`, applicationID),
}

var sqliteDialect = &dialect{
	kind:   "sqlite",
	schema: sqliteSchema,
	// ?NNN is SQLite's numbered parameter: the same text as PostgreSQL's $NNN.
	q: func(s string) string { return strings.ReplaceAll(s, "$", "?") },
	version: func(ctx context.Context, tx *sql.Tx) (int, error) {
		var v, app, tables int
		if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
			return 0, classifySQLite(err)
		}
		if err := tx.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
			return 0, classifySQLite(err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&tables); err != nil {
			return 0, classifySQLite(err)
		}
		switch {
		case app == 0 && v == 0 && tables == 0:
			return 0, nil // a new, empty file
		case app != applicationID:
			return 0, fmt.Errorf("%w: an SQLite database of another application", ErrNotStore)
		case v == 0:
			return 0, fmt.Errorf("%w: no schema version", verify.ErrCorrupt)
		}
		return v, nil
	},
	setVersion: func(ctx context.Context, tx *sql.Tx, v int) error {
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v))
		return err
	},
	classify: classifySQLite,
	size: func(ctx context.Context, s *Store) (int64, error) {
		var n int64
		for _, suffix := range []string{"", "-wal"} {
			fi, err := os.Stat(s.path + suffix)
			if err == nil {
				n += fi.Size()
			} else if !errors.Is(err, fs.ErrNotExist) {
				return 0, err
			}
		}
		return n, nil
	},
}

// classifySQLite wraps SQLite's "not a database" and "malformed" errors in the sentinels
// callers branch on; anything else is returned as is.
func classifySQLite(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrNotADB:
			return fmt.Errorf("%w: %v", ErrNotStore, err)
		case sqlite3.ErrCorrupt:
			return fmt.Errorf("%w: %v", verify.ErrCorrupt, err)
		}
	}
	return err
}

func openSQLite(ctx context.Context, name string, opts Options) (*Store, error) {
	// A symlink is followed to its target, dangling or not (SQLite then writes the target and
	// its -wal beside it); a device, FIFO, socket or directory there is refused.
	path, err := fsutil.Destination(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotStore, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if opts.Space == nil {
			return nil, fmt.Errorf("no such store: %w", err)
		}
		// Another process creating it at the same moment is fine: one of the two complete
		// stores gets the name, and both processes open that one.
		if err := createSQLite(ctx, abs, opts); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create: %w", err)
		}
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%w: not a regular file", ErrNotStore)
	case verify.IsDatabaseFile(abs):
		return nil, ErrSnapshot
	}
	return connectSQLite(ctx, name, abs, opts)
}

// createSQLite builds a complete, empty store in a temporary file beside path (WAL mode, the
// schema, the space) and publishes it under path only if nothing is there yet (fs.ErrExist
// then). So a store's name never shows a half-made file: a process that finds the name opens a
// finished store, and a creation that fails leaves nothing to clean up under it, which
// removing the file afterwards could not promise (another process may already have it open).
func createSQLite(ctx context.Context, path string, opts Options) error {
	dir, base := filepath.Split(path)
	// CreateTemp's 0600: embeddings are biometric data, the file is the owner's only.
	f, err := os.CreateTemp(dir, "."+base+".new-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(tmp + suffix)
		}
	}()
	s, err := connectSQLite(ctx, tmp, tmp, opts)
	if err != nil {
		return err
	}
	// Everything into the main file, so the one file published is the whole store.
	_, err = s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	if cerr := s.closeDBs(); err == nil {
		err = cerr
	}
	if err != nil {
		return classifySQLite(err)
	}
	if fi, err := os.Stat(tmp + "-wal"); err == nil && fi.Size() > 0 {
		return fmt.Errorf("%s: the new store's write-ahead log was not checkpointed", tmp)
	}
	return fsutil.PublishNew(tmp, path)
}

// connectSQLite opens the SQLite file abs (which exists) as a store.
func connectSQLite(ctx context.Context, name, abs string, opts Options) (*Store, error) {
	// mode=rw: never create a file here (createSQLite makes new stores, whole).
	// synchronous=FULL: see the package documentation. No _journal_mode: switching to WAL is
	// done once, below, where a busy database is waited for (the driver's own switch, on every
	// new connection, fails at once when another process holds the file).
	dsn := func(txlock string) string {
		return "file:" + (&url.URL{Path: abs}).EscapedPath() + fmt.Sprintf(
			"?mode=rw&_synchronous=FULL&_busy_timeout=%d&_txlock=%s",
			opts.BusyTimeout.Milliseconds(), txlock)
	}
	s := &Store{name: name, d: sqliteDialect, path: abs}
	fail := func(err error) (*Store, error) {
		s.closeDBs()
		return nil, classifySQLite(err)
	}
	var err error
	if s.db, err = sql.Open("sqlite3", dsn("immediate")); err != nil {
		return fail(err)
	}
	if s.rdb, err = sql.Open("sqlite3", dsn("deferred")); err != nil {
		return fail(err)
	}
	if err := walMode(ctx, s.db, opts.BusyTimeout); err != nil {
		return fail(err)
	}
	if err := s.init(ctx, opts); err != nil {
		return fail(err)
	}
	return s, nil
}

// walMode puts the file in WAL mode (a property of the file, kept by every later connection),
// retrying while another process has the database busy, for up to timeout: SQLite answers a
// journal-mode change that cannot get its lock with SQLITE_BUSY straight away, without the
// busy handler that every transaction waits with.
func walMode(ctx context.Context, db *sql.DB, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		var mode string
		err := db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		if err == nil {
			if !strings.EqualFold(mode, "wal") {
				return fmt.Errorf("journal mode %s: the file system does not allow WAL", mode)
			}
			return nil
		}
		var se sqlite3.Error
		if !errors.As(err, &se) || (se.Code != sqlite3.ErrBusy && se.Code != sqlite3.ErrLocked) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}
