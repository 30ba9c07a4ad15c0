//go:build !purego

package verify

import "unsafe"

// hasAVX2 is whether the CPU and the OS support AVX2 (the OS must save the YMM registers).
var hasAVX2 = detectAVX2()

func detectAVX2() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state enabled by the OS
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

//go:noescape
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

//go:noescape
func xgetbv() (eax, edx uint32)

// dotBlocksAVX2 is dotBlocksGeneric with VPSIGNB/VPMADDUBSW/VPMADDWD: the probe's absolute
// values are the unsigned operand and the row codes take the probe's signs, so every 16-bit
// pair sum is at most 2·127·127 and cannot saturate.
//
//go:noescape
func dotBlocksAVX2(codes, qabs, qsign *int8, groups, nblocks int, out *int32)

// dotBlocks is the kernel the index uses.
func dotBlocks(codes, qabs, qsign []int8, groups, nblocks int, out []int32) {
	if nblocks == 0 {
		return
	}
	if !hasAVX2 {
		dotBlocksGeneric(codes, qsign, groups, nblocks, out)
		return
	}
	// The assembly trusts these lengths; check them here, where a mistake is a panic
	// with a stack, not memory corruption.
	_ = codes[nblocks*groups*groupBytes-1]
	_ = qabs[groups*groupBytes-1]
	_ = qsign[groups*groupBytes-1]
	_ = out[nblocks*blockRows-1]
	dotBlocksAVX2(unsafe.SliceData(codes), unsafe.SliceData(qabs), unsafe.SliceData(qsign), groups, nblocks, unsafe.SliceData(out))
}
