//go:build !amd64 || purego

package verify

// kernels lists the kernels this platform can run: the portable one.
func kernels() []kernel {
	return []kernel{{"generic", dotBlocksGeneric}}
}
