package store_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/facenet-go/facenet/internal/pgtest"
	"github.com/facenet-go/facenet/store"
	"github.com/facenet-go/facenet/vec"
	"github.com/facenet-go/facenet/verify"
	"github.com/stretchr/testify/require"
)

// TestMain doubles as the writer process of the multi-process tests (helperEnv), and stops the
// shared PostgreSQL server after the tests.
func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(helper(h))
	}
	pgtest.Main(m)
}

const helperEnv = "FACENET_STORE_TEST_HELPER"

var testSpace = verify.Space{Fingerprint: "test-model", Profile: []byte(`{"x":1}`), Dim: 8}

// helper runs one writer process: "enrol NAME STORE" enrols one identity; "loop STORE" enrols
// identities until killed, printing each name after its Enrol returned (committed).
func helper(spec string) int {
	f := strings.Fields(spec)
	ctx := context.Background()
	sp := testSpace
	st, err := store.Open(ctx, f[len(f)-1], store.Options{Space: &sp})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 1))
	switch f[0] {
	case "enrol":
		if err := st.Enrol(ctx, f[1], unit(rng, sp.Dim)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	case "loop":
		w := bufio.NewWriter(os.Stdout)
		for i := 0; ; i++ {
			name := fmt.Sprintf("p%d-%d", os.Getpid(), i)
			if err := st.Enrol(ctx, name, unit(rng, sp.Dim), unit(rng, sp.Dim)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			fmt.Fprintln(w, name)
			w.Flush()
		}
	}
	return 0
}

func unit(rng *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	n, _ := vec.Normalize(v)
	return n
}

// backends names a new, empty store of each kind.
var backends = []struct {
	kind string
	new  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "faces.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.Database(t) }},
}

func open(t *testing.T, name string, sp *verify.Space) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), name, store.Options{Space: sp})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func names(t *testing.T, st *store.Store) []store.Identity {
	t.Helper()
	ids, err := st.List(context.Background())
	require.NoError(t, err)
	return ids
}

