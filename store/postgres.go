package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgSchema is the PostgreSQL schema (namespace) the tables live in, so a store can share a
// database with an application's own tables. Connections set search_path to it.
const pgSchema = "facenet"

// pgChannel is the NOTIFY channel every write signals on.
const pgChannel = "facenet_store"

var postgresDialect = &dialect{
	kind: "postgres",
	schema: []string{
		`CREATE SCHEMA IF NOT EXISTS ` + pgSchema,
		`CREATE TABLE meta (
			one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
			schema_version INTEGER NOT NULL,
			fingerprint TEXT NOT NULL,
			profile BYTEA NOT NULL,
			dim INTEGER NOT NULL,
			generation BIGINT NOT NULL,
			epoch BIGINT NOT NULL)`,
		`CREATE TABLE identity (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT NOT NULL UNIQUE)`,
		`CREATE TABLE sample (
			id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			identity BIGINT NOT NULL REFERENCES identity(id),
			embedding BYTEA NOT NULL)`,
		`CREATE INDEX sample_identity ON sample(identity)`,
	},
	q: func(s string) string { return s },
	// One writer at a time, across every server: ids then grow in commit order, and a name
	// checked absent stays absent until the insert.
	lock:     `SELECT pg_advisory_xact_lock(hashtext('facenet.store'))`,
	notify:   `SELECT pg_notify('` + pgChannel + `', '')`,
	readOpts: &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	version: func(ctx context.Context, tx *sql.Tx) (int, error) {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT to_regclass('`+pgSchema+`.meta') IS NOT NULL`).Scan(&exists); err != nil {
			return 0, err
		}
		if !exists {
			return 0, nil
		}
		var v int
		if err := tx.QueryRowContext(ctx, `SELECT schema_version FROM meta`).Scan(&v); err != nil {
			return 0, err
		}
		return v, nil
	},
	setVersion: func(ctx context.Context, tx *sql.Tx, v int) error {
		_, err := tx.ExecContext(ctx, `UPDATE meta SET schema_version = $1`, v)
		return err
	},
	classify: func(err error) error { return err },
	size: func(ctx context.Context, s *Store) (int64, error) {
		var n int64
		err := s.rdb.QueryRowContext(ctx, `SELECT pg_total_relation_size('facenet.meta') +
			pg_total_relation_size('facenet.identity') + pg_total_relation_size('facenet.sample')`).Scan(&n)
		return n, err
	},
}

// Redact returns name as it may appear in a message: a PostgreSQL URL reduced to its scheme,
// host, port and database (no user, password or parameters, which may hold credentials); a
// path as it is.
func Redact(name string) string {
	if !IsPostgres(name) {
		return name
	}
	u, err := url.Parse(name)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	host := u.Host
	if host == "" {
		host = u.Query().Get("host") // a unix socket directory
	}
	return u.Scheme + "://" + host + u.EscapedPath()
}

// scrubbed is an error whose message has the password cut out, wrapping the original so
// errors.Is and errors.As still see it.
type scrubbed struct {
	msg string
	err error
}

func (e scrubbed) Error() string { return e.msg }
func (e scrubbed) Unwrap() error { return e.err }

// scrub removes every occurrence of the credentials in name from err's message.
func scrub(err error, name string) error {
	if err == nil {
		return nil
	}
	var secrets []string
	if u, perr := url.Parse(name); perr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
		}
		if pw := u.Query().Get("password"); pw != "" {
			secrets = append(secrets, pw, url.QueryEscape(pw))
		}
	}
	secrets = append(secrets, name)
	msg := err.Error()
	for _, sec := range secrets {
		msg = strings.ReplaceAll(msg, sec, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	return scrubbed{msg: msg, err: err}
}

func openPostgres(ctx context.Context, name string, opts Options) (s *Store, err error) {
	defer func() { err = scrub(err, name) }()
	cfg, err := pgx.ParseConfig(name)
	if err != nil {
		return nil, errors.New("cannot parse the PostgreSQL URL") // pgx's message would quote it
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	cfg.RuntimeParams["search_path"] = pgSchema
	d := *postgresDialect
	d.classify = func(err error) error { return scrub(err, name) }
	s = &Store{name: Redact(name), d: &d}
	s.db = stdlib.OpenDB(*cfg)
	s.rdb = s.db
	if err := s.db.PingContext(ctx); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := s.init(ctx, opts); err != nil {
		s.closeDBs()
		return nil, err
	}
	s.listen(cfg, opts.PollInterval)
	return s, nil
}

// listen keeps a connection LISTENing on pgChannel; every notification (and every reconnect,
// since anything may have happened meanwhile) marks Current's copy stale. Current also
// re-reads the change counter every poll, whether or not the connection is up.
func (s *Store) listen(cfg *pgx.ConnConfig, poll time.Duration) {
	var dirty atomic.Bool
	var checked atomic.Int64 // unix nanoseconds of the last refresh
	s.stale = func() bool {
		if dirty.Swap(false) {
			return true
		}
		return time.Since(time.Unix(0, checked.Load())) >= poll
	}
	s.refreshed = func() { checked.Store(time.Now().UnixNano()) }
	s.wrote = func() { dirty.Store(true) }
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
			if err == nil {
				if _, err = conn.Exec(ctx, "LISTEN "+pgChannel); err == nil {
					dirty.Store(true)
					for {
						if _, err := conn.WaitForNotification(ctx); err != nil {
							break
						}
						dirty.Store(true)
					}
				}
				conn.Close(context.Background())
			}
			select {
			case <-ctx.Done():
			case <-time.After(poll):
			}
		}
	}()
	s.closeFn = func() { cancel(); wg.Wait() }
}
