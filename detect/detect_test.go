package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/npsort"
)

// Bounds for Go against the golden file. TensorFlow's float32 outputs differ by about 1e-6 between
// CPUs (oneDNN picks kernels per CPU), and regression offsets are multiplied by box sizes of a few
// hundred pixels. Measured on the golden corpus (26 faces, Xeon with AVX-512): largest differences
// 2.2e-5 px (boxes), 3.1e-5 px (landmarks), 3.6e-7 (confidence); with ONEDNN_MAX_CPU_ISA=AVX2
// 3.8e-4 px, 2.5e-4 px and 9.5e-7. The bounds leave a factor of 5 (coordinates) and 10 (confidence).
const (
	coordTol = 2e-3
	confTol  = 1e-5
)

const modelDir = "../build/models/mtcnn"

type goldenFace struct {
	Box        [4]int            `json:"box"`
	Confidence float64           `json:"confidence"`
	Keypoints  map[string][2]int `json:"keypoints"`
}

type goldenCase struct {
	Root   string       `json:"root"`
	File   string       `json:"file"`
	Width  int          `json:"width"`
	Height int          `json:"height"`
	Faces  []goldenFace `json:"faces"`
	Rows   [][14]float64
	// BySort holds the answer under numpy's other sorts, where it differs (scripts/golden_mtcnn.py).
	BySort map[string]struct {
		Faces []goldenFace  `json:"faces"`
		Rows  [][14]float64 `json:"rows"`
	} `json:"by_sort"`
}

// forSort is the case as the Python reference answers it when numpy runs the sort isa.
func (c goldenCase) forSort(isa npsort.ISA) goldenCase {
	if alt, ok := c.BySort[isa.String()]; ok {
		c.Faces, c.Rows = alt.Faces, alt.Rows
	}
	return c
}

