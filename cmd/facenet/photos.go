package main

import (
	"flag"
	"fmt"

	"github.com/facenet-go/facenet"
)

// photoFlags are --detect, --margin and --detector, shared by the commands that take photos.
type photoFlags struct {
	fs       *flag.FlagSet
	on       *bool
	margin   *int
	detector *string
}

func addPhotoFlags(fs *flag.FlagSet) photoFlags {
	return photoFlags{
		fs:       fs,
		on:       fs.Bool("detect", false, "the images are photos: find the faces with MTCNN and embed FaceNet's margin crop of each (implied by --margin and --detector, and by a profile whose crop rule is mtcnn-margin, such as --profile photos, which also sets the margin)"),
		margin:   intFlag(fs, "margin", facenet.DefaultMargin, 0, "pixels added around the face box (margin/2 a side, Sandberg's rule; implies --detect, and overrides a profile's margin)"),
		detector: fs.String("detector", "", "the MTCNN models folder (default: mtcnn beside the --model folder; implies --detect)"),
	}
}

// options is the pipeline's detector setting: nil without --detect (or --margin, --detector),
// so the commands treat each image as the crop, as the notebook does, unless the profile detects.
// A --margin given is used even where the profile has its own: a flag the user typed is never
// silently replaced by a default.
func (f photoFlags) options() *facenet.DetectOptions {
	given := false
	f.fs.Visit(func(fl *flag.Flag) { given = given || fl.Name == "margin" || fl.Name == "detector" })
	if !*f.on && !given {
		return nil
	}
	return &facenet.DetectOptions{Dir: *f.detector, Margin: *f.margin}
}

// everyFace embeds every face of every photo (embed and identify with a detector), each labelled
// "PATH [x y w h]" for the text output; faces are what identify's contact sheet draws.
func everyFace(p *facenet.Pipeline, paths []string) (labels []string, embs [][]float32, faces []facenet.FaceEmbedding, err error) {
	faces, err = p.EncodeEveryFace(cmdContext, paths...)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, f := range faces {
		labels = append(labels, fmt.Sprintf("%s [%d %d %d %d]", f.Path, f.Box[0], f.Box[1], f.Box[2], f.Box[3]))
		embs = append(embs, f.Embedding)
	}
	return labels, embs, faces, nil
}
