package main

// Reliability of the CLI against hostile input: every command that takes images, on every file
// of testdata/bad and on paths that are not files, must exit 1 with one line on stderr naming the
// file and the reason, within a deadline, without a panic and without touching an existing
// database; hostile SavedModels (scripts/make_hostile_models.py) get one clear line from
// `facenet embed`; and `facenet enroll` killed at a random moment leaves the old database or the
// new one, never a broken one.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/fpcache"
	"github.com/facenet-go/facenet/internal/pgtest"
	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/facenet-go/facenet/store"
	"github.com/facenet-go/facenet/tfmodel"
)

// The process-level tests re-execute this test binary as the facenet CLI: with rbCLIEnv set,
// TestMain runs the command line instead of the tests, under an address-space limit when
// rbASEnv gives one (so a runaway allocation fails fast instead of waking the OOM killer), and
// writes its peak resident set (VmHWM, KiB) to the file rbHWMEnv names.
const (
	rbCLIEnv      = "FACENET_RELIABILITY_CLI"
	rbASEnv       = "FACENET_RELIABILITY_AS"
	rbHWMEnv      = "FACENET_RELIABILITY_HWM"
	rbCrashEnv    = "FACENET_RELIABILITY_LOAD_CRASH" // "panic" or "oom" inside the quiet window
	rbTrialsEnv   = "FACENET_CRASH_TRIALS"
	rbDeadline    = 10 * time.Second
	rbChildMemory = 4 << 30 // enough for TensorFlow and a small model
)

func TestMain(m *testing.M) {
	if os.Getenv(rbCLIEnv) != "" {
		if s := os.Getenv(rbASEnv); s != "" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err == nil {
				err = syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: n, Max: n})
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "address-space limit:", err)
				os.Exit(3)
			}
		}
		if mode := os.Getenv(rbCrashEnv); mode != "" {
			// Crash where TensorFlow's loader runs, with stderr pointed at /dev/null as it is then.
			facenet.SetModelLoader(func(dir string, opts tfmodel.Options) (*tfmodel.Model, error) {
				restore := opts.Quiet()
				defer restore()
				if mode == "oom" {
					big := make([]byte, 1<<42) // 4 TiB: past any address-space limit
					big[len(big)-1] = 1
				}
				panic("crash inside the quiet window")
			})
		}
		cancelOnSignals() // as main does
		code := run(os.Args[1:], os.Stdout, os.Stderr)
		if path := os.Getenv(rbHWMEnv); path != "" {
			// ru_maxrss of a child counts the parent's pages it shared before exec; VmHWM does not.
			if status, err := os.ReadFile("/proc/self/status"); err == nil {
				for _, l := range strings.Split(string(status), "\n") {
					if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
						os.WriteFile(path, []byte(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))), 0o644)
					}
				}
			}
		}
		os.Exit(code)
	}
	// Fingerprints of profile-less models are cached in the user cache directory
	// (internal/fpcache): the tests, and the CLI processes they start, use a private one.
	cache, err := os.MkdirTemp("", "facenet-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Setenv("XDG_CACHE_HOME", cache)
	code := m.Run()
	pgtest.StopShared()
	if rbShared.dir != "" {
		os.RemoveAll(rbShared.dir)
	}
	os.RemoveAll(cache)
	os.Exit(code)
}

// rbManifest is testdata/bad/manifest.json (scripts/make_bad_corpus.py).
type rbManifest struct {
	NearLimit int `json:"near_limit"`
	Files     []struct {
		File   string `json:"file"`
		Expect string `json:"expect"`
		Reason string `json:"reason"`
		Pillow string `json:"pillow"`
	} `json:"files"`
}

// rbReason is the text each expected error class puts in the message: the sentinel's own words.
var rbReason = map[string]string{
	"unsupported": encoding.ErrUnsupportedFormat.Error(),
	"invalid":     encoding.ErrInvalidImage.Error(),
	"truncated":   encoding.ErrTruncated.Error(),
	"bomb":        encoding.ErrDecompressionBomb.Error(),
}

// rbInput is one hostile path and the words its error must contain.
type rbInput struct {
	name, path, reason string
	// inFolder: calibrate (and enroll --dir) pick up regular files and symlinks only; a
	// directory or a FIFO inside an identity folder is skipped by design, so only these
	// inputs reach them.
	inFolder bool
}

// rbWorld is what the tests share: the small control model, an enrolled database, and the
// hostile inputs (committed files plus special files made here).
type rbWorld struct {
	dir     string
	model   string
	db      []byte // content of a database with three notebook identities
	good    []string
	inputs  []rbInput
	fifos   []string
	near    int
	corpus  string
	initErr error
}

var (
	rbOnce   sync.Once
	rbShared rbWorld
)

func rbSetup(t *testing.T) *rbWorld {
	t.Helper()
	model := testenv.Model(t, "hostile/good")
	images := testenv.Testdata(t, "images")
	corpus := testenv.Testdata(t, "bad")
	rbOnce.Do(func() {
		w := &rbShared
		w.model, w.corpus = model, corpus
		w.initErr = w.init(images)
	})
	require.NoError(t, rbShared.initErr)
	return &rbShared
}

