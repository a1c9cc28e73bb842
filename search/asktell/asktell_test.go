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
