package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/store"
	"github.com/facenet-go/facenet/verify"
)

func init() {
	register(command{name: "enroll", summary: "add identities to a database from images (NAME=IMAGE or --dir)", run: runEnroll})
	register(command{name: "verify", summary: "is IMAGE the claimed IDENTITY? (the notebook's verify)", run: runVerify})
	register(command{name: "identify", summary: "who is in each IMAGE? (the notebook's who_is_it)", run: runIdentify})
}

// batchHelp explains why the commands that reproduce the notebook default to one image per model call.
const batchHelp = "images per model call; 1 reproduces the notebook's per-image predict_on_batch to the last digit " +
	"(TensorFlow's kernels round differently for other batch sizes, by ~1e-7)"

// enrolment is the images of one identity, in the order given.
type enrolment struct {
	name   string
	images []string
}

func runEnroll(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("enroll", "--model DIR --db STORE [--replace] NAME=IMAGE... | --dir FOLDER", stderr)
	model, profile := modelFlags(fs)
	dbPath := fs.String("db", "", dbHelp+" (required)")
	dir := fs.String("dir", "", "folder with one sub-folder of images per identity")
	replace := fs.Bool("replace", false, "replace the samples of identities already enrolled instead of adding to them")
	quiet := fs.Bool("quiet", false, "no progress bar")
	batch := intFlag(fs, "batch", 1, 1, batchHelp)
	jpegDec := jpegDecoderFlag(fs)
	pf := addPhotoFlags(fs)
	pairs, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *model == "" || *dbPath == "" {
		return usageError("--model and --db are required")
	}
	if err := checkDestination("--db", *dbPath); err != nil {
		return err
	}
	var todo []enrolment
	switch {
	case *dir != "" && len(pairs) > 0:
		return usageError("give NAME=IMAGE pairs or --dir, not both")
	case *dir != "":
		if todo, err = scanIdentityFolder(*dir); err != nil {
			return err
		}
	case len(pairs) == 0:
		return usageError("nothing to enrol: give NAME=IMAGE pairs or --dir FOLDER")
	default:
		if todo, err = parsePairs(pairs); err != nil {
			return err
		}
	}
	for _, e := range todo {
		if err := verify.ValidName(e.name); err != nil {
			return fmt.Errorf("identity %q: %w", e.name, err)
		}
	}
	dec, err := parseJPEGDecoderFlag(*jpegDec)
	if err != nil {
		return err
	}
	p, err := openPipeline(*model, *profile, facenet.Options{BatchSize: *batch, JPEGDecoder: dec, Detect: pf.options()})
	if err != nil {
		return err
	}
	defer p.Close()
	// An existing store is opened before the (slow) embedding, so a wrong model or a damaged
	// store fails at once; a new one is created only when there is something to write, so a
	// refused enroll (a photo without a face) leaves no file behind.
	space := p.Space()
	var st *identities
	open := func() (err error) {
		st, err = openStore(cmdContext, *dbPath, &space, true)
		return err
	}
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	if storeExists(*dbPath) {
		if err := open(); err != nil {
			return err
		}
	}
	var enrolments []store.Enrolment // one transaction: every identity of this run, or none
	// The largest face of each photo; a photo without one fails its identity, enrolling nothing
	// (--dir skips it instead: enroll_dir.go).
	enc := newEnrollEncoder("enroll", p, *dir != "", stderr)
	bar := newProgress(stderr, total(todo), *quiet)
	for _, e := range todo {
		embs, err := enc.encode(cmdContext, e.name, e.images)
		if err != nil {
			bar.done()
			return fmt.Errorf("identity %q: %w", e.name, err)
		}
		if len(embs) == 0 {
			bar.add(len(e.images), e.name)
			continue
		}
		enrolments = append(enrolments, store.Enrolment{Name: e.name, Embeddings: embs, Replace: *replace})
		bar.add(len(e.images), e.name)
	}
	bar.done()
	if enc.empty == len(todo) {
		return fmt.Errorf("enroll %s: %w in any photo; nothing written", *dir, facenet.ErrNoFace)
	}
	if st == nil {
		if err := open(); err != nil {
			return err
		}
	}
	if err := st.st.EnrolBatch(cmdContext, enrolments...); err != nil {
		return fmt.Errorf("store %s: %w", st.name, err)
	}
	info, err := st.st.Info(cmdContext)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, enc.summary(todo, st.name, info.Identities, info.Samples))
	return nil
}

