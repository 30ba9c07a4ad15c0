package libwebp

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Features reads the canvas from the headers alone, the first 30 bytes suffice, and DecodeRGB
// refuses a size other than the canvas.
func TestFeaturesAndDecode(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "formats", "w_anim_48x36.webp"))
	require.NoError(t, err)
	w, h, alpha, err := Features(data)
	require.NoError(t, err)
	require.Equal(t, [2]int{48, 36}, [2]int{w, h})
	require.False(t, alpha)
	_, _, _, err = Features(data[:64])
	require.NoError(t, err)
	_, _, _, err = Features(data[:10])
	require.ErrorIs(t, err, ErrNotEnoughData)

	dst := make([]byte, 3*w*h)
	require.NoError(t, DecodeRGB(data, w, h, dst))
	require.ErrorIs(t, DecodeRGB(data, w, h-1, dst[:3*w*(h-1)]), ErrMismatch)
	require.ErrorIs(t, DecodeRGB(data[:len(data)/2], w, h, dst), ErrNoDecoder)
}
