// Package testutil holds what the tests of several packages need: small
// synthetic image sets that a network learns in milliseconds, in memory or
// as an IDX directory for --data.
package testutil

import (
	"math/rand/v2"
	"testing"

	"goalsearch/trainer/dataset"
)

// Images returns a small labelled image set that a network can learn in a
// few epochs: 10 classes of 8×8 images, each class a fixed random pattern
// of bright pixels, every image its class's pattern with 10 % of the pixels
// flipped and grey-level noise. nTrain images go to the training set (a
// Trainer splits off its validation images), nTest to the test set. The
// same sizes give the same images.
func Images(t testing.TB, nTrain, nTest int) *dataset.Dataset {
	t.Helper()
	const rows, cols, classes = 8, 8, 10
	rng := rand.New(rand.NewPCG(1, 2))
	var proto [classes][rows * cols]bool
	for c := range proto {
		for j := range proto[c] {
			proto[c][j] = rng.IntN(4) == 0
		}
	}
	set := func(n int) dataset.Set {
		s := dataset.Set{Images: dataset.Images{N: n, Rows: rows, Cols: cols, Pix: make([]uint8, n*rows*cols)}, Labels: make([]uint8, n)}
		for i := 0; i < n; i++ {
			c := rng.IntN(classes)
			s.Labels[i] = uint8(c)
			for j, on := range proto[c] {
				if rng.IntN(10) == 0 {
					on = !on
				}
				v := rng.IntN(40)
				if on {
					v = 255 - rng.IntN(80)
				}
				s.Pix[i*rows*cols+j] = uint8(v)
			}
		}
		return s
	}
	d, err := dataset.New(set(nTrain), set(nTest), &dataset.Options{NumClasses: classes})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ImageDir writes Images(t, nTrain, nTest) in MNIST's IDX layout to a new
// temporary directory and returns it.
func ImageDir(t testing.TB, nTrain, nTest int) string {
	t.Helper()
	dir := t.TempDir()
	if err := Images(t, nTrain, nTest).WriteDir(dir, false); err != nil {
		t.Fatal(err)
	}
	return dir
}