func (w *rbWorld) init(images string) error {
	var err error
	if w.dir, err = os.MkdirTemp("", "facenet-reliability-"); err != nil {
		return err
	}
	for _, n := range []string{"andrew.jpg", "kian.jpg", "younes.jpg", "arnaud.jpg", "benoit.jpg"} {
		w.good = append(w.good, filepath.Join(images, n))
	}
	dbPath := filepath.Join(w.dir, "faces.db")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"enroll", "--model", w.model, "--db", dbPath, "--quiet",
		"andrew=" + w.good[0], "kian=" + w.good[1], "younes=" + w.good[2]}, &stdout, &stderr); code != 0 {
		return fmt.Errorf("enrol the control database: %s", stderr.String())
	}
	if w.db, err = os.ReadFile(dbPath); err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(w.corpus, "manifest.json"))
	if err != nil {
		return fmt.Errorf("%w (regenerate with scripts/make_bad_corpus.py)", err)
	}
	var m rbManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	w.near = m.NearLimit
	for _, f := range m.Files {
		reason, ok := rbReason[f.Expect]
		if !ok {
			return fmt.Errorf("manifest: %s: unknown class %q", f.File, f.Expect)
		}
		w.inputs = append(w.inputs, rbInput{name: f.File, path: filepath.Join(w.corpus, f.File), reason: reason, inFolder: true})
	}
	special := filepath.Join(w.dir, "special")
	if err := os.Mkdir(special, 0o755); err != nil {
		return err
	}
	directory := filepath.Join(special, "directory.jpg")
	dangling := filepath.Join(special, "dangling.jpg")
	fifo := filepath.Join(special, "fifo.jpg")
	if err := os.Mkdir(directory, 0o755); err != nil {
		return err
	}
	if err := os.Symlink(filepath.Join(special, "nowhere.jpg"), dangling); err != nil {
		return err
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		return err
	}
	w.fifos = append(w.fifos, fifo)
	w.inputs = append(w.inputs,
		rbInput{name: "directory", path: directory, reason: "directory"},
		rbInput{name: "dangling symlink", path: dangling, reason: "no such file", inFolder: true},
		rbInput{name: "missing", path: filepath.Join(special, "missing.jpg"), reason: "no such file"},
		rbInput{name: "fifo", path: fifo, reason: "not a regular file"},
	)
	// chmod 000 stops only non-root users; as root (how the tests run here) the file is read
	// like any other, so the case would prove nothing and is left out.
	if os.Geteuid() != 0 {
		locked := filepath.Join(special, "locked.jpg")
		data, err := os.ReadFile(w.good[0])
		if err != nil {
			return err
		}
		if err := os.WriteFile(locked, data, 0o000); err != nil {
			return err
		}
		w.inputs = append(w.inputs, rbInput{name: "chmod 000", path: locked, reason: "permission denied", inFolder: true})
	}
	return nil
}

// unblockFIFOs opens the write end of every FIFO and closes it, so a reader stuck in open or
// read sees end of file and its goroutine can finish.
func (w *rbWorld) unblockFIFOs() {
	for _, f := range w.fifos {
		if fd, err := syscall.Open(f, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			syscall.Close(fd)
		}
	}
}

type rbResult struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// rbRun runs a command in-process. A panic fails the test with its stack; a command still
// running at the deadline fails it too (after unblocking FIFOs so the goroutine can end).
func (w *rbWorld) rbRun(t *testing.T, args ...string) rbResult {
	t.Helper()
	type outcome struct {
		code  int
		panic any
		stack []byte
	}
	var stdout, stderr bytes.Buffer
	done := make(chan outcome, 1)
	start := time.Now()
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- outcome{panic: r, stack: debug.Stack()}
			}
		}()
		done <- outcome{code: run(args, &stdout, &stderr)}
	}()
	select {
	case o := <-done:
		if o.panic != nil {
			t.Fatalf("facenet %s panicked: %v\n%s", strings.Join(args, " "), o.panic, o.stack)
		}
		return rbResult{code: o.code, stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	case <-time.After(rbDeadline):
		w.unblockFIFOs()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
		t.Fatalf("facenet %s: still running after %v", strings.Join(args, " "), rbDeadline)
		return rbResult{}
	}
}

// requireOneLineError checks the contract for a failed run: exit code 1 and exactly one line on
// stderr, "facenet <cmd>: ...", containing every one of want.
func requireOneLineError(t *testing.T, cmd string, r rbResult, want ...string) {
	t.Helper()
	require.Equal(t, 1, r.code, "exit code; stderr:\n%s", r.stderr)
	require.True(t, strings.HasSuffix(r.stderr, "\n"), "stderr must end with a newline: %q", r.stderr)
	require.Equal(t, 1, strings.Count(r.stderr, "\n"), "exactly one line on stderr, got:\n%s", r.stderr)
	require.True(t, strings.HasPrefix(r.stderr, "facenet "+cmd+": "), "stderr: %q", r.stderr)
	for _, s := range want {
		require.Contains(t, r.stderr, s)
	}
}

// TestReliabilityBadImages runs preprocess, embed, enroll, verify, identify and calibrate on
// every hostile input. Enroll goes to a copy of a database that must come out byte-identical.
func TestReliabilityBadImages(t *testing.T) {
	w := rbSetup(t)
	work := t.TempDir()
	out := filepath.Join(work, "out.npy")
	db := filepath.Join(work, "faces.db")
	require.NoError(t, os.WriteFile(db, w.db, 0o600))

	commands := []struct {
		name   string
		args   func(bad string) []string
		folder bool // takes a folder of identity sub-folders, gets the input inside one
	}{
		{"preprocess", func(bad string) []string { return []string{"preprocess", "--size", "16x16", "--out", out, bad} }, false},
		{"embed", func(bad string) []string { return []string{"embed", "--model", w.model, bad} }, false},
		{"enroll", func(bad string) []string {
			return []string{"enroll", "--model", w.model, "--db", db, "--quiet", "andrew=" + w.good[3], "eve=" + bad}
		}, false},
		{"verify", func(bad string) []string { return []string{"verify", "--model", w.model, "--db", db, bad, "andrew"} }, false},
		{"identify", func(bad string) []string {
			return []string{"identify", "--model", w.model, "--db", db, w.good[4], bad}
		}, false},
		{"calibrate", func(folder string) []string { return []string{"calibrate", "--model", w.model, folder} }, true},
	}
	slowest := map[string]time.Duration{}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			for _, in := range w.inputs {
				if c.folder && !in.inFolder {
					continue
				}
				t.Run(in.name, func(t *testing.T) {
					path := in.path
					arg := path
					if c.folder {
						arg = rbIdentityFolder(t, w, in)
						path = filepath.Join(arg, "b", filepath.Base(in.path))
					}
					r := w.rbRun(t, c.args(arg)...)
					requireOneLineError(t, c.name, r, path, in.reason)
					slowest[c.name] = max(slowest[c.name], r.elapsed)
					switch c.name {
					case "preprocess":
						_, err := os.Stat(out)
						require.ErrorIs(t, err, os.ErrNotExist, "no output on failure")
					case "enroll":
						now, err := os.ReadFile(db)
						require.NoError(t, err)
						require.True(t, bytes.Equal(w.db, now), "a failed enrolment changed the database")
						tmps, err := filepath.Glob(filepath.Join(work, ".faces.db.tmp-*"))
						require.NoError(t, err)
						require.Empty(t, tmps, "temporary files left behind")
					}
				})
			}
		})
	}
	t.Logf("slowest refusal per command: %v", slowest)
}

