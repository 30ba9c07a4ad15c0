// Package detect finds faces in photos with MTCNN, giving the answer of the PyPI mtcnn 1.0.0 package's
// MTCNN(device="CPU:0").detect_faces: boxes, confidences and the five keypoints.
//
// The three networks run as SavedModels (make models writes build/models/mtcnn/{pnet,rnet,onet}) through
// the tfmodel package. Those SavedModels also hold the TensorFlow image ops mtcnn applies before each
// network (tf.image.resize with AREA for the pyramid, tf.image.crop_and_resize for the 24x24 and 48x48
// patches), so those numbers come from TensorFlow's own kernels. What mtcnn does in numpy — the pyramid
// scales, proposal generation, its NMS, box regression, squaring and clipping — is written out in this
// package (boxes.go) rather than taken from an image or geometry library, because exactness to the
// Python package needs numpy's dtypes and evaluation order, which no library reproduces.
package detect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"runtime/debug"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/tfmodel"
)

// ErrBadImage means the image given to Detect is empty or inconsistent.
var ErrBadImage = errors.New("detect: bad image")

// Options configure a Detector. Zero fields take mtcnn 1.0.0's defaults.
type Options struct {
	// MinFaceSize is the smallest face to look for, in pixels (default 20).
	MinFaceSize float64
	// ScaleFactor is the ratio between pyramid levels (default 0.709).
	ScaleFactor float64
	// Thresholds are the P-Net, R-Net and O-Net face probabilities to pass (default 0.6, 0.7, 0.8).
	Thresholds [3]float64
	// IntraOpThreads and InterOpThreads size TensorFlow's thread pools (0: TensorFlow's default).
	IntraOpThreads, InterOpThreads int
	// Quiet, when set, is passed to tfmodel.Options.Quiet for each of the three loads: a CLI uses it
	// to hide TensorFlow's loader log lines, as it does for the face model.
	Quiet func() (restore func())
	// MaxPixels bounds the image MTCNN runs on (0: DefaultMaxPixels; negative: no bound). A larger
	// photo is detected on a copy shrunk to fit (Pillow's box filter) and the boxes and keypoints
	// are scaled back, so memory stays bounded: the float32 pyramid input alone is 12 bytes a pixel
	// (1.2 GB for 100 megapixels). Photos within the bound are detected as they are, exact to mtcnn.
	MaxPixels int64
}

// freeNormAbove is the size (float32 values) above which Detect returns its normalized copy of the
// photo to the OS as soon as TensorFlow has its own: 16M values, 64 MB, a 5.6-megapixel photo. A
// collection costs a few milliseconds, noise beside MTCNN on such a photo.
const freeNormAbove = 16 << 20

// DefaultMaxPixels is the largest photo Detect runs on without shrinking it: 4096x3072 (12.6
// megapixels, a 12-megapixel phone photo), about 150 MB of float32 input for the pyramid.
const DefaultMaxPixels = 4096 * 3072

// Defaults of mtcnn 1.0.0 that Options does not expose: the P-Net cell size and the NMS thresholds.
const (
	minSize   = 12
	nmsPNet1  = 0.5
	nmsPNet2  = 0.7
	nmsRNet   = 0.7
	nmsONet   = 0.7
	rnetInput = 24
	onetInput = 48
)

func (o Options) withDefaults() Options {
	if o.MinFaceSize == 0 {
		o.MinFaceSize = 20
	}
	if o.ScaleFactor == 0 {
		o.ScaleFactor = 0.709
	}
	if o.MaxPixels == 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	def := [3]float64{0.6, 0.7, 0.8}
	for i := range o.Thresholds {
		if o.Thresholds[i] == 0 {
			o.Thresholds[i] = def[i]
		}
	}
	return o
}

// Keypoints are the five facial landmarks, rounded to the pixel as mtcnn reports them. Left and right
// are as seen by the viewer, as mtcnn names them. In JSON they are mtcnn's dict:
// {"left_eye": [x, y], "right_eye": ..., "nose": ..., "mouth_left": ..., "mouth_right": ...}.
type Keypoints struct {
	LeftEye, RightEye, Nose, MouthLeft, MouthRight image.Point
}

type keypointsJSON struct {
	LeftEye    [2]int `json:"left_eye"`
	RightEye   [2]int `json:"right_eye"`
	Nose       [2]int `json:"nose"`
	MouthLeft  [2]int `json:"mouth_left"`
	MouthRight [2]int `json:"mouth_right"`
}

