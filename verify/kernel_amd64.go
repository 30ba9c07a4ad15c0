//go:build !purego

package verify

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// CPU features, from golang.org/x/sys/cpu, which checks both that the CPU has the instructions and
// that the OS saves the registers they use (XCR0's YMM and ZMM state).
var (
	hasAVX2 = cpu.X86.HasAVX2                                                               // VPMADDUBSW on YMM
	hasVNNI = hasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI // VPDPBUSD on YMM
)

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
