package vec

import (
	"math"
	"testing"

	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/stretchr/testify/require"
)

func TestTripletLossMatchesNumpy(t *testing.T) {
	var rows []struct {
		Anchor, Positive, Negative [][]float32
		Alpha                      float64
		LossFloat64                float64 `json:"loss_float64"`
		LossFloat32                float64 `json:"loss_float32"`
	}
	testenv.GoldenRows(t, "../testdata/verify/triplet.json", &rows)
	require.NotEmpty(t, rows)
	for i, r := range rows {
		got, err := TripletLoss(r.Anchor, r.Positive, r.Negative, r.Alpha)
		require.NoError(t, err)
		// Both accumulate in float64; only the float32 differences may round differently.
		require.InDelta(t, r.LossFloat64, got, 1e-6*max(1, r.LossFloat64), "row %d", i)
		require.InDelta(t, r.LossFloat32, got, 1e-5*max(1, r.LossFloat32), "row %d", i)
	}
}

func TestTripletLossByHand(t *testing.T) {
	a := [][]float32{{0, 0}, {0, 0}}
	p := [][]float32{{1, 0}, {3, 0}} // ||a-p||² = 1, 9
	n := [][]float32{{0, 2}, {0, 1}} // ||a-n||² = 4, 1
	tests := []struct {
		alpha, want float64
	}{
		{0.2, 0 + (9 - 1 + 0.2)},             // first triplet satisfied
		{3.5, (1 - 4 + 3.5) + (9 - 1 + 3.5)}, // both violate the margin
		{-10, 0},
	}
	for _, tt := range tests {
		got, err := TripletLoss(a, p, n, tt.alpha)
		require.NoError(t, err)
		require.InDelta(t, tt.want, got, 1e-12, "alpha %v", tt.alpha)
	}
}

func TestTripletLossErrors(t *testing.T) {
	one := [][]float32{{1, 2}}
	tests := []struct {
		name    string
		a, p, n [][]float32
		alpha   float64
		want    error
	}{
		{"batch sizes", one, one, [][]float32{{1, 2}, {3, 4}}, 0.2, ErrDimMismatch},
		{"dims", one, [][]float32{{1}}, one, 0.2, ErrDimMismatch},
		{"ragged anchors", [][]float32{{1, 2}, {1}}, [][]float32{{1, 2}, {1}}, [][]float32{{1, 2}, {1}}, 0.2, ErrDimMismatch},
		{"NaN", one, [][]float32{{float32(math.NaN()), 0}}, one, 0.2, ErrNonFinite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := TripletLoss(tt.a, tt.p, tt.n, tt.alpha)
			require.ErrorIs(t, err, tt.want)
		})
	}
	_, err := TripletLoss(one, one, one, math.NaN())
	require.Error(t, err)
}
