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
	fi, err := os.Stat(path)
	create := false
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if opts.Space == nil {
			return nil, fmt.Errorf("no such store: %w", err)
		}
		create = true
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%w: not a regular file", ErrNotStore)
	case verify.IsDatabaseFile(path):
		return nil, ErrSnapshot
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if create {
		// Embeddings are biometric data: the file is the owner's only, as verify's files are.
		// O_EXCL: a writer that created it at the same moment wins, and this one opens it.
		f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case errors.Is(err, fs.ErrExist):
			create = false
		case err != nil:
			return nil, err
		default:
			f.Close()
		}
	}
	// mode=rw: never create a file here (a missing one was created above, on purpose).
	// synchronous=FULL: see the package documentation.
	dsn := func(txlock string) string {
		return "file:" + (&url.URL{Path: abs}).EscapedPath() + fmt.Sprintf(
			"?mode=rw&_journal_mode=WAL&_synchronous=FULL&_busy_timeout=%d&_txlock=%s",
			opts.BusyTimeout.Milliseconds(), txlock)
	}
	s := &Store{name: name, d: sqliteDialect, path: abs}
	fail := func(err error) (*Store, error) {
		s.closeDBs()
		if create {
			os.Remove(abs)
			os.Remove(abs + "-wal")
			os.Remove(abs + "-shm")
		}
		return nil, classifySQLite(err)
	}
	if s.db, err = sql.Open("sqlite3", dsn("immediate")); err != nil {
		return fail(err)
	}
	if s.rdb, err = sql.Open("sqlite3", dsn("deferred")); err != nil {
		return fail(err)
	}
	if err := s.db.PingContext(ctx); err != nil {
		return fail(err)
	}
	if err := s.init(ctx, opts); err != nil {
		return fail(err)
	}
	return s, nil
}
