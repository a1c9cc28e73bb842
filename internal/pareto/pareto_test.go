package pareto

import (
	"math"
	"reflect"
	"testing"
)

func TestDominates(t *testing.T) {
	cases := []struct {
		a, b []float64
		want bool
	}{
		{[]float64{1, 1}, []float64{2, 2}, true},
		{[]float64{1, 2}, []float64{1, 3}, true},
		{[]float64{1, 2}, []float64{1, 2}, false}, // equal: neither
		{[]float64{1, 3}, []float64{2, 2}, false}, // a trade-off
		{[]float64{2, 2}, []float64{1, 1}, false},
	}
	for _, c := range cases {
		if got := Dominates(c.a, c.b); got != c.want {
			t.Errorf("Dominates(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestSortHandWorked checks the fronts of eight points of two objectives,
// worked out on paper:
//
//	0 (1,5) 1 (2,3) 2 (4,1)      front 0: nothing is below-left of them
//	3 (3,4) 4 (5,2)              front 1: 3 is dominated by 1, 4 by 2
//	5 (4,5) 6 (2,3)              6 equals 1: front 0 too; 5 is dominated
//	                             by 3 (and 0, 1), so front 2
//	7 (NaN, 0)                   a failure: the last front
func TestSortHandWorked(t *testing.T) {
	pts := [][]float64{{1, 5}, {2, 3}, {4, 1}, {3, 4}, {5, 2}, {4, 5}, {2, 3}, {math.NaN(), 0}}
	want := [][]int{{0, 1, 2, 6}, {3, 4}, {5}, {7}}
	if got := Sort(pts); !reflect.DeepEqual(got, want) {
		t.Fatalf("Sort = %v, want %v", got, want)
	}
	if got, want := Ranks(pts), []int{0, 0, 0, 1, 1, 2, 0, 3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Ranks = %v, want %v", got, want)
	}
	if got := Sort(nil); len(got) != 0 {
		t.Fatalf("Sort(nil) = %v, want no fronts", got)
	}
}

// TestCrowdingHandWorked: a front of four points (1,8) (2,5) (4,2) (7,1).
// Objective 1 ranges over 6, objective 2 over 7. The extremes get +Inf;
// (2,5): (4-1)/6 + (8-2)/7 = 0.5 + 6/7; (4,2): (7-2)/6 + (5-1)/7.
func TestCrowdingHandWorked(t *testing.T) {
	pts := [][]float64{{4, 2}, {1, 8}, {9, 9}, {7, 1}, {2, 5}}
	front := []int{0, 1, 3, 4}
	got := Crowding(pts, front)
	want := []float64{5.0/6 + 4.0/7, math.Inf(1), math.Inf(1), 0.5 + 6.0/7}
	for i := range want {
		if !(got[i] == want[i] || math.Abs(got[i]-want[i]) < 1e-12) {
			t.Fatalf("Crowding = %v, want %v", got, want)
		}
	}
	// A constant objective adds nothing; two points are both extremes.
	got = Crowding([][]float64{{1, 3}, {2, 3}, {3, 3}}, []int{0, 1, 2})
	if !math.IsInf(got[0], 1) || got[1] != 1 || !math.IsInf(got[2], 1) {
		// (3-1)/2 = 1 from objective 1; objective 2 has range 0 and its
		// sorted extremes (positions 0 and 2, stable) are +Inf already.
		t.Fatalf("Crowding with a constant objective = %v, want [+Inf 1 +Inf]", got)
	}
}

func TestComplexity(t *testing.T) {
	g := []float64{0.33, 1, -1, 0.04, -0.05, 0, -0.96, 0.149}
	// Rounded to 0.1: 0.3, 1, -1, 0, -0.1 (|-0.5| rounds away), 0, -1, 0.1.
	n, err := Complexity(NonZero, 0.1, g)
	if err != nil || n != 6 {
		t.Fatalf("Complexity(nonzero, 0.1) = %v, %v; want 6", n, err)
	}
	l1, err := Complexity(L1, 0.1, g)
	if err != nil || math.Abs(l1-3.5) > 1e-12 {
		t.Fatalf("Complexity(l1, 0.1) = %v, %v; want 3.5", l1, err)
	}
	n, _ = Complexity(NonZero, 0.5, g)
	if n != 4 { // 0.5, 1, -1, 0, 0, 0, -1, 0: 0.33 rounds to 0.5
		t.Fatalf("Complexity(nonzero, 0.5) = %v, want 4", n)
	}
	for _, bad := range []float64{0, -0.1, math.NaN(), math.Inf(1)} {
		if _, err := Complexity(NonZero, bad, g); err == nil {
			t.Errorf("grid %v: no error", bad)
		}
	}
	if _, err := Complexity("l2", 0.1, g); err == nil {
		t.Error("unknown measure: no error")
	}
	for v, want := range map[float64]float64{0.68: 0.7, -0.71: -0.7, -0.3: -0.3, 0.33: 0.3, 1: 1} {
		if got := Round(v, 0.1); got != want {
			t.Errorf("Round(%v, 0.1) = %v, want %v", v, got, want)
		}
	}
	if got := Round(0.8, 0.25); got != 0.75 {
		t.Errorf("Round(0.8, 0.25) = %v, want 0.75", got)
	}
	if r := Round(-0.04, 0.1); r != 0 || math.Signbit(r) {
		t.Errorf("Round(-0.04, 0.1) = %v, want +0", r)
	}
}

func TestFrontAndPick(t *testing.T) {
	ps := []Point{
		{Trial: 0, Accuracy: 0.95, Complexity: 12},
		{Trial: 1, Accuracy: 0.948, Complexity: 4},
		{Trial: 2, Accuracy: 0.90, Complexity: 2},
		{Trial: 3, Accuracy: 0.94, Complexity: 5}, // dominated by 1
		{Trial: 4, Accuracy: 0.951, Complexity: 12},
		{Trial: 5, Accuracy: math.NaN(), Complexity: 1},
	}
	f := Front(ps)
	var got []int
	for _, p := range f {
		got = append(got, p.Trial)
	}
	if want := []int{2, 1, 4}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Front trials = %v, want %v", got, want)
	}
	if p, _ := Pick(f, 0.005); p.Trial != 1 {
		t.Fatalf("Pick(0.005) = trial %d, want 1 (4 weights, 0.3 points below the best)", p.Trial)
	}
	if p, _ := Pick(f, 0.001); p.Trial != 4 {
		t.Fatalf("Pick(0.001) = trial %d, want 4", p.Trial)
	}
	if p, _ := Pick(f, 1); p.Trial != 2 {
		t.Fatalf("Pick(1) = trial %d, want 2", p.Trial)
	}
	if _, ok := Pick(nil, 0.005); ok {
		t.Fatal("Pick(nil) found a point")
	}
}
