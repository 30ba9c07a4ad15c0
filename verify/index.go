package verify

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/facenet-go/facenet/vec"
)

// Index answers WhoIsIt and TopK over a snapshot of a DB much faster than the exact scan,
// with exactly the same answers: the same identities, the same float32 distances, the same
// tie-breaking by insertion order.
//
// It keeps an int8 copy of every row (one scale per row) beside the float32 matrix. A query
// scans the int8 copy with SIMD on all cores, a quarter of the float32 bytes, and bounds each
// row's true distance from the quantized dot product: with q̂ and x̂ the dequantized codes,
//
//	|<q,x> - <q̂,x̂>| <= ||q-q̂||·max||x̂|| + ||q||·max||x-x̂||
//
// Any row whose lower bound exceeds the k-th best upper bound cannot be in the answer; the
// rest (a handful for real data) are re-ranked with the exact float32 distance of WhoIsIt.
// The bounds are rigorous, so the speed never changes an answer.
//
// An Index is safe for concurrent queries. Later changes to the DB are not seen.
type Index struct {
	dim, groups int
	rows        int
	names       []string
	owner       []uint32
	data        []float32
	codes       []uint8   // blocked layout, see kernel.go
	scale       []float32 // per row: code step w, x ≈ w·code
	norm2       []float64 // per row: ||x||²
	maxHat      float64   // max ||x̂|| over rows
	maxErr      float64   // max ||x - x̂|| over rows
	maxNorm2    float64
	workers     int
	kern        kernel
}

// NewIndex builds the search index for db's current contents.
func NewIndex(db *DB) *Index {
	d := db.space.Dim
	rows := len(db.owner)
	ix := &Index{
		dim:     d,
		groups:  (d + groupDims - 1) / groupDims,
		rows:    rows,
		names:   slices.Clone(db.names),
		owner:   db.owner[:rows:rows],
		data:    db.data[: rows*d : rows*d],
		workers: runtime.GOMAXPROCS(0),
		kern:    kernels()[0],
	}
	nblocks := (rows + blockRows - 1) / blockRows
	ix.codes = make([]uint8, nblocks*ix.groups*groupBytes)
	// Padding rows of the last block get code 0, so no kernel sees an out-of-range value.
	for r := rows; r < nblocks*blockRows; r++ {
		for i := range ix.groups * groupDims {
			ix.codes[ix.codeIndex(r, i)] = codeOffset
		}
	}
	ix.scale = make([]float32, rows)
	ix.norm2 = make([]float64, rows)

	type stats struct{ hat, err, norm2 float64 }
	parts := ix.split(nblocks)
	results := make([]stats, len(parts))
	var wg sync.WaitGroup
	for p, span := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s stats
			for r := span[0] * blockRows; r < min(span[1]*blockRows, rows); r++ {
				hat, e, n2 := ix.quantizeRow(r)
				s.hat, s.err, s.norm2 = max(s.hat, hat), max(s.err, e), max(s.norm2, n2)
			}
			results[p] = s
		}()
	}
	wg.Wait()
	for _, s := range results {
		ix.maxHat = max(ix.maxHat, s.hat)
		ix.maxErr = max(ix.maxErr, s.err)
		ix.maxNorm2 = max(ix.maxNorm2, s.norm2)
	}
	return ix
}

// Len is the number of indexed samples.
func (ix *Index) Len() int { return ix.rows }

// split divides nblocks into contiguous spans, one per worker, for cache-friendly scans.
func (ix *Index) split(nblocks int) [][2]int {
	w := max(1, min(ix.workers, nblocks/64))
	spans := make([][2]int, 0, w)
	for i := range w {
		spans = append(spans, [2]int{nblocks * i / w, nblocks * (i + 1) / w})
	}
	return spans
}

