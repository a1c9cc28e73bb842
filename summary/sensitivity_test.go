package summary

import (
	"math"
	"slices"
	"testing"
)

func TestZeroCostAndRank(t *testing.T) {
	for _, c := range []struct {
		name   string
		weight float64
		zero   *Change
		cost   float64
		ok     bool
	}{
		{"zeroing loses accuracy", 0.5, &Change{N: 3, Diff: -0.02}, 0.02, true},
		{"zeroing helps", -0.5, &Change{N: 3, Diff: 0.01}, -0.01, true},
		{"zeroing breaks training", 0.5, &Change{N: 0, Failed: 3}, math.Inf(1), true},
		{"already zero", 0, nil, 0, true},
		{"not evaluated", 0.5, nil, 0, false},
	} {
		if cost, ok := ZeroCost(c.weight, c.zero); cost != c.cost || ok != c.ok {
			t.Errorf("%s: cost %v %v, want %v %v", c.name, cost, ok, c.cost, c.ok)
		}
	}
	// Largest first, ties in order, unranked left out.
	got := Rank([]float64{0.01, math.Inf(1), 0.01, 0.5, -1}, []bool{true, true, true, false, true})
	if want := []int{2, 1, 3, 0, 4}; !slices.Equal(got, want) {
		t.Errorf("ranks %v, want %v", got, want)
	}
}

// The sensitivity of a study whose goals are named as goalsearch analyze
// names them: the zeroed and moved variants are told apart by their names,
// paired with the baseline seed by seed, and ranked by ZeroCost.
func TestSensitivityReadsNames(t *testing.T) {
	goal := func(i int, g EvalGoal, val ...float64) GoalResult {
		r := GoalResult{Index: i, Goal: g, Val: NewSample(val), Test: NewSample(val), ValBySeed: map[uint64]float64{}}
		for s, v := range val {
			r.ValBySeed[uint64(s)] = v
		}
		r.Complete = len(val)
		return r
	}
	base := []float64{0.5, -0.25, 0}
	e := EvalSummary{Kind: KindSensitivity, Setup: "sphere", Labels: []string{"a", "b", "c"}, Goals: []GoalResult{
		goal(0, EvalGoal{Name: "best", Gamma: base}, 0.90, 0.92),
		goal(1, EvalGoal{Name: ZeroedName("best", "a"), Gamma: []float64{0, -0.25, 0}, Atom: "a", Delta: -0.5}, 0.80, 0.84),
		goal(2, EvalGoal{Name: ZeroedName("best", "b"), Gamma: []float64{0.5, 0, 0}, Atom: "b", Delta: 0.25}, 0.91, 0.93),
		goal(3, EvalGoal{Name: MovedName("best", "c", 0.1), Gamma: []float64{0.5, -0.25, 0.1}, Atom: "c", Delta: 0.1}, 0.89, 0.91),
		goal(4, EvalGoal{Name: MovedName("best", "c", -0.1), Gamma: []float64{0.5, -0.25, -0.1}, Atom: "c", Delta: -0.1}, 0.90, 0.92),
	}}
	if MovedName("best", "c", -0.1) != "best, c - 0.1" || ZeroedName("best", "a") != "best, a = 0" {
		t.Fatalf("names %q %q", MovedName("best", "c", -0.1), ZeroedName("best", "a"))
	}
	s := sensitivity(e)
	if s == nil || len(s.Rows) != 3 {
		t.Fatalf("sensitivity %+v", s)
	}
	// a costs 0.09, c (already 0) nothing, b gains 0.01.
	var atoms []string
	var ranks []int
	for _, r := range s.Rows {
		atoms, ranks = append(atoms, r.Atom), append(ranks, r.Rank)
	}
	if !slices.Equal(atoms, []string{"a", "c", "b"}) || !slices.Equal(ranks, []int{1, 2, 3}) {
		t.Fatalf("rows %v ranks %v", atoms, ranks)
	}
	a, c := s.Rows[0], s.Rows[1]
	if a.Zero == nil || a.Zero.Paired.N != 2 || math.Abs(a.Zero.Paired.Diff+0.09) > 1e-12 || a.Plus != nil {
		t.Errorf("a: %+v", a.Zero)
	}
	if c.Zero != nil || c.Plus == nil || c.Minus == nil || c.Plus.Delta != 0.1 || c.Minus.Delta != -0.1 {
		t.Errorf("c: %+v", c)
	}
}
