package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/calibrate"
	"github.com/facenet-go/facenet/encoding"
)

func init() {
	register(command{name: "calibrate", summary: "choose a distance threshold from labelled images (ROC, EER, k-fold)", run: runCalibrate})
}

func runCalibrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calibrate", "--model DIR [--folds K] [--png FILE] [--json] [--write-threshold] [--detect] FOLDER...\n\n"+
		"Each FOLDER holds one sub-folder of images per identity; sub-folders of the same name in several\n"+
		"FOLDERs are one identity (train/ and val/ of a dataset). With --detect (or a profile that detects)\n"+
		"a photo without a face is skipped with one line, and counted.\n", stderr)
	model, profile := modelFlags(fs)
	folds := intFlag(fs, "folds", 10, 2, "cross-validation folds, at least 2 (lowered, with a note, to the number of genuine pairs when there are fewer)")
	pngPath := fs.String("png", "", "write the distance histograms and the ROC curve to this PNG")
	asJSON := fs.Bool("json", false, "print the calibration as JSON instead of a table")
	jpegDec := jpegDecoderFlag(fs)
	write := fs.Bool("write-threshold", false, "store the best-accuracy threshold in the model's profile in use ("+encoding.ProfileFile+", or the --profile one)")
	pf := addPhotoFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *model == "" || len(rest) == 0 {
		return usageError("want --model DIR and one or more FOLDERs (one sub-folder of images per identity)")
	}
	if err := checkDestination("--png", *pngPath); err != nil {
		return err
	}
	dec, err := parseJPEGDecoderFlag(*jpegDec)
	if err != nil {
		return err
	}
	todo, err := scanIdentityFolders(rest)
	if err != nil {
		return err
	}
	p, err := openPipeline(*model, *profile, facenet.Options{JPEGDecoder: dec, Detect: pf.options()})
	if err != nil {
		return err
	}
	defer p.Close()
	enc := newEnrollEncoder("calibrate", p, true, stderr)
	labelled := map[string][][]float32{}
	genuine := 0
	for _, e := range todo {
		embs, err := enc.encode(cmdContext, e.name, e.images)
		if err != nil {
			return fmt.Errorf("identity %q: %w", e.name, err)
		}
		if len(embs) > 0 {
			labelled[e.name] = embs
		}
		genuine += len(embs) * (len(embs) - 1) / 2
	}
	folder := strings.Join(rest, " ")
	k := *folds
	if genuine < k {
		if genuine < 2 {
			return fmt.Errorf("calibrate %s: %d genuine pairs: %w (need identities with two or more images)", folder, genuine, calibrate.ErrNotEnoughPairs)
		}
		fmt.Fprintf(stderr, "facenet calibrate: only %d genuine pairs, using %d folds\n", genuine, genuine)
		k = genuine
	}
	cal, err := calibrate.Labelled(labelled, calibrate.Options{Folds: k})
	if err != nil {
		return fmt.Errorf("calibrate %s: %w", folder, err)
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(cal); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "model %s, %d identities, %d images, profile threshold %v\n", *model, len(labelled), total(todo)-enc.skipped, p.Threshold())
		if enc.skipped > 0 {
			fmt.Fprintf(stdout, "skipped %d photos without a face\n", enc.skipped)
		}
		fmt.Fprintln(stdout)
		if err := cal.WriteTable(stdout); err != nil {
			return err
		}
	}
	if *pngPath != "" {
		if err := writeAtomic(*pngPath, 0o644, cal.WritePNG); err != nil {
			return fmt.Errorf("--png: calibration plot: %w", err)
		}
		fmt.Fprintf(stderr, "plot: %s\n", displayPath(*pngPath))
	}
	if *write {
		file, err := p.WriteThreshold(cal.Threshold)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "threshold %.3f written to %s\n", cal.Threshold, file)
	}
	return nil
}
