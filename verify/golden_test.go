package verify

import (
	"path/filepath"
	"testing"

	"github.com/facenet-go/facenet/internal/testenv"
)

// The tables in testdata/verify come from numpy (numpy 2.0.2 in the project venv):
//
//	.venv/bin/python testdata/verify/make_golden.py --out testdata/verify
const goldenDir = "../testdata/verify"

func readGolden(t *testing.T, name string, rows any) {
	t.Helper()
	testenv.GoldenRows(t, filepath.Join(goldenDir, name), rows)
}