// rbIdentityFolder builds FOLDER/a/{2 good images} and FOLDER/b/{1 good image, the input}, so
// calibrate has pairs to work with and reaches the input in its second identity.
func rbIdentityFolder(t *testing.T, w *rbWorld, in rbInput) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"a", "b"} {
		require.NoError(t, os.Mkdir(filepath.Join(root, d), 0o755))
	}
	for i, g := range []string{w.good[0], w.good[1]} {
		require.NoError(t, os.Symlink(g, filepath.Join(root, "a", fmt.Sprintf("%d.jpg", i))))
	}
	require.NoError(t, os.Symlink(w.good[2], filepath.Join(root, "b", "0.jpg")))
	dst := filepath.Join(root, "b", filepath.Base(in.path))
	if target, err := os.Readlink(in.path); err == nil {
		require.NoError(t, os.Symlink(target, dst)) // the dangling symlink stays dangling
	} else {
		require.NoError(t, os.Symlink(in.path, dst))
	}
	return root
}

// TestReliabilityHostileModels runs `facenet embed` on each model of build/models/hostile: the
// control works, every other one fails with one line saying what is wrong.
func TestReliabilityHostileModels(t *testing.T) {
	w := rbSetup(t)
	hostile := filepath.Dir(w.model)
	img := w.good[0]
	tests := []struct {
		model string
		args  []string
		want  []string
	}{
		{"missing_variables", nil, []string{"variables"}},
		{"truncated_variables", nil, []string{"truncated_variables", "tensorflow"}},
		{"wrong_tag", nil, []string{`tag set not found: "serve"`, `"train"`}},
		{"wrong_signature_key", nil, []string{`signature not found: "serving_default"`, `"predict"`}},
		{"uint8_input", nil, []string{"DT_UINT8", "DT_FLOAT only"}},
		{"rank3_input", nil, []string{"expected shape (-1, 16, 16)"}},
		{"rank2_input", nil, []string{"expected shape (-1, 128)"}},
		{"nan_output", nil, []string{"non-finite value NaN"}},
		{"inf_output", nil, []string{"non-finite value +Inf"}},
		{"zero_output", nil, []string{"all zeros"}},
		{"output_4d", nil, []string{"model output shape [1 4 4 8]"}},
		{"output_1d", nil, []string{"model output shape [1]"}},
		{"int_output", nil, []string{"DT_INT32", "float32 only"}},
		{"batch_collapse", []string{"--batch", "2", w.good[1]}, []string{"model output shape [1 128] for a batch of 2"}},
		{"two_inputs", nil, []string{`"image", "mask"`}},
		{"two_outputs", nil, []string{`"embedding", "logits"`}},
		{"bad_profile", nil, []string{"invalid model profile", "facenet.json"}},
		{"profile_size_mismatch", nil, []string{"model input is 16x16 but its profile says 160x160"}},
		{"profile_dim_mismatch", nil, []string{"output dim 128, profile says 64"}},
	}
	t.Run("good", func(t *testing.T) {
		r := w.rbRun(t, "embed", "--model", w.model, img)
		require.Equal(t, 0, r.code, r.stderr)
		require.Empty(t, r.stderr)
		require.Equal(t, 129, len(strings.Fields(r.stdout)), "path and 128 numbers: %q", r.stdout)
	})
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			args := append([]string{"embed", "--model", filepath.Join(hostile, tt.model), img}, tt.args...)
			requireOneLineError(t, "embed", w.rbRun(t, args...), tt.want...)
		})
	}
	// A signature of (None, 100000, 100000, 3) would make every image a 120 GB tensor. It runs
	// in a child process with a 4 GiB address space: without a bound on the input size the
	// allocation kills the child instead of the test binary.
	t.Run("huge_input", func(t *testing.T) {
		r := rbProcess(t, map[string]string{rbASEnv: strconv.FormatUint(rbChildMemory, 10)},
			"embed", "--model", filepath.Join(hostile, "huge_input"), img)
		requireNoCrash(t, r)
		require.Equal(t, 1, r.code, "stderr:\n%s", r.stderr)
		require.Contains(t, r.goLines(), "input size 100000x100000")
	})
	t.Run("corrupt_pb", func(t *testing.T) {
		dir := rbCorruptModel(t, w.model)
		requireOneLineError(t, "embed", w.rbRun(t, "embed", "--model", dir, img), dir, "corrupt SavedModel")
	})
	t.Run("model is a file", func(t *testing.T) {
		requireOneLineError(t, "embed", w.rbRun(t, "embed", "--model", img, img), img, "not a directory")
	})
}

// rbCorruptModel copies the control model with saved_model.pb replaced by random bytes (made
// here rather than in build/models, where every model must parse for the inspect tests).
func rbCorruptModel(t *testing.T, good string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(good)))
	garbage := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "saved_model.pb"), garbage, 0o644))
	return dir
}

// rbProcResult is a child run of the CLI.
type rbProcResult struct {
	rbResult
	maxRSSKiB int64
}

// goLines returns the stderr lines the CLI itself printed ("facenet ..."), without TensorFlow's.
func (r rbProcResult) goLines() string {
	var keep []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "facenet ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// rbProcess runs the CLI in a child process (this test binary in CLI mode), killed at the
// deadline, and reports its exit code, output and peak RSS (0 if it died before reporting).
func rbProcess(t *testing.T, env map[string]string, args ...string) rbProcResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rbDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	hwm := filepath.Join(t.TempDir(), "hwm")
	cmd.Env = append(os.Environ(), rbCLIEnv+"=1", rbHWMEnv+"="+hwm)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	require.NoError(t, ctx.Err(), "facenet %s: killed after %v; stderr:\n%s", strings.Join(args, " "), rbDeadline, stderr.String())
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("facenet %s: %v", strings.Join(args, " "), err)
	}
	r := rbProcResult{rbResult: rbResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String(), elapsed: elapsed}}
	if raw, err := os.ReadFile(hwm); err == nil { // absent when the child crashed
		r.maxRSSKiB, _ = strconv.ParseInt(string(raw), 10, 64)
	}
	return r
}

