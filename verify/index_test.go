package verify

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range kernels() {
		t.Logf("kernel available: %s", k.name)
	}
	for _, groups := range []int{1, 2, 3, 32, 33} {
		for _, nblocks := range []int{1, 2, 3, 4, 5, 8, 129} {
			codes := make([]uint8, nblocks*groups*groupBytes)
			q := make([]float32, groups*groupDims)
			for i := range codes {
				codes[i] = uint8(1 + rng.IntN(255)) // codes -127..127
			}
			for i := range q {
				q[i] = float32(rng.NormFloat64())
			}
			if nblocks == 2 { // the extremes, where a 16-bit pair sum could saturate
				for i := range codes {
					codes[i] = []uint8{255, 1}[i%2]
				}
				for i := range q {
					q[i] = []float32{1, -1, -1, 1}[i%4]
				}
			}
			p := (&Index{groups: groups}).newProbe(q)
			// The plain dot product, straight from the definitions.
			want := make([]int32, nblocks*blockRows)
			for r := range want {
				for i := range groups * groupDims {
					c := int32(codes[(r/blockRows*groups+i/groupDims)*groupBytes+(r%blockRows)*groupDims+i%groupDims]) - codeOffset
					want[r] += int32(p.qsign[(i/groupDims)*groupBytes+i%groupDims]) * c
				}
			}
			for _, k := range kernels() {
				got := make([]int32, nblocks*blockRows)
				k.fn(codes, p.qabs, p.qsign, groups, nblocks, got)
				require.Equal(t, want, got, "%s: groups %d blocks %d", k.name, groups, nblocks)
			}
		}
	}
}

// requireIndexAgrees checks every probe against the exact scan: the whole Match, and TopK
// for several k, for each index given.
func requireIndexAgrees(t *testing.T, db *DB, ixs []*Index, probes [][]float32, threshold float64) {
	t.Helper()
	for i, p := range probes {
		want, err := WhoIsIt(p, db, threshold)
		require.NoError(t, err)
		wantTop, err := TopK(p, db, 10)
		require.NoError(t, err)
		for _, ix := range ixs {
			got, err := ix.WhoIsIt(p, threshold)
			require.NoError(t, err)
			require.Equal(t, want, got, "probe %d, kernel %s", i, ix.kern.name)
			for _, k := range []int{1, 3, 10} {
				got, err := ix.TopK(p, k)
				require.NoError(t, err)
				require.Equal(t, wantTop[:min(k, len(wantTop))], got, "probe %d k %d kernel %s", i, k, ix.kern.name)
			}
		}
	}
}

// allKernels returns an index of db for every kernel this CPU runs.
func allKernels(db *DB) []*Index {
	var ixs []*Index
	for _, k := range kernels() {
		ix := NewIndex(db)
		ix.kern = k
		ixs = append(ixs, ix)
	}
	return ixs
}

func TestIndexMatchesExactSearch(t *testing.T) {
	tests := []struct {
		rows, identities, dim int
		scale                 float64
	}{
		{1, 1, 128, 1},
		{7, 7, 128, 1},
		{9, 3, 5, 1},
		{100, 100, 3, 1},
		{2000, 2000, 128, 1},
		{3000, 500, 128, 1}, // several samples each, interleaved
		{1500, 1500, 130, 1},
		{1000, 1000, 64, 1e-30}, // tiny and huge vectors keep the bounds honest
		{1000, 1000, 64, 1e30},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("rows=%d ids=%d dim=%d scale=%g", tt.rows, tt.identities, tt.dim, tt.scale), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tt.rows), uint64(tt.dim)))
			db, err := New(Space{Fingerprint: "m", Dim: tt.dim})
			require.NoError(t, err)
			scaled := func(v []float32) []float32 {
				for i := range v {
					v[i] *= float32(tt.scale)
				}
				return v
			}
			var rows [][]float32
			for r := range tt.rows {
				v := scaled(randomUnit(rng, tt.dim))
				rows = append(rows, v)
				require.NoError(t, db.Enrol(fmt.Sprintf("id%d", (r*7919)%tt.identities), v))
			}
			var probes [][]float32
			for range 20 {
				probes = append(probes, scaled(randomUnit(rng, tt.dim)))
				probes = append(probes, near(rng, rows[rng.IntN(len(rows))], 0.02))
			}
			probes = append(probes, rows[0], rows[len(rows)-1], make([]float32, tt.dim))
			requireIndexAgrees(t, db, allKernels(db), probes, NotebookThreshold*tt.scale)
		})
	}
}

func TestIndexNearTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const dim = 128
	db, err := New(Space{Fingerprint: "m", Dim: dim})
	require.NoError(t, err)
	var probes [][]float32
	for i := range 300 {
		a := randomUnit(rng, dim)
		switch i % 4 {
		case 0: // the same face under two names: an exact tie
			require.NoError(t, db.Enrol(fmt.Sprintf("twin%d-a", i), a))
			require.NoError(t, db.Enrol(fmt.Sprintf("twin%d-b", i), append([]float32(nil), a...)))
			probes = append(probes, near(rng, a, 0.01), a)
		case 1: // two components swapped, probe symmetric in them: equal distances
			b := append([]float32(nil), a...)
			b[3], b[7] = a[7], a[3]
			require.NoError(t, db.Enrol(fmt.Sprintf("swap%d-a", i), a))
			require.NoError(t, db.Enrol(fmt.Sprintf("swap%d-b", i), b))
			p := near(rng, a, 0.05)
			p[3] = p[7]
			probes = append(probes, p)
		case 2: // one ulp apart
			b := append([]float32(nil), a...)
			b[0] = math.Nextafter32(b[0], 2)
			require.NoError(t, db.Enrol(fmt.Sprintf("ulp%d-a", i), a))
			require.NoError(t, db.Enrol(fmt.Sprintf("ulp%d-b", i), b))
			probes = append(probes, near(rng, a, 0.001))
		case 3: // the probe is the midpoint of two enrolled faces
			b := near(rng, a, 0.05)
			require.NoError(t, db.Enrol(fmt.Sprintf("mid%d-a", i), a))
			require.NoError(t, db.Enrol(fmt.Sprintf("mid%d-b", i), b))
			m := make([]float32, dim)
			for j := range m {
				m[j] = (a[j] + b[j]) / 2
			}
			probes = append(probes, m)
		}
	}
	requireIndexAgrees(t, db, allKernels(db), probes, NotebookThreshold)

	// The ties really happen: the first twin wins with the second as a zero-margin runner-up.
	m, err := NewIndex(db).WhoIsIt(probes[1], NotebookThreshold)
	require.NoError(t, err)
	require.Equal(t, Match{Identity: "twin0-a", Distance: 0, Threshold: NotebookThreshold, Known: true, RunnerUp: "twin0-b"}, m)
}

func TestIndexIsASnapshot(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	db, err := New(Space{Fingerprint: "m", Dim: 16})
	require.NoError(t, err)
	for i := range 50 {
		require.NoError(t, db.Enrol(fmt.Sprintf("p%d", i%20), randomUnit(rng, 16)))
	}
	before := NewIndex(db)
	probes := [][]float32{randomUnit(rng, 16), randomUnit(rng, 16), randomUnit(rng, 16)}
	var want []Match
	for _, p := range probes {
		m, err := WhoIsIt(p, db, 1.2)
		require.NoError(t, err)
		want = append(want, m)
	}
	require.NoError(t, db.Remove(want[0].Identity))
	require.NoError(t, db.Rename(want[1].Identity, "renamed"))
	require.NoError(t, db.Enrol("new", probes[2]))
	require.NoError(t, db.RemoveSample("p5", 0))
	for i, p := range probes {
		m, err := before.WhoIsIt(p, 1.2)
		require.NoError(t, err)
		require.Equal(t, want[i], m)
	}
	// A new index sees the changes.
	requireIndexAgrees(t, db, []*Index{NewIndex(db)}, probes, 1.2)
	m, err := NewIndex(db).WhoIsIt(probes[2], 1.2)
	require.NoError(t, err)
	require.Equal(t, "new", m.Identity)
}

func TestIndexConcurrentQueries(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	db, err := New(Space{Fingerprint: "m", Dim: 32})
	require.NoError(t, err)
	for i := range 5000 {
		require.NoError(t, db.Enrol(fmt.Sprint(i), randomUnit(rng, 32)))
	}
	ix := NewIndex(db)
	probes := make([][]float32, 16)
	want := make([]Match, len(probes))
	for i := range probes {
		probes[i] = randomUnit(rng, 32)
		want[i], err = WhoIsIt(probes[i], db, 0.7)
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	got := make([]Match, len(probes))
	for i := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = ix.WhoIsIt(probes[i], 0.7)
		}()
	}
	wg.Wait()
	require.Equal(t, want, got)
}
