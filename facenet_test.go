package facenet

import (
	"context"
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/detect"
	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/facenet-go/facenet/verify"
)

// photo is a group picture of three (face-api's demo, installed by make setup).
const photo = "build/node/node_modules/@vladmandic/face-api/demo/sample1.jpg"

func TestOpenRefuses(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		dir  string
		opts Options
		is   error
		msg  string
	}{
		{"missing folder", context.Background(), filepath.Join(t.TempDir(), "nope"), Options{}, nil, "nope"},
		{"cancelled", cancelled, testenv.Model(t, "facenet-keras"), Options{}, context.Canceled, ""},
		{"no profile", context.Background(), testenv.Model(t, "testmodels/keras_cnn"), Options{RequireProfile: true}, ErrNoProfile, "keras_cnn"},
		{"unknown profile", context.Background(), testenv.Model(t, "facenet-keras"), Options{Profile: "nosuch"}, nil, "nosuch"},
		{"negative margin", context.Background(), testenv.Model(t, "facenet-keras"), Options{Detect: &DetectOptions{Margin: -1}}, nil, "margin -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Open(tc.ctx, tc.dir, tc.opts)
			require.Error(t, err)
			require.Nil(t, p)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestPipelineWithoutProfileTakesTheSignaturesSize(t *testing.T) {
	p, err := Open(context.Background(), testenv.Model(t, "testmodels/channels_first"), Options{})
	require.NoError(t, err)
	defer p.Close()
	in := p.Profile().Input
	require.Equal(t, "NCHW", in.Layout)
	require.NotZero(t, in.Height)
	_, err = p.Detect(context.Background(), &encoding.Image{})
	require.ErrorIs(t, err, ErrNoDetector)
}

func TestEncodeFile(t *testing.T) {
	ctx := context.Background()
	dir := testenv.Model(t, "facenet-keras")
	images := filepath.Join(testenv.SharedDir(t), "notebook", "images")
	photoPath := filepath.Join(testenv.ModuleRoot(t), photo)
	blank := filepath.Join(t.TempDir(), "blank.png")
	f, err := os.Create(blank)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, image.NewRGBA(image.Rect(0, 0, 160, 120))))
	require.NoError(t, f.Close())

	plain, err := Open(ctx, dir, Options{})
	require.NoError(t, err)
	defer plain.Close()
	photos, err := Open(ctx, dir, Options{Detect: &DetectOptions{Margin: DefaultMargin}})
	require.NoError(t, err)
	defer photos.Close()
	require.True(t, photos.HasDetector())
	require.False(t, plain.HasDetector())
	require.Equal(t, plain.Space(), photos.Space(), "a detector does not change the embedding space")

	// Without a detector the whole image is the input, as Encode has it.
	want, err := plain.Encode(ctx, filepath.Join(images, "kian.jpg"))
	require.NoError(t, err)
	got, err := plain.EncodeFile(ctx, filepath.Join(images, "kian.jpg"))
	require.NoError(t, err)
	require.Equal(t, want[0], got)

	// With one, the largest face's margin crop.
	img, err := photos.DecodeFile(photoPath)
	require.NoError(t, err)
	faces, err := photos.Faces(ctx, img)
	require.NoError(t, err)
	require.Greater(t, len(faces), 1)
	found := make([]detect.Face, len(faces))
	for i := range faces {
		found[i] = faces[i].Face
	}
	crop := faces[LargestFace(found, img.Width, img.Height)].Crop
	want, err = photos.EncodeImages(ctx, []*encoding.Image{crop})
	require.NoError(t, err)
	got, err = photos.EncodeFile(ctx, photoPath)
	require.NoError(t, err)
	require.Equal(t, want[0], got)

	_, err = photos.EncodeFile(ctx, blank)
	require.ErrorIs(t, err, ErrNoFace)
	require.Contains(t, err.Error(), blank)

	// Verify and Identify are the notebook's decisions on those embeddings.
	db, err := verify.New(photos.Space())
	require.NoError(t, err)
	require.NoError(t, db.Enrol("stranger", got))
	d, err := photos.Verify(ctx, photoPath, "stranger", db)
	require.NoError(t, err)
	require.True(t, d.Accepted)
	m, err := photos.Identify(ctx, photoPath, verify.NewSearcher(db))
	require.NoError(t, err)
	require.Equal(t, "stranger", m.Identity)
	_, err = photos.Verify(ctx, photoPath, "nobody", db)
	require.ErrorIs(t, err, verify.ErrUnknownIdentity)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = plain.EncodeFile(cancelled, filepath.Join(images, "kian.jpg"))
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
}

func TestLargestFace(t *testing.T) {
	for _, tc := range []struct {
		name  string
		faces []detect.Face
		want  int
	}{
		{"one", []detect.Face{{Box: [4]int{0, 0, 10, 10}}}, 0},
		{"bigger wins", []detect.Face{{Box: [4]int{45, 45, 10, 10}}, {Box: [4]int{30, 30, 40, 40}}}, 1},
		{"centre beats a bigger corner face", []detect.Face{{Box: [4]int{0, 0, 30, 30}}, {Box: [4]int{40, 40, 20, 20}}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, LargestFace(tc.faces, 100, 100))
		})
	}
}