func requireNoCrash(t *testing.T, r rbProcResult) {
	t.Helper()
	for _, s := range []string{"panic:", "fatal error:", "goroutine ", "SIGSEGV"} {
		require.NotContains(t, r.stderr, s, "the CLI crashed:\n%.2000s", r.stderr)
	}
}

// TestReliabilityProcess runs the real process on one file of each kind: what a user sees,
// TensorFlow's own logging included. It must exit 1 with one line on stderr, within the
// deadline, and stay within a bounded resident set: bombs cost nothing over a run on a valid
// image; a header just under the pixel limit at most the one buffer it announces.
func TestReliabilityProcess(t *testing.T) {
	w := rbSetup(t)
	out := filepath.Join(t.TempDir(), "out.npy")
	pick := []string{"text.jpg", "jpeg_truncated_progressive.jpg", "png_bad_crc.png", "png_bomb_100000x100000.png",
		"jpeg_bomb_65535x65535.jpg", "bmp_pixel_count_overflow.bmp", "jpeg_scan_bomb_2000_scans.jpg",
		fmt.Sprintf("jpeg_near_limit_%dx%d_no_data.jpg", w.near, w.near), "gif_no_frames.gif"}
	byName := map[string]rbInput{}
	for _, in := range w.inputs {
		byName[in.name] = in
	}
	for _, cmd := range []string{"preprocess", "embed"} {
		args := func(path string) []string {
			if cmd == "preprocess" {
				return []string{"preprocess", "--size", "16x16", "--out", out, path}
			}
			return []string{"embed", "--model", w.model, path}
		}
		t.Run(cmd, func(t *testing.T) {
			base := rbProcess(t, nil, args(w.good[0])...)
			require.Equal(t, 0, base.code, base.stderr)
			require.Positive(t, base.maxRSSKiB)
			os.Remove(out)
			for _, name := range pick {
				in, ok := byName[name]
				require.True(t, ok, "%s is not in the manifest", name)
				t.Run(name, func(t *testing.T) {
					r := rbProcess(t, nil, args(in.path)...)
					requireNoCrash(t, r)
					requireOneLineError(t, cmd, r.rbResult, in.path, in.reason)
					limit := base.maxRSSKiB + 64<<10
					if strings.Contains(name, "near_limit") {
						limit += int64(3*w.near*w.near) >> 10
					}
					require.Less(t, r.maxRSSKiB, limit, "peak RSS %d KiB; a valid image takes %d KiB", r.maxRSSKiB, base.maxRSSKiB)
					t.Logf("%v, peak RSS %d MiB (valid image: %d MiB)", r.elapsed.Round(time.Millisecond), r.maxRSSKiB>>10, base.maxRSSKiB>>10)
				})
			}
		})
	}
}

// TestReliabilityEnrollKeepsDatabase: whatever goes wrong during an enrolment (a bad image
// after good ones, a model of another embedding space, a hostile model, a database that is not
// one), the database file is left byte for byte as it was.
func TestReliabilityEnrollKeepsDatabase(t *testing.T) {
	w := rbSetup(t)
	hostile := filepath.Dir(w.model)
	dlib := testenv.Model(t, "dlib-resnet-v1")
	dir := t.TempDir()
	db := filepath.Join(dir, "faces.db")
	bad := filepath.Join(w.corpus, "jpeg_truncated_baseline.jpg")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad image after good ones", []string{"--model", w.model, "carol=" + w.good[3], "dave=" + w.good[4], "dave=" + bad}, bad},
		{"other embedding space", []string{"--model", dlib, "carol=" + w.good[3]}, "faces.db"},
		{"nan model", []string{"--model", filepath.Join(hostile, "nan_output"), "carol=" + w.good[3]}, "non-finite value NaN"},
		{"model without variables", []string{"--model", filepath.Join(hostile, "missing_variables"), "carol=" + w.good[3]}, "variables"},
		{"replace with a bad image", []string{"--model", w.model, "--replace", "andrew=" + bad}, bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(db, w.db, 0o600))
			r := w.rbRun(t, append([]string{"enroll", "--db", db, "--quiet"}, tt.args...)...)
			requireOneLineError(t, "enroll", r, tt.want)
			now, err := os.ReadFile(db)
			require.NoError(t, err)
			require.True(t, bytes.Equal(w.db, now), "the database changed")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "nothing but the database in its folder")
		})
	}
	t.Run("database is a FIFO", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "fifo.db")
		require.NoError(t, syscall.Mkfifo(fifo, 0o644))
		w.fifos = append(w.fifos, fifo)
		r := w.rbRun(t, "enroll", "--model", w.model, "--db", fifo, "--quiet", "carol="+w.good[3])
		requireOneLineError(t, "enroll", r, fifo, "not a regular file")
	})
	t.Run("database is a directory", func(t *testing.T) {
		asDir := filepath.Join(dir, "dir.db")
		require.NoError(t, os.Mkdir(asDir, 0o755))
		r := w.rbRun(t, "enroll", "--model", w.model, "--db", asDir, "--quiet", "carol="+w.good[3])
		requireOneLineError(t, "enroll", r, asDir)
		st, err := os.Stat(asDir)
		require.NoError(t, err)
		require.True(t, st.IsDir())
	})
}

