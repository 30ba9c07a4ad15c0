package verify

import (
	"math/rand/v2"
	"testing"

	"github.com/facenet-go/facenet/vec"
	"github.com/stretchr/testify/require"
)

// TestNewSearcherAgreesWithScan checks both sides of the size rule: the searcher NewSearcher picks
// gives the exact scan's answers, below and above IndexMinSamples.
func TestNewSearcherAgreesWithScan(t *testing.T) {
	for _, tc := range []struct {
		name    string
		samples int
		index   bool
	}{
		{"small scans", 500, false},
		{"large indexes", IndexMinSamples, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(tc.samples)))
			db, err := New(Space{Fingerprint: "sha256:test", Dim: 16})
			require.NoError(t, err)
			vec := func() []float32 {
				v := make([]float32, 16)
				for i := range v {
					v[i] = float32(rng.NormFloat64())
				}
				n, err := vec.Normalize(v)
				require.NoError(t, err)
				return n
			}
			for i := 0; i < tc.samples/10; i++ {
				embs := make([][]float32, 10)
				for j := range embs {
					embs[j] = vec()
				}
				require.NoError(t, db.Enrol(nameOf(i), embs...))
			}
			s := NewSearcher(db)
			_, isIndex := s.(*Index)
			require.Equal(t, tc.index, isIndex)
			for range 20 {
				q := vec()
				want, err := WhoIsIt(q, db, 0.7)
				require.NoError(t, err)
				got, err := s.WhoIsIt(q, 0.7)
				require.NoError(t, err)
				require.Equal(t, want, got)
				wantK, err := TopK(q, db, 5)
				require.NoError(t, err)
				gotK, err := s.TopK(q, 5)
				require.NoError(t, err)
				require.Equal(t, wantK, gotK)
			}
		})
	}
}

func nameOf(i int) string {
	return "id" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
}
