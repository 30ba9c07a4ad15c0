package encoding

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMappedFileShrinks: a large PNG is mapped, not read; when another process truncates it
// while it is decoded, the pages past the new end fault. That must come back as ErrTruncated
// naming the file, not crash the process. Without the truncation the same file decodes.
func TestMappedFileShrinks(t *testing.T) {
	const w, h = 4000, 1000
	var raw bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&raw, zlib.BestCompression)
	row := make([]byte, 1+3*w)
	for y := 0; y < h; y++ {
		row[1+y%(3*w)] = byte(y) // a little content, so the stream spans many pages
		_, _ = zw.Write(row)
	}
	require.NoError(t, zw.Close())
	chunk := func(id string, data []byte) []byte {
		out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		out = append(append(out, id...), data...)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(id), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	file := append(append(append(append([]byte{}, pngSignature...), chunk("IHDR", append(ihdr, 8, 2, 0, 0, 0))...),
		chunk("IDAT", raw.Bytes())...), chunk("IEND", nil)...)
	require.Greater(t, len(file), 3*4096, "the compressed rows must reach past the page kept")

	path := filepath.Join(t.TempDir(), "big.png")
	write := func() {
		require.NoError(t, os.WriteFile(path, file, 0o644))
		require.NoError(t, os.Truncate(path, mapBytes+1<<20)) // holes after IEND, never read
	}
	write()
	img, err := DecodeFile(path, DecodeOptions{})
	require.NoError(t, err)
	require.Equal(t, [2]int{w, h}, [2]int{img.Width, img.Height})

	write()
	testHookMapped = func(p string) { require.NoError(t, os.Truncate(p, 1000)) }
	defer func() { testHookMapped = nil }()
	_, err = DecodeFile(path, DecodeOptions{})
	require.ErrorIs(t, err, ErrTruncated)
	require.Contains(t, err.Error(), path)
	require.Contains(t, err.Error(), "shrank")
}
