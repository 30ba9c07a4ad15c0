package verify

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The crash test re-executes the test binary as a writer (as os/exec's tests do): with
// crashWriterEnv set, TestMain runs crashWriter instead of the tests.
const (
	crashWriterEnv = "FACENET_VERIFY_CRASH_WRITER"
	crashTrialsEnv = "FACENET_CRASH_TRIALS"
	crashRows      = 4096 // rows rewritten per generation: a 2 MB file
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashWriterEnv); path != "" {
		if err := crashWriter(path); err != nil {
			fmt.Fprintln(os.Stderr, "crash writer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var crashSpace = Space{Fingerprint: "crash-test", Profile: []byte(`{"gen":true}`), Dim: 128}

// generationRows is the content of generation g: every value depends on g, so a file mixing
// two generations cannot pass for either. A hash, not a normal generator, keeps the writer's
// time in Save.
func generationRows(g int) [][]float32 {
	rows := make([][]float32, crashRows)
	x := uint64(g) * 0x9e3779b97f4a7c15
	for i := range rows {
		rows[i] = make([]float32, crashSpace.Dim)
		for j := range rows[i] {
			x += 0x9e3779b97f4a7c15 // splitmix64
			z := (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
			z = (z ^ (z >> 27)) * 0x94d049bb133111eb
			rows[i][j] = float32(int32(z^(z>>31))) / (1 << 31)
		}
	}
	return rows
}

// generationOf checks that db is exactly some generation and returns it: the fixed identities
// first, then one "gen-<g>" identity holding generationRows(g).
func generationOf(db *DB) (int, error) {
	names := db.Names()
	if len(names) != 3 || names[0] != "danielle" || names[1] != "younes" || !strings.HasPrefix(names[2], "gen-") {
		return 0, fmt.Errorf("unexpected identities %q", names)
	}
	g, err := strconv.Atoi(strings.TrimPrefix(names[2], "gen-"))
	if err != nil {
		return 0, err
	}
	got, err := db.Samples(names[2])
	if err != nil {
		return 0, err
	}
	want := generationRows(g)
	if len(got) != len(want) {
		return 0, fmt.Errorf("generation %d has %d rows, want %d", g, len(got), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				return 0, fmt.Errorf("generation %d row %d differs", g, i)
			}
		}
	}
	return g, nil
}

func newGeneration(g int) (*DB, error) {
	db, err := New(crashSpace)
	if err != nil {
		return nil, err
	}
	unit := func(i int) []float32 { v := make([]float32, crashSpace.Dim); v[i] = 1; return v }
	if err := db.Enrol("danielle", unit(0)); err != nil {
		return nil, err
	}
	if err := db.Enrol("younes", unit(1), unit(2)); err != nil {
		return nil, err
	}
	return db, db.Enrol(fmt.Sprintf("gen-%d", g), generationRows(g)...)
}

// crashWriter is a long-running enrolment service: it opens the database once, then forever
// replaces the newest generation by the next in memory, saves, and reports the generation
// once Save has returned.
func crashWriter(path string) error {
	db, err := Open(path)
	if err != nil {
		return err
	}
	for {
		// The parent checks the content; the writer only needs the number.
		g, err := strconv.Atoi(strings.TrimPrefix(db.Names()[2], "gen-"))
		if err != nil {
			return err
		}
		if err := db.Remove(fmt.Sprintf("gen-%d", g)); err != nil {
			return err
		}
		if err := db.Enrol(fmt.Sprintf("gen-%d", g+1), generationRows(g+1)...); err != nil {
			return err
		}
		fmt.Printf("saving %d\n", g+1)
		if err := db.Save(path); err != nil {
			return err
		}
		fmt.Printf("saved %d\n", g+1)
	}
}

// writerEvent is a line of the writer's report: a save starting or done.
type writerEvent struct {
	done bool
	gen  int
	at   time.Time
}

// TestSaveSurvivesSIGKILL kills a writer at random moments while it saves over and over, and
// checks after every kill that the file is the last generation the writer reported saved or
// the one after it, complete and checksum-valid. Half the kills come at a random moment of
// the writer's loop, half at a random moment of a Save (the writer announces each one).
// FACENET_CRASH_TRIALS sets the number of kills (default 20).
func TestSaveSurvivesSIGKILL(t *testing.T) {
	trials := 20
	if s := os.Getenv(crashTrialsEnv); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "%s=%q", crashTrialsEnv, s)
		trials = n
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "faces.db")
	db, err := newGeneration(0)
	require.NoError(t, err)
	require.NoError(t, db.Save(path))

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	saveTime := 20 * time.Millisecond // refined from the writer's reports
	acked, midSave, renamedUnacked := 0, 0, 0
	for trial := range trials {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashWriterEnv+"="+path)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		events := make(chan writerEvent)
		go func() {
			defer close(events)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				verb, num, _ := strings.Cut(sc.Text(), " ")
				if g, err := strconv.Atoi(num); err == nil {
					events <- writerEvent{done: verb == "saved", gen: g, at: time.Now()}
				}
			}
		}()
		// Let the writer finish one save in this trial, then arm the kill: at a random moment
		// of the loop (even trials) or of the next Save (odd trials).
		var deadline <-chan time.Time
		var started time.Time
		saved := false
	run:
		for {
			select {
			case e, ok := <-events:
				if !ok {
					t.Fatalf("trial %d: writer exited: %s", trial, stderr.String())
				}
				if !e.done {
					started = e.at
					if saved && deadline == nil && trial%2 == 1 {
						deadline = time.After(time.Duration(rng.Int64N(int64(saveTime))))
					}
					continue
				}
				acked, saved = e.gen, true
				saveTime = (saveTime*3 + e.at.Sub(started)) / 4
				if deadline == nil && trial%2 == 0 {
					deadline = time.After(time.Duration(rng.IntN(150_000)) * time.Microsecond)
				}
			case <-deadline:
				break run
			}
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		for e := range events { // reports written before the kill
			if e.done {
				acked = e.gen
			}
		}
		_ = cmd.Wait()

		db, err := Open(path)
		require.NoError(t, err, "trial %d: the database must load after a kill", trial)
		g, err := generationOf(db)
		require.NoError(t, err, "trial %d", trial)
		require.Contains(t, []int{acked, acked + 1}, g, "trial %d: on disk generation %d, last reported %d", trial, g, acked)
		if g == acked+1 {
			renamedUnacked++ // killed between the rename and the report
		}
		tmps, err := filepath.Glob(filepath.Join(dir, ".faces.db.tmp-*"))
		require.NoError(t, err)
		if len(tmps) > 0 {
			midSave++ // killed while writing or syncing the temporary file
		}
		for _, tmp := range tmps {
			require.NoError(t, os.Remove(tmp))
		}
	}
	t.Logf("%d kills survived: %d while writing the temporary file, %d after the rename but before the report; %d generations saved, a save takes %v",
		trials, midSave, renamedUnacked, acked, saveTime.Round(time.Millisecond))
}
