package vec

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNumpyFloat32Parity checks the notebook's float32 arithmetic against numpy bit for bit, on the
// vectors scripts/golden_numpy_distances.py wrote (`make golden`).
func TestNumpyFloat32Parity(t *testing.T) {
	raw, err := os.ReadFile("../testdata/verify/numpy_float32.json")
	require.NoError(t, err)
	var doc struct {
		Cases []struct {
			A, B []string
			Dist string
		}
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.NotEmpty(t, doc.Cases)
	f32 := func(h string) float32 {
		u, err := strconv.ParseUint(h, 16, 32)
		require.NoError(t, err)
		return math.Float32frombits(uint32(u))
	}
	vec := func(hs []string) []float32 {
		v := make([]float32, len(hs))
		for i, h := range hs {
			v[i] = f32(h)
		}
		return v
	}
	exactDiffers := 0
	for i, c := range doc.Cases {
		a, b, want := vec(c.A), vec(c.B), f32(c.Dist)
		require.Equal(t, want, numpyDist32(a, b), "case %d (n=%d)", i, len(a))
		require.Equal(t, want, Distance32(a, b), "case %d (n=%d)", i, len(a))
		if float32(math.Sqrt(sqDist(a, b))) != want {
			exactDiffers++
		}
	}
	// The float64 sum, rounded once, misses numpy's last bit often enough to show in printed distances.
	t.Logf("%d cases: all bit-identical to numpy; the correctly rounded distance differs in %d", len(doc.Cases), exactDiffers)
}
