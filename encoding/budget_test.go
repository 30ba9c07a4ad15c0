package encoding

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// The decode budget: decodes whose estimates do not fit together run one after the other, ones
// that fit run together, and a decode larger than the whole budget still runs (alone).
func TestDecodeBudget(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "preprocess", "corpus", "j_420_prog_512x384.jpg"))
	require.NoError(t, err)
	est := decodeEstimate(data, DecodeOptions{}, nil)
	require.Greater(t, est, int64(3*512*384), "a progressive file's estimate includes libjpeg's coefficient buffer")
	for _, tc := range []struct {
		name    string
		budget  int64
		maxOver int64 // most decodes at once
	}{
		{"budget of one decode", est, 1},
		{"budget smaller than one decode", est / 4, 1},
		{"budget of eight decodes", 8 * est, 8},
		{"no budget", 0, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := SetDecodeBudget(tc.budget)
			defer SetDecodeBudget(prev)
			var running, peak atomic.Int64
			testHookReserved = func(n int64) {
				if n > 0 {
					r := running.Add(1)
					for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
					}
				} else {
					running.Add(-1)
				}
			}
			defer func() { testHookReserved = nil }()
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := Decode(data, DecodeOptions{})
					require.NoError(t, err)
				}()
			}
			wg.Wait()
			require.LessOrEqual(t, peak.Load(), tc.maxOver)
			if tc.budget > 0 {
				require.Positive(t, peak.Load(), "every decode reserved")
			}
		})
	}
}
