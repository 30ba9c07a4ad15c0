package vec

import "math"

// numpyDist32 is the notebook's np.linalg.norm(encoding - database[identity]) on float32 vectors, to
// the last bit: numpy subtracts in float32, takes the dot product of the difference with itself through
// OpenBLAS's sdot, and rounds sqrt to float32. The sum's order decides the last bit of about one
// distance in six, and that bit shows in the notebook's printed distance ("0.49224252"), so this
// follows the order of OpenBLAS's Haswell/Zen sdot kernel, the one numpy's wheel runs on this project's
// machines (AMD Zen, and wherever OPENBLAS_CORETYPE=Haswell): for the largest multiple of 32 elements,
// four 8-lane float32 accumulators updated by fused multiply-add, folded high half onto low half, the
// four added pairwise, then two horizontal adds; the remaining elements are added in float64 and the
// total rounded to float32. Other kernels (AVX-512 on Skylake-X) order the sum differently, so there
// numpy itself prints other last digits.
func numpyDist32(a, b []float32) float32 {
	n := len(a)
	n1 := n &^ 31
	var acc [4][8]float32
	for j := 0; j < n1; j += 32 {
		for k := 0; k < 4; k++ {
			for l := 0; l < 8; l++ {
				d := a[j+8*k+l] - b[j+8*k+l]
				acc[k][l] = fma32(d, d, acc[k][l])
			}
		}
	}
	var x [4][4]float32
	for k := 0; k < 4; k++ {
		for l := 0; l < 4; l++ {
			x[k][l] = acc[k][l] + acc[k][l+4] // vextractf128 + vaddps
		}
	}
	var s [4]float32
	for l := 0; l < 4; l++ {
		s[l] = (x[0][l] + x[1][l]) + (x[2][l] + x[3][l])
	}
	mydot := (s[0] + s[1]) + (s[2] + s[3]) // vhaddps twice
	var dot float64
	for i := n1; i < n; i++ {
		d := a[i] - b[i]
		dot += float64(d * d)
	}
	dot += float64(mydot)
	d := float32(math.Sqrt(float64(float32(dot))))
	if d == 0 || math.IsInf(float64(d), 1) {
		// float32 squares overflow past |a-b| ~ 1.8e19 and underflow below ~1e-23, where numpy says inf
		// or 0. No embedding gets there; the exact distance keeps such vectors ordered instead of tied.
		return float32(math.Sqrt(sqDist(a, b)))
	}
	return d
}

// fma32 is a float32 fused multiply-add. The product of two float32 is exact in float64, so only the
// final addition rounds twice (to float64, then float32), which can differ from one rounding only when
// the float64 sum lands exactly halfway between two float32 values: rare enough to ignore here.
func fma32(x, y, z float32) float32 {
	return float32(float64(x)*float64(y) + float64(z))
}
