package tfmodel_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/facenet-go/facenet/savedmodel"
	"github.com/facenet-go/facenet/tfmodel"
)

// golden is what scripts/make_test_models.py --golden writes: Python's outputs on seeded inputs.
type golden struct {
	Model      string `json:"model"`
	Signatures map[string]struct {
		Inputs  map[string]goldenTensor `json:"inputs"`
		Outputs map[string]goldenTensor `json:"outputs"`
	} `json:"signatures"`
}

type goldenTensor struct {
	Shape []int64   `json:"shape"`
	Data  []float64 `json:"data"`
}

func (g goldenTensor) tensor() tfmodel.Tensor {
	d := make([]float32, len(g.Data))
	for i, v := range g.Data {
		d[i] = float32(v)
	}
	return tfmodel.Tensor{Shape: g.Shape, Data: d}
}

func loadGolden(t *testing.T, name string) golden {
	t.Helper()
	raw, err := os.ReadFile(testenv.Testdata(t, filepath.Join("tfmodel", name+".json")))
	require.NoError(t, err, "golden file (regenerate with `make golden`)")
	var g golden
	require.NoError(t, json.Unmarshal(raw, &g))
	return g
}

func load(t *testing.T, name string, opts tfmodel.Options) *tfmodel.Model {
	t.Helper()
	m, err := tfmodel.Load(testenv.Model(t, filepath.Join("testmodels", name)), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

func maxAbsDiff(t *testing.T, want goldenTensor, got tfmodel.Tensor) float64 {
	t.Helper()
	require.Equal(t, want.Shape, got.Shape)
	require.Len(t, got.Data, len(want.Data))
	worst := 0.0
	for i, w := range want.Data {
		worst = math.Max(worst, math.Abs(w-float64(got.Data[i])))
	}
	return worst
}

// TestGolden runs every signature of every test model on the inputs Python used and compares every
// output with Python's.
func TestGolden(t *testing.T) {
	for _, name := range []string{"keras_cnn", "two_inputs", "channels_first", "tf_module"} {
		g := loadGolden(t, name)
		require.NotEmpty(t, g.Signatures)
		for sigKey, sig := range g.Signatures {
			t.Run(name+"/"+sigKey, func(t *testing.T) {
				m := load(t, name, tfmodel.Options{Signature: sigKey})
				inputs := map[string]tfmodel.Tensor{}
				for k, v := range sig.Inputs {
					inputs[k] = v.tensor()
				}
				outs, err := m.Run(context.Background(), inputs)
				require.NoError(t, err)
				require.Len(t, outs, len(sig.Outputs))
				for k, want := range sig.Outputs {
					got, ok := outs[k]
					require.True(t, ok, "output %q", k)
					require.LessOrEqual(t, maxAbsDiff(t, want, got), 1e-6, "output %q", k)
				}
			})
		}
	}
}

func TestSignatureExposed(t *testing.T) {
	m := load(t, "keras_cnn", tfmodel.Options{})
	sig := m.Signature()
	require.Equal(t, "serving_default", sig.Key)
	in, ok := m.Input()
	require.True(t, ok)
	require.Equal(t, "image", in.Key)
	require.Equal(t, []int64{-1, 16, 16, 3}, in.Shape)
	require.Equal(t, "DT_FLOAT", in.DType.String())
	out, ok := m.Output()
	require.True(t, ok)
	require.Equal(t, "output_0", out.Key)
	require.Equal(t, []int64{-1, 8}, out.Shape)
}

func TestPredictChannelsFirst(t *testing.T) {
	g := loadGolden(t, "channels_first").Signatures["serving_default"]
	m := load(t, "channels_first", tfmodel.Options{IntraOpThreads: 1, InterOpThreads: 1})
	in := g.Inputs["nchw"].tensor()
	out, shape, err := m.Predict(context.Background(), in.Data, in.Shape)
	require.NoError(t, err)
	require.LessOrEqual(t, maxAbsDiff(t, g.Outputs["output_0"], tfmodel.Tensor{Shape: shape, Data: out}), 1e-6)
}

func TestLoadErrors(t *testing.T) {
	models := testenv.ModelsDir(t)
	emptyDir := t.TempDir()
	noVars := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(testenv.Model(t, "testmodels/keras_cnn"), "saved_model.pb"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(noVars, "saved_model.pb"), raw, 0o644))
	garbage := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(garbage, "saved_model.pb"), []byte("not a protobuf at all \xff\xff"), 0o644))

	tests := []struct {
		name    string
		dir     string
		opts    tfmodel.Options
		is      error
		message string
	}{
		{"missing directory", filepath.Join(emptyDir, "nope"), tfmodel.Options{}, savedmodel.ErrNotSavedModel, "nope"},
		{"no saved_model.pb", emptyDir, tfmodel.Options{}, savedmodel.ErrNotSavedModel, emptyDir},
		{"garbage protobuf", garbage, tfmodel.Options{}, savedmodel.ErrCorrupt, garbage},
		{"no variables", noVars, tfmodel.Options{}, tfmodel.ErrNoVariables, "variables"},
		{"unknown tag set", filepath.Join(models, "testmodels/keras_cnn"), tfmodel.Options{Tags: []string{"train"}}, savedmodel.ErrTagSetNotFound, "serve"},
		{"unknown signature", filepath.Join(models, "testmodels/tf_module"), tfmodel.Options{Signature: "nope"}, savedmodel.ErrSignatureNotFound, "double"},
		{"unknown predict input", filepath.Join(models, "testmodels/keras_cnn"), tfmodel.Options{Input: "pixels"}, tfmodel.ErrInput, `"image"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tfmodel.Load(tc.dir, tc.opts)
			require.Nil(t, m)
			require.ErrorIs(t, err, tc.is)
			require.Contains(t, err.Error(), tc.message)
		})
	}
}

func TestRunErrors(t *testing.T) {
	cnn := load(t, "keras_cnn", tfmodel.Options{})
	two := load(t, "two_inputs", tfmodel.Options{})
	ints := load(t, "int_input", tfmodel.Options{})
	img := func(shape ...int64) map[string]tfmodel.Tensor {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		return map[string]tfmodel.Tensor{"image": {Shape: shape, Data: make([]float32, n)}}
	}
	tests := []struct {
		name    string
		m       *tfmodel.Model
		inputs  map[string]tfmodel.Tensor
		is      error
		message string
	}{
		{"wrong height", cnn, img(1, 15, 16, 3), tfmodel.ErrInput, "expected shape (-1, 16, 16, 3), got [1 15 16 3]"},
		{"wrong rank", cnn, img(16, 16, 3), tfmodel.ErrInput, "expected shape (-1, 16, 16, 3)"},
		{"empty batch", cnn, img(0, 16, 16, 3), tfmodel.ErrInput, "empty"},
		{"data shorter than shape", cnn, map[string]tfmodel.Tensor{"image": {Shape: []int64{1, 16, 16, 3}, Data: make([]float32, 10)}}, tfmodel.ErrInput, "holds 768 values, data has 10"},
		{"negative dimension", cnn, map[string]tfmodel.Tensor{"image": {Shape: []int64{-1, 16, 16, 3}, Data: make([]float32, 768)}}, tfmodel.ErrInput, "negative"},
		{"unknown key", cnn, map[string]tfmodel.Tensor{"pixels": {Shape: []int64{1}, Data: []float32{1}}}, tfmodel.ErrInput, `unknown input "pixels"`},
		{"missing key", two, map[string]tfmodel.Tensor{"a": {Shape: []int64{1, 4}, Data: make([]float32, 4)}}, tfmodel.ErrInput, `missing input "b"`},
		{"int32 input", ints, map[string]tfmodel.Tensor{"ids": {Shape: []int64{1, 4}, Data: make([]float32, 4)}}, tfmodel.ErrUnsupported, "DT_INT32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.m.Run(context.Background(), tc.inputs)
			require.Nil(t, out)
			require.ErrorIs(t, err, tc.is)
			require.Contains(t, err.Error(), tc.message)
		})
	}

	t.Run("predict needs one input", func(t *testing.T) {
		_, _, err := two.Predict(context.Background(), make([]float32, 4), []int64{1, 4})
		require.ErrorIs(t, err, tfmodel.ErrInput)
		require.Contains(t, err.Error(), `"a", "b"`)
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := cnn.Run(ctx, img(1, 16, 16, 3))
		require.ErrorIs(t, err, context.Canceled)
	})
}

// TestNaNOutputPassesThrough: tfmodel reports what the model computed; deciding that NaN is an error
// belongs to the caller (the encoder refuses non-finite embeddings).
func TestNaNOutputPassesThrough(t *testing.T) {
	m := load(t, "nan_output", tfmodel.Options{})
	out, _, err := m.Predict(context.Background(), []float32{1, 2, 3, 4}, []int64{1, 4})
	require.NoError(t, err)
	for _, v := range out {
		require.True(t, math.IsNaN(float64(v)))
	}
}

func TestConcurrentRunsEqualSequential(t *testing.T) {
	m := load(t, "keras_cnn", tfmodel.Options{})
	const workers, runs = 8, 40
	inputs := make([][]float32, runs)
	want := make([][]float32, runs)
	for i := range inputs {
		inputs[i] = make([]float32, 2*16*16*3)
		for j := range inputs[i] {
			inputs[i][j] = float32((i*7+j*13)%255) / 255
		}
		out, _, err := m.Predict(context.Background(), inputs[i], []int64{2, 16, 16, 3})
		require.NoError(t, err)
		want[i] = out
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*runs)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := 0; k < runs; k++ {
				i := (k + w*5) % runs
				out, _, err := m.Predict(context.Background(), inputs[i], []int64{2, 16, 16, 3})
				if err != nil {
					errs <- err
					return
				}
				for j := range out {
					if out[j] != want[i][j] {
						errs <- &mismatch{i: i, j: j}
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

type mismatch struct{ i, j int }

func (m *mismatch) Error() string { return "concurrent result differs from sequential" }

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	m, err := tfmodel.Load(testenv.Model(t, "testmodels/keras_cnn"), tfmodel.Options{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 20; k++ {
				_, _, err := m.Predict(context.Background(), make([]float32, 768), []int64{1, 16, 16, 3})
				if err != nil {
					// A run that starts after Close must get ErrClosed, nothing else.
					if !strings.Contains(err.Error(), tfmodel.ErrClosed.Error()) {
						t.Errorf("unexpected error: %v", err)
					}
					return
				}
			}
		}()
	}
	require.NoError(t, m.Close())
	wg.Wait()
	require.NoError(t, m.Close())
	_, _, err = m.Predict(context.Background(), make([]float32, 768), []int64{1, 16, 16, 3})
	require.ErrorIs(t, err, tfmodel.ErrClosed)
}

func TestSignatureInputsSorted(t *testing.T) {
	m := load(t, "tf_module", tfmodel.Options{})
	var ks []string
	for _, o := range m.Signature().Outputs {
		ks = append(ks, o.Key)
	}
	require.True(t, sort.StringsAreSorted(ks))
	require.Equal(t, []string{"norm", "y"}, ks)
}

// TestPreparedInputEqualsPlain: an input copied once by Prepare and fed to several runs gives each
// run the outputs the plain input gives, and a tensor whose shape and data disagree is refused.
func TestPreparedInputEqualsPlain(t *testing.T) {
	g := loadGolden(t, "two_inputs")
	for sigKey, sig := range g.Signatures {
		m := load(t, "two_inputs", tfmodel.Options{Signature: sigKey})
		plain, prepared := map[string]tfmodel.Tensor{}, map[string]tfmodel.Tensor{}
		for k, v := range sig.Inputs {
			plain[k] = v.tensor()
			p, err := tfmodel.Prepare(v.tensor())
			require.NoError(t, err)
			require.Nil(t, p.Data, "the prepared tensor holds TensorFlow's copy only")
			prepared[k] = p
		}
		want, err := m.Run(context.Background(), plain)
		require.NoError(t, err)
		for range 3 {
			got, err := m.Run(context.Background(), prepared)
			require.NoError(t, err)
			require.Equal(t, want, got)
		}
	}
	for _, bad := range []tfmodel.Tensor{{Shape: []int64{2, 2}, Data: []float32{1, 2, 3}}, {Shape: []int64{0}}, {Shape: []int64{-1, -2}, Data: []float32{1, 2}}} {
		_, err := tfmodel.Prepare(bad)
		require.ErrorIs(t, err, tfmodel.ErrInput, "%v", bad.Shape)
	}
}
