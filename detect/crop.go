package detect

import (
	"errors"
	"fmt"
	"image"

	"github.com/facenet-go/facenet/encoding"
)

// ErrEmptyCrop is returned by CropFace when the grown box has no pixel inside the image.
var ErrEmptyCrop = errors.New("face box outside the image")

// CropBox is FaceNet's crop rule (Sandberg's align_dataset_mtcnn.py): the face's box grown by
// margin/2 on each side in image pixels and clipped to the image. It starts from the integer
// Box that mtcnn's detect_faces reports, not the unrounded Rect: the Python reference of the rule
// is built from the mtcnn package's boxes, and those are the integers; with them the rule is
// integer arithmetic and Go and Python agree on every pixel whatever the CPU (Sandberg's own
// float det is truncated by np.int32 anyway, so at most one pixel of the border differs).
func CropBox(f Face, margin, width, height int) image.Rectangle {
	x1, y1 := f.Box[0], f.Box[1]
	x2, y2 := x1+f.Box[2], y1+f.Box[3]
	half := margin / 2
	// Not image.Rect: it swaps inverted corners, and a box past the image must stay empty.
	return image.Rectangle{Min: image.Pt(max(x1-half, 0), max(y1-half, 0)),
		Max: image.Pt(min(x2+half, width), min(y2+half, height))}
}

// CropFace cuts the face's CropBox out of img with the given margin, as Pillow's
// Image.crop does (a copy of the pixels). The caller resizes the crop to the model's input with
// the profile's filter (encoding's Pillow-exact Resize): cropping first matters, because Pillow's
// resize with a box reads filter support outside the box, a crop then resize does not.
func CropFace(img *encoding.Image, f Face, margin int) (*encoding.Image, error) {
	if img == nil || img.Width <= 0 || img.Height <= 0 || len(img.Pix) != 3*img.Width*img.Height {
		return nil, fmt.Errorf("crop: %w", encoding.ErrInvalidOptions)
	}
	if margin < 0 {
		return nil, fmt.Errorf("crop: margin %d is negative: %w", margin, encoding.ErrInvalidOptions)
	}
	r := CropBox(f, margin, img.Width, img.Height)
	if r.Dx() <= 0 || r.Dy() <= 0 {
		return nil, fmt.Errorf("crop box %v of face %v in a %dx%d image: %w", r, f.Box, img.Width, img.Height, ErrEmptyCrop)
	}
	out := &encoding.Image{Width: r.Dx(), Height: r.Dy(), Pix: make([]uint8, 3*r.Dx()*r.Dy())}
	for y := 0; y < r.Dy(); y++ {
		src := ((r.Min.Y+y)*img.Width + r.Min.X) * 3
		copy(out.Pix[y*out.Width*3:(y+1)*out.Width*3], img.Pix[src:src+out.Width*3])
	}
	return out, nil
}
