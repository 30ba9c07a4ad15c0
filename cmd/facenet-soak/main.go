// Command facenet-soak embeds images over and over in one process and records its resident
// memory, to show that a long-running service built on encoding.Encoder and tfmodel does not
// grow, and that the same image keeps giving the same embedding to the last bit.
//
// Usage:
//
//	facenet-soak -model DIR [-n 10000] [-every 1000] [-warmup 1000] [-max-growth 5] [-json] IMAGE...
//
// Every -every embeddings it prints a sample: embeddings done, VmRSS, the Go heap, the number
// of garbage collections and the time per embedding. At the end it compares the last sample with
// the first one at or after -warmup and exits 1 when RSS grew by more than -max-growth percent,
// or when an embedding differed from the image's first one. `make reliability` runs it on the
// dlib ResNet.
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
	"runtime"
	"time"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/procstat"
)

// errUsage marks a mistake in the command line (exit code 2) rather than a failure of the work.
var errUsage = errors.New("usage")

// errGrowth is returned when resident memory grew past the limit after warm-up.
var errGrowth = errors.New("resident memory grew past the limit")

// errDrift is returned when an image's embedding changed between two passes.
var errDrift = errors.New("embedding changed between passes")

// config is the parsed command line.
type config struct {
	model      string
	images     []string
	n, every   int
	warmup     int
	maxGrowth  float64
	asJSON     bool
	maxGarbage int64
}

// sample is one point of the memory curve.
type sample struct {
	N          int     `json:"n"`
	RSSKiB     int64   `json:"rss_kib"`
	HeapKiB    int64   `json:"go_heap_kib"`
	NumGC      uint32  `json:"gc"`
	MsPerEmbed float64 `json:"ms_per_embedding"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without os.Exit, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "facenet-soak: %v\n", err)
		return 2
	}
	if err := soak(cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "facenet-soak: %v\n", err)
		return 1
	}
	return 0
}

func parseArgs(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("facenet-soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.model, "model", "", "SavedModel directory with its facenet profile, "+encoding.ProfileFile+" (required)")
	fs.IntVar(&c.n, "n", 10000, "embeddings to compute")
	fs.IntVar(&c.every, "every", 1000, "embeddings between two samples")
	fs.IntVar(&c.warmup, "warmup", 1000, "embeddings before the reference sample")
	fs.Float64Var(&c.maxGrowth, "max-growth", 5, "largest RSS growth after warm-up, in percent")
	fs.BoolVar(&c.asJSON, "json", false, "print samples as JSON lines")
	fs.Int64Var(&c.maxGarbage, "max-garbage", 0, "tfmodel.Options.MaxGarbageBytes (0: the default, -1: never force a GC)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: facenet-soak -model DIR [-n N] [-every N] [-warmup N] [-max-growth PCT] [-json] IMAGE...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, fmt.Errorf("%w: %v", errUsage, err)
	}
	c.images = fs.Args()
	switch {
	case c.model == "":
		return c, fmt.Errorf("%w: -model is required", errUsage)
	case len(c.images) == 0:
		return c, fmt.Errorf("%w: no images given", errUsage)
	case c.n <= 0 || c.every <= 0 || c.warmup < 0:
		return c, fmt.Errorf("%w: -n and -every must be positive, -warmup not negative", errUsage)
	case c.warmup >= c.n:
		return c, fmt.Errorf("%w: -warmup %d leaves nothing to measure in -n %d", errUsage, c.warmup, c.n)
	case !(c.maxGrowth >= 0):
		return c, fmt.Errorf("%w: -max-growth must be a percentage >= 0", errUsage)
	}
	return c, nil
}

func soak(c config, stdout io.Writer) error {
	// RequireProfile: the notebook's defaults are 160x160, so without a profile the input size
	// would be a guess; the soak needs the model's own preprocessing.
	p, err := facenet.Open(context.Background(), c.model, facenet.Options{RequireProfile: true, MaxGarbageBytes: c.maxGarbage})
	if err != nil {
		return err
	}
	defer p.Close()
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	if !c.asJSON {
		fmt.Fprintf(w, "%10s %10s %12s %6s %8s\n", "embeddings", "RSS MiB", "Go heap MiB", "GCs", "ms/emb")
	}
	ctx := context.Background()
	first := make([][]float32, len(c.images))
	var samples []sample
	start := time.Now()
	for i := 0; i < c.n; i++ {
		k := i % len(c.images)
		emb, err := p.EncodeFile(ctx, c.images[k])
		if err != nil {
			return err
		}
		if first[k] == nil {
			first[k] = emb
		} else if d := firstDiff(first[k], emb); d >= 0 {
			return fmt.Errorf("%w: %s, embedding %d, value %d: %v then %v", errDrift, c.images[k], i, d, first[k][d], emb[d])
		}
		if (i+1)%c.every == 0 || i+1 == c.n {
			s, err := measure(i+1, time.Since(start))
			if err != nil {
				return err
			}
			samples = append(samples, s)
			if err := printSample(w, s, c.asJSON); err != nil {
				return err
			}
			w.Flush()
		}
	}
	pct, from, to, ok := growth(samples, c.warmup)
	if !ok {
		return fmt.Errorf("no sample at or after the warm-up of %d embeddings", c.warmup)
	}
	summary := fmt.Sprintf("RSS %.1f MiB after %d embeddings, %.1f MiB after %d: %+.2f%% (limit %g%%)",
		float64(from.RSSKiB)/1024, from.N, float64(to.RSSKiB)/1024, to.N, pct, c.maxGrowth)
	if c.asJSON {
		line, _ := json.Marshal(map[string]any{"growth_percent": pct, "from": from, "to": to, "limit_percent": c.maxGrowth})
		fmt.Fprintf(w, "%s\n", line)
	} else {
		fmt.Fprintln(w, summary)
	}
	if pct > c.maxGrowth {
		return fmt.Errorf("%w: %s", errGrowth, summary)
	}
	return w.Flush()
}

// growth compares the last sample with the first one taken at or after warmup embeddings, in
// percent of the earlier RSS.
func growth(samples []sample, warmup int) (pct float64, from, to sample, ok bool) {
	for _, s := range samples {
		if s.N >= warmup {
			from, ok = s, true
			break
		}
	}
	if !ok || from.RSSKiB <= 0 {
		return 0, sample{}, sample{}, false
	}
	to = samples[len(samples)-1]
	return 100 * float64(to.RSSKiB-from.RSSKiB) / float64(from.RSSKiB), from, to, true
}

func firstDiff(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

func measure(n int, elapsed time.Duration) (sample, error) {
	rss, err := rssKiB()
	if err != nil {
		return sample{}, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return sample{
		N: n, RSSKiB: rss, HeapKiB: int64(ms.HeapInuse >> 10), NumGC: ms.NumGC,
		MsPerEmbed: float64(elapsed.Microseconds()) / 1000 / float64(n),
	}, nil
}

func printSample(w io.Writer, s sample, asJSON bool) error {
	if asJSON {
		line, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", line)
		return err
	}
	_, err := fmt.Fprintf(w, "%10d %10.1f %12.1f %6d %8.2f\n", s.N, float64(s.RSSKiB)/1024, float64(s.HeapKiB)/1024, s.NumGC, s.MsPerEmbed)
	return err
}

// rssKiB reads this process's resident set size from /proc.
func rssKiB() (int64, error) {
	v, err := procstat.SelfKiB("VmRSS")
	if err != nil {
		return 0, fmt.Errorf("resident memory: %w", err)
	}
	return v, nil
}