// TestReliabilityEnrollSIGKILL kills `facenet enroll --replace` (a child process) at random
// moments of its run, on an SQLite store big enough (60000 samples, 31 MB) that a write takes a
// while. After each kill the store must open and hold the version from before that run or the
// one the run was writing: the bulk identity intact and "probe" either absent or holding exactly
// the new embedding (the replace is one transaction). FACENET_CRASH_TRIALS sets the number of
// kills (default 5).
func TestReliabilityEnrollSIGKILL(t *testing.T) {
	w := rbSetup(t)
	trials := 5
	if s := os.Getenv(rbTrialsEnv); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "%s=%q", rbTrialsEnv, s)
		trials = n
	}
	pipe, err := facenet.Open(context.Background(), w.model, facenet.Options{})
	require.NoError(t, err)
	defer pipe.Close()
	sp := pipe.Space()
	probes := w.good
	want := make([][]float32, len(probes))
	for i, p := range probes {
		want[i], err = pipe.EncodeFile(context.Background(), p)
		require.NoError(t, err)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "faces.db")
	bulk, err := store.Open(context.Background(), path, store.Options{Space: &sp})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([][]float32, 60000)
	for i := range rows {
		rows[i] = make([]float32, sp.Dim)
		for j := range rows[i] {
			rows[i][j] = float32(rng.NormFloat64())
		}
	}
	require.NoError(t, bulk.Enrol(context.Background(), "bulk", rows...))
	require.NoError(t, bulk.Close())

	// checkDB returns which probe the store holds (-1: none), after checking the rest.
	checkDB := func(trial int) int {
		st, err := store.Open(context.Background(), path, store.Options{})
		require.NoError(t, err, "trial %d: the store must open after a kill", trial)
		defer st.Close()
		db, err := st.Current(context.Background())
		require.NoError(t, err, "trial %d: the store must load after a kill", trial)
		got, err := db.Samples("bulk")
		require.NoError(t, err, "trial %d", trial)
		require.Equal(t, rows, got, "trial %d: the bulk identity changed", trial)
		if !db.Has("probe") {
			require.Equal(t, 1, db.Len(), "trial %d", trial)
			return -1
		}
		s, err := db.Samples("probe")
		require.NoError(t, err)
		require.Len(t, s, 1, "trial %d: --replace keeps one probe sample", trial)
		for i := range want {
			if slices.Equal(s[0], want[i]) {
				return i
			}
		}
		t.Fatalf("trial %d: the probe sample is none of the images enrolled", trial)
		return 0
	}

	enrollCmd := func(probe int) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "enroll", "--model", w.model, "--db", path, "--quiet", "--replace", "probe="+probes[probe])
		cmd.Env = append(os.Environ(), rbCLIEnv+"=1")
		return cmd
	}
	// One run to completion measures how long a run takes; kills then land anywhere in it.
	start := time.Now()
	out, err := enrollCmd(0).CombinedOutput()
	require.NoError(t, err, "%s", out)
	full := time.Since(start)
	require.Equal(t, 0, checkDB(-1))

	before, after := 0, 0
	current := 0
	for trial := 0; trial < trials; trial++ {
		next := (current + 1) % len(probes)
		cmd := enrollCmd(next)
		require.NoError(t, cmd.Start())
		// Even trials kill anywhere in the run; odd ones in its last 40%, where it writes.
		delay := time.Duration(rng.Int64N(int64(full) * 11 / 10))
		if trial%2 == 1 {
			delay = full*6/10 + time.Duration(rng.Int64N(int64(full)*45/100))
		}
		time.Sleep(delay)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		switch got := checkDB(trial); got {
		case current:
			before++
		case next:
			after++
			current = next
		default:
			t.Fatalf("trial %d: the database holds probe %d, neither the old %d nor the new %d", trial, got, current, next)
		}
	}
	t.Logf("%d kills of facenet enroll --replace (a run takes %v): %d left the old version, %d the new one",
		trials, full.Round(time.Millisecond), before, after)
}

// rbModelCopy copies the control model into a new folder, with a profile (so the weights are not
// hashed and TensorFlow's own reads are reached) or without one.
func rbModelCopy(t *testing.T, good string, withProfile bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	require.NoError(t, os.CopyFS(dir, os.DirFS(good)))
	if withProfile {
		prof := encoding.NotebookProfile()
		prof.Input.Height, prof.Input.Width = 16, 16
		prof.Fingerprint = "sha256:test"
		raw, err := json.Marshal(prof)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "assets.extra"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(encoding.ProfileFile)), raw, 0o644))
	}
	return dir
}

// TestReliabilityModelFiles replaces, one at a time, every file the program or TensorFlow opens
// in a model folder by a FIFO nobody writes to, a symlink to /dev/zero, a socket or a 3 GiB sparse
// file. `facenet embed` (with and without a profile: without one the weights are hashed, with
// one TensorFlow reads them) must refuse each with one line naming the file and what it is,
// without waiting or reading; `facenet inspect` must not hang either.
func TestReliabilityModelFiles(t *testing.T) {
	w := rbSetup(t)
	img := w.good[0]
	files := []string{"saved_model.pb", "fingerprint.pb", "variables/variables.index",
		"variables/variables.data-00000-of-00001", encoding.ProfileFile}
	kinds := []struct {
		name string
		make func(t *testing.T, path string)
		want string
	}{
		{"fifo", func(t *testing.T, path string) {
			require.NoError(t, syscall.Mkfifo(path, 0o644))
			w.fifos = append(w.fifos, path)
		}, "not a regular file (a named pipe)"},
		{"/dev/zero", func(t *testing.T, path string) { require.NoError(t, os.Symlink("/dev/zero", path)) },
			"not a regular file (a character device)"},
		{"socket", func(t *testing.T, path string) {
			// bind(2) takes at most 108 bytes of path: bind short, then move the socket in place.
			short, err := os.MkdirTemp("", "s")
			require.NoError(t, err)
			t.Cleanup(func() { os.RemoveAll(short) })
			l, err := net.Listen("unix", filepath.Join(short, "s"))
			require.NoError(t, err)
			t.Cleanup(func() { l.Close() })
			require.NoError(t, os.Rename(filepath.Join(short, "s"), path))
		}, "not a regular file (a socket)"},
		{"sparse 3 GiB", func(t *testing.T, path string) {
			f, err := os.Create(path)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(3<<30))
			require.NoError(t, f.Close())
		}, ""}, // per file below: over its limit, or (variables data) left to TensorFlow
	}
	for _, withProfile := range []bool{false, true} {
		for _, file := range files {
			if file == encoding.ProfileFile && !withProfile {
				continue
			}
			for _, k := range kinds {
				if k.name == "sparse 3 GiB" && strings.HasPrefix(file, "variables/variables.data") {
					continue // within MaxVariablesFileBytes: weights may be that large
				}
				name := fmt.Sprintf("profile=%v/%s/%s", withProfile, file, k.name)
				t.Run(name, func(t *testing.T) {
					dir := rbModelCopy(t, w.model, withProfile)
					path := filepath.Join(dir, filepath.FromSlash(file))
					require.NoError(t, os.RemoveAll(path))
					k.make(t, path)
					want := k.want
					if k.name == "sparse 3 GiB" {
						want = "file too large: 3221225472 bytes"
					}
					r := w.rbRun(t, "embed", "--model", dir, img)
					requireOneLineError(t, "embed", r, path, want)
					require.Less(t, r.elapsed, 5*time.Second)
					ins := w.rbRun(t, "inspect", dir)
					if file == "saved_model.pb" {
						requireOneLineError(t, "inspect", ins, path, want)
					} else {
						require.Equal(t, 0, ins.code, ins.stderr)
					}
				})
			}
		}
	}
	t.Run("fingerprint.pb is a FIFO: inspect warns", func(t *testing.T) {
		dir := rbModelCopy(t, w.model, false)
		path := filepath.Join(dir, "fingerprint.pb")
		require.NoError(t, os.Remove(path))
		require.NoError(t, syscall.Mkfifo(path, 0o644))
		w.fifos = append(w.fifos, path)
		r := w.rbRun(t, "inspect", dir)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stderr, "fingerprint.pb unreadable")
		require.Contains(t, r.stderr, "not a regular file (a named pipe)")
	})
}

