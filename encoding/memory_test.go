package encoding_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/pillowlibs"
)

// bigCMYKJPEG writes a nearly flat progressive CMYK JPEG of n x n pixels with
// scripts/formats/big_cmyk_jpeg.c, compiled against Pillow's own libjpeg-turbo: issue 16's class 5
// input at n = 13000 (1.56 MB), a small file whose decoder must hold libjpeg's whole-image
// coefficient buffer.
func bigCMYKJPEG(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	lib, err := pillowlibs.Path(pillowlibs.Libjpeg)
	require.NoError(t, err)
	exe := filepath.Join(dir, "big_cmyk_jpeg")
	out, err := exec.Command("cc", "-O2", "-o", exe, filepath.Join("..", "scripts", "formats", "big_cmyk_jpeg.c"), lib,
		"-Wl,-rpath,"+filepath.Dir(lib)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	path := filepath.Join(dir, "cmyk.jpg")
	out, err = exec.Command(exe, path, itoa(n), itoa(n)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return path
}

func itoa(n int) string {
	b := []byte{}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestReliabilityDecodeMemory (issue 16, class 5): a progressive CMYK JPEG decoded for load_img's
// 160x160 NEAREST costs the coefficient rows the kept rows read plus 10 bytes per other block
// (internal/libjpegturbo's sparse arrays; Pillow holds the whole buffer, 2 bytes per sample and
// component) and the rows the resize reads, not the full RGB image and a full CMYK copy beside
// it; concurrent decodes stay within the decode budget. The pixels are those of decoding
// everything and resizing. `make test` runs it at 3000x3000 (coefficient buffer
// 72 MB); `make reliability` (FACENET_LONG) also at the 13000x13000 (1.35 GB).
func TestReliabilityDecodeMemory(t *testing.T) {
	sizes := []int{3000}
	if os.Getenv("FACENET_LONG") != "" {
		sizes = append(sizes, 13000)
	}
	opts := encoding.LoadOptions{Height: 160, Width: 160}
	for _, n := range sizes {
		t.Run(itoa(n), func(t *testing.T) {
			path := bigCMYKJPEG(t, n)
			blocks := int64((n + 7) / 8)
			coef := blocks * blocks * 128 * 4
			const slack = 48 << 20
			var img *encoding.Image
			var err error
			est, err := encoding.LoadEstimate(path, opts)
			require.NoError(t, err)
			single := peakRSSGrowth(t, func() { img, err = encoding.LoadImg(path, opts) })
			require.NoError(t, err)
			t.Logf("%dx%d progressive CMYK, 160x160: peak RSS +%d MiB, estimate %d MiB (the whole coefficient buffer would be %d MiB, the full RGB image %d MiB, a CMYK copy %d MiB)",
				n, n, single>>10, est>>20, coef>>20, 3*int64(n)*int64(n)>>20, 4*int64(n)*int64(n)>>20)
			require.Less(t, single<<10, est+slack, "more than the decode's estimate")
			if n >= 13000 {
				require.Less(t, est, coef/4, "the coefficient rows no kept row reads are packed")
			}

			if n <= 3000 {
				full, err := encoding.DecodeFile(path, encoding.DecodeOptions{})
				require.NoError(t, err)
				want, err := full.ResizeKeras(opts)
				require.NoError(t, err)
				require.Equal(t, want.Pix, img.Pix, "the row-dropping decode differs from decode + resize")
				crop := opts
				crop.KeepAspectRatio = true
				got, err := encoding.LoadImg(path, crop)
				require.NoError(t, err)
				want, err = full.ResizeKeras(crop)
				require.NoError(t, err)
				require.Equal(t, want.Pix, got.Pix, "keep_aspect_ratio")
			}

			if n > 3000 {
				// Two at once with the default budget: the second waits, the peak stays one
				// decode's. (At this size libjpeg's buffers are mmapped and go back to the kernel
				// when freed; smaller ones stay in glibc's arenas, so RSS would not tell.)
				two := peakRSSGrowth(t, func() {
					var wg sync.WaitGroup
					errs := make([]error, 2)
					for i := range errs {
						wg.Add(1)
						go func() {
							defer wg.Done()
							_, errs[i] = encoding.LoadImg(path, opts)
						}()
					}
					wg.Wait()
					require.NoError(t, errs[0])
					require.NoError(t, errs[1])
				})
				t.Logf("two concurrent decodes under the default budget: peak RSS +%d MiB", two>>10)
				require.Less(t, two<<10, 2*est+2*slack, "two decodes held more than two estimates")
			}
		})
	}
}
