package verify

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
)

// Plot colours.
var (
	colBackground = color.RGBA{255, 255, 255, 255}
	colAxis       = color.RGBA{0, 0, 0, 255}
	colGrid       = color.RGBA{225, 225, 225, 255}
	colGenuine    = color.RGBA{30, 150, 60, 255}
	colImpostor   = color.RGBA{200, 40, 40, 255}
	colThreshold  = color.RGBA{30, 60, 200, 255}
	colROC        = color.RGBA{30, 60, 200, 255}
)

const (
	plotW, plotH = 960, 420
	panelTop     = 50
	panelBottom  = 360
	histLeft     = 60
	histRight    = 450
	rocLeft      = 560
	rocRight     = 870 // square ROC panel: 310 x 310
	histBins     = 80
)

// WritePNG draws the calibration as a PNG: on the left the histograms of genuine (green) and
// impostor (red) distances, each scaled to its own peak so both shapes show, with the chosen
// threshold in blue; on the right the ROC curve (TPR against FPR) with its EER point.
func (c *Calibration) WritePNG(w io.Writer) error {
	img := image.NewRGBA(image.Rect(0, 0, plotW, plotH))
	fill(img, img.Bounds(), colBackground)
	c.drawHistograms(img)
	c.drawROC(img)
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("calibration plot: %w", err)
	}
	return nil
}

func (c *Calibration) drawHistograms(img *image.RGBA) {
	xmax := 2.0
	if n := len(c.Impostor); n > 0 {
		xmax = max(xmax, c.Impostor[n-1])
	}
	if n := len(c.Genuine); n > 0 {
		xmax = max(xmax, c.Genuine[n-1])
	}
	xmax = math.Ceil(xmax*2) / 2
	px := func(d float64) int { return histLeft + int(math.Round(d/xmax*float64(histRight-histLeft))) }

	for t := 0.0; t <= xmax+1e-9; t += 0.5 {
		x := px(t)
		vline(img, x, panelTop, panelBottom, colGrid)
		drawText(img, x-len(fmt.Sprintf("%.1f", t))*3, panelBottom+8, fmt.Sprintf("%.1f", t), colAxis)
	}
	for _, set := range []struct {
		d   []float64
		col color.RGBA
	}{{c.Impostor, colImpostor}, {c.Genuine, colGenuine}} {
		var bins [histBins]int
		peak := 0
		for _, d := range set.d {
			b := min(histBins-1, int(d/xmax*histBins))
			bins[b]++
			peak = max(peak, bins[b])
		}
		if peak == 0 {
			continue
		}
		for b, n := range bins {
			if n == 0 {
				continue
			}
			h := int(math.Round(float64(n) / float64(peak) * float64(panelBottom-panelTop-20)))
			x0 := histLeft + b*(histRight-histLeft)/histBins
			x1 := histLeft + (b+1)*(histRight-histLeft)/histBins
			blend(img, image.Rect(x0, panelBottom-h, x1, panelBottom), set.col)
		}
	}
	x := px(c.Threshold)
	for y := panelTop; y < panelBottom; y += 6 { // dashed
		vline(img, x, y, min(y+4, panelBottom), colThreshold)
	}
	hline(img, histLeft, histRight, panelBottom, colAxis)
	vline(img, histLeft, panelTop, panelBottom, colAxis)
	drawText(img, histLeft, 12, "DISTANCE HISTOGRAMS", colAxis)
	drawText(img, histLeft, 28, fmt.Sprintf("GENUINE %d", len(c.Genuine)), colGenuine)
	drawText(img, histLeft+120, 28, fmt.Sprintf("IMPOSTOR %d", len(c.Impostor)), colImpostor)
	drawText(img, histLeft+250, 28, fmt.Sprintf("THRESHOLD %.3f", c.Threshold), colThreshold)
	drawText(img, (histLeft+histRight)/2-24, panelBottom+24, "L2 DISTANCE", colAxis)
}

