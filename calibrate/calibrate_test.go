package calibrate

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/facenet-go/facenet/vec"
	"github.com/facenet-go/facenet/verify"
	"github.com/stretchr/testify/require"
)

func TestCalibrationMatchesFacenetCalculateROC(t *testing.T) {
	var rows []struct {
		Genuine, Impostor []float64
		Folds             int
		FoldThresholds    []float64 `json:"fold_thresholds"`
		FoldAccuracies    []float64 `json:"fold_accuracies"`
		AccuracyMean      float64   `json:"accuracy_mean"`
		AccuracyStd       float64   `json:"accuracy_std"`
		TPR, FPR          []float64
		AUC               float64
	}
	testenv.GoldenRows(t, "../testdata/verify/calibration.json", &rows)
	require.Len(t, rows, 2)
	for i, r := range rows {
		// np.arange(0, 4, 0.001) stops before 4.
		c, err := Distances(r.Genuine, r.Impostor, Options{Folds: r.Folds, ThresholdMax: 3.9995})
		require.NoError(t, err)
		require.Len(t, c.Thresholds, 4000)
		require.Equal(t, r.FoldThresholds, c.FoldThresholds, "row %d", i)
		require.Equal(t, r.FoldAccuracies, c.FoldAccuracies, "row %d", i)
		require.InDelta(t, r.AccuracyMean, c.CVAccuracy, 1e-12)
		require.InDelta(t, r.AccuracyStd, c.CVAccuracyStd, 1e-12)
		require.InDeltaSlice(t, r.TPR, c.TPR, 1e-12)
		require.InDeltaSlice(t, r.FPR, c.FPR, 1e-12)
		require.InDelta(t, r.AUC, c.AUC, 1e-9)
	}
}

func TestCalibrationSeparable(t *testing.T) {
	var gen, imp []float64
	for i := range 300 {
		gen = append(gen, 0.1+0.5*float64(i)/299)  // 0.1 .. 0.6
		imp = append(imp, 0.9+0.6*float64(i)/1499) // 0.9 .. 1.5
	}
	for i := 300; i < 1500; i++ {
		imp = append(imp, 0.9+0.6*float64(i)/1499)
	}
	c, err := Distances(gen, imp, Options{})
	require.NoError(t, err)
	require.InDelta(t, 0.0, c.EER, 1e-12)
	require.Greater(t, c.EERThreshold, 0.6)
	require.LessOrEqual(t, c.EERThreshold, 0.9)
	require.Equal(t, 1.0, c.AUC)
	require.Equal(t, 1.0, c.Accuracy)
	// The first grid point that accepts every genuine pair: accept is d < threshold.
	require.InDelta(t, 0.601, c.Threshold, 1e-12)
	// Cross-validation is honest about the edge: fold 9 holds the largest genuine distance
	// (0.6, pair 299), so its training folds stop at 0.5983 and pick 0.599, which rejects
	// that one pair of the fold's 180. Every other fold is perfect.
	for f, ft := range c.FoldThresholds {
		if f == 9 {
			require.InDelta(t, 0.599, ft, 1e-12)
			require.Equal(t, 179.0/180, c.FoldAccuracies[f])
		} else {
			require.InDelta(t, 0.601, ft, 1e-12, "fold %d", f)
			require.Equal(t, 1.0, c.FoldAccuracies[f])
		}
	}
	require.InDelta(t, 1-1.0/1800, c.CVAccuracy, 1e-15)
	require.True(t, c.FARResolved)
	require.Equal(t, 1.0, c.TAR)
	// 1500 impostors allow one false accept: the threshold is the second-smallest impostor
	// distance and accepts the smallest one.
	require.Equal(t, 1.0/1500, c.FAR)
	require.Equal(t, imp[1], c.TARThreshold)
}

