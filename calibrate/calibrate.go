// Package calibrate chooses a distance threshold from labelled embeddings: every genuine and
// impostor distance (the float32 distances the decisions compare), the ROC and its AUC, the EER,
// the best-accuracy threshold by David Sandberg's facenet k-fold validation, and TAR at
// FAR=1e-3, as a text table (WriteTable) and a PNG plot (WritePNG).
package calibrate

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"text/tabwriter"

	"github.com/facenet-go/facenet/vec"
	"github.com/facenet-go/facenet/verify"
)

// ErrNotEnoughPairs reports labelled data with too few genuine or impostor pairs to calibrate.
var ErrNotEnoughPairs = errors.New("not enough pairs to calibrate")

// Options tune Labelled. The zero value gives the defaults.
type Options struct {
	// Folds for cross-validation, as facenet's calculate_roc (default 10). Each class needs
	// at least this many pairs.
	Folds int
	// ThresholdStep is the spacing of the threshold grid, which starts at 0 (default 0.001).
	ThresholdStep float64
	// ThresholdMax ends the grid (default: 4, twice the largest L2 distance between unit
	// vectors, or one step past the largest distance seen when that is larger).
	ThresholdMax float64
	// FARTarget is the false accept rate for the TAR figure (default 1e-3).
	FARTarget float64
}

func (o Options) withDefaults(maxDist float64) (Options, error) {
	if o.Folds == 0 {
		o.Folds = 10
	}
	if o.ThresholdStep == 0 {
		o.ThresholdStep = 0.001
	}
	if o.FARTarget == 0 {
		o.FARTarget = 1e-3
	}
	if o.ThresholdMax == 0 {
		o.ThresholdMax = max(4, maxDist+o.ThresholdStep)
	}
	switch {
	case o.Folds < 2:
		return o, fmt.Errorf("calibrate: %d folds, want at least 2", o.Folds)
	case !(o.ThresholdStep > 0) || math.IsInf(o.ThresholdStep, 0):
		return o, fmt.Errorf("calibrate: threshold step %v, want > 0", o.ThresholdStep)
	case !(o.ThresholdMax > 0) || math.IsInf(o.ThresholdMax, 0) || o.ThresholdMax/o.ThresholdStep > 1e7:
		return o, fmt.Errorf("calibrate: threshold grid up to %v in steps of %v is not a usable grid", o.ThresholdMax, o.ThresholdStep)
	case !(o.FARTarget > 0 && o.FARTarget < 1):
		return o, fmt.Errorf("calibrate: FAR target %v, want in (0, 1)", o.FARTarget)
	}
	return o, nil
}

// Result is the outcome of Labelled: how well a distance threshold separates genuine
// pairs (two samples of one identity) from impostor pairs (samples of two identities), and
// which threshold to use. A pair is accepted when its distance is strictly below the
// threshold, as Verify decides.
type Result struct {
	// Genuine and Impostor are all pair distances (the float32 distances the decisions
	// compare), sorted ascending.
	Genuine  []float64 `json:"genuine"`
	Impostor []float64 `json:"impostor"`

	// Thresholds is the grid 0, step, 2·step, ...; TPR and FPR are the true and false accept
	// rates at each, averaged over the test folds as facenet's calculate_roc does.
	Thresholds []float64 `json:"thresholds"`
	TPR        []float64 `json:"tpr"`
	FPR        []float64 `json:"fpr"`
	// AUC is the area under that ROC curve (trapezoids).
	AUC float64 `json:"auc"`
	// EER is the equal error rate: the FPR where the ROC curve crosses TPR = 1 - FPR,
	// interpolated linearly between grid points; EERThreshold is the threshold there.
	EER          float64 `json:"eer"`
	EERThreshold float64 `json:"eer_threshold"`

	// Threshold is the grid threshold with the best accuracy on all pairs (the smallest one
	// on a tie), and Accuracy that accuracy: the threshold to use.
	Threshold float64 `json:"threshold"`
	Accuracy  float64 `json:"accuracy"`
	// FoldThresholds and FoldAccuracies are facenet's k-fold validation: each fold's best
	// threshold on the other folds and its accuracy on the fold itself. CVAccuracy and
	// CVAccuracyStd are their mean and population standard deviation, the honest estimate
	// of Accuracy on new data.
	FoldThresholds []float64 `json:"fold_thresholds"`
	FoldAccuracies []float64 `json:"fold_accuracies"`
	CVAccuracy     float64   `json:"cv_accuracy"`
	CVAccuracyStd  float64   `json:"cv_accuracy_std"`

	// TAR is the true accept rate at FARTarget, over all pairs: TARThreshold is the largest
	// threshold that accepts at most floor(FARTarget·n) of the n impostor pairs (the
	// (floor(FARTarget·n)+1)-th smallest impostor distance) and FAR the rate it gives.
	// With fewer than 1/FARTarget impostor pairs that allows none: FARResolved is false and
	// TAR is the rate at zero observed false accepts, a stricter point than asked for.
	FARTarget    float64 `json:"far_target"`
	TAR          float64 `json:"tar"`
	TARThreshold float64 `json:"tar_threshold"`
	FAR          float64 `json:"far"`
	FARResolved  bool    `json:"far_resolved"`
}

