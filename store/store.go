// Package store keeps an identity database in a real database: SQLite, embedded, by default,
// and PostgreSQL when several servers share one store. It is what enrols people; package
// verify's in-memory DB (which Current returns) stays what searches them, and verify's file
// format stays the bulk snapshot format (import and export go through it).
//
// # Naming a store
//
// One string names a store everywhere (the CLI's --db, the library, the service): a string
// starting with "postgres://" or "postgresql://" is a PostgreSQL connection URL (see pgx's
// documentation for its parameters), anything else is the path of an SQLite file. Errors and
// logs name a PostgreSQL store by Redact(name), host and database only, never credentials.
//
// # Semantics
//
// A store holds one embedding space (model fingerprint, preprocessing profile, dimension),
// set when it is created; opening it with another gives an error wrapping
// verify.ErrModelMismatch and changes nothing. Identities keep their insertion order (who_is_it
// breaks ties by it): an identity's place is its row id, which only grows, so a rename keeps
// the place and a replace or a re-enrolment after a remove puts it last, as verify.DB does.
// Each identity has one or more samples. Every write (Enrol, Replace, Remove, Rename) is one
// transaction: a crash, kill -9 included, leaves it entirely done or not done at all.
// Embeddings are stored as little-endian float32 BLOBs, the exact bits given.
//
// Writers queue instead of failing: SQLite runs every write transaction as BEGIN IMMEDIATE
// under a busy timeout (Options.BusyTimeout), PostgreSQL takes a transaction-scoped advisory
// lock first. That lock also makes ids grow in commit order, which is what lets Current bring
// its copy up to date by reading only the rows after the last id it has seen.
//
// # Keeping a search index current
//
// Current returns the contents as a *verify.DB and returns the same pointer for as long as
// nothing changed, so a caller can keep a verify.Searcher keyed on it. Each write increments
// a generation counter in the store (and, for anything but an append, an epoch counter).
// SQLite: Current reads the counter, one indexed row (microseconds), every call. PostgreSQL:
// each write also sends NOTIFY in its transaction; a listening connection marks the copy
// stale when it arrives (another server's enrolment is seen within milliseconds, see the
// README's figures), and Current also polls the counter every Options.PollInterval in case
// the listening connection is down. When only appends happened since the last load, Current
// reads just the new rows and extends its copy (verify.DB.Extend) without copying the old
// ones; after a remove, rename or replace it reloads everything.
//
// # Why mattn/go-sqlite3
//
// The SQLite driver is github.com/mattn/go-sqlite3 (cgo; the project already needs cgo for
// TensorFlow) rather than modernc.org/sqlite (SQLite translated to Go), chosen by measurement:
// store/drivercmp (a module of its own, so the main module does not depend on the driver it did
// not choose) runs this package's schema and queries on both. On this project's shared 2-core
// machine, 1,000,000 128-d samples: the full scan Current does (one connection) took 1.35 s with
// mattn against 1.65 s with modernc, one fsynced enrolment 0.46 against 0.44 ms median (200,000
// samples: 0.27 against 0.34 s, 0.21 against 0.25 ms); an earlier measurement gave 2.9-3.0
// against 4.2-5.0 s for the load. Enrolment is a tie and far under its 10 ms goal; the load is
// what a restarting server waits for, so it decided.
//
// # Durability
//
// SQLite runs in WAL mode with synchronous=FULL: a commit returns after the WAL is fsynced, so
// an enrolment the CLI has reported survives a power loss, not only a kill -9 (NORMAL would
// survive kill -9 too, but could lose the last commits on power loss). It costs one fsync per
// enrolment, a few milliseconds.
//
// # Schema
//
// SQLite keeps the schema version in PRAGMA user_version (and marks its files as stores with
// PRAGMA application_id), PostgreSQL in the meta table. A store of a newer version is refused
// (verify.ErrUnsupportedVersion); an older one is upgraded on open by the steps in migrations,
// in one transaction.
package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/facenet-go/facenet/vec"
	"github.com/facenet-go/facenet/verify"
)

