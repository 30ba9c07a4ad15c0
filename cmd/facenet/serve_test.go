package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestServeRefusals: `facenet serve`'s usage errors and its refusal to expose writes without a
// token come before any model is loaded (exit 2, one line).
func TestServeRefusals(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty-token")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no model", []string{"serve"}, 2, "--model is required"},
		{"exposed writes", []string{"serve", "--model", "m", "--db", "x.db", "--addr", "0.0.0.0:0"}, 2, "without a token"},
		{"exposed gRPC writes", []string{"serve", "--model", "m", "--db", "x.db", "--grpc-addr", ":0"}, 2, "without a token"},
		{"half TLS", []string{"serve", "--model", "m", "--tls-cert", "c.pem"}, 2, "--tls-cert and --tls-key go together"},
		{"empty token file", []string{"serve", "--model", "m", "--token-file", empty}, 1, "empty"},
		{"model twice", []string{"serve", "--model", "a=x", "--model", "a=y"}, 2, `model name "a" given twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stderr, tc.msg)
		})
	}
}
