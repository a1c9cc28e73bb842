package asktell

import (
	"math"
	"testing"
)

// TestCompare checks the ranking rule on a list in the order it must
// produce: complete results by value, pruned ones by step (later first)
// and then value, failures last and equal to each other.
func TestCompare(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	order := []Result{
		{Value: -3},
		{Value: 0},
		{Value: 10},
		{Value: -50, Pruned: true, Step: 9},
		{Value: 5, Pruned: true, Step: 9},
		{Value: -80, Pruned: true, Step: 3},
		{Value: -90, Pruned: true, Step: 1},
		{Value: 0, Pruned: true, Step: 1},
	}
	for i, a := range order {
		for j, b := range order {
			got := Compare(a, b)
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if sign(got) != want {
				t.Errorf("Compare(%+v, %+v) = %d, want sign %d", a, b, got, want)
			}
		}
	}
	failures := []Result{{Value: nan}, {Value: inf}, {Value: -inf}, {Value: nan, Pruned: true, Step: 4}}
	for _, f := range failures {
		if !f.Failed() {
			t.Errorf("%+v is not a failure", f)
		}
		for _, r := range order {
			if Compare(r, f) >= 0 || Compare(f, r) <= 0 {
				t.Errorf("failure %+v does not rank below %+v", f, r)
			}
		}
		for _, g := range failures {
			if Compare(f, g) != 0 {
				t.Errorf("failures %+v and %+v do not rank equal", f, g)
			}
		}
	}
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// The shared point history: a point is told once, pending points are
// listed, enqueued points must lie in the box, and a restored point whose
// fields contradict each other is refused.
func TestPoints(t *testing.T) {
	lo, hi := []float64{0, 0}, []float64{1, 1}
	var ps []Point
	if _, err := Enqueue(&ps, [][]float64{{0.5, 2}}, lo, hi); err == nil || len(ps) != 0 {
		t.Fatalf("enqueue outside the box: err %v, %d points", err, len(ps))
	}
	first, err := Enqueue(&ps, [][]float64{{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}}, lo, hi)
	if err != nil || first != 0 {
		t.Fatalf("Enqueue = %d, %v", first, err)
	}
	if !Tell(ps, 1, Result{Value: math.NaN()}) || !Tell(ps, 2, Result{Value: 3, Pruned: true, Step: 2}) {
		t.Fatal("Tell of pending points refused")
	}
	if Tell(ps, 1, Result{Value: 1}) || Tell(ps, 3, Result{}) || Tell(ps, -1, Result{}) {
		t.Error("Tell of a told or unknown point accepted")
	}
	if got := PendingOf(ps); len(got) != 1 || got[0] != 0 {
		t.Errorf("PendingOf = %v, want [0]", got)
	}
	if r := ps[1].Result(); !r.Failed() {
		t.Errorf("failed point's result %+v", r)
	}
	if r := ps[2].Result(); !r.Pruned || r.Step != 2 || r.Value != 3 {
		t.Errorf("pruned point's result %+v", r)
	}
	for i, p := range ps {
		if err := p.Check(lo, hi); err != nil {
			t.Errorf("point %d: %v", i, err)
		}
	}
	for name, p := range map[string]Point{
		"dimension":       {X: []float64{0.5}},
		"outside":         {X: []float64{0.5, 1.5}},
		"failed value":    {X: []float64{0, 0}, Told: true, Failed: true, Value: 1},
		"step unpruned":   {X: []float64{0, 0}, Told: true, Step: 3},
		"untold value":    {X: []float64{0, 0}, Value: 2},
		"infinite value":  {X: []float64{0, 0}, Told: true, Value: math.Inf(1)},
		"negative step":   {X: []float64{0, 0}, Told: true, Pruned: true, Step: -1},
		"failed & pruned": {X: []float64{0, 0}, Told: true, Failed: true, Pruned: true},
	} {
		if err := p.Check(lo, hi); err == nil {
			t.Errorf("%s: Check accepted %+v", name, p)
		}
	}
	c := ClonePoints(ps)
	c[0].X[0] = 0.9
	if ps[0].X[0] != 0.1 {
		t.Error("ClonePoints shares coordinates")
	}
	for _, box := range [][2][]float64{{nil, nil}, {{0}, {0, 1}}, {{1}, {0}}, {{0}, {math.Inf(1)}}, {{-math.MaxFloat64}, {math.MaxFloat64}}} {
		if CheckBox(box[0], box[1]) == nil {
			t.Errorf("CheckBox accepted %v", box)
		}
	}
}