// quantizeRow writes row r's codes and scale and returns ||x̂||, ||x-x̂|| and ||x||². How a
// code is rounded does not matter for correctness: the error bound is measured from the codes
// actually stored. The sums run in four lanes, a group's four components each in its own, because
// a million rows spend their time in the adds' dependency chains, not in the arithmetic; the order
// only moves the float64 roundings, which the probe's slack covers many times over. The rows are
// finite (addRows checks), so the largest magnitude is the largest of the float32 bit patterns.
func (ix *Index) quantizeRow(r int) (hat, errNorm, norm2 float64) {
	x := ix.data[r*ix.dim : (r+1)*ix.dim]
	var mbits uint32
	var n0, n1, n2, n3 float64 // scalars, not an array, so they stay in registers
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		mbits = max(mbits, math.Float32bits(v[0])&0x7fffffff, math.Float32bits(v[1])&0x7fffffff,
			math.Float32bits(v[2])&0x7fffffff, math.Float32bits(v[3])&0x7fffffff)
		a, b, c, d := float64(v[0]), float64(v[1]), float64(v[2]), float64(v[3])
		n0, n1, n2, n3 = n0+a*a, n1+b*b, n2+c*c, n3+d*d
	}
	for ; i < len(x); i++ {
		mbits = max(mbits, math.Float32bits(x[i])&0x7fffffff)
		n0 += float64(x[i]) * float64(x[i])
	}
	norm2 = (n0 + n1) + (n2 + n3)
	ix.norm2[r] = norm2
	m := float64(math.Float32frombits(mbits))
	w := float32(m / 127)
	ix.scale[r] = w
	inv := 0.0
	if w > 0 {
		inv = 1 / float64(w)
	}
	w64 := float64(w)
	base := (r/blockRows)*ix.groups*groupBytes + (r%blockRows)*groupDims
	var c2 int64
	var e0, e1, e2, e3 float64
	code := func(v float64) (int32, float64) {
		// Round half away from zero by truncation, and clamp: w may round below m/127.
		c := max(-127, min(127, int32(v*inv+math.Copysign(0.5, v))))
		return c, v - float64(c)*w64
	}
	for g, i := 0, 0; i < len(x); g, i = g+1, i+groupDims {
		dst := ix.codes[base+g*groupBytes : base+g*groupBytes+groupDims : base+g*groupBytes+groupDims]
		if i+4 <= len(x) {
			v := x[i : i+4 : i+4]
			c0, d0 := code(float64(v[0]))
			c1, d1 := code(float64(v[1]))
			cc2, d2 := code(float64(v[2]))
			c3, d3 := code(float64(v[3]))
			dst[0], dst[1], dst[2], dst[3] = uint8(c0+codeOffset), uint8(c1+codeOffset), uint8(cc2+codeOffset), uint8(c3+codeOffset)
			c2 += int64(c0)*int64(c0) + int64(c1)*int64(c1) + int64(cc2)*int64(cc2) + int64(c3)*int64(c3)
			e0, e1, e2, e3 = e0+d0*d0, e1+d1*d1, e2+d2*d2, e3+d3*d3
			continue
		}
		for k := range len(x) - i {
			c, d := code(float64(x[i+k]))
			dst[k] = uint8(c + codeOffset)
			c2 += int64(c) * int64(c)
			e0 += d * d
		}
	}
	// ||x̂||² = w²·Σc², the integer sum exact.
	return math.Sqrt(float64(c2) * w64 * w64), math.Sqrt((e0 + e1) + (e2 + e3)), norm2
}

// codeIndex is where component i of row r lives in the blocked layout of kernel.go.
func (ix *Index) codeIndex(r, i int) int {
	return ((r/blockRows)*ix.groups+i/groupDims)*groupBytes + (r%blockRows)*groupDims + i%groupDims
}

// probe is a query quantized the way the rows are.
type probe struct {
	q            []float32
	qabs, qsign  []int8
	w            float64 // code step
	norm2, slack float64
	// rel bounds the relative error of the reference squared distance against the exact
	// one, whatever order it sums in: float32 differences, up to dim float32 roundings of the
	// sum (as numpy's BLAS), the square root and the final float32 rounding, with room to spare.
	rel float64
}

