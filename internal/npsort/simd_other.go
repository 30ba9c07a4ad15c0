//go:build !amd64

package npsort

// numpy's SIMD sorts are x86 only: elsewhere numpy runs its introsort, and so does Argsort.
func native() ISA { return Scalar }

// Supported reports whether this CPU can run isa's sort: only Scalar off x86-64.
func Supported(isa ISA) bool { return isa == Scalar }

func simdArgsort([]float64, []int, ISA) bool { return false }
