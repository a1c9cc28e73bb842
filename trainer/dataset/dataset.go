package dataset

import (
	"fmt"
	"math"
)

// Set is a list of labelled images.
type Set struct {
	Images
	// Labels holds one label per image, each below the data set's NumClasses.
	Labels []uint8

	nz *NonZero // set by New
}

// Len returns the number of images.
func (s *Set) Len() int { return len(s.Labels) }

// Options are the settings of New and the Load functions. A nil *Options
// means the zero value.
type Options struct {
	// NumClasses is the number of classes; every label must be below it.
	// If NumClasses is 0, it is one more than the largest label of the
	// training and test sets.
	NumClasses int
}

// Dataset is a training set and a test set of labelled images of one size,
// with the standardisation constants of the training pixels.
//
// A Dataset is not modified by its methods, so any number of goroutines may
// use it concurrently; callers must not modify its fields or the slices they
// hold.
type Dataset struct {
	// Rows and Cols are the size of every image.
	Rows, Cols int
	// NumClasses is the number of classes: labels are 0..NumClasses-1.
	NumClasses int
	// Train is the whole training set (the validation images are part of it,
	// see Split); Test is the separate test set.
	Train, Test Set
	// Source says where the data was read from (a directory or a module zip);
	// it is meant for logs and reports.
	Source string

	mean, std float64
	// The standardised value of each of the 256 possible pixel values: a
	// lookup is both faster than a subtraction and a division per pixel and
	// guarantees that float32 and float64 rows agree to rounding.
	lut64 [256]float64
	lut32 [256]float32
}

// New validates train and test and computes the standardisation constants
// from the training pixels. The Dataset keeps train's and test's slices; the
// caller must not modify them afterwards.
//
// It returns a *FormatError if the sets are inconsistent (pixel or label
// counts, image sizes, labels not below the number of classes), if the
// training set is empty, or if all training pixels are equal (the standard
// deviation is then 0 and standardising would divide by it).
func New(train, test Set, opts *Options) (*Dataset, error) {
	if opts == nil {
		opts = &Options{}
	}
	if opts.NumClasses < 0 || opts.NumClasses > 256 {
		return nil, fmt.Errorf("dataset: %d classes, expected 1..256 (labels are bytes) or 0 to infer them", opts.NumClasses)
	}
	for _, s := range []struct {
		name string
		set  *Set
	}{{"training set", &train}, {"test set", &test}} {
		if err := checkSet(s.name, s.set); err != nil {
			return nil, err
		}
	}
	if train.N == 0 {
		return nil, &FormatError{File: "training set", Msg: "no images, expected at least 1"}
	}
	if test.Rows != train.Rows || test.Cols != train.Cols {
		return nil, &FormatError{File: "test set", Msg: fmt.Sprintf("images are %d×%d pixels, expected %d×%d like the training set", test.Rows, test.Cols, train.Rows, train.Cols)}
	}
	classes := opts.NumClasses
	if classes == 0 {
		for _, l := range train.Labels {
			classes = max(classes, int(l)+1)
		}
		for _, l := range test.Labels {
			classes = max(classes, int(l)+1)
		}
	}
	if err := checkLabels("training set", train.Labels, classes); err != nil {
		return nil, err
	}
	if err := checkLabels("test set", test.Labels, classes); err != nil {
		return nil, err
	}
	mean, std := pixelStats(train.Pix)
	if std == 0 {
		return nil, &FormatError{File: "training set", Msg: fmt.Sprintf("every pixel is %v, so the standard deviation is 0 and cannot standardise", mean)}
	}
	train.nz, test.nz = nonZero(&train.Images), nonZero(&test.Images)
	d := &Dataset{Rows: train.Rows, Cols: train.Cols, NumClasses: classes, Train: train, Test: test, mean: mean, std: std}
	for v := range d.lut64 {
		d.lut64[v] = (float64(v) - mean) / std
		d.lut32[v] = float32(d.lut64[v])
	}
	return d, nil
}

// NonZero lists the non-zero pixels of every image of a set, image by image:
// what a product that skips zero pixels needs, found once when the data set
// is made rather than in every minibatch. It is immutable.
type NonZero struct {
	off []int    // N+1 offsets into idx and val
	idx []uint16 // pixel indices, increasing within an image
	val []uint8  // their values
}

// Image returns the indices (increasing) and values of image i's non-zero
// pixels, as views the caller must not modify.
func (z *NonZero) Image(i int) (idx []uint16, val []uint8) {
	a, b := z.off[i], z.off[i+1]
	return z.idx[a:b:b], z.val[a:b:b]
}

// NonZero returns the set's non-zero pixels, or nil if the set does not come
// from New or its images have more than 65536 pixels.
func (s *Set) NonZero() *NonZero { return s.nz }

