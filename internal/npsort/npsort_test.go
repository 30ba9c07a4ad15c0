package npsort

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

type golden struct {
	Numpy string
	Cases []map[string]json.RawMessage
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "npsort", "argsort.json"))
	require.NoError(t, err)
	var g golden
	require.NoError(t, json.Unmarshal(data, &g))
	require.Equal(t, "2.0.2", g.Numpy)
	require.NotEmpty(t, g.Cases)
	return g
}

// Every sort numpy 2.0.2 can dispatch to on this CPU gives numpy's permutation, ties included, on
// every array of the golden file (made by scripts/golden_argsort.py with each dispatch forced). A
// CPU without AVX-512 or AVX2 cannot run those sorts, in numpy or here; they are listed as not run.
func TestArgsortMatchesNumpy(t *testing.T) {
	g := loadGolden(t)
	for _, isa := range []ISA{Scalar, AVX2, AVX512} {
		if !Supported(isa) {
			t.Logf("%s: this CPU cannot run it (numpy would not either)", isa)
			continue
		}
		t.Run(isa.String(), func(t *testing.T) {
			differ := 0
			for i, c := range g.Cases {
				var keys []float64
				var want, scalar []int
				require.NoError(t, json.Unmarshal(c["keys"], &keys))
				require.NoError(t, json.Unmarshal(c[isa.String()], &want))
				require.NoError(t, json.Unmarshal(c["baseline"], &scalar))
				got := ArgsortISA(keys, isa)
				require.Equal(t, want, got, "case %d (%d keys)", i, len(keys))
				if isa != Scalar && !slices.Equal(got, scalar) {
					differ++
				}
			}
			if isa != Scalar {
				// Not vacuous: the SIMD sorts order ties unlike the introsort on most arrays.
				require.Greater(t, differ, len(g.Cases)/2)
			}
		})
	}
}

// Whatever the tie order, the result is a sorting permutation, NaNs last, keys untouched; and the
// native sort is the one the CPU dispatches to.
func TestArgsortSorts(t *testing.T) {
	nan := math.NaN()
	for _, keys := range [][]float64{
		nil, {1}, {2, 1}, {nan, 1, nan, 0}, {math.Inf(1), -0.0, 0, math.Inf(-1), 3},
		make([]float64, 300), {5, 4, 3, 2, 1, 0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12},
	} {
		for _, isa := range []ISA{Scalar, AVX2, AVX512} {
			before := append([]float64(nil), keys...)
			idx := ArgsortISA(keys, isa)
			require.Len(t, idx, len(keys))
			seen := make([]bool, len(keys))
			for _, i := range idx {
				require.False(t, seen[i])
				seen[i] = true
			}
			require.True(t, sort.SliceIsSorted(idx, func(a, b int) bool { return less(keys[idx[a]], keys[idx[b]]) }), "%s %v -> %v", isa, keys, idx)
			for i := range keys {
				require.Equal(t, math.Float64bits(before[i]), math.Float64bits(keys[i]))
			}
		}
	}
	require.True(t, Supported(Native))
	require.True(t, Native == AVX512 || !Supported(AVX512))
	require.True(t, Native != Scalar || !Supported(AVX2))
}