// Labelled computes all genuine and impostor distances of labelled embeddings (identity ->
// its samples) and calibrates a threshold on them: ROC, EER, the best-accuracy threshold with
// facenet's k-fold cross-validation (validate_on_lfw / calculate_roc), and TAR at a FAR.
// Every pair is used, so the cost grows with the square of the number of embeddings.
//
// Folds are stratified and deterministic: identities are taken in name order, and the i-th
// genuine (resp. impostor) pair goes to fold i mod k, as LFW's pairs.txt mixes both classes
// in each of its ten folds.
func Labelled(labelled map[string][][]float32, opts Options) (*Result, error) {
	names := make([]string, 0, len(labelled))
	for n := range labelled {
		names = append(names, n)
	}
	sort.Strings(names)
	dim := -1
	for _, n := range names {
		for i, e := range labelled[n] {
			if dim < 0 {
				dim = len(e)
			}
			if len(e) != dim {
				return nil, fmt.Errorf("calibrate: %q sample %d: %w: %d vs %d", n, i, vec.ErrDimMismatch, len(e), dim)
			}
			if err := vec.Check(e); err != nil {
				return nil, fmt.Errorf("calibrate: %q sample %d: %w", n, i, err)
			}
		}
	}
	var genuine, impostor []float64
	for i, a := range names {
		sa := labelled[a]
		for x := range sa {
			for y := x + 1; y < len(sa); y++ {
				genuine = append(genuine, float64(vec.Distance32(sa[x], sa[y])))
			}
		}
		for _, b := range names[i+1:] {
			for _, ea := range sa {
				for _, eb := range labelled[b] {
					impostor = append(impostor, float64(vec.Distance32(ea, eb)))
				}
			}
		}
	}
	return Distances(genuine, impostor, opts)
}

