package encoding_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/testenv"
)

// fakeModel stands in for a network without TensorFlow: each output row is a fixed linear function of
// its input row, so every image gets its own embedding and batching mistakes show.
type fakeModel struct {
	dim    int
	mu     sync.Mutex
	shapes [][]int64
	mangle func(out []float32)
}

func (f *fakeModel) Predict(_ context.Context, x []float32, shape []int64) ([]float32, []int64, error) {
	f.mu.Lock()
	f.shapes = append(f.shapes, append([]int64(nil), shape...))
	f.mu.Unlock()
	n := int(shape[0])
	per := len(x) / n
	out := make([]float32, n*f.dim)
	for i := 0; i < n; i++ {
		row := x[i*per : (i+1)*per]
		for j := 0; j < f.dim; j++ {
			var s float64
			for k := j; k < per; k += f.dim {
				s += float64(row[k]) * float64(1+k%7)
			}
			out[i*f.dim+j] = float32(s - float64(per)/float64(2*f.dim))
		}
	}
	if f.mangle != nil {
		f.mangle(out)
	}
	return out, []int64{int64(n), int64(f.dim)}, nil
}

func notebookImages(t *testing.T, names ...string) []string {
	t.Helper()
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = filepath.Join(testenv.Testdata(t, "images"), n)
		_, err := os.Stat(paths[i])
		require.NoError(t, err)
	}
	return paths
}

func newEncoder(t *testing.T, m encoding.Model, prof encoding.Profile, opts encoding.EncoderOptions) *encoding.Encoder {
	t.Helper()
	e, err := encoding.NewEncoder(m, prof, opts)
	require.NoError(t, err)
	return e
}

// profileFor is the notebook's profile for a fake model of the given output size.
func profileFor(dim int) encoding.Profile {
	p := encoding.NotebookProfile()
	p.Output.Dim = dim
	return p
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestEncodeEqualsImgToEncodingPerImage(t *testing.T) {
	paths := notebookImages(t, "camera_0.jpg", "younes.jpg", "danielle.png", "andrew.jpg", "kian.jpg")
	m := &fakeModel{dim: 16}
	e := newEncoder(t, m, profileFor(16), encoding.EncoderOptions{BatchSize: 2, Workers: 3})
	batched, err := e.Encode(context.Background(), paths...)
	require.NoError(t, err)
	require.Len(t, batched, len(paths))
	// Five images in batches of two: three model calls of 2, 2 and 1 images, NHWC 160x160x3.
	require.Equal(t, [][]int64{{2, 160, 160, 3}, {2, 160, 160, 3}, {1, 160, 160, 3}}, m.shapes)
	for i, p := range paths {
		one, err := e.ImgToEncoding(context.Background(), p)
		require.NoError(t, err)
		require.Equal(t, one, batched[i], p)
		require.InDelta(t, 1.0, norm(one), 1e-6, p)
	}
	require.NotEqual(t, batched[0], batched[1])
}

func TestEncodeRawIsUnnormalized(t *testing.T) {
	paths := notebookImages(t, "camera_1.jpg", "bertrand.jpg")
	e := newEncoder(t, &fakeModel{dim: 8}, profileFor(8), encoding.EncoderOptions{})
	raw, err := e.EncodeRaw(context.Background(), paths...)
	require.NoError(t, err)
	unit, err := e.Encode(context.Background(), paths...)
	require.NoError(t, err)
	for i := range raw {
		n := norm(raw[i])
		require.Greater(t, math.Abs(n-1), 1e-3)
		for j := range raw[i] {
			require.InDelta(t, float64(raw[i][j])/n, float64(unit[i][j]), 1e-7)
		}
	}
}

func TestProfileWithoutNormalization(t *testing.T) {
	prof := profileFor(4)
	prof.Output.L2Normalize = false
	prof.Input.Height, prof.Input.Width = 150, 150
	prof.Input.Layout = "NCHW"
	m := &fakeModel{dim: 4}
	e := newEncoder(t, m, prof, encoding.EncoderOptions{})
	out, err := e.Encode(context.Background(), notebookImages(t, "tian.jpg")...)
	require.NoError(t, err)
	require.Equal(t, [][]int64{{1, 3, 150, 150}}, m.shapes)
	require.Greater(t, math.Abs(norm(out[0])-1), 1e-3)
}

func TestBadEmbeddings(t *testing.T) {
	tests := []struct {
		name   string
		mangle func([]float32)
	}{
		{"all zero", func(o []float32) { clear(o) }},
		{"NaN", func(o []float32) { o[3] = float32(math.NaN()) }},
		{"infinity", func(o []float32) { o[0] = float32(math.Inf(-1)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEncoder(t, &fakeModel{dim: 8, mangle: tc.mangle}, profileFor(8), encoding.EncoderOptions{})
			_, err := e.ImgToEncoding(context.Background(), notebookImages(t, "kevin.jpg")[0])
			require.ErrorIs(t, err, encoding.ErrBadEmbedding)
			_, err = e.Encode(context.Background(), notebookImages(t, "kevin.jpg", "dan.jpg")...)
			require.ErrorIs(t, err, encoding.ErrBadEmbedding)
		})
	}
}

func TestEncodeReportsTheFirstBadFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "not-an-image.jpg")
	require.NoError(t, os.WriteFile(bad, []byte("hello"), 0o644))
	paths := append(notebookImages(t, "arnaud.jpg", "benoit.jpg", "felix.jpg"), bad, filepath.Join(dir, "missing.jpg"))
	e := newEncoder(t, &fakeModel{dim: 8}, profileFor(8), encoding.EncoderOptions{BatchSize: 2})
	for i := 0; i < 3; i++ {
		_, err := e.Encode(context.Background(), paths...)
		require.Error(t, err)
		require.Contains(t, err.Error(), "not-an-image.jpg")
	}
}

func TestEncodeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e := newEncoder(t, &fakeModel{dim: 8}, profileFor(8), encoding.EncoderOptions{})
	_, err := e.Encode(ctx, notebookImages(t, "arnaud.jpg")...)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
}

func TestNewEncoderRejectsBadProfiles(t *testing.T) {
	bad := encoding.NotebookProfile()
	bad.Input.Layout = "HWCN"
	_, err := encoding.NewEncoder(&fakeModel{dim: 8}, bad, encoding.EncoderOptions{})
	require.ErrorIs(t, err, encoding.ErrProfile)
	_, err = encoding.NewEncoder(nil, encoding.NotebookProfile(), encoding.EncoderOptions{})
	require.Error(t, err)
}

func TestOutputShapeChecked(t *testing.T) {
	prof := encoding.NotebookProfile()
	prof.Output.Dim = 128
	e := newEncoder(t, &fakeModel{dim: 8}, prof, encoding.EncoderOptions{})
	_, err := e.ImgToEncoding(context.Background(), notebookImages(t, "kian.jpg")[0])
	require.ErrorContains(t, err, "model output dim 8, profile says 128")
}

// The profile's jpeg_decoder picks the decoder, EncoderOptions.JPEGDecoder overrides it, and the
// encoder's Profile says which one made the vectors (empty for the default).
func TestEncoderJPEGDecoder(t *testing.T) {
	path := notebookImages(t, "camera_0.jpg")[0]
	want := func(dec encoding.JPEGDecoder) []float32 {
		img, err := encoding.LoadImg(path, encoding.LoadOptions{Height: 160, Width: 160, JPEGDecoder: dec})
		require.NoError(t, err)
		x := make([]float32, img.TensorLen())
		require.NoError(t, img.FillTensor(x, encoding.KerasPixels))
		return x
	}
	turbo, ijg := want(encoding.LibjpegTurbo), want(encoding.Libjpeg9)
	require.NotEqual(t, turbo, ijg)
	withIJG := profileFor(8)
	withIJG.Input.JPEGDecoder = "libjpeg9"
	tests := []struct {
		name     string
		prof     encoding.Profile
		override encoding.JPEGDecoder
		want     []float32
		reported string
	}{
		{"default", profileFor(8), "", turbo, ""},
		{"profile libjpeg9", withIJG, "", ijg, "libjpeg9"},
		{"option overrides profile", withIJG, encoding.LibjpegTurbo, turbo, ""},
		{"option libjpeg9", profileFor(8), encoding.Libjpeg9, ijg, "libjpeg9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEncoder(t, &fakeModel{dim: 8}, tt.prof, encoding.EncoderOptions{JPEGDecoder: tt.override})
			x := make([]float32, len(tt.want))
			require.NoError(t, e.Preprocess(path, x))
			require.Equal(t, tt.want, x)
			require.Equal(t, tt.reported, e.Profile().Input.JPEGDecoder)
		})
	}
	_, err := encoding.NewEncoder(&fakeModel{dim: 8}, profileFor(8), encoding.EncoderOptions{JPEGDecoder: "x"})
	require.ErrorIs(t, err, encoding.ErrInvalidOptions)
}
