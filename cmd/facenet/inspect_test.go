package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/smclitest"
	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/facenet-go/facenet/savedmodel"
)

// runCLI runs the facenet command line in-process.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestInspectParity runs TensorFlow's saved_model_cli show on half_plus_two, the other fixtures
// and every model under $FACENET_MODELS, for every flag combination, and requires `facenet
// inspect` to print the same (op sets compared as sets: Python prints them in hash order).
func TestInspectParity(t *testing.T) {
	dirs := smclitest.ModelDirs(t)
	for _, c := range smclitest.Reference(t, dirs) {
		t.Run(c.Name(), func(t *testing.T) {
			// The directory as the argument, the rest as saved_model_cli got it.
			args := append([]string{"inspect", c.Args[1]}, c.Args[2:]...)
			code, stdout, stderr := runCLI(args...)
			if c.Error != nil {
				require.Equal(t, 1, code, "saved_model_cli failed, inspect did not\n%s", c)
				require.Contains(t, stderr, "not found", "%s", c)
			} else {
				require.Equal(t, 0, code, "stderr: %s\n%s", stderr, c)
			}
			smclitest.RequireSameOutput(t, c.Stdout, stdout)
		})
	}
}

func TestInspectCommandLine(t *testing.T) {
	root := testenv.ModuleRoot(t)
	halfPlusTwo := filepath.Join(root, "testdata", "savedmodel", "half_plus_two")
	noVariables := filepath.Join(t.TempDir(), "novars")
	require.NoError(t, os.CopyFS(noVariables, os.DirFS(halfPlusTwo)))
	require.NoError(t, os.RemoveAll(filepath.Join(noVariables, "variables")))
	_, tagSets, _ := runCLI("inspect", halfPlusTwo)

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // exact stdout, when set
		wantStderr string // part of stderr
	}{
		{"--dir as saved_model_cli takes it", []string{"--dir", halfPlusTwo}, 0, tagSets, ""},
		{"flags before the directory", []string{"--tag_set", "serve", halfPlusTwo}, 0, "", ""},
		{"no directory", nil, 2, "", "no SavedModel directory given"},
		{"two directories", []string{halfPlusTwo, halfPlusTwo}, 2, "", "give one SavedModel directory"},
		{"--dir and an argument", []string{"--dir", halfPlusTwo, halfPlusTwo}, 2, "", "give one SavedModel directory"},
		{"unknown flag", []string{halfPlusTwo, "--tags", "serve"}, 2, "", "flag provided but not defined"},
		{"help", []string{"-h"}, 0, "", "usage: facenet inspect"},
		{"missing directory", []string{filepath.Join(t.TempDir(), "nope")}, 1, "", "does not exist"},
		{"not a SavedModel", []string{t.TempDir()}, 1, "", "no saved_model.pb or saved_model.pbtxt"},
		{"variables missing warns on stderr only", []string{noVariables}, 0, tagSets, "warning: " + noVariables + ": variables/ directory missing"},
		{"unknown tag set lists the real ones", []string{halfPlusTwo, "--tag_set", "gpu"}, 1, "", `available tag sets: "serve"`},
		{"unknown signature lists the keys", []string{halfPlusTwo, "--tag_set", "serve", "--signature_def", "x"}, 1, "", `"serving_default"`},
		{"json with unknown signature", []string{halfPlusTwo, "--json", "--tag_set", "serve", "--signature_def", "x"}, 1, "", "signature not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"inspect"}, tt.args...)...)
			require.Equal(t, tt.wantCode, code, "stdout: %s\nstderr: %s", stdout, stderr)
			if tt.wantStdout != "" {
				require.Equal(t, tt.wantStdout, stdout)
			}
			require.Contains(t, stderr, tt.wantStderr)
			if tt.wantCode != 0 {
				require.Empty(t, stdout)
			}
		})
	}
}

// TestInspectJSON checks that --json reports what savedmodel.Read found, restricted by the flags.
func TestInspectJSON(t *testing.T) {
	dir := filepath.Join(testenv.ModuleRoot(t), "testdata", "savedmodel", "tf_functions")
	want, err := savedmodel.Read(dir)
	require.NoError(t, err)

	type report struct {
		savedmodel.Model
		TagSets [][]string `json:"tag_sets"`
	}
	decode := func(t *testing.T, args ...string) report {
		code, stdout, stderr := runCLI(append([]string{"inspect", dir, "--json"}, args...)...)
		require.Equal(t, 0, code, stderr)
		var r report
		dec := json.NewDecoder(strings.NewReader(stdout))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&r))
		return r
	}

	full := decode(t)
	require.Equal(t, [][]string{{"serve"}}, full.TagSets)
	require.Equal(t, want.Fingerprint, full.Fingerprint)
	require.Equal(t, want.VariablesBytes, full.VariablesBytes)
	require.Equal(t, want.MetaGraphs[0].Ops, full.MetaGraphs[0].Ops)
	require.Equal(t, want.MetaGraphs[0].Signatures, full.MetaGraphs[0].Signatures)
	require.Equal(t, "2.18.0", full.MetaGraphs[0].TensorFlowVersion)
	require.Len(t, full.MetaGraphs[0].Functions, len(want.MetaGraphs[0].Functions))

	one := decode(t, "--tag_set", "serve", "--signature_def", "strlen")
	require.Len(t, one.MetaGraphs, 1)
	require.Len(t, one.MetaGraphs[0].Signatures, 1)
	require.Equal(t, "strlen", one.MetaGraphs[0].Signatures[0].Key)
	require.Empty(t, one.MetaGraphs[0].Ops, "ops only with --list_ops, as in the text output")
	require.Equal(t, full.TagSets, one.TagSets, "tag_sets lists every tag set even when one is selected")
}