// nonZero lists the non-zero pixels of im, or returns nil if a pixel index
// would not fit 16 bits.
func nonZero(im *Images) *NonZero {
	p := im.Pixels()
	if p > 1<<16 {
		return nil
	}
	count := 0
	for _, v := range im.Pix {
		if v != 0 {
			count++
		}
	}
	z := &NonZero{off: make([]int, im.N+1), idx: make([]uint16, count), val: make([]uint8, count)}
	n := 0
	for i := 0; i < im.N; i++ {
		z.off[i] = n
		for j, v := range im.Image(i) {
			if v != 0 {
				z.idx[n], z.val[n] = uint16(j), v
				n++
			}
		}
	}
	z.off[im.N] = n
	return z
}

func checkSet(name string, s *Set) error {
	if s.N < 0 || s.Rows <= 0 || s.Cols <= 0 {
		return &FormatError{File: name, Msg: fmt.Sprintf("%d images of %d×%d pixels, expected a count >= 0 and a size of at least 1×1", s.N, s.Rows, s.Cols)}
	}
	if size, ok := mul(uint64(s.N), uint64(s.Rows), uint64(s.Cols)); !ok || size != uint64(len(s.Pix)) {
		return &FormatError{File: name, Msg: fmt.Sprintf("%d pixels, expected %d images of %d×%d", len(s.Pix), s.N, s.Rows, s.Cols)}
	}
	if len(s.Labels) != s.N {
		return &FormatError{File: name, Msg: fmt.Sprintf("%d labels, expected one per image (%d)", len(s.Labels), s.N)}
	}
	return nil
}

// pixelStats returns the mean and the sample standard deviation (divisor
// n−1, PyTorch's default Tensor.std, which the reference uses) of pix. The
// population standard deviation (divisor n, NumPy's default) differs by a
// factor sqrt(n/(n−1)): 1 + 1e-8 for MNIST's 47 million pixels.
//
// Counting the 256 byte values first makes the sums exact and the pass over
// the pixels cheap; the variance is then taken around the mean, which avoids
// the cancellation of the sum-of-squares formula.
func pixelStats(pix []uint8) (mean, std float64) {
	var hist [256]int
	for _, v := range pix {
		hist[v]++
	}
	var sum uint64
	for v, c := range hist {
		sum += uint64(v) * uint64(c)
	}
	n := float64(len(pix))
	mean = float64(sum) / n
	if len(pix) < 2 {
		return mean, 0
	}
	var ss float64
	for v, c := range hist {
		dv := float64(v) - mean
		ss += float64(c) * dv * dv
	}
	return mean, math.Sqrt(ss / (n - 1))
}

// Mean returns the mean of all training pixels, in raw pixel units (0..255).
func (d *Dataset) Mean() float64 { return d.mean }

// Std returns the sample standard deviation (divisor n−1) of all training
// pixels, in raw pixel units.
func (d *Dataset) Std() float64 { return d.std }

// Pixels returns the number of pixels of one image, Rows×Cols.
func (d *Dataset) Pixels() int { return d.Rows * d.Cols }

// Standardize64 sets dst[i] = (src[i] − Mean) / Std, computed in float64.
// src may hold any number of pixels, for example several images.
// It panics if len(dst) != len(src).
func (d *Dataset) Standardize64(dst []float64, src []uint8) {
	if len(dst) != len(src) {
		panic("dataset: Standardize64: length mismatch")
	}
	for i, v := range src {
		dst[i] = d.lut64[v]
	}
}

// Standardize32 is Standardize64 rounded once to float32.
func (d *Dataset) Standardize32(dst []float32, src []uint8) {
	if len(dst) != len(src) {
		panic("dataset: Standardize32: length mismatch")
	}
	for i, v := range src {
		dst[i] = d.lut32[v]
	}
}

// Batch64 writes the standardised images s.Image(idx[r]) as the rows of x, a
// row-major len(idx)×Pixels() matrix, and, if y is not nil, their labels into
// y. s is normally &d.Train or &d.Test.
// It panics if len(x) != len(idx)×Pixels(), y != nil and len(y) != len(idx),
// or an index is out of range.
func (d *Dataset) Batch64(x []float64, y []int, s *Set, idx []int) {
	p := d.Pixels()
	if len(x) != len(idx)*p || (y != nil && len(y) != len(idx)) || s.Pixels() != p {
		panic("dataset: Batch64: shape mismatch")
	}
	for r, i := range idx {
		d.Standardize64(x[r*p:(r+1)*p], s.Image(i))
		if y != nil {
			y[r] = int(s.Labels[i])
		}
	}
}

// Batch32 is Batch64 for float32 rows.
func (d *Dataset) Batch32(x []float32, y []int, s *Set, idx []int) {
	p := d.Pixels()
	if len(x) != len(idx)*p || (y != nil && len(y) != len(idx)) || s.Pixels() != p {
		panic("dataset: Batch32: shape mismatch")
	}
	for r, i := range idx {
		d.Standardize32(x[r*p:(r+1)*p], s.Image(i))
		if y != nil {
			y[r] = int(s.Labels[i])
		}
	}
}
