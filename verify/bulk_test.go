package verify

import (
	"math"
	"testing"

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
