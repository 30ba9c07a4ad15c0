// Package smclitest runs TensorFlow's real saved_model_cli as the reference for parity tests of
// package smcli and of `facenet inspect`, and compares outputs the way those tests need.
package smclitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/stretchr/testify/require"
)

// Case is one saved_model_cli show run: its flags, what it printed and the exception it raised.
type Case struct {
	Args   []string `json:"args"` // starts with "--dir", DIR
	Stdout string   `json:"stdout"`
	Error  *string  `json:"error"` // nil when show() returned normally
}

// Flag returns the value of a flag in c.Args and whether it is there (valueless flags give "").
func (c Case) Flag(name string) (string, bool) {
	for i, a := range c.Args {
		if a == name {
			if i+1 < len(c.Args) && !strings.HasPrefix(c.Args[i+1], "--") {
				return c.Args[i+1], true
			}
			return "", true
		}
	}
	return "", false
}

// Name is a readable subtest name: the model directory's base name and the other flags.
func (c Case) Name() string {
	return filepath.Base(c.Args[1]) + " " + strings.Join(c.Args[2:], " ")
}

// ModelDirs lists the SavedModels to compare on: every model under testdata/savedmodel (the
// half_plus_two copy must be there) and every one under $FACENET_MODELS (default
// <root>/build/models, written by `make models`), sorted.
func ModelDirs(t testing.TB) []string {
	root := testenv.ModuleRoot(t)
	fixtures := findModels(t, filepath.Join(root, "testdata", "savedmodel"))
	require.Contains(t, fixtures, filepath.Join(root, "testdata", "savedmodel", "half_plus_two"),
		"the half_plus_two fixture is missing from testdata/savedmodel")
	dirs := append(fixtures, findModels(t, testenv.ModelsDir(t))...)
	slices.Sort(dirs)
	return slices.Compact(dirs)
}

// findModels returns the directories under root that hold saved_model.pb or saved_model.pbtxt,
// not descending into a model (its assets could hold other files of those names).
func findModels(t testing.TB, root string) []string {
	var dirs []string
	if _, err := os.Stat(root); err != nil {
		return nil
	}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		for _, name := range []string{"saved_model.pb", "saved_model.pbtxt"} {
			if _, err := os.Stat(filepath.Join(path, name)); err == nil {
				dirs = append(dirs, path)
				return filepath.SkipDir
			}
		}
		return nil
	})
	require.NoError(t, err, "walk %s", root)
	return dirs
}

// Reference runs saved_model_cli show on dirs with the flag combinations testdata/smcli_show.py
// derives from each model, using the Python venv at <root>/.venv, which `make setup` creates.
func Reference(t testing.TB, dirs []string) []Case {
	root := testenv.ModuleRoot(t)
	python := filepath.Join(root, ".venv", "bin", "python")
	cli := filepath.Join(root, ".venv", "bin", "saved_model_cli")
	for _, p := range []string{python, cli} {
		_, err := os.Stat(p)
		require.NoError(t, err, "the reference saved_model_cli comes from the Python venv; run `make setup` to create %s", p)
	}
	script := filepath.Join(root, "savedmodel", "smcli", "testdata", "smcli_show.py")
	args := []string{script}
	for _, d := range dirs {
		args = append(args, "--dir", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Env = append(os.Environ(), "TF_CPP_MIN_LOG_LEVEL=3", "CUDA_VISIBLE_DEVICES=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "%s failed:\n%s", script, tail(stderr.String(), 3000))
	var cases []Case
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &cases), "decode %s output", script)
	require.NotEmpty(t, cases)
	return cases
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

var opsLine = regexp.MustCompile(`(?m)^(The MetaGraph with tag set .* contains the following ops: )(\{.*\}|set\(\))$`)

const functionsHeader = "\nConcrete Functions:"

// RequireSameOutput fails the test unless Compare accepts got as saved_model_cli's want.
func RequireSameOutput(t testing.TB, want, got string) {
	t.Helper()
	require.NoError(t, Compare(want, got))
}

// Compare returns nil when got is what saved_model_cli printed (want), with the two allowances
// that package smcli documents: op sets may list their ops in another order, and in the Concrete
// Functions section a function's options may come in another order (Python's order depends on
// numbers TensorFlow draws while loading). Everything else must be byte-identical.
func Compare(want, got string) error {
	wantSets, gotSets := opsLine.FindAllStringSubmatch(want, -1), opsLine.FindAllStringSubmatch(got, -1)
	if len(wantSets) != len(gotSets) {
		return fmt.Errorf("%d op lines, want %d\nwant:\n%s\ngot:\n%s", len(gotSets), len(wantSets), want, got)
	}
	for i := range wantSets {
		if wantSets[i][1] != gotSets[i][1] || !slices.Equal(opSet(wantSets[i][2]), opSet(gotSets[i][2])) {
			return fmt.Errorf("op line differs\nwant: %s\ngot:  %s", wantSets[i][0], gotSets[i][0])
		}
	}
	mask := func(s string) string { return opsLine.ReplaceAllString(s, "${1}<ops>") }
	want, got = mask(want), mask(got)

	wantHead, wantFuncs, _ := strings.Cut(want, functionsHeader)
	gotHead, gotFuncs, _ := strings.Cut(got, functionsHeader)
	if wantHead != gotHead {
		return fmt.Errorf("output differs at line %d\nwant:\n%s\ngot:\n%s", firstDiffLine(wantHead, gotHead), want, got)
	}
	if wantFuncs != gotFuncs && !maps.EqualFunc(optionSets(wantFuncs), optionSets(gotFuncs), slices.Equal) {
		return fmt.Errorf("Concrete Functions differ beyond option order\nwant:%s\ngot:%s", wantFuncs, gotFuncs)
	}
	return nil
}

func firstDiffLine(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

func opSet(s string) []string {
	if s == "set()" {
		return []string{}
	}
	ops := strings.Split(strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}"), ", ")
	slices.Sort(ops)
	return ops
}

var optionHeader = regexp.MustCompile(`(?m)^    Option #\d+$`)

// optionSets maps each function to its sorted option blocks, numbering removed.
func optionSets(funcs string) map[string][]string {
	sets := map[string][]string{}
	for i, block := range strings.Split(funcs, "\n  Function Name: ") {
		if i == 0 {
			sets[""] = []string{block}
			continue
		}
		name, body, _ := strings.Cut(block, "\n")
		opts := optionHeader.Split(body, -1)
		slices.Sort(opts)
		sets[name] = opts
	}
	return sets
}

// String shows a case's reference result in failure messages.
func (c Case) String() string {
	errText := "<none>"
	if c.Error != nil {
		errText = *c.Error
	}
	return fmt.Sprintf("saved_model_cli show %s\nerror: %s\nstdout:\n%s", strings.Join(c.Args, " "), errText, c.Stdout)
}
