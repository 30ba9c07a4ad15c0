package encoding

// Hand-written rather than taken from a statistics library because it must equal numpy to the last
// bit: facenet's prewhiten computes np.mean and np.std over the whole uint8 image in float64, and
// np.std's sum of squared deviations is numpy's: its reduction iterator hands the add loop 8192
// elements at a time (NPY_BUFSIZE), and each call adds the pairwise sum of its chunk (blocks of 8
// partial sums, split in halves above 128 elements) to the running total. A plain loop or a Kahan sum
// rounds differently (checked against numpy 2.0 on 153 images by TestGoldenPixelRules).

import "math"

// numpyPairwiseBlock is PW_BLOCKSIZE in numpy's loops_utils.h.
const numpyPairwiseBlock = 128

// numpyBufferSize is NPY_BUFSIZE, the elements a buffered reduction passes to one inner-loop call.
const numpyBufferSize = 8192

// numpySum is np.add.reduce over a contiguous float64 array: 0, then each 8192-element chunk's
// pairwise sum added in order.
func numpySum(a []float64) float64 {
	total := 0.0
	for len(a) > 0 {
		n := min(len(a), numpyBufferSize)
		total += pairwiseSum(a[:n])
		a = a[n:]
	}
	return total
}

// pairwiseSum is numpy's DOUBLE_pairwise_sum over a contiguous float64 array.
func pairwiseSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		res := 0.0
		for _, v := range a {
			res += v
		}
		return res
	case n <= numpyPairwiseBlock:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			r[0] += a[i]
			r[1] += a[i+1]
			r[2] += a[i+2]
			r[3] += a[i+3]
			r[4] += a[i+4]
			r[5] += a[i+5]
			r[6] += a[i+6]
			r[7] += a[i+7]
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += a[i]
		}
		return res
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
	}
}

// prewhitenStats returns facenet's prewhiten mean and divisor for the uint8 values pix:
// mean = np.mean(x), std = np.std(x), std_adj = np.maximum(std, 1.0/np.sqrt(x.size)).
func prewhitenStats(pix []byte) (mean, stdAdj float64) {
	n := len(pix)
	// The float64 sum of at most 2^45 bytes is an integer below 2^53: exact in any order.
	var total uint64
	for _, v := range pix {
		total += uint64(v)
	}
	mean = float64(total) / float64(n)
	var sq [256]float64
	for v := range sq {
		d := float64(v) - mean
		sq[v] = d * d
	}
	dev := make([]float64, n)
	for i, v := range pix {
		dev[i] = sq[v]
	}
	std := math.Sqrt(numpySum(dev) / float64(n))
	return mean, math.Max(std, 1.0/math.Sqrt(float64(n)))
}
