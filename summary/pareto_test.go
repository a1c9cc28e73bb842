package summary

import (
	"testing"

	"goalsearch/store"
)

func TestFront(t *testing.T) {
	study := store.Study{Name: "p", Objectives: []store.Objective{{Metric: "nonzero", Direction: store.Minimize, Grid: 0.1}}}
	v := func(x float64) *float64 { return &x }
	trials := []store.Trial{
		{Number: 0, State: store.Complete, Value: v(0.95), Values: []float64{12}, Gamma: []float64{1}},
		{Number: 1, State: store.Complete, Value: v(0.947), Values: []float64{4}, Gamma: []float64{0.3, 1}},
		{Number: 2, State: store.Complete, Value: v(0.93), Values: []float64{5}}, // dominated by 1
		{Number: 3, State: store.Pruned, Value: v(0.99), Values: []float64{1}},   // not complete: left out
		{Number: 4, State: store.Failed},
		{Number: 5, State: store.Complete, Value: v(0.60), Values: []float64{1}},
	}
	f := Front(study, trials, 0.005)
	if f == nil || f.Complete != 4 || len(f.Points) != 3 {
		t.Fatalf("Front = %+v, want 3 points of 4 complete trials", f)
	}
	if f.Points[0].Trial != 5 || f.Points[1].Trial != 1 || f.Points[2].Trial != 0 {
		t.Fatalf("front order %+v, want trials 5, 1, 0 (sparsest first)", f.Points)
	}
	if f.Picked == nil || f.Picked.Trial != 1 || f.BestAccuracy != 0.95 {
		t.Fatalf("picked %+v (best %v), want trial 1 within 0.005 of 0.95", f.Picked, f.BestAccuracy)
	}
	if f.Points[1].Gamma[0] != 0.3 {
		t.Fatalf("front point's goal %v, want trial 1's", f.Points[1].Gamma)
	}
	if Front(store.Study{}, trials, 0.005) != nil {
		t.Fatal("a single-objective study has a front")
	}
	if got := Terms([]string{"a", "b", "c"}, []float64{0.3, 0, -1}); got != "a +0.3, c -1" {
		t.Fatalf("Terms = %q", got)
	}
}
