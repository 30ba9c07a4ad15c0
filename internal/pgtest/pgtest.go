// Package pgtest starts a real PostgreSQL server for tests: Debian's postgresql-15 (installed
// by the Makefile's postgresql stamp), initialized in a temporary directory, listening on a free
// loopback port and on a unix socket in that directory, run as an unprivileged user when the
// tests run as root (PostgreSQL refuses to run as root), and stopped by Stop.
//
// The superuser "postgres" has a password, checked on TCP connections (scram-sha-256), so
// tests can try wrong credentials.
package pgtest

import (
	"context"

	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDir holds Debian's PostgreSQL 15 programs; FACENET_PG_BIN overrides it.
var BinDir = "/usr/lib/postgresql/15/bin"

// Password is the superuser's password.
const Password = "pgtest-secret-Pa55"

// Server is a running PostgreSQL server.
type Server struct {
	Dir  string // data directory's parent, also the unix socket directory
	Port int
	cred *syscall.Credential
	n    atomic.Int64
}

// Start initializes and starts a server. Call Stop when done.
func Start() (*Server, error) {
	if d := os.Getenv("FACENET_PG_BIN"); d != "" {
		BinDir = d
	}
	if _, err := os.Stat(filepath.Join(BinDir, "postgres")); err != nil {
		return nil, fmt.Errorf("pgtest: no PostgreSQL 15 at %s (apt-get install postgresql-15): %w", BinDir, err)
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the user nobody: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte(Password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if s.cred != nil {
		os.Chown(pw, int(s.cred.Uid), int(s.cred.Gid))
	}
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "postgres", "--pwfile", pw, "--auth-local=trust",
		"--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		s.cleanup()
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		s.cleanup()
		return nil, err
	}
	s.Port = port
	// Tests run with fsync off (a test server's crash safety is not under test); benchmarks set
	// FACENET_PGTEST_FSYNC=on so a commit's figure includes its WAL flush, as in production.
	fsync := "off"
	if os.Getenv("FACENET_PGTEST_FSYNC") == "on" {
		fsync = "on"
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=%s -c max_connections=100", port, dir, fsync)
	if out, err := s.run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		s.cleanup()
		return nil, fmt.Errorf("pgtest: pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	return s, nil
}

func (s *Server) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(BinDir, prog), args...)
	cmd.Dir = s.Dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Stop stops the server at once and removes its directory.
func (s *Server) Stop() {
	s.run("pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-m", "immediate", "-w", "stop")
	s.cleanup()
}

func (s *Server) cleanup() { os.RemoveAll(s.Dir) }

// URL is the TCP URL of database db as the superuser with the password.
func (s *Server) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword("postgres", Password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// NewDatabase creates a new, empty database and returns its URL.
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.n.Add(1))
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return s.URL(name), nil
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared starts one server for the whole test binary on first use; Main stops it.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.once.Do(func() { shared.srv, shared.err = Start() })
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.srv
}

// Database is Shared(tb).NewDatabase: a fresh database's URL.
func Database(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, err := Shared(tb).NewDatabase(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// Main runs the tests and then stops the shared server: call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// StopShared stops the server Shared started, if it did: for a TestMain of its own.
func StopShared() {
	if shared.srv != nil {
		shared.srv.Stop()
	}
}
