package verify

// The 1:N prefilter computes integer dot products between the probe's int8 codes and every
// row's int8 codes. Row codes are stored offset by 128 as bytes (code+128, 1..255: the form
// the VNNI instruction multiplies) in blocks of blockRows rows, interleaved four components at
// a time, so that one 32-byte load holds components 4g..4g+3 of all eight rows of a block and
// a SIMD kernel needs no horizontal sums:
//
//	block b, group g: byte 32*(b*groups+g) + 4*r + k = 128 + code of row 8b+r, component 4g+k
//
// The probe is laid out to match: for each group, qsign holds its four codes repeated eight
// times, and qabs their absolute values. Every kernel returns the exact integer
// Σ probe code · row code, so which one runs never changes a result.

const (
	blockRows  = 8
	groupDims  = 4
	groupBytes = blockRows * groupDims
	codeOffset = 128
)

// kernelFunc computes out[8b+r] = Σ probe[i]·code[row 8b+r][i] for nblocks blocks.
type kernelFunc func(codes []uint8, qabs, qsign []int8, groups, nblocks int, out []int32)

// kernel is a named kernelFunc, so tests and benchmarks can say which one ran.
type kernel struct {
	name string
	fn   kernelFunc
}

// dotBlocksGeneric is the portable kernel and the reference the SIMD kernels are tested
// against.
func dotBlocksGeneric(codes []uint8, _, qsign []int8, groups, nblocks int, out []int32) {
	for b := range nblocks {
		blk := codes[b*groups*groupBytes : (b+1)*groups*groupBytes]
		var acc [blockRows]int32
		for g := range groups {
			q := qsign[g*groupBytes : g*groupBytes+groupDims]
			c := blk[g*groupBytes : (g+1)*groupBytes]
			for r := range blockRows {
				acc[r] += int32(q[0])*(int32(c[4*r])-codeOffset) + int32(q[1])*(int32(c[4*r+1])-codeOffset) +
					int32(q[2])*(int32(c[4*r+2])-codeOffset) + int32(q[3])*(int32(c[4*r+3])-codeOffset)
			}
		}
		copy(out[b*blockRows:], acc[:])
	}
}