func (c *goldenCase) UnmarshalJSON(b []byte) error {
	type plain goldenCase
	var v struct {
		plain
		Rows [][14]float64 `json:"rows"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = goldenCase(v.plain)
	c.Rows = v.Rows
	return nil
}

func readGolden(t testing.TB) []goldenCase {
	t.Helper()
	data, err := os.ReadFile("../testdata/detect/golden_mtcnn.json")
	require.NoError(t, err)
	var doc struct {
		Cases []goldenCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	require.NotEmpty(t, doc.Cases)
	return doc.Cases
}

func casePath(c goldenCase) string {
	if c.Root == "images" {
		shared := os.Getenv("FACENET_SHARED")
		if shared == "" {
			shared = "../../shared"
		}
		return filepath.Join(shared, "notebook", "images", c.File)
	}
	return filepath.Join("../build/celeb5", c.File)
}

var (
	detOnce sync.Once
	det     *Detector
	detErr  error
)

func detector(t testing.TB) *Detector {
	t.Helper()
	detOnce.Do(func() { det, detErr = Load(modelDir, Options{}) })
	require.NoError(t, detErr, "make models builds %s", modelDir)
	return det
}

// rounded is mtcnn's integer for v, which may be either neighbour when v is within tol of a .5 tie.
func roundedOK(got int, v float64) bool {
	if got == round(v) {
		return true
	}
	f := math.Floor(v)
	return math.Abs(v-f-0.5) < coordTol && (got == int(f) || got == int(f)+1)
}

// compare reports the first difference between Go's faces and the golden case beyond the bounds.
func compare(c goldenCase, faces []Face) error {
	if len(faces) != len(c.Faces) {
		return fmt.Errorf("%d faces, golden %d", len(faces), len(c.Faces))
	}
	names := []string{"left_eye", "right_eye", "nose", "mouth_left", "mouth_right"}
	for i, f := range faces {
		g, row := c.Faces[i], c.Rows[i]
		if d := math.Abs(f.Confidence - g.Confidence); d > confTol {
			return fmt.Errorf("face %d: confidence %v, golden %v (diff %.3g)", i, f.Confidence, g.Confidence, d)
		}
		for k := 0; k < 4; k++ {
			if d := math.Abs(f.Rect[k] - row[k]); d > coordTol {
				return fmt.Errorf("face %d: rect[%d] %v, golden %v (diff %.3g)", i, k, f.Rect[k], row[k], d)
			}
		}
		for k := 0; k < 10; k++ {
			if d := math.Abs(f.Points[k] - row[4+k]); d > coordTol {
				return fmt.Errorf("face %d: point[%d] %v, golden %v (diff %.3g)", i, k, f.Points[k], row[4+k], d)
			}
		}
		wh := []float64{row[0], row[1], row[2] - row[0], row[3] - row[1]}
		for k := 0; k < 4; k++ {
			if f.Box[k] != g.Box[k] && !roundedOK(f.Box[k], wh[k]) {
				return fmt.Errorf("face %d: box %v, golden %v", i, f.Box, g.Box)
			}
		}
		pts := []Keypoints{f.Keypoints}[0]
		got := [][2]int{{pts.LeftEye.X, pts.LeftEye.Y}, {pts.RightEye.X, pts.RightEye.Y}, {pts.Nose.X, pts.Nose.Y},
			{pts.MouthLeft.X, pts.MouthLeft.Y}, {pts.MouthRight.X, pts.MouthRight.Y}}
		for k, n := range names {
			want := g.Keypoints[n]
			for a := 0; a < 2; a++ {
				if got[k][a] != want[a] && !roundedOK(got[k][a], row[4+5*a+k]) {
					return fmt.Errorf("face %d: %s %v, golden %v", i, n, got[k], want)
				}
			}
		}
	}
	return nil
}

// mosaicCols and grey are golden_mtcnn.py's synthetic cases: the notebook crops 6 per row on grey 128.
const (
	mosaicCols = 6
	grey       = 128
)

func greyImage(w, h int) *encoding.Image {
	img := &encoding.Image{Width: w, Height: h, Pix: make([]byte, w*h*3)}
	for i := range img.Pix {
		img.Pix[i] = grey
	}
	return img
}

// scaleImage replicates each pixel up times (up > 1) or keeps every down-th pixel, as numpy's repeat
// and [::down] slicing do.
func scaleImage(src *encoding.Image, up, down int) *encoding.Image {
	w, h := (src.Width*up+down-1)/down, (src.Height*up+down-1)/down
	img := &encoding.Image{Width: w, Height: h, Pix: make([]byte, w*h*3)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := x*down/up, y*down/up
			copy(img.Pix[(y*w+x)*3:(y*w+x)*3+3], src.Pix[(sy*src.Width+sx)*3:])
		}
	}
	return img
}

// loadCase decodes a golden case's image, or builds a synthetic one as golden_mtcnn.py does.
func loadCase(t testing.TB, cases []goldenCase, c goldenCase) *encoding.Image {
	t.Helper()
	switch {
	case c.Root != "synthetic":
		img, err := encoding.LoadImg(casePath(c), encoding.LoadOptions{})
		require.NoError(t, err)
		return img
	case c.File == "blank":
		return greyImage(c.Width, c.Height)
	case c.File == "mosaic":
		var crops []*encoding.Image
		for _, o := range cases {
			if o.Root == "images" {
				crops = append(crops, loadCase(t, cases, o))
			}
		}
		require.NotEmpty(t, crops)
		cw, ch := crops[0].Width, crops[0].Height
		rows := (len(crops) + mosaicCols - 1) / mosaicCols
		img := greyImage(mosaicCols*cw, rows*ch)
		for i, c := range crops {
			require.Equal(t, [2]int{cw, ch}, [2]int{c.Width, c.Height})
			r, q := i/mosaicCols, i%mosaicCols
			for y := 0; y < ch; y++ {
				copy(img.Pix[((r*ch+y)*img.Width+q*cw)*3:], c.Pix[y*cw*3:(y+1)*cw*3])
			}
		}
		return img
	case c.File == "mosaic_x3" || c.File == "mosaic_half":
		var m goldenCase
		for _, o := range cases {
			if o.Root == "synthetic" && o.File == "mosaic" {
				m = o
			}
		}
		src := loadCase(t, cases, m)
		if c.File == "mosaic_x3" {
			return scaleImage(src, 3, 1)
		}
		return scaleImage(src, 1, 2)
	}
	t.Fatalf("unknown synthetic case %q", c.File)
	return nil
}

// TestDetectGolden compares every golden case with the answer mtcnn gives when numpy runs the sort
// this CPU runs (Go follows numpy's choice), then the cases whose answer depends on the sort again
// with each other sort this CPU can run, as numpy would on a CPU that dispatched to it.
func TestDetectGolden(t *testing.T) {
	d := detector(t)
	cases := readGolden(t)
	native := npsort.Native
	t.Cleanup(func() { npsort.Native = native })
	isas := []npsort.ISA{native}
	for _, isa := range []npsort.ISA{npsort.AVX512, npsort.AVX2, npsort.Scalar} {
		if isa != native && npsort.Supported(isa) {
			isas = append(isas, isa)
		}
	}
	tied := 0
	for _, isa := range isas {
		npsort.Native = isa
		for _, c := range cases {
			if isa != native && len(c.BySort) == 0 {
				continue
			}
			if isa == native && len(c.BySort) > 0 {
				tied++
			}
			t.Run(isa.String()+"/"+c.File, func(t *testing.T) {
				want := c.forSort(isa)
				img := loadCase(t, cases, c)
				require.Equal(t, [2]int{c.Width, c.Height}, [2]int{img.Width, img.Height})
				faces, err := d.Detect(context.Background(), img)
				require.NoError(t, err)
				require.NoError(t, compare(want, faces))
			})
		}
		if isa == native {
			// Not vacuous: the corpus holds a case whose faces depend on numpy's sort.
			require.Positive(t, tied)
		}
	}
}

// TestCompareCanFail checks that the comparison sees differences just past its bounds.
func TestCompareCanFail(t *testing.T) {
	c := readGolden(t)[0]
	require.NotEmpty(t, c.Faces)
	good := make([]Face, len(c.Faces))
	for i, g := range c.Faces {
		r := c.Rows[i]
		good[i] = Face{Box: g.Box, Confidence: g.Confidence, Rect: [4]float64{r[0], r[1], r[2], r[3]}}
		copy(good[i].Points[:], r[4:])
		kp := func(n string) (p struct{ X, Y int }) { return struct{ X, Y int }{g.Keypoints[n][0], g.Keypoints[n][1]} }
		le, re, no, ml, mr := kp("left_eye"), kp("right_eye"), kp("nose"), kp("mouth_left"), kp("mouth_right")
		good[i].Keypoints.LeftEye.X, good[i].Keypoints.LeftEye.Y = le.X, le.Y
		good[i].Keypoints.RightEye.X, good[i].Keypoints.RightEye.Y = re.X, re.Y
		good[i].Keypoints.Nose.X, good[i].Keypoints.Nose.Y = no.X, no.Y
		good[i].Keypoints.MouthLeft.X, good[i].Keypoints.MouthLeft.Y = ml.X, ml.Y
		good[i].Keypoints.MouthRight.X, good[i].Keypoints.MouthRight.Y = mr.X, mr.Y
	}
	require.NoError(t, compare(c, good))
	for _, tc := range []struct {
		name   string
		mutate func(f []Face) []Face
	}{
		{"one face fewer", func(f []Face) []Face { return f[:len(f)-1] }},
		{"confidence", func(f []Face) []Face { f[0].Confidence += 2 * confTol; return f }},
		{"rect", func(f []Face) []Face { f[0].Rect[2] += 2 * coordTol; return f }},
		{"landmark", func(f []Face) []Face { f[0].Points[7] -= 2 * coordTol; return f }},
		{"box", func(f []Face) []Face { f[0].Box[1]++; return f }},
		{"keypoint", func(f []Face) []Face { f[0].Keypoints.Nose.X--; return f }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := append([]Face(nil), good...)
			require.Error(t, compare(c, tc.mutate(f)))
		})
	}
}

func TestDetectBadInput(t *testing.T) {
	d := detector(t)
	for _, tc := range []struct {
		name string
		img  *encoding.Image
	}{
		{"nil", nil},
		{"empty", &encoding.Image{}},
		{"short pixels", &encoding.Image{Width: 4, Height: 4, Pix: make([]byte, 47)}},
		{"negative size", &encoding.Image{Width: -4, Height: -4, Pix: make([]byte, 48)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.Detect(context.Background(), tc.img)
			require.ErrorIs(t, err, ErrBadImage)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  string
		opts Options
	}{
		{"missing dir", t.TempDir(), Options{}},
		{"scale factor 1", modelDir, Options{ScaleFactor: 1}},
		{"tiny faces", modelDir, Options{MinFaceSize: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.dir, tc.opts)
			require.Error(t, err)
		})
	}
}

// TestDetectTinyImages: frames too small for the pyramid, or with a side under P-Net's 12 pixels,
// give no face and no error, as mtcnn's detect_faces gives [] for them.
func TestDetectTinyImages(t *testing.T) {
	d := detector(t)
	for _, sz := range [][2]int{{1, 1}, {12, 12}, {13, 13}, {20, 20}, {24, 24}, {400, 30}, {30, 400}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			faces, err := d.Detect(context.Background(), greyImage(sz[0], sz[1]))
			require.NoError(t, err)
			require.Empty(t, faces)
		})
	}
}

// TestDetectConcurrent runs Detect from several goroutines at once: each answer equals the sequential one.
func TestDetectConcurrent(t *testing.T) {
	d := detector(t)
	cases := readGolden(t)
	var imgs []*encoding.Image
	var want [][]Face
	for _, c := range cases {
		if c.Root == "photos" {
			img := loadCase(t, cases, c)
			f, err := d.Detect(context.Background(), img)
			require.NoError(t, err)
			imgs, want = append(imgs, img), append(want, f)
		}
	}
	require.NotEmpty(t, imgs)
	got := make([][]Face, len(imgs))
	errs := make([]error, len(imgs))
	var wg sync.WaitGroup
	for i := range imgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = d.Detect(context.Background(), imgs[i])
		}()
	}
	wg.Wait()
	for i := range imgs {
		require.NoError(t, errs[i])
		require.Equal(t, len(want[i]), len(got[i]))
		for k := range want[i] {
			require.Equal(t, want[i][k].Box, got[i][k].Box)
			require.InDelta(t, want[i][k].Confidence, got[i][k].Confidence, confTol)
		}
	}
}
