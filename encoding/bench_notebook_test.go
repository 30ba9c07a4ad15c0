package encoding_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/testenv"
)

// BenchmarkDecode is the decoder alone, from bytes in memory: the notebook's 96x96 images (JPEG and
// its one PNG) and a 1920x1280 photo-sized JPEG.
func BenchmarkDecode(b *testing.B) {
	for _, f := range []struct{ name, rel string }{
		{"jpeg_96x96", "images/andrew.jpg"},
		{"png_96x96", "images/danielle.png"},
		{"jpeg_1920x1280", "preprocess/corpus/bench_1920x1280.jpg"},
	} {
		b.Run(f.name, func(b *testing.B) {
			data, err := os.ReadFile(testenv.Testdata(b, f.rel))
			if err != nil {
				b.Fatal(err)
			}
			img, err := encoding.Decode(data, encoding.DecodeOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if got := fmt.Sprintf("%dx%d", img.Width, img.Height); got != f.name[len(f.name)-len(got):] {
				b.Fatalf("%s decodes to %s", f.rel, got)
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := encoding.Decode(data, encoding.DecodeOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// constModel stands in for TensorFlow: it returns a fixed 128-d row per image at once, so the
// benchmarks below measure only what the Encoder adds around Session.Run.
type constModel struct{ row []float32 }

func (m constModel) Predict(_ context.Context, _ []float32, shape []int64) ([]float32, []int64, error) {
	n := int(shape[0])
	out := make([]float32, 0, n*len(m.row)) // a fresh output per call, as tfmodel returns
	for range n {
		out = append(out, m.row...)
	}
	return out, []int64{int64(n), int64(len(m.row))}, nil
}

func newConstEncoder(b *testing.B, batch int) *encoding.Encoder {
	b.Helper()
	row := make([]float32, 128)
	for i := range row {
		row[i] = float32(i%7) - 3
	}
	enc, err := encoding.NewEncoder(constModel{row}, encoding.NotebookProfile(), encoding.EncoderOptions{BatchSize: batch})
	if err != nil {
		b.Fatal(err)
	}
	return enc
}

// notebookPaths is the 18 notebook images repeated to n, as `make bench` feeds them.
func notebookPaths(b *testing.B, n int) []string {
	b.Helper()
	dir := testenv.Testdata(b, "images")
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); ext == ".jpg" || ext == ".png" {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) != 18 {
		b.Fatalf("%s holds %d files, want the notebook's 18", dir, len(files))
	}
	paths := make([]string, n)
	for i := range paths {
		paths[i] = files[i%len(files)]
	}
	return paths
}

// BenchmarkImgToEncodingOverhead is img_to_encoding per image minus the network: load_img, the
// float tensor, the model's output checks and the L2 normalization. `make bench` reports the same
// thing as overhead_pct against the real Session.Run.
func BenchmarkImgToEncodingOverhead(b *testing.B) {
	enc := newConstEncoder(b, 1)
	paths := notebookPaths(b, 18)
	ctx := context.Background()
	e, err := enc.ImgToEncoding(ctx, paths[0])
	if err != nil {
		b.Fatal(err)
	}
	var norm float64
	for _, v := range e {
		norm += float64(v) * float64(v)
	}
	if math.Abs(norm-1) > 1e-6 {
		b.Fatalf("embedding norm² %v, want 1", norm)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := enc.ImgToEncoding(ctx, paths[i%len(paths)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeOverhead is Encode over 288 notebook images in batches of 32 minus the network:
// the batched pipeline's own cost, reported per image.
func BenchmarkEncodeOverhead(b *testing.B) {
	enc := newConstEncoder(b, 32)
	paths := notebookPaths(b, 288)
	ctx := context.Background()
	for b.Loop() {
		embs, err := enc.Encode(ctx, paths...)
		if err != nil {
			b.Fatal(err)
		}
		if len(embs) != len(paths) {
			b.Fatalf("%d embeddings for %d images", len(embs), len(paths))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(paths)), "ns/image")
}
