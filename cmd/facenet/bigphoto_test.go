package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/testenv"
)

// bigPhotoPeakMiB is the bound README states for embed --detect on a 100-megapixel photo, measured
// at 1255-1319 MiB on the 2-core test machine (AMD EPYC): TensorFlow's runtime with FaceNet and MTCNN
// loaded (~560 MiB, what embed --detect of a small crop peaks at), the decoded photo (3 bytes a pixel,
// 300 MB, the one part that grows with the photo), and MTCNN on the copy shrunk to 12.6 MP
// (TensorFlow's float32 copy of it, 150 MB, the first pyramid level, 54 MB, and P-Net's activations on
// strips of that level). It was 1426-1461 MiB while the export held every FaceNet weight twice, and
// 1.98-2.12 GiB while Go kept its own float32 copy alive beside TensorFlow's and P-Net ran on whole
// levels (~600 MB of activations on the first).
const bigPhotoPeakMiB = 1536

// TestBigPhotoBoundedMemory: a 100-megapixel photo (11547x8660, madonna's 218x218 photo pasted at
// 4x) goes through embed --detect in a child process: the face is found where it was pasted, at
// full-resolution coordinates, and the child's peak resident set stays under bigPhotoPeakMiB.
func TestBigPhotoBoundedMemory(t *testing.T) {
	model := testenv.Model(t, "facenet-keras")
	face, err := encoding.DecodeFile(filepath.Join(testenv.ModuleRoot(t), "build/celeb5", detectPhoto), encoding.DecodeOptions{})
	require.NoError(t, err)
	const W, H, zoom, ox, oy = 11547, 8660, 4, 3000, 2000
	big := image.NewYCbCr(image.Rect(0, 0, W, H), image.YCbCrSubsampleRatio420)
	for i := range big.Y {
		big.Y[i] = 128
	}
	for i := range big.Cb {
		big.Cb[i], big.Cr[i] = 128, 128
	}
	for y := 0; y < face.Height*zoom; y++ {
		for x := 0; x < face.Width*zoom; x++ {
			o := ((y/zoom)*face.Width + x/zoom) * 3
			yy, cb, cr := color.RGBToYCbCr(face.Pix[o], face.Pix[o+1], face.Pix[o+2])
			big.Y[big.YOffset(ox+x, oy+y)] = yy
			c := big.COffset(ox+x, oy+y)
			big.Cb[c], big.Cr[c] = cb, cr
		}
	}
	path := filepath.Join(t.TempDir(), "big.jpg")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, jpeg.Encode(f, big, &jpeg.Options{Quality: 90}))
	require.NoError(t, f.Close())
	big = nil

	cmd := exec.Command(os.Args[0], "embed", "--model", model, "--detect", path)
	hwm := filepath.Join(t.TempDir(), "hwm")
	cmd.Env = append(os.Environ(), rbCLIEnv+"=1", rbHWMEnv+"="+hwm)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	raw, err := os.ReadFile(hwm)
	require.NoError(t, err)
	peakKiB, err := strconv.ParseInt(string(raw), 10, 64)
	require.NoError(t, err)

	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 1, "one face: %s", stdout.String())
	var got [4]int
	_, err = fmt.Sscanf(strings.TrimPrefix(lines[0], path), " [%d %d %d %d]:", &got[0], &got[1], &got[2], &got[3])
	require.NoError(t, err, lines[0])
	require.Len(t, strings.Fields(lines[0]), 4+1+128, "the label, then 128 numbers")
	// madonna's box in her photo is [57 63 78 108]; at 4x, pasted at (3000, 2000). The shrunk
	// detection and the upscale move it by a few pixels.
	want := [4]int{ox + 57*zoom, oy + 63*zoom, 78 * zoom, 108 * zoom}
	for i := range want {
		require.InDelta(t, want[i], got[i], 0.06*float64(want[2]), "box %v, want about %v", got, want)
	}
	t.Logf("100 MP photo: box %v (pasted at about %v), child peak RSS %d MiB (bound %d MiB)", got, want, peakKiB>>10, bigPhotoPeakMiB)
	require.Less(t, peakKiB>>10, int64(bigPhotoPeakMiB))
}
