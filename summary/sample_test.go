package summary

import (
	"encoding/json"
	"math"
	"testing"
)

func approx(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol
}

func TestNewSample(t *testing.T) {
	for _, c := range []struct {
		name              string
		v                 []float64
		mean, std, median float64
	}{
		// The textbook example whose population standard deviation is 2;
		// the sample standard deviation is sqrt(32/7).
		{"textbook", []float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, math.Sqrt(32.0 / 7), 4.5},
		{"one value", []float64{0.9}, 0.9, math.NaN(), 0.9},
		{"empty", nil, math.NaN(), math.NaN(), math.NaN()},
		// A diverged run's NaN and an infinity are dropped.
		{"non-finite dropped", []float64{1, math.NaN(), 3, math.Inf(1)}, 2, math.Sqrt(2), 2},
	} {
		s := NewSample(c.v)
		if !approx(s.Mean, c.mean, 1e-15) || !approx(s.Std, c.std, 1e-15) || !approx(s.Median, c.median, 1e-15) {
			t.Errorf("%s: mean %v std %v median %v, want %v %v %v", c.name, s.Mean, s.Std, s.Median, c.mean, c.std, c.median)
		}
	}
	// Values from the definitions: mean 2.5, sample variance 5/3.
	s := NewSample([]float64{4, 1, math.NaN(), 3, 2})
	if s.N != 4 || s.Mean != 2.5 || math.Abs(s.Std-math.Sqrt(5.0/3)) > 1e-15 || s.Median != 2.5 || s.Min != 1 || s.Max != 4 {
		t.Errorf("sample %+v", s)
	}
}

// In JSON an undefined statistic is 0, the values are left out, and the
// statistics read back.
func TestSampleJSON(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		want string
	}{
		{nil, `{"n":0,"mean":0,"std":0,"median":0,"min":0,"max":0}`},
		{[]float64{0.5}, `{"n":1,"mean":0.5,"std":0,"median":0.5,"min":0.5,"max":0.5}`},
		{[]float64{1, 3}, `{"n":2,"mean":2,"std":1.4142135623730951,"median":2,"min":1,"max":3}`},
	} {
		b, err := json.Marshal(NewSample(c.v))
		if err != nil || string(b) != c.want {
			t.Errorf("%v: %s %v, want %s", c.v, b, err, c.want)
		}
		var back Sample
		if err := json.Unmarshal(b, &back); err != nil || back.N != len(c.v) || (len(c.v) > 0 && back.Mean != NewSample(c.v).Mean) {
			t.Errorf("%v read back as %+v, %v", c.v, back, err)
		}
	}
}

func TestWelchT(t *testing.T) {
	wiki1a := []float64{27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4}
	wiki1b := []float64{27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4}
	wiki2a := []float64{17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8}
	wiki2b := []float64{21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8}
	for _, c := range []struct {
		name       string
		a, b       []float64
		t, df, p   float64
		tolT, tolP float64
	}{
		// Closed form: two values each with equal variance give df = 2
		// exactly, and for 2 degrees of freedom F(t) = 1/2 + t/(2 sqrt(2+t^2)),
		// so with t = -3/sqrt(2): p = 1 - sqrt(4.5/6.5) = 1 - 3/sqrt(13).
		{"df 2 closed form", []float64{0, 2}, []float64{3, 5}, -3 / math.Sqrt2, 2, 1 - 3/math.Sqrt(13), 1e-12, 1e-12},
		// Wikipedia, "Welch's t-test", examples 1 and 2 (t = -2.46,
		// df = 25.0, p = 0.021 and t = -1.57, df = 9.9, p = 0.149); the
		// digits are computed with mpmath 1.3 (regularised incomplete beta,
		// 30 digits), independently of gonum.
		{"Wikipedia example 1", wiki1a, wiki1b, -2.4553563982860099, 24.988529290231415, 0.021378001462866798, 1e-12, 1e-10},
		{"Wikipedia example 2", wiki2a, wiki2b, -1.5654335235985073, 9.9047412486508294, 0.14884169660532749, 1e-12, 1e-10},
	} {
		r := WelchT(c.a, c.b)
		if !approx(r.Stat, c.t, c.tolT) || !approx(r.DF, c.df, c.tolT) || !approx(r.P, c.p, c.tolP) {
			t.Errorf("%s: t %.17g df %.17g p %.17g, want %.17g %.17g %.17g", c.name, r.Stat, r.DF, r.P, c.t, c.df, c.p)
		}
		// Swapping the samples flips t and keeps p.
		s := WelchT(c.b, c.a)
		if !approx(s.Stat, -c.t, c.tolT) || !approx(s.P, c.p, c.tolP) {
			t.Errorf("%s swapped: t %v p %v", c.name, s.Stat, s.P)
		}
	}
}

func TestWelchTUndefined(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b []float64
	}{
		{"one value", []float64{1}, []float64{1, 2, 3}},
		{"empty", nil, []float64{1, 2}},
		{"no spread", []float64{0.9, 0.9}, []float64{0.8, 0.8}},
	} {
		if r := WelchT(c.a, c.b); !math.IsNaN(r.P) {
			t.Errorf("%s: p = %v, want NaN", c.name, r.P)
		}
	}
}

