package encoding_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
)

// TestEncodeImagesEqualsEncode: embedding decoded pixels gives what Encode gives for the files, for
// the notebook's nearest rule and the accuracy profile's bilinear + prewhiten.
func TestEncodeImagesEqualsEncode(t *testing.T) {
	paths := notebookImages(t, "camera_0.jpg", "younes.jpg", "danielle.png")
	bilinear := profileFor(16)
	bilinear.Input.Interpolation = "bilinear"
	bilinear.Input.PixelRule = "prewhiten"
	bilinear.Input.DivideBy, bilinear.Input.RoundDecimals = 0, nil
	for _, tc := range []struct {
		name string
		prof encoding.Profile
	}{{"notebook", profileFor(16)}, {"bilinear prewhiten", bilinear}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEncoder(t, &fakeModel{dim: 16}, tc.prof, encoding.EncoderOptions{BatchSize: 2})
			want, err := e.Encode(context.Background(), paths...)
			require.NoError(t, err)
			imgs := make([]*encoding.Image, len(paths))
			for i, p := range paths {
				imgs[i], err = encoding.DecodeFile(p, encoding.DecodeOptions{})
				require.NoError(t, err)
			}
			got, err := e.EncodeImages(context.Background(), imgs)
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
	e := newEncoder(t, &fakeModel{dim: 16}, profileFor(16), encoding.EncoderOptions{})
	_, err := e.EncodeImages(context.Background(), []*encoding.Image{nil})
	require.Error(t, err)
}