// TestReliabilityFingerprintCache: a model without a profile is hashed once; later commands take
// the fingerprint from the cache (internal/fpcache, whose tests prove a hit skips hashing and a
// rewritten file misses), and a changed variables/ gives a new fingerprint, so a database made
// before is refused.
func TestReliabilityFingerprintCache(t *testing.T) {
	w := rbSetup(t)
	dir := rbModelCopy(t, w.model, false)
	want, err := encoding.Fingerprint(dir)
	require.NoError(t, err)
	r := w.rbRun(t, "embed", "--model", dir, w.good[0])
	require.Equal(t, 0, r.code, r.stderr)
	cacheDir, err := fpcache.Dir()
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(cacheDir, fpcache.FileName))
	require.NoError(t, err)
	real, err := filepath.EvalSymlinks(dir)
	require.NoError(t, err)
	require.Contains(t, string(raw), strconv.Quote(real))
	require.Contains(t, string(raw), want)

	db := filepath.Join(t.TempDir(), "faces.db")
	r = w.rbRun(t, "enroll", "--model", dir, "--db", db, "--quiet", "andrew="+w.good[0])
	require.Equal(t, 0, r.code, r.stderr)
	// Another file under variables/ (TensorFlow ignores it, the fingerprint counts it): the
	// cache must not answer with the old fingerprint.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "variables", "notes.txt"), []byte("retrained"), 0o644))
	r = w.rbRun(t, "verify", "--model", dir, "--db", db, w.good[0], "andrew")
	requireOneLineError(t, "verify", r, db)
}

// TestReliabilityExitCodes: usage errors exit 2, failures 1, each with one line; a crash while
// TensorFlow's loader runs (stderr then points at /dev/null) still prints its report to the real
// stderr. Go's runtime exits 2 after a crash whatever the program wants; the report tells it from
// a usage error, which is one "facenet <cmd>:" line.
func TestReliabilityExitCodes(t *testing.T) {
	w := rbSetup(t)
	t.Run("usage and failure", func(t *testing.T) {
		tests := []struct {
			args []string
			code int
			want string
		}{
			{[]string{"embed", w.good[0]}, 2, "--model is required"},
			{[]string{"embed", "--model", w.model, "--batch", "x", w.good[0]}, 2, "invalid value"},
			{[]string{"embed", "--model", filepath.Join(t.TempDir(), "none"), w.good[0]}, 1, "no such file or directory"},
			{[]string{"embed", "--model", w.model, filepath.Join(t.TempDir(), "none.jpg")}, 1, "no such file"},
		}
		for _, tt := range tests {
			r := rbProcess(t, nil, tt.args...)
			requireNoCrash(t, r)
			require.Equal(t, tt.code, r.code, "%v: %s", tt.args, r.stderr)
			require.Contains(t, r.goLines(), tt.want)
			require.Equal(t, 1, strings.Count(r.goLines(), "\n")+1, "one line: %q", r.goLines())
		}
	})
	for _, mode := range []struct{ name, want string }{
		{"panic", "panic: crash inside the quiet window"},
		// The runtime prints a fatal error's first line only to fd 2 (here /dev/null); its stack
		// reaches the crash output.
		{"oom", "runtime.throw"},
	} {
		t.Run("crash while loading: "+mode.name, func(t *testing.T) {
			r := rbProcess(t, map[string]string{rbCrashEnv: mode.name, rbASEnv: strconv.FormatUint(rbChildMemory, 10)},
				"embed", "--model", w.model, w.good[0])
			require.NotEqual(t, 0, r.code)
			require.Contains(t, r.stderr, mode.want, "the crash report must reach stderr")
			require.Contains(t, r.stderr, "goroutine ", "with its stack")
		})
	}
}

