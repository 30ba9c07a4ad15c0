package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/facenet-go/facenet/internal/pgtest"
	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/facenet-go/facenet/store"
	"github.com/stretchr/testify/require"
)

// TestStoreCommands: enroll into a new SQLite store, the db subcommands, export to a snapshot
// file, which verify and identify read but enroll refuses until db import converts it, with
// every identity kept.
func TestStoreCommands(t *testing.T) {
	w := rbSetup(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "faces.db")
	ok := func(args ...string) string {
		t.Helper()
		r := w.rbRun(t, args...)
		require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
		return r.stdout
	}
	ok("enroll", "--quiet", "--model", w.model, "--db", db, "andrew="+w.good[0], "kian="+w.good[1])
	ok("enroll", "--quiet", "--model", w.model, "--db", db, "younes="+w.good[2], "andrew="+w.good[3])
	require.Equal(t, "andrew\t2\nkian\t1\nyounes\t1\n", ok("db", "list", "--db", db))
	info := ok("db", "info", "--db", db)
	require.Contains(t, info, "(sqlite, schema 1)")
	require.Contains(t, info, "identities:  3\nsamples:     4\n")

	ok("db", "rename", "--db", db, "kian", "kiana")
	r := w.rbRun(t, "db", "rename", "--db", db, "andrew", "younes")
	requireOneLineError(t, "db", r, db, "identity already enrolled")
	ok("db", "remove", "--db", db, "younes")
	r = w.rbRun(t, "db", "remove", "--db", db, "younes")
	requireOneLineError(t, "db", r, db, "unknown identity")
	require.Equal(t, "andrew\t2\nkiana\t1\n", ok("db", "list", "--db", db))
	require.Contains(t, ok("identify", "--model", w.model, "--db", db, w.good[1]), "it's kiana")

	snap := filepath.Join(dir, "snap.db")
	ok("db", "export", db, snap)
	r = w.rbRun(t, "db", "export", db, snap)
	requireOneLineError(t, "db", r, snap, "exists")
	require.Equal(t, "andrew\t2\nkiana\t1\n", ok("db", "list", "--db", snap))
	require.Contains(t, ok("verify", "--model", w.model, "--db", snap, w.good[0], "andrew"), "welcome in")
	before, err := os.ReadFile(snap)
	require.NoError(t, err)
	for _, args := range [][]string{
		{"enroll", "--quiet", "--model", w.model, "--db", snap, "carol=" + w.good[4]},
		{"db", "remove", "--db", snap, "andrew"},
		{"db", "rename", "--db", snap, "andrew", "x"},
	} {
		r := w.rbRun(t, args...)
		requireOneLineError(t, args[0], r, snap, "facenet db import "+snap)
	}
	after, err := os.ReadFile(snap)
	require.NoError(t, err)
	require.Equal(t, before, after)

	// Into another store, refusing names it has; then in place, keeping the snapshot.
	other := filepath.Join(dir, "other.db")
	ok("db", "import", snap, "--into", other)
	require.Equal(t, "andrew\t2\nkiana\t1\n", ok("db", "list", "--db", other))
	r = w.rbRun(t, "db", "import", snap, "--into", other)
	requireOneLineError(t, "db", r, other, `"andrew"`, "identity already enrolled")
	ok("db", "import", snap)
	require.Equal(t, before, must(os.ReadFile(snap+".snapshot")))
	ok("enroll", "--quiet", "--model", w.model, "--db", snap, "carol="+w.good[4])
	require.Equal(t, "andrew\t2\nkiana\t1\ncarol\t1\n", ok("db", "list", "--db", snap))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	require.ElementsMatch(t, []string{"faces.db", "other.db", "snap.db", "snap.db.snapshot"}, left)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestStoreBadInput: each bad store gives one line naming it (credentials redacted) and the
// reason, exit 1, and leaves it as it was.
func TestStoreBadInput(t *testing.T) {
	w := rbSetup(t)
	dir := t.TempDir()
	dlib := testenv.Model(t, "dlib-resnet-v1")
	good := filepath.Join(dir, "good.db")
	require.NoError(t, os.WriteFile(good, w.db, 0o600))
	text := filepath.Join(dir, "text.db")
	require.NoError(t, os.WriteFile(text, []byte(strings.Repeat("not a database\n", 300)), 0o600))
	trunc := filepath.Join(dir, "trunc.db")
	require.Greater(t, len(w.db), 8192)
	require.NoError(t, os.WriteFile(trunc, w.db[:len(w.db)/2], 0o600))
	pgURL := pgtest.Database(t)
	wrongPW := strings.Replace(pgURL, pgtest.Password, "Wr0ng-Secret", 1)
	unreachable := "postgres://facenet:" + pgtest.Password + "@127.0.0.1:1/faces?sslmode=disable"
	for _, tc := range []struct {
		name  string
		args  []string
		store string
		want  string
	}{
		{"another model's store", []string{"enroll", "--quiet", "--model", dlib, "--db", good, "carol=" + w.good[3]}, good, "embedding space mismatch"},
		{"verify with another model", []string{"verify", "--model", dlib, "--db", good, w.good[0], "andrew"}, good, "embedding space mismatch"},
		{"not a database", []string{"enroll", "--quiet", "--model", w.model, "--db", text, "carol=" + w.good[3]}, text, "not a facenet identity store"},
		{"not a database (list)", []string{"db", "list", "--db", text}, text, "not a facenet identity store"},
		{"truncated", []string{"identify", "--model", w.model, "--db", trunc, w.good[0]}, trunc, "corrupt database"},
		{"unreachable", []string{"db", "list", "--db", unreachable}, store.Redact(unreachable), "connect"},
		{"wrong password", []string{"enroll", "--quiet", "--model", w.model, "--db", wrongPW, "carol=" + w.good[3]}, store.Redact(wrongPW), "password authentication failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{}
			for _, p := range []string{good, text, trunc} {
				files[p] = must(os.ReadFile(p))
			}
			r := w.rbRun(t, tc.args...)
			requireOneLineError(t, tc.args[0], r, tc.store, tc.want)
			require.NotContains(t, r.stderr, pgtest.Password)
			require.NotContains(t, r.stderr, "Wr0ng-Secret")
			for p, b := range files {
				require.Equal(t, b, must(os.ReadFile(p)), "%s changed", p)
			}
		})
	}
}

// TestStoreConcurrentEnroll is the figure: 8 `facenet enroll` processes started at once
// on one store, one identity each: all 8 succeed and all 8 identities are there, SQLite and
// PostgreSQL.
func TestStoreConcurrentEnroll(t *testing.T) {
	w := rbSetup(t)
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "faces.db")
			if kind == "postgres" {
				db = pgtest.Database(t)
			}
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cmd := exec.Command(os.Args[0], "enroll", "--quiet", "--model", w.model, "--db", db,
						fmt.Sprintf("person%d=%s", i, w.good[i%len(w.good)]))
					cmd.Env = append(os.Environ(), rbCLIEnv+"=1")
					var errb bytes.Buffer
					cmd.Stderr = &errb
					if err := cmd.Run(); err != nil {
						errs[i] = fmt.Errorf("enroll %d: %v: %s", i, err, errb.String())
					}
				}()
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			st, err := store.Open(context.Background(), db, store.Options{})
			require.NoError(t, err)
			defer st.Close()
			ids, err := st.List(context.Background())
			require.NoError(t, err)
			require.Len(t, ids, 8)
		})
	}
}
