package detect

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
)

// BenchmarkDetect times Detect on each 5-celebrity photo of the golden file (decoded beforehand), one
// sub-benchmark per photo, and all of them in turn ("all", reported per photo). make bench-detect runs
// it with the Python package on the same photos for a ratio.
func BenchmarkDetect(b *testing.B) {
	d := detector(b)
	cases := readGolden(b)
	var imgs []*encoding.Image
	var names []string
	for _, c := range cases {
		if c.Root == "photos" {
			imgs = append(imgs, loadCase(b, cases, c))
			names = append(names, c.File)
		}
	}
	require.NotEmpty(b, imgs, "make golden-detect lists the photos")
	ctx := context.Background()
	b.Run("all", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, img := range imgs {
				if _, err := d.Detect(ctx, img); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(imgs))/1e6, "ms/photo")
	})
	for i, img := range imgs {
		b.Run(names[i], func(b *testing.B) {
			for j := 0; j < b.N; j++ {
				if _, err := d.Detect(ctx, img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