// TestReliabilityDestinations: every flag that names a file to write (preprocess --out,
// calibrate --png, identify --sheet, enroll --db) refuses a character device, a FIFO, a socket
// and a directory in one line, leaving them as they were, and writes through a symlink, dangling
// or not, keeping the link.
func TestReliabilityDestinations(t *testing.T) {
	w := rbSetup(t)
	gallery := t.TempDir()
	for i, n := range []string{"andrew", "kian", "younes"} {
		require.NoError(t, os.Symlink(w.good[i], filepath.Join(gallery, n+".jpg")))
	}
	calib := rbIdentityFolder(t, w, rbInput{path: w.good[3]})
	commands := []struct {
		flag string
		args func(dest string) []string
	}{
		{"--out", func(dest string) []string {
			return []string{"preprocess", "--size", "16x16", "--out", dest, w.good[0]}
		}},
		{"--png", func(dest string) []string { return []string{"calibrate", "--model", w.model, "--png", dest, calib} }},
		{"--sheet", func(dest string) []string {
			db := filepath.Join(t.TempDir(), "faces.db")
			require.NoError(t, os.WriteFile(db, w.db, 0o600))
			return []string{"identify", "--model", w.model, "--db", db, "--sheet", dest, "--gallery", gallery, w.good[0]}
		}},
		{"--db", func(dest string) []string {
			return []string{"enroll", "--model", w.model, "--db", dest, "--quiet", "carol=" + w.good[3]}
		}},
	}
	refused := []struct {
		name string
		make func(t *testing.T, path string)
		want string
	}{
		{"character device", func(t *testing.T, path string) {
			// A /dev/null (1, 3) of the test's own: the bug would replace this one, not the real one.
			if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
				require.NoError(t, os.Symlink(os.DevNull, path)) // not root: the real one, refused before any write
			}
		}, "(a character device)"},
		{"fifo", func(t *testing.T, path string) {
			require.NoError(t, syscall.Mkfifo(path, 0o644))
			w.fifos = append(w.fifos, path)
		}, "(a named pipe)"},
		{"socket", func(t *testing.T, path string) {
			l, err := net.Listen("unix", path)
			require.NoError(t, err)
			t.Cleanup(func() { l.Close() })
		}, "(a socket)"},
		{"directory", func(t *testing.T, path string) { require.NoError(t, os.Mkdir(path, 0o755)) }, "(a directory)"},
	}
	for _, c := range commands {
		t.Run(c.flag, func(t *testing.T) {
			for _, k := range refused {
				t.Run(k.name, func(t *testing.T) {
					dir, err := os.MkdirTemp("", "d") // short: a socket path has at most 108 bytes
					require.NoError(t, err)
					t.Cleanup(func() { os.RemoveAll(dir) })
					dest := filepath.Join(dir, "dest")
					k.make(t, dest)
					before, err := os.Lstat(dest)
					require.NoError(t, err)
					args := c.args(dest)
					r := w.rbRun(t, args...)
					requireOneLineError(t, args[0], r, c.flag, dest, "not a regular file "+k.want)
					after, err := os.Lstat(dest)
					require.NoError(t, err)
					require.Equal(t, before.Mode(), after.Mode(), "the destination is left as it was")
					entries, err := os.ReadDir(dir)
					require.NoError(t, err)
					require.Len(t, entries, 1, "nothing written beside it")
				})
			}
			for _, link := range []string{"symlink", "dangling symlink"} {
				t.Run(link, func(t *testing.T) {
					dir := t.TempDir()
					dest, target := filepath.Join(dir, "dest"), filepath.Join(dir, "sub", "target")
					require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
					require.NoError(t, os.Symlink("sub/target", dest))
					if link == "symlink" {
						if c.flag == "--db" {
							require.NoError(t, os.WriteFile(target, w.db, 0o600))
						} else {
							require.NoError(t, os.WriteFile(target, []byte("old"), 0o644))
						}
					}
					args := c.args(dest)
					r := w.rbRun(t, args...)
					require.Equal(t, 0, r.code, r.stderr)
					fi, err := os.Lstat(dest)
					require.NoError(t, err)
					require.Equal(t, fs.ModeSymlink, fi.Mode().Type(), "the link stays a link")
					got, err := os.ReadFile(target)
					require.NoError(t, err)
					require.NotEqual(t, "old", string(got), "the target holds the new file")
					require.NotEmpty(t, got)
					if c.flag == "--db" {
						st, err := store.Open(context.Background(), dest, store.Options{})
						require.NoError(t, err)
						db, err := st.Current(context.Background())
						require.NoError(t, err)
						require.True(t, db.Has("carol"))
						require.NoError(t, st.Close())
					}
				})
			}
		})
	}
}

// TestReliabilityNumericFlags: every numeric flag of every command refuses a value it cannot use
// (exit 2, one line naming the flag), instead of replacing it by a default; a usable value works.
func TestReliabilityNumericFlags(t *testing.T) {
	w := rbSetup(t)
	db := filepath.Join(t.TempDir(), "faces.db")
	require.NoError(t, os.WriteFile(db, w.db, 0o600))
	calib := rbIdentityFolder(t, w, rbInput{path: w.good[3]})
	img := w.good[0]
	cmds := map[string]func(flag, v string) []string{
		"verify": func(f, v string) []string {
			return []string{"verify", "--model", w.model, "--db", db, f, v, w.good[1], "andrew"}
		},
		"identify": func(f, v string) []string {
			return []string{"identify", "--model", w.model, "--db", db, f, v, img}
		},
		"embed": func(f, v string) []string { return []string{"embed", "--model", w.model, f, v, img} },
		"enroll": func(f, v string) []string {
			return []string{"enroll", "--model", w.model, "--db", db, "--quiet", f, v, "carol=" + img}
		},
		"calibrate": func(f, v string) []string { return []string{"calibrate", "--model", w.model, f, v, calib} },
	}
	bad := []struct {
		cmd, flag string
		values    []string
		want      string
	}{
		{"verify", "--threshold", []string{"-1", "-0", "0", "NaN", "nan", "Inf", "+Inf", "-Inf", "1e999", "x", ""}, ""},
		{"identify", "--threshold", []string{"-1", "-0", "0", "NaN", "Inf", "1e999"}, ""},
		{"identify", "--top", []string{"-1", "x", "1.5", "99999999999999999999"}, ""},
		{"identify", "--batch", []string{"0", "-1"}, "must be at least 1"},
		{"identify", "--batch", []string{"x", "2.5"}, "not an integer"},
		{"embed", "--batch", []string{"0", "-3", "1e3"}, ""},
		{"enroll", "--batch", []string{"0", "-1"}, "must be at least 1"},
		{"calibrate", "--folds", []string{"1", "0", "-5", "x"}, ""},
	}
	for _, b := range bad {
		for _, v := range b.values {
			t.Run(b.cmd+" "+b.flag+" "+v, func(t *testing.T) {
				args := cmds[b.cmd](b.flag, v)
				r := w.rbRun(t, args...)
				require.Equal(t, 2, r.code, "usage error; stdout %q stderr %q", r.stdout, r.stderr)
				require.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
				require.Contains(t, r.stderr, "facenet "+b.cmd+": ")
				require.Contains(t, r.stderr, strings.TrimPrefix(b.flag, "-"))
				require.Contains(t, r.stderr, b.want)
				require.Empty(t, r.stdout, "no answer from a refused flag")
			})
		}
	}
	t.Run("a usable threshold is used, not the profile's", func(t *testing.T) {
		// The control model's embeddings of two different people are far apart, so a tiny
		// threshold refuses and a large one accepts: the flag, not the profile, decided.
		r := w.rbRun(t, cmds["verify"]("--threshold", "1e-9")...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, ">= 1e-09")
		r = w.rbRun(t, cmds["verify"]("--threshold", "5")...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "< 5)")
	})
	t.Run("an oversized --top lists every identity", func(t *testing.T) {
		r := w.rbRun(t, cmds["identify"]("--top", "1000000")...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, " 3. ")
	})
}

