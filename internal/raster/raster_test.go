package raster

import (
	"image"
	"image/color"
	"testing"

	"github.com/stretchr/testify/require"
)

func count(img *image.RGBA, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.RGBAAt(x, y) == c {
				n++
			}
		}
	}
	return n
}

func TestDrawing(t *testing.T) {
	red := color.RGBA{255, 0, 0, 255}
	tests := []struct {
		name string
		draw func(*image.RGBA)
		want int
	}{
		{"fill is clipped", func(m *image.RGBA) { Fill(m, image.Rect(-5, -5, 3, 2), red) }, 6},
		{"frame", func(m *image.RGBA) { Frame(m, image.Rect(0, 0, 6, 6), red) }, 32},
		{"diagonal line", func(m *image.RGBA) { Line(m, 0, 0, 9, 9, red) }, 10},
		{"text: I is 5+1+1+1+1+1+5 pixels", func(m *image.RGBA) { Text(m, 0, 0, "I", red) }, 3 + 1 + 1 + 1 + 1 + 1 + 3},
		{"text: lower case as upper, unknown as blank", func(m *image.RGBA) { Text(m, 0, 0, "i~", red) }, 11},
		{"underscore", func(m *image.RGBA) { Text(m, 0, 0, "_", red) }, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := image.NewRGBA(image.Rect(0, 0, 10, 10))
			tc.draw(m)
			require.Equal(t, tc.want, count(m, red))
		})
	}
}
