package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/facenet-go/facenet/encoding"
)

func init() {
	register(command{
		name:    "preprocess",
		summary: "write an image as the model input .npy (keras load_img + np.around(x/255, 12))",
		run:     runPreprocess,
	})
}

func runPreprocess(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("preprocess",
		"--size HxW [--interpolation nearest] [--keep-aspect-ratio] [--uint8] [--channels-first] --out FILE.npy IMAGE", stderr)
	size := fs.String("size", "", fmt.Sprintf("target size as HEIGHTxWIDTH, e.g. 160x160 (load_img's target_size), each side 1..%d; empty keeps the image's size", encoding.MaxInputSide))
	interpName := fs.String("interpolation", "nearest", "nearest, bilinear, bicubic, hamming, box or lanczos")
	keep := fs.Bool("keep-aspect-ratio", false, "crop the centred box of the target's aspect ratio before resizing")
	asUint8 := fs.Bool("uint8", false, "write the resized RGB bytes as uint8 instead of the float32 model input")
	channelsFirst := fs.Bool("channels-first", false, "write (3, H, W) instead of (H, W, 3)")
	out := fs.String("out", "", "the .npy file to write (required)")
	jpegDec := jpegDecoderFlag(fs)
	images, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return usageError("--out is required")
	}
	if len(images) != 1 {
		return usageError("want exactly one IMAGE, got %d", len(images))
	}
	if err := checkDestination("--out", *out); err != nil {
		return err
	}
	opts := encoding.LoadOptions{KeepAspectRatio: *keep}
	if opts.JPEGDecoder, err = parseJPEGDecoderFlag(*jpegDec); err != nil {
		return err
	}
	if *size != "" {
		if opts.Height, opts.Width, err = parseSize(*size); err != nil {
			return usageError("--size %v", err)
		}
	}
	if opts.Interpolation, err = encoding.ParseInterpolation(*interpName); err != nil {
		return usageError("--interpolation: %v", err)
	}

	img, err := encoding.LoadImg(images[0], opts)
	if err != nil {
		return err
	}
	shape := []int{img.Height, img.Width, 3}
	if *channelsFirst {
		shape = []int{3, img.Height, img.Width}
	}
	write := func(w io.Writer) error {
		if *asUint8 {
			data := img.Pix
			if *channelsFirst {
				data = planar(img)
			}
			return encoding.WriteNPY(w, shape, data)
		}
		pixels := encoding.KerasPixels
		pixels.ChannelsFirst = *channelsFirst
		data := make([]float32, img.TensorLen())
		if err := img.FillTensor(data, pixels); err != nil {
			return err
		}
		return encoding.WriteNPY(w, shape, data)
	}
	if err := writeAtomic(*out, 0o644, write); err != nil {
		return fmt.Errorf("--out: write %s: %w", *out, err)
	}
	dtype := "float32"
	if *asUint8 {
		dtype = "uint8"
	}
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	fmt.Fprintf(stdout, "%s: %s (%s) from %s\n", displayPath(*out), dtype, strings.Join(dims, ", "), displayPath(images[0]))
	return nil
}

// parseSize reads "HEIGHTxWIDTH", the order of keras' target_size. Each side is at most
// encoding.MaxInputSide, the bound model profiles have: the output is a float32 tensor of that
// size, and 100000x100000 would ask for 120 GB (it died with a 111-line stack trace).
func parseSize(s string) (height, width int, err error) {
	hs, ws, ok := strings.Cut(strings.ToLower(s), "x")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not HEIGHTxWIDTH", s)
	}
	var sides [2]int
	for i, v := range []string{hs, ws} {
		n, err := strconv.Atoi(v)
		switch {
		case (err == nil && n > encoding.MaxInputSide) || (errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(v, "-")):
			return 0, 0, fmt.Errorf("%q: each side must be at most %d", s, encoding.MaxInputSide)
		case err != nil || n <= 0:
			return 0, 0, fmt.Errorf("%q is not HEIGHTxWIDTH with positive integers", s)
		}
		sides[i] = n
	}
	return sides[0], sides[1], nil
}

// planar reorders RGB bytes into three planes (channels first).
func planar(img *encoding.Image) []uint8 {
	n := img.Width * img.Height
	out := make([]uint8, 3*n)
	for i := 0; i < n; i++ {
		out[i], out[n+i], out[2*n+i] = img.Pix[3*i], img.Pix[3*i+1], img.Pix[3*i+2]
	}
	return out
}
