package encoding

import (
	"context"
	"fmt"
)

// EncodeImages embeds images already decoded (face crops, for instance): each is resized to the
// model's input with the profile's crop filter, or its input interpolation when the crop rule names
// none (Pillow-exact, the whole image, no aspect crop: FaceNet's alignment resizes its margin crop
// straight to the input size), then the profile's pixel rule, the model and, when the profile says
// so, the L2 normalization, BatchSize images per call. It is Encode for pixels that do not come
// from a file.
func (e *Encoder) EncodeImages(ctx context.Context, imgs []*Image) ([][]float32, error) {
	opts := e.load
	opts.KeepAspectRatio = false
	if c := e.prof.Crop; c != nil && c.Filter != "" {
		f, err := ParseInterpolation(c.Filter)
		if err != nil {
			return nil, err
		}
		opts.Interpolation = f
	}
	out := make([][]float32, 0, len(imgs))
	for start := 0; start < len(imgs); start += e.batch {
		n := min(e.batch, len(imgs)-start)
		x := make([]float32, n*e.size)
		for i := 0; i < n; i++ {
			img, err := imgs[start+i].ResizeKeras(opts)
			if err != nil {
				return nil, fmt.Errorf("image %d: %w", start+i, err)
			}
			if err := img.FillTensor(x[i*e.size:(i+1)*e.size], e.pixels); err != nil {
				return nil, fmt.Errorf("image %d: %w", start+i, err)
			}
		}
		embs, err := e.run(ctx, x, n, e.prof.Output.L2Normalize)
		if err != nil {
			return nil, fmt.Errorf("images %d..%d: %w", start, start+n-1, err)
		}
		out = append(out, embs...)
	}
	return out, nil
}
