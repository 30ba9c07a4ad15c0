package encoding

import (
	"fmt"
	"image"
	"math"
	"strings"
)

// Interpolation is a PIL resampling filter, named as keras load_img names them.
type Interpolation int

// The filters of keras.utils.load_img. Nearest is the zero value because it is load_img's default.
const (
	Nearest Interpolation = iota
	Bilinear
	Bicubic
	Hamming
	Box
	Lanczos
)

var interpolationNames = [...]string{"nearest", "bilinear", "bicubic", "hamming", "box", "lanczos"}

// String returns the Keras name of the filter.
func (f Interpolation) String() string {
	if f < 0 || int(f) >= len(interpolationNames) {
		return fmt.Sprintf("Interpolation(%d)", int(f))
	}
	return interpolationNames[f]
}

// ParseInterpolation maps a Keras interpolation name ("nearest", "bilinear", "bicubic",
// "hamming", "box", "lanczos") to its filter.
func ParseInterpolation(name string) (Interpolation, error) {
	for i, n := range interpolationNames {
		if strings.EqualFold(name, n) {
			return Interpolation(i), nil
		}
	}
	return 0, fmt.Errorf("%w: interpolation %q (want one of %s)", ErrInvalidOptions, name,
		strings.Join(interpolationNames[:], ", "))
}

// Resize returns the image scaled to width x height from the source region box exactly as
// Pillow 11's Image.resize((width, height), filter, box) does for an RGB image: NEAREST walks
// Geometry.c's running double sum (which picks a different pixel than floor((x+0.5)*scale)
// for source sizes such as 64, 128, 256, 512, 1024 -> 160), the other filters use Resample.c's
// separable 8-bit fixed-point convolution with its 22 precision bits and rounding. A zero box
// means the whole image; an unchanged size and box give a copy.
//
// github.com/nfnt/resize is not used because it is not Pillow (TestNfntResizeIsNotPillow
// measures it): its NearestNeighbor matches only some upscales (96->160 yes, 64 or 128->160
// no: a quarter of the pixels differ) and no downscale, and its Bilinear, Bicubic and Lanczos3
// differ on most pixels (other kernel normalisation and rounding, 16-bit intermediates).
func (img *Image) Resize(width, height int, filter Interpolation, box image.Rectangle) (*Image, error) {
	if img == nil || img.Width <= 0 || img.Height <= 0 || len(img.Pix) != 3*img.Width*img.Height {
		return nil, fmt.Errorf("%w: resize of an empty or malformed image", ErrInvalidOptions)
	}
	if width < 1 || height < 1 {
		return nil, fmt.Errorf("%w: height and width must be > 0, got %dx%d", ErrInvalidOptions, width, height)
	}
	if filter < Nearest || filter > Lanczos {
		return nil, fmt.Errorf("%w: unknown filter %d", ErrInvalidOptions, int(filter))
	}
	if box == (image.Rectangle{}) {
		box = image.Rect(0, 0, img.Width, img.Height)
	}
	if box.Min.X < 0 || box.Min.Y < 0 {
		return nil, fmt.Errorf("%w: box offset can't be negative", ErrInvalidOptions)
	}
	if box.Max.X > img.Width || box.Max.Y > img.Height {
		return nil, fmt.Errorf("%w: box can't exceed original image size", ErrInvalidOptions)
	}
	if box.Dx() < 0 || box.Dy() < 0 {
		return nil, fmt.Errorf("%w: box can't be empty", ErrInvalidOptions)
	}
	whole := box == image.Rect(0, 0, img.Width, img.Height)
	if whole && width == img.Width && height == img.Height {
		return img.clone(), nil
	}
	// Pillow passes the box as C floats.
	b := [4]float32{float32(box.Min.X), float32(box.Min.Y), float32(box.Max.X), float32(box.Max.Y)}
	if b[2]-b[0] == float32(width) && b[3]-b[1] == float32(height) {
		return img.crop(box), nil
	}
	if filter == Nearest {
		return img.resizeNearest(width, height, b), nil
	}
	return img.resample(width, height, filter, b), nil
}

func (img *Image) clone() *Image {
	out := &Image{Width: img.Width, Height: img.Height, Pix: make([]uint8, len(img.Pix))}
	copy(out.Pix, img.Pix)
	return out
}

func (img *Image) crop(r image.Rectangle) *Image {
	out := newImage(r.Dx(), r.Dy())
	rowBytes := 3 * r.Dx()
	for y := 0; y < r.Dy(); y++ {
		src := 3 * ((r.Min.Y+y)*img.Width + r.Min.X)
		copy(out.Pix[y*rowBytes:(y+1)*rowBytes], img.Pix[src:src+rowBytes])
	}
	return out
}

