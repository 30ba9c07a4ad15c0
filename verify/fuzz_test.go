package verify

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzLoad feeds the loader arbitrary bytes. With fixCRC the trailer is recomputed first, so
// the fuzzer also reaches the structural checks behind the checksum. The loader must never
// panic, must fail with one of its sentinel errors, and a file it accepts must re-encode to
// exactly the same bytes.
func FuzzLoad(f *testing.F) {
	good := encode(f, sampleDB(f))
	empty, err := New(Space{Fingerprint: "m", Dim: 1})
	require.NoError(f, err)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/3] ^= 0x10
	for _, seed := range [][]byte{
		good, encode(f, empty), good[:len(good)/2], flipped, good[:len(magic)], nil,
		[]byte("\x89PNG\r\n\x1a\n"),
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, fixCRC bool) {
		if fixCRC && len(data) >= 4 {
			data = withCRC(data)
		}
		db, err := decodeBytes(data)
		if err != nil {
			require.Nil(t, db)
			require.True(t, errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotDatabase) || errors.Is(err, ErrUnsupportedVersion),
				"unexpected error class: %v", err)
			return
		}
		require.Equal(t, data, encode(t, db))
	})
}
