package npsort

/*
#cgo CXXFLAGS: -I${SRCDIR}/../../build/npsort/x86-simd-sort/src -std=c++17 -O3
#include <stddef.h>
#include <stdlib.h>
void fnp_argsort_avx512(double *keys, size_t *arg, size_t n);
void fnp_argsort_avx2(double *keys, size_t *arg, size_t n);
*/
import "C"

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// native is numpy's dispatch: AVX512_SKX needs AVX-512 F, CD, VL, BW and DQ (x/sys/cpu reports them
// only when the OS saves the registers, as numpy's own check does), then AVX2.
func native() ISA {
	switch {
	case Supported(AVX512):
		return AVX512
	case Supported(AVX2):
		return AVX2
	}
	return Scalar
}

// Supported reports whether this CPU can run isa's sort.
func Supported(isa ISA) bool {
	x := cpu.X86
	switch isa {
	case AVX512:
		return x.HasAVX512F && x.HasAVX512CD && x.HasAVX512VL && x.HasAVX512BW && x.HasAVX512DQ
	case AVX2:
		return x.HasAVX2 && x.HasAVX
	}
	return true
}

// simdArgsort sorts idx (0..n-1 on entry) with x86-simd-sort, on a C copy of keys: the C++ reads
// the keys through the index vector, and Go memory must not be handed to C for that long.
func simdArgsort(keys []float64, idx []int, isa ISA) bool {
	n := len(keys)
	k := (*[1 << 40]C.double)(C.malloc(C.size_t(n) * 8))[:n:n]
	a := (*[1 << 40]C.size_t)(C.malloc(C.size_t(n) * 8))[:n:n]
	defer C.free(unsafe.Pointer(&k[0]))
	defer C.free(unsafe.Pointer(&a[0]))
	for i, v := range keys {
		k[i] = C.double(v)
		a[i] = C.size_t(i)
	}
	if isa == AVX512 {
		C.fnp_argsort_avx512(&k[0], &a[0], C.size_t(n))
	} else {
		C.fnp_argsort_avx2(&k[0], &a[0], C.size_t(n))
	}
	for i := range idx {
		idx[i] = int(a[i])
	}
	return true
}
