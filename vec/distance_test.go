package vec

import (
	"math"
	"testing"

	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/stretchr/testify/require"
)

func TestDistancesMatchNumpy(t *testing.T) {
	var rows []struct {
		A, B          []float32
		L2Float32     float64   `json:"l2_float32"`
		SqL2Float32   float64   `json:"sq_l2_float32"`
		L2Float64     float64   `json:"l2_float64"`
		CosineFloat64 float64   `json:"cosine_float64"`
		NormalizedA   []float32 `json:"normalized_a"`
	}
	testenv.GoldenRows(t, "../testdata/verify/distances.json", &rows)
	require.NotEmpty(t, rows)
	for i, r := range rows {
		d, err := L2Distance(r.A, r.B)
		require.NoError(t, err)
		// numpy accumulates float32 in float32; the brief's tolerance against it is 1e-5.
		require.InDelta(t, r.L2Float32, d, 1e-5, "row %d", i)
		require.InDelta(t, r.L2Float64, d, 1e-6*max(1, r.L2Float64), "row %d", i)
		sq, err := SquaredL2Distance(r.A, r.B)
		require.NoError(t, err)
		require.InDelta(t, r.SqL2Float32, sq, 1e-5*max(1, r.SqL2Float32), "row %d", i)
		c, err := CosineSimilarity(r.A, r.B)
		require.NoError(t, err)
		require.InDelta(t, r.CosineFloat64, c, 1e-12, "row %d", i)
		n, err := Normalize(r.A)
		require.NoError(t, err)
		require.Len(t, n, len(r.NormalizedA))
		for j := range n {
			// numpy's float32 norm may differ from ours by an ulp, and so the quotient.
			require.InDelta(t, r.NormalizedA[j], n[j], 1e-6, "row %d component %d", i, j)
		}
	}
}

func TestUnitVectorConversions(t *testing.T) {
	tests := []struct {
		name string
		a, b []float32
	}{
		{"orthogonal", []float32{1, 0}, []float32{0, 1}},
		{"identical", []float32{0.6, 0.8}, []float32{0.6, 0.8}},
		{"opposite", []float32{0.6, 0.8}, []float32{-0.6, -0.8}},
		{"60 degrees", []float32{1, 0}, []float32{0.5, float32(math.Sqrt(3) / 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := L2Distance(tt.a, tt.b)
			require.NoError(t, err)
			c, err := CosineSimilarity(tt.a, tt.b)
			require.NoError(t, err)
			require.InDelta(t, d, L2FromCosine(c), 1e-6)
			require.InDelta(t, d*d, SquaredL2FromCosine(c), 1e-6)
			require.InDelta(t, c, CosineFromL2(d), 1e-6)
		})
	}
	// The notebook's threshold in cosine terms.
	require.InDelta(t, 0.755, CosineFromL2(0.7), 1e-12)
}

func TestNormalizeRowsIsPerRow(t *testing.T) {
	rows := [][]float32{{3, 4}, {0, 10}, {1, 1}}
	got, err := NormalizeRows(rows)
	require.NoError(t, err)
	want := [][]float32{{0.6, 0.8}, {0, 1}, {float32(1 / math.Sqrt2), float32(1 / math.Sqrt2)}}
	require.Equal(t, want, got)
	require.Equal(t, []float32{3, 4}, rows[0], "input untouched")
	// The smallest subnormal still has a direction.
	tiny, err := Normalize([]float32{0, -1e-45})
	require.NoError(t, err)
	require.Equal(t, []float32{0, -1}, tiny)
}

func TestVectorErrors(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"normalize zero", func() error { _, err := Normalize([]float32{0, 0}); return err }, ErrZeroVector},
		{"normalize NaN", func() error { _, err := Normalize([]float32{1, nan}); return err }, ErrNonFinite},
		{"normalize Inf", func() error { _, err := Normalize([]float32{inf}); return err }, ErrNonFinite},
		{"normalize huge", func() error { _, err := Normalize([]float32{math.MaxFloat32}); return err }, ErrNonFinite},
		{"normalize empty", func() error { _, err := Normalize(nil); return err }, ErrEmptyVector},
		{"rows ragged", func() error { _, err := NormalizeRows([][]float32{{1, 2}, {1}}); return err }, ErrDimMismatch},
		{"rows zero", func() error { _, err := NormalizeRows([][]float32{{1, 2}, {0, 0}}); return err }, ErrZeroVector},
		{"l2 dims", func() error { _, err := L2Distance([]float32{1}, []float32{1, 2}); return err }, ErrDimMismatch},
		{"l2 NaN", func() error { _, err := L2Distance([]float32{nan}, []float32{1}); return err }, ErrNonFinite},
		{"squared empty", func() error { _, err := SquaredL2Distance(nil, nil); return err }, ErrEmptyVector},
		{"cosine zero", func() error { _, err := CosineSimilarity([]float32{0, 0}, []float32{1, 0}); return err }, ErrZeroVector},
		{"cosine Inf", func() error { _, err := CosineSimilarity([]float32{1, 0}, []float32{inf, 0}); return err }, ErrNonFinite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.run(), tt.want)
		})
	}
}
