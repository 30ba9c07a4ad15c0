// Package facenet is the whole pipeline of the Keras FaceNet notebook in one value: open a
// SavedModel folder, and the Pipeline it returns decodes and resizes images exactly as Keras'
// load_img (Pillow), turns pixels into the model's input by the model's profile, runs TensorFlow,
// L2-normalizes, detects faces in photos (MTCNN) when asked, and knows the embedding space its
// vectors live in, which is what an identity store must match.
//
// The program a user copies:
//
//	p, err := facenet.Open(ctx, "build/models/facenet-keras", facenet.Options{})
//	if err != nil { return err }
//	defer p.Close()
//	d, err := p.Verify(ctx, "images/camera_0.jpg", "younes", db)
//	fmt.Println(d.Message()) // It's younes, welcome in!
//
// db is an identity database in the pipeline's embedding space: verify.New(p.Space()) (or
// verify.Open of a saved one, refused with verify.ErrModelMismatch when another model made it),
// then db.Enrol(name, emb) with the vectors p.EncodeFile returns. Identify answers who_is_it
// over verify.NewSearcher(db), which scans or uses the million-face Index by the DB's size.
//
// With Options.Detect, or a profile whose crop rule is mtcnn-margin (facenet-keras' "photos"),
// the same calls take photos: each finds the faces (MTCNN, exact to PyPI
// mtcnn 1.0.0), crops them with FaceNet's margin, and uses the largest (Sandberg's choice);
// EncodeEveryFace embeds every face. Options.Threshold replaces the profile's threshold, and
// WriteThreshold stores a calibrated one (package calibrate computes it).
//
// The stages below, usable on their own: encoding (Pillow-exact decoding, the profile's pixel
// rule, the encoder), tfmodel (the TensorFlow runtime), vec (numpy-order vector maths), verify
// (the notebook's decisions and messages, the identity database, 1:N search), detect (MTCNN).
// This package wires them so that the CLI, the benchmark driver, the soak program and the
// service do not each repeat it.
//
// Every call that does work takes a context; cancelling it stops between images. TensorFlow's
// own log lines are hidden unless Options.TensorFlowLogs is set. A Pipeline is safe for
// concurrent use.
package facenet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/facenet-go/facenet/detect"
	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/fpcache"
	"github.com/facenet-go/facenet/tfmodel"
	"github.com/facenet-go/facenet/verify"
)

// DefaultMargin is the margin crop's default: 32 pixels around the detected box (16 a side),
// the value of Sandberg's facenet align_dataset_mtcnn.py and the MTCNN-then-FaceNet tutorials.
const DefaultMargin = 32

// ErrNoDetector is returned by Detect and Faces when the pipeline was opened without a detector.
var ErrNoDetector = errors.New("no face detector loaded (open with Options.Detect)")

// ErrNoFace marks a photo in which the detector found no face.
var ErrNoFace = errors.New("no face found")

// ErrBadThreshold is returned by Open for an Options.Threshold that is negative, NaN or infinite.
var ErrBadThreshold = errors.New("threshold must be a finite number > 0")

// ErrNoProfile is returned by Open with RequireProfile when the model folder has no profile.
var ErrNoProfile = errors.New("the model has no " + encoding.ProfileFile)

// Options configures Open. The zero value is the notebook's setup: the model's default profile,
// one image per model call, libjpeg-turbo, no detector.
type Options struct {
	// Profile names one of the model's profiles (assets.extra/facenet.<name>.json); "" is its
	// default one, or the notebook's rules when the model has none.
	Profile string
	// RequireProfile refuses a model without a profile instead of applying the notebook's rules
	// at the size its signature declares (benchmarks and soaks must run a known model).
	RequireProfile bool
	// BatchSize is the number of images per model call; 0 means 1, which reproduces the
	// notebook's per-image predict_on_batch to the last digit.
	BatchSize int
	// Workers is the number of decoding goroutines; 0 means GOMAXPROCS.
	Workers int
	// MaxPixels bounds each decoded image; 0 means encoding's default.
	MaxPixels int64
	// JPEGDecoder chooses the JPEG library; "" keeps the profile's (libjpeg-turbo by default).
	JPEGDecoder encoding.JPEGDecoder
	// Detect, when set, loads the MTCNN face detector so Detect and Faces work, with these
	// settings. When nil, a profile whose crop rule is mtcnn-margin (facenet-keras' "photos")
	// loads it all the same, from the default folder with the profile's margin: that profile's
	// images are photos.
	Detect *DetectOptions
	// IntraOpThreads and InterOpThreads size TensorFlow's thread pools; 0 keeps its defaults.
	IntraOpThreads, InterOpThreads int
	// MaxGarbageBytes is tfmodel.Options.MaxGarbageBytes.
	MaxGarbageBytes int64
	// Threshold replaces the profile's distance threshold for Verify, Identify and Threshold; 0
	// keeps the profile's. It must be a finite number > 0.
	Threshold float64
	// TensorFlowLogs lets TensorFlow's own log lines through. By default they are hidden: its
	// loader and graph optimizer log through absl, which TF_CPP_MIN_LOG_LEVEL does not reach, so
	// stderr is pointed at /dev/null around those calls (tfmodel.QuietStderr), never around ours.
	TensorFlowLogs bool
	// Quiet replaces tfmodel.QuietStderr as the hook around TensorFlow's noisy calls.
	Quiet func() (restore func())
}

