package trainer

import (
	"errors"
	"math"
	"testing"
)

// Edges as torch.linspace(lo, hi, steps, dtype=torch.double) returns them
// (copied from the golden files' config.binning.binedges, and for [-20, 20]
// with 21 steps from layer_fixture_tri_fixed20). Note the middle edge of
// [-1, 1] in 20 bins: 5.55e-17, not 0.
func TestLinspaceTorch(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		bins   int
		want   []float64
	}{
		{-1, 1, 20, []float64{-1.0, -0.9, -0.8, -0.7, -0.6, -0.5, -0.39999999999999997, -0.29999999999999993,
			-0.19999999999999996, -0.09999999999999995, 5.551115123125783e-17, 0.10000000000000009,
			0.19999999999999996, 0.29999999999999993, 0.39999999999999997, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}},
		{-20, 20, 20, []float64{-20, -18, -16, -14, -12, -10, -8, -6, -4, -2, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20}},
		{-1, 1, 5, []float64{-1.0, -0.6, -0.19999999999999996, 0.19999999999999996, 0.6, 1.0}},
		{-20, 20, 5, []float64{-20, -12, -4, 4, 12, 20}},
	} {
		got := Binning{Kind: FixedBins, Bins: c.bins, Lo: c.lo, Hi: c.hi}.Edges()
		for j := range c.want {
			if got[j] != c.want[j] {
				t.Errorf("linspace(%v, %v, %d)[%d] = %.17g, torch %.17g", c.lo, c.hi, c.bins+1, j, got[j], c.want[j])
			}
		}
	}
	if e := (Binning{Kind: AdaptiveBins, Lo: 5, Hi: 7}).Edges(); len(e) != 21 || e[0] != -1 || e[20] != 1 {
		t.Errorf("adaptive edges %v: want 21 edges on [-1, 1] whatever Lo and Hi", e)
	}
}

// Bins of single values under the rule edge[i] < x <= edge[i+1] after the
// clamp into [edge[0] + 1e-4, edge[n]].
func TestBinOf(t *testing.T) {
	fixed := newBinner(PaperFixedBinning) // edges -20, -18, ..., 20
	for _, c := range []struct {
		x    float64
		want int32
	}{
		{-20, 0},  // clamped to -19.9999
		{-1e9, 0}, // clamped
		{math.Inf(-1), 0},
		{-18, 0}, // on an edge: the lower bin
		{-17.999999, 1},
		{0, 9}, // edge[10] = 0 exactly for [-20, 20]
		{1e-300, 10},
		{19.5, 19},
		{20, 19},
		{1e9, 19},
		{math.Inf(1), 19},
	} {
		got, ok := binOf(fixed, c.x)
		if !ok || got != c.want {
			t.Errorf("fixed bin of %v = %d, %v; want %d", c.x, got, ok, c.want)
		}
	}
	if _, ok := binOf(fixed, math.NaN()); ok {
		t.Error("bin of NaN reported ok")
	}
	small := newBinner(Binning{Kind: FixedBins, Bins: 5, Lo: -20, Hi: 20})
	for _, c := range []struct {
		x    float64
		want int32
	}{{-12, 0}, {-11.9, 1}, {-4, 1}, {4, 2}, {4.0000001, 3}, {12, 3}, {12.5, 4}} {
		if got, _ := binOf(small, c.x); got != c.want {
			t.Errorf("5-bin fixed bin of %v = %d, want %d", c.x, got, c.want)
		}
	}
}

func TestBinLayerAdaptive(t *testing.T) {
	b := newBinner(PaperAdaptiveBinning)
	// 3 samples × 3 neurons. Neuron 0: max |s| = 4, values -4, 2, 4 ->
	// -1 (clamped, bin 0), 0.5 (on the edge 0.5: bin 14), 1 (bin 19).
	// Neuron 1: all 0 -> the bin of 0, 9 (0 <= edge[10] = 5.6e-17).
	// Neuron 2: -0 and tiny values keep their sign: 1e-300/3 stays in
	// bin 9 (below edge[10]), 3/3 = 1 -> 19, -3e-17/3 -> 9.
	s := []float64{
		-4, 0, 1e-300,
		2, 0, 3,
		4, math.Copysign(0, -1), -3e-17,
	}
	want := []int32{
		0, 9, 9,
		14, 9, 19,
		19, 9, 9,
	}
	dst := make([]int32, 9)
	scale := make([]float64, 3)
	if err := binLayer(b, dst, s, scale, 3, 3); err != nil {
		t.Fatal(err)
	}
	for j := range want {
		if dst[j] != want[j] {
			t.Errorf("bin[%d] of %v = %d, want %d", j, s[j], dst[j], want[j])
		}
	}
	// With 5 bins (edges -1, -0.6, -0.2, 0.2, 0.6, 1) a zero source is in bin 2.
	b5 := newBinner(Binning{Kind: AdaptiveBins, Bins: 5})
	zero := make([]float64, 6)
	if err := binLayer(b5, dst, zero, scale, 2, 3); err != nil {
		t.Fatal(err)
	}
	for j := 0; j < 6; j++ {
		if dst[j] != 2 {
			t.Errorf("5-bin zero source: bin[%d] = %d, want 2", j, dst[j])
		}
	}
}

func TestBinLayerErrors(t *testing.T) {
	dst := make([]int32, 4)
	scale := make([]float64, 2)
	for _, c := range []struct {
		b Binning
		s []float64
	}{
		{PaperFixedBinning, []float64{0, 1, math.NaN(), 2}},
		{PaperAdaptiveBinning, []float64{0, 1, math.NaN(), 2}},
		{PaperAdaptiveBinning, []float64{0, 1, math.Inf(1), 2}},
	} {
		if err := binLayer(newBinner(c.b), dst, c.s, scale, 2, 2); !errors.Is(err, ErrNonFinite) {
			t.Errorf("%v binning of %v: error %v, want ErrNonFinite", c.b.Kind, c.s, err)
		}
	}
	// Fixed binning clamps infinities as torch.clamp does.
	if err := binLayer(newBinner(PaperFixedBinning), dst, []float64{math.Inf(-1), 1, math.Inf(1), 2}, scale, 2, 2); err != nil {
		t.Errorf("fixed binning of infinities: %v", err)
	}
}

func TestBinningValidate(t *testing.T) {
	for _, b := range []Binning{
		{Kind: 7},
		{Bins: -1},
		{Kind: FixedBins, Lo: 1, Hi: 1},
		{Kind: FixedBins, Lo: 2, Hi: 1},
		{Kind: FixedBins, Lo: math.Inf(-1), Hi: 1},
	} {
		if b.Validate() == nil {
			t.Errorf("%+v validated", b)
		}
	}
	for _, b := range []Binning{{}, PaperFixedBinning, PaperAdaptiveBinning, {Kind: AdaptiveBins, Bins: 1}} {
		if err := b.Validate(); err != nil {
			t.Errorf("%+v: %v", b, err)
		}
	}
}
