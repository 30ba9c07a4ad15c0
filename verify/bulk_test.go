package verify

import (
	"fmt"
	"math"
	"testing"

	"github.com/facenet-go/facenet/vec"
	"github.com/stretchr/testify/require"
)

func TestFromRowsAndExtend(t *testing.T) {
	sp := Space{Fingerprint: "m", Dim: 2}
	db, err := FromRows(sp, []string{"a", "b"}, []uint32{0, 1, 0}, []float32{1, 0, 0, 1, 0.6, 0.8})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, db.Names())
	s, err := db.Samples("a")
	require.NoError(t, err)
	require.Equal(t, [][]float32{{1, 0}, {0.6, 0.8}}, s)

	ext, err := db.Extend([]string{"c"}, []uint32{2, 1}, []float32{-1, 0, 0, -1})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "c"}, ext.Names())
	require.Equal(t, 5, ext.NumSamples())
	require.Equal(t, 3, db.NumSamples(), "the old DB is unchanged")
	require.False(t, db.Has("c"))

	for _, tc := range []struct {
		what  string
		names []string
		owner []uint32
		data  []float32
	}{
		{"owner out of range", []string{"a"}, []uint32{1}, []float32{1, 0}},
		{"identity without samples", []string{"a", "b"}, []uint32{0}, []float32{1, 0}},
		{"duplicate name", []string{"a", "a"}, []uint32{0, 1}, []float32{1, 0, 1, 0}},
		{"short data", []string{"a"}, []uint32{0}, []float32{1}},
		{"non-finite", []string{"a"}, []uint32{0}, []float32{float32(math.NaN()), 0}},
		{"bad name", []string{"a\x00"}, []uint32{0}, []float32{1, 0}},
	} {
		_, err := FromRows(sp, tc.names, tc.owner, tc.data)
		require.ErrorIs(t, err, ErrCorrupt, tc.what)
	}
	_, err = db.Extend([]string{"a"}, []uint32{2}, []float32{1, 0})
	require.ErrorIs(t, err, ErrCorrupt, "a name already enrolled")
}

// TestFromRowsValues: every magnitude above vec.MaxComponent, NaN and ±Inf is refused wherever it
// sits (first value, an odd last value, across the check's 4096-value blocks) and names its row;
// ±MaxComponent itself is accepted.
func TestFromRowsValues(t *testing.T) {
	sp := Space{Fingerprint: "m", Dim: 3}
	const rows = 3000 // 9000 values: three blocks, the last one odd
	over := math.Nextafter32(vec.MaxComponent, math.MaxFloat32)
	for _, tc := range []struct {
		what string
		v    float32
		at   int
		ok   bool
	}{
		{"NaN first", float32(math.NaN()), 0, false},
		{"+Inf in block two", float32(math.Inf(1)), 4097, false},
		{"-Inf last", float32(math.Inf(-1)), 3*rows - 1, false},
		{"just above the limit", over, 4095, false},
		{"minus just above", -over, 8192, false},
		{"the limit", vec.MaxComponent, 4096, true},
		{"minus the limit", -vec.MaxComponent, 3*rows - 1, true},
	} {
		t.Run(tc.what, func(t *testing.T) {
			names := make([]string, rows)
			owner := make([]uint32, rows)
			data := make([]float32, 3*rows)
			for r := range rows {
				names[r], owner[r], data[3*r] = fmt.Sprintf("p%d", r), uint32(r), 1
			}
			data[tc.at] = tc.v
			_, err := FromRows(sp, names, owner, data)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorContains(t, err, fmt.Sprintf("row %d", tc.at/3))
		})
	}
}
