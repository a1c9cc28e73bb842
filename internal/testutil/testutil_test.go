package testutil

import (
	"bytes"
	"testing"

	"goalsearch/trainer/dataset"
)

// The same sizes give the same images, every class appears, and the IDX
// directory reads back as the same set.
func TestImages(t *testing.T) {
	a, b := Images(t, 200, 50), Images(t, 200, 50)
	if !bytes.Equal(a.Train.Pix, b.Train.Pix) || !bytes.Equal(a.Test.Labels, b.Test.Labels) {
		t.Fatal("two calls gave different images")
	}
	seen := map[uint8]bool{}
	for _, l := range a.Train.Labels {
		seen[l] = true
	}
	if a.Train.N != 200 || a.Test.N != 50 || a.Train.Rows != 8 || len(seen) != 10 {
		t.Fatalf("%d+%d images of %d rows, %d classes", a.Train.N, a.Test.N, a.Train.Rows, len(seen))
	}
	d, err := dataset.Load(ImageDir(t, 200, 50), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Train.Pix, a.Train.Pix) || !bytes.Equal(d.Test.Labels, a.Test.Labels) {
		t.Error("the IDX directory holds other images")
	}
}