func TestCalibrationUniformOverlap(t *testing.T) {
	// Genuine distances uniform on [0, 1], impostor on [0.5, 1.5]: the rates cross at 0.75
	// with 25% errors each way, any threshold in [0.5, 1] has accuracy 3/4, and
	// AUC = P(genuine < impostor) = 1 - 0.5·0.5² = 0.875.
	var gen, imp []float64
	for i := range 1000 {
		gen = append(gen, (float64(i)+0.5)/1000)
		imp = append(imp, 0.5+(float64(i)+0.5)/1000)
	}
	c, err := Distances(gen, imp, Options{})
	require.NoError(t, err)
	require.InDelta(t, 0.25, c.EER, 1e-3)
	require.InDelta(t, 0.75, c.EERThreshold, 1e-3)
	require.InDelta(t, 0.875, c.AUC, 1e-3)
	require.InDelta(t, 0.75, c.Accuracy, 1e-3)
	require.InDelta(t, 0.75, c.CVAccuracy, 1e-2)
	require.InDelta(t, 0.5, c.Threshold, 1e-3) // the plateau's first point
	// FAR 1e-3 of 1000 impostors is one false accept: the threshold is the second-smallest
	// impostor distance, 0.5015, below which lie the 501 genuine distances 0.0005..0.5005.
	require.True(t, c.FARResolved)
	require.Equal(t, imp[1], c.TARThreshold)
	require.Equal(t, 0.501, c.TAR)
	require.Equal(t, 0.001, c.FAR)
}

func TestCalibrationFewImpostors(t *testing.T) {
	gen := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}
	imp := []float64{0.65, 0.75, 0.85, 0.95, 1.05, 1.15, 1.25, 1.35, 1.45, 1.55}
	c, err := Distances(gen, imp, Options{})
	require.NoError(t, err)
	require.False(t, c.FARResolved, "10 impostor pairs cannot measure FAR 1e-3")
	require.Equal(t, 0.65, c.TARThreshold, "zero false accepts: the smallest impostor distance")
	require.Equal(t, 0.6, c.TAR)
	require.Equal(t, 0.0, c.FAR)
	var buf bytes.Buffer
	require.NoError(t, c.WriteTable(&buf))
	require.Contains(t, buf.String(), "at zero false accepts: 10 impostor pairs cannot measure a FAR of 0.001")
}

// clusters makes n identities with m samples each: unit vectors within a small cap around
// well separated centres.
func clusters(n, m int, spread float32) map[string][][]float32 {
	out := map[string][][]float32{}
	for i := range n {
		for j := range m {
			v := make([]float32, n+m)
			v[i] = 1
			v[n+j] = spread
			u, _ := vec.Normalize(v)
			out[fmt.Sprintf("person%d", i)] = append(out[fmt.Sprintf("person%d", i)], u)
		}
	}
	return out
}

func TestCalibrateEmbeddings(t *testing.T) {
	// Samples of one person are sqrt(2)·s/sqrt(1+s²) apart; of two people sqrt(2), or
	// sqrt(2/(1+s²)) when they share their spread component.
	labelled := clusters(5, 4, 0.3)
	c, err := Labelled(labelled, Options{Folds: 5})
	require.NoError(t, err)
	require.Len(t, c.Genuine, 5*6)
	require.Len(t, c.Impostor, 10*16)
	gen := float64(float32(math.Sqrt2 * 0.3 / math.Sqrt(1.09)))
	require.InDelta(t, gen, c.Genuine[0], 1e-6)
	require.InDelta(t, gen, c.Genuine[len(c.Genuine)-1], 1e-6)
	require.InDelta(t, math.Sqrt(2/1.09), c.Impostor[0], 1e-6)
	require.InDelta(t, math.Sqrt2, c.Impostor[len(c.Impostor)-1], 1e-6)
	require.InDelta(t, 0.0, c.EER, 1e-12)
	require.Equal(t, 1.0, c.Accuracy)
	require.Greater(t, c.Threshold, c.Genuine[len(c.Genuine)-1])
	require.LessOrEqual(t, c.Threshold, c.Impostor[0])

	// The same through a database.
	db, err := verify.New(verify.Space{Fingerprint: "m", Dim: 9})
	require.NoError(t, err)
	for name, samples := range labelled {
		require.NoError(t, db.Enrol(name, samples...))
	}
	c2, err := Labelled(db.Labelled(), Options{Folds: 5})
	require.NoError(t, err)
	require.Equal(t, c, c2)
}