// Sentinel errors of the store. verify's sentinels are used where they mean the same:
// verify.ErrModelMismatch, verify.ErrUnknownIdentity, verify.ErrDuplicateIdentity,
// verify.ErrInvalidName, verify.ErrCorrupt, verify.ErrUnsupportedVersion.
var (
	// ErrNotStore reports a database or file that is not an identity store: a file that is not
	// SQLite, an SQLite file of another application, an empty PostgreSQL database opened
	// without a Space to create it with.
	ErrNotStore = errors.New("not a facenet identity store")
	// ErrSnapshot reports a path that holds a verify database file (the snapshot format)
	// rather than a store: import it into a store (facenet db import) to enrol into it.
	ErrSnapshot = errors.New("is a snapshot database file, not a store")
	// ErrUnknownIdentity is verify's: a name that is not enrolled.
	ErrUnknownIdentity = verify.ErrUnknownIdentity
)

// schemaVersion is the version of the tables this package creates and reads.
const schemaVersion = 1

// DefaultBusyTimeout is how long an SQLite writer waits for another one before giving up.
const DefaultBusyTimeout = 30 * time.Second

// DefaultPollInterval is how often a PostgreSQL store checks the change counter when no
// notification arrived, the bound on staleness while the listening connection is down.
const DefaultPollInterval = time.Second

// Options configure Open.
type Options struct {
	// Space creates the store with this embedding space when it does not exist yet, and is
	// checked against an existing store's (verify.ErrModelMismatch when it differs). Nil: the
	// store must exist, of whatever space.
	Space *verify.Space
	// BusyTimeout bounds how long a writer waits for another (SQLite; PostgreSQL writers wait
	// for the lock as long as the context allows). Zero means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// PollInterval is PostgreSQL's fallback poll of the change counter; zero means
	// DefaultPollInterval.
	PollInterval time.Duration
}

// Identity is one enrolled identity and how many samples it has.
type Identity struct {
	Name    string `json:"name"`
	Samples int    `json:"samples"`
}

// Info describes a store.
type Info struct {
	// Name is the store as it may be printed (Redact).
	Name string `json:"store"`
	// Kind is "sqlite" or "postgres".
	Kind          string       `json:"kind"`
	Space         verify.Space `json:"-"`
	SchemaVersion int          `json:"schema_version"`
	Identities    int          `json:"identities"`
	Samples       int          `json:"samples"`
	// Bytes is the space the store takes: the SQLite file and its WAL, or PostgreSQL's
	// tables with their indexes and TOAST.
	Bytes int64 `json:"bytes"`
}

// Store is an open identity store. It is safe for concurrent use.
type Store struct {
	name    string // redacted
	d       *dialect
	db      *sql.DB // writes
	rdb     *sql.DB // reads: SQLite's pool without BEGIN IMMEDIATE; PostgreSQL's is db
	space   verify.Space
	path    string // SQLite file
	closeFn func() // stops the PostgreSQL listener

	mu        sync.Mutex
	cur       *verify.DB
	gen       int64
	epoch     int64
	lastIdent int64
	lastRow   int64
	ids       []int64     // identity ids of cur, in order (ascending)
	stale     func() bool // PostgreSQL: whether Current must re-read the counter (nil: always)
	refreshed func()      // PostgreSQL: Current re-read the counter
	wrote     func()      // PostgreSQL: this process committed a write
}

