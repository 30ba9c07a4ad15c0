package encoding

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds adds every small corpus file (valid and broken) and the notebook images.
func fuzzSeeds(f *testing.F, add func([]byte)) {
	for _, pattern := range []string{"preprocess/corpus/*", "images/*.jpg", "images/*.png"} {
		files, err := filepath.Glob(filepath.Join(testdataDir, pattern))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			if len(data) <= 64<<10 {
				add(data)
			}
		}
	}
}

// fuzzLimit keeps a header that announces a huge image from allocating gigabytes; the limit
// path itself is what such inputs exercise.
const fuzzLimit = 1 << 22

func FuzzDecode(f *testing.F) {
	fuzzSeeds(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(data, DecodeOptions{MaxPixels: fuzzLimit})
		if err != nil {
			if img != nil {
				t.Fatalf("image returned with error %v", err)
			}
			return
		}
		if img.Width <= 0 || img.Height <= 0 || len(img.Pix) != 3*img.Width*img.Height {
			t.Fatalf("malformed image %dx%d with %d bytes", img.Width, img.Height, len(img.Pix))
		}
	})
}

func FuzzLoadImg(f *testing.F) {
	fuzzSeeds(f, func(b []byte) { f.Add(b, uint8(160), uint8(160), uint8(0), false) })
	f.Add([]byte("GIF89a"), uint8(3), uint8(200), uint8(5), true)
	f.Fuzz(func(t *testing.T, data []byte, h, w, interp uint8, keep bool) {
		opts := LoadOptions{Height: int(h%200) + 1, Width: int(w%200) + 1,
			Interpolation: Interpolation(interp % 6), KeepAspectRatio: keep, MaxPixels: fuzzLimit}
		img, err := Load(data, opts)
		if err != nil {
			return
		}
		if img.Width != opts.Width || img.Height != opts.Height || len(img.Pix) != 3*img.Width*img.Height {
			t.Fatalf("got %dx%d (%d bytes), want %dx%d", img.Width, img.Height, len(img.Pix), opts.Width, opts.Height)
		}
		if err := img.FillTensor(make([]float32, img.TensorLen()), KerasPixels); err != nil {
			t.Fatal(err)
		}
	})
}
