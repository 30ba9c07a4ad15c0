package encoding

import (
	"image"

	"github.com/facenet-go/facenet/internal/libjpegturbo"
)

// Load's JPEG path for NEAREST (load_img's default): NEAREST and Keras' crop read a fixed set of
// source rows, so the decoder keeps only those (libjpeg-turbo still decodes every row, one at a
// time) and the resize runs over the kept rows. The pixels are those of decoding the whole image
// and resizing it, with the memory of the rows kept: 13000x13000 to 160x160 holds 160 rows
// (6 MB), not the 507 MB image.

// rowPlan is the resize step of ResizeKeras for one source size, written as the source rows it
// reads.
type rowPlan struct {
	rows  []int32 // for each source row, its index among the kept rows, or -1
	kept  int     // how many rows are kept
	xs    []int   // NEAREST: source column of each output column (-1 outside)
	ys    []int   // NEAREST: kept-row index of each output row (-1 outside)
	crop  image.Rectangle
	isCut bool // the box already has the target size: a crop of the kept rows
}

// nearestRowPlan returns the plan for resizing a width x height image as ResizeKeras does with
// NEAREST, or nil when ResizeKeras would return the image as is (or opts ask for another filter).
func nearestRowPlan(width, height int, opts LoadOptions) *rowPlan {
	if opts.Width == 0 || opts.Interpolation != Nearest || (width == opts.Width && height == opts.Height) {
		return nil
	}
	box := image.Rect(0, 0, width, height)
	if opts.KeepAspectRatio {
		box = KerasCropBox(width, height, opts.Width, opts.Height)
	}
	if box.Dx() <= 0 || box.Dy() <= 0 {
		return nil // Resize's own checks decide
	}
	p := &rowPlan{rows: make([]int32, height)}
	for i := range p.rows {
		p.rows[i] = -1
	}
	keep := func(y int) int {
		if p.rows[y] < 0 {
			p.rows[y] = int32(p.kept)
			p.kept++
		}
		return int(p.rows[y])
	}
	b := [4]float32{float32(box.Min.X), float32(box.Min.Y), float32(box.Max.X), float32(box.Max.Y)}
	if b[2]-b[0] == float32(opts.Width) && b[3]-b[1] == float32(opts.Height) {
		p.isCut = true
		for y := box.Min.Y; y < box.Max.Y; y++ {
			keep(y)
		}
		p.crop = image.Rect(box.Min.X, 0, box.Max.X, box.Dy())
		return p
	}
	p.xs = nearestIndex(opts.Width, b[0], b[2], width)
	p.ys = nearestIndex(opts.Height, b[1], b[3], height)
	// nearestIndex is monotone, so kept rows are numbered in source order, as libjpeg outputs them.
	for i, y := range p.ys {
		if y >= 0 {
			p.ys[i] = keep(y)
		}
	}
	return p
}

// loadJPEGRows is Load for a JPEG resized with NEAREST: it decodes the rows the resize reads and
// resizes them. done is false when the path does not apply (libjpeg9, another filter, no resize)
// and the caller decodes the whole image as usual; header errors are returned as decodeJPEG
// would return them.
func loadJPEGRows(data []byte, opts LoadOptions, decOpts DecodeOptions) (*Image, bool, error) {
	if !decOpts.JPEGDecoder.isTurbo() || opts.Interpolation != Nearest || opts.Width == 0 {
		return nil, false, nil
	}
	h, err := parseJPEGHeader(data)
	if err != nil {
		return nil, true, err
	}
	if err := checkPixels(h.width, h.height, decOpts); err != nil {
		return nil, true, err
	}
	p := nearestRowPlan(h.width, h.height, opts)
	if p == nil || p.kept == 0 {
		return nil, false, nil
	}
	release := reserveDecode(decodeEstimate(data, decOpts, p.rows))
	defer release()
	kept := newImage(h.width, p.kept)
	if err := libjpegErr(libjpegturbo.DecodeRGB(data, h.layers, h.width, h.height, p.rows, kept.Pix)); err != nil {
		return nil, true, err
	}
	if p.isCut {
		return kept.crop(p.crop), true, nil
	}
	return kept.resizeNearestIdx(p.xs, p.ys), true, nil
}
