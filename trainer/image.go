package trainer

import (
	"fmt"
	"math"
)

// ForwardImage is Forward with the feedforward input (source class 1) given
// as raw 8-bit images, standardised on the fly as x = (raw - mean)/std:
// raw holds batch images of Inputs(0) pixels each, row-major (image m is
// raw[m*Inputs(0) : (m+1)*Inputs(0)]), and mean and std are the data set's
// standardisation constants (dataset.Dataset's Mean and Std). x has one entry
// per source class as for Forward, except that x[0] must be nil; the other
// entries follow Forward's rules (nil reuses the previous source).
//
// The product skips the zero pixels (~81 % of MNIST):
//
//	s_1 = W_1 x + b_1 = W_1 (raw/std) - (W_1·1) mean/std + b_1
//
// and Learn's weight gradient likewise,
// dW_1 = sum_m dS_1[m] ⊗ (raw[m]/std) - (sum_m dS_1[m]) ⊗ (mean/std)·1.
// The results equal Forward's on the standardised images up to rounding
// (the sums are taken in another order). ForwardImage keeps only lists of
// the non-zero pixels, in buffers of the layer: raw may be reused as soon as
// it returns. A later Forward with x[0] == nil (the second recurrent step)
// reuses source 1 and its image lists. The call allocates nothing once the
// layer has seen a batch this large. Shape mismatches, a non-positive or
// non-finite std, or a non-finite mean panic.
func (l *Layer) ForwardImage(raw []uint8, mean, std float64, x [][]float64, batch int) {
	l.rawImg = imageSource{raw: raw, mean: mean, std: std} // in the layer: no allocation
	l.forwardImage(&l.rawImg, x, batch, true)
	l.rawImg.raw = nil
}

// An imageSource is a minibatch of 8-bit images standardised as (raw -
// mean)/std: either raw, batch images row-major, or (if idx is not nil)
// each image's non-zero pixels, image m having pixels idx[m] (increasing)
// of values val[m] (dataset.NonZero: found once for the data set, not per
// minibatch).
type imageSource struct {
	raw       []uint8
	idx       [][]uint16
	val       [][]uint8
	mean, std float64
}

// forwardImage is ForwardImage from any image source, with or without the
// gradients (see forward).
func (l *Layer) forwardImage(img *imageSource, x [][]float64, batch int, grad bool) {
	if !(img.std > 0) || math.IsInf(img.std, 0) || math.IsNaN(img.mean) || math.IsInf(img.mean, 0) {
		panic(fmt.Sprintf("trainer: standardisation mean %v, std %v", img.mean, img.std))
	}
	switch {
	case img.idx != nil:
		if len(img.idx) < batch || len(img.val) < batch {
			panic(fmt.Sprintf("trainer: pixel lists of %d images, want %d", min(len(img.idx), len(img.val)), batch))
		}
	case batch >= 1 && len(img.raw) < batch*l.inputs[0]:
		panic(fmt.Sprintf("trainer: %d raw pixels, want %d×%d", len(img.raw), batch, l.inputs[0]))
	}
	l.forward(x, batch, img, grad)
}

// sparseLimit is the largest number of non-zero entries of a dense batch × in
// input that Forward multiplies as a sparse input (linear_sparse.go) rather
// than a dense one: half the entries. Both products run on the same kernel,
// so the sparse one costs about the dense one's times the density plus the
// listing; on a 100 → 100 product at batch 1024 (forward and backward) it is
// 4.5× faster at density 0.1, 1.3× at 0.5 and as fast at about 0.8. The
// choice depends only on the data, so results stay deterministic.
func sparseLimit(batch, in int) int {
	return batch * in / 2
}