// DetectOptions configures the face detector.
type DetectOptions struct {
	// Dir is the MTCNN SavedModels folder; "" means "mtcnn" beside the model folder, where
	// `make models` puts it.
	Dir string
	// Margin is the number of pixels added around each face box before cropping (margin/2 a
	// side); use DefaultMargin for Sandberg's rule.
	Margin int
}

// Pipeline is an opened model with everything needed to go from an image file or photo to an
// embedding. Its methods are safe for concurrent use; Close it when done.
type Pipeline struct {
	dir       string
	opts      Options
	threshold float64
	model     *tfmodel.Model
	enc       *encoding.Encoder
	space     verify.Space
	det       *detect.Detector
	margin    int
}

// startupLogOnce: TensorFlow's startup INFO lines are shown once per process, by the first
// pipeline that asks for TensorFlow's logs.
var startupLogOnce sync.Once

// Open loads the SavedModel in dir with its profile and, with opts.Detect, the face detector.
// TensorFlow's loader cannot be interrupted, so ctx is checked before each model is loaded.
func Open(ctx context.Context, dir string, opts Options) (*Pipeline, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t := opts.Threshold; t != 0 && !(t > 0 && !math.IsInf(t, 1)) {
		return nil, fmt.Errorf("threshold %v: %w", t, ErrBadThreshold)
	}
	var prof encoding.Profile
	var found bool
	var err error
	if opts.Profile != "" {
		prof, found, err = encoding.LoadNamedProfile(dir, opts.Profile)
	} else {
		// A model without a profile is fingerprinted from its variables, once per file version.
		prof, found, err = encoding.LoadProfileWith(dir, fpcache.Fingerprint)
	}
	if err != nil {
		return nil, err
	}
	if !found && opts.RequireProfile {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoProfile)
	}
	switch {
	case opts.TensorFlowLogs:
		opts.Quiet = nil
		startupLogOnce.Do(func() { os.Stderr.WriteString(tfmodel.StartupLog()) })
	case opts.Quiet == nil:
		opts.Quiet = tfmodel.QuietStderr
	}
	m, err := loadModel(dir, tfmodel.Options{
		Tags:            prof.Signature.TagSet,
		Signature:       prof.Signature.SignatureDef,
		Input:           prof.Signature.Input,
		Output:          prof.Signature.Output,
		IntraOpThreads:  opts.IntraOpThreads,
		InterOpThreads:  opts.InterOpThreads,
		MaxGarbageBytes: opts.MaxGarbageBytes,
		Quiet:           opts.Quiet,
	})
	if err != nil {
		return nil, err
	}
	p := &Pipeline{dir: dir, opts: opts, model: m}
	if err := p.init(ctx, prof, found, opts); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// loadModel is tfmodel.Load; the CLI's reliability tests replace it to crash inside the loader.
var loadModel = tfmodel.Load

// SetModelLoader replaces the function Open loads models with and returns the previous one. It
// exists for crash tests that must fail inside TensorFlow's loader; programs never need it.
func SetModelLoader(load func(dir string, opts tfmodel.Options) (*tfmodel.Model, error)) (previous func(string, tfmodel.Options) (*tfmodel.Model, error)) {
	previous, loadModel = loadModel, load
	return previous
}

