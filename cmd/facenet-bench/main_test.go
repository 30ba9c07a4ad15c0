package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/testenv"
)

func TestParseArgs(t *testing.T) {
	base := []string{"-model", "m", "-list", "l"}
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" means success
		check   func(t *testing.T, c config)
	}{
		{name: "defaults", args: append([]string{"-mode", "loop"}, base...), check: func(t *testing.T, c config) {
			require.Equal(t, config{mode: "loop", model: "m", list: "l", batch: 32, intra: 2, inter: 1, reps: 1, margin: 32}, c)
		}},
		{name: "all flags", args: append([]string{"-mode", "floor", "-batch", "8", "-workers", "3", "-intra", "4",
			"-inter", "2", "-reps", "5", "-cpuprofile", "p", "-max-garbage", "-1"}, base...), check: func(t *testing.T, c config) {
			require.Equal(t, config{mode: "floor", model: "m", list: "l", batch: 8, workers: 3, intra: 4, inter: 2,
				reps: 5, cpuprofile: "p", maxGarbage: -1, margin: 32}, c)
		}},
		{name: "photo", args: append([]string{"-mode", "photo", "-profile", "accuracy", "-margin", "44"}, base...), check: func(t *testing.T, c config) {
			require.Equal(t, config{mode: "photo", model: "m", list: "l", batch: 32, intra: 2, inter: 1, reps: 1, profile: "accuracy", margin: 44}, c)
		}},
		{name: "negative margin", args: append([]string{"-mode", "photo", "-margin", "-2"}, base...), wantErr: "-margin must not be negative"},
		{name: "no mode", args: base, wantErr: "-mode must be loop, batched, floor or photo"},
		{name: "bad mode", args: append([]string{"-mode", "fast"}, base...), wantErr: `got "fast"`},
		{name: "no model", args: []string{"-mode", "loop", "-list", "l"}, wantErr: "-model is required"},
		{name: "no list", args: []string{"-mode", "loop", "-model", "m"}, wantErr: "-list is required"},
		{name: "zero batch", args: append([]string{"-mode", "batched", "-batch", "0"}, base...), wantErr: "-batch must be positive"},
		{name: "zero reps", args: append([]string{"-mode", "loop", "-reps", "0"}, base...), wantErr: "-reps must be positive"},
		{name: "negative threads", args: append([]string{"-mode", "loop", "-intra", "-1"}, base...), wantErr: "must not be negative"},
		{name: "stray argument", args: append([]string{"-mode", "loop", "x.jpg"}, base...), wantErr: "unexpected arguments"},
		{name: "unknown flag", args: append([]string{"-mode", "loop", "-fast"}, base...), wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseArgs(tt.args, io.Discard)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, errUsage)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestParseArgsHelp(t *testing.T) {
	var stderr bytes.Buffer
	_, err := parseArgs([]string{"-h"}, &stderr)
	require.ErrorIs(t, err, flag.ErrHelp)
	require.Contains(t, stderr.String(), "usage: facenet-bench -mode loop|batched|floor")
}

func TestReadList(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		wantErr  bool
	}{
		{name: "lines", in: "a.jpg\nb.png\n", want: []string{"a.jpg", "b.png"}},
		{name: "blank lines and spaces", in: "\n  a.jpg \n\n\tb.png", want: []string{"a.jpg", "b.png"}},
		{name: "empty", in: "", wantErr: true},
		{name: "only blanks", in: "\n \n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readList(strings.NewReader(tt.in))
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestPeakRSS(t *testing.T) {
	// The test binary holds at least its own heap; a zero or absurd value means the parsing is wrong.
	kib, err := peakRSSKiB()
	require.NoError(t, err)
	require.Greater(t, kib, int64(1024))
	require.Less(t, kib, int64(1<<30))
}

func TestWarmupImages(t *testing.T) {
	tests := []struct{ n, batch, want int }{
		{n: 288, batch: 32, want: 32}, // multiple: one batch covers every shape
		{n: 36, batch: 8, want: 12},   // a full batch and the remainder's 4
		{n: 5, batch: 32, want: 5},    // fewer images than a batch: the one shape there is
		{n: 33, batch: 32, want: 33},  // 32 + 1
		{n: 1, batch: 1, want: 1},     // per-image floor
		{n: 300, batch: 1, want: 1},   // batch 1 never has a remainder
		{n: 70, batch: 32, want: 32 + 6},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, warmupImages(tt.n, tt.batch), "n=%d batch=%d", tt.n, tt.batch)
	}
}

func TestUnit(t *testing.T) {
	tests := []struct {
		name string
		in   []float32
		want []float32
	}{
		{name: "3-4-5", in: []float32{3, 4}, want: []float32{0.6, 0.8}},
		{name: "already unit", in: []float32{0, -1, 0}, want: []float32{0, -1, 0}},
		{name: "zero stays zero", in: []float32{0, 0}, want: []float32{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]float32(nil), tt.in...)
			require.InDeltaSlice(t, tt.want, unit(in), 1e-7)
			require.Equal(t, tt.in, in, "unit must not change its argument")
		})
	}
}

func writeList(t *testing.T, paths ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "images.txt")
	require.NoError(t, os.WriteFile(f, []byte(strings.Join(paths, "\n")+"\n"), 0o644))
	return f
}

