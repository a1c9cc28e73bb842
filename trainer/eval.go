package trainer

import "fmt"

// Accuracy is a classification accuracy in the two forms the reference's
// protocol needs.
type Accuracy struct {
	// BatchMean is the mean of the per-minibatch accuracies: the number
	// the reference reports (its last, smaller batch weighs as much as
	// the others). Report it for parity.
	BatchMean float64 `json:"batch_mean"`
	// Fraction is Correct / Total, the plain accuracy.
	Fraction float64 `json:"fraction"`
	// Correct and Total count images.
	Correct int `json:"correct"`
	Total   int `json:"total"`
}

// accCounter accumulates an Accuracy batch by batch.
type accCounter struct {
	sumBatchAcc     float64
	batches         int
	correct, images int
}

func (a *accCounter) add(correct, batch int) {
	a.sumBatchAcc += float64(correct) / float64(batch)
	a.batches++
	a.correct += correct
	a.images += batch
}

func (a *accCounter) result() Accuracy {
	if a.batches == 0 {
		return Accuracy{}
	}
	return Accuracy{
		BatchMean: a.sumBatchAcc / float64(a.batches),
		Fraction:  float64(a.correct) / float64(a.images),
		Correct:   a.correct,
		Total:     a.images,
	}
}

// CountCorrect returns how many of a minibatch's predictions are right, with
// the reference's correction for inverted output neurons: information
// measures cannot tell a neuron from its inverse, so every output neuron
// (column of pred) whose mean probability over the batch is >= 0.5 is
// inverted (p -> 1 - p) before the argmax over the classes of each sample.
// The argmax takes the first of equal maxima, as torch.argmax does.
//
// pred is batch × classes, row-major; labels has batch entries in
// [0, classes); means (classes entries, caller-owned scratch) receives the
// batch means, from which the caller can tell which neurons were inverted.
// Shape mismatches panic; a NaN in pred is a returned ErrNonFinite.
//
// (The reference inverts twice, in correct_inverse_neurons and again in
// acc_continuous for a mean > 0.5; after the first inversion every mean is
// <= 0.5, so the second changes nothing but for rounding at exactly 0.5.)
func CountCorrect(pred []float64, labels []int, classes int, means []float64) (int, error) {
	batch := len(labels)
	if classes < 1 || len(pred) != batch*classes || len(means) < classes {
		panic(fmt.Sprintf("trainer: CountCorrect of %d predictions for %d labels and %d classes", len(pred), batch, classes))
	}
	means = means[:classes]
	for c := range means {
		means[c] = 0
	}
	for m := 0; m < batch; m++ {
		for c, p := range pred[m*classes : (m+1)*classes] {
			if p != p {
				return 0, fmt.Errorf("%w (output probability of sample %d, class %d)", ErrNonFinite, m, c)
			}
			means[c] += p
		}
	}
	for c := range means {
		means[c] /= float64(batch)
	}
	correct := 0
	for m, y := range labels {
		if y < 0 || y >= classes {
			panic(fmt.Sprintf("trainer: label %d of %d classes", y, classes))
		}
		best, arg := 0.0, -1
		for c, p := range pred[m*classes : (m+1)*classes] {
			if means[c] >= 0.5 {
				p = 1 - p
			}
			if arg < 0 || p > best {
				best, arg = p, c
			}
		}
		if arg == y {
			correct++
		}
	}
	return correct, nil
}