func TestStoreSemantics(t *testing.T) {
	for _, b := range backends {
		t.Run(b.kind, func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(1, 2))
			name := b.new(t)
			sp := testSpace
			st := open(t, name, &sp)
			require.Equal(t, testSpace, st.Space())

			empty, err := st.Current(ctx)
			require.NoError(t, err)
			require.Equal(t, 0, empty.Len())

			a1, a2, bb, a3 := unit(rng, 8), unit(rng, 8), unit(rng, 8), unit(rng, 8)
			a1[0] = 0x1p-149 // a subnormal: the exact bits come back
			require.NoError(t, st.Enrol(ctx, "andrew", a1, a2))
			require.NoError(t, st.Enrol(ctx, "bertrand", bb))
			require.NoError(t, st.Enrol(ctx, "andrew", a3))
			require.Equal(t, []store.Identity{{"andrew", 3}, {"bertrand", 1}}, names(t, st))

			db, err := st.Current(ctx)
			require.NoError(t, err)
			require.Equal(t, []string{"andrew", "bertrand"}, db.Names())
			s, err := db.Samples("andrew")
			require.NoError(t, err)
			require.Equal(t, [][]float32{a1, a2, a3}, s)
			again, err := st.Current(ctx)
			require.NoError(t, err)
			require.Same(t, db, again, "unchanged store, same DB")

			// An append extends the copy; the old DB is unchanged.
			require.NoError(t, st.Enrol(ctx, "carl", unit(rng, 8)))
			db2, err := st.Current(ctx)
			require.NoError(t, err)
			require.NotSame(t, db, db2)
			require.Equal(t, []string{"andrew", "bertrand", "carl"}, db2.Names())
			require.Equal(t, 2, db.Len())
			require.Equal(t, 5, db2.NumSamples())

			// Bad input changes nothing.
			for _, tc := range []struct {
				what string
				err  error
				fn   func() error
			}{
				{"invalid name", verify.ErrInvalidName, func() error { return st.Enrol(ctx, "a\u202eb", a1) }},
				{"wrong dimension", verify.ErrModelMismatch, func() error { return st.Enrol(ctx, "dora", a1, make([]float32, 7)) }},
				{"remove unknown", store.ErrUnknownIdentity, func() error { return st.Remove(ctx, "nobody") }},
				{"rename unknown", store.ErrUnknownIdentity, func() error { return st.Rename(ctx, "nobody", "x") }},
				{"rename onto enrolled", verify.ErrDuplicateIdentity, func() error { return st.Rename(ctx, "andrew", "carl") }},
				{"rename to invalid", verify.ErrInvalidName, func() error { return st.Rename(ctx, "andrew", "") }},
			} {
				require.ErrorIs(t, tc.fn(), tc.err, tc.what)
			}
			require.Equal(t, []store.Identity{{"andrew", 3}, {"bertrand", 1}, {"carl", 1}}, names(t, st))
			same, err := st.Current(ctx)
			require.NoError(t, err)
			require.Same(t, db2, same)

			require.NoError(t, st.Rename(ctx, "andrew", "zoe"), "keeps its place")
			require.NoError(t, st.Remove(ctx, "bertrand"))
			require.NoError(t, st.Replace(ctx, "carl", a1), "moves last, as enroll --replace did")
			require.NoError(t, st.Enrol(ctx, "bertrand", bb), "a removed name comes back last")
			require.Equal(t, []store.Identity{{"zoe", 3}, {"carl", 1}, {"bertrand", 1}}, names(t, st))
			db3, err := st.Current(ctx)
			require.NoError(t, err)
			require.Equal(t, []string{"zoe", "carl", "bertrand"}, db3.Names())
			m, err := verify.WhoIsIt(bb, db3, 0.7)
			require.NoError(t, err)
			require.Equal(t, "bertrand", m.Identity)

			in, err := st.Info(ctx)
			require.NoError(t, err)
			require.Equal(t, 3, in.Identities)
			require.Equal(t, 5, in.Samples)
			require.Equal(t, b.kind, in.Kind)
			require.Positive(t, in.Bytes)
			require.NoError(t, st.Close())

			// Reopened without a space, and with another: refused, nothing modified.
			re := open(t, name, nil)
			require.Equal(t, testSpace, re.Space())
			for _, other := range []verify.Space{
				{Fingerprint: "other-model", Profile: testSpace.Profile, Dim: 8},
				{Fingerprint: testSpace.Fingerprint, Profile: testSpace.Profile, Dim: 9},
				{Fingerprint: testSpace.Fingerprint, Profile: []byte(`{"x":2}`), Dim: 8},
			} {
				_, err := store.Open(ctx, name, store.Options{Space: &other})
				require.ErrorIs(t, err, verify.ErrModelMismatch)
			}
			require.Equal(t, []store.Identity{{"zoe", 3}, {"carl", 1}, {"bertrand", 1}}, names(t, re))
		})
	}
}

// TestConcurrentProcesses is the figure: 8 enroll processes at once on one store, one
// identity each, all 8 present.
func TestConcurrentProcesses(t *testing.T) {
	for _, b := range backends {
		t.Run(b.kind, func(t *testing.T) {
			name := b.new(t)
			sp := testSpace
			open(t, name, &sp).Close() // created once, so the processes race on enrolment only
			racingWriters(t, name)
		})
	}
}

// TestConcurrentCreate is the same figure on a store that does not exist yet: the 8 processes
// race on creating it (the file, the switch to WAL, the schema) as well, which is what 8
// `facenet enroll` started at once on a new --db do. Repeated, because the race is narrow.
func TestConcurrentCreate(t *testing.T) {
	for _, b := range backends {
		t.Run(b.kind, func(t *testing.T) {
			for range 10 {
				racingWriters(t, b.new(t))
			}
		})
	}
}

// racingWriters starts 8 writer processes at once on name, one identity each, and requires all
// 8 to succeed and be there.
func racingWriters(t *testing.T, name string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), helperEnv+"=enrol w"+strconv.Itoa(i)+" "+name)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("writer %d: %v: %s", i, err, out)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, names(t, open(t, name, nil)), 8)
}

