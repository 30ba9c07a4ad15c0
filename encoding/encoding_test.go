package encoding

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nfnt/resize"
	"github.com/stretchr/testify/require"
)

// pngOf encodes a w x h RGB test card with Go's PNG encoder (only the decoder is under test).
func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.NRGBA{uint8(x * 7), uint8(y * 5), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, m))
	return buf.Bytes()
}

func TestDecodeRejects(t *testing.T) {
	jpeg, err := os.ReadFile(filepath.Join(testdataDir, "images", "andrew.jpg"))
	require.NoError(t, err)
	corrupt := bytes.Clone(jpeg)
	sos := bytes.Index(corrupt, []byte{0xFF, 0xDA})
	require.Positive(t, sos)
	corrupt[sos+4] = 9 // SOS names 9 components: libjpeg errors out (longjmp, not exit)
	twelveBit := bytes.Clone(jpeg)
	sof := bytes.Index(twelveBit, []byte{0xFF, 0xC2})
	require.Positive(t, sof)
	twelveBit[sof+4] = 12

	tests := []struct {
		name string
		data []byte
		want error
		text string
	}{
		{"too many scans", manyScans(t, 600), ErrInvalidImage, "more than 500 scans"},
		{"empty", nil, ErrUnsupportedFormat, "empty file"},
		{"text", []byte("hello"), ErrUnsupportedFormat, "not a JPEG, PNG, GIF, BMP, WebP or Netpbm"},
		{"tiff magic", []byte("II*\x00\x08\x00\x00\x00"), ErrUnsupportedFormat, ""},
		{"gif header only", []byte("GIF89a"), ErrTruncated, ""},
		{"bmp header only", []byte("BM"), ErrTruncated, ""},
		{"png signature only", pngSignature, ErrTruncated, ""},
		{"jpeg soi only", []byte{0xFF, 0xD8, 0xFF}, ErrTruncated, ""},
		{"libjpeg error", corrupt, ErrInvalidImage, "jpeg: "},
		{"12-bit jpeg", twelveBit, ErrInvalidImage, "12-bit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(tt.data, DecodeOptions{})
			require.Nil(t, img)
			require.ErrorIs(t, err, tt.want)
			require.Contains(t, err.Error(), tt.text)
		})
	}
}

// manyScans repeats the second scan header of a progressive JPEG: each copy makes libjpeg
// walk the whole coefficient buffer again, the cost the scan limit bounds.
func manyScans(t *testing.T, n int) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, "preprocess", "corpus", "j_gray_prog_64x64.jpg"))
	require.NoError(t, err)
	first := bytes.Index(data, []byte{0xFF, 0xDA})
	second := first + 2 + bytes.Index(data[first+2:], []byte{0xFF, 0xDA})
	require.Greater(t, second, first)
	seg := data[second : second+2+int(binary.BigEndian.Uint16(data[second+2:]))]
	out := bytes.Clone(data[:second])
	for i := 0; i < n; i++ {
		out = append(out, seg...)
	}
	return append(out, 0xFF, 0xD9)
}

func TestMaxPixels(t *testing.T) {
	data := pngOf(t, 100, 50)
	tests := []struct {
		name  string
		limit int64
		want  error
	}{
		{"default", 0, nil},
		{"exactly the size", 5000, nil},
		{"one less", 4999, ErrDecompressionBomb},
		{"disabled", -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(data, DecodeOptions{MaxPixels: tt.limit})
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				require.Nil(t, img)
				return
			}
			require.NoError(t, err)
			require.Equal(t, 100, img.Width)
		})
	}
}

func TestFilesAreNamedInErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "photo.jpg")
	require.NoError(t, os.WriteFile(bad, []byte("not an image"), 0o644))
	tests := []struct {
		name string
		call func(string) error
		path string
		want error
	}{
		{"LoadImg bad", func(p string) error { _, err := LoadImg(p, LoadOptions{}); return err }, bad, ErrUnsupportedFormat},
		{"DecodeFile bad", func(p string) error { _, err := DecodeFile(p, DecodeOptions{}); return err }, bad, ErrUnsupportedFormat},
		{"LoadImg missing", func(p string) error { _, err := LoadImg(p, LoadOptions{}); return err }, filepath.Join(dir, "none.png"), os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(tt.path)
			require.ErrorIs(t, err, tt.want)
			require.Contains(t, err.Error(), tt.path)
		})
	}
}

func TestLoadOptionsValidate(t *testing.T) {
	data := pngOf(t, 8, 8)
	tests := []struct {
		name string
		opts LoadOptions
		ok   bool
	}{
		{"no resize", LoadOptions{}, true},
		{"resize", LoadOptions{Height: 3, Width: 5}, true},
		{"height only", LoadOptions{Height: 3}, false},
		{"negative", LoadOptions{Height: -3, Width: 3}, false},
		{"bad filter", LoadOptions{Height: 3, Width: 3, Interpolation: Lanczos + 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Load(data, tt.opts)
			if !tt.ok {
				require.ErrorIs(t, err, ErrInvalidOptions)
				return
			}
			require.NoError(t, err)
			if tt.opts.Width > 0 {
				require.Equal(t, [2]int{tt.opts.Width, tt.opts.Height}, [2]int{img.Width, img.Height})
			}
		})
	}
}

