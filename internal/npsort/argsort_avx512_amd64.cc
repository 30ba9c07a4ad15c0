// numpy 2.0.2's np.argsort of float64 on a CPU with AVX512_SKX (AVX-512 F, CD, VL, BW, DQ): the x86-simd-sort
// headers numpy's sdist vendors (build/npsort, mk/npsort.mk), included in the order numpy's
// x86simdsort-static-incl.h includes them and compiled for the instruction set numpy's dispatch
// target has, so the permutation, ties included, is numpy's own.
//
// The standard headers come first, before the target pragma, so library code stays baseline x86-64;
// every x86-simd-sort function is static inline (internal linkage), so nothing compiled for this
// target can be picked by the linker for another file: fnp_argsort_avx512 is the only external symbol,
// and Go calls it only when the CPU has the instruction set.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512cd,avx512vl,avx512bw,avx512dq,avx2,fma,f16c")
#include "xss-common-includes.h"
#include "xss-common-qsort.h"
#include "xss-common-argsort.h"
#include "xss-common-keyvaluesort.hpp"
#include "avx512-32bit-qsort.hpp"
#include "avx512-64bit-qsort.hpp"
#include "avx512-64bit-argsort.hpp"

extern "C" void fnp_argsort_avx512(double *keys, size_t *arg, size_t n) {
	// numpy calls x86simdsortStatic::argsort(arr, arg, size, hasnan=true), which is this.
	avx512_argsort<double>(keys, arg, n, true, false);
}
#pragma GCC pop_options
