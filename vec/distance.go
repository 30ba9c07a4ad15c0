// Package vec is the vector maths under every decision: L2 normalization, distances in numpy's
// own float32 order (so printed digits are the notebook's), cosine conversions and the triplet
// loss. It sits below encoding and verify, which both use it, and imports neither.
package vec

import (
	"errors"
	"fmt"
	"math"
)

// Sentinel errors for bad vectors. Callers branch on them with errors.Is; the wrapped message
// says which row or component was at fault.
var (
	// ErrDimMismatch reports two vectors of different lengths. (A probe or embedding of the
	// wrong length for a database is ErrModelMismatch: it comes from another model.)
	ErrDimMismatch = errors.New("dimension mismatch")
	// ErrEmptyVector reports a vector with no components.
	ErrEmptyVector = errors.New("empty vector")
	// ErrZeroVector reports a vector whose L2 norm is zero, so it has no direction.
	ErrZeroVector = errors.New("zero vector")
	// ErrNonFinite reports a NaN or infinite component, or one so large (|v| > MaxComponent)
	// that float32 differences between two vectors could overflow.
	ErrNonFinite = errors.New("non-finite component")
)

// MaxComponent is the largest magnitude accepted in a vector. Twice it is still a finite
// float32, so the float32 difference q[i]-x[i] that the notebook's distance starts from never
// overflows to infinity.
const MaxComponent = math.MaxFloat32 / 2

// Check rejects what no distance can be computed from: empty, NaN, ±Inf or too large
// (ErrEmptyVector, ErrNonFinite).
func Check(v []float32) error {
	if len(v) == 0 {
		return ErrEmptyVector
	}
	// Comparing the magnitude's bits is one integer compare per component, where the float compare
	// (which must also reject NaN) made a dependency chain 10x slower; NaN and the infinities have
	// larger magnitude bits than any finite float, so the same test catches them.
	limit := math.Float32bits(float32(MaxComponent))
	for i, x := range v {
		if math.Float32bits(x)&0x7fffffff > limit {
			return fmt.Errorf("%w: component %d is %v", ErrNonFinite, i, x)
		}
	}
	return nil
}

func checkPair(a, b []float32) error {
	if len(a) != len(b) {
		return fmt.Errorf("%w: %d vs %d", ErrDimMismatch, len(a), len(b))
	}
	if err := Check(a); err != nil {
		return fmt.Errorf("first vector: %w", err)
	}
	if err := Check(b); err != nil {
		return fmt.Errorf("second vector: %w", err)
	}
	return nil
}

// sqDist is the squared distance accumulated in float64, nearly exact: the difference is
// taken in float32, as numpy subtracts two float32 arrays; its square is exact in float64
// (24-bit by 24-bit mantissas), so only the sum rounds, and that in float64. The decisions use
// Distance32 instead. Inputs must have been checked.
func sqDist(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := float64(a[i] - b[i])
		d1 := float64(a[i+1] - b[i+1])
		d2 := float64(a[i+2] - b[i+2])
		d3 := float64(a[i+3] - b[i+3])
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := float64(a[i] - b[i])
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// Distance32 is the notebook's distance: np.linalg.norm(a - b) on float32 arrays is a numpy
// float32 scalar, and the notebook compares and prints that float32. It is computed in numpy's own
// order (numpyDist32), so the printed digits are the notebook's. Every decision (Verify,
// WhoIsIt, TopK, the Index's re-ranking, Calibrate) goes through it, so the exact scan and the
// fast index return bit-identical distances.
func Distance32(a, b []float32) float32 {
	return numpyDist32(a, b)
}

// SquaredL2Distance returns ||a-b||², accumulated in float64 from float32 differences.
func SquaredL2Distance(a, b []float32) (float64, error) {
	if err := checkPair(a, b); err != nil {
		return 0, fmt.Errorf("squared L2 distance: %w", err)
	}
	return sqDist(a, b), nil
}

// L2Distance returns ||a-b|| as the notebook's np.linalg.norm(encoding - database[identity]),
// accumulated in float64: the exact value to about 1e-16. Verify and WhoIsIt compare and print
// the float32 numpy computes, which agrees with it to about 1e-7.
func L2Distance(a, b []float32) (float64, error) {
	if err := checkPair(a, b); err != nil {
		return 0, fmt.Errorf("L2 distance: %w", err)
	}
	return math.Sqrt(sqDist(a, b)), nil
}

// CosineSimilarity returns a·b / (||a|| ||b||) in float64. A zero vector has no direction, so it
// is an error rather than NaN.
func CosineSimilarity(a, b []float32) (float64, error) {
	if err := checkPair(a, b); err != nil {
		return 0, fmt.Errorf("cosine similarity: %w", err)
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0, fmt.Errorf("cosine similarity: %w", ErrZeroVector)
	}
	c := dot / (math.Sqrt(na) * math.Sqrt(nb))
	// Rounding can push |c| a hair past 1 for parallel vectors; clamp so acos and the
	// conversions below stay defined.
	return math.Max(-1, math.Min(1, c)), nil
}

// L2FromCosine converts the cosine similarity of two unit vectors to their L2 distance:
// ||a-b||² = 2 - 2cos. It is only meaningful for unit vectors.
func L2FromCosine(cos float64) float64 {
	return math.Sqrt(SquaredL2FromCosine(cos))
}

// SquaredL2FromCosine converts the cosine similarity of two unit vectors to their squared L2
// distance, 2 - 2cos, clamped at 0 against rounding.
func SquaredL2FromCosine(cos float64) float64 {
	return math.Max(0, 2-2*cos)
}

// CosineFromL2 converts the L2 distance of two unit vectors to their cosine similarity,
// 1 - d²/2. The notebook's threshold 0.7 is a cosine similarity of 0.755.
func CosineFromL2(dist float64) float64 {
	return 1 - dist*dist/2
}

// Normalize returns v / ||v|| as the notebook's embedding / np.linalg.norm(embedding): the norm
// is accumulated in float64, rounded once to float32, and each component divided in float32,
// as numpy divides a float32 array by a float32 scalar.
func Normalize(v []float32) ([]float32, error) {
	if err := Check(v); err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := float32(math.Sqrt(s))
	if n == 0 {
		return nil, fmt.Errorf("normalize: %w", ErrZeroVector)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x / n
	}
	return out, nil
}

// NormalizeRows normalizes each row by its own norm. The notebook divides a batch by one
// matrix norm (np.linalg.norm of the whole array), which is only right for a batch of one;
// per-row normalization is what every row's embedding needs. All rows must have the same
// length; the error names the first bad row.
func NormalizeRows(rows [][]float32) ([][]float32, error) {
	out := make([][]float32, len(rows))
	for i, r := range rows {
		if len(r) != len(rows[0]) {
			return nil, fmt.Errorf("normalize row %d: %w: %d vs %d", i, ErrDimMismatch, len(r), len(rows[0]))
		}
		n, err := Normalize(r)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
		out[i] = n
	}
	return out, nil
}
