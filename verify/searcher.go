package verify

// Searcher answers the 1:N questions, who_is_it and the k nearest identities, over one DB. The
// exact scan (WhoIsIt, TopK) and the Index give the same answers; NewSearcher picks between them
// by size, so no caller has to.
type Searcher interface {
	// WhoIsIt is the notebook's who_is_it: the nearest identity, unknown when its distance
	// exceeds threshold.
	WhoIsIt(encoding []float32, threshold float64) (Match, error)
	// TopK lists the k nearest identities, nearest first, ties in insertion order.
	TopK(encoding []float32, k int) ([]Neighbor, error)
}

// IndexMinSamples is the DB size from which NewSearcher builds an Index: below it the exact scan
// answers a probe in well under a millisecond and building the quantized copy is not worth it.
const IndexMinSamples = 50000

// NewSearcher returns the fastest searcher for db's current contents: an Index from
// IndexMinSamples samples, the exact scan below. Later changes to db are seen by the scan but
// not by an Index, so call it again after changing db.
func NewSearcher(db *DB) Searcher {
	if db.NumSamples() >= IndexMinSamples {
		return NewIndex(db)
	}
	return Scan{DB: db}
}

// Scan is the exact search: every sample of DB in insertion order, as the notebook loops.
type Scan struct{ DB *DB }

// WhoIsIt is WhoIsIt over s.DB.
func (s Scan) WhoIsIt(encoding []float32, threshold float64) (Match, error) {
	return WhoIsIt(encoding, s.DB, threshold)
}

// TopK is TopK over s.DB.
func (s Scan) TopK(encoding []float32, k int) ([]Neighbor, error) { return TopK(encoding, s.DB, k) }

var (
	_ Searcher = Scan{}
	_ Searcher = (*Index)(nil)
)
