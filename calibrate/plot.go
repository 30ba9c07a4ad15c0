package calibrate

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	"github.com/facenet-go/facenet/internal/raster"
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
func (c *Result) WritePNG(w io.Writer) error {
	img := image.NewRGBA(image.Rect(0, 0, plotW, plotH))
	raster.Fill(img, img.Bounds(), colBackground)
	c.drawHistograms(img)
	c.drawROC(img)
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("calibration plot: %w", err)
	}
	return nil
}

func (c *Result) drawHistograms(img *image.RGBA) {
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
		raster.VLine(img, x, panelTop, panelBottom, colGrid)
		raster.Text(img, x-len(fmt.Sprintf("%.1f", t))*3, panelBottom+8, fmt.Sprintf("%.1f", t), colAxis)
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
			raster.Blend(img, image.Rect(x0, panelBottom-h, x1, panelBottom), set.col)
		}
	}
	x := px(c.Threshold)
	for y := panelTop; y < panelBottom; y += 6 { // dashed
		raster.VLine(img, x, y, min(y+4, panelBottom), colThreshold)
	}
	raster.HLine(img, histLeft, histRight, panelBottom, colAxis)
	raster.VLine(img, histLeft, panelTop, panelBottom, colAxis)
	raster.Text(img, histLeft, 12, "DISTANCE HISTOGRAMS", colAxis)
	raster.Text(img, histLeft, 28, fmt.Sprintf("GENUINE %d", len(c.Genuine)), colGenuine)
	raster.Text(img, histLeft+120, 28, fmt.Sprintf("IMPOSTOR %d", len(c.Impostor)), colImpostor)
	raster.Text(img, histLeft+250, 28, fmt.Sprintf("THRESHOLD %.3f", c.Threshold), colThreshold)
	raster.Text(img, (histLeft+histRight)/2-24, panelBottom+24, "L2 DISTANCE", colAxis)
}

func (c *Result) drawROC(img *image.RGBA) {
	size := float64(rocRight - rocLeft)
	pt := func(fpr, tpr float64) (int, int) {
		return rocLeft + int(math.Round(fpr*size)), panelBottom - int(math.Round(tpr*size))
	}
	for _, v := range []float64{0, 0.5, 1} {
		x, y := pt(v, v)
		raster.VLine(img, x, panelBottom-int(size), panelBottom, colGrid)
		raster.HLine(img, rocLeft, rocRight, y, colGrid)
		l := fmt.Sprintf("%.1f", v)
		raster.Text(img, x-len(l)*3, panelBottom+8, l, colAxis)
		raster.Text(img, rocLeft-8-len(l)*6, y-3, l, colAxis)
	}
	x0, y0 := pt(0, 0)
	x1, y1 := pt(1, 1)
	raster.Line(img, x0, y0, x1, y1, colGrid) // chance
	// The grid runs from accept-nothing to accept-everything: walk it from (0,0).
	px, py := pt(c.FPR[0], c.TPR[0])
	for i := 1; i < len(c.FPR); i++ {
		x, y := pt(c.FPR[i], c.TPR[i])
		raster.Line(img, px, py, x, y, colROC)
		raster.Line(img, px, py-1, x, y-1, colROC) // two pixels wide
		px, py = x, y
	}
	ex, ey := pt(c.EER, 1-c.EER)
	raster.Fill(img, image.Rect(ex-3, ey-3, ex+4, ey+4), colImpostor)
	raster.HLine(img, rocLeft, rocRight, panelBottom, colAxis)
	raster.VLine(img, rocLeft, panelBottom-int(size), panelBottom, colAxis)
	raster.Text(img, rocLeft, 12, "ROC", colAxis)
	raster.Text(img, rocLeft, 28, fmt.Sprintf("AUC %.4f  EER %.4f", c.AUC, c.EER), colAxis)
	raster.Text(img, (rocLeft+rocRight)/2-48, panelBottom+24, "FALSE ACCEPT RATE", colAxis)
	raster.Text(img, rocRight+12, panelBottom-int(size)/2, "TAR", colAxis)
}
