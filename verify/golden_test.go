package verify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The tables in testdata/verify come from numpy (numpy 2.0.2 in the project venv):
//
//	.venv/bin/python testdata/verify/make_golden.py --out testdata/verify
const goldenDir = "../testdata/verify"

func readGolden(t *testing.T, name string, rows any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	require.NoError(t, err)
	var doc struct {
		Rows json.RawMessage `json:"rows"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	require.NoError(t, json.Unmarshal(doc.Rows, rows))
}
