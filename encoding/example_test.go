package encoding_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/facenet-go/facenet/encoding"
)

// The notebook's img_to_encoding input for one image: load_img at 160x160, then the float32
// tensor of np.around(x / 255.0, 12) written into a batch buffer.
func ExampleLoadImg() {
	img, err := encoding.LoadImg("../testdata/images/andrew.jpg", encoding.LoadOptions{Height: 160, Width: 160})
	if err != nil {
		log.Fatal(err)
	}
	batch := make([]float32, 2*img.TensorLen()) // room for two images
	if err := img.FillTensor(batch[:img.TensorLen()], encoding.KerasPixels); err != nil {
		log.Fatal(err)
	}
	fmt.Println(img.Width, img.Height, len(batch))
	fmt.Println(batch[0] == float32(img.Pix[0])/255)
	// Output:
	// 160 160 153600
	// true
}

func ExamplePixelOptions_Lookup() {
	lut, err := encoding.KerasPixels.Lookup()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lut[0], lut[1], lut[128], lut[255])
	raw, err := encoding.PixelOptions{DivideBy: 1, RoundDecimals: encoding.NoRounding}.Lookup()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(raw[0], raw[1], raw[128], raw[255])
	// Output:
	// 0 0.003921569 0.5019608 1
	// 0 1 128 255
}

func ExampleKerasCropBox() {
	// keep_aspect_ratio=True: a 640x480 photo resized to 160x160 keeps its centre 480x480.
	fmt.Println(encoding.KerasCropBox(640, 480, 160, 160))
	// Output:
	// (80,0)-(560,480)
}

func ExampleWriteNPY() {
	var buf bytes.Buffer
	if err := encoding.WriteNPY(&buf, []int{1, 2}, []float32{0.5, 1}); err != nil {
		log.Fatal(err)
	}
	header := buf.Bytes()[10:bytes.IndexByte(buf.Bytes(), '\n')]
	fmt.Printf("%s| %d bytes\n", bytes.TrimRight(header, " "), buf.Len())
	// Output:
	// {'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }| 136 bytes
}

func ExampleParseInterpolation() {
	f, err := encoding.ParseInterpolation("bicubic")
	fmt.Println(f, err)
	_, err = encoding.ParseInterpolation("cubic")
	fmt.Println(err)
	// Output:
	// bicubic <nil>
	// invalid options: interpolation "cubic" (want one of nearest, bilinear, bicubic, hamming, box, lanczos)
}

// Facenet's prewhiten standardizes each image by its own mean and standard deviation: a two-level
// image becomes -1 and +1.
func ExamplePixelOptions_prewhiten() {
	img := &encoding.Image{Width: 2, Height: 1, Pix: []byte{10, 10, 10, 30, 30, 30}}
	x := make([]float32, img.TensorLen())
	if err := img.FillTensor(x, encoding.PixelOptions{Rule: encoding.RulePrewhiten}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x)
	// Output: [-1 -1 -1 1 1 1]
}

// The notebook's environment decoded JPEGs with IJG libjpeg 9d (Pillow <= 8.4): LoadOptions.JPEGDecoder
// picks it, and on the notebook's 4:2:0 photographs its pixels differ from libjpeg-turbo's.
func ExampleParseJPEGDecoder() {
	dec, err := encoding.ParseJPEGDecoder("libjpeg9") // e.g. the value of --jpeg-decoder
	if err != nil {
		log.Fatal(err)
	}
	opts := encoding.LoadOptions{Height: 160, Width: 160, JPEGDecoder: dec}
	ijg, err := encoding.LoadImg("../testdata/images/camera_0.jpg", opts)
	if err != nil {
		log.Fatal(err)
	}
	opts.JPEGDecoder = encoding.LibjpegTurbo
	turbo, err := encoding.LoadImg("../testdata/images/camera_0.jpg", opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(dec, bytes.Equal(ijg.Pix, turbo.Pix))
	// Output:
	// libjpeg9 false
}
