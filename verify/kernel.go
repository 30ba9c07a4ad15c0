package verify

// The 1:N prefilter computes integer dot products between the probe's int8 codes and every
// row's int8 codes. Codes are stored in blocks of blockRows rows, interleaved four components
// at a time, so that one 32-byte load holds components 4g..4g+3 of all eight rows of a block
// and a SIMD kernel needs no horizontal sums:
//
//	block b, group g: byte 32*(b*groups+g) + 4*r + k = code of row 8b+r, component 4g+k
//
// The probe is laid out to match: for each group, qsign holds its four codes repeated eight
// times, and qabs their absolute values.

const (
	blockRows  = 8
	groupDims  = 4
	groupBytes = blockRows * groupDims
)

// dotBlocksGeneric is the portable kernel: out[8b+r] = Σ probe[i]·code[row 8b+r][i] for
// nblocks blocks. It is the reference the SIMD kernel is tested against.
func dotBlocksGeneric(codes []int8, qsign []int8, groups, nblocks int, out []int32) {
	for b := range nblocks {
		blk := codes[b*groups*groupBytes : (b+1)*groups*groupBytes]
		var acc [blockRows]int32
		for g := range groups {
			q := qsign[g*groupBytes : g*groupBytes+groupDims]
			c := blk[g*groupBytes : (g+1)*groupBytes]
			for r := range blockRows {
				acc[r] += int32(q[0])*int32(c[4*r]) + int32(q[1])*int32(c[4*r+1]) +
					int32(q[2])*int32(c[4*r+2]) + int32(q[3])*int32(c[4*r+3])
			}
		}
		copy(out[b*blockRows:], acc[:])
	}
}
