package encoding

import (
	"fmt"
	"math"
)

// NoRounding as PixelOptions.RoundDecimals skips np.around.
const NoRounding = -1

// PixelRule names the arithmetic that turns a pixel byte into a model input value.
type PixelRule string

const (
	// RuleScale is the notebook's rule: float64(v) / DivideBy, then np.around(x, RoundDecimals).
	RuleScale PixelRule = ""
	// RulePrewhiten is facenet's prewhiten, what its 2017 checkpoints (the notebook's weights among
	// them) were trained with: (x - mean) / max(std, 1/sqrt(x.size)) over the whole image in float64,
	// mean and std numpy's, then float32.
	RulePrewhiten PixelRule = "prewhiten"
	// RuleFixedStandardization is facenet's fixed_image_standardization, (x - 127.5) / 128, what its
	// 2018 checkpoints were trained with.
	RuleFixedStandardization PixelRule = "fixed_standardization"
)

// ParsePixelRule accepts a profile's pixel_rule: "" (or "scale"), "prewhiten", "fixed_standardization".
func ParsePixelRule(s string) (PixelRule, error) {
	switch PixelRule(s) {
	case RuleScale, "scale":
		return RuleScale, nil
	case RulePrewhiten, RuleFixedStandardization:
		return PixelRule(s), nil
	}
	return "", fmt.Errorf("%w: pixel rule %q (want scale, prewhiten or fixed_standardization)", ErrInvalidOptions, s)
}

// PixelOptions says how RGB bytes become model input. With RuleScale (the zero value): float64(v) /
// DivideBy, then np.around(x, RoundDecimals) unless RoundDecimals is NoRounding, then float32 (the cast
// Keras applies when a float64 array meets a float32 model). The other rules ignore DivideBy and
// RoundDecimals.
type PixelOptions struct {
	// Rule picks the arithmetic; the zero value is the notebook's.
	Rule PixelRule
	// DivideBy must be positive and finite: 255 for [0, 1] inputs, 1 for raw levels.
	DivideBy float64
	// RoundDecimals is np.around's decimals (half to even on x*10^d); NoRounding (-1) skips
	// it. Note that 0 is a valid number of decimals, not "off".
	RoundDecimals int
	// BGR writes channels in B, G, R order.
	BGR bool
	// ChannelsFirst writes a (3, H, W) plane layout instead of (H, W, 3).
	ChannelsFirst bool
}

// KerasPixels is the notebook's img_to_encoding: np.around(np.array(img) / 255.0, decimals=12),
// RGB, channels last. For every byte v the result equals float32(v) / 255 rounded to nearest.
var KerasPixels = PixelOptions{DivideBy: 255, RoundDecimals: 12}

// Lookup returns the 256 float32 values FillTensor writes for the bytes 0..255. Prewhitening depends
// on the image, so it has no image-independent table and Lookup refuses it.
func (o PixelOptions) Lookup() (*[256]float32, error) {
	if o.Rule == RulePrewhiten {
		return nil, fmt.Errorf("%w: prewhiten's values depend on the image; use FillTensor", ErrInvalidOptions)
	}
	var lut [256]float32
	if err := o.table(nil, &lut); err != nil {
		return nil, err
	}
	return &lut, nil
}

// table fills lut for img without allocating: FillTensor runs once per image. Every rule maps each
// byte value to one float32 (prewhiten's mean and divisor are per image, not per pixel), so a table of
// 256 entries applies any of them.
func (o PixelOptions) table(img *Image, lut *[256]float32) error {
	switch o.Rule {
	case RuleScale:
	case RuleFixedStandardization:
		for v := range lut {
			// Both operations are exact in float32 for 0..255, as in facenet's TensorFlow graph.
			lut[v] = (float32(v) - 127.5) / 128
		}
		return nil
	case RulePrewhiten:
		if img == nil || len(img.Pix) == 0 {
			return fmt.Errorf("%w: prewhiten needs a non-empty image", ErrInvalidOptions)
		}
		mean, stdAdj := prewhitenStats(img.Pix)
		inv := 1 / stdAdj
		for v := range lut {
			// np.multiply(np.subtract(x, mean), 1/std_adj), then the float32 the model sees.
			lut[v] = float32((float64(v) - mean) * inv)
		}
		return nil
	default:
		_, err := ParsePixelRule(string(o.Rule))
		return err
	}
	var lut64 [256]float64
	if err := o.table64(&lut64); err != nil {
		return err
	}
	for i, v := range lut64 {
		lut[i] = float32(v)
	}
	return nil
}