func TestResizeRejects(t *testing.T) {
	img := newImage(10, 8)
	tests := []struct {
		name string
		w, h int
		f    Interpolation
		box  image.Rectangle
	}{
		{"zero width", 0, 5, Nearest, image.Rectangle{}},
		{"unknown filter", 5, 5, Interpolation(-1), image.Rectangle{}},
		{"box outside", 5, 5, Bilinear, image.Rect(0, 0, 11, 8)},
		{"negative box", 5, 5, Bilinear, image.Rect(-1, 0, 5, 8)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := img.Resize(tt.w, tt.h, tt.f, tt.box)
			require.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
	_, err := (&Image{Width: 2, Height: 2, Pix: make([]byte, 5)}).Resize(1, 1, Nearest, image.Rectangle{})
	require.ErrorIs(t, err, ErrInvalidOptions)
}

func TestResizeSameSizeIsACopy(t *testing.T) {
	img := newImage(4, 3)
	img.Pix[0] = 7
	for f := Nearest; f <= Lanczos; f++ {
		out, err := img.Resize(4, 3, f, image.Rectangle{})
		require.NoError(t, err)
		require.Equal(t, img.Pix, out.Pix)
		out.Pix[0] = 9
		require.Equal(t, uint8(7), img.Pix[0], "the result must not share memory")
	}
}

func TestKerasPixelsIsFloat32Division(t *testing.T) {
	// REFERENCE.md: float32(np.around(v / 255, 12)) == float32(v / 255) for every byte.
	lut, err := KerasPixels.Lookup()
	require.NoError(t, err)
	for v := 0; v < 256; v++ {
		require.Equal(t, float32(float64(v)/255), lut[v], "v=%d", v)
	}
}

func TestFillTensorLayouts(t *testing.T) {
	img := &Image{Width: 2, Height: 1, Pix: []uint8{1, 2, 3, 4, 5, 6}}
	opts := PixelOptions{DivideBy: 1, RoundDecimals: NoRounding}
	tests := []struct {
		name          string
		bgr, chFirst  bool
		wantSourceIdx []int // which Pix byte lands at each position
	}{
		{"NHWC RGB", false, false, []int{0, 1, 2, 3, 4, 5}},
		{"NHWC BGR", true, false, []int{2, 1, 0, 5, 4, 3}},
		{"NCHW RGB", false, true, []int{0, 3, 1, 4, 2, 5}},
		{"NCHW BGR", true, true, []int{2, 5, 1, 4, 0, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			o.BGR, o.ChannelsFirst = tt.bgr, tt.chFirst
			dst := make([]float32, 6)
			require.NoError(t, img.FillTensor(dst, o))
			for i, src := range tt.wantSourceIdx {
				require.Equal(t, float32(img.Pix[src]), dst[i], "position %d", i)
			}
		})
	}
}

func TestFillTensorRejects(t *testing.T) {
	img := newImage(2, 2)
	tests := []struct {
		name string
		dst  int
		opts PixelOptions
	}{
		{"short buffer", 11, KerasPixels},
		{"long buffer", 13, KerasPixels},
		{"zero divisor", 12, PixelOptions{RoundDecimals: NoRounding}},
		{"NaN divisor", 12, PixelOptions{DivideBy: math.NaN(), RoundDecimals: NoRounding}},
		{"infinite divisor", 12, PixelOptions{DivideBy: math.Inf(1), RoundDecimals: NoRounding}},
		{"bad decimals", 12, PixelOptions{DivideBy: 255, RoundDecimals: -2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := img.FillTensor(make([]float32, tt.dst), tt.opts)
			require.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
}

func TestAppendTensorStacksImages(t *testing.T) {
	a := &Image{Width: 1, Height: 1, Pix: []uint8{0, 128, 255}}
	b := &Image{Width: 2, Height: 1, Pix: []uint8{1, 2, 3, 4, 5, 6}}
	batch, err := a.AppendTensor(nil, KerasPixels)
	require.NoError(t, err)
	batch, err = b.AppendTensor(batch, KerasPixels)
	require.NoError(t, err)
	want := make([]float32, 9)
	require.NoError(t, a.FillTensor(want[:3], KerasPixels))
	require.NoError(t, b.FillTensor(want[3:], KerasPixels))
	require.Equal(t, want, batch)
	_, err = a.AppendTensor(batch, PixelOptions{})
	require.ErrorIs(t, err, ErrInvalidOptions)
}

// WriteNPY must produce the bytes np.save produces (files from golden_preprocess.py).
func TestWriteNPYMatchesNumpy(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "preprocess", "manifest.json"))
	require.NoError(t, err)
	var m struct {
		NPY []struct {
			File       string `json:"file"`
			Descr      string `json:"descr"`
			Shape      []int  `json:"shape"`
			FileSHA256 string `json:"file_sha256"`
		} `json:"npy"`
	}
	require.NoError(t, json.Unmarshal(data, &m))
	require.NotEmpty(t, m.NPY)
	for _, f := range m.NPY {
		t.Run(f.File, func(t *testing.T) {
			want := readGolden(t, f.File, f.FileSHA256)
			n := 1
			for _, d := range f.Shape {
				n *= d
			}
			var buf bytes.Buffer
			switch f.Descr {
			case "<f4":
				v := make([]float32, n)
				for i := range v {
					v[i] = float32(i % 256)
				}
				require.NoError(t, WriteNPY(&buf, f.Shape, v))
			case "|u1":
				v := make([]uint8, n)
				for i := range v {
					v[i] = uint8(i % 256)
				}
				require.NoError(t, WriteNPY(&buf, f.Shape, v))
			default:
				t.Fatalf("unknown descr %s", f.Descr)
			}
			require.Equal(t, want, buf.Bytes())
		})
	}
}

func TestWriteNPYRejects(t *testing.T) {
	tests := []struct {
		name  string
		shape []int
		n     int
	}{
		{"count mismatch", []int{2, 3}, 5},
		{"negative dim", []int{-1, 3}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteNPY(&bytes.Buffer{}, tt.shape, make([]float32, tt.n))
			require.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
	require.Equal(t, uint16(118), binary.LittleEndian.Uint16(func() []byte {
		var b bytes.Buffer
		require.NoError(t, WriteNPY(&b, []int{2, 3}, make([]float32, 6)))
		return b.Bytes()[8:10]
	}()))
}

// The encoder calls LoadImg from several goroutines; results must not depend on it.
func TestLoadImgConcurrent(t *testing.T) {
	paths := []string{
		filepath.Join(testdataDir, "images", "andrew.jpg"),
		filepath.Join(testdataDir, "images", "danielle.png"),
		filepath.Join(testdataDir, "preprocess", "corpus", "j_cmyk_120x90.jpg"),
		filepath.Join(testdataDir, "preprocess", "corpus", "g_basic_100x80.gif"),
	}
	opts := LoadOptions{Height: 160, Width: 160}
	want := make([][]byte, len(paths))
	for i, p := range paths {
		img, err := LoadImg(p, opts)
		require.NoError(t, err)
		want[i] = img.Pix
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(paths))
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, p := range paths {
				img, err := LoadImg(p, opts)
				if err == nil && !bytes.Equal(img.Pix, want[i]) {
					err = os.ErrInvalid
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// The Resize godoc says why github.com/nfnt/resize is not used; this keeps the claim checked
// against the Pillow-exact implementation (itself checked by the golden tests).
func TestNfntResizeIsNotPillow(t *testing.T) {
	tests := []struct {
		name     string
		src, dst int
		ours     Interpolation
		theirs   resize.InterpolationFunction
		same     bool
	}{
		{"nearest 96->160 (the notebook's case)", 96, 160, Nearest, resize.NearestNeighbor, true},
		{"nearest 64->160", 64, 160, Nearest, resize.NearestNeighbor, false},
		{"nearest 128->160", 128, 160, Nearest, resize.NearestNeighbor, false},
		{"nearest 320->160", 320, 160, Nearest, resize.NearestNeighbor, false},
		{"bilinear 96->160", 96, 160, Bilinear, resize.Bilinear, false},
		{"bicubic 96->160", 96, 160, Bicubic, resize.Bicubic, false},
		{"lanczos 96->160", 96, 160, Lanczos, resize.Lanczos3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newImage(tt.src, tt.src)
			rgba := image.NewRGBA(image.Rect(0, 0, tt.src, tt.src))
			for i := 0; i < tt.src*tt.src; i++ {
				for c := 0; c < 3; c++ {
					v := uint8((i*3 + c) * 7 % 251)
					src.Pix[3*i+c] = v
					rgba.Pix[4*i+c] = v
				}
				rgba.Pix[4*i+3] = 255
			}
			ours, err := src.Resize(tt.dst, tt.dst, tt.ours, image.Rectangle{})
			require.NoError(t, err)
			theirs := resize.Resize(uint(tt.dst), uint(tt.dst), rgba, tt.theirs)
			same := true
			for y := 0; y < tt.dst && same; y++ {
				for x := 0; x < tt.dst; x++ {
					r, g, b, _ := theirs.At(x, y).RGBA()
					o := 3 * (y*tt.dst + x)
					if uint8(r>>8) != ours.Pix[o] || uint8(g>>8) != ours.Pix[o+1] || uint8(b>>8) != ours.Pix[o+2] {
						same = false
						break
					}
				}
			}
			require.Equal(t, tt.same, same)
		})
	}
}

// Misuse gives errors (or a documented fallback), never a panic.
func TestNoPanicOnMisuse(t *testing.T) {
	var nilImg *Image
	require.ErrorIs(t, nilImg.FillTensor(nil, KerasPixels), ErrInvalidOptions)
	_, err := nilImg.AppendTensor(nil, KerasPixels)
	require.ErrorIs(t, err, ErrInvalidOptions)
	_, err = nilImg.ResizeKeras(LoadOptions{Height: 2, Width: 2})
	require.ErrorIs(t, err, ErrInvalidOptions)
	_, err = nilImg.Resize(2, 2, Nearest, image.Rectangle{})
	require.ErrorIs(t, err, ErrInvalidOptions)
	require.Equal(t, image.Rect(0, 0, 7, 5), KerasCropBox(7, 5, 0, 10))
}
