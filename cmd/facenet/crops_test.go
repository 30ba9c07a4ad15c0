package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/testenv"
)

// TestDetectCrops: detect --crops writes each face's margin crop, and embedding that PNG as an
// image gives exactly the vector --detect gives the face, so one face of a group photo can be
// enrolled (make demo does).
func TestDetectCrops(t *testing.T) {
	model := testenv.Model(t, "facenet-keras")
	photo := filepath.Join(testenv.ModuleRoot(t), "build/celeb5", detectPhoto)
	dir := t.TempDir()
	code, stdout, stderr := runCLI("detect", "--detector", filepath.Join(testenv.ModelsDir(t), "mtcnn"), "--crops", dir, photo)
	require.Equal(t, 0, code, stderr)
	crop := filepath.Join(dir, strings.TrimSuffix(filepath.Base(photo), ".jpg")+"-1.png")
	require.Contains(t, stdout, "crop: "+crop+" [57 63 78 108]")
	require.FileExists(t, crop)

	code, fromCrop, stderr := runCLI("embed", "--model", model, "--profile", "accuracy", crop)
	require.Equal(t, 0, code, stderr)
	code, fromPhoto, stderr := runCLI("embed", "--model", model, "--profile", "accuracy", "--detect", photo)
	require.Equal(t, 0, code, stderr)
	vec := func(line string) string { _, v, _ := strings.Cut(line, ": "); return v }
	require.Equal(t, vec(fromPhoto), vec(fromCrop))

	code, _, stderr = runCLI("detect", "--crops", filepath.Join(dir, "nosuch"), photo)
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "not a folder")
	_, err := os.Stat(filepath.Join(dir, "nosuch"))
	require.True(t, os.IsNotExist(err))
}