// quietChild is the environment variable that makes the test binary a child that opens a
// pipeline, embeds one photo's faces and exits, so its stderr can be read.
const quietChild = "FACENET_TEST_QUIET_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(quietChild); mode != "" {
		ctx := context.Background()
		p, err := Open(ctx, os.Getenv("FACENET_TEST_MODEL"), Options{
			TensorFlowLogs: mode == "logs", Detect: &DetectOptions{Margin: DefaultMargin},
		})
		if err == nil {
			_, err = p.EncodeEveryFace(ctx, os.Getenv("FACENET_TEST_PHOTO"))
			p.Close()
		}
		if err != nil {
			os.Stdout.WriteString(err.Error())
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestTensorFlowLogsOnlyWhenAsked: a library program that sets no variable prints nothing of
// TensorFlow's (its loader's "MLIR V1 optimization pass" line, the optimizer's PredictCost
// warnings), and Options.TensorFlowLogs lets them through.
func TestTensorFlowLogsOnlyWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		mode  string
		quiet bool
	}{{"default", true}, {"logs", false}} {
		t.Run(tc.mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "TF_CPP_MIN_LOG_LEVEL=") {
					env = append(env, kv)
				}
			}
			cmd.Env = append(env, quietChild+"="+tc.mode,
				"FACENET_TEST_MODEL="+testenv.Model(t, "facenet-keras"),
				"FACENET_TEST_PHOTO="+filepath.Join(testenv.ModuleRoot(t), photo))
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Run(), "child: %s %s", stdout.String(), stderr.String())
			if tc.quiet {
				require.Empty(t, stderr.String())
			} else {
				require.NotEmpty(t, stderr.String())
			}
		})
	}
}

func TestWriteThreshold(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "model")
	require.NoError(t, os.CopyFS(dir, os.DirFS(testenv.Model(t, "testmodels/keras_cnn"))))

	p, err := Open(ctx, dir, Options{JPEGDecoder: encoding.Libjpeg9})
	require.NoError(t, err)
	defer p.Close()
	before := p.Space()
	for _, bad := range []float64{0, -1, math.Inf(1), math.NaN()} {
		_, err := p.WriteThreshold(bad)
		require.ErrorIs(t, err, ErrBadThreshold, "%v", bad)
	}
	path, err := p.WriteThreshold(0.9)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, filepath.FromSlash(encoding.ProfileFile)), path)

	again, err := Open(ctx, dir, Options{})
	require.NoError(t, err)
	defer again.Close()
	require.Equal(t, 0.9, again.Threshold())
	require.Empty(t, again.Profile().Input.JPEGDecoder, "the run's --jpeg-decoder is not written")
	require.Equal(t, before.Dim, again.Space().Dim)
	require.NoError(t, before.Check(again.Space()), "databases made before stay valid")

	// Options.Threshold wins over the written one.
	path, err = again.WriteThreshold(1.1)
	require.NoError(t, err)
	named, err := Open(ctx, dir, Options{Threshold: 0.5})
	require.NoError(t, err)
	defer named.Close()
	require.Equal(t, 0.5, named.Threshold(), "Options.Threshold wins over the profile's")
	require.FileExists(t, path)
}

// TestProfileCropRule: facenet-keras' "photos" profile (the accuracy profile with the mtcnn-margin
// crop rule, margin 10, and its own threshold) loads the detector by itself, and embeds a photo
// exactly as the accuracy profile with Options.Detect at that margin does, in the same embedding
// space; an explicit Options.Detect still chooses the margin.
func TestProfileCropRule(t *testing.T) {
	ctx := context.Background()
	dir := testenv.Model(t, "facenet-keras")
	photoPath := filepath.Join(testenv.ModuleRoot(t), photo)

	byProfile, err := Open(ctx, dir, Options{Profile: "photos"})
	require.NoError(t, err)
	defer byProfile.Close()
	require.True(t, byProfile.HasDetector())
	require.Equal(t, 10, byProfile.Margin())
	require.Equal(t, &encoding.CropProfile{Rule: encoding.CropMTCNNMargin, Margin: 10, Filter: "bilinear"}, byProfile.Profile().Crop)
	require.Equal(t, 1.20, byProfile.Threshold())

	byFlag, err := Open(ctx, dir, Options{Profile: "accuracy", Detect: &DetectOptions{Margin: 10}})
	require.NoError(t, err)
	defer byFlag.Close()
	require.Equal(t, byFlag.Space(), byProfile.Space(), "the crop rule is not part of the embedding space")
	want, err := byFlag.EncodeEveryFace(ctx, photoPath)
	require.NoError(t, err)
	got, err := byProfile.EncodeEveryFace(ctx, photoPath)
	require.NoError(t, err)
	require.Equal(t, want, got)

	accuracy, err := Open(ctx, dir, Options{Profile: "accuracy"})
	require.NoError(t, err)
	defer accuracy.Close()
	require.False(t, accuracy.HasDetector(), "no crop rule: the image is the crop")

	wide, err := Open(ctx, dir, Options{Profile: "photos", Detect: &DetectOptions{Margin: 44}})
	require.NoError(t, err)
	defer wide.Close()
	require.Equal(t, 44, wide.Margin())
}
