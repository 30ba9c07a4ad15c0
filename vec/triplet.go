package vec

import (
	"fmt"
	"math"
)

// TripletLoss is the notebook's triplet_loss: the sum over the batch of
// max(||a-p||² - ||a-n||² + alpha, 0), accumulated in float64. Row i of anchor, positive and
// negative form one triplet; all rows must have the same length.
func TripletLoss(anchor, positive, negative [][]float32, alpha float64) (float64, error) {
	if len(anchor) != len(positive) || len(anchor) != len(negative) {
		return 0, fmt.Errorf("triplet loss: %w: batches of %d anchors, %d positives, %d negatives",
			ErrDimMismatch, len(anchor), len(positive), len(negative))
	}
	if math.IsNaN(alpha) || math.IsInf(alpha, 0) {
		return 0, fmt.Errorf("triplet loss: alpha is %v", alpha)
	}
	var loss float64
	for i := range anchor {
		if len(anchor[i]) != len(anchor[0]) {
			return 0, fmt.Errorf("triplet loss: anchor %d: %w: %d vs %d", i, ErrDimMismatch, len(anchor[i]), len(anchor[0]))
		}
		pos, err := SquaredL2Distance(anchor[i], positive[i])
		if err != nil {
			return 0, fmt.Errorf("triplet loss: positive %d: %w", i, err)
		}
		neg, err := SquaredL2Distance(anchor[i], negative[i])
		if err != nil {
			return 0, fmt.Errorf("triplet loss: negative %d: %w", i, err)
		}
		loss += math.Max(pos-neg+alpha, 0)
	}
	return loss, nil
}
