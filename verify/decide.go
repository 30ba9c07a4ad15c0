package verify

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/facenet-go/facenet/vec"
)

// NotebookThreshold is the notebook's decision threshold on the L2 distance between unit
// embeddings.
const NotebookThreshold = 0.7

// notebookStartDist is who_is_it's initial min_dist: an identity farther than this is never
// found, whatever the threshold.
const notebookStartDist = 100

// ErrInvalidThreshold reports a NaN, infinite or negative threshold.
var ErrInvalidThreshold = errors.New("invalid threshold")

// ErrInvalidK reports a TopK query for fewer than one neighbour.
var ErrInvalidK = errors.New("k must be at least 1")

func checkThreshold(t float64) error {
	if !(t >= 0) || math.IsInf(t, 1) {
		return fmt.Errorf("%w: %v", ErrInvalidThreshold, t)
	}
	return nil
}

// Decision is the result of Verify.
type Decision struct {
	Identity  string  `json:"identity"` // the claimed identity
	Distance  float32 `json:"distance"` // distance to its nearest sample, the notebook's float32
	Threshold float64 `json:"threshold"`
	Accepted  bool    `json:"accepted"` // Distance < Threshold, strictly, as the notebook's verify
}

// Message is the notebook's printed sentence: "It's younes, welcome in!" or
// "It's not kian, please go away".
func (d Decision) Message() string { return VerifyMessage(d.Identity, d.Accepted) }

// Verify is the notebook's verify: the door opens when the probe's distance to the claimed
// identity is strictly below threshold. With several samples, the nearest one counts.
// The distance is rounded to float32 before the comparison, as numpy's float32 scalar is
// compared with the Python float 0.7.
func Verify(encoding []float32, identity string, db *DB, threshold float64) (Decision, error) {
	if err := checkThreshold(threshold); err != nil {
		return Decision{}, fmt.Errorf("verify: %w", err)
	}
	if err := db.checkProbe(encoding); err != nil {
		return Decision{}, fmt.Errorf("verify: %w", err)
	}
	id, ok := db.index[identity]
	if !ok {
		return Decision{}, fmt.Errorf("verify %q: %w", identity, ErrUnknownIdentity)
	}
	best := float32(math.Inf(1))
	for r, o := range db.owner {
		if int(o) == id {
			best = min(best, vec.Distance32(encoding, db.row(r)))
		}
	}
	return Decision{
		Identity:  identity,
		Distance:  best,
		Threshold: threshold,
		Accepted:  float64(best) < threshold,
	}, nil
}

// checkProbe validates a probe against the database's space.
func (db *DB) checkProbe(encoding []float32) error {
	if len(encoding) != db.space.Dim {
		return fmt.Errorf("%w: probe dimension %d, database has %d", ErrModelMismatch, len(encoding), db.space.Dim)
	}
	if err := vec.Check(encoding); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	return nil
}

// Neighbor is an identity and its distance to a probe (to its nearest sample).
type Neighbor struct {
	Identity string  `json:"identity"`
	Distance float32 `json:"distance"`
}

// Match is the result of WhoIsIt.
type Match struct {
	// Identity is the nearest identity, the first in insertion order on a tie. It is empty
	// only when no identity is nearer than 100, the notebook's starting min_dist.
	Identity string `json:"identity"`
	// Distance is Identity's distance (100 when Identity is empty).
	Distance  float32 `json:"distance"`
	Threshold float64 `json:"threshold"`
	// Known is the notebook's decision: an identity was found and Distance > Threshold is
	// false, so a distance of exactly the threshold is known here but rejected by Verify.
	Known bool `json:"known"`
	// RunnerUp is the second-nearest identity ("" with fewer than two identities nearer
	// than 100) and RunnerUpDistance its distance.
	RunnerUp         string  `json:"runner_up"`
	RunnerUpDistance float32 `json:"runner_up_distance"`
	// Margin is RunnerUpDistance - Distance, 0 without a runner-up. A small margin means the
	// decision between the two could flip with a slightly different photo.
	Margin float64 `json:"margin"`
}

// Message is the notebook's printed sentence: "it's younes, the distance is 0.5992949" or
// "Not in the database.".
func (m Match) Message() string { return WhoIsItMessage(m.Identity, m.Distance, m.Known) }

// newMatch builds a Match from the best and runner-up identities (-1 for none).
func newMatch(names []string, best int, bestDist float32, runner int, runnerDist float32, threshold float64) Match {
	m := Match{Distance: bestDist, Threshold: threshold, RunnerUpDistance: runnerDist}
	if best >= 0 {
		m.Identity = names[best]
		m.Known = !(float64(bestDist) > threshold)
	}
	if runner >= 0 {
		m.RunnerUp = names[runner]
		m.Margin = float64(runnerDist) - float64(bestDist)
	} else {
		m.RunnerUpDistance = 0
	}
	return m
}

// identityDistances returns each identity's distance (to its nearest sample), by identity.
func (db *DB) identityDistances(encoding []float32) []float32 {
	dists := make([]float32, len(db.names))
	for i := range dists {
		dists[i] = float32(math.Inf(1))
	}
	for r, o := range db.owner {
		dists[o] = min(dists[o], vec.Distance32(encoding, db.row(r)))
	}
	return dists
}

// WhoIsIt is the notebook's who_is_it, the reference semantics for every 1:N search: min_dist
// starts at 100, the identities are visited in insertion order and the minimum is updated on
// a strictly smaller distance, so a tie keeps the first identity; the result is unknown when
// min_dist > threshold. It scans every sample; Index gives the same answers faster.
func WhoIsIt(encoding []float32, db *DB, threshold float64) (Match, error) {
	if err := checkThreshold(threshold); err != nil {
		return Match{}, fmt.Errorf("who is it: %w", err)
	}
	if err := db.checkProbe(encoding); err != nil {
		return Match{}, fmt.Errorf("who is it: %w", err)
	}
	if len(db.names) == 0 {
		return Match{}, fmt.Errorf("who is it: %w", ErrEmptyDatabase)
	}
	minDist, best := float32(notebookStartDist), -1
	runnerDist, runner := float32(notebookStartDist), -1
	for id, d := range db.identityDistances(encoding) {
		if d < minDist {
			runner, runnerDist = best, minDist
			best, minDist = id, d
		} else if d < runnerDist {
			runner, runnerDist = id, d
		}
	}
	return newMatch(db.names, best, minDist, runner, runnerDist, threshold), nil
}

// TopK returns the k identities nearest to encoding (fewer if the database holds fewer),
// nearest first, ties in insertion order. Unlike WhoIsIt it has no 100 cap.
func TopK(encoding []float32, db *DB, k int) ([]Neighbor, error) {
	if k < 1 {
		return nil, fmt.Errorf("top-k: %w (got %d)", ErrInvalidK, k)
	}
	if err := db.checkProbe(encoding); err != nil {
		return nil, fmt.Errorf("top-k: %w", err)
	}
	if len(db.names) == 0 {
		return nil, fmt.Errorf("top-k: %w", ErrEmptyDatabase)
	}
	dists := db.identityDistances(encoding)
	order := make([]int, len(dists))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return dists[order[a]] < dists[order[b]] })
	out := make([]Neighbor, 0, min(k, len(order)))
	for _, id := range order[:min(k, len(order))] {
		out = append(out, Neighbor{Identity: db.names[id], Distance: dists[id]})
	}
	return out, nil
}