func total(todo []enrolment) int {
	n := 0
	for _, e := range todo {
		n += len(e.images)
	}
	return n
}

// parsePairs groups NAME=IMAGE arguments by name, names in order of first appearance.
func parsePairs(pairs []string) ([]enrolment, error) {
	var todo []enrolment
	at := map[string]int{}
	for _, p := range pairs {
		name, img, ok := strings.Cut(p, "=")
		if !ok || name == "" || img == "" {
			return nil, usageError("%q is not NAME=IMAGE", p)
		}
		i, seen := at[name]
		if !seen {
			i = len(todo)
			at[name] = i
			todo = append(todo, enrolment{name: name})
		}
		todo[i].images = append(todo[i].images, img)
	}
	return todo, nil
}

// scanIdentityFolder reads FOLDER/<identity>/<images>, identities and images in name order. Hidden
// files are skipped; every other file must be an image (a bad one fails the whole enrolment with its name).
func scanIdentityFolder(dir string) ([]enrolment, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("identity folder: %w", err)
	}
	var todo []enrolment
	for _, ent := range entries {
		if !ent.IsDir() || strings.HasPrefix(ent.Name(), ".") {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, ent.Name()))
		if err != nil {
			return nil, fmt.Errorf("identity folder: %w", err)
		}
		e := enrolment{name: ent.Name()}
		for _, f := range files {
			if f.Type().IsRegular() || f.Type()&fs.ModeSymlink != 0 {
				if !strings.HasPrefix(f.Name(), ".") {
					e.images = append(e.images, filepath.Join(dir, ent.Name(), f.Name()))
				}
			}
		}
		sort.Strings(e.images)
		if len(e.images) > 0 {
			todo = append(todo, e)
		}
	}
	if len(todo) == 0 {
		return nil, fmt.Errorf("identity folder %s: no sub-folders with images", dir)
	}
	return todo, nil
}

// probeSetup is what verify and identify share: the pipeline (with the threshold in force) and the
// database.
type probeSetup struct {
	*facenet.Pipeline
	db *verify.DB
}

func openProbe(model, profile, dbPath string, threshold *thresholdFlag, batch int, jpegDecoder string, pf photoFlags) (*probeSetup, error) {
	if model == "" || dbPath == "" {
		return nil, usageError("--model and --db are required")
	}
	if batch <= 0 {
		return nil, usageError("--batch must be positive, got %d", batch)
	}
	dec, err := parseJPEGDecoderFlag(jpegDecoder)
	if err != nil {
		return nil, err
	}
	// The store first, so a damaged one fails before the (slow) model load.
	db, err := loadIdentities(cmdContext, dbPath)
	if err != nil {
		return nil, err
	}
	p, err := openPipeline(model, profile, facenet.Options{
		BatchSize: batch, JPEGDecoder: dec, Threshold: threshold.value(0), Detect: pf.options(),
	})
	if err != nil {
		return nil, err
	}
	if err := db.Space().Check(p.Space()); err != nil {
		p.Close()
		return nil, fmt.Errorf("store %s and model %s: %w", displayStore(dbPath), model, err)
	}
	return &probeSetup{Pipeline: p, db: db}, nil
}

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify", "--model DIR --db STORE [--threshold T] [--json] IMAGE IDENTITY", stderr)
	model, profile := modelFlags(fs)
	dbPath := fs.String("db", "", dbHelp+" (required)")
	threshold := &thresholdFlag{}
	fs.Var(threshold, "threshold", "accept when distance < threshold, a finite number > 0 (default: the model profile's, 0.7 for the notebook)")
	asJSON := fs.Bool("json", false, "print a JSON object")
	jpegDec := jpegDecoderFlag(fs)
	pf := addPhotoFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return usageError("want IMAGE IDENTITY, got %d arguments", len(rest))
	}
	img, identity := rest[0], rest[1]
	p, err := openProbe(*model, *profile, *dbPath, threshold, 1, *jpegDec, pf)
	if err != nil {
		return err
	}
	defer p.Close()
	if !p.db.Has(identity) {
		return fmt.Errorf("verify %s: %w: %q (enrolled: %s)", img, verify.ErrUnknownIdentity, identity, strings.Join(p.db.Names(), ", "))
	}
	d, err := p.Verify(cmdContext, img, identity, p.db)
	if err != nil {
		return fmt.Errorf("verify %s: %w", img, err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"image": img, "identity": identity, "distance": d.Distance, "threshold": d.Threshold,
			"accepted": d.Accepted, "message": d.Message(),
		})
	}
	rel := ">="
	if d.Accepted {
		rel = "<"
	}
	_, err = fmt.Fprintf(stdout, "%s: %s (distance %s %s %v)\n", displayPath(img), d.Message(), verify.FormatFloat32(d.Distance), rel, d.Threshold)
	return err
}

