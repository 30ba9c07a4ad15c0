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

// TestLineEveryDirection draws every line between points of a small grid: each must end (the old
// loop never did for (0,0)-(2,1): calibrate --png hung), set both end points, and have one pixel
// per step of its longer side, each 8-connected to the previous.
func TestLineEveryDirection(t *testing.T) {
	red := color.RGBA{255, 0, 0, 255}
	for x0 := 0; x0 <= 6; x0++ {
		for y0 := 0; y0 <= 6; y0++ {
			for x1 := 0; x1 <= 6; x1++ {
				for y1 := 0; y1 <= 6; y1++ {
					m := image.NewRGBA(image.Rect(0, 0, 7, 7))
					Line(m, x0, y0, x1, y1, red)
					want := max(abs(x1-x0), abs(y1-y0)) + 1
					require.Equal(t, want, count(m, red), "(%d,%d)-(%d,%d)", x0, y0, x1, y1)
					require.Equal(t, red, m.RGBAAt(x0, y0))
					require.Equal(t, red, m.RGBAAt(x1, y1), "(%d,%d)-(%d,%d)", x0, y0, x1, y1)
				}
			}
		}
	}
}
