// Package npsort gives numpy 2.0.2's np.argsort (the default kind) of a float64 array, down to the
// order it leaves equal keys in, which numpy does not specify and which differs by CPU.
//
// mtcnn orders boxes with np.argsort of their confidences, and saturated confidences (exactly 1.0)
// are common, so which of two tied boxes non-maximum suppression keeps is decided by that order. numpy
// 2.0.2 picks one of three sorts at run time: x86-simd-sort's AVX-512 argsort on a CPU with
// AVX512_SKX, its AVX2 argsort on a CPU with AVX2, and its own introsort otherwise; each leaves ties
// in a different order (three different permutations of the same tie-heavy arrays on one machine,
// with NPY_DISABLE_CPU_FEATURES). So the Python reference's boxes depend on the CPU, and Go can only
// equal them by doing what numpy does on the same CPU.
//
// The two SIMD sorts are x86-simd-sort itself, the exact headers numpy's sdist vendors, compiled
// here (argsort_*_amd64.cc; `make npsort` puts the headers under build/npsort). The introsort is
// written out below from numpy's quicksort.cpp and npysort_heapsort.h: it is short, has no SIMD,
// and must be numpy's step for step, which no Go library sort is.
package npsort

// ISA is one of the three sorts numpy 2.0.2 dispatches np.argsort of float64 to.
type ISA int

const (
	// Scalar is numpy's own introsort (aquicksort_<npy::double_tag>), used without AVX2.
	Scalar ISA = iota
	// AVX2 is x86-simd-sort's avx2_argsort, numpy's AVX2 dispatch target.
	AVX2
	// AVX512 is x86-simd-sort's avx512_argsort, numpy's AVX512_SKX dispatch target.
	AVX512
)

// String names the ISA as numpy's CPU features do.
func (i ISA) String() string {
	switch i {
	case AVX2:
		return "AVX2"
	case AVX512:
		return "AVX512_SKX"
	default:
		return "baseline"
	}
}

// Native is the sort numpy 2.0.2 picks on this CPU.
var Native = native()

// Argsort returns the permutation np.argsort(keys) returns on this CPU: keys[idx[0]] <=
// keys[idx[1]] <= ..., NaNs last. keys is not modified.
func Argsort(keys []float64) []int {
	return ArgsortISA(keys, Native)
}

// ArgsortISA is Argsort with numpy's sort for isa; an ISA the CPU lacks (see Supported) falls back to
// Scalar rather than fault.
func ArgsortISA(keys []float64, isa ISA) []int {
	n := len(keys)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if n < 2 {
		return idx
	}
	if isa != Scalar && Supported(isa) && simdArgsort(keys, idx, isa) {
		return idx
	}
	aquicksort(keys, idx)
	return idx
}

// less is numpy's DOUBLE_LT: NaN sorts after every number.
func less(a, b float64) bool {
	return a < b || (b != b && a == a)
}

// smallQuicksort and the depth limit are numpy's SMALL_QUICKSORT and npy_get_msb(num) * 2.
const smallQuicksort = 15

func msb(n int) int {
	d := 0
	for n >>= 1; n > 0; n >>= 1 {
		d++
	}
	return d
}

// aquicksort is numpy's aquicksort_ (quicksort.cpp): median-of-three quicksort that pushes the larger
// part, insertion sort below 16 elements, heapsort when the depth limit runs out.
func aquicksort(v []float64, tosort []int) {
	type frame struct{ pl, pr, depth int }
	var stack []frame
	pl, pr := 0, len(tosort)-1
	cdepth := msb(len(tosort)) * 2
	for {
		if cdepth < 0 {
			aheapsort(v, tosort[pl:pr+1])
		} else {
			for pr-pl > smallQuicksort {
				pm := pl + (pr-pl)>>1
				if less(v[tosort[pm]], v[tosort[pl]]) {
					tosort[pm], tosort[pl] = tosort[pl], tosort[pm]
				}
				if less(v[tosort[pr]], v[tosort[pm]]) {
					tosort[pr], tosort[pm] = tosort[pm], tosort[pr]
				}
				if less(v[tosort[pm]], v[tosort[pl]]) {
					tosort[pm], tosort[pl] = tosort[pl], tosort[pm]
				}
				vp := v[tosort[pm]]
				pi, pj := pl, pr-1
				tosort[pm], tosort[pj] = tosort[pj], tosort[pm]
				for {
					for pi++; less(v[tosort[pi]], vp); pi++ {
					}
					for pj--; less(vp, v[tosort[pj]]); pj-- {
					}
					if pi >= pj {
						break
					}
					tosort[pi], tosort[pj] = tosort[pj], tosort[pi]
				}
				pk := pr - 1
				tosort[pi], tosort[pk] = tosort[pk], tosort[pi]
				cdepth--
				if pi-pl < pr-pi {
					stack = append(stack, frame{pi + 1, pr, cdepth})
					pr = pi - 1
				} else {
					stack = append(stack, frame{pl, pi - 1, cdepth})
					pl = pi + 1
				}
			}
			for pi := pl + 1; pi <= pr; pi++ {
				vi := tosort[pi]
				vp := v[vi]
				pj := pi
				for pj > pl && less(vp, v[tosort[pj-1]]) {
					tosort[pj] = tosort[pj-1]
					pj--
				}
				tosort[pj] = vi
			}
		}
		if len(stack) == 0 {
			return
		}
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		pl, pr, cdepth = f.pl, f.pr, f.depth
	}
}

// aheapsort is numpy's aheapsort_ (npysort_heapsort.h), with its one-based indexing kept as a[k-1].
func aheapsort(v []float64, tosort []int) {
	n := len(tosort)
	a := func(k int) *int { return &tosort[k-1] }
	sift := func(l, n int, tmp int) {
		i, j := l, l<<1
		for j <= n {
			if j < n && less(v[*a(j)], v[*a(j + 1)]) {
				j++
			}
			if !less(v[tmp], v[*a(j)]) {
				break
			}
			*a(i) = *a(j)
			i = j
			j += j
		}
		*a(i) = tmp
	}
	for l := n >> 1; l > 0; l-- {
		sift(l, n, *a(l))
	}
	for n > 1 {
		tmp := *a(n)
		*a(n) = *a(1)
		n--
		sift(1, n, tmp)
	}
}
