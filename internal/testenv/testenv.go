// Package testenv finds what the tests of this module need outside the Go tree: the SavedModels that
// `make models` writes and the shared notebook material. A missing piece fails the test with the
// command that makes it; tests never skip for it.
package testenv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// ModuleRoot returns the directory holding go.mod, found by walking up from the working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("testenv: no go.mod above the working directory")
		}
		dir = parent
	}
}

// ModelsDir returns $FACENET_MODELS, or build/models under the module root.
func ModelsDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("FACENET_MODELS"); d != "" {
		return d
	}
	return filepath.Join(ModuleRoot(t), "build", "models")
}

// Model returns the directory of the SavedModel `make models` writes at build/models/<rel>, failing the
// test when it is missing.
func Model(t testing.TB, rel string) string {
	t.Helper()
	dir := filepath.Join(ModelsDir(t), rel)
	if _, err := os.Stat(filepath.Join(dir, "saved_model.pb")); err != nil {
		t.Fatalf("testenv: SavedModel %s is missing: run `make models` first (%v)", dir, err)
	}
	return dir
}

// SharedDir returns $FACENET_SHARED, or ../shared beside the module root.
func SharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("FACENET_SHARED"); d != "" {
		return d
	}
	return filepath.Join(filepath.Dir(ModuleRoot(t)), "shared")
}

// Testdata returns the path of rel under the module's testdata directory.
func Testdata(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(ModuleRoot(t), "testdata", rel)
}

// GoldenRows decodes the "rows" array of the golden JSON file at path (the shape of every table
// the Python reference scripts write) into rows.
func GoldenRows(t testing.TB, path string, rows any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("testenv: golden file: %v", err)
	}
	var doc struct {
		Rows json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("testenv: golden file %s: %v", path, err)
	}
	if err := json.Unmarshal(doc.Rows, rows); err != nil {
		t.Fatalf("testenv: golden file %s rows: %v", path, err)
	}
}
