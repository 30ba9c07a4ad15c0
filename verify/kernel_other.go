//go:build !amd64 || purego

package verify

const hasAVX2 = false

// dotBlocks is the kernel the index uses: the portable one on this platform.
func dotBlocks(codes, qabs, qsign []int8, groups, nblocks int, out []int32) {
	dotBlocksGeneric(codes, qsign, groups, nblocks, out)
}
