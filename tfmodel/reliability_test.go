package tfmodel_test

// Reliability of the model layer: hostile SavedModels (scripts/make_hostile_models.py) fail
// with the package's sentinel errors at Load or Predict, or with the Encoder's, never with a
// crash; and one loaded model serves many goroutines with results bit-identical to sequential
// runs.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/fsutil"
	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/facenet-go/facenet/savedmodel"
	"github.com/facenet-go/facenet/tfmodel"
)

// hostileProfile is the notebook's preprocessing at the hostile models' 16x16 input.
func hostileProfile() encoding.Profile {
	p := encoding.NotebookProfile()
	p.Input.Height, p.Input.Width = 16, 16
	return p
}

// TestReliabilityHostileLoad: models broken on disk or in their MetaGraph fail in Load, with a
// sentinel, a message naming the directory, and no newline (TensorFlow's status text has
// several lines; a CLI prints errors on one).
func TestReliabilityHostileLoad(t *testing.T) {
	tests := []struct {
		model string
		is    error
		text  string
	}{
		{"missing_variables", tfmodel.ErrNoVariables, "variables"},
		{"wrong_tag", savedmodel.ErrTagSetNotFound, `"train"`},
		{"wrong_signature_key", savedmodel.ErrSignatureNotFound, `"predict"`},
		{"truncated_variables", nil, "tensorflow"},
	}
	// A saved_model.pb of random bytes, next to good variables.
	corrupt := t.TempDir()
	require.NoError(t, os.CopyFS(corrupt, os.DirFS(filepath.Join(testenv.ModelsDir(t), "hostile", "good"))))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7919 + i>>3)
	}
	require.NoError(t, os.WriteFile(filepath.Join(corrupt, "saved_model.pb"), garbage, 0o644))
	tests = append(tests, struct {
		model string
		is    error
		text  string
	}{corrupt, savedmodel.ErrCorrupt, "saved_model.pb"})

	for _, tt := range tests {
		t.Run(filepath.Base(tt.model), func(t *testing.T) {
			dir := filepath.Join(testenv.ModelsDir(t), "hostile", tt.model)
			if filepath.IsAbs(tt.model) {
				dir = tt.model
			}
			m, err := tfmodel.Load(dir, tfmodel.Options{})
			require.Nil(t, m)
			require.Error(t, err)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			require.Contains(t, err.Error(), dir)
			require.Contains(t, err.Error(), tt.text)
			require.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

// TestReliabilityHostilePredict: models that load but do not fit the FaceNet contract fail in
// Predict (tfmodel's checks) or in the Encoder (shape and finiteness of the embedding).
func TestReliabilityHostilePredict(t *testing.T) {
	andrew := filepath.Join(testenv.Testdata(t, "images"), "andrew.jpg")
	tests := []struct {
		model string
		is    error // from the Encoder; nil: only the text is checked
		text  string
	}{
		{"uint8_input", tfmodel.ErrUnsupported, "DT_UINT8"},
		{"rank3_input", tfmodel.ErrInput, "expected shape (-1, 16, 16)"},
		{"rank2_input", tfmodel.ErrInput, "expected shape (-1, 128)"},
		{"two_inputs", tfmodel.ErrInput, `"image", "mask"`},
		{"two_outputs", tfmodel.ErrInput, `"embedding", "logits"`},
		{"int_output", tfmodel.ErrUnsupported, "DT_INT32"},
		{"huge_input", tfmodel.ErrInput, "expected shape (-1, 100000, 100000, 3)"},
		{"nan_output", encoding.ErrBadEmbedding, "NaN"},
		{"inf_output", encoding.ErrBadEmbedding, "+Inf"},
		{"zero_output", encoding.ErrBadEmbedding, "all zeros"},
		{"output_4d", nil, "model output shape [1 4 4 8]"},
		{"output_1d", nil, "model output shape [1]"},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			m, err := tfmodel.Load(filepath.Join(testenv.ModelsDir(t), "hostile", tt.model), tfmodel.Options{})
			require.NoError(t, err)
			defer m.Close()
			enc, err := encoding.NewEncoder(m, hostileProfile(), encoding.EncoderOptions{})
			require.NoError(t, err)
			emb, err := enc.ImgToEncoding(context.Background(), andrew)
			require.Nil(t, emb)
			require.Error(t, err)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			require.Contains(t, err.Error(), tt.text)
		})
	}
	t.Run("batch_collapse", func(t *testing.T) {
		m, err := tfmodel.Load(filepath.Join(testenv.ModelsDir(t), "hostile", "batch_collapse"), tfmodel.Options{})
		require.NoError(t, err)
		defer m.Close()
		enc, err := encoding.NewEncoder(m, hostileProfile(), encoding.EncoderOptions{BatchSize: 2})
		require.NoError(t, err)
		_, err = enc.Encode(context.Background(), andrew, andrew)
		require.ErrorContains(t, err, "model output shape [1 128] for a batch of 2")
	})
}

// rounds is how many embeddings each goroutine computes: 10 in `make test`, 200 with
// FACENET_LONG=1 (`make reliability`), or FACENET_ROUNDS.
func rounds(t *testing.T) int {
	if s := os.Getenv("FACENET_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "FACENET_ROUNDS=%q", s)
		return n
	}
	if os.Getenv("FACENET_LONG") != "" {
		return 200
	}
	return 10
}

// TestReliabilityConcurrentEncoder runs 32 goroutines through one Encoder over one loaded dlib
// ResNet (the real 150x150 face model), each embedding notebook images in its own order, half
// with ImgToEncoding and half with the pipelined Encode: every result must equal, bit for bit,
// the one computed sequentially first.
func TestReliabilityConcurrentEncoder(t *testing.T) {
	dir := testenv.Model(t, "dlib-resnet-v1")
	prof, found, err := encoding.LoadProfile(dir)
	require.NoError(t, err)
	require.True(t, found)
	m, err := tfmodel.Load(dir, tfmodel.Options{Input: prof.Signature.Input, Output: prof.Signature.Output})
	require.NoError(t, err)
	defer m.Close()
	enc, err := encoding.NewEncoder(m, prof, encoding.EncoderOptions{BatchSize: 1, Workers: 1})
	require.NoError(t, err)

	images, err := filepath.Glob(filepath.Join(testenv.Testdata(t, "images"), "*"))
	require.NoError(t, err)
	var paths []string
	for _, p := range images {
		if ext := filepath.Ext(p); ext == ".jpg" || ext == ".png" {
			paths = append(paths, p)
		}
	}
	require.GreaterOrEqual(t, len(paths), 17)
	ctx := context.Background()
	want := make([][]float32, len(paths))
	for i, p := range paths {
		want[i], err = enc.ImgToEncoding(ctx, p)
		require.NoError(t, err)
	}

	const workers = 32
	n := rounds(t)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < n; r++ {
				i := (w*7 + r*(w%5+1)) % len(paths)
				var got []float32
				var err error
				if w%2 == 0 {
					got, err = enc.ImgToEncoding(ctx, paths[i])
				} else {
					var embs [][]float32
					if embs, err = enc.Encode(ctx, paths[i]); err == nil {
						got = embs[0]
					}
				}
				if err != nil {
					errs <- fmt.Errorf("goroutine %d round %d: %w", w, r, err)
					return
				}
				for j := range got {
					if math.Float32bits(got[j]) != math.Float32bits(want[i][j]) {
						errs <- fmt.Errorf("goroutine %d round %d, %s: value %d is %v, sequentially %v",
							w, r, filepath.Base(paths[i]), j, got[j], want[i][j])
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	var all []string
	for err := range errs {
		all = append(all, err.Error())
	}
	require.Empty(t, all, strings.Join(all, "\n"))
	elapsed := time.Since(start)
	t.Logf("%d goroutines x %d embeddings = %d, all identical to sequential, in %v (%.1f ms each)",
		workers, n, workers*n, elapsed.Round(time.Millisecond), float64(elapsed.Milliseconds())/float64(workers*n))
}

// TestReliabilityCloseUnderLoad closes the model while goroutines are predicting through the
// Encoder: every call either succeeds with the sequential result or fails with ErrClosed.
func TestReliabilityCloseUnderLoad(t *testing.T) {
	m, err := tfmodel.Load(filepath.Join(testenv.ModelsDir(t), "hostile", "good"), tfmodel.Options{})
	require.NoError(t, err)
	enc, err := encoding.NewEncoder(m, hostileProfile(), encoding.EncoderOptions{})
	require.NoError(t, err)
	andrew := filepath.Join(testenv.Testdata(t, "images"), "andrew.jpg")
	want, err := enc.ImgToEncoding(context.Background(), andrew)
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, closed := 0, 0
	var bad []string
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := enc.ImgToEncoding(context.Background(), andrew)
				mu.Lock()
				switch {
				case err == nil && fmt.Sprint(got) == fmt.Sprint(want):
					ok++
				case errors.Is(err, tfmodel.ErrClosed):
					closed++
				default:
					bad = append(bad, fmt.Sprintf("%v (%v)", err, got))
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, m.Close())
	wg.Wait()
	require.Empty(t, bad)
	require.Equal(t, 8, closed, "every goroutine ends on ErrClosed")
	require.Positive(t, ok)
}

// TestReliabilityLoadChecksFiles: TensorFlow opens saved_model.pb, fingerprint.pb and the
// variables itself, with no limit and no way to interrupt it; Load checks them first, so a FIFO
// (which would block TensorFlow forever), a link to /dev/zero or an oversize sparse file is
// refused at once with ErrNotSavedModel and fsutil's reason.
func TestReliabilityLoadChecksFiles(t *testing.T) {
	good := testenv.Model(t, "hostile/good")
	tests := []struct {
		file string
		make func(t *testing.T, path string)
		want error
	}{
		{"saved_model.pb", func(t *testing.T, p string) { require.NoError(t, syscall.Mkfifo(p, 0o644)) }, fsutil.ErrNotRegular},
		{"fingerprint.pb", func(t *testing.T, p string) { require.NoError(t, syscall.Mkfifo(p, 0o644)) }, fsutil.ErrNotRegular},
		{"variables/variables.index", func(t *testing.T, p string) { require.NoError(t, syscall.Mkfifo(p, 0o644)) }, fsutil.ErrNotRegular},
		{"variables/variables.data-00000-of-00001", func(t *testing.T, p string) { require.NoError(t, os.Symlink("/dev/zero", p)) }, fsutil.ErrNotRegular},
		{"fingerprint.pb", func(t *testing.T, p string) { require.NoError(t, os.Symlink("/dev/zero", p)) }, fsutil.ErrNotRegular},
		{"variables/variables.index", func(t *testing.T, p string) {
			f, err := os.Create(p)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(savedmodel.MaxVariablesIndexBytes+1))
			require.NoError(t, f.Close())
		}, fsutil.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.file+" "+tt.want.Error(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			require.NoError(t, os.CopyFS(dir, os.DirFS(good)))
			path := filepath.Join(dir, filepath.FromSlash(tt.file))
			require.NoError(t, os.Remove(path))
			tt.make(t, path)
			done := make(chan error, 1)
			go func() {
				m, err := tfmodel.Load(dir, tfmodel.Options{})
				if err == nil {
					m.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				require.ErrorIs(t, err, savedmodel.ErrNotSavedModel)
				require.ErrorIs(t, err, tt.want)
				require.ErrorContains(t, err, path)
			case <-time.After(10 * time.Second):
				// Unblock a reader stuck on the FIFO so the goroutine can end.
				if fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					syscall.Close(fd)
				}
				t.Fatalf("Load still running after 10 s")
			}
		})
	}
}