// MarshalJSON writes mtcnn's keypoints dict.
func (k Keypoints) MarshalJSON() ([]byte, error) {
	p := func(q image.Point) [2]int { return [2]int{q.X, q.Y} }
	return json.Marshal(keypointsJSON{p(k.LeftEye), p(k.RightEye), p(k.Nose), p(k.MouthLeft), p(k.MouthRight)})
}

// UnmarshalJSON reads mtcnn's keypoints dict.
func (k *Keypoints) UnmarshalJSON(b []byte) error {
	var j keypointsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	p := func(a [2]int) image.Point { return image.Pt(a[0], a[1]) }
	*k = Keypoints{p(j.LeftEye), p(j.RightEye), p(j.Nose), p(j.MouthLeft), p(j.MouthRight)}
	return nil
}

// Face is one detection. Its JSON is mtcnn's detect_faces dict: box, confidence, keypoints.
type Face struct {
	// Box is [x, y, width, height] in pixels, rounded half to even as mtcnn does.
	Box [4]int `json:"box"`
	// Confidence is O-Net's face probability (a float32 value).
	Confidence float64 `json:"confidence"`
	// Keypoints are the landmarks rounded to the pixel.
	Keypoints Keypoints `json:"keypoints"`
	// Rect is the unrounded box [x1, y1, x2, y2], clipped to the image.
	Rect [4]float64 `json:"-"`
	// Points are the unrounded landmarks: x of the five points, then y, in Keypoints' order.
	Points [10]float64 `json:"-"`
}

// Detector runs MTCNN. It is safe for concurrent use.
type Detector struct {
	opts             Options
	pnet, rnet, onet *tfmodel.Model
}

// Load opens the P-Net, R-Net and O-Net SavedModels under dir (dir/pnet, dir/rnet, dir/onet).
func Load(dir string, opts Options) (*Detector, error) {
	d := &Detector{opts: opts.withDefaults()}
	if o := d.opts; o.MinFaceSize < minSize/2 || o.ScaleFactor <= 0 || o.ScaleFactor >= 1 {
		return nil, fmt.Errorf("load %s: min face size %g and scale factor %g: want a size >= %d and a factor in (0, 1)",
			dir, o.MinFaceSize, o.ScaleFactor, minSize/2)
	}
	mo := tfmodel.Options{IntraOpThreads: opts.IntraOpThreads, InterOpThreads: opts.InterOpThreads, Quiet: opts.Quiet}
	for _, m := range []struct {
		name string
		dst  **tfmodel.Model
	}{{"pnet", &d.pnet}, {"rnet", &d.rnet}, {"onet", &d.onet}} {
		model, err := tfmodel.Load(filepath.Join(dir, m.name), mo)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("load mtcnn %s: %w", m.name, err)
		}
		*m.dst = model
	}
	if opts.Quiet != nil {
		// TensorFlow's graph optimizer runs at each network's first Run and logs "Error in
		// PredictCost()" warnings for CropAndResize through absl, which TF_CPP_MIN_LOG_LEVEL does not
		// reach: a first run on blank input inside the quiet window keeps them out of the first
		// Detect. Numbers do not change (the optimized graph is the same either way).
		restore := opts.Quiet()
		err := d.warm()
		restore()
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("load %s: first run: %w", dir, err)
		}
	}
	return d, nil
}

// warm runs each network once on a blank 48x48 image.
func (d *Detector) warm() error {
	ctx := context.Background()
	img := tfmodel.Tensor{Shape: []int64{1, onetInput, onetInput, 3}, Data: make([]float32, onetInput*onetInput*3)}
	if _, err := d.pnet.Run(ctx, map[string]tfmodel.Tensor{
		"image": img, "size": {Shape: []int64{2}, Data: []float32{minSize, minSize}},
	}); err != nil {
		return fmt.Errorf("p-net: %w", err)
	}
	box := tfmodel.Tensor{Shape: []int64{1, 4}, Data: []float32{0, 0, 1, 1}}
	if _, err := d.rnet.Run(ctx, map[string]tfmodel.Tensor{"image": img, "boxes": box}); err != nil {
		return fmt.Errorf("r-net: %w", err)
	}
	if _, err := d.onet.Run(ctx, map[string]tfmodel.Tensor{"image": img, "boxes": box}); err != nil {
		return fmt.Errorf("o-net: %w", err)
	}
	return nil
}

