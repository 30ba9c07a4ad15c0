package encoding

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time. Benchmarks report it per op next to ns/op:
// on a shared machine wall time swings with other load, CPU time much less, and
// golden_preprocess.py --bench reports Python's the same way (time.process_time).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

// Compare with `scripts/golden_preprocess.py --bench` (keras load_img + numpy on the same files).
var benchImages = []struct{ name, path string }{
	{"notebook_96x96", filepath.Join(testdataDir, "images", "andrew.jpg")},
	{"1920x1280", filepath.Join(testdataDir, "preprocess", "corpus", "bench_1920x1280.jpg")},
}

func BenchmarkLoadImg(b *testing.B) {
	opts := LoadOptions{Height: 160, Width: 160}
	for _, bi := range benchImages {
		b.Run(bi.name, func(b *testing.B) {
			start := cpuTime(b)
			for b.Loop() {
				if _, err := LoadImg(bi.path, opts); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkLoadImgTensor adds the float conversion into a reused batch slot: the whole of
// the notebook's preprocessing.
func BenchmarkLoadImgTensor(b *testing.B) {
	opts := LoadOptions{Height: 160, Width: 160}
	dst := make([]float32, 160*160*3)
	for _, bi := range benchImages {
		b.Run(bi.name, func(b *testing.B) {
			start := cpuTime(b)
			for b.Loop() {
				img, err := LoadImg(bi.path, opts)
				if err != nil {
					b.Fatal(err)
				}
				if err := img.FillTensor(dst, KerasPixels); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}

func BenchmarkResize(b *testing.B) {
	img, err := DecodeFile(benchImages[1].path, DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for f := Nearest; f <= Lanczos; f++ {
		b.Run(f.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := img.Resize(160, 160, f, KerasCropBox(img.Width, img.Height, 160, 160)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFillTensor(b *testing.B) {
	img := newImage(160, 160)
	dst := make([]float32, img.TensorLen())
	for b.Loop() {
		if err := img.FillTensor(dst, KerasPixels); err != nil {
			b.Fatal(err)
		}
	}
}
