package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/testenv"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// requireSnakeKeys walks a decoded JSON value and fails on any object key that is not snake_case.
func requireSnakeKeys(t *testing.T, v any, path string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			require.Regexp(t, snakeCase, k, "key %q at %s", k, path)
			requireSnakeKeys(t, e, path+"."+k)
		}
	case []any:
		for _, e := range x {
			requireSnakeKeys(t, e, path+"[]")
		}
	}
}

// TestJSONKeysAreSnakeCase: every command's --json output uses one key style.
func TestJSONKeysAreSnakeCase(t *testing.T) {
	dir := testenv.Model(t, "dlib-resnet-v1")
	images := testenv.Testdata(t, "images")
	tmp := t.TempDir()
	db := filepath.Join(tmp, "faces.db")
	_, stderr, code := cli(t, "enroll", "--quiet", "--model", dir, "--db", db,
		"younes="+filepath.Join(images, "younes.jpg"), "bertrand="+filepath.Join(images, "bertrand.jpg"),
		"kian="+filepath.Join(images, "kian.jpg"))
	require.Equal(t, 0, code, stderr)
	calib := filepath.Join(tmp, "calib")
	for person, files := range map[string][]string{"bertrand": {"bertrand.jpg", "camera_1.jpg", "camera_3.jpg"}, "younes": {"younes.jpg", "camera_0.jpg"}} {
		for _, f := range files {
			require.NoError(t, osSymlink(filepath.Join(images, f), filepath.Join(calib, person, f)))
		}
	}
	for _, args := range [][]string{
		{"embed", "--json", "--model", dir, filepath.Join(images, "kian.jpg")},
		{"verify", "--json", "--model", dir, "--db", db, filepath.Join(images, "camera_0.jpg"), "younes"},
		{"identify", "--json", "--top", "2", "--model", dir, "--db", db, filepath.Join(images, "camera_0.jpg")},
		{"calibrate", "--json", "--folds", "2", "--model", dir, calib},
		{"inspect", "--json", dir},
	} {
		t.Run(args[0], func(t *testing.T) {
			out, stderr, code := cli(t, args...)
			require.Equal(t, 0, code, stderr)
			dec := json.NewDecoder(strings.NewReader(out))
			n := 0
			for dec.More() {
				var v any
				require.NoError(t, dec.Decode(&v), out)
				requireSnakeKeys(t, v, args[0])
				n++
			}
			require.Positive(t, n, out)
		})
	}
}

func osSymlink(target, link string) error {
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	return os.Symlink(target, link)
}