func TestMannWhitneyU(t *testing.T) {
	odd, even := []float64{}, []float64{}
	for i := 1; i <= 40; i++ {
		if i%2 == 1 {
			odd = append(odd, float64(i))
		} else {
			even = append(even, float64(i))
		}
	}
	for _, c := range []struct {
		name   string
		a, b   []float64
		u, p   float64
		method string
	}{
		// Complete separation of 3 against 3: U = 0, and only U = 0 and
		// U = 9 of the C(6,3) = 20 equally likely splits are that far from
		// the mean 4.5, so p = 2/20 (the distribution of U for 3 and 3,
		// counts 1 1 2 3 3 3 3 2 1 1, is in every textbook table).
		{"separated 3 vs 3", []float64{1, 2, 3}, []float64{4, 5, 6}, 0, 0.1, "Mann-Whitney U (exact)"},
		// Ranks 1, 2, 5: U = 2, and the splits with U in {0, 1, 2, 7, 8, 9}
		// are as extreme, 1+1+2+2+1+1 = 8 of 20.
		{"one swap 3 vs 3", []float64{1, 2, 5}, []float64{3, 4, 6}, 2, 8.0 / 20, "Mann-Whitney U (exact)"},
		// Ties: mid-ranks 1, 3, 3, 3, 5, 6; U = 1; 6 of the 20 splits are
		// as extreme (counted by hand, and by enumerating the splits with
		// Python's itertools).
		{"ties", []float64{1, 2, 2}, []float64{2, 3, 4}, 1, 6.0 / 20, "Mann-Whitney U (exact)"},
		// Accuracies of five seeds each with ties across the groups:
		// U = 4.5, 28 of the C(10,5) = 252 splits as extreme (itertools).
		{"accuracies", []float64{0.91, 0.92, 0.92, 0.93, 0.95}, []float64{0.92, 0.94, 0.95, 0.96, 0.97}, 4.5, 28.0 / 252, "Mann-Whitney U (exact)"},
		// 20 odd against 20 even numbers: C(40,20) splits are too many, so
		// the normal approximation: U = 400 - 210 = 190, mean 200,
		// sigma^2 = 20*20*41/12, z = 9.5/sigma = 0.256976, p = 2(1-Phi(z))
		// = 0.797197 (mpmath).
		{"normal approximation", odd, even, 190, 0.79719741926917473, "Mann-Whitney U (normal approximation)"},
	} {
		r := MannWhitneyU(c.a, c.b)
		if r.Stat != c.u || !approx(r.P, c.p, 1e-12) || r.Method != c.method {
			t.Errorf("%s: U %v p %.17g (%s), want %v %.17g (%s)", c.name, r.Stat, r.P, r.Method, c.u, c.p, c.method)
		}
		// Swapping the samples gives U' = na nb - U and the same p.
		s := MannWhitneyU(c.b, c.a)
		if s.Stat != float64(len(c.a)*len(c.b))-c.u || !approx(s.P, c.p, 1e-12) {
			t.Errorf("%s swapped: U %v p %v", c.name, s.Stat, s.P)
		}
	}
}

func TestMannWhitneyUUndefined(t *testing.T) {
	if r := MannWhitneyU(nil, []float64{1}); !math.IsNaN(r.P) {
		t.Errorf("empty sample: p = %v", r.P)
	}
	if r := MannWhitneyU([]float64{2, 2}, []float64{2}); !math.IsNaN(r.P) {
		t.Errorf("all values equal: p = %v", r.P)
	}
}

func TestPairedT(t *testing.T) {
	for _, c := range []struct {
		name          string
		a, b          []float64
		t, df, p, tol float64
	}{
		// Differences 1, 2, 3: mean 2, sd 1, t = 2 sqrt(3), df = 2, and
		// for 2 degrees of freedom p = 1 - t/sqrt(2+t^2) = 1 - sqrt(12/14).
		{"df 2 closed form", []float64{11, 12, 13}, []float64{10, 10, 10}, 2 * math.Sqrt(3), 2, 1 - math.Sqrt(12.0/14), 1e-12},
		// Differences -1, 1: mean 0, t = 0, p = 1.
		{"no difference", []float64{1, 3}, []float64{2, 2}, 0, 1, 1, 1e-15},
	} {
		r := PairedT(c.a, c.b)
		if !approx(r.Stat, c.t, 1e-12) || r.DF != c.df || !approx(r.P, c.p, c.tol) {
			t.Errorf("%s: t %v df %v p %.17g, want %v %v %.17g", c.name, r.Stat, r.DF, r.P, c.t, c.df, c.p)
		}
	}
	if r := PairedT([]float64{1, 2}, []float64{0, 1}); !math.IsNaN(r.P) {
		t.Errorf("constant differences: p = %v, want NaN", r.P)
	}
}

func TestPairedBySeed(t *testing.T) {
	a := map[uint64]float64{1: 0.95, 2: 0.94, 3: 0.96, 9: 0.5}
	b := map[uint64]float64{1: 0.94, 2: 0.945, 3: 0.95, 4: 0.1}
	p := PairedBySeed(a, b)
	// Seeds 1, 2, 3: differences +0.01, -0.005, +0.01.
	if p == nil || p.Seeds != 3 || p.Ahead != 2 {
		t.Fatalf("%+v, want 3 seeds, 2 ahead", p)
	}
	if math.Abs(p.Median-0.01) > 1e-12 || math.Abs(p.Mean-0.005) > 1e-12 {
		t.Errorf("median %v mean %v, want 0.01 and 0.005", p.Median, p.Mean)
	}
	want := PairedT([]float64{0.95, 0.94, 0.96}, []float64{0.94, 0.945, 0.95})
	if p.T.P != want.P {
		t.Errorf("p %v, want the paired t-test's %v", p.T.P, want.P)
	}
	if PairedBySeed(a, map[uint64]float64{1: 0.9}) != nil {
		t.Error("one common seed: want nil")
	}
}