func (ix *Index) newProbe(q []float32) *probe {
	p := &probe{q: q, qabs: make([]int8, ix.groups*groupBytes), qsign: make([]int8, ix.groups*groupBytes)}
	m := 0.0
	for _, v := range q {
		m = max(m, math.Abs(float64(v)))
		p.norm2 += float64(v) * float64(v)
	}
	p.w = m / 127
	var e2 float64
	for i, v := range q {
		var c float64
		if p.w > 0 {
			c = math.Max(-127, math.Min(127, math.RoundToEven(float64(v)/p.w)))
		}
		e := float64(v) - c*p.w
		e2 += e * e
		g, k := i/groupDims, i%groupDims
		for r := range blockRows {
			p.qsign[g*groupBytes+r*groupDims+k] = int8(c)
			p.qabs[g*groupBytes+r*groupDims+k] = int8(math.Abs(c))
		}
	}
	// Bound on |d² - estimate|: twice the dot-product bound, plus room for float64 rounding
	// in the estimate, plus the absolute error of float32 sums that reach subnormal values.
	dotErr := math.Sqrt(e2)*ix.maxHat + math.Sqrt(p.norm2)*ix.maxErr
	n := float64(ix.dim + 16)
	p.slack = 2*dotErr + 1e-9*(p.norm2+ix.maxNorm2) + n*0x1p-140
	p.rel = n * 0x1p-22
	return p
}

// topList keeps the k smallest upper bounds of distinct identities seen so far: the k-th is a
// bound no answer can exceed.
type topList struct {
	k   int
	ids []uint32
	ubs []float64
}

func (t *topList) limit() float64 {
	if len(t.ubs) < t.k {
		return math.Inf(1)
	}
	return t.ubs[t.k-1]
}

func (t *topList) add(id uint32, ub float64) {
	if i := slices.Index(t.ids, id); i >= 0 {
		if ub >= t.ubs[i] {
			return
		}
		t.ids = slices.Delete(t.ids, i, i+1)
		t.ubs = slices.Delete(t.ubs, i, i+1)
	} else if len(t.ubs) == t.k {
		if ub >= t.ubs[t.k-1] {
			return
		}
		t.ids, t.ubs = t.ids[:t.k-1], t.ubs[:t.k-1]
	}
	i, _ := slices.BinarySearch(t.ubs, ub)
	t.ids = slices.Insert(t.ids, i, id)
	t.ubs = slices.Insert(t.ubs, i, ub)
}

// candidate is a row that survived the prefilter, with its estimated squared distance.
type candidate struct {
	row int
	est float64
}

// bound turns a k-th upper bound into the largest estimate a row may have and still be in
// the answer: a row whose reference distance² is at most limit has an exact distance² at most
// limit/(1-rel), so its estimate is at most that plus slack.
func (p *probe) bound(limit float64) float64 {
	return limit*(1+3*p.rel) + p.slack
}

// upper is the bound on a row's reference distance² given its estimate.
func (p *probe) upper(est float64) float64 {
	return (est + p.slack) * (1 + p.rel)
}

// scan runs the prefilter over blocks [b0, b1) and returns the surviving rows and the
// worker's best-k list.
func (ix *Index) scan(p *probe, k, b0, b1 int) ([]candidate, *topList) {
	const chunkBlocks = 128
	top := &topList{k: k}
	var cands []candidate
	out := make([]int32, chunkBlocks*blockRows)
	limit := math.Inf(1)
	c := 2 * p.w
	for b := b0; b < b1; b += chunkBlocks {
		nb := min(chunkBlocks, b1-b)
		ix.kern.fn(ix.codes[b*ix.groups*groupBytes:], p.qabs, p.qsign, ix.groups, nb, out)
		r0 := b * blockRows
		n := min(nb*blockRows, ix.rows-r0)
		scale, norm2 := ix.scale[r0:r0+n], ix.norm2[r0:r0+n]
		for j, s := range out[:n] {
			est := p.norm2 + norm2[j] - c*float64(scale[j])*float64(s)
			if est > limit {
				continue
			}
			r := r0 + j
			cands = append(cands, candidate{r, est})
			ub := p.upper(est)
			if ub < top.limit() || len(top.ubs) < k {
				top.add(ix.owner[r], ub)
				limit = p.bound(top.limit())
			}
		}
	}
	return cands, top
}