// Open opens the store name (see the package documentation) with opts.
func Open(ctx context.Context, name string, opts Options) (*Store, error) {
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	var (
		s   *Store
		err error
	)
	if IsPostgres(name) {
		s, err = openPostgres(ctx, name, opts)
	} else {
		s, err = openSQLite(ctx, name, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", Redact(name), err)
	}
	return s, nil
}

// IsPostgres reports whether name names a PostgreSQL store.
func IsPostgres(name string) bool {
	return strings.HasPrefix(name, "postgres://") || strings.HasPrefix(name, "postgresql://")
}

// init prepares a freshly opened *sql.DB: schema created or migrated, space read and checked.
func (s *Store) init(ctx context.Context, opts Options) error {
	tx, err := s.writeTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	version, err := s.d.version(ctx, tx)
	if err != nil {
		return err
	}
	switch {
	case version == 0:
		if opts.Space == nil {
			return fmt.Errorf("%w: empty (no space given to create it with)", ErrNotStore)
		}
		if _, err := verify.New(*opts.Space); err != nil { // validates the space
			return err
		}
		for _, q := range s.d.schema {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
		sp := opts.Space
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO meta(schema_version, fingerprint, profile, dim, generation, epoch) VALUES ($1, $2, $3, $4, 1, 1)`),
			schemaVersion, sp.Fingerprint, nonNil(sp.Profile), sp.Dim); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		if err := s.d.setVersion(ctx, tx, schemaVersion); err != nil {
			return err
		}
	case version > schemaVersion:
		return fmt.Errorf("%w: schema version %d, this program reads up to %d", verify.ErrUnsupportedVersion, version, schemaVersion)
	case version < schemaVersion:
		if err := migrate(ctx, tx, s.d, version); err != nil {
			return err
		}
	}
	var sp verify.Space
	if err := tx.QueryRowContext(ctx, s.d.q(`SELECT fingerprint, profile, dim FROM meta`)).Scan(&sp.Fingerprint, &sp.Profile, &sp.Dim); err != nil {
		return s.d.classify(fmt.Errorf("read space: %w", err))
	}
	if len(sp.Profile) == 0 {
		sp.Profile = nil
	}
	if _, err := verify.New(sp); err != nil {
		return fmt.Errorf("%w: %v", verify.ErrCorrupt, err)
	}
	if opts.Space != nil {
		if err := sp.Check(*opts.Space); err != nil {
			return err
		}
	}
	s.space = sp
	return s.d.classify(tx.Commit())
}

// migrations[i] upgrades a store of schema version i+1 to i+2, inside the transaction that
// opens it. Version 1 is the first; the next one adds its step here.
var migrations []func(ctx context.Context, tx *sql.Tx, d *dialect) error

func migrate(ctx context.Context, tx *sql.Tx, d *dialect, from int) error {
	for v := from; v < schemaVersion; v++ {
		if v < 1 || v-1 >= len(migrations) {
			return fmt.Errorf("%w: schema version %d has no migration", verify.ErrUnsupportedVersion, v)
		}
		if err := migrations[v-1](ctx, tx, d); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	return d.setVersion(ctx, tx, schemaVersion)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Space returns the store's embedding space.
func (s *Store) Space() verify.Space { return s.space }

// Name returns the store's name as it may be printed (Redact).
func (s *Store) Name() string { return s.name }

// Close closes the store.
func (s *Store) Close() error {
	if s.closeFn != nil {
		s.closeFn()
	}
	return s.closeDBs()
}

func (s *Store) closeDBs() error {
	var err error
	if s.db != nil {
		err = s.db.Close()
	}
	if s.rdb != nil && s.rdb != s.db {
		err = errors.Join(err, s.rdb.Close())
	}
	return err
}

// dialect is what differs between SQLite and PostgreSQL.
type dialect struct {
	kind       string
	schema     []string            // creates the tables (meta's row is inserted after)
	q          func(string) string // rewrites $N parameters for the driver
	lock       string              // first statement of a write transaction
	notify     string              // last statement of a write transaction
	readOpts   *sql.TxOptions      // options of Current's read transaction
	snapshot   string              // first statement of Current's read transaction
	classify   func(error) error   // wraps driver errors in sentinels
	version    func(context.Context, *sql.Tx) (int, error)
	setVersion func(context.Context, *sql.Tx, int) error
	size       func(context.Context, *Store) (int64, error)
}

// writeTx begins a write transaction: BEGIN IMMEDIATE in SQLite (the DSN's _txlock), the
// advisory lock in PostgreSQL, so writers queue in commit order.
func (s *Store) writeTx(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.d.classify(fmt.Errorf("begin: %w", err))
	}
	if s.d.lock != "" {
		if _, err := tx.ExecContext(ctx, s.d.lock); err != nil {
			tx.Rollback()
			return nil, s.d.classify(fmt.Errorf("lock: %w", err))
		}
	}
	return tx, nil
}

// write runs fn in a write transaction and records the change (generation, and epoch unless
// the change only appended rows).
func (s *Store) write(ctx context.Context, what string, appendOnly bool, fn func(tx *sql.Tx) error) error {
	tx, err := s.writeTx(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", what, s.d.classify(err))
	}
	q := `UPDATE meta SET generation = generation + 1, epoch = epoch + 1`
	if appendOnly {
		q = `UPDATE meta SET generation = generation + 1`
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("%s: %w", what, s.d.classify(err))
	}
	if s.d.notify != "" {
		if _, err := tx.ExecContext(ctx, s.d.notify); err != nil {
			return fmt.Errorf("%s: %w", what, s.d.classify(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, s.d.classify(err))
	}
	if s.wrote != nil {
		s.wrote()
	}
	return nil
}

// checkEmbeddings validates a name and embeddings before any transaction.
func (s *Store) checkEmbeddings(what, name string, embeddings [][]float32) error {
	if err := verify.ValidName(name); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(embeddings) == 0 {
		return fmt.Errorf("%s %q: no embeddings", what, name)
	}
	for i, e := range embeddings {
		if len(e) != s.space.Dim {
			return fmt.Errorf("%s %q: embedding %d: %w: dimension %d, store has %d", what, name, i, verify.ErrModelMismatch, len(e), s.space.Dim)
		}
		if err := vec.Check(e); err != nil {
			return fmt.Errorf("%s %q: embedding %d: %w", what, name, i, err)
		}
	}
	return nil
}

// Enrol adds embeddings as samples of name, creating the identity at the end of the insertion
// order if it is new, in one transaction: all or none are stored.
func (s *Store) Enrol(ctx context.Context, name string, embeddings ...[]float32) error {
	return s.EnrolBatch(ctx, Enrolment{Name: name, Embeddings: embeddings})
}

// Replace makes embeddings the only samples of name, in one transaction. As enroll --replace
// always did (remove, then enrol), the identity moves to the end of the insertion order.
func (s *Store) Replace(ctx context.Context, name string, embeddings ...[]float32) error {
	return s.EnrolBatch(ctx, Enrolment{Name: name, Embeddings: embeddings, Replace: true})
}

// Enrolment is one identity's part of an EnrolBatch.
type Enrolment struct {
	Name       string
	Embeddings [][]float32
	// Replace makes Embeddings the identity's only samples (and moves it last), as Replace.
	Replace bool
	// New refuses the enrolment (verify.ErrDuplicateIdentity) if Name is already enrolled, as
	// an import does rather than merge two people of the same name.
	New bool
}

// EnrolBatch stores several enrolments in one transaction, in order: all of them or, on any
// error, none. It is what `facenet enroll` does with its NAME=IMAGE pairs, which always
// enrolled all or nothing.
func (s *Store) EnrolBatch(ctx context.Context, batch ...Enrolment) error {
	if len(batch) == 0 {
		return nil
	}
	appendOnly := true
	for _, e := range batch {
		what := "enrol"
		if e.Replace {
			what, appendOnly = "replace", false
		}
		if err := s.checkEmbeddings(what, e.Name, e.Embeddings); err != nil {
			return err
		}
	}
	what := fmt.Sprintf("enrol %q", batch[0].Name)
	if len(batch) > 1 {
		what = fmt.Sprintf("enrol %d identities", len(batch))
	}
	return s.write(ctx, what, appendOnly, func(tx *sql.Tx) error {
		// Prepared once: an import enrols a million identities in this loop.
		var sel, add, ins *sql.Stmt
		for _, p := range []struct {
			st **sql.Stmt
			q  string
		}{
			{&sel, `SELECT id FROM identity WHERE name = $1`},
			{&add, `INSERT INTO identity(name) VALUES ($1) RETURNING id`},
			{&ins, `INSERT INTO sample(identity, embedding) VALUES ($1, $2)`},
		} {
			st, err := tx.PrepareContext(ctx, s.d.q(p.q))
			if err != nil {
				return err
			}
			defer st.Close()
			*p.st = st
		}
		buf := make([]byte, 4*s.space.Dim)
		for _, e := range batch {
			if e.Replace {
				if err := s.deleteIdentity(ctx, tx, e.Name); err != nil && !errors.Is(err, ErrUnknownIdentity) {
					return err
				}
			}
			var id int64
			err := sel.QueryRowContext(ctx, e.Name).Scan(&id)
			switch {
			case err == nil && e.New:
				return fmt.Errorf("%q: %w", e.Name, verify.ErrDuplicateIdentity)
			case errors.Is(err, sql.ErrNoRows):
				err = add.QueryRowContext(ctx, e.Name).Scan(&id)
			}
			if err != nil {
				return err
			}
			for _, emb := range e.Embeddings {
				if _, err := ins.ExecContext(ctx, id, encodeRow(buf, emb)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Remove deletes an identity and its samples (ErrUnknownIdentity if it is not enrolled).
func (s *Store) Remove(ctx context.Context, name string) error {
	return s.write(ctx, fmt.Sprintf("remove %q", name), false, func(tx *sql.Tx) error {
		return s.deleteIdentity(ctx, tx, name)
	})
}

// Rename gives an identity a new name, keeping its place in the insertion order
// (ErrUnknownIdentity, verify.ErrDuplicateIdentity, verify.ErrInvalidName).
func (s *Store) Rename(ctx context.Context, old, name string) error {
	what := fmt.Sprintf("rename %q to %q", old, name)
	if err := verify.ValidName(name); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return s.write(ctx, what, false, func(tx *sql.Tx) error {
		id, err := s.identityID(ctx, tx, old)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrUnknownIdentity
		}
		if err != nil {
			return err
		}
		if old == name {
			return nil
		}
		if _, err := s.identityID(ctx, tx, name); err == nil {
			return verify.ErrDuplicateIdentity
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, s.d.q(`UPDATE identity SET name = $1 WHERE id = $2`), name, id)
		return err
	})
}

func (s *Store) identityID(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, s.d.q(`SELECT id FROM identity WHERE name = $1`), name).Scan(&id)
	return id, err
}

func (s *Store) deleteIdentity(ctx context.Context, tx *sql.Tx, name string) error {
	id, err := s.identityID(ctx, tx, name)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrUnknownIdentity
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM sample WHERE identity = $1`), id); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.d.q(`DELETE FROM identity WHERE id = $1`), id)
	return err
}

