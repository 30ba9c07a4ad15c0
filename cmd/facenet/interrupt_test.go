package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/testenv"
)

// TestInterruptLeavesDatabase: Ctrl-C during a long `facenet enroll` stops it with exit 130 and one
// line, and the database is byte for byte what it was.
func TestInterruptLeavesDatabase(t *testing.T) {
	model := testenv.Model(t, "dlib-resnet-v1")
	images := testenv.Testdata(t, "images")
	db := filepath.Join(t.TempDir(), "faces.db")
	_, stderr, code := cli(t, "enroll", "--quiet", "--model", model, "--db", db, "younes="+filepath.Join(images, "younes.jpg"))
	require.Equal(t, 0, code, stderr)
	before, err := os.ReadFile(db)
	require.NoError(t, err)

	args := []string{"enroll", "--quiet", "--model", model, "--db", db}
	for i := 0; i < 400; i++ { // minutes of work: the signal always lands in the middle
		args = append(args, "kian="+filepath.Join(images, "kian.jpg"))
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), rbCLIEnv+"=1")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	require.NoError(t, cmd.Start())
	time.Sleep(4 * time.Second) // past the model load, into the embeddings
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("enroll did not stop within 60 s of Ctrl-C")
	}
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v: %s", err, errb.String())
	require.Equal(t, 130, exit.ExitCode(), errb.String())
	require.Equal(t, "facenet enroll: interrupted; nothing was written\n", errb.String())
	after, err := os.ReadFile(db)
	require.NoError(t, err)
	require.True(t, bytes.Equal(before, after), "the database changed")
	entries, err := os.ReadDir(filepath.Dir(db))
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), "."), "temporary file %s left behind", e.Name())
	}
}