// search returns the k nearest identities, exactly as TopK on the DB would.
func (ix *Index) search(q []float32, k int) []Neighbor {
	p := ix.newProbe(q)
	nblocks := (ix.rows + blockRows - 1) / blockRows
	spans := ix.split(nblocks)
	cands := make([][]candidate, len(spans))
	tops := make([]*topList, len(spans))
	var wg sync.WaitGroup
	for i, s := range spans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cands[i], tops[i] = ix.scan(p, k, s[0], s[1])
		}()
	}
	wg.Wait()
	all := &topList{k: k}
	for _, t := range tops {
		for i, id := range t.ids {
			all.add(id, t.ubs[i])
		}
	}
	limit := p.bound(all.limit())

	// Exact re-ranking: the same distance as the DB's scan, minimum per identity.
	best := map[uint32]float32{}
	for _, cs := range cands {
		for _, c := range cs {
			if c.est > limit {
				continue
			}
			d := vec.Distance32(q, ix.data[c.row*ix.dim:(c.row+1)*ix.dim])
			id := ix.owner[c.row]
			if old, ok := best[id]; !ok || d < old {
				best[id] = d
			}
		}
	}
	ids := make([]uint32, 0, len(best))
	for id := range best {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b uint32) int {
		if best[a] != best[b] {
			if best[a] < best[b] {
				return -1
			}
			return 1
		}
		return int(a) - int(b)
	})
	out := make([]Neighbor, 0, min(k, len(ids)))
	for _, id := range ids[:min(k, len(ids))] {
		out = append(out, Neighbor{Identity: ix.names[id], Distance: best[id]})
	}
	return out
}

func (ix *Index) checkProbe(q []float32) error {
	if len(q) != ix.dim {
		return fmt.Errorf("%w: probe dimension %d, index has %d", ErrModelMismatch, len(q), ix.dim)
	}
	if err := vec.Check(q); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	if ix.rows == 0 {
		return ErrEmptyDatabase
	}
	return nil
}

// WhoIsIt answers as the package-level WhoIsIt on the indexed database.
func (ix *Index) WhoIsIt(encoding []float32, threshold float64) (Match, error) {
	if err := checkThreshold(threshold); err != nil {
		return Match{}, fmt.Errorf("who is it: %w", err)
	}
	if err := ix.checkProbe(encoding); err != nil {
		return Match{}, fmt.Errorf("who is it: %w", err)
	}
	nb := ix.search(encoding, 2)
	best, bestDist, runner, runnerDist := -1, float32(notebookStartDist), -1, float32(notebookStartDist)
	// The notebook's loop never takes a distance of 100 or more.
	if len(nb) > 0 && nb[0].Distance < notebookStartDist {
		best, bestDist = 0, nb[0].Distance
		if len(nb) > 1 && nb[1].Distance < notebookStartDist {
			runner, runnerDist = 1, nb[1].Distance
		}
	}
	names := make([]string, len(nb))
	for i, n := range nb {
		names[i] = n.Identity
	}
	return newMatch(names, best, bestDist, runner, runnerDist, threshold), nil
}

// TopK answers as the package-level TopK on the indexed database.
func (ix *Index) TopK(encoding []float32, k int) ([]Neighbor, error) {
	if k < 1 {
		return nil, fmt.Errorf("top-k: %w (got %d)", ErrInvalidK, k)
	}
	if err := ix.checkProbe(encoding); err != nil {
		return nil, fmt.Errorf("top-k: %w", err)
	}
	return ix.search(encoding, k), nil
}
