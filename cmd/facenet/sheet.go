package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/raster"
	"github.com/facenet-go/facenet/verify"
)

// sheetRow is one probe and what identify decided about it.
type sheetRow struct {
	probe string
	match verify.Match
}

const (
	thumb   = 128 // pixels of each picture
	labelH  = 30  // text under each picture
	gap     = 12
	columns = 2 // probe | match
)

// galleryImage finds dir/<identity>.<ext> for the usual image extensions.
func galleryImage(dir, identity string) (string, error) {
	for _, ext := range []string{".jpg", ".jpeg", ".png", ".gif", ".bmp"} {
		p := filepath.Join(dir, identity+ext)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w for %q in %s", errNoGalleryImage, identity, dir)
}

// writeSheet draws each probe beside the gallery picture of its match (or an empty, red-framed cell
// when unknown), with the decision written under them, and saves it as PNG atomically. JPEGs are
// decoded with dec, the decoder the embeddings were made with.
func writeSheet(path, gallery string, rows []sheetRow, dec encoding.JPEGDecoder) error {
	w := columns*thumb + (columns+1)*gap
	h := len(rows)*(thumb+labelH+gap) + gap
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	raster.Fill(img, img.Bounds(), color.RGBA{255, 255, 255, 255})
	black := color.RGBA{0, 0, 0, 255}
	green := color.RGBA{30, 150, 60, 255}
	red := color.RGBA{200, 40, 40, 255}
	for i, r := range rows {
		y := gap + i*(thumb+labelH+gap)
		if err := drawThumb(img, r.probe, gap, y, dec); err != nil {
			return err
		}
		raster.Text(img, gap, y+thumb+4, filepath.Base(r.probe), black)
		x := 2*gap + thumb
		frame := red
		if r.match.Known {
			p, err := galleryImage(gallery, r.match.Identity)
			if err != nil {
				return err
			}
			if err := drawThumb(img, p, x, y, dec); err != nil {
				return err
			}
			raster.Text(img, x, y+thumb+4, r.match.Identity, black)
			frame = green
		} else {
			raster.Text(img, x, y+thumb+4, "NOT IN DATABASE", red)
		}
		raster.Text(img, x, y+thumb+16, "D="+verify.FormatFloat32(r.match.Distance), frame)
		raster.Frame(img, image.Rect(x-2, y-2, x+thumb+2, y+thumb+2), frame)
	}
	encode := func(w io.Writer) error { return png.Encode(w, img) }
	if err := writeAtomic(path, 0o644, encode); err != nil {
		return fmt.Errorf("--sheet: contact sheet: %w", err)
	}
	return nil
}

// drawThumb decodes path as the pipeline does and draws it at (x, y), scaled to thumb x thumb with
// Pillow's nearest rule.
func drawThumb(dst *image.RGBA, path string, x, y int, dec encoding.JPEGDecoder) error {
	im, err := encoding.LoadImg(path, encoding.LoadOptions{Height: thumb, Width: thumb, Interpolation: encoding.Nearest, JPEGDecoder: dec})
	if err != nil {
		return fmt.Errorf("contact sheet: %w", err)
	}
	for j := 0; j < im.Height; j++ {
		for i := 0; i < im.Width; i++ {
			o := (j*im.Width + i) * 3
			dst.SetRGBA(x+i, y+j, color.RGBA{im.Pix[o], im.Pix[o+1], im.Pix[o+2], 255})
		}
	}
	return nil
}