func (p *Pipeline) init(ctx context.Context, prof encoding.Profile, found bool, opts Options) error {
	if in, ok := p.model.Input(); ok && len(in.Shape) == 4 {
		if !found {
			// No profile: the notebook's rules at the size and layout the model's signature declares.
			prof.Input = adaptToSignature(prof.Input, in.Shape)
		}
		h, w := in.Shape[1], in.Shape[2]
		if prof.Input.Layout == "NCHW" {
			h, w = in.Shape[2], in.Shape[3]
		}
		if h > 0 && w > 0 && (int(h) != prof.Input.Height || int(w) != prof.Input.Width) {
			return fmt.Errorf("%s: model input is %dx%d but its profile says %dx%d", p.dir, h, w, prof.Input.Height, prof.Input.Width)
		}
	}
	enc, err := encoding.NewEncoder(p.model, prof, encoding.EncoderOptions{
		BatchSize: opts.BatchSize, Workers: opts.Workers, MaxPixels: opts.MaxPixels, JPEGDecoder: opts.JPEGDecoder,
	})
	if err != nil {
		return err
	}
	p.enc = enc
	p.threshold = enc.Profile().Distance.Threshold
	if opts.Threshold != 0 {
		p.threshold = opts.Threshold
	}
	if p.space, err = spaceOf(enc.Profile()); err != nil {
		return err
	}
	if opts.Detect == nil && prof.Detects() {
		opts.Detect = &DetectOptions{Margin: prof.Crop.Margin}
	}
	if opts.Detect != nil {
		dir := opts.Detect.Dir
		if dir == "" {
			dir = filepath.Join(filepath.Dir(filepath.Clean(p.dir)), "mtcnn")
		}
		if opts.Detect.Margin < 0 {
			return fmt.Errorf("detector margin %d: must be >= 0", opts.Detect.Margin)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		det, err := detect.Load(dir, detect.Options{
			IntraOpThreads: opts.IntraOpThreads, InterOpThreads: opts.InterOpThreads, Quiet: opts.Quiet,
		})
		if err != nil {
			return fmt.Errorf("detector: %w", err)
		}
		p.det, p.margin = det, opts.Detect.Margin
	}
	return nil
}

// adaptToSignature takes the input size, and channels-first layout, from a model's (N, H, W, 3) or
// (N, 3, H, W) input shape; unknown dimensions keep the notebook's values.
func adaptToSignature(in encoding.InputProfile, shape []int64) encoding.InputProfile {
	h, w := shape[1], shape[2]
	if shape[1] == 3 && shape[3] != 3 {
		in.Layout = "NCHW"
		h, w = shape[2], shape[3]
	}
	if h > 0 {
		in.Height = int(h)
	}
	if w > 0 {
		in.Width = int(w)
	}
	return in
}

// spaceOf is the embedding space an encoder with profile p produces: the weights' fingerprint and
// the parts of the profile that change the vectors. The threshold is left out on purpose, so
// calibrating it does not orphan the databases made before. The JPEG decoder is left out too:
// libjpeg-turbo and libjpeg 9 differ by a few levels on some pixels, so their vectors are as
// comparable as two photographs.
func spaceOf(p encoding.Profile) (verify.Space, error) {
	p.Input.JPEGDecoder = ""
	prof, err := json.Marshal(struct {
		Signature encoding.SignatureProfile `json:"signature"`
		Input     encoding.InputProfile     `json:"input"`
		Output    encoding.OutputProfile    `json:"output"`
	}{p.Signature, p.Input, p.Output})
	if err != nil {
		return verify.Space{}, err
	}
	dim := p.Output.Dim
	if dim <= 0 {
		dim = 128
	}
	return verify.Space{Fingerprint: p.Fingerprint, Profile: prof, Dim: dim}, nil
}

// Close releases the TensorFlow sessions of the model and the detector.
func (p *Pipeline) Close() error {
	var errs []error
	if p.det != nil {
		errs = append(errs, p.det.Close())
		p.det = nil
	}
	if p.model != nil {
		errs = append(errs, p.model.Close())
		p.model = nil
	}
	return errors.Join(errs...)
}

// Dir is the model folder the pipeline was opened from.
func (p *Pipeline) Dir() string { return p.dir }

// Profile is the preprocessing profile in force (after Options.JPEGDecoder and the signature's
// size were applied).
func (p *Pipeline) Profile() encoding.Profile { return p.enc.Profile() }

// Space is the embedding space of the pipeline's vectors: a store made by another model or
// profile is refused with verify.ErrModelMismatch.
func (p *Pipeline) Space() verify.Space { return p.space }

// Threshold is the distance threshold of Verify and Identify: Options.Threshold, or the profile's
// (0.7, the notebook's, unless calibrated).
func (p *Pipeline) Threshold() float64 { return p.threshold }

// Model is the loaded SavedModel, for callers that run it on tensors of their own.
func (p *Pipeline) Model() *tfmodel.Model { return p.model }

// Encoder is the pipeline's encoder, for the lower-level calls (EncodeRaw, Preprocess).
func (p *Pipeline) Encoder() *encoding.Encoder { return p.enc }

// HasDetector reports whether the pipeline was opened with a face detector (Options.Detect, or
// the profile's crop rule).
func (p *Pipeline) HasDetector() bool { return p.det != nil }

// Margin is the margin of the face crops (see DetectOptions.Margin); 0 without a detector.
func (p *Pipeline) Margin() int { return p.margin }

// Decode decodes an image held in memory as Pillow does, with the pipeline's JPEG decoder and
// pixel bound: what load_img reads before resizing.
func (p *Pipeline) Decode(data []byte) (*encoding.Image, error) {
	return encoding.Decode(data, p.decodeOptions())
}

// DecodeFile is Decode for a file.
func (p *Pipeline) DecodeFile(path string) (*encoding.Image, error) {
	return encoding.DecodeFile(path, p.decodeOptions())
}

func (p *Pipeline) decodeOptions() encoding.DecodeOptions {
	return encoding.DecodeOptions{JPEGDecoder: encoding.JPEGDecoder(p.enc.Profile().Input.JPEGDecoder)}
}

// Encode is the notebook's img_to_encoding for each path: load_img, the profile's pixel rule, the
// model, L2 normalization.
func (p *Pipeline) Encode(ctx context.Context, paths ...string) ([][]float32, error) {
	return p.enc.Encode(ctx, paths...)
}

// EncodeImages embeds decoded images of any size (each is resized as load_img would).
func (p *Pipeline) EncodeImages(ctx context.Context, imgs []*encoding.Image) ([][]float32, error) {
	return p.enc.EncodeImages(ctx, imgs)
}

// Detect finds the faces in img, as mtcnn 1.0.0's detect_faces does.
func (p *Pipeline) Detect(ctx context.Context, img *encoding.Image) ([]detect.Face, error) {
	if p.det == nil {
		return nil, ErrNoDetector
	}
	return p.det.Detect(ctx, img)
}

// Face is one detected face and its margin crop, ready for EncodeImages.
type Face struct {
	detect.Face
	// Crop is the face box grown by the margin and clipped to the image.
	Crop *encoding.Image `json:"-"`
}

// Faces detects every face in img and crops each with the pipeline's margin; a photo without a
// face is ErrNoFace.
func (p *Pipeline) Faces(ctx context.Context, img *encoding.Image) ([]Face, error) {
	found, err := p.Detect(ctx, img)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, ErrNoFace
	}
	faces := make([]Face, len(found))
	for i, f := range found {
		crop, err := detect.CropFace(img, f, p.margin)
		if err != nil {
			return nil, err
		}
		faces[i] = Face{Face: f, Crop: crop}
	}
	return faces, nil
}