func TestCalibrateErrors(t *testing.T) {
	ten := make([]float64, 10)
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"one identity", func() error { _, err := Labelled(clusters(1, 5, 0.1), Options{Folds: 2}); return err }, ErrNotEnoughPairs},
		{"one sample each", func() error { _, err := Labelled(clusters(6, 1, 0.1), Options{Folds: 2}); return err }, ErrNotEnoughPairs},
		{"fewer pairs than folds", func() error { _, err := Labelled(clusters(3, 2, 0.1), Options{}); return err }, ErrNotEnoughPairs},
		{"ragged", func() error {
			_, err := Labelled(map[string][][]float32{"a": {{1, 0}, {1}}, "b": {{0, 1}}}, Options{Folds: 2})
			return err
		}, vec.ErrDimMismatch},
		{"NaN", func() error {
			_, err := Labelled(map[string][][]float32{"a": {{1, 0}, {float32(math.NaN()), 0}}}, Options{})
			return err
		}, vec.ErrNonFinite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.run(), tt.want)
		})
	}
	for _, o := range []Options{{Folds: 1}, {ThresholdStep: -1}, {ThresholdStep: 1e-12}, {FARTarget: 1}, {FARTarget: -0.1}} {
		_, err := Distances(ten, ten, o)
		require.Error(t, err, "%+v", o)
	}
	_, err := Distances([]float64{math.NaN()}, ten, Options{})
	require.Error(t, err)
}

func TestCalibrationTable(t *testing.T) {
	c, err := Labelled(clusters(5, 4, 0.3), Options{Folds: 5})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, c.WriteTable(&buf))
	out := buf.String()
	for _, want := range []string{
		"pairs                    30 genuine, 160 impostor",
		fmt.Sprintf("best-accuracy threshold  %.3f (accuracy 1.0000 on all pairs)", c.Threshold),
		"5-fold cross-validation  accuracy 1.0000 ± 0.0000",
		"equal error rate         0.0000",
		"area under ROC           1.0000",
		"<- notebook",
		"<- best accuracy",
	} {
		require.Contains(t, out, want)
	}
	// The notebook's 0.7 separates these clusters (0.41 vs 1.41): TAR 1, FAR 0.
	require.Contains(t, out, "0.7000     1.0000  0.00000  1.0000    <- notebook")
}

func TestCalibrationPNG(t *testing.T) {
	c, err := Labelled(clusters(6, 5, 0.3), Options{Folds: 5})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, c.WritePNG(&buf))
	var again bytes.Buffer
	require.NoError(t, c.WritePNG(&again))
	require.Equal(t, buf.Bytes(), again.Bytes(), "deterministic")

	img, err := png.Decode(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	require.Equal(t, plotW, img.Bounds().Dx())
	require.Equal(t, plotH, img.Bounds().Dy())
	rgb := func(x, y int) [3]uint32 {
		r, g, b, _ := img.At(x, y).RGBA()
		return [3]uint32{r >> 8, g >> 8, b >> 8}
	}
	blended := func(c color.RGBA) [3]uint32 {
		return [3]uint32{(255 + uint32(c.R)) / 2, (255 + uint32(c.G)) / 2, (255 + uint32(c.B)) / 2}
	}
	// Genuine pairs sit at 0.41 and impostors at 1.35..1.41 on a 0..2 axis: in the histogram
	// panel, genuine bars end within a bin's width (5 px) of the threshold, which sits just
	// past them, and impostor bars are far to its right.
	xOf := func(d float64) int { return histLeft + int(math.Round(d/2*(histRight-histLeft))) }
	thresholdX := xOf(c.Threshold)
	var genX, impX []int
	for y := panelTop; y < panelBottom; y++ {
		for x := histLeft; x <= histRight; x++ {
			switch rgb(x, y) {
			case blended(colGenuine):
				genX = append(genX, x)
			case blended(colImpostor):
				impX = append(impX, x)
			}
		}
	}
	require.NotEmpty(t, genX)
	require.NotEmpty(t, impX)
	require.Less(t, slices.Max(genX), thresholdX+5)
	require.Greater(t, slices.Min(impX), thresholdX)
	require.Greater(t, slices.Min(impX), xOf(1.3))
	require.Greater(t, slices.Min(genX), xOf(0.35))
	// A perfect ROC runs up the left edge and along the top, where the EER point sits at
	// (0, 1); halfway along the top there is the curve, and the diagonal is not.
	size := rocRight - rocLeft
	require.Equal(t, [3]uint32{uint32(colROC.R), uint32(colROC.G), uint32(colROC.B)}, rgb(rocLeft+size/2, panelBottom-size))
	require.Equal(t, [3]uint32{uint32(colImpostor.R), uint32(colImpostor.G), uint32(colImpostor.B)}, rgb(rocLeft+2, panelBottom-size))
	require.NotEqual(t, [3]uint32{uint32(colROC.R), uint32(colROC.G), uint32(colROC.B)}, rgb(rocLeft+size/2, panelBottom-size/2))
	require.True(t, strings.HasPrefix(buf.String(), "\x89PNG"))
}