// table64 is the float64 array numpy holds before the cast.
func (o PixelOptions) table64(lut *[256]float64) error {
	if !(o.DivideBy > 0) || math.IsInf(o.DivideBy, 0) {
		return fmt.Errorf("%w: DivideBy must be positive and finite, got %v", ErrInvalidOptions, o.DivideBy)
	}
	if o.RoundDecimals < NoRounding || o.RoundDecimals > 300 {
		return fmt.Errorf("%w: RoundDecimals %d (want -1 for none, or 0..300)", ErrInvalidOptions, o.RoundDecimals)
	}
	scale := numpyPowerOfTen(o.RoundDecimals)
	for v := range lut {
		x := float64(v) / o.DivideBy
		if o.RoundDecimals != NoRounding {
			// numpy's around for decimals >= 0: multiply, rint (half to even), divide.
			x = math.RoundToEven(x*scale) / scale
		}
		lut[v] = x
	}
	return nil
}

// numpyPowerOfTen is numpy's power_of_ten: exact table up to 1e8, then repeated *10.
func numpyPowerOfTen(n int) float64 {
	p10 := [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}
	if n < 0 {
		return 1
	}
	if n < len(p10) {
		return p10[n]
	}
	r := 1e9
	for ; n > 9; n-- {
		r *= 10
	}
	return r
}

// TensorLen is the number of float32 values one image occupies: 3 * Width * Height.
func (img *Image) TensorLen() int {
	if img == nil {
		return 0
	}
	return 3 * img.Width * img.Height
}

// FillTensor writes the image into dst, which must hold exactly TensorLen values, as one item
// of a batch (np.expand_dims / np.stack along axis 0): build a batch by giving each image its
// slice of one big buffer.
func (img *Image) FillTensor(dst []float32, opts PixelOptions) error {
	var lut [256]float32
	if err := img.check(); err != nil {
		return err
	}
	if err := opts.table(img, &lut); err != nil {
		return err
	}
	return img.fill(dst, &lut, opts)
}

// AppendTensor appends the image's TensorLen values to dst and returns the extended slice.
func (img *Image) AppendTensor(dst []float32, opts PixelOptions) ([]float32, error) {
	var lut [256]float32
	if err := img.check(); err != nil {
		return dst, err
	}
	if err := opts.table(img, &lut); err != nil {
		return dst, err
	}
	n := img.TensorLen()
	dst = growFloat32(dst, n)
	if err := img.fill(dst[len(dst)-n:], &lut, opts); err != nil {
		return dst[:len(dst)-n], err
	}
	return dst, nil
}

func growFloat32(s []float32, n int) []float32 {
	if cap(s)-len(s) < n {
		t := make([]float32, len(s), len(s)+n+len(s)/4)
		copy(t, s)
		s = t
	}
	return s[:len(s)+n]
}

// check refuses a nil or malformed image before any rule reads its pixels.
func (img *Image) check() error {
	if img == nil {
		return fmt.Errorf("%w: nil image", ErrInvalidOptions)
	}
	if img.Width <= 0 || img.Height <= 0 || len(img.Pix) != 3*img.Width*img.Height {
		return fmt.Errorf("%w: malformed image %dx%d with %d bytes", ErrInvalidOptions, img.Width, img.Height, len(img.Pix))
	}
	return nil
}

func (img *Image) fill(dst []float32, lut *[256]float32, opts PixelOptions) error {
	if err := img.check(); err != nil {
		return err
	}
	if len(dst) != len(img.Pix) {
		return fmt.Errorf("%w: tensor has %d values, image needs %d", ErrInvalidOptions, len(dst), len(img.Pix))
	}
	pix := img.Pix
	r, g, b := 0, 1, 2
	if opts.BGR {
		r, b = 2, 0
	}
	if !opts.ChannelsFirst {
		if !opts.BGR {
			dst = dst[:len(pix)]
			for i, v := range pix {
				dst[i] = lut[v]
			}
			return nil
		}
		for i := 0; i+2 < len(pix); i += 3 {
			dst[i+r], dst[i+g], dst[i+b] = lut[pix[i]], lut[pix[i+1]], lut[pix[i+2]]
		}
		return nil
	}
	plane := img.Width * img.Height
	pr, pg, pb := dst[r*plane:(r+1)*plane], dst[g*plane:(g+1)*plane], dst[b*plane:(b+1)*plane]
	for i := 0; i < plane; i++ {
		pr[i], pg[i], pb[i] = lut[pix[3*i]], lut[pix[3*i+1]], lut[pix[3*i+2]]
	}
	return nil
}