func runIdentify(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("identify", "--model DIR --db STORE [--threshold T] [--top K] [--json] [--sheet FILE.png --gallery DIR] IMAGE...", stderr)
	model, profile := modelFlags(fs)
	dbPath := fs.String("db", "", dbHelp+" (required)")
	threshold := &thresholdFlag{}
	fs.Var(threshold, "threshold", "unknown when distance > threshold, a finite number > 0 (default: the model profile's)")
	top := intFlag(fs, "top", 0, 0, "also list the K nearest identities")
	explain := fs.Bool("v", false, "also print the runner-up and the margin to it")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	sheet := fs.String("sheet", "", "write a PNG contact sheet of each probe beside its match (with --detect: each photo with every face's box, name and distance)")
	gallery := fs.String("gallery", "", "with --sheet: folder holding one <identity>.{jpg,png,...} image per identity")
	batch := intFlag(fs, "batch", 1, 1, batchHelp)
	jpegDec := jpegDecoderFlag(fs)
	pf := addPhotoFlags(fs)
	images, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(images) == 0 {
		return usageError("no images given")
	}
	if err := checkDestination("--sheet", *sheet); err != nil {
		return err
	}
	p, err := openProbe(*model, *profile, *dbPath, threshold, *batch, *jpegDec, pf)
	if err != nil {
		return err
	}
	defer p.Close()
	if *sheet != "" && *gallery == "" && !p.HasDetector() {
		return usageError("--sheet needs --gallery (or --detect, which draws each photo's faces)")
	}
	var embs [][]float32
	var faces []facenet.FaceEmbedding
	if p.HasDetector() {
		// One answer per face, labelled "PATH [x y w h]".
		images, embs, faces, err = everyFace(p.Pipeline, images)
	} else {
		embs, err = p.Encode(cmdContext, images...)
	}
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	width := 0
	for _, img := range images {
		width = max(width, len(displayPath(img))+1)
	}
	// A large database pays for building the quantized index once (under a second for a million
	// samples) and then answers each probe ~20x faster than the exact scan, with the same answers.
	search := verify.NewSearcher(p.db)
	var rows []sheetRow
	for i, img := range images {
		m, err := search.WhoIsIt(embs[i], p.Threshold())
		if err != nil {
			return fmt.Errorf("identify %s: %w", img, err)
		}
		var near []verify.Neighbor
		if *top > 0 {
			if near, err = search.TopK(embs[i], *top); err != nil {
				return err
			}
		}
		rows = append(rows, sheetRow{probe: img, match: m})
		if *asJSON {
			rec := map[string]any{
				"image": img, "identity": m.Identity, "known": m.Known, "distance": m.Distance,
				"threshold": m.Threshold, "runner_up": m.RunnerUp, "runner_up_distance": m.RunnerUpDistance,
				"margin": m.Margin, "message": m.Message(),
			}
			if *top > 0 {
				rec["top"] = near
			}
			line, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			w.Write(append(line, '\n'))
			continue
		}
		fmt.Fprintf(w, "%-*s %s", width, displayPath(img)+":", m.Message())
		if *explain && m.RunnerUp != "" {
			fmt.Fprintf(w, "   [nearest %s %s, runner-up %s %s, margin %.4f]", m.Identity,
				verify.FormatFloat32(m.Distance), m.RunnerUp, verify.FormatFloat32(m.RunnerUpDistance), m.Margin)
		}
		fmt.Fprintln(w)
		for k, n := range near {
			fmt.Fprintf(w, "%*s %d. %-16s %s\n", width, "", k+1, n.Identity, verify.FormatFloat32(n.Distance))
		}
	}
	if *sheet != "" {
		if faces != nil {
			err = writeFaceSheet(*sheet, p.Pipeline, faces, sheetMatches(rows))
		} else {
			err = writeSheet(*sheet, *gallery, rows, encoding.JPEGDecoder(p.Profile().Input.JPEGDecoder))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "contact sheet: %s\n", displayPath(*sheet))
	}
	return w.Flush()
}

// errNoGalleryImage is returned when the contact sheet has no picture of a matched identity.
var errNoGalleryImage = errors.New("no gallery image")