// encodeRow writes e as little-endian float32 into buf.
func encodeRow(buf []byte, e []float32) []byte {
	for i, f := range e {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(f))
	}
	return buf
}

// List returns the identities in insertion order with their sample counts.
func (s *Store) List(ctx context.Context) ([]Identity, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT i.name, (SELECT count(*) FROM sample WHERE identity = i.id) FROM identity i ORDER BY i.id`)
	if err != nil {
		return nil, fmt.Errorf("store %s: list: %w", s.name, s.d.classify(err))
	}
	defer rows.Close()
	var out []Identity
	for rows.Next() {
		var id Identity
		if err := rows.Scan(&id.Name, &id.Samples); err != nil {
			return nil, fmt.Errorf("store %s: list: %w", s.name, s.d.classify(err))
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store %s: list: %w", s.name, s.d.classify(err))
	}
	return out, nil
}

// Info describes the store: its space, counts and size.
func (s *Store) Info(ctx context.Context) (Info, error) {
	in := Info{Name: s.name, Kind: s.d.kind, Space: s.space, SchemaVersion: schemaVersion}
	err := s.rdb.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM identity), (SELECT count(*) FROM sample)`).Scan(&in.Identities, &in.Samples)
	if err == nil {
		in.Bytes, err = s.d.size(ctx, s)
	}
	if err != nil {
		return Info{}, fmt.Errorf("store %s: info: %w", s.name, s.d.classify(err))
	}
	return in, nil
}

