package detect

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
)

// BenchmarkDetect times Detect on each 5-celebrity photo of the golden file (decoded beforehand), one
// sub-benchmark per photo, all of them in turn ("all", reported per photo), and the 1728x864 mosaic
// of 18 faces (mosaic_x3), the size of a phone photo. make bench-detect runs
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
	for _, c := range cases {
		if c.Root == "synthetic" && c.File == "mosaic_x3" {
			imgs = append(imgs, loadCase(b, cases, c))
			names = append(names, "mosaic_x3")
		}
	}
	photos := len(names) - 1
	ctx := context.Background()
	b.Run("all", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, img := range imgs[:photos] {
				if _, err := d.Detect(ctx, img); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*photos)/1e6, "ms/photo")
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