// Distances is Labelled on pair distances already computed, in the order that
// assigns them to folds (pair i of a class goes to fold i mod k).
func Distances(genuine, impostor []float64, opts Options) (*Result, error) {
	maxDist := 0.0
	for _, ds := range [][]float64{genuine, impostor} {
		for i, d := range ds {
			if !(d >= 0) || math.IsInf(d, 1) {
				return nil, fmt.Errorf("calibrate: distance %d is %v", i, d)
			}
			maxDist = max(maxDist, d)
		}
	}
	o, err := opts.withDefaults(maxDist)
	if err != nil {
		return nil, err
	}
	if len(genuine) < o.Folds || len(impostor) < o.Folds {
		return nil, fmt.Errorf("calibrate: %w: %d genuine and %d impostor pairs, %d folds need at least %d of each (use fewer folds or more samples per identity)",
			ErrNotEnoughPairs, len(genuine), len(impostor), o.Folds, o.Folds)
	}

	c := &Result{FARTarget: o.FARTarget}
	nt := int(math.Floor(o.ThresholdMax/o.ThresholdStep)) + 1
	c.Thresholds = make([]float64, nt)
	for i := range c.Thresholds {
		c.Thresholds[i] = float64(i) * o.ThresholdStep // as numpy's arange(0, max, step)
	}

	// below[f][t] counts a fold's distances strictly below threshold t; index o.Folds holds
	// the totals. Sorting each fold once makes every count a sweep.
	gBelow := countsBelow(genuine, o.Folds, c.Thresholds)
	iBelow := countsBelow(impostor, o.Folds, c.Thresholds)
	gSize := foldSizes(len(genuine), o.Folds)
	iSize := foldSizes(len(impostor), o.Folds)
	all := o.Folds

	accuracy := func(gb, ib, gn, in int) float64 {
		return float64(gb+(in-ib)) / float64(gn+in)
	}
	// Best threshold on all pairs: the first maximum, as np.argmax.
	best := 0
	for t := range nt {
		if accuracy(gBelow[all][t], iBelow[all][t], len(genuine), len(impostor)) >
			accuracy(gBelow[all][best], iBelow[all][best], len(genuine), len(impostor)) {
			best = t
		}
	}
	c.Threshold = c.Thresholds[best]
	c.Accuracy = accuracy(gBelow[all][best], iBelow[all][best], len(genuine), len(impostor))

	// facenet's calculate_roc: best threshold on the training folds, accuracy on the test
	// fold, and the ROC averaged over test folds.
	c.TPR = make([]float64, nt)
	c.FPR = make([]float64, nt)
	for f := range o.Folds {
		trainG, trainI := len(genuine)-gSize[f], len(impostor)-iSize[f]
		fb := 0
		bestAcc := -1.0
		for t := range nt {
			a := accuracy(gBelow[all][t]-gBelow[f][t], iBelow[all][t]-iBelow[f][t], trainG, trainI)
			if a > bestAcc {
				fb, bestAcc = t, a
			}
			c.TPR[t] += rate(gBelow[f][t], gSize[f])
			c.FPR[t] += rate(iBelow[f][t], iSize[f])
		}
		c.FoldThresholds = append(c.FoldThresholds, c.Thresholds[fb])
		c.FoldAccuracies = append(c.FoldAccuracies, accuracy(gBelow[f][fb], iBelow[f][fb], gSize[f], iSize[f]))
	}
	for t := range nt { // sum, then divide, as np.mean: ten folds at 1.0 give exactly 1
		c.TPR[t] /= float64(o.Folds)
		c.FPR[t] /= float64(o.Folds)
	}
	c.CVAccuracy, c.CVAccuracyStd = meanStd(c.FoldAccuracies)
	c.AUC = trapezoid(c.FPR, c.TPR)
	c.EER, c.EERThreshold = equalErrorRate(c.Thresholds, c.FPR, c.TPR)

	c.Genuine = slices.Sorted(slices.Values(genuine))
	c.Impostor = slices.Sorted(slices.Values(impostor))
	allowed := int(math.Floor(o.FARTarget*float64(len(impostor)) + 1e-9))
	c.FARResolved = allowed >= 1
	c.TARThreshold = c.Impostor[allowed] // allowed < n since FARTarget < 1
	c.TAR = rate(countBelow(c.Genuine, c.TARThreshold), len(genuine))
	c.FAR = rate(countBelow(c.Impostor, c.TARThreshold), len(impostor))
	return c, nil
}

// rate is facenet's tp/(tp+fn) with 0 for an empty class.
func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// countBelow counts sorted values strictly below t.
func countBelow(sorted []float64, t float64) int {
	return sort.SearchFloat64s(sorted, t)
}

func foldSizes(n, k int) []int {
	s := make([]int, k)
	for i := range n {
		s[i%k]++
	}
	return s
}

// countsBelow returns, for each fold and then for all, how many distances are strictly below
// each threshold.
func countsBelow(dists []float64, k int, thresholds []float64) [][]int {
	out := make([][]int, k+1)
	folds := make([][]float64, k)
	for i, d := range dists {
		folds[i%k] = append(folds[i%k], d)
	}
	out[k] = make([]int, len(thresholds))
	for f, ds := range folds {
		slices.Sort(ds)
		out[f] = make([]int, len(thresholds))
		j := 0
		for t, th := range thresholds {
			for j < len(ds) && ds[j] < th {
				j++
			}
			out[f][t] = j
			out[k][t] += j
		}
	}
	return out
}

func meanStd(xs []float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)))
}

// trapezoid integrates y over x, as sklearn.metrics.auc on a monotonic curve.
func trapezoid(x, y []float64) float64 {
	a := 0.0
	for i := 1; i < len(x); i++ {
		a += (x[i] - x[i-1]) * (y[i] + y[i-1]) / 2
	}
	return a
}