// TestReliabilityNamesAndPaths: identity names that would be invisible or spoofed in identify's
// output (format characters, bidi controls, separators, control characters) are refused in one
// line naming the name and the reason, and the database is left as it was; image paths holding a
// newline or another such character keep each image one record in the text outputs, and one line
// in errors.
func TestReliabilityNamesAndPaths(t *testing.T) {
	w := rbSetup(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "faces.db")
	require.NoError(t, os.WriteFile(db, w.db, 0o600))
	names := []struct{ name, want string }{
		{"ki\u202ean", "U+202E, a format character (Unicode category Cf"},
		{"kian\u200b", "U+200B, a format character"},
		{"\u2066andrew", "U+2066, a format character"},
		{"line\u2028sep", "U+2028, a line separator (Unicode category Zl)"},
		{"para\u2029sep", "U+2029, a paragraph separator (Unicode category Zp)"},
		{"tab\tname", "U+0009, a control character (Unicode category Cc)"},
		{"new\nline", "U+000A, a control character"},
	}
	for _, n := range names {
		t.Run("enroll "+strconv.Quote(n.name), func(t *testing.T) {
			r := w.rbRun(t, "enroll", "--model", w.model, "--db", db, "--quiet", n.name+"="+w.good[3])
			requireOneLineError(t, "enroll", r, strconv.Quote(n.name), "invalid identity name", n.want)
			now, err := os.ReadFile(db)
			require.NoError(t, err)
			require.True(t, bytes.Equal(w.db, now), "the database changed")
		})
	}
	t.Run("enroll --dir with such a folder name", func(t *testing.T) {
		root := t.TempDir()
		sub := filepath.Join(root, "ki\u202ean")
		require.NoError(t, os.Mkdir(sub, 0o755))
		require.NoError(t, os.Symlink(w.good[3], filepath.Join(sub, "0.jpg")))
		r := w.rbRun(t, "enroll", "--model", w.model, "--db", db, "--quiet", "--dir", root)
		requireOneLineError(t, "enroll", r, `"ki\u202ean"`, "U+202E")
	})

	odd := []string{"new\nline.jpg", "cr\rreturn.jpg", "rlo\u202egpj.exe", "sep\u2028.jpg", "\"quoted.jpg", "tab\t.jpg"}
	var paths []string
	for _, n := range odd {
		p := filepath.Join(dir, n)
		require.NoError(t, os.Symlink(w.good[0], p))
		paths = append(paths, p)
	}
	paths = append(paths, w.good[1]) // a plain path stays as it is
	t.Run("embed", func(t *testing.T) {
		r := w.rbRun(t, append([]string{"embed", "--model", w.model}, paths...)...)
		require.Equal(t, 0, r.code, r.stderr)
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		require.Len(t, lines, len(paths), "one record per image:\n%s", r.stdout)
		for i, l := range lines {
			if displayPath(paths[i]) == paths[i] {
				// A plain path, or one with a '"' that does not lead: printed as is.
				require.True(t, strings.HasPrefix(l, paths[i]+": "), "line %d: %q", i, l)
				continue
			}
			quoted, err := strconv.QuotedPrefix(l)
			require.NoError(t, err, "line %d: %q", i, l)
			got, err := strconv.Unquote(quoted)
			require.NoError(t, err)
			require.Equal(t, paths[i], got)
			require.Equal(t, 128, len(strings.Fields(strings.TrimPrefix(l, quoted+":"))), "128 numbers after the path")
		}
		r = w.rbRun(t, append([]string{"embed", "--model", w.model, "--json"}, paths...)...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, len(paths), strings.Count(r.stdout, "\n"))
	})
	t.Run("identify and verify", func(t *testing.T) {
		r := w.rbRun(t, append([]string{"identify", "--model", w.model, "--db", db}, paths...)...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, len(paths), strings.Count(r.stdout, "\n"), "one line per probe:\n%s", r.stdout)
		r = w.rbRun(t, "verify", "--model", w.model, "--db", db, paths[0], "andrew")
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, 1, strings.Count(r.stdout, "\n"), r.stdout)
		require.True(t, strings.HasPrefix(r.stdout, strconv.Quote(paths[0])+": "), r.stdout)
	})
	t.Run("an error about such a path is one line", func(t *testing.T) {
		missing := filepath.Join(dir, "no\nsuch.jpg")
		r := w.rbRun(t, "embed", "--model", w.model, missing)
		requireOneLineError(t, "embed", r, `no\nsuch.jpg`, "no such file")
	})
}

func TestDisplayPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a/b.jpg", "a/b.jpg"},
		{"with space.jpg", "with space.jpg"},
		{"Zoë/李.jpg", "Zoë/李.jpg"},
		{"a: b.jpg", "a: b.jpg"}, // the numbers hold no ':', so the last ": " ends the path
		{"in\"side.jpg", "in\"side.jpg"},
		{"\"lead.jpg", `"\"lead.jpg"`},
		{"new\nline.jpg", `"new\nline.jpg"`},
		{"cr\r.jpg", `"cr\r.jpg"`},
		{"rlo\u202e.jpg", `"rlo\u202e.jpg"`},
		{"ls\u2028.jpg", `"ls\u2028.jpg"`},
		{"zw\u200b.jpg", `"zw\u200b.jpg"`},
		{"bad\xff.jpg", `"bad\xff.jpg"`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, displayPath(tt.in), "%q", tt.in)
	}
}