// coord is Geometry.c's COORD: truncation, with negatives mapped to -1.
func coord(v float64) int {
	if v < 0 {
		return -1
	}
	return int(v)
}

// nearestIndex is ImagingScaleAffine's pretabulation for one axis: the source index of each
// output pixel (-1 outside the image), from a running sum that starts at b0 + scale/2.
func nearestIndex(out int, b0, b1 float32, in int) []int {
	a := float64(b1-b0) / float64(out)
	pos := float64(b0) + float64(a*0.5) // the conversion keeps the compiler from fusing into an FMA
	idx := make([]int, out)
	for i := range idx {
		v := coord(pos)
		if v < 0 || v >= in {
			v = -1
		}
		idx[i] = v
		pos += a
	}
	return idx
}

func (img *Image) resizeNearest(width, height int, b [4]float32) *Image {
	return img.resizeNearestIdx(nearestIndex(width, b[0], b[2], img.Width), nearestIndex(height, b[1], b[3], img.Height))
}

// resizeNearestIdx is ImagingScaleAffine's copy loop for the tabulated source columns xs and rows
// ys (-1: outside the image); rows index img, which may hold only the rows ys names (Load's
// row-dropping JPEG decode).
func (img *Image) resizeNearestIdx(xs, ys []int) *Image {
	width, height := len(xs), len(ys)
	out := newImage(width, height)
	// Pillow copies only between the first and last valid column; columns in between that
	// fell outside (impossible for a monotone walk, but kept) read source column 0.
	xmin, xmax := width, 0
	for x, v := range xs {
		if v >= 0 {
			xmax = x + 1
			xmin = min(xmin, x)
		}
	}
	for x := range xs {
		if xs[x] < 0 {
			xs[x] = 0
		}
	}
	for y, sy := range ys {
		if sy < 0 {
			continue // left black, as Pillow's fill
		}
		src := img.Pix[3*sy*img.Width : 3*(sy+1)*img.Width]
		dst := out.Pix[3*y*width : 3*(y+1)*width]
		if y > 0 && sy == ys[y-1] {
			copy(dst, out.Pix[3*(y-1)*width:3*y*width]) // upscaling repeats source rows
			continue
		}
		for x := xmin; x < xmax; x++ {
			s := src[3*xs[x] : 3*xs[x]+3 : 3*xs[x]+3]
			d := dst[3*x : 3*x+3 : 3*x+3]
			d[0], d[1], d[2] = s[0], s[1], s[2]
		}
	}
	return out
}

// Resample.c

const precisionBits = 32 - 8 - 2

type resampleFilter struct {
	fn      func(float64) float64
	support float64
}

var resampleFilters = map[Interpolation]resampleFilter{
	Box:      {boxFilter, 0.5},
	Bilinear: {bilinearFilter, 1.0},
	Hamming:  {hammingFilter, 1.0},
	Bicubic:  {bicubicFilter, 2.0},
	Lanczos:  {lanczosFilter, 3.0},
}

func boxFilter(x float64) float64 {
	if x > -0.5 && x <= 0.5 {
		return 1.0
	}
	return 0.0
}

func bilinearFilter(x float64) float64 {
	if x < 0.0 {
		x = -x
	}
	if x < 1.0 {
		return 1.0 - x
	}
	return 0.0
}

func hammingFilter(x float64) float64 {
	if x < 0.0 {
		x = -x
	}
	if x == 0.0 {
		return 1.0
	}
	if x >= 1.0 {
		return 0.0
	}
	x = x * math.Pi
	// C: sin(x) / x * (0.54f + 0.46f * cos(x)), the float constants widened to double
	return math.Sin(x) / x * (float64(float32(0.54)) + float64(float64(float32(0.46))*math.Cos(x)))
}

func bicubicFilter(x float64) float64 {
	const a = -0.5
	if x < 0.0 {
		x = -x
	}
	if x < 1.0 {
		return float64(float64(float64((a+2.0)*x)-(a+3.0))*x*x) + 1
	}
	if x < 2.0 {
		return float64(float64(float64(float64(x-5)*x)+8)*x-4) * a
	}
	return 0.0
}

func sincFilter(x float64) float64 {
	if x == 0.0 {
		return 1.0
	}
	x = x * math.Pi
	return math.Sin(x) / x
}

func lanczosFilter(x float64) float64 {
	if -3.0 <= x && x < 3.0 {
		return sincFilter(x) * sincFilter(x/3)
	}
	return 0.0
}