// facesIn decodes the photo at path and finds and crops its faces; errors name the path.
func (p *Pipeline) facesIn(ctx context.Context, path string) (*encoding.Image, []Face, error) {
	img, err := p.DecodeFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	faces, err := p.Faces(ctx, img)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, faces, nil
}

// LargestFace is Sandberg's choice among several faces (align_dataset_mtcnn.py): the largest box
// area minus twice the squared offset of its centre from the image centre. It returns an index
// into faces, which must not be empty.
func LargestFace(faces []detect.Face, width, height int) int {
	best, bestScore := 0, 0.0
	for i, f := range faces {
		area := float64(f.Box[2]) * float64(f.Box[3])
		dx := float64(f.Box[0]) + float64(f.Box[2])/2 - float64(width)/2
		dy := float64(f.Box[1]) + float64(f.Box[3])/2 - float64(height)/2
		score := area - 2*(dx*dx+dy*dy)
		if i == 0 || score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// EncodeLargestFaces embeds the largest face of each photo (what enroll and verify do with
// photos); a photo without a face is an error naming it and wrapping ErrNoFace.
func (p *Pipeline) EncodeLargestFaces(ctx context.Context, paths ...string) ([][]float32, error) {
	crops := make([]*encoding.Image, len(paths))
	for i, path := range paths {
		img, faces, err := p.facesIn(ctx, path)
		if err != nil {
			return nil, err
		}
		found := make([]detect.Face, len(faces))
		for j, f := range faces {
			found[j] = f.Face
		}
		crops[i] = faces[LargestFace(found, img.Width, img.Height)].Crop
	}
	return p.enc.EncodeImages(ctx, crops)
}

// EncodeFiles embeds each image the way enroll, verify and identify use it: with a detector, the
// largest face of each photo (an error wrapping ErrNoFace names a photo without one); without
// one, the whole image, which the notebook's crops are.
func (p *Pipeline) EncodeFiles(ctx context.Context, paths ...string) ([][]float32, error) {
	if p.det != nil {
		return p.EncodeLargestFaces(ctx, paths...)
	}
	return p.enc.Encode(ctx, paths...)
}

// EncodeFile is EncodeFiles for one image.
func (p *Pipeline) EncodeFile(ctx context.Context, path string) ([]float32, error) {
	embs, err := p.EncodeFiles(ctx, path)
	if err != nil {
		return nil, err
	}
	return embs[0], nil
}

// FaceEmbedding is one face found in a photo and its embedding.
type FaceEmbedding struct {
	// Path is the photo the face is in.
	Path string `json:"image"`
	detect.Face
	Embedding []float32 `json:"embedding"`
}

// EncodeEveryFace detects every face of every photo and embeds each (what embed and identify do
// with photos), photos in order and faces in the detector's order; a photo without a face is an
// error naming it and wrapping ErrNoFace.
func (p *Pipeline) EncodeEveryFace(ctx context.Context, paths ...string) ([]FaceEmbedding, error) {
	var out []FaceEmbedding
	var crops []*encoding.Image
	for _, path := range paths {
		_, faces, err := p.facesIn(ctx, path)
		if err != nil {
			return nil, err
		}
		for _, f := range faces {
			out = append(out, FaceEmbedding{Path: path, Face: f.Face})
			crops = append(crops, f.Crop)
		}
	}
	embs, err := p.enc.EncodeImages(ctx, crops)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Embedding = embs[i]
	}
	return out, nil
}

// Verify is the notebook's verify(image_path, identity, database, model): the image's embedding
// (EncodeFile) against identity's samples in db, accepted below the profile's threshold.
func (p *Pipeline) Verify(ctx context.Context, path, identity string, db *verify.DB) (verify.Decision, error) {
	emb, err := p.EncodeFile(ctx, path)
	if err != nil {
		return verify.Decision{}, err
	}
	return verify.Verify(emb, identity, db, p.Threshold())
}

// Identify is the notebook's who_is_it for the image at path (EncodeFile) over s, unknown beyond
// the profile's threshold. verify.NewSearcher(db) gives the right searcher for a DB.
func (p *Pipeline) Identify(ctx context.Context, path string, s verify.Searcher) (verify.Match, error) {
	emb, err := p.EncodeFile(ctx, path)
	if err != nil {
		return verify.Match{}, err
	}
	return s.WhoIsIt(emb, p.Threshold())
}

// WriteThreshold stores t as the distance threshold of the profile the pipeline was opened with
// (Options.Profile), in the model folder, creating the profile file from the rules in force when
// the model had none; pipelines opened afterwards use it. Options.JPEGDecoder is for this
// pipeline only: the file keeps the decoder it had. Identity databases stay valid, since their
// embedding space leaves the threshold out. It returns the profile file's path.
func (p *Pipeline) WriteThreshold(t float64) (string, error) {
	if !(t > 0 && !math.IsInf(t, 1)) {
		return "", fmt.Errorf("threshold %v: %w", t, ErrBadThreshold)
	}
	prof := p.enc.Profile()
	if p.opts.JPEGDecoder != "" {
		onDisk, _, err := encoding.LoadNamedProfile(p.dir, p.opts.Profile)
		if err != nil {
			return "", err
		}
		prof.Input.JPEGDecoder = onDisk.Input.JPEGDecoder
	}
	prof.Distance.Threshold = t
	return encoding.WriteProfile(p.dir, p.opts.Profile, prof)
}
