package dataset

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// synth returns a set of n random sparse images (about 80 % zeros, like
// MNIST) with labels below classes.
func synth(n, rows, cols, classes int, seed uint64) Set {
	r := rand.New(rand.NewPCG(seed, 1))
	s := Set{Images: Images{N: n, Rows: rows, Cols: cols, Pix: make([]uint8, n*rows*cols)}, Labels: make([]uint8, n)}
	for i := range s.Pix {
		if r.IntN(5) == 0 {
			s.Pix[i] = uint8(1 + r.IntN(255))
		}
	}
	for i := range s.Labels {
		s.Labels[i] = uint8(r.IntN(classes))
	}
	return s
}

// naiveStats is the textbook two-pass computation the histogram version
// must agree with.
func naiveStats(pix []uint8) (mean, sampleStd, popStd float64) {
	for _, v := range pix {
		mean += float64(v)
	}
	mean /= float64(len(pix))
	var ss float64
	for _, v := range pix {
		ss += (float64(v) - mean) * (float64(v) - mean)
	}
	n := float64(len(pix))
	return mean, math.Sqrt(ss / (n - 1)), math.Sqrt(ss / n)
}

func TestNewStats(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pix       []uint8
		mean, std float64
		tol       float64
	}{
		// Closed form: mean 1, deviations ±1, sample variance 4/3.
		{"tiny", []uint8{0, 2, 0, 2}, 1, math.Sqrt(4.0 / 3), 1e-15},
		// Closed form: values 0..255 once each: mean 127.5, sample variance
		// n(n+1)/12 with n = 256.
		{"all bytes", func() []uint8 {
			p := make([]uint8, 256)
			for i := range p {
				p[i] = uint8(i)
			}
			return p
		}(), 127.5, math.Sqrt(256 * 257 / 12.0), 1e-12},
	} {
		train := Set{Images: Images{N: len(tc.pix), Rows: 1, Cols: 1, Pix: tc.pix}, Labels: make([]uint8, len(tc.pix))}
		d, err := New(train, synth(1, 1, 1, 1, 1), nil)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(d.Mean()-tc.mean) > tc.tol || math.Abs(d.Std()-tc.std) > tc.tol {
			t.Errorf("%s: mean, std = %v, %v, want %v, %v", tc.name, d.Mean(), d.Std(), tc.mean, tc.std)
		}
	}
	train := synth(500, 7, 9, 4, 2)
	d, err := New(train, synth(20, 7, 9, 4, 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The naive sums of 31,500 terms carry rounding error of order 1e-12
	// relative; the histogram's 256 terms are more accurate.
	mean, std, _ := naiveStats(train.Pix)
	if math.Abs(d.Mean()-mean) > 1e-10 || math.Abs(d.Std()-std) > 1e-10 {
		t.Errorf("synthetic: mean, std = %v, %v, want %v, %v", d.Mean(), d.Std(), mean, std)
	}
	if d.Rows != 7 || d.Cols != 9 || d.Pixels() != 63 || d.NumClasses != 4 {
		t.Errorf("got %d×%d (%d pixels), %d classes, want 7×9, 4", d.Rows, d.Cols, d.Pixels(), d.NumClasses)
	}
}

func TestStandardizeAndBatch(t *testing.T) {
	train, test := synth(50, 3, 4, 10, 4), synth(10, 3, 4, 10, 5)
	d, err := New(train, test, nil)
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{7, 0, 49, 7}
	p := d.Pixels()
	x64 := make([]float64, len(idx)*p)
	x32 := make([]float32, len(idx)*p)
	y := make([]int, len(idx))
	d.Batch64(x64, y, &d.Train, idx)
	d.Batch32(x32, nil, &d.Train, idx)
	for r, i := range idx {
		if y[r] != int(train.Labels[i]) {
			t.Errorf("label of row %d = %d, want %d", r, y[r], train.Labels[i])
		}
		for j, v := range train.Image(i) {
			want := (float64(v) - d.Mean()) / d.Std()
			if got := x64[r*p+j]; got != want {
				t.Fatalf("x64[%d, %d] = %v, want %v", r, j, got, want)
			}
			if got := x32[r*p+j]; got != float32(want) {
				t.Fatalf("x32[%d, %d] = %v, want %v", r, j, got, float32(want))
			}
		}
	}
	// The standardised training set has mean 0 and sample std 1.
	all := make([]float64, len(train.Pix))
	d.Standardize64(all, train.Pix)
	var sum, ss float64
	for _, v := range all {
		sum += v
	}
	for _, v := range all {
		ss += (v - sum/float64(len(all))) * (v - sum/float64(len(all)))
	}
	if m, s := sum/float64(len(all)), math.Sqrt(ss/float64(len(all)-1)); math.Abs(m) > 1e-12 || math.Abs(s-1) > 1e-12 {
		t.Errorf("standardised training pixels have mean %v, std %v, want 0, 1", m, s)
	}
	y = make([]int, 2)
	d.Batch32(make([]float32, 2*p), y, &d.Test, []int{9, 0})
	if y[0] != int(test.Labels[9]) || y[1] != int(test.Labels[0]) {
		t.Errorf("test labels %v, want %d %d", y, test.Labels[9], test.Labels[0])
	}
}

func TestBatchPanicsOnShapeMismatch(t *testing.T) {
	d, err := New(synth(5, 2, 2, 3, 6), synth(5, 2, 2, 3, 7), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"x too short":   func() { d.Batch32(make([]float32, 3), nil, &d.Train, []int{0}) },
		"x too long":    func() { d.Batch64(make([]float64, 5), nil, &d.Train, []int{0}) },
		"y wrong":       func() { d.Batch64(make([]float64, 4), make([]int, 2), &d.Train, []int{0}) },
		"standardize32": func() { d.Standardize32(make([]float32, 3), make([]uint8, 4)) },
		"standardize64": func() { d.Standardize64(make([]float64, 5), make([]uint8, 4)) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "dataset: ") {
					t.Errorf("%s: recovered %v, want a dataset: panic", name, r)
				}
			}()
			f()
		}()
	}
}