// KillTrials runs the kill -9 test this many times per backend (FACENET_STORE_KILL_TRIALS; the
// bench-store target runs 100).
func killTrials() int {
	if n, err := strconv.Atoi(os.Getenv("FACENET_STORE_KILL_TRIALS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// TestKill9 kills a writer at a random moment of its enrolments: every enrolment it reported
// committed is present, with both its samples, and the store opens.
func TestKill9(t *testing.T) {
	for _, b := range backends {
		t.Run(b.kind, func(t *testing.T) {
			name := b.new(t)
			sp := testSpace
			open(t, name, &sp).Close()
			rng := rand.New(rand.NewPCG(9, 9))
			trials := killTrials()
			for trial := range trials {
				cmd := exec.Command(os.Args[0])
				cmd.Env = append(os.Environ(), helperEnv+"=loop "+name)
				out, err := cmd.StdoutPipe()
				require.NoError(t, err)
				require.NoError(t, cmd.Start())
				var committed []string
				done := make(chan struct{})
				go func() {
					defer close(done)
					sc := bufio.NewScanner(out)
					for sc.Scan() {
						committed = append(committed, sc.Text())
					}
				}()
				time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
				<-done
				cmd.Wait()
				st, err := store.Open(context.Background(), name, store.Options{})
				require.NoError(t, err, "trial %d: the store opens", trial)
				ids, err := st.List(context.Background())
				require.NoError(t, err)
				db, err := st.Current(context.Background())
				require.NoError(t, err)
				st.Close()
				have := map[string]int{}
				for _, id := range ids {
					have[id.Name] = id.Samples
					require.Equal(t, 2, id.Samples, "trial %d: %s is whole", trial, id.Name)
				}
				for _, n := range committed {
					require.Contains(t, have, n, "trial %d: committed enrolment %s present", trial, n)
				}
				require.Equal(t, len(ids), db.Len())
			}
		})
	}
}

func TestBadSQLiteFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 3))
	// A real store of some size, to damage.
	good := filepath.Join(dir, "good.db")
	sp := testSpace
	st := open(t, good, &sp)
	for i := range 300 {
		require.NoError(t, st.Enrol(ctx, fmt.Sprintf("id%d", i), unit(rng, 8), unit(rng, 8)))
	}
	require.NoError(t, st.Close()) // checkpoints the WAL into the file
	orig, err := os.ReadFile(good)
	require.NoError(t, err)
	require.Greater(t, len(orig), 16384)

	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	corrupt := append([]byte(nil), orig...)
	for i := 8192; i < len(corrupt)-4096; i += 4096 {
		copy(corrupt[i:i+64], strings.Repeat("\xff", 64)) // damage every page's header after the first two
	}
	snap, err := verify.New(testSpace)
	require.NoError(t, err)
	require.NoError(t, snap.Enrol("x", unit(rng, 8)))
	snapPath := filepath.Join(dir, "snap.db")
	require.NoError(t, snap.Save(snapPath))

	for _, tc := range []struct {
		what string
		path string
		want error
	}{
		{"not a database", write("text.db", []byte(strings.Repeat("hello, this is not SQLite\n", 100))), store.ErrNotStore},
		{"truncated", write("trunc.db", orig[:len(orig)/2]), verify.ErrCorrupt},
		{"corrupt pages", write("corrupt.db", corrupt), verify.ErrCorrupt},
		{"a snapshot file", snapPath, store.ErrSnapshot},
		{"missing", filepath.Join(dir, "missing.db"), os.ErrNotExist},
	} {
		t.Run(tc.what, func(t *testing.T) {
			before, _ := os.ReadFile(tc.path)
			// A damaged store may open (SQLite reads pages lazily); every read of it then fails.
			err := func() error {
				st, err := store.Open(ctx, tc.path, store.Options{})
				if err != nil {
					return err
				}
				defer st.Close()
				if _, err := st.Current(ctx); err != nil {
					return err
				}
				_, err = st.List(ctx)
				return err
			}()
			require.ErrorIs(t, err, tc.want)
			require.Contains(t, err.Error(), tc.path, "names the store")
			require.NotContains(t, err.Error(), "\n")
			after, _ := os.ReadFile(tc.path)
			require.Equal(t, before, after, "nothing modified")
		})
	}
	// Given a space, a bad file is still never replaced by a new store.
	_, err = store.Open(ctx, filepath.Join(dir, "text.db"), store.Options{Space: &sp})
	require.ErrorIs(t, err, store.ErrNotStore)
}