// Current returns the store's contents as an in-memory verify.DB, the input of search. It
// returns the same pointer until the store changes (by this process or another), so callers
// can cache a verify.Searcher keyed on it. The DB must not be modified.
func (s *Store) Current(ctx context.Context) (*verify.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.stale != nil && !s.stale() {
		return s.cur, nil
	}
	db, err := s.refresh(ctx)
	if err != nil {
		return nil, fmt.Errorf("store %s: load: %w", s.name, s.d.classify(err))
	}
	if s.refreshed != nil {
		s.refreshed()
	}
	return db, nil
}

// refresh brings s.cur up to date in one read transaction (one snapshot of the store).
func (s *Store) refresh(ctx context.Context) (*verify.DB, error) {
	if s.cur != nil {
		// The common case, nothing changed: one query, no transaction.
		var gen int64
		if err := s.rdb.QueryRowContext(ctx, `SELECT generation FROM meta`).Scan(&gen); err != nil {
			return nil, err
		}
		if gen == s.gen {
			return s.cur, nil
		}
	}
	tx, err := s.rdb.BeginTx(ctx, s.d.readOpts)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if s.d.snapshot != "" {
		if _, err := tx.ExecContext(ctx, s.d.snapshot); err != nil {
			return nil, err
		}
	}
	var gen, epoch int64
	if err := tx.QueryRowContext(ctx, `SELECT generation, epoch FROM meta`).Scan(&gen, &epoch); err != nil {
		return nil, err
	}
	if s.cur != nil && gen == s.gen {
		return s.cur, nil
	}
	full := s.cur == nil || epoch != s.epoch
	after, afterRow := int64(0), int64(0)
	if !full {
		after, afterRow = s.lastIdent, s.lastRow
	}
	// New identities, in insertion order. A full load reads them on a connection of their own,
	// at the same time as the samples (a million names take 0.4 s to read); scanSamples waits
	// for them only to number the samples' owners.
	var ids []int64
	var names []string
	identsOf := func(q *sql.Tx) (err error) {
		ids, names, err = s.readIdentities(ctx, q, after)
		return err
	}
	wait := func() error { return nil }
	if full {
		done := make(chan error, 1)
		go func() { done <- s.inOwnSnapshot(ctx, gen, identsOf) }()
		wait = func() error {
			err := <-done
			if errors.Is(err, errRaced) {
				err = identsOf(tx)
			}
			return err
		}
	} else if err := identsOf(tx); err != nil {
		return nil, err
	}
	// The samples after the last one loaded, with their identity's position.
	owner, data, lastRow, err := s.scanSamples(ctx, tx, gen, afterRow, func() ([]int64, error) {
		if err := wait(); err != nil {
			return nil, err
		}
		if full {
			return ids, nil
		}
		return append(s.ids[:len(s.ids):len(s.ids)], ids...), nil
	})
	if err != nil {
		return nil, err
	}
	allIDs := ids
	if !full {
		allIDs = append(s.ids[:len(s.ids):len(s.ids)], ids...)
	}
	var db *verify.DB
	if full {
		db, err = verify.FromRows(s.space, names, owner, data)
	} else {
		db, err = s.cur.Extend(names, owner, data)
	}
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		s.lastIdent = ids[len(ids)-1]
	} else if full {
		s.lastIdent = 0
	}
	s.cur, s.gen, s.epoch, s.lastRow, s.ids = db, gen, epoch, lastRow, allIDs
	return db, nil
}

