package verify

import (
	"math"
	"testing"

	"github.com/facenet-go/facenet/vec"
	"github.com/stretchr/testify/require"
)

// newTestDB enrols one-dimensional-ish embeddings so distances are exact by construction.
func newTestDB(t *testing.T, dim int, entries ...any) *DB {
	t.Helper()
	db, err := New(Space{Fingerprint: "test-model", Dim: dim})
	require.NoError(t, err)
	for i := 0; i < len(entries); i += 2 {
		require.NoError(t, db.Enrol(entries[i].(string), entries[i+1].([]float32)))
	}
	return db
}

func TestThresholdEdges(t *testing.T) {
	// Distance from [0] to [x] is exactly float32(x): |x - 0| in float32, squared exactly.
	f07 := float32(0.7) // 0.699999988..., below the float64 0.7
	below := func(f float32) float64 { return float64(math.Nextafter32(f, 0)) }
	tests := []struct {
		name        string
		probe       float32
		threshold   float64
		wantVerify  bool // distance < threshold
		wantWhoIsIt bool // !(distance > threshold)
	}{
		{"exactly the threshold: who_is_it accepts, verify rejects", 0.5, 0.5, false, true},
		{"just below", math.Nextafter32(0.5, 0), 0.5, true, true},
		{"just above", math.Nextafter32(0.5, 1), 0.5, false, false},
		{"threshold just below the distance", 0.5, below(0.5), false, false},
		{"float32(0.7) against the notebook's 0.7", f07, NotebookThreshold, true, true},
		{"float32(0.7) against itself", f07, float64(f07), false, true},
		{"next float32 above 0.7", math.Nextafter32(f07, 1), NotebookThreshold, false, false},
		{"zero distance, zero threshold", 0, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newTestDB(t, 1, "a", []float32{0})
			d, err := Verify([]float32{tt.probe}, "a", db, tt.threshold)
			require.NoError(t, err)
			require.Equal(t, tt.probe, d.Distance)
			require.Equal(t, tt.wantVerify, d.Accepted)
			m, err := WhoIsIt([]float32{tt.probe}, db, tt.threshold)
			require.NoError(t, err)
			require.Equal(t, "a", m.Identity)
			require.Equal(t, tt.probe, m.Distance)
			require.Equal(t, tt.wantWhoIsIt, m.Known)
			ix := NewIndex(db)
			im, err := ix.WhoIsIt([]float32{tt.probe}, tt.threshold)
			require.NoError(t, err)
			require.Equal(t, m, im)
		})
	}
}

func TestWhoIsItLoop(t *testing.T) {
	tests := []struct {
		name       string
		db         []any
		probe      []float32
		want       Match
		wantMsg    string
		thresholds float64
	}{
		{
			name:    "nearest wins",
			db:      []any{"danielle", []float32{3, 0}, "younes", []float32{0.5, 0}, "tian", []float32{1, 0}},
			probe:   []float32{0, 0},
			want:    Match{Identity: "younes", Distance: 0.5, Known: true, RunnerUp: "tian", RunnerUpDistance: 1, Margin: 0.5},
			wantMsg: "it's younes, the distance is 0.5",
		},
		{
			name:    "a tie keeps the first in insertion order",
			db:      []any{"kian", []float32{0, 0.25}, "dan", []float32{0.25, 0}, "felix", []float32{-0.25, 0}},
			probe:   []float32{0, 0},
			want:    Match{Identity: "kian", Distance: 0.25, Known: true, RunnerUp: "dan", RunnerUpDistance: 0.25},
			wantMsg: "it's kian, the distance is 0.25",
		},
		{
			name:    "far away is not in the database",
			db:      []any{"kevin", []float32{2, 0}},
			probe:   []float32{0, 0},
			want:    Match{Identity: "kevin", Distance: 2},
			wantMsg: "Not in the database.",
		},
		{
			name:    "min_dist starts at 100: farther is never found",
			db:      []any{"far", []float32{150, 0}, "farther", []float32{0, 200}},
			probe:   []float32{0, 0},
			want:    Match{Distance: 100},
			wantMsg: "Not in the database.",
		},
		{
			name:    "a runner-up at 100 or more is not taken either",
			db:      []any{"near", []float32{0.5, 0}, "far", []float32{100, 0}},
			probe:   []float32{0, 0},
			want:    Match{Identity: "near", Distance: 0.5, Known: true},
			wantMsg: "it's near, the distance is 0.5",
		},
		{
			name:    "exact match prints 0.0",
			db:      []any{"andrew", []float32{0.6, 0.8}},
			probe:   []float32{0.6, 0.8},
			want:    Match{Identity: "andrew", Distance: 0, Known: true},
			wantMsg: "it's andrew, the distance is 0.0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newTestDB(t, 2, tt.db...)
			tt.want.Threshold = NotebookThreshold
			m, err := WhoIsIt(tt.probe, db, NotebookThreshold)
			require.NoError(t, err)
			require.Equal(t, tt.want, m)
			require.Equal(t, tt.wantMsg, m.Message())
			im, err := NewIndex(db).WhoIsIt(tt.probe, NotebookThreshold)
			require.NoError(t, err)
			require.Equal(t, m, im)
		})
	}
}