// equalErrorRate finds where the ROC curve, taken through the grid points in threshold order,
// crosses TPR + FPR = 1 (false rejects = false accepts), interpolating linearly.
func equalErrorRate(th, fpr, tpr []float64) (eer, threshold float64) {
	prev := fpr[0] + tpr[0] - 1
	if prev >= 0 {
		return fpr[0], th[0]
	}
	for i := 1; i < len(th); i++ {
		g := fpr[i] + tpr[i] - 1
		if g >= 0 {
			t := -prev / (g - prev)
			return fpr[i-1] + t*(fpr[i]-fpr[i-1]), th[i-1] + t*(th[i]-th[i-1])
		}
		prev = g
	}
	// The grid ends before everything is accepted; the last point is the best estimate.
	n := len(th) - 1
	return fpr[n], th[n]
}

// WriteTable writes a plain-text summary: pair counts, the chosen threshold and its
// accuracy, the cross-validated accuracy, EER, AUC, TAR at the FAR target, and the rates at a
// few thresholds around the chosen one and the notebook's 0.7.
func (c *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "pairs\t%d genuine, %d impostor\n", len(c.Genuine), len(c.Impostor))
	fmt.Fprintf(tw, "best-accuracy threshold\t%.3f (accuracy %.4f on all pairs)\n", c.Threshold, c.Accuracy)
	fmt.Fprintf(tw, "%d-fold cross-validation\taccuracy %.4f ± %.4f, fold thresholds %s\n",
		len(c.FoldThresholds), c.CVAccuracy, c.CVAccuracyStd, formatList(c.FoldThresholds))
	fmt.Fprintf(tw, "equal error rate\t%.4f at threshold %.3f\n", c.EER, c.EERThreshold)
	fmt.Fprintf(tw, "area under ROC\t%.4f\n", c.AUC)
	if c.FARResolved {
		fmt.Fprintf(tw, "TAR at FAR=%g\t%.4f at threshold %.4f (measured FAR %.5f)\n", c.FARTarget, c.TAR, c.TARThreshold, c.FAR)
	} else {
		fmt.Fprintf(tw, "TAR at FAR=%g\t%.4f at threshold %.4f, at zero false accepts: %d impostor pairs cannot measure a FAR of %g\n",
			c.FARTarget, c.TAR, c.TARThreshold, len(c.Impostor), c.FARTarget)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "threshold\tTAR\tFAR\taccuracy\t")
	rows := []float64{c.Threshold, verify.NotebookThreshold, c.EERThreshold, c.TARThreshold}
	for i := -4; i <= 4; i++ {
		if t := math.Round(c.Threshold*1000)/1000 + 0.05*float64(i); t > 0 && !slices.ContainsFunc(rows, sameThreshold(t)) {
			rows = append(rows, t)
		}
	}
	slices.Sort(rows)
	for _, t := range rows {
		tp, fp := countBelow(c.Genuine, t), countBelow(c.Impostor, t)
		acc := float64(tp+len(c.Impostor)-fp) / float64(len(c.Genuine)+len(c.Impostor))
		fmt.Fprintf(tw, "%.4f\t%.4f\t%.5f\t%.4f\t%s\n", t, rate(tp, len(c.Genuine)), rate(fp, len(c.Impostor)), acc, c.label(t))
	}
	return tw.Flush()
}

// sameThreshold matches thresholds equal up to grid rounding (0.825 and 825·0.001).
func sameThreshold(t float64) func(float64) bool {
	return func(x float64) bool { return math.Abs(x-t) < 1e-9 }
}

func (c *Result) label(t float64) string {
	var ls []string
	if sameThreshold(t)(c.Threshold) {
		ls = append(ls, "best accuracy")
	}
	if sameThreshold(t)(verify.NotebookThreshold) {
		ls = append(ls, "notebook")
	}
	if sameThreshold(t)(c.EERThreshold) {
		ls = append(ls, "EER")
	}
	if sameThreshold(t)(c.TARThreshold) {
		ls = append(ls, fmt.Sprintf("FAR target %g", c.FARTarget))
	}
	if len(ls) == 0 {
		return ""
	}
	s := "<- " + ls[0]
	for _, l := range ls[1:] {
		s += ", " + l
	}
	return s
}

func formatList(xs []float64) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.3f", x)
	}
	return s
}
