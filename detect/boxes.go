package detect

// The box arithmetic of mtcnn 1.0.0 (mtcnn/utils/bboxes.py, landmarks.py, images.py), written out in
// Go because the detector's answer must equal the Python package's: every expression keeps numpy's
// dtypes (float64 boxes, float32 network outputs widened before use, float32 landmarks, the P-Net
// threshold compared in float32) and its evaluation order. Explicit float64(...) conversions around
// products stop the Go compiler from fusing them into FMA instructions, which numpy does not use.

import (
	"math"
	"math/big"

	"github.com/facenet-go/facenet/internal/npsort"
)

// row is one line of mtcnn's bboxes_batch for a single image: [x1, y1, x2, y2, confidence] and,
// after O-Net, the ten landmark coordinates (five x, then five y).
type row struct {
	x1, y1, x2, y2, conf float64
	lm                   [10]float64
}

// pyramid is build_scale_pyramid: m * scale_factor ** arange(n) with
// n = round(-(log(min_dim / min_size) / log(scale_factor) + 1)), rounding half to even.
func pyramid(width, height int, minFaceSize, scaleFactor, minSize float64) []float64 {
	minDim := float64(min(width, height))
	n := math.RoundToEven(-(math.Log(minDim/minSize)/math.Log(scaleFactor) + 1))
	m := minSize / minFaceSize
	var scales []float64
	for k := 0; k < int(n); k++ {
		scales = append(scales, float64(m*powInt(scaleFactor, k)))
	}
	return scales
}

// powInt is x**k rounded once to float64, as glibc's pow (which numpy calls) returns it; Go's
// math.Pow can be an ulp away for integer exponents.
func powInt(x float64, k int) float64 {
	p := new(big.Float).SetPrec(512).SetFloat64(1)
	bx := new(big.Float).SetPrec(512).SetFloat64(x)
	for i := 0; i < k; i++ {
		p.Mul(p, bx)
	}
	f, _ := p.Float64()
	return f
}

// generate is generate_bounding_box for one image: every P-Net cell whose face probability exceeds
// the threshold (compared in float32, as numpy compares a float32 array with a Python float) gives a
// box from its 12x12 cell at stride 2 moved by the regression, sorted by confidence, descending.
func generate(reg, prob []float32, h, w int, threshold float32) []row {
	var rows []row
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			c := prob[2*i+1]
			if !(c > threshold) {
				continue
			}
			r := reg[4*i : 4*i+4]
			ulx, uly := float64(2*x+1), float64(2*y+1)
			brx, bry := float64(2*x+12), float64(2*y+12)
			rows = append(rows, row{
				x1:   ulx + float64(float64(r[0])*11),
				y1:   uly + float64(float64(r[1])*11),
				x2:   brx + float64(float64(r[2])*11),
				y2:   bry + float64(float64(r[3])*11),
				conf: float64(c),
			})
		}
	}
	sortDesc(rows)
	return rows
}

// sortDesc is sort_by_scores(..., ascending=False): np.argsort of the confidences, reversed. Equal
// confidences (a saturated 1.0 is common) are left in whatever order numpy's sort leaves them, and
// numpy 2.0.2 has three sorts that differ there, picked by the CPU; which of two tied boxes NMS keeps
// follows from it, so the order is numpy's own for this CPU (internal/npsort).
func sortDesc(rows []row) {
	keys := make([]float64, len(rows))
	for i, r := range rows {
		keys[i] = r.conf
	}
	idx := npsort.Argsort(keys)
	sorted := make([]row, len(rows))
	for i, j := range idx {
		sorted[len(rows)-1-i] = rows[j]
	}
	copy(rows, sorted)
}

// upscale divides the coordinates by the pyramid scale (upscale_bboxes).
func upscale(rows []row, scale float64) {
	for i := range rows {
		r := &rows[i]
		r.x1, r.y1, r.x2, r.y2 = r.x1/scale, r.y1/scale, r.x2/scale, r.y2/scale
	}
}

// nms is smart_nms_from_bboxes for one image. mtcnn's nms keeps box j when no earlier box i (kept or
// not) overlaps it by more than threshold: iou[i, j] > threshold for some i < j removes it.
func nms(rows []row, threshold float64, useMin, initialSort bool) []row {
	if initialSort {
		sortDesc(rows)
	}
	area := make([]float64, len(rows))
	for i, r := range rows {
		area[i] = float64((r.x2 - r.x1) * (r.y2 - r.y1))
	}
	keep := rows[:0:0]
	for j, b := range rows {
		ok := true
		for i := 0; i < j && ok; i++ {
			a := rows[i]
			hi := max(0, min(a.x2, b.x2)-max(a.x1, b.x1))
			wi := max(0, min(a.y2, b.y2)-max(a.y1, b.y1))
			inter := float64(hi * wi)
			var o float64
			if useMin {
				o = inter / min(area[i], area[j])
			} else {
				o = inter / (area[i] + area[j] - inter)
			}
			if o > threshold {
				ok = false
			}
		}
		if ok {
			keep = append(keep, b)
		}
	}
	return keep
}

// square is resize_to_square: each box grown to a square on its longer side, about its centre.
func square(rows []row) {
	for i := range rows {
		r := &rows[i]
		h := r.y2 - r.y1
		w := r.x2 - r.x1
		l := max(w, h)
		r.x1 = r.x1 + float64(w*0.5) - float64(l*0.5)
		r.y1 = r.y1 + float64(h*0.5) - float64(l*0.5)
		r.x2 = r.x1 + l
		r.y2 = r.y1 + l
	}
}

// adjust is adjust_bboxes: the regression offsets scaled by the box size (+1, as mtcnn counts it).
func adjust(r *row, off []float32) {
	w := r.x2 - r.x1 + 1
	h := r.y2 - r.y1 + 1
	r.x1 += float64(float64(off[0]) * w)
	r.y1 += float64(float64(off[1]) * h)
	r.x2 += float64(float64(off[2]) * w)
	r.y2 += float64(float64(off[3]) * h)
}

// landmarks is adjust_landmarks: O-Net's relative points placed in the (pre-regression) box and
// stored back into mtcnn's float32 array, so each coordinate is rounded to float32.
func landmarks(r *row, lm []float32) {
	w := r.x2 - r.x1 + 1
	h := r.y2 - r.y1 + 1
	for k := 0; k < 5; k++ {
		r.lm[k] = float64(float32(float64(w*float64(lm[k])) + r.x1 - 1))
		r.lm[5+k] = float64(float32(float64(h*float64(lm[5+k])) + r.y1 - 1))
	}
}

// clip is limit_bboxes with limit_landmarks=False: coordinates into [0, size-1].
func clip(r *row, width, height int) {
	wm, hm := float64(width-1), float64(height-1)
	r.x1 = min(max(r.x1, 0), wm)
	r.x2 = min(max(r.x2, 0), wm)
	r.y1 = min(max(r.y1, 0), hm)
	r.y2 = min(max(r.y2, 0), hm)
}
