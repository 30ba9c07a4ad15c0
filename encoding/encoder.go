package encoding

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/facenet-go/facenet/vec"
)

// Model is what the Encoder needs from a network: run one float32 batch, batch dimension first, and
// return the output and its shape. *tfmodel.Model satisfies it; tests use a fake without TensorFlow.
type Model interface {
	Predict(ctx context.Context, input []float32, shape []int64) (output []float32, outShape []int64, err error)
}

// ErrBadEmbedding means the model returned an embedding that cannot be normalized or compared: all
// zeros, or a NaN or infinity in it.
var ErrBadEmbedding = errors.New("encoding: model returned an unusable embedding")

// EncoderOptions tune batching. The zero value is good for most uses.
type EncoderOptions struct {
	// BatchSize is the most images per model call in Encode; 0 means 32.
	BatchSize int
	// Workers is how many goroutines decode images while the model runs; 0 means GOMAXPROCS.
	Workers int
	// MaxPixels overrides the decompression-bomb limit (see LoadOptions.MaxPixels); 0 keeps Pillow's.
	MaxPixels int64
	// JPEGDecoder overrides the profile's input jpeg_decoder; "" keeps the profile's choice.
	JPEGDecoder JPEGDecoder
}

// Encoder turns image files into embeddings the way the notebook's img_to_encoding does, with the
// preprocessing its Profile describes.
type Encoder struct {
	model   Model
	prof    Profile
	load    LoadOptions
	pixels  PixelOptions
	batch   int
	workers int
	size    int // float32 values per image
}

// NewEncoder checks the profile and prepares the preprocessing for model.
func NewEncoder(model Model, prof Profile, opts EncoderOptions) (*Encoder, error) {
	if model == nil {
		return nil, errors.New("encoding: NewEncoder needs a model")
	}
	if err := prof.Validate(); err != nil {
		return nil, err
	}
	interp, err := ParseInterpolation(prof.Input.Interpolation)
	if err != nil {
		return nil, err
	}
	dec := opts.JPEGDecoder
	if dec == "" {
		dec = JPEGDecoder(prof.Input.JPEGDecoder)
	}
	if dec, err = ParseJPEGDecoder(string(dec)); err != nil {
		return nil, err
	}
	// The profile the encoder reports says which decoder made its vectors; the default stays
	// unwritten so profiles (and the embedding spaces built from them) are what they were before.
	prof.Input.JPEGDecoder = ""
	if dec != LibjpegTurbo {
		prof.Input.JPEGDecoder = string(dec)
	}
	round := -1
	if prof.Input.RoundDecimals != nil {
		round = *prof.Input.RoundDecimals
	}
	e := &Encoder{
		model: model,
		prof:  prof,
		load: LoadOptions{
			Height: prof.Input.Height, Width: prof.Input.Width, Interpolation: interp,
			KeepAspectRatio: prof.Input.KeepAspectRatio, MaxPixels: opts.MaxPixels, JPEGDecoder: dec,
		},
		pixels: PixelOptions{
			Rule: PixelRule(prof.Input.PixelRule), DivideBy: prof.Input.DivideBy, RoundDecimals: round,
			BGR: prof.Input.ColorOrder == "BGR", ChannelsFirst: prof.Input.Layout == "NCHW",
		},
		batch:   opts.BatchSize,
		workers: opts.Workers,
		size:    prof.Input.Height * prof.Input.Width * prof.Input.Channels,
	}
	if e.batch <= 0 {
		e.batch = 32
	}
	if e.workers <= 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}
	return e, nil
}

// Profile returns the profile the encoder applies.
func (e *Encoder) Profile() Profile { return e.prof }

// inputShape is the model input shape for n images.
func (e *Encoder) inputShape(n int) []int64 {
	in := e.prof.Input
	if in.Layout == "NCHW" {
		return []int64{int64(n), int64(in.Channels), int64(in.Height), int64(in.Width)}
	}
	return []int64{int64(n), int64(in.Height), int64(in.Width), int64(in.Channels)}
}

// Preprocess loads one image into dst (len = one image's worth of float32) exactly as the notebook
// feeds it to the model.
func (e *Encoder) Preprocess(path string, dst []float32) error {
	img, err := LoadImg(path, e.load)
	if err != nil {
		return err
	}
	return img.FillTensor(dst, e.pixels)
}