func TestBatchDoesNotAllocate(t *testing.T) {
	d, err := New(synth(100, 28, 28, 10, 8), synth(1, 28, 28, 10, 9), nil)
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{3, 1, 4, 1, 5, 9, 2, 6}
	x := make([]float32, len(idx)*d.Pixels())
	y := make([]int, len(idx))
	if n := testing.AllocsPerRun(10, func() { d.Batch32(x, y, &d.Train, idx) }); n != 0 {
		t.Errorf("Batch32 allocates %v times", n)
	}
}

func TestNewErrors(t *testing.T) {
	good := func() Set { return synth(4, 2, 3, 5, 10) }
	constant := good()
	for i := range constant.Pix {
		constant.Pix[i] = 7
	}
	short := good()
	short.Pix = short.Pix[:5]
	fewLabels := good()
	fewLabels.Labels = fewLabels.Labels[:3]
	zeroRows := good()
	zeroRows.Rows = 0
	bigLabel := good()
	bigLabel.Labels[2] = 5
	for _, tc := range []struct {
		name        string
		train, test Set
		classes     int
		want        string
	}{
		{"empty training set", Set{Images: Images{Rows: 2, Cols: 3, Pix: []uint8{}}, Labels: []uint8{}}, good(), 0, "training set: no images"},
		{"constant pixels", constant, good(), 0, "every pixel is 7"},
		{"pixel count", short, good(), 0, "training set: 5 pixels, expected 4 images of 2×3"},
		{"label count", good(), fewLabels, 0, "test set: 3 labels, expected one per image (4)"},
		{"zero rows", good(), zeroRows, 0, "test set: 4 images of 0×3 pixels"},
		{"size mismatch", good(), synth(4, 3, 2, 5, 11), 0, "test set: images are 3×2 pixels, expected 2×3 like the training set"},
		{"label too large", good(), bigLabel, 5, "test set: label 5 at index 2, expected labels 0..4 (5 classes)"},
	} {
		_, err := New(tc.train, tc.test, &Options{NumClasses: tc.classes})
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want a *FormatError containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(good(), good(), &Options{NumClasses: 300}); err == nil {
		t.Error("300 classes accepted")
	}
}

// Without Options.NumClasses the classes are one more than the largest
// label anywhere, so a class seen only in the test set still counts.
func TestNumClassesInferred(t *testing.T) {
	train, test := synth(10, 2, 2, 3, 12), synth(10, 2, 2, 3, 13)
	test.Labels[4] = 6
	d, err := New(train, test, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.NumClasses != 7 {
		t.Errorf("NumClasses = %d, want 7", d.NumClasses)
	}
	d, err = New(train, synth(10, 2, 2, 3, 13), &Options{NumClasses: 12})
	if err != nil || d.NumClasses != 12 {
		t.Errorf("with Options.NumClasses 12: %v, %v", d, err)
	}
}

// NonZero lists exactly the non-zero pixels of each image, in order.
func TestNonZero(t *testing.T) {
	pix := []uint8{0, 3, 0, 0, 9, 1, 0, 0, 0, 0, 0, 255}
	set := Set{Images: Images{N: 3, Rows: 2, Cols: 2, Pix: pix}, Labels: []uint8{0, 1, 0}}
	d, err := New(set, set, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]struct {
		j int
		v uint8
	}{{{1, 3}}, {{0, 9}, {1, 1}}, {{3, 255}}}
	for _, s := range []*Set{&d.Train, &d.Test} {
		z := s.NonZero()
		if z == nil {
			t.Fatal("no NonZero")
		}
		for i, w := range want {
			idx, val := z.Image(i)
			if len(idx) != len(w) || len(val) != len(w) {
				t.Fatalf("image %d: %v %v, want %v", i, idx, val, w)
			}
			for q := range w {
				if int(idx[q]) != w[q].j || val[q] != w[q].v {
					t.Errorf("image %d entry %d: pixel %d = %d, want pixel %d = %d", i, q, idx[q], val[q], w[q].j, w[q].v)
				}
			}
		}
	}
	if (&Set{}).NonZero() != nil {
		t.Error("a Set not made by New has NonZero lists")
	}
}