// readIdentities reads the identities with ids after after, in insertion order.
func (s *Store) readIdentities(ctx context.Context, q *sql.Tx, after int64) ([]int64, []string, error) {
	rows, err := q.QueryContext(ctx, s.d.q(`SELECT id, name FROM identity WHERE id > $1 ORDER BY id`), after)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ids []int64
	var names []string
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			return nil, nil, err
		}
		ids, names = append(ids, id), append(names, n)
	}
	return ids, names, rows.Err()
}

// inOwnSnapshot runs fn in a read transaction of its own connection that sees generation gen,
// the same store as the load's own transaction, or returns errRaced if a write committed in
// between.
func (s *Store) inOwnSnapshot(ctx context.Context, gen int64, fn func(*sql.Tx) error) error {
	own, err := s.rdb.BeginTx(ctx, s.d.readOpts)
	if err != nil {
		return err
	}
	defer own.Rollback()
	if s.d.snapshot != "" {
		if _, err := own.ExecContext(ctx, s.d.snapshot); err != nil {
			return err
		}
	}
	var g int64
	if err := own.QueryRowContext(ctx, `SELECT generation FROM meta`).Scan(&g); err != nil {
		return err
	}
	if g != gen {
		return errRaced
	}
	return fn(own)
}

// parallelMin is the number of samples from which a load scans id ranges on several
// connections at once: a million rows take seconds on one core.
var parallelMin int64 = 100_000

