package main

import (
	"context"
	"fmt"
	"time"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/encoding"
)

// modePhoto times the photo pipeline of issue 18 (make bench-photo): decode, MTCNN, FaceNet's margin
// crop of every face and one embedding per face, photo by photo, as the Python reference
// (scripts/bench_photo.py: mtcnn's detect_faces, the crop, the Keras model) does.
const modePhoto = "photo"

// photoStages is where a photo pass spends its wall time.
type photoStages struct {
	DecodeS float64 `json:"decode_s"`
	DetectS float64 `json:"detect_s"` // MTCNN and the crops
	EmbedS  float64 `json:"embed_s"`  // resize, pixel rule, FaceNet, normalization of every crop
}

// benchPhoto runs one warm-up pass over every photo (each photo size builds its own TensorFlow
// kernels for the pyramid), then c.reps timed passes, and reports every face's box for the parent
// to compare with mtcnn's.
func benchPhoto(ctx context.Context, c config, paths []string) (*report, error) {
	rep := &report{Side: "go", Mode: c.mode, Images: len(paths), Batch: 1, Intra: c.intra, Inter: c.inter}
	t0 := time.Now()
	p, err := facenet.Open(ctx, c.model, facenet.Options{
		RequireProfile: true, Profile: c.profile, Detect: &facenet.DetectOptions{Margin: c.margin},
		IntraOpThreads: c.intra, InterOpThreads: c.inter, MaxGarbageBytes: c.maxGarbage,
	})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	rep.LoadS = time.Since(t0).Seconds()
	pass := func(st *photoStages) ([][][4]int, []float32, error) {
		var boxes [][][4]int
		var first []float32
		for _, path := range paths {
			t := time.Now()
			img, err := p.DecodeFile(path)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", path, err)
			}
			st.DecodeS += time.Since(t).Seconds()
			t = time.Now()
			faces, err := p.Faces(ctx, img)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", path, err)
			}
			st.DetectS += time.Since(t).Seconds()
			t = time.Now()
			crops := make([]*encoding.Image, len(faces))
			var b [][4]int
			for i, f := range faces {
				crops[i] = f.Crop
				b = append(b, f.Box)
			}
			embs, err := p.EncodeImages(ctx, crops)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", path, err)
			}
			st.EmbedS += time.Since(t).Seconds()
			if first == nil {
				first = embs[0]
			}
			boxes = append(boxes, b)
		}
		return boxes, first, nil
	}
	t0 = time.Now()
	if _, _, err := pass(&photoStages{}); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	rep.WarmupS = time.Since(t0).Seconds()
	stop, err := startProfile(c.cpuprofile)
	if err != nil {
		return nil, err
	}
	for range c.reps {
		var st photoStages
		t0, c0 := time.Now(), cpuSeconds()
		boxes, first, err := pass(&st)
		if err != nil {
			stop()
			return nil, err
		}
		rep.Seconds = append(rep.Seconds, time.Since(t0).Seconds())
		rep.CPUSeconds = append(rep.CPUSeconds, cpuSeconds()-c0)
		rep.Embedding0, rep.Boxes, rep.Stages = first, boxes, &st
	}
	if err := stop(); err != nil {
		return nil, err
	}
	if rep.PeakRSSKiB, err = peakRSSKiB(); err != nil {
		return nil, err
	}
	return rep, nil
}