// Close releases the TensorFlow sessions.
func (d *Detector) Close() error {
	var errs []error
	for _, m := range []*tfmodel.Model{d.pnet, d.rnet, d.onet} {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	return errors.Join(errs...)
}

// Detect finds the faces in img, in mtcnn's order (O-Net confidence, highest first). An image with
// no face gives an empty slice and no error.
func (d *Detector) Detect(ctx context.Context, img *encoding.Image) ([]Face, error) {
	if img == nil {
		return nil, fmt.Errorf("%w: nil image", ErrBadImage)
	}
	if img.Width <= 0 || img.Height <= 0 || len(img.Pix) != img.Width*img.Height*3 {
		return nil, fmt.Errorf("%w: %dx%d with %d bytes of pixels, want a positive size and width*height*3 RGB bytes",
			ErrBadImage, img.Width, img.Height, len(img.Pix))
	}
	if limit := d.opts.MaxPixels; limit > 0 && int64(img.Width)*int64(img.Height) > limit {
		return d.detectShrunk(ctx, img, limit)
	}
	w, h := img.Width, img.Height
	// mtcnn's (x - 127.5) / 128 of the uint8 pixels: exact in float32, so its float64 array and this
	// float32 one feed TensorFlow the same values.
	norm := make([]float32, len(img.Pix))
	for i, p := range img.Pix {
		norm[i] = (float32(p) - 127.5) / 128
	}
	// One TensorFlow copy of the photo for every P-Net scale, R-Net and O-Net: copying it per run
	// was half of the Go side's own CPU time on 2-megapixel photos.
	in, err := tfmodel.Prepare(tfmodel.Tensor{Shape: []int64{1, int64(h), int64(w), 3}, Data: norm})
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	// TensorFlow holds the only copy now. A large photo's float32 pixels (150 MB at 12.6 MP) would
	// otherwise stay resident until Go's next collection, through the pyramid, the run that needs
	// the most memory; a small photo's are left to the collector.
	if len(norm) >= freeNormAbove {
		norm = nil
		debug.FreeOSMemory()
	}

	rows, err := d.stagePNet(ctx, in, w, h)
	if err != nil {
		return nil, err
	}
	if rows, err = d.refine(ctx, d.rnet, in, rows, w, h, false); err != nil {
		return nil, err
	}
	if rows, err = d.refine(ctx, d.onet, in, rows, w, h, true); err != nil {
		return nil, err
	}
	faces := make([]Face, len(rows))
	for i := range rows {
		r := &rows[i]
		clip(r, w, h)
		f := &faces[i]
		f.Rect = [4]float64{r.x1, r.y1, r.x2, r.y2}
		f.Points = r.lm
		f.Confidence = r.conf
		f.Box = [4]int{round(r.x1), round(r.y1), round(r.x2 - r.x1), round(r.y2 - r.y1)}
		pt := func(k int) image.Point { return image.Pt(round(r.lm[k]), round(r.lm[5+k])) }
		f.Keypoints = Keypoints{LeftEye: pt(0), RightEye: pt(1), Nose: pt(2), MouthLeft: pt(3), MouthRight: pt(4)}
	}
	return faces, nil
}

func round(v float64) int { return int(math.RoundToEven(v)) }

// stagePNet is StagePNet: P-Net over the pyramid, NMS per scale and across scales, squared boxes.
func (d *Detector) stagePNet(ctx context.Context, img tfmodel.Tensor, w, h int) ([]row, error) {
	var all []row
	for _, s := range pyramid(w, h, d.opts.MinFaceSize, d.opts.ScaleFactor, minSize) {
		// mtcnn resizes to shape * scale, which tf.image.resize truncates to int32.
		sh, sw := int(float64(h)*s), int(float64(w)*s)
		out, err := d.pnet.Run(ctx, map[string]tfmodel.Tensor{
			"image": img,
			"size":  {Shape: []int64{2}, Data: []float32{float32(sh), float32(sw)}},
		})
		if err != nil {
			return nil, fmt.Errorf("detect: p-net at scale %g (%dx%d): %w", s, sw, sh, err)
		}
		reg, prob := out["reg"], out["prob"]
		if len(prob.Shape) != 4 || len(reg.Shape) != 4 ||
			int64(len(prob.Data)) != 2*prob.Shape[1]*prob.Shape[2] || int64(len(reg.Data)) != 4*prob.Shape[1]*prob.Shape[2] {
			return nil, fmt.Errorf("detect: p-net output shapes %v %v: want (1,h,w,4) and (1,h,w,2)", reg.Shape, prob.Shape)
		}
		rows := generate(reg.Data, prob.Data, int(prob.Shape[1]), int(prob.Shape[2]), float32(d.opts.Thresholds[0]))
		upscale(rows, s)
		all = append(all, nms(rows, nmsPNet1, false, false)...)
	}
	all = nms(all, nmsPNet2, false, true)
	square(all)
	return all, nil
}

// refine is StageRNet (onet false) or StageONet (onet true): the network on the boxes' patches, new
// confidences, regression, (landmarks,) threshold, NMS (and squaring after R-Net).
func (d *Detector) refine(ctx context.Context, m *tfmodel.Model, img tfmodel.Tensor, rows []row, w, h int, onet bool) ([]row, error) {
	if len(rows) == 0 {
		return rows, nil
	}
	name, thr := "r-net", d.opts.Thresholds[1]
	if onet {
		name, thr = "o-net", d.opts.Thresholds[2]
	}
	// extract_patches divides by the image height and width (not size - 1) in float64; TensorFlow
	// takes the boxes as float32.
	boxes := make([]float32, 0, 4*len(rows))
	fh, fw := float64(h), float64(w)
	for _, r := range rows {
		boxes = append(boxes, float32(r.y1/fh), float32(r.x1/fw), float32(r.y2/fh), float32(r.x2/fw))
	}
	out, err := m.Run(ctx, map[string]tfmodel.Tensor{
		"image": img,
		"boxes": {Shape: []int64{int64(len(rows)), 4}, Data: boxes},
	})
	if err != nil {
		return nil, fmt.Errorf("detect: %s on %d boxes: %w", name, len(rows), err)
	}
	reg, prob := out["reg"], out["prob"]
	if len(reg.Data) != 4*len(rows) || len(prob.Data) != 2*len(rows) {
		return nil, fmt.Errorf("detect: %s output shapes %v %v for %d boxes", name, reg.Shape, prob.Shape, len(rows))
	}
	var lm tfmodel.Tensor
	if onet {
		if lm = out["landmarks"]; len(lm.Data) != 10*len(rows) {
			return nil, fmt.Errorf("detect: o-net landmarks shape %v for %d boxes", lm.Shape, len(rows))
		}
	}
	kept := rows[:0]
	for i := range rows {
		r := rows[i]
		if onet {
			landmarks(&r, lm.Data[10*i:10*i+10])
		}
		r.conf = float64(prob.Data[2*i+1])
		adjust(&r, reg.Data[4*i:4*i+4])
		if r.conf > thr {
			kept = append(kept, r)
		}
	}
	if onet {
		return nms(kept, nmsONet, true, true), nil
	}
	kept = nms(kept, nmsRNet, false, true)
	square(kept)
	return kept, nil
}

// detectShrunk detects on a copy of img scaled (aspect kept) to at most limit pixels and maps the
// faces back to img's pixels: the unrounded box and landmarks scale by the two axes' ratios, then
// round and clip as Detect does.
func (d *Detector) detectShrunk(ctx context.Context, img *encoding.Image, limit int64) ([]Face, error) {
	s := math.Sqrt(float64(limit) / (float64(img.Width) * float64(img.Height)))
	w, h := max(1, int(float64(img.Width)*s)), max(1, int(float64(img.Height)*s))
	for int64(w)*int64(h) > limit { // float rounding at the edge
		w, h = max(1, w-1), max(1, h-1)
	}
	small, err := img.Resize(w, h, encoding.Box, image.Rectangle{})
	if err != nil {
		return nil, fmt.Errorf("detect: shrink %dx%d to %dx%d: %w", img.Width, img.Height, w, h, err)
	}
	// The resize's intermediate rows (W' x H x 3, ~100 MB for 100 megapixels) are garbage now; with
	// the photo itself live, Go's GC would let the heap grow to twice that before collecting, and
	// TensorFlow's pyramid is about to need the most memory of the whole run.
	debug.FreeOSMemory()
	faces, err := d.Detect(ctx, small)
	if err != nil {
		return nil, err
	}
	sx, sy := float64(img.Width)/float64(w), float64(img.Height)/float64(h)
	for i := range faces {
		f := &faces[i]
		r := row{x1: f.Rect[0] * sx, y1: f.Rect[1] * sy, x2: f.Rect[2] * sx, y2: f.Rect[3] * sy}
		clip(&r, img.Width, img.Height)
		f.Rect = [4]float64{r.x1, r.y1, r.x2, r.y2}
		for k := 0; k < 5; k++ {
			f.Points[k] *= sx
			f.Points[5+k] *= sy
		}
		f.Box = [4]int{round(r.x1), round(r.y1), round(r.x2 - r.x1), round(r.y2 - r.y1)}
		pt := func(k int) image.Point { return image.Pt(round(f.Points[k]), round(f.Points[5+k])) }
		f.Keypoints = Keypoints{LeftEye: pt(0), RightEye: pt(1), Nose: pt(2), MouthLeft: pt(3), MouthRight: pt(4)}
	}
	return faces, nil
}
