// Command facenet-bench times one Go side of `make bench`: the notebook's img_to_encoding per image,
// batched encoding, or the raw Session.Run floor, on a FaceNet SavedModel and a list of images.
//
// Usage:
//
//	facenet-bench -mode loop|batched|floor -model DIR -list FILE [-batch N] [-intra N] [-inter N] [-reps N]
//
// It prints one JSON object (see report) on stdout. Each mode runs in its own process so that the peak
// resident memory the parent reads with wait4 belongs to that mode alone; scripts/bench_compare.py runs
// it interleaved with the Python side (scripts/bench_python.py) and prints the comparison.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/facenet-go/facenet"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/tfmodel"
)

// errUsage marks a mistake in the command line (exit code 2) rather than a failure of the work.
var errUsage = errors.New("usage")

// Modes: what one process times.
const (
	modeLoop    = "loop"    // Encoder.ImgToEncoding per image: the notebook's loop
	modeBatched = "batched" // Encoder.Encode: batches, decoding overlapped with inference
	modeFloor   = "floor"   // tfmodel.Predict on pre-made inputs: one Session.Run per batch, no decoding
)

// config is the parsed command line.
type config struct {
	mode       string
	model      string
	list       string
	batch      int
	workers    int
	intra      int
	inter      int
	reps       int
	cpuprofile string
	maxGarbage int64  // tfmodel.Options.MaxGarbageBytes
	profile    string // photo mode: the model profile
	margin     int    // photo mode: the crop margin
}

// report is the JSON line a run prints; scripts/bench_compare.py reads the same fields from the
// Python side.
type report struct {
	Side   string `json:"side"`
	Mode   string `json:"mode"`
	Images int    `json:"images"`
	Batch  int    `json:"batch"`
	Intra  int    `json:"intra"`
	Inter  int    `json:"inter"`
	// Seconds holds one wall time per timed pass over all the images; warm-up is excluded.
	Seconds []float64 `json:"seconds"`
	// CPUSeconds is the process's user+system CPU time of each timed pass: less sensitive than wall
	// time to other load on the machine.
	CPUSeconds []float64 `json:"cpu_seconds"`
	WarmupS    float64   `json:"warmup_s"`
	LoadS      float64   `json:"load_s"`
	// PreprocessS is one extra, separately timed pass of the preprocessing alone (decode, resize,
	// float tensor) over all the images: what the Go side adds on top of the model.
	PreprocessS float64 `json:"preprocess_s"`
	// PeakRSSKiB is this process's VmHWM at the end; the parent also reads ru_maxrss.
	PeakRSSKiB int64 `json:"peak_rss_kib"`
	// Embedding0 is the first image's output from the last pass, so the parent can check that
	// every mode computed the same thing.
	Embedding0 []float32 `json:"embedding0"`
	// Boxes (photo mode) are every photo's face boxes [x, y, w, h], in the detector's order.
	Boxes [][][4]int `json:"boxes,omitempty"`
	// Stages (photo mode) splits the last timed pass's wall time.
	Stages *photoStages `json:"stages,omitempty"`
}

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "facenet-bench: %v\n", err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "facenet-bench: %v\n", err)
		os.Exit(1)
	}
}

