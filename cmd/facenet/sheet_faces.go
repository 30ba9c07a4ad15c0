package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"path/filepath"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/raster"
	"github.com/facenet-go/facenet/verify"
)

// faceSheetWidth bounds each photo's width on the --detect contact sheet: a phone photo at full size
// would make a sheet of hundreds of megabytes, and the boxes read fine at this size.
const faceSheetWidth = 960

// writeFaceSheet is identify --detect's contact sheet: each photo (scaled to at most faceSheetWidth
// pixels wide) with every face's box drawn and labelled with its answer and distance, green when
// known and red when not, the photos one under the other with their file names. faces[i] was
// answered by matches[i]; faces of one photo are consecutive, as EncodeEveryFace returns them.
func writeFaceSheet(path string, p *facenet.Pipeline, faces []facenet.FaceEmbedding, matches []verify.Match) error {
	type panel struct {
		img   *encoding.Image
		scale float64
		name  string
		faces []int
	}
	var panels []panel
	for i, f := range faces {
		if i == 0 || faces[i-1].Path != f.Path {
			img, err := p.DecodeFile(f.Path)
			if err != nil {
				return fmt.Errorf("contact sheet: %s: %w", f.Path, err)
			}
			scale := 1.0
			if img.Width > faceSheetWidth {
				scale = float64(faceSheetWidth) / float64(img.Width)
				h := max(1, int(float64(img.Height)*scale+0.5))
				if img, err = img.Resize(faceSheetWidth, h, encoding.Bilinear, image.Rectangle{}); err != nil {
					return fmt.Errorf("contact sheet: %s: %w", f.Path, err)
				}
			}
			panels = append(panels, panel{img: img, scale: scale, name: filepath.Base(f.Path)})
		}
		last := &panels[len(panels)-1]
		last.faces = append(last.faces, i)
	}
	w, h := 2*gap, gap
	for _, pn := range panels {
		w = max(w, pn.img.Width+2*gap)
		h += pn.img.Height + labelH + gap
	}
	sheet := image.NewRGBA(image.Rect(0, 0, w, h))
	raster.Fill(sheet, sheet.Bounds(), color.RGBA{255, 255, 255, 255})
	black := color.RGBA{0, 0, 0, 255}
	white := color.RGBA{255, 255, 255, 255}
	green := color.RGBA{30, 200, 60, 255}
	red := color.RGBA{220, 40, 40, 255}
	y := gap
	for _, pn := range panels {
		im := pn.img
		for j := 0; j < im.Height; j++ {
			for i := 0; i < im.Width; i++ {
				o := (j*im.Width + i) * 3
				sheet.SetRGBA(gap+i, y+j, color.RGBA{im.Pix[o], im.Pix[o+1], im.Pix[o+2], 255})
			}
		}
		at := func(v int) int { return int(float64(v)*pn.scale + 0.5) }
		for _, k := range pn.faces {
			f, m := faces[k], matches[k]
			box := image.Rect(gap+at(f.Box[0]), y+at(f.Box[1]), gap+at(f.Box[0]+f.Box[2]), y+at(f.Box[1]+f.Box[3]))
			c, name := red, "UNKNOWN"
			if m.Known {
				c, name = green, m.Identity
			}
			raster.Frame(sheet, box, c)
			label := name + " D=" + verify.FormatFloat32(m.Distance)
			// Above the box, or inside its top edge when the box touches the photo's top.
			ly := box.Min.Y - 11
			if ly < y {
				ly = box.Min.Y + 2
			}
			raster.Fill(sheet, image.Rect(box.Min.X, ly, box.Min.X+raster.CharWidth*len(label)+3, ly+11), c)
			raster.Text(sheet, box.Min.X+2, ly+2, label, white)
		}
		raster.Text(sheet, gap, y+im.Height+4, pn.name, black)
		y += im.Height + labelH + gap
	}
	encode := func(w io.Writer) error { return png.Encode(w, sheet) }
	if err := writeAtomic(path, 0o644, encode); err != nil {
		return fmt.Errorf("--sheet: contact sheet: %w", err)
	}
	return nil
}

// sheetMatches is the decision of each row, in order.
func sheetMatches(rows []sheetRow) []verify.Match {
	out := make([]verify.Match, len(rows))
	for i, r := range rows {
		out[i] = r.match
	}
	return out
}
