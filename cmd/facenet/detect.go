package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/detect"
	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/raster"
	"github.com/facenet-go/facenet/tfmodel"
)

func init() {
	register(command{
		name:    "detect",
		summary: "find the faces in photos (MTCNN): box, confidence, keypoints",
		run:     runDetect,
	})
}

// faceJSON is one face as --json prints it: the photo, then mtcnn's dict.
type faceJSON struct {
	Image string `json:"image"`
	detect.Face
}

func runDetect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("detect", "[--detector DIR] [--json] [--draw OUT.png] [--crops DIR [--margin N]] PHOTO...\n\n"+
		"Prints one line per face, \"PATH: box X Y W H confidence C keypoints ...\" (--json: one object per\n"+
		"face, mtcnn's fields). A photo without a face is named on stderr and the exit code is 1.\n"+
		"--crops writes each face's margin crop, the pixels --detect embeds, as DIR/<photo>-<N>.png (N from\n"+
		"1, in the order printed): enroll one of them to enrol that face rather than the photo's largest.\n", stderr)
	detDir := fs.String("detector", "build/models/mtcnn", "the MTCNN SavedModels folder (make models)")
	asJSON := fs.Bool("json", false, `one JSON object per face: {"image", "box", "confidence", "keypoints"}`)
	draw := fs.String("draw", "", "write the (single) photo with its boxes and keypoints drawn to this PNG")
	crops := fs.String("crops", "", "write each face's margin crop as a PNG into this (existing) folder")
	margin := intFlag(fs, "margin", facenet.DefaultMargin, 0, "with --crops: pixels added around the face box (margin/2 a side)")
	jpegDec := jpegDecoderFlag(fs)
	photos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(photos) == 0 {
		return usageError("no photos given")
	}
	if *draw != "" && len(photos) != 1 {
		return usageError("--draw takes one photo, got %d", len(photos))
	}
	if err := checkDestination("--draw", *draw); err != nil {
		return err
	}
	if *crops != "" {
		if st, err := os.Stat(*crops); err != nil || !st.IsDir() {
			return usageError("--crops %s: not a folder", *crops)
		}
	}
	dec, err := parseJPEGDecoderFlag(*jpegDec)
	if err != nil {
		return err
	}
	det, err := detect.Load(*detDir, detect.Options{Quiet: tfmodel.QuietStderr})
	if err != nil {
		return fmt.Errorf("--detector: %w", err)
	}
	defer det.Close()
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	var missing []string
	for _, p := range photos {
		img, err := encoding.DecodeFile(p, encoding.DecodeOptions{JPEGDecoder: dec})
		if err != nil {
			return fmt.Errorf("%s: %w", displayPath(p), err)
		}
		faces, err := det.Detect(cmdContext, img)
		if err != nil {
			return fmt.Errorf("%s: %w", displayPath(p), err)
		}
		if len(faces) == 0 {
			missing = append(missing, p)
			continue
		}
		for _, f := range faces {
			if *asJSON {
				line, err := json.Marshal(faceJSON{p, f})
				if err != nil {
					return err
				}
				w.Write(line)
				w.WriteByte('\n')
				continue
			}
			k := f.Keypoints
			fmt.Fprintf(w, "%s: box %d %d %d %d confidence %.6f keypoints %d,%d %d,%d %d,%d %d,%d %d,%d\n",
				displayPath(p), f.Box[0], f.Box[1], f.Box[2], f.Box[3], f.Confidence,
				k.LeftEye.X, k.LeftEye.Y, k.RightEye.X, k.RightEye.Y, k.Nose.X, k.Nose.Y,
				k.MouthLeft.X, k.MouthLeft.Y, k.MouthRight.X, k.MouthRight.Y)
		}
		if *draw != "" {
			if err := drawFaces(*draw, img, faces); err != nil {
				return err
			}
		}
		if *crops != "" {
			if err := writeCrops(w, *crops, p, img, faces, *margin); err != nil {
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// One line per photo without a face: all but the last here, the last as the command's error.
	for i, p := range missing {
		if i == len(missing)-1 {
			return fmt.Errorf("%s: %w", displayPath(p), facenet.ErrNoFace)
		}
		fmt.Fprintf(stderr, "facenet detect: %s: %v\n", displayPath(p), facenet.ErrNoFace)
	}
	return nil
}

// drawFaces writes img with each face's box (green) and keypoints (red) as a PNG, atomically.
func drawFaces(path string, img *encoding.Image, faces []detect.Face) error {
	dst := image.NewRGBA(image.Rect(0, 0, img.Width, img.Height))
	for i := 0; i < img.Width*img.Height; i++ {
		copy(dst.Pix[4*i:4*i+3], img.Pix[3*i:3*i+3])
		dst.Pix[4*i+3] = 255
	}
	green := color.RGBA{30, 220, 60, 255}
	red := color.RGBA{230, 30, 30, 255}
	for _, f := range faces {
		r := image.Rect(f.Box[0], f.Box[1], f.Box[0]+f.Box[2], f.Box[1]+f.Box[3])
		raster.Frame(dst, r, green)
		k := f.Keypoints
		for _, q := range []image.Point{k.LeftEye, k.RightEye, k.Nose, k.MouthLeft, k.MouthRight} {
			raster.Fill(dst, image.Rect(q.X-2, q.Y-2, q.X+3, q.Y+3).Intersect(dst.Bounds()), red)
		}
	}
	if err := writeAtomic(path, 0o644, func(w io.Writer) error { return png.Encode(w, dst) }); err != nil {
		return fmt.Errorf("--draw: %w", err)
	}
	return nil
}

// writeCrops writes each face's margin crop (detect.CropFace, unresized) as dir/<photo>-<N>.png and
// names each file on w. A PNG keeps the pixels exact, so embedding the file with the profile's resize
// gives the vector --detect gives that face.
func writeCrops(w io.Writer, dir, photo string, img *encoding.Image, faces []detect.Face, margin int) error {
	base := strings.TrimSuffix(filepath.Base(photo), filepath.Ext(photo))
	for i, f := range faces {
		crop, err := detect.CropFace(img, f, margin)
		if err != nil {
			return fmt.Errorf("%s: %w", displayPath(photo), err)
		}
		dst := image.NewRGBA(image.Rect(0, 0, crop.Width, crop.Height))
		for j := 0; j < crop.Width*crop.Height; j++ {
			copy(dst.Pix[4*j:4*j+3], crop.Pix[3*j:3*j+3])
			dst.Pix[4*j+3] = 255
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-%d.png", base, i+1))
		if err := writeAtomic(path, 0o644, func(w io.Writer) error { return png.Encode(w, dst) }); err != nil {
			return fmt.Errorf("--crops: %w", err)
		}
		fmt.Fprintf(w, "crop: %s [%d %d %d %d]\n", displayPath(path), f.Box[0], f.Box[1], f.Box[2], f.Box[3])
	}
	return nil
}