func TestNearestSampleRule(t *testing.T) {
	db := newTestDB(t, 2, "bertrand", []float32{2, 0}, "younes", []float32{0, 1})
	require.NoError(t, db.Enrol("bertrand", []float32{0.3, 0}, []float32{5, 5}))
	probe := []float32{0, 0}

	d, err := Verify(probe, "bertrand", db, NotebookThreshold)
	require.NoError(t, err)
	require.Equal(t, Decision{Identity: "bertrand", Distance: 0.3, Threshold: NotebookThreshold, Accepted: true}, d)
	require.Equal(t, "It's bertrand, welcome in!", d.Message())

	d, err = Verify(probe, "younes", db, NotebookThreshold)
	require.NoError(t, err)
	require.False(t, d.Accepted)
	require.Equal(t, "It's not younes, please go away", d.Message())

	m, err := WhoIsIt(probe, db, NotebookThreshold)
	require.NoError(t, err)
	require.Equal(t, "bertrand", m.Identity)
	require.Equal(t, float32(0.3), m.Distance)
	require.Equal(t, "younes", m.RunnerUp)
	require.InDelta(t, 0.7, m.Margin, 1e-7)

	top, err := TopK(probe, db, 5)
	require.NoError(t, err)
	require.Equal(t, []Neighbor{{"bertrand", 0.3}, {"younes", 1}}, top)
}

func TestTopKOrder(t *testing.T) {
	db := newTestDB(t, 1,
		"a", []float32{3}, "b", []float32{1}, "c", []float32{-1}, "d", []float32{2}, "e", []float32{200})
	tests := []struct {
		k    int
		want []Neighbor
	}{
		{1, []Neighbor{{"b", 1}}},
		{2, []Neighbor{{"b", 1}, {"c", 1}}}, // tie in insertion order
		{4, []Neighbor{{"b", 1}, {"c", 1}, {"d", 2}, {"a", 3}}},
		{9, []Neighbor{{"b", 1}, {"c", 1}, {"d", 2}, {"a", 3}, {"e", 200}}}, // no 100 cap
	}
	ix := NewIndex(db)
	for _, tt := range tests {
		got, err := TopK([]float32{0}, db, tt.k)
		require.NoError(t, err)
		require.Equal(t, tt.want, got, "k=%d", tt.k)
		got, err = ix.TopK([]float32{0}, tt.k)
		require.NoError(t, err)
		require.Equal(t, tt.want, got, "index k=%d", tt.k)
	}
}

func TestDecisionErrors(t *testing.T) {
	db := newTestDB(t, 2, "a", []float32{1, 0})
	empty := newTestDB(t, 2)
	ok := []float32{0, 1}
	ix := NewIndex(db)
	tests := []struct {
		name string
		err  func() error
		want error
	}{
		{"verify unknown identity", func() error { _, err := Verify(ok, "zz", db, 0.7); return err }, ErrUnknownIdentity},
		{"verify wrong dimension", func() error { _, err := Verify([]float32{1}, "a", db, 0.7); return err }, ErrModelMismatch},
		{"verify NaN probe", func() error { _, err := Verify([]float32{float32(math.NaN()), 0}, "a", db, 0.7); return err }, vec.ErrNonFinite},
		{"verify NaN threshold", func() error { _, err := Verify(ok, "a", db, math.NaN()); return err }, ErrInvalidThreshold},
		{"verify negative threshold", func() error { _, err := Verify(ok, "a", db, -1); return err }, ErrInvalidThreshold},
		{"who is it Inf threshold", func() error { _, err := WhoIsIt(ok, db, math.Inf(1)); return err }, ErrInvalidThreshold},
		{"who is it empty", func() error { _, err := WhoIsIt(ok, empty, 0.7); return err }, ErrEmptyDatabase},
		{"who is it wrong dimension", func() error { _, err := WhoIsIt([]float32{1, 2, 3}, db, 0.7); return err }, ErrModelMismatch},
		{"top-k zero", func() error { _, err := TopK(ok, db, 0); return err }, ErrInvalidK},
		{"top-k empty", func() error { _, err := TopK(ok, empty, 1); return err }, ErrEmptyDatabase},
		{"index empty", func() error { _, err := NewIndex(empty).WhoIsIt(ok, 0.7); return err }, ErrEmptyDatabase},
		{"index wrong dimension", func() error { _, err := ix.WhoIsIt([]float32{1}, 0.7); return err }, ErrModelMismatch},
		{"index Inf probe", func() error { _, err := ix.TopK([]float32{float32(math.Inf(-1)), 0}, 1); return err }, vec.ErrNonFinite},
		{"index NaN threshold", func() error { _, err := ix.WhoIsIt(ok, math.NaN()); return err }, ErrInvalidThreshold},
		{"index top-k zero", func() error { _, err := ix.TopK(ok, -3); return err }, ErrInvalidK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.err(), tt.want)
		})
	}
}
