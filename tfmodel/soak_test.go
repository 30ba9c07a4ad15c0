package tfmodel_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/facenet-go/facenet/internal/procstat"
	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/facenet-go/facenet/tfmodel"
)

// rssKiB reads the resident set size of this process from /proc.
func rssKiB(b *testing.B) float64 {
	v, err := procstat.SelfKiB("VmRSS")
	if err != nil {
		b.Fatal(err)
	}
	return float64(v)
}

// BenchmarkSoakRSS runs the model many times with a batch whose C tensors only finalizers free, and
// reports resident memory after a warm-up and at the end: the growth must stay small because Model
// forces a collection once dead tensors pass Options.MaxGarbageBytes.
//
//	go test ./tfmodel -run '^$' -bench SoakRSS -benchtime 5000x
func BenchmarkSoakRSS(b *testing.B) {
	m, err := tfmodel.Load(testenv.Model(b, "testmodels/keras_cnn"), tfmodel.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	batch := make([]float32, 64*16*16*3) // 196 KiB of input per run
	shape := []int64{64, 16, 16, 3}
	ctx := context.Background()
	warm := b.N / 10
	var before float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i == warm {
			runtime.GC()
			before = rssKiB(b)
		}
		if _, _, err := m.Predict(ctx, batch, shape); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	after := rssKiB(b)
	b.ReportMetric(before/1024, "MiB-rss-warm")
	b.ReportMetric(after/1024, "MiB-rss-end")
	b.ReportMetric(100*(after-before)/before, "%-rss-growth")
}

// BenchmarkPredict is the floor every other layer is measured against: one Session.Run of a batch.
func BenchmarkPredict(b *testing.B) {
	m, err := tfmodel.Load(testenv.Model(b, "testmodels/keras_cnn"), tfmodel.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	batch := make([]float32, 16*16*3)
	for i := 0; i < b.N; i++ {
		if _, _, err := m.Predict(context.Background(), batch, []int64{1, 16, 16, 3}); err != nil {
			b.Fatal(err)
		}
	}
}
