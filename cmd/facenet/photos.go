package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/facenet-go/facenet/detect"
	"github.com/facenet-go/facenet/encoding"
)

// photoFlags are --detect, --margin and --detector, shared by the commands that take photos.
type photoFlags struct {
	on       *bool
	margin   *int
	detector *string
}

func addPhotoFlags(fs *flag.FlagSet) photoFlags {
	return photoFlags{
		on:       fs.Bool("detect", false, "the images are photos: find the faces with MTCNN and embed FaceNet's margin crop of each"),
		margin:   intFlag(fs, "margin", 32, 0, "with --detect: pixels added around the face box (margin/2 a side, Sandberg's rule)"),
		detector: fs.String("detector", "", "with --detect: the MTCNN models folder (default: mtcnn beside the --model folder)"),
	}
}

// photos detects and crops faces for the encoder; a nil *photos means --detect is off.
type photos struct {
	det    *detect.Detector
	margin int
	dec    encoding.JPEGDecoder
}

// open loads the detector when --detect is given; without it, it returns nil and the commands
// behave as before.
func (f photoFlags) open(modelDir string, dec encoding.JPEGDecoder) (*photos, error) {
	if !*f.on {
		return nil, nil
	}
	dir := *f.detector
	if dir == "" {
		dir = filepath.Join(filepath.Dir(filepath.Clean(modelDir)), "mtcnn")
	}
	det, err := detect.Load(dir, detect.Options{Quiet: quietStderr})
	if err != nil {
		return nil, fmt.Errorf("--detector: %w", err)
	}
	return &photos{det: det, margin: *f.margin, dec: dec}, nil
}

func (p *photos) Close() error {
	if p == nil {
		return nil
	}
	return p.det.Close()
}

// faces decodes path, finds its faces and crops each; a photo without a face is an error naming it.
func (p *photos) faces(ctx context.Context, path string) ([]detect.Face, []*encoding.Image, *encoding.Image, error) {
	img, err := encoding.DecodeFile(path, encoding.DecodeOptions{JPEGDecoder: p.dec})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", displayPath(path), err)
	}
	faces, err := p.det.Detect(ctx, img)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", displayPath(path), err)
	}
	if len(faces) == 0 {
		return nil, nil, nil, fmt.Errorf("%s: %w", displayPath(path), errNoFace)
	}
	crops := make([]*encoding.Image, len(faces))
	for i, f := range faces {
		if crops[i], err = detect.CropFace(img, f, p.margin); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", displayPath(path), err)
		}
	}
	return faces, crops, img, nil
}

// largestFace is Sandberg's choice among several faces (align_dataset_mtcnn.py): the largest box
// area minus twice the squared offset of its centre from the image centre.
func largestFace(faces []detect.Face, width, height int) int {
	best, bestScore := 0, 0.0
	for i, f := range faces {
		area := float64(f.Box[2]) * float64(f.Box[3])
		dx := float64(f.Box[0]) + float64(f.Box[2])/2 - float64(width)/2
		dy := float64(f.Box[1]) + float64(f.Box[3])/2 - float64(height)/2
		score := area - 2*(dx*dx+dy*dy)
		if i == 0 || score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// encodeLargest embeds the largest face of each photo (enroll, verify, calibrate).
func (p *photos) encodeLargest(ctx context.Context, enc *encoding.Encoder, paths ...string) ([][]float32, error) {
	crops := make([]*encoding.Image, len(paths))
	for i, path := range paths {
		faces, c, img, err := p.faces(ctx, path)
		if err != nil {
			return nil, err
		}
		crops[i] = c[largestFace(faces, img.Width, img.Height)]
	}
	return enc.EncodeImages(ctx, crops)
}

// encodeEach embeds every face of every photo (embed, identify); labels name each face as
// "PATH [x y w h]".
// largestOrWhole is the encode function of enroll and calibrate: each photo's largest face with
// --detect (p non-nil), the whole image as today without it.
func (p *photos) largestOrWhole(enc *encoding.Encoder) func(ctx context.Context, paths ...string) ([][]float32, error) {
	if p == nil {
		return enc.Encode
	}
	return func(ctx context.Context, paths ...string) ([][]float32, error) {
		return p.encodeLargest(ctx, enc, paths...)
	}
}

func (p *photos) encodeEach(ctx context.Context, enc *encoding.Encoder, paths ...string) (labels []string, embs [][]float32, err error) {
	var crops []*encoding.Image
	for _, path := range paths {
		faces, c, _, err := p.faces(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range faces {
			labels = append(labels, fmt.Sprintf("%s [%d %d %d %d]", path, f.Box[0], f.Box[1], f.Box[2], f.Box[3]))
		}
		crops = append(crops, c...)
	}
	embs, err = enc.EncodeImages(ctx, crops)
	return labels, embs, err
}
