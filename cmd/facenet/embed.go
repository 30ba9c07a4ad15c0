package main

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/encoding"
)

func init() {
	register(command{
		name:    "embed",
		summary: "print the embedding of each image (img_to_encoding)",
		run:     runEmbed,
	})
}

func runEmbed(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("embed", "--model DIR [--json] [--raw] [--batch N] IMAGE...\n\n"+
		"Prints one line per image, \"PATH: v1 v2 ...\". A PATH holding a character that would break or\n"+
		"disguise the line (a newline, a control or format character, invalid UTF-8) or starting with '\"'\n"+
		"is printed Go-quoted (strconv.Quote: \"a\\nb.jpg\"); --json escapes it as JSON does.\n", stderr)
	model, profile := modelFlags(fs)
	asJSON := fs.Bool("json", false, `one JSON object per line: {"image": "<path>", "embedding": [...]}`)
	raw := fs.Bool("raw", false, "print the model's output as it is, without the profile's L2 normalization")
	batch := intFlag(fs, "batch", 1, 1, batchHelp)
	jpegDec := jpegDecoderFlag(fs)
	pf := addPhotoFlags(fs)
	images, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *model == "" {
		return usageError("--model is required")
	}
	if len(images) == 0 {
		return usageError("no images given")
	}
	dec, err := parseJPEGDecoderFlag(*jpegDec)
	if err != nil {
		return err
	}
	if *raw && *pf.on {
		return usageError("--raw and --detect do not go together")
	}
	p, err := openPipeline(*model, *profile, facenet.Options{BatchSize: *batch, JPEGDecoder: dec, Detect: pf.options()})
	if err != nil {
		return err
	}
	defer p.Close()
	if *raw && p.HasDetector() {
		return usageError("--raw and a profile that detects faces (crop rule %s) do not go together", encoding.CropMTCNNMargin)
	}
	var embs [][]float32
	switch {
	case p.HasDetector():
		// One line per face, labelled "PATH [x y w h]".
		images, embs, _, err = everyFace(p, images)
	case *raw:
		embs, err = p.Encoder().EncodeRaw(cmdContext, images...)
	default:
		embs, err = p.Encode(cmdContext, images...)
	}
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	for i, e := range embs {
		if *asJSON {
			line, err := json.Marshal(struct {
				Image     string    `json:"image"`
				Embedding []float32 `json:"embedding"`
			}{images[i], e})
			if err != nil {
				return err
			}
			w.Write(line)
			w.WriteByte('\n')
			continue
		}
		w.WriteString(displayPath(images[i]))
		w.WriteByte(':')
		for _, v := range e {
			w.WriteByte(' ')
			w.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		w.WriteByte('\n')
	}
	return w.Flush()
}