// errRaced reports a write committed between the read transactions of a parallel scan.
var errRaced = errors.New("the store changed during the load")

// scanSamples reads the samples with ids after afterRow: the identity position of each (in the
// ids identities returns, called once the rows are read) and the rows. A large scan is split into id ranges read on GOMAXPROCS connections, each
// in its own read transaction; each checks that it sees generation gen, the same store as tx,
// and if one does not (a write committed in between) the scan is done again on tx alone.
func (s *Store) scanSamples(ctx context.Context, tx *sql.Tx, gen, afterRow int64, identities func() ([]int64, error)) ([]uint32, []float32, int64, error) {
	// Two subqueries, not min(id), max(id) in one: each alone is an index seek, together they
	// scanned the whole id range (0.24 s at a million samples).
	var lo, hi sql.NullInt64
	if err := tx.QueryRowContext(ctx, s.d.q(`SELECT (SELECT min(id) FROM sample WHERE id > $1), (SELECT max(id) FROM sample)`), afterRow).Scan(&lo, &hi); err != nil {
		return nil, nil, 0, err
	}
	if !lo.Valid || !hi.Valid {
		if _, err := identities(); err != nil {
			return nil, nil, 0, err
		}
		return nil, nil, afterRow, nil
	}
	workers := runtime.GOMAXPROCS(0)
	width := hi.Int64 - lo.Int64 + 1
	if width < parallelMin {
		workers = 1
	}
	// Rows land in one array at their id's offset when the ids are dense enough (no deletions
	// to speak of), so a million rows are never copied twice; gaps are closed afterwards.
	// A full load counts without the id range: SQLite then counts the entries of the small
	// sample_identity index (a few MB) instead of walking every page of the table's 600 MB of
	// BLOBs at a million samples (0.15 s before any row was read).
	var count int64
	countQ, args := `SELECT count(*) FROM sample WHERE id > $1`, []any{afterRow}
	if afterRow == 0 {
		countQ, args = `SELECT count(*) FROM sample`, nil
	}
	if err := tx.QueryRowContext(ctx, s.d.q(countQ), args...).Scan(&count); err != nil {
		return nil, nil, 0, err
	}
	dim := s.space.Dim
	var shared []float32
	if width <= 2*count {
		shared = make([]float32, width*int64(dim))
	}
	parts, err := s.scanParallel(ctx, tx, gen, lo.Int64, hi.Int64, workers, shared)
	if errors.Is(err, errRaced) {
		parts, err = s.scanParallel(ctx, tx, gen, lo.Int64, hi.Int64, 1, shared)
	}
	if err != nil {
		return nil, nil, 0, err
	}
	ids, err := identities()
	if err != nil {
		return nil, nil, 0, err
	}
	n := 0
	for _, p := range parts {
		n += len(p.idents)
	}
	owner := make([]uint32, 0, n)
	var data []float32
	switch {
	case shared != nil:
		data = shared[:0]
		for _, p := range parts { // in order, so each chunk moves down or stays
			if len(p.data) > 0 && len(data) < len(shared) && &p.data[0] == &shared[len(data)] {
				data = data[:len(data)+len(p.data)] // already in place
				continue
			}
			data = append(data, p.data...)
		}
	case len(parts) == 1:
		data = parts[0].data
	default:
		data = make([]float32, 0, n*dim)
		for _, p := range parts {
			data = append(data, p.data...)
		}
	}
	pos := 0 // identity ids ascend, and so mostly do the samples': start the search at the last hit
	for _, p := range parts {
		for i, ident := range p.idents {
			if pos >= len(ids) || ids[pos] != ident {
				q, ok := searchIDs(ids, ident)
				if !ok {
					return nil, nil, 0, fmt.Errorf("%w: a sample (%d of ids %d..%d) belongs to no identity", verify.ErrCorrupt, i, p.from, p.to)
				}
				pos = q
			}
			owner = append(owner, uint32(pos))
		}
	}
	return owner, data, hi.Int64, nil
}

