package summary

import (
	"math"
	"slices"
	"testing"

	"goalsearch/store"
)

func TestAgreementSigns(t *testing.T) {
	study := store.Study{Space: store.SearchSpace{Labels: []string{"a", "b", "c", "h"}, Fixed: map[string]float64{"h": 0}}}
	v := func(x float64) *float64 { return &x }
	trials := []store.Trial{
		{Number: 0, State: store.Complete, Value: v(0.90), Gamma: []float64{0.5, 0.2, -0.1, 0}},
		{Number: 1, State: store.Complete, Value: v(0.95), Gamma: []float64{0.7, -0.3, -0.4, 0}},
		{Number: 2, State: store.Complete, Value: v(0.93), Gamma: []float64{0.1, 0, -0.9, 0}},
		{Number: 3, State: store.Complete, Value: v(0.50), Gamma: []float64{-0.9, 0.9, 0.9, 0}}, // not in the top 3
		{Number: 4, State: store.Failed, Gamma: []float64{-1, -1, -1, 0}},
		{Number: 5, State: store.Pruned, Value: v(0.99), Gamma: []float64{-1, -1, -1, 0}},
	}
	a := AgreementOf(study, trials, 3)
	if a.Top != 3 || !slices.Equal(a.Kept, []string{"a", "c"}) {
		t.Fatalf("agreement %+v", a)
	}
	b := a.Atoms[1]
	// The best trial (1) has b < 0; trial 0 has b > 0 and trial 2 b = 0.
	if b.Best != -0.3 || b.Positive != 1 || b.Negative != 1 || b.Zero != 1 || math.Abs(b.Share-1.0/3) > 1e-15 || b.Kept {
		t.Errorf("b: %+v", b)
	}
	if h := a.Atoms[3]; !h.Fixed || h.Kept {
		t.Errorf("fixed h: %+v", h)
	}
	if a := AgreementOf(study, nil, 3); a.Top != 0 || a.Atoms != nil {
		t.Errorf("no trials: %+v", a)
	}
}