func TestRunErrors(t *testing.T) {
	img := testenv.Testdata(t, "images/andrew.jpg")
	tests := []struct {
		name    string
		args    func(t *testing.T) []string
		wantErr string
	}{
		{name: "missing list", args: func(t *testing.T) []string {
			return []string{"-mode", "loop", "-model", "m", "-list", filepath.Join(t.TempDir(), "none.txt")}
		}, wantErr: "image list"},
		{name: "empty list", args: func(t *testing.T) []string {
			return []string{"-mode", "loop", "-model", "m", "-list", writeList(t)}
		}, wantErr: "no image paths"},
		{name: "model without profile", args: func(t *testing.T) []string {
			return []string{"-mode", "loop", "-model", testenv.Model(t, "testmodels/keras_cnn"), "-list", writeList(t, img)}
		}, wantErr: "needs the model's profile"},
		{name: "not a model", args: func(t *testing.T) []string {
			return []string{"-mode", "loop", "-model", t.TempDir(), "-list", writeList(t, img)}
		}, wantErr: "variables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			err := run(tt.args(t), &stdout, io.Discard)
			require.ErrorContains(t, err, tt.wantErr)
			require.False(t, errors.Is(err, errUsage), "a failure of the work is not a usage error")
			require.Empty(t, stdout.String())
		})
	}
}

// notebookEmbedding is the notebook's own embedding of a testdata image (scripts/golden_embeddings.py).
func notebookEmbedding(t *testing.T, name string) []float64 {
	t.Helper()
	raw, err := os.ReadFile(testenv.Testdata(t, "facenet/golden_notebook.json"))
	require.NoError(t, err, "regenerate with `make golden`")
	var golden struct {
		Images map[string]struct {
			Embedding []float64 `json:"embedding"`
		} `json:"images"`
	}
	require.NoError(t, json.Unmarshal(raw, &golden))
	want := golden.Images[name].Embedding
	require.Len(t, want, 128, "%s in the golden file", name)
	return want
}

// TestRunModes runs every mode on the notebook model for three images and checks the report, and that
// each mode's first embedding is the notebook's own for that image.
func TestRunModes(t *testing.T) {
	want := notebookEmbedding(t, "andrew.jpg")
	model := testenv.Model(t, "facenet-keras")
	list := writeList(t, testenv.Testdata(t, "images/andrew.jpg"), testenv.Testdata(t, "images/kian.jpg"),
		testenv.Testdata(t, "images/danielle.png"))
	tests := []struct {
		mode      string
		batch     int
		wantBatch int
		tol       float64 // batches other than 1 take other oneDNN kernels: float rounding differs
	}{
		{mode: "loop", batch: 2, wantBatch: 1, tol: 1e-5},
		{mode: "batched", batch: 2, wantBatch: 2, tol: 1e-4},
		{mode: "floor", batch: 2, wantBatch: 2, tol: 1e-4},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			var stdout bytes.Buffer
			err := run([]string{"-mode", tt.mode, "-model", model, "-list", list, "-batch", strconv.Itoa(tt.batch), "-reps", "2"},
				&stdout, io.Discard)
			require.NoError(t, err)
			var rep report
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep))
			require.Equal(t, "go", rep.Side)
			require.Equal(t, tt.mode, rep.Mode)
			require.Equal(t, 3, rep.Images)
			require.Equal(t, tt.wantBatch, rep.Batch)
			require.Equal(t, 2, rep.Intra)
			require.Equal(t, 1, rep.Inter)
			require.Len(t, rep.Seconds, 2)
			require.Len(t, rep.CPUSeconds, 2)
			for _, s := range rep.Seconds {
				require.Greater(t, s, 0.0)
			}
			require.Greater(t, rep.PreprocessS, 0.0)
			require.Greater(t, rep.PeakRSSKiB, int64(100<<10), "a process with TensorFlow and a 22.8M-parameter model")
			require.Len(t, rep.Embedding0, 128)
			for i, v := range rep.Embedding0 {
				require.InDelta(t, want[i], float64(v), tt.tol, "component %d", i)
			}
			var norm float64
			for _, v := range rep.Embedding0 {
				norm += float64(v) * float64(v)
			}
			require.InDelta(t, 1, math.Sqrt(norm), 1e-5)
		})
	}
}

// TestRunCPUProfile writes a profile; it also covers the batch-1 floor, whose output must be the
// notebook's embedding.
func TestRunCPUProfile(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.pprof")
	list := writeList(t, testenv.Testdata(t, "images/andrew.jpg"))
	var stdout bytes.Buffer
	err := run([]string{"-mode", "floor", "-batch", "1", "-model", testenv.Model(t, "facenet-keras"), "-list", list,
		"-cpuprofile", prof}, &stdout, io.Discard)
	require.NoError(t, err)
	data, err := os.ReadFile(prof)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(data, []byte{0x1f, 0x8b}), "pprof profiles are gzipped protobufs")
	var rep report
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep))
	require.Equal(t, 1, rep.Batch)
	require.InDeltaSlice(t, notebookEmbedding(t, "andrew.jpg"), float64s(rep.Embedding0), 1e-5)
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestPhotoMode: one photo through the photo pipeline (detect, crop, embed): madonna's one face at
// the box mtcnn reports, its embedding, and the split of the pass.
func TestPhotoMode(t *testing.T) {
	photo := filepath.Join(testenv.ModuleRoot(t), "build/celeb5/val/madonna/httpcdnfuncheapcomwpcontentuploadsVOGUEjpg.jpg")
	rep, err := bench(context.Background(), config{mode: modePhoto, model: testenv.Model(t, "facenet-keras"), profile: "accuracy",
		margin: 32, intra: 2, inter: 1, reps: 1}, []string{photo})
	require.NoError(t, err)
	require.Equal(t, [][][4]int{{{57, 63, 78, 108}}}, rep.Boxes)
	require.Len(t, rep.Embedding0, 128)
	require.Len(t, rep.Seconds, 1)
	require.NotNil(t, rep.Stages)
	require.Positive(t, rep.Stages.DetectS)
}