// samplePart is one id range of a scan: the identity id of each sample and the rows.
type samplePart struct {
	from, to int64
	idents   []int64
	data     []float32
}

func (s *Store) scanParallel(ctx context.Context, tx *sql.Tx, gen, lo, hi int64, workers int, shared []float32) ([]samplePart, error) {
	parts := make([]samplePart, workers)
	step := (hi - lo + 1 + int64(workers) - 1) / int64(workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		parts[w].from, parts[w].to = lo+int64(w)*step, min(hi, lo+int64(w+1)*step-1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := tx
			if w > 0 {
				own, err := s.rdb.BeginTx(ctx, s.d.readOpts)
				if err != nil {
					errs[w] = err
					return
				}
				defer own.Rollback()
				if s.d.snapshot != "" {
					if _, err := own.ExecContext(ctx, s.d.snapshot); err != nil {
						errs[w] = err
						return
					}
				}
				var g int64
				if err := own.QueryRowContext(ctx, `SELECT generation FROM meta`).Scan(&g); err != nil {
					errs[w] = err
					return
				}
				if g != gen {
					errs[w] = errRaced
					return
				}
				q = own
			}
			if shared != nil {
				d := int64(s.space.Dim)
				parts[w].data = shared[(parts[w].from-lo)*d : (parts[w].from-lo)*d : (parts[w].to-lo+1)*d]
			}
			errs[w] = s.scanRange(ctx, q, &parts[w])
		}()
	}
	wg.Wait()
	return parts, errors.Join(errs...)
}

// littleEndian: the stored bytes are the in-memory float32s, and a row is one copy.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

func (s *Store) scanRange(ctx context.Context, q *sql.Tx, p *samplePart) error {
	dim := s.space.Dim
	est := min(p.to-p.from+1, 1<<22)
	p.idents = make([]int64, 0, est)
	if p.data == nil {
		p.data = make([]float32, 0, est*int64(dim))
	}
	rows, err := q.QueryContext(ctx, s.d.q(`SELECT id, identity, embedding FROM sample WHERE id >= $1 AND id <= $2 ORDER BY id`), p.from, p.to)
	if err != nil {
		return err
	}
	defer rows.Close()
	var raw sql.RawBytes
	var rowID, ident int64
	for rows.Next() {
		if err := rows.Scan(&rowID, &ident, &raw); err != nil {
			return err
		}
		if len(raw) != 4*dim {
			return fmt.Errorf("%w: sample %d has %d bytes, want %d", verify.ErrCorrupt, rowID, len(raw), 4*dim)
		}
		p.idents = append(p.idents, ident)
		off := len(p.data)
		p.data = slices.Grow(p.data, dim)[:off+dim]
		if littleEndian {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&p.data[off])), 4*dim), raw)
		} else {
			for i := range dim {
				p.data[off+i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		}
	}
	return rows.Err()
}

func searchIDs(ids []int64, id int64) (int, bool) {
	lo, hi := 0, len(ids)
	for lo < hi {
		m := (lo + hi) / 2
		if ids[m] < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(ids) && ids[lo] == id
}