// ImgToEncoding is the notebook's img_to_encoding: load_img, /255 rounded, expand_dims,
// predict_on_batch, then (when the profile says so, as for FaceNet) divide by the L2 norm.
func (e *Encoder) ImgToEncoding(ctx context.Context, path string) ([]float32, error) {
	x := make([]float32, e.size)
	if err := e.Preprocess(path, x); err != nil {
		return nil, err
	}
	out, err := e.run(ctx, x, 1, e.prof.Output.L2Normalize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out[0], nil
}

// Encode embeds many images, BatchSize per model call, decoding the next batch on Workers goroutines
// while the model runs the current one. When the profile asks for L2 normalization (FaceNet does), each
// row is normalized on its own.
//
// The notebook's formula, embedding / np.linalg.norm(embedding, ord=2), divides a whole batch by one
// matrix norm (its largest singular value); for one image that is the vector's norm, which is what
// every row gets here, so Encode(a, b) equals ImgToEncoding(a), ImgToEncoding(b).
func (e *Encoder) Encode(ctx context.Context, paths ...string) ([][]float32, error) {
	return e.encode(ctx, paths, e.prof.Output.L2Normalize)
}

// EncodeRaw is Encode without the L2 normalization: the model's outputs as they are.
func (e *Encoder) EncodeRaw(ctx context.Context, paths ...string) ([][]float32, error) {
	return e.encode(ctx, paths, false)
}

type batchJob struct {
	start int
	x     []float32
	n     int
	err   error
}

func (e *Encoder) encode(ctx context.Context, paths []string, normalize bool) ([][]float32, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan *batchJob, 1) // one batch decoded ahead of the one the model runs
	go func() {
		defer close(ready)
		for start := 0; start < len(paths); start += e.batch {
			n := min(e.batch, len(paths)-start)
			job := &batchJob{start: start, n: n, x: make([]float32, n*e.size)}
			job.err = e.decodeBatch(ctx, paths[start:start+n], job.x)
			select {
			case ready <- job:
			case <-ctx.Done():
				return
			}
			if job.err != nil {
				return
			}
		}
	}()
	out := make([][]float32, 0, len(paths))
	for job := range ready {
		if job.err != nil {
			return nil, job.err
		}
		embs, err := e.run(ctx, job.x, job.n, normalize)
		if err != nil {
			return nil, fmt.Errorf("images %d..%d: %w", job.start, job.start+job.n-1, err)
		}
		out = append(out, embs...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(out) != len(paths) {
		return nil, fmt.Errorf("encoding: %d embeddings for %d images", len(out), len(paths))
	}
	return out, nil
}

// decodeBatch preprocesses paths into x on up to e.workers goroutines; the first error (in path order)
// wins so the message is the same on every run.
func (e *Encoder) decodeBatch(ctx context.Context, paths []string, x []float32) error {
	errs := make([]error, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(e.workers, len(paths)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = e.Preprocess(paths[i], x[i*e.size:(i+1)*e.size])
			}
		}()
	}
feed:
	for i := range paths {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return firstError(errs)
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *Encoder) run(ctx context.Context, x []float32, n int, normalize bool) ([][]float32, error) {
	y, shape, err := e.model.Predict(ctx, x, e.inputShape(n))
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] != int64(n) || int64(len(y)) != shape[0]*shape[1] {
		return nil, fmt.Errorf("encoding: model output shape %v for a batch of %d: want (%d, dim)", shape, n, n)
	}
	dim := int(shape[1])
	if e.prof.Output.Dim > 0 && dim != e.prof.Output.Dim {
		return nil, fmt.Errorf("encoding: model output dim %d, profile says %d", dim, e.prof.Output.Dim)
	}
	rows := make([][]float32, n)
	for i := range rows {
		row := y[i*dim : (i+1)*dim : (i+1)*dim]
		if err := checkFinite(row); err != nil {
			return nil, err
		}
		if normalize {
			// vec.Normalize is the notebook's embedding / np.linalg.norm(embedding, ord=2) to the
			// bit: the correctly rounded float32 norm, then float32 division.
			var err error
			if row, err = vec.Normalize(row); err != nil {
				if errors.Is(err, vec.ErrZeroVector) {
					return nil, fmt.Errorf("%w: all zeros, cannot normalize", ErrBadEmbedding)
				}
				return nil, fmt.Errorf("%w: %v", ErrBadEmbedding, err)
			}
		}
		rows[i] = row
	}
	return rows, nil
}

func checkFinite(v []float32) error {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: non-finite value %v", ErrBadEmbedding, x)
		}
	}
	return nil
}
