//go:build !purego

package verify

import "unsafe"

// CPU features, checked once: the CPU must have the instructions and the OS must save the
// registers they use.
var (
	hasAVX2 bool // VPMADDUBSW on YMM
	hasVNNI bool // AVX-512 VNNI + VL: VPDPBUSD on YMM
)

func init() {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return
	}
	xcr0, _ := xgetbv()
	_, ebx7, ecx7, _ := cpuid(7, 0)
	const xmmYmm, avx512State = 0x6, 0xe0 // XMM+YMM; opmask, ZMM upper halves, ZMM16-31
	hasAVX2 = xcr0&xmmYmm == xmmYmm && ebx7&(1<<5) != 0
	const avx512f, avx512vl, avx512vnni = 1 << 16, 1 << 31, 1 << 11
	hasVNNI = hasAVX2 && xcr0&avx512State == avx512State &&
		ebx7&avx512f != 0 && ebx7&avx512vl != 0 && ecx7&avx512vnni != 0
}

//go:noescape
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

//go:noescape
func xgetbv() (eax, edx uint32)

// dotBlocksAVX2Asm: the row codes lose their offset (XOR 0x80), take the probe's signs
// (VPSIGNB), and meet the probe's absolute values in VPMADDUBSW, so every 16-bit pair sum
// is at most 2·127·127 and cannot saturate; VPMADDWD widens to 32 bits.
//
//go:noescape
func dotBlocksAVX2Asm(codes *uint8, qabs, qsign *int8, groups, nblocks int, out *int32)

// dotBlocksVNNIAsm: VPDPBUSD multiplies the offset row codes (unsigned) by the probe codes
// (signed) and sums four products into 32 bits in one instruction, at memory speed; bias =
// 128·Σ probe codes removes the offset.
//
//go:noescape
func dotBlocksVNNIAsm(codes *uint8, qsign *int8, groups, nblocks int, bias int32, out *int32)

// checkKernelArgs keeps the assembly's trust in its lengths honest: a mistake is a Go panic
// with a stack, not memory corruption.
func checkKernelArgs(codes []uint8, qabs, qsign []int8, groups, nblocks int, out []int32) {
	_ = codes[nblocks*groups*groupBytes-1]
	_ = qabs[groups*groupBytes-1]
	_ = qsign[groups*groupBytes-1]
	_ = out[nblocks*blockRows-1]
}

func dotBlocksAVX2(codes []uint8, qabs, qsign []int8, groups, nblocks int, out []int32) {
	if nblocks == 0 {
		return
	}
	checkKernelArgs(codes, qabs, qsign, groups, nblocks, out)
	dotBlocksAVX2Asm(unsafe.SliceData(codes), unsafe.SliceData(qabs), unsafe.SliceData(qsign), groups, nblocks, unsafe.SliceData(out))
}

func dotBlocksVNNI(codes []uint8, qabs, qsign []int8, groups, nblocks int, out []int32) {
	if nblocks == 0 {
		return
	}
	checkKernelArgs(codes, qabs, qsign, groups, nblocks, out)
	var sum int32
	for g := range groups {
		for k := range groupDims {
			sum += int32(qsign[g*groupBytes+k])
		}
	}
	dotBlocksVNNIAsm(unsafe.SliceData(codes), unsafe.SliceData(qsign), groups, nblocks, codeOffset*sum, unsafe.SliceData(out))
}

// kernels lists the kernels this CPU can run, fastest first.
func kernels() []kernel {
	var ks []kernel
	if hasVNNI {
		ks = append(ks, kernel{"avx512vnni", dotBlocksVNNI})
	}
	if hasAVX2 {
		ks = append(ks, kernel{"avx2", dotBlocksAVX2})
	}
	return append(ks, kernel{"generic", dotBlocksGeneric})
}