func TestPostgresBadConnections(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Shared(t)
	good := pgtest.Database(t)
	wrongPW := strings.Replace(good, pgtest.Password, "Wr0ng-Secret-x", 1)
	unreachable := fmt.Sprintf("postgres://postgres:%s@127.0.0.1:1/facenet?sslmode=disable", pgtest.Password)
	sp := testSpace
	for _, tc := range []struct {
		what, url, secret, want string
	}{
		{"wrong password", wrongPW, "Wr0ng-Secret-x", "password authentication failed"},
		{"unreachable", unreachable, pgtest.Password, "connect"},
		{"no such database", srv.URL("nosuchdb"), pgtest.Password, "does not exist"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			_, err := store.Open(ctx, tc.url, store.Options{Space: &sp})
			require.Error(t, err)
			msg := err.Error()
			require.Contains(t, msg, store.Redact(tc.url))
			require.Contains(t, msg, tc.want)
			require.NotContains(t, msg, tc.secret)
			require.NotContains(t, msg, "\n")
		})
	}
	require.Equal(t, fmt.Sprintf("postgres://127.0.0.1:%d/x", srv.Port), store.Redact(srv.URL("x")))
	// An empty database opened without a space is not a store, and is left empty.
	_, err := store.Open(ctx, good, store.Options{})
	require.ErrorIs(t, err, store.ErrNotStore)
}

// TestPostgresVisibility: an enrolment through one server is seen by another's Current, which
// learns of it by NOTIFY (the poll interval here is far longer than the wait).
func TestPostgresVisibility(t *testing.T) {
	ctx := context.Background()
	name := pgtest.Database(t)
	sp := testSpace
	a := open(t, name, &sp)
	b, err := store.Open(ctx, name, store.Options{PollInterval: time.Hour})
	require.NoError(t, err)
	defer b.Close()
	db, err := b.Current(ctx)
	require.NoError(t, err)
	require.Equal(t, 0, db.Len())
	require.NoError(t, a.Enrol(ctx, "andrew", unit(rand.New(rand.NewPCG(1, 1)), 8)))
	require.Eventually(t, func() bool {
		db, err := b.Current(ctx)
		return err == nil && db.Has("andrew")
	}, 30*time.Second, time.Millisecond)
}

// TestParallelLoad: a load split over several connections gives the DB a single scan gives,
// with removed samples (gaps in the ids) in the middle.
func TestParallelLoad(t *testing.T) {
	for _, b := range backends {
		t.Run(b.kind, func(t *testing.T) {
			ctx := context.Background()
			name := b.new(t)
			sp := testSpace
			st := open(t, name, &sp)
			rng := rand.New(rand.NewPCG(4, 4))
			for i := range 60 {
				require.NoError(t, st.Enrol(ctx, fmt.Sprintf("id%d", i), unit(rng, 8), unit(rng, 8)))
			}
			for i := 10; i < 20; i++ {
				require.NoError(t, st.Remove(ctx, fmt.Sprintf("id%d", i)))
			}
			require.NoError(t, st.Enrol(ctx, "id3", unit(rng, 8)))
			seq, err := open(t, name, nil).Current(ctx)
			require.NoError(t, err)
			restore := store.SetParallelMin(2)
			defer restore()
			par, err := open(t, name, nil).Current(ctx)
			require.NoError(t, err)
			require.Equal(t, seq.Names(), par.Names())
			require.Equal(t, seq.Labelled(), par.Labelled())
			require.Equal(t, 101, par.NumSamples())
		})
	}
}

// TestFailedCreateLeavesNothing: a store that cannot be made (a space verify refuses) leaves no
// file under its name nor any temporary file beside it.
func TestFailedCreateLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "faces.db")
	bad := verify.Space{Fingerprint: "test-model", Dim: 0}
	_, err := store.Open(context.Background(), name, store.Options{Space: &bad})
	require.Error(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}
