package verify

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/facenet-go/facenet/vec"
)

// randomUnit returns a seeded random unit vector: uniformly distributed directions, as
// embeddings of unrelated faces roughly are.
func randomUnit(rng *rand.Rand, dim int) []float32 {
	for {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		if n, err := vec.Normalize(v); err == nil {
			return n
		}
	}
}

// near returns v with every component perturbed by N(0, sigma²), renormalized: another photo
// of the same face, at a distance of about sigma·sqrt(dim).
func near(rng *rand.Rand, v []float32, sigma float64) []float32 {
	w := make([]float32, len(v))
	for i := range v {
		w[i] = v[i] + float32(sigma*rng.NormFloat64())
	}
	n, _ := vec.Normalize(w)
	return n
}

var bench1M struct {
	once sync.Once
	db   *DB
	ix   *Index
}

// db1M enrols 1,000,000 random 128-d unit embeddings, one identity each, seeded.
func db1M(tb testing.TB) (*DB, *Index) {
	bench1M.once.Do(func() {
		rng := rand.New(rand.NewPCG(1, 1e6))
		db, err := New(Space{Fingerprint: "bench", Dim: 128})
		if err != nil {
			panic(err)
		}
		for i := range 1_000_000 {
			if err := db.Enrol(fmt.Sprintf("id%07d", i), randomUnit(rng, 128)); err != nil {
				panic(err)
			}
		}
		bench1M.db, bench1M.ix = db, NewIndex(db)
	})
	return bench1M.db, bench1M.ix
}

// BenchmarkIdentify1M is one probe against a million enrolled embeddings. Half the probes are
// noisy copies of enrolled faces, half are strangers; each answer is first checked against the
// exact scan. It reports the median time per probe besides the mean.
func BenchmarkIdentify1M(b *testing.B) {
	db, ix := db1M(b)
	rng := rand.New(rand.NewPCG(7, 7))
	probes := make([][]float32, 16)
	for i := range probes {
		if i%2 == 0 {
			probes[i] = near(rng, db.row(rng.IntN(db.NumSamples())), 0.03)
		} else {
			probes[i] = randomUnit(rng, 128)
		}
		want, err := WhoIsIt(probes[i], db, NotebookThreshold)
		if err != nil {
			b.Fatal(err)
		}
		got, err := ix.WhoIsIt(probes[i], NotebookThreshold)
		if err != nil {
			b.Fatal(err)
		}
		if got != want {
			b.Fatalf("probe %d: index %+v, exact %+v", i, got, want)
		}
	}
	var times []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t := time.Now()
		if _, err := ix.WhoIsIt(probes[i%len(probes)], NotebookThreshold); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms/probe")
}

// touchLines is a read-bandwidth loop: it reads one word of every 64-byte cache line, so the
// memory moves every byte while the core does an eighth of the work, and the loop is limited
// by memory alone.
func touchLines(b []uint64) uint64 {
	var a0, a1, a2, a3 uint64
	for i := 0; i+32 <= len(b); i += 32 {
		a0 += b[i]
		a1 += b[i+8]
		a2 += b[i+16]
		a3 += b[i+24]
	}
	return a0 + a1 + a2 + a3
}

var benchSink uint64

// BenchmarkBandwidth measures the machine's memory bandwidth on 512 MB, the size of a
// million float32 embeddings: read with one and with all cores, and copy (read + write).
// It sets the floor for a 1:N scan: 512 MB of float32 or 128 MB of int8 codes per probe.
func BenchmarkBandwidth(b *testing.B) {
	const size = 512 << 20
	buf := make([]uint64, size/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("read/workers=%d", workers), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				var wg sync.WaitGroup
				sums := make([]uint64, workers)
				for w := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						sums[w] = touchLines(buf[len(buf)*w/workers : len(buf)*(w+1)/workers])
					}()
				}
				wg.Wait()
				benchSink += sums[0]
			}
		})
	}
	b.Run("copy", func(b *testing.B) {
		dst := make([]uint64, len(buf)/2)
		copy(dst, buf)   // fault the pages in before timing
		b.SetBytes(size) // 256 MB read + 256 MB written
		for b.Loop() {
			copy(dst, buf[len(dst):])
		}
	})
}

// BenchmarkKernel1M is each int8 prefilter kernel alone over a million 128-d rows, one core.
func BenchmarkKernel1M(b *testing.B) {
	_, ix := db1M(b)
	p := ix.newProbe(ix.data[:128])
	nblocks := (ix.rows + blockRows - 1) / blockRows
	out := make([]int32, nblocks*blockRows)
	for _, k := range kernels() {
		b.Run(k.name, func(b *testing.B) {
			b.SetBytes(int64(len(ix.codes)))
			for b.Loop() {
				k.fn(ix.codes, p.qabs, p.qsign, ix.groups, nblocks, out)
			}
		})
	}
}

// BenchmarkSaveOpen1M saves and loads the million-embedding database (516 MB): the atomic save
// with its fsyncs, and Open with its checksum and validation, from the page cache.
func BenchmarkSaveOpen1M(b *testing.B) {
	db, _ := db1M(b)
	path := b.TempDir() + "/faces.db"
	if err := db.Save(path); err != nil {
		b.Fatal(err)
	}
	b.Run("save", func(b *testing.B) {
		b.SetBytes(int64(4 * (len(db.data) + len(db.owner))))
		for b.Loop() {
			if err := db.Save(path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open", func(b *testing.B) {
		b.SetBytes(int64(4 * (len(db.data) + len(db.owner))))
		for b.Loop() {
			got, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if got.NumSamples() != db.NumSamples() {
				b.Fatalf("loaded %d samples, saved %d", got.NumSamples(), db.NumSamples())
			}
		}
	})
}

// BenchmarkExact1M is the reference scan (WhoIsIt on the DB) and the cost of building the
// Index, the two choices for a one-off probe against a million embeddings.
func BenchmarkExact1M(b *testing.B) {
	db, _ := db1M(b)
	probe := randomUnit(rand.New(rand.NewPCG(3, 3)), 128)
	b.Run("whoisit-scan", func(b *testing.B) {
		for b.Loop() {
			if _, err := WhoIsIt(probe, db, NotebookThreshold); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("new-index", func(b *testing.B) {
		for b.Loop() {
			NewIndex(db)
		}
	})
}