// coeffs is precompute_coeffs followed by normalize_coeffs_8bpc: for each output pixel the
// first source pixel, the count, and ksize fixed-point weights.
type coeffs struct {
	ksize  int
	bounds []int // pairs (min, count)
	k      []int32
}

func precomputeCoeffs(inSize int, in0, in1 float32, outSize int, f resampleFilter) coeffs {
	scale := float64(in1-in0) / float64(outSize)
	filterscale := scale
	if filterscale < 1.0 {
		filterscale = 1.0
	}
	support := f.support * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := coeffs{ksize: ksize, bounds: make([]int, 2*outSize), k: make([]int32, outSize*ksize)}
	w := make([]float64, ksize)
	for xx := 0; xx < outSize; xx++ {
		center := float64(in0) + float64((float64(xx)+0.5)*scale)
		ww := 0.0
		ss := 1.0 / filterscale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		for x := 0; x < xmax; x++ {
			w[x] = f.fn((float64(x+xmin) - center + 0.5) * ss)
			ww += w[x]
		}
		for x := 0; x < xmax; x++ {
			if ww != 0.0 {
				w[x] /= ww
			}
		}
		for x := max(xmax, 0); x < ksize; x++ {
			w[x] = 0
		}
		c.bounds[2*xx], c.bounds[2*xx+1] = xmin, xmax
		for x := 0; x < ksize; x++ {
			if w[x] < 0 {
				c.k[xx*ksize+x] = int32(-0.5 + w[x]*(1<<precisionBits))
			} else {
				c.k[xx*ksize+x] = int32(0.5 + w[x]*(1<<precisionBits))
			}
		}
	}
	return c
}

// clip8Fixed is Resample.c's clip8: drop the precision bits and clamp.
func clip8Fixed(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

func (img *Image) resample(width, height int, filter Interpolation, b [4]float32) *Image {
	f := resampleFilters[filter]
	needH := width != img.Width || b[0] != 0 || b[2] != float32(width)
	needV := height != img.Height || b[1] != 0 || b[3] != float32(height)
	ch := precomputeCoeffs(img.Width, b[0], b[2], width, f)
	cv := precomputeCoeffs(img.Height, b[1], b[3], height, f)
	yFirst := cv.bounds[0]
	yLast := cv.bounds[2*height-2] + cv.bounds[2*height-1]
	src := img
	if needH {
		for i := 0; i < height; i++ {
			cv.bounds[2*i] -= yFirst
		}
		tmp := newImage(width, yLast-yFirst)
		const half = int32(1) << (precisionBits - 1)
		rowBytes := 3 * img.Width
		for yy := 0; yy < tmp.Height; yy++ {
			row := img.Pix[(yy+yFirst)*rowBytes : (yy+yFirst+1)*rowBytes]
			out := tmp.Pix[3*yy*width : 3*(yy+1)*width]
			for xx := 0; xx < width; xx++ {
				xmin, n := ch.bounds[2*xx], ch.bounds[2*xx+1]
				k := ch.k[xx*ch.ksize : xx*ch.ksize+n]
				src := row[3*xmin : 3*(xmin+n)]
				s0, s1, s2 := half, half, half
				for x, kv := range k {
					p := src[3*x : 3*x+3 : 3*x+3]
					s0 += int32(p[0]) * kv
					s1 += int32(p[1]) * kv
					s2 += int32(p[2]) * kv
				}
				o := out[3*xx : 3*xx+3 : 3*xx+3]
				o[0], o[1], o[2] = clip8Fixed(s0), clip8Fixed(s1), clip8Fixed(s2)
			}
		}
		src = tmp
	}
	if needV {
		out := newImage(src.Width, height)
		const half = int32(1) << (precisionBits - 1)
		stride := 3 * src.Width
		acc := make([]int32, stride)
		for yy := 0; yy < height; yy++ {
			ymin, n := cv.bounds[2*yy], cv.bounds[2*yy+1]
			k := cv.k[yy*cv.ksize : yy*cv.ksize+n]
			for i := range acc {
				acc[i] = half
			}
			// Row by row instead of column by column: the same sums in the same order.
			for y, kv := range k {
				row := src.Pix[(y+ymin)*stride : (y+ymin+1)*stride]
				for i, v := range row {
					acc[i] += int32(v) * kv
				}
			}
			dst := out.Pix[yy*stride : (yy+1)*stride]
			for i, s := range acc {
				dst[i] = clip8Fixed(s)
			}
		}
		return out
	}
	if src == img {
		return img.clone()
	}
	return src
}
