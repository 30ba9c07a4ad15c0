package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/detect"
	"github.com/facenet-go/facenet/encoding"
)

// enrollEncoder is how enroll (and calibrate) turn one identity's images into embeddings. With
// --dir and a detector, a folder of photos is a collection, not a claim about each file: a photo
// in which MTCNN finds no face is skipped with one line on stderr and counted, and the rest of the
// identity is used. Named NAME=PHOTO pairs keep the strict rule: the user pointed at that photo,
// so no face there fails the command before anything is written.
type enrollEncoder struct {
	cmd     string // the command named in the skip lines
	p       *facenet.Pipeline
	skip    bool // --dir with a detector
	stderr  io.Writer
	skipped int // photos without a face
	empty   int // identities none of whose photos had a face
}

func newEnrollEncoder(cmd string, p *facenet.Pipeline, fromDir bool, stderr io.Writer) *enrollEncoder {
	return &enrollEncoder{cmd: cmd, p: p, skip: fromDir && p.HasDetector(), stderr: stderr}
}

// encode embeds the largest face of each photo (or each whole image without a detector). With
// skipping on, the result may be shorter than paths, or empty when no photo had a face.
func (e *enrollEncoder) encode(ctx context.Context, name string, paths []string) ([][]float32, error) {
	if !e.skip {
		return e.p.EncodeFiles(ctx, paths...)
	}
	var crops []*encoding.Image
	for _, path := range paths {
		crop, err := e.largestFace(ctx, path)
		if errors.Is(err, facenet.ErrNoFace) {
			fmt.Fprintf(e.stderr, "facenet %s: skipped %s (identity %q): no face found\n", e.cmd, displayPath(path), name)
			e.skipped++
			continue
		}
		if err != nil {
			return nil, err
		}
		crops = append(crops, crop)
	}
	if len(crops) == 0 {
		fmt.Fprintf(e.stderr, "facenet %s: identity %q left out: none of its %d photos has a face\n", e.cmd, name, len(paths))
		e.empty++
		return nil, nil
	}
	// One EncodeImages call for the identity, so --batch still groups its crops.
	return e.p.EncodeImages(ctx, crops)
}

// largestFace decodes the photo at path and returns the margin crop of its largest face
// (facenet.LargestFace, as EncodeFiles chooses); errors name the path.
func (e *enrollEncoder) largestFace(ctx context.Context, path string) (*encoding.Image, error) {
	img, err := e.p.DecodeFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	faces, err := e.p.Faces(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	found := make([]detect.Face, len(faces))
	for i, f := range faces {
		found[i] = f.Face
	}
	return faces[facenet.LargestFace(found, img.Width, img.Height)].Crop, nil
}

// summary is enroll's last line: what went into the database, and what --dir skipped.
func (e *enrollEncoder) summary(todo []enrolment, storeName string, identities, samples int) string {
	s := fmt.Sprintf("enrolled %d images of %d identities into %s (%d identities, %d samples)",
		total(todo)-e.skipped, len(todo)-e.empty, storeName, identities, samples)
	if e.skipped > 0 {
		s += fmt.Sprintf("; skipped %d photos without a face", e.skipped)
	}
	return s
}

// scanIdentityFolders is scanIdentityFolder over several folders: identities of the same name are
// merged (their images in folder order), identities in name order.
func scanIdentityFolders(dirs []string) ([]enrolment, error) {
	var all []enrolment
	at := map[string]int{}
	for _, dir := range dirs {
		todo, err := scanIdentityFolder(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range todo {
			i, seen := at[e.name]
			if !seen {
				i = len(all)
				at[e.name] = i
				all = append(all, enrolment{name: e.name})
			}
			all[i].images = append(all[i].images, e.images...)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].name < all[j].name })
	return all, nil
}