func (c *Calibration) drawROC(img *image.RGBA) {
	size := float64(rocRight - rocLeft)
	pt := func(fpr, tpr float64) (int, int) {
		return rocLeft + int(math.Round(fpr*size)), panelBottom - int(math.Round(tpr*size))
	}
	for _, v := range []float64{0, 0.5, 1} {
		x, y := pt(v, v)
		vline(img, x, panelBottom-int(size), panelBottom, colGrid)
		hline(img, rocLeft, rocRight, y, colGrid)
		l := fmt.Sprintf("%.1f", v)
		drawText(img, x-len(l)*3, panelBottom+8, l, colAxis)
		drawText(img, rocLeft-8-len(l)*6, y-3, l, colAxis)
	}
	x0, y0 := pt(0, 0)
	x1, y1 := pt(1, 1)
	line(img, x0, y0, x1, y1, colGrid) // chance
	// The grid runs from accept-nothing to accept-everything: walk it from (0,0).
	px, py := pt(c.FPR[0], c.TPR[0])
	for i := 1; i < len(c.FPR); i++ {
		x, y := pt(c.FPR[i], c.TPR[i])
		line(img, px, py, x, y, colROC)
		line(img, px, py-1, x, y-1, colROC) // two pixels wide
		px, py = x, y
	}
	ex, ey := pt(c.EER, 1-c.EER)
	fill(img, image.Rect(ex-3, ey-3, ex+4, ey+4), colImpostor)
	hline(img, rocLeft, rocRight, panelBottom, colAxis)
	vline(img, rocLeft, panelBottom-int(size), panelBottom, colAxis)
	drawText(img, rocLeft, 12, "ROC", colAxis)
	drawText(img, rocLeft, 28, fmt.Sprintf("AUC %.4f  EER %.4f", c.AUC, c.EER), colAxis)
	drawText(img, (rocLeft+rocRight)/2-48, panelBottom+24, "FALSE ACCEPT RATE", colAxis)
	drawText(img, rocRight+12, panelBottom-int(size)/2, "TAR", colAxis)
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// blend paints c at half opacity, so overlapping histograms both stay visible.
func blend(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			o := img.RGBAAt(x, y)
			img.SetRGBA(x, y, color.RGBA{uint8((int(o.R) + int(c.R)) / 2), uint8((int(o.G) + int(c.G)) / 2), uint8((int(o.B) + int(c.B)) / 2), 255})
		}
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) { fill(img, image.Rect(x0, y, x1+1, y+1), c) }
func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) { fill(img, image.Rect(x, y0, x+1, y1+1), c) }

// line draws with Bresenham's algorithm.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		if (image.Point{x0, y0}).In(img.Bounds()) {
			img.SetRGBA(x0, y0, c)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		if 2*e >= dy {
			e += dy
			x0 += sx
		}
		if 2*e <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// drawText writes s in the built-in 5x7 font, one 6-pixel cell per character, with (x, y)
// the top left corner. Lower case is drawn as upper case; unknown characters as blanks.
func drawText(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for _, r := range s {
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		g := font5x7[r]
		for row, bits := range g {
			for col := range 5 {
				if bits&(0x10>>col) != 0 {
					fill(img, image.Rect(x+col, y+row, x+col+1, y+row+1), c)
				}
			}
		}
		x += 6
	}
}

// font5x7 holds the glyphs the plot labels need; each row's five low bits are its pixels,
// the leftmost in bit 4.
var font5x7 = map[rune][7]uint8{
	'0': {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E},
	'1': {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
	'2': {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},
	'3': {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
	'4': {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02},
	'5': {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
	'6': {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E},
	'7': {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
	'8': {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},
	'9': {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
	'A': {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},
	'B': {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E},
	'C': {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E},
	'D': {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C},
	'E': {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F},
	'F': {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},
	'G': {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F},
	'H': {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},
	'I': {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E},
	'J': {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C},
	'K': {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11},
	'L': {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F},
	'M': {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11},
	'N': {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},
	'O': {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},
	'P': {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10},
	'Q': {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D},
	'R': {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},
	'S': {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E},
	'T': {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},
	'U': {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},
	'V': {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04},
	'W': {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A},
	'X': {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11},
	'Y': {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04},
	'Z': {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F},
	'.': {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C},
	'-': {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00},
	'=': {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00},
	':': {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},
	'(': {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02},
	')': {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},
	'%': {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03},
	'/': {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00},
	'+': {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00},
	' ': {},
}