func parseArgs(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("facenet-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.mode, "mode", "", "what to time: loop (ImgToEncoding per image), batched (Encode), floor (Predict on pre-made inputs), photo (detect, crop and embed every face of each photo)")
	fs.StringVar(&c.profile, "profile", "", "photo mode: the model profile (default: the model's default profile)")
	fs.IntVar(&c.margin, "margin", facenet.DefaultMargin, "photo mode: the crop margin")
	fs.StringVar(&c.model, "model", "", "SavedModel directory with its facenet profile (required)")
	fs.StringVar(&c.list, "list", "", "file with one image path per line, in the order to encode (required)")
	fs.IntVar(&c.batch, "batch", 32, "images per model call (batched and floor)")
	fs.IntVar(&c.workers, "workers", 0, "decoding goroutines in batched mode; 0 means GOMAXPROCS")
	fs.IntVar(&c.intra, "intra", 2, "TensorFlow intra-op threads")
	fs.IntVar(&c.inter, "inter", 1, "TensorFlow inter-op threads")
	fs.IntVar(&c.reps, "reps", 1, "timed passes over the images after the warm-up")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a pprof CPU profile of the timed passes to this file")
	fs.Int64Var(&c.maxGarbage, "max-garbage", 0, "tfmodel.Options.MaxGarbageBytes: C tensor bytes awaiting finalizers before a forced GC (0: tfmodel's default, <0: never)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: facenet-bench -mode loop|batched|floor|photo -model DIR -list FILE [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	case c.mode != modeLoop && c.mode != modeBatched && c.mode != modeFloor && c.mode != modePhoto:
		return c, fmt.Errorf("%w: -mode must be loop, batched, floor or photo, got %q", errUsage, c.mode)
	case c.margin < 0:
		return c, fmt.Errorf("%w: -margin must not be negative, got %d", errUsage, c.margin)
	case c.model == "":
		return c, fmt.Errorf("%w: -model is required", errUsage)
	case c.list == "":
		return c, fmt.Errorf("%w: -list is required", errUsage)
	case c.batch <= 0:
		return c, fmt.Errorf("%w: -batch must be positive, got %d", errUsage, c.batch)
	case c.reps <= 0:
		return c, fmt.Errorf("%w: -reps must be positive, got %d", errUsage, c.reps)
	case c.intra < 0 || c.inter < 0 || c.workers < 0:
		return c, fmt.Errorf("%w: -intra, -inter and -workers must not be negative", errUsage)
	}
	return c, nil
}

// readList reads image paths, one per line; blank lines are ignored.
func readList(r io.Reader) ([]string, error) {
	var paths []string
	s := bufio.NewScanner(r)
	for s.Scan() {
		if p := strings.TrimSpace(s.Text()); p != "" {
			paths = append(paths, p)
		}
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, errors.New("no image paths")
	}
	return paths, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	f, err := os.Open(c.list)
	if err != nil {
		return fmt.Errorf("image list: %w", err)
	}
	paths, err := readList(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("image list %s: %w", c.list, err)
	}
	rep, err := bench(context.Background(), c, paths)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(rep)
}

// pass is one timed unit of work over all the images; it returns the first image's embedding.
type pass func(ctx context.Context) ([]float32, error)

func bench(ctx context.Context, c config, paths []string) (*report, error) {
	if c.mode == modePhoto {
		return benchPhoto(ctx, c, paths)
	}
	rep := &report{Side: "go", Mode: c.mode, Images: len(paths), Batch: c.batch, Intra: c.intra, Inter: c.inter}
	if c.mode == modeLoop {
		rep.Batch = 1
	}
	t0 := time.Now()
	// RequireProfile: a benchmark must run a known model, not the notebook's rules guessed.
	p, err := facenet.Open(ctx, c.model, facenet.Options{
		RequireProfile: true, BatchSize: c.batch, Workers: c.workers,
		IntraOpThreads: c.intra, InterOpThreads: c.inter, MaxGarbageBytes: c.maxGarbage,
	})
	if errors.Is(err, facenet.ErrNoProfile) {
		return nil, fmt.Errorf("%w: the benchmark needs the model's profile", err)
	}
	if err != nil {
		return nil, err
	}
	defer p.Close()
	enc, m := p.Encoder(), p.Model()
	rep.LoadS = time.Since(t0).Seconds()

	warm, timed, err := passes(ctx, c, enc, m, paths)
	if err != nil {
		return nil, err
	}
	t0 = time.Now()
	if err := warm(ctx); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	rep.WarmupS = time.Since(t0).Seconds()

	stop, err := startProfile(c.cpuprofile)
	if err != nil {
		return nil, err
	}
	for range c.reps {
		t0, c0 := time.Now(), cpuSeconds()
		emb, err := timed(ctx)
		if err != nil {
			stop()
			return nil, err
		}
		rep.Seconds = append(rep.Seconds, time.Since(t0).Seconds())
		rep.CPUSeconds = append(rep.CPUSeconds, cpuSeconds()-c0)
		rep.Embedding0 = emb
	}
	if err := stop(); err != nil {
		return nil, err
	}

	// Preprocessing alone, after the timed passes so it cannot warm their caches.
	x := make([]float32, tensorLen(enc))
	t0 = time.Now()
	for _, p := range paths {
		if err := enc.Preprocess(p, x); err != nil {
			return nil, err
		}
	}
	rep.PreprocessS = time.Since(t0).Seconds()
	if rep.PeakRSSKiB, err = peakRSSKiB(); err != nil {
		return nil, err
	}
	return rep, nil
}

func tensorLen(enc *encoding.Encoder) int {
	in := enc.Profile().Input
	return in.Height * in.Width * in.Channels
}

// passes returns the warm-up (the first model call builds TensorFlow's executors, so it is not timed)
// and the timed pass of mode c.mode.
func passes(ctx context.Context, c config, enc *encoding.Encoder, m *tfmodel.Model, paths []string) (warm func(context.Context) error, timed pass, err error) {
	switch c.mode {
	case modeLoop:
		warm = func(ctx context.Context) error {
			_, err := enc.ImgToEncoding(ctx, paths[0])
			return err
		}
		timed = func(ctx context.Context) ([]float32, error) {
			var first []float32
			for i, p := range paths {
				e, err := enc.ImgToEncoding(ctx, p)
				if err != nil {
					return nil, err
				}
				if i == 0 {
					first = e
				}
			}
			return first, nil
		}
		return warm, timed, nil
	case modeBatched:
		warm = func(ctx context.Context) error {
			_, err := enc.Encode(ctx, paths[:warmupImages(len(paths), c.batch)]...)
			return err
		}
		timed = func(ctx context.Context) ([]float32, error) {
			embs, err := enc.Encode(ctx, paths...)
			if err != nil {
				return nil, err
			}
			return embs[0], nil
		}
		return warm, timed, nil
	}
	return floorPasses(c, enc, m, paths)
}

// warmupImages is how many leading images the warm-up of a batched pass over n images takes: one full
// batch and, when n is not a multiple of batch, one batch of the remainder's size, so that every input
// shape of the timed pass has run once. The first run of a shape is not steady state: TensorFlow builds
// its oneDNN primitives per shape, and Keras traces its predict function anew (the Python side warms
// up the same way).
func warmupImages(n, batch int) int {
	if n <= batch {
		return n
	}
	return min(n, batch+n%batch)
}

// floorPasses preprocesses every image once, up front, so the timed pass is nothing but Predict (one
// Session.Run with its tensor copies) over batches of c.batch: the cost no Go code around the model
// can go below.
func floorPasses(c config, enc *encoding.Encoder, m *tfmodel.Model, paths []string) (warm func(context.Context) error, timed pass, err error) {
	size := tensorLen(enc)
	in := enc.Profile().Input
	x := make([]float32, len(paths)*size)
	for i, p := range paths {
		if err := enc.Preprocess(p, x[i*size:(i+1)*size]); err != nil {
			return nil, nil, err
		}
	}
	shape := func(n int) []int64 {
		if in.Layout == "NCHW" {
			return []int64{int64(n), int64(in.Channels), int64(in.Height), int64(in.Width)}
		}
		return []int64{int64(n), int64(in.Height), int64(in.Width), int64(in.Channels)}
	}
	predict := func(ctx context.Context, start, n int) ([]float32, error) {
		y, _, err := m.Predict(ctx, x[start*size:(start+n)*size], shape(n))
		if err != nil {
			return nil, fmt.Errorf("images %d..%d: %w", start, start+n-1, err)
		}
		return y, nil
	}
	warm = func(ctx context.Context) error {
		n := warmupImages(len(paths), c.batch)
		for start := 0; start < n; start += c.batch {
			if _, err := predict(ctx, start, min(c.batch, n-start)); err != nil {
				return err
			}
		}
		return nil
	}
	timed = func(ctx context.Context) ([]float32, error) {
		var first []float32
		for start := 0; start < len(paths); start += c.batch {
			y, err := predict(ctx, start, min(c.batch, len(paths)-start))
			if err != nil {
				return nil, err
			}
			if start == 0 {
				first = y
			}
		}
		// The floor's output is the raw embedding; normalize the first one (outside the timing loop's
		// batches, so it costs nothing measurable) so the parent compares like with like.
		dim := len(first) / min(c.batch, len(paths))
		return unit(first[:dim]), nil
	}
	return warm, timed, nil
}

// unit returns v divided by its L2 norm, accumulated in float64 as the Encoder does.
func unit(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if s == 0 {
		return out
	}
	n := math.Sqrt(s)
	for i, x := range v {
		out[i] = float32(float64(x) / n)
	}
	return out
}

// startProfile starts a CPU profile into path ("" does nothing) and returns the function that ends it.
func startProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile %s: %w", path, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("cpu profile %s: %w", path, err)
		}
		return nil
	}, nil
}
