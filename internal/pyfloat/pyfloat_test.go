package pyfloat_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/pyfloat"
)

// Expected strings are CPython 3.11's repr() of the same values (the venv's interpreter).
func TestRepr64(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{0.5, "0.5"},
		{1e-05, "1e-05"},
		{0.0001, "0.0001"},
		{1e16, "1e+16"},
		{1e15, "1000000000000000.0"},
		{123456789012345678.0, "1.2345678901234568e+17"},
		{1.5e300, "1.5e+300"},
		{-3.25e-7, "-3.25e-07"},
		{0.30000000000000004, "0.30000000000000004"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
		{5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{100, "100.0"},
		{1234.5678, "1234.5678"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, pyfloat.Repr(tt.f, 64))
		})
	}
}

// Expected strings are str(np.float32(v)) from the venv's numpy: the layout switches on the value,
// so float32(1e-4), just below 1e-4, is scientific where CPython's repr of 1e-4 is not.
func TestRepr32(t *testing.T) {
	for _, tt := range []struct {
		f    float32
		want string
	}{
		{1e-4, "1e-04"},
		{0.00010001, "0.00010001"},
		{1e16, "1e+16"},
		{9.999999e15, "9999999000000000.0"},
		{0.5992949, "0.5992949"},
		{123456789, "123456790.0"},
		{1e-5, "1e-05"},
		{0, "0.0"},
		{float32(math.Copysign(0, -1)), "-0.0"},
		{float32(math.NaN()), "nan"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, pyfloat.Repr(float64(tt.f), 32))
		})
	}
}
