// Package pareto holds the facts of multi-objective search that both the
// NSGA-II sampler (package search/nsga2) and the study summaries (package
// summary) need: Pareto dominance, the fast non-dominated sort and the
// crowding distance of Deb et al. (2002), and the goal complexities that
// are a study's second objective. It is a leaf: it imports nothing of
// goalsearch, so that summaries and reports compute the same front as the
// sampler without importing the search.
//
// Every objective here is minimised; a caller that maximises (the
// validation accuracy) passes the negated value.
package pareto

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Dominates reports whether a Pareto-dominates b: a is no worse in every
// objective and better in at least one. Both have the same length.
func Dominates(a, b []float64) bool {
	better := false
	for i := range a {
		switch {
		case a[i] > b[i]:
			return false
		case a[i] < b[i]:
			better = true
		}
	}
	return better
}

// Sort is the fast non-dominated sort (Deb et al. 2002, section III-A):
// it returns the fronts of points, each a list of indices into points in
// ascending order; front 0 is the non-dominated set, front k is
// non-dominated once fronts 0..k-1 are removed. Points with a NaN or
// infinite objective (failures) are dominated by every other point and
// form the last front together. It is O(M N²) for N points of M
// objectives, which is nothing beside a trial's training.
func Sort(points [][]float64) [][]int {
	n := len(points)
	var ok, bad []int
	for i, p := range points {
		if slices.ContainsFunc(p, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }) {
			bad = append(bad, i)
		} else {
			ok = append(ok, i)
		}
	}
	dominated := make([][]int, n) // S_p: the points p dominates
	count := make([]int, n)       // n_p: how many points dominate p
	var front []int
	for _, p := range ok {
		for _, q := range ok {
			switch {
			case Dominates(points[p], points[q]):
				dominated[p] = append(dominated[p], q)
			case Dominates(points[q], points[p]):
				count[p]++
			}
		}
		if count[p] == 0 {
			front = append(front, p)
		}
	}
	var fronts [][]int
	for len(front) > 0 {
		fronts = append(fronts, front)
		var next []int
		for _, p := range front {
			for _, q := range dominated[p] {
				if count[q]--; count[q] == 0 {
					next = append(next, q)
				}
			}
		}
		slices.Sort(next)
		front = next
	}
	if len(bad) > 0 {
		fronts = append(fronts, bad)
	}
	return fronts
}

// Ranks returns each point's front number (Sort).
func Ranks(points [][]float64) []int {
	ranks := make([]int, len(points))
	for r, f := range Sort(points) {
		for _, i := range f {
			ranks[i] = r
		}
	}
	return ranks
}

// Crowding returns the crowding distance (Deb et al. 2002, section III-B)
// of each point of one front, in the order of front: per objective, the
// points are sorted by value, the two extremes get +Inf, every other point
// adds the gap between its neighbours divided by the objective's range
// over the front. An objective whose range is 0 adds nothing. Ties in an
// objective are broken by position in front, so the result is
// deterministic. Points with a NaN or infinite objective get 0.
func Crowding(points [][]float64, front []int) []float64 {
	d := make([]float64, len(front))
	if len(front) == 0 {
		return d
	}
	finite := func(p []float64) bool {
		return !slices.ContainsFunc(p, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
	}
	var pos []int // positions in front of the finite points
	for k, i := range front {
		if finite(points[i]) {
			pos = append(pos, k)
		}
	}
	if len(pos) == 0 {
		return d
	}
	for m := range points[front[pos[0]]] {
		order := slices.Clone(pos)
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(points[front[a]][m], points[front[b]][m]) })
		lo, hi := points[front[order[0]]][m], points[front[order[len(order)-1]]][m]
		d[order[0]], d[order[len(order)-1]] = math.Inf(1), math.Inf(1)
		if hi == lo {
			continue
		}
		for j := 1; j+1 < len(order); j++ {
			d[order[j]] += (points[front[order[j+1]]][m] - points[front[order[j-1]]][m]) / (hi - lo)
		}
	}
	return d
}

// The complexity measures of a goal, a study's second objective.
const (
	// NonZero counts the weights that are nonzero after rounding to the
	// grid.
	NonZero = "nonzero"
	// L1 is the sum of the absolute weights after rounding to the grid.
	L1 = "l1"
)

// DefaultGrid is the grid goals are rounded to when a study's complexity
// objective does not say: 0.1, coarse enough that a weight the search
// drives towards zero becomes one, fine enough to express the paper's
// hand-rounded goal (opt_1_100_modified: 0.33, 1, -1 and -1, which is 0.3,
// 1, -1, -1 on it).
const DefaultGrid = 0.1

// Complexities are the names Complexity accepts.
var Complexities = []string{NonZero, L1}

// Round returns v rounded to the nearest multiple of grid (grid > 0), with
// exactly 0 for everything that rounds to zero, so that a rounded weight
// compares equal to 0 when it is one.
func Round(v, grid float64) float64 {
	n := math.Round(v / grid)
	if n == 0 {
		return 0 // not -0
	}
	// For a grid such as 0.1 whose inverse is an integer, n/10 is the
	// double nearest n·0.1 (a division is correctly rounded), where
	// n*0.1 is not always (7*0.1 = 0.7000000000000001).
	if inv := 1 / grid; inv == math.Round(inv) {
		return n / inv
	}
	return n * grid
}

// Complexity returns the complexity measure of gamma after rounding every
// weight to grid: the number of nonzero weights (NonZero) or their L1
// norm (L1). It returns an error for an unknown measure or a grid that is
// not positive and finite.
func Complexity(measure string, grid float64, gamma []float64) (float64, error) {
	if !(grid > 0) || math.IsInf(grid, 0) {
		return 0, fmt.Errorf("grid %v: want a positive, finite step", grid)
	}
	if measure != NonZero && measure != L1 {
		return 0, fmt.Errorf("complexity %q: want one of %v", measure, Complexities)
	}
	s := 0.0
	for _, v := range gamma {
		r := Round(v, grid)
		switch measure {
		case NonZero:
			if r != 0 {
				s++
			}
		default:
			s += math.Abs(r)
		}
	}
	return s, nil
}

// A Point is one finished trial as a front sees it: its number, its
// accuracy (maximised) and its complexity (minimised).
type Point struct {
	Trial      int
	Accuracy   float64
	Complexity float64
}

// Front returns the non-dominated points of ps (maximal accuracy, minimal
// complexity), sorted by complexity and then accuracy descending, ties by
// trial number. Points with a NaN or infinite value are never on it; of
// points with equal values, every one is (none dominates another).
func Front(ps []Point) []Point {
	objs := make([][]float64, len(ps))
	for i, p := range ps {
		objs[i] = []float64{-p.Accuracy, p.Complexity}
	}
	fronts := Sort(objs)
	var out []Point
	if len(fronts) > 0 {
		for _, i := range fronts[0] {
			if !slices.ContainsFunc(objs[i], func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }) {
				out = append(out, ps[i])
			}
		}
	}
	slices.SortFunc(out, func(a, b Point) int {
		return cmp.Or(cmp.Compare(a.Complexity, b.Complexity), cmp.Compare(b.Accuracy, a.Accuracy), cmp.Compare(a.Trial, b.Trial))
	})
	return out
}

// Pick returns the point of front with the smallest complexity whose
// accuracy is within tolerance of the front's best accuracy (ties: the
// more accurate, then the lower trial number), and false for an empty
// front. front is as Front returns it.
func Pick(front []Point, tolerance float64) (Point, bool) {
	if len(front) == 0 {
		return Point{}, false
	}
	best := front[0].Accuracy
	for _, p := range front {
		best = math.Max(best, p.Accuracy)
	}
	for _, p := range front { // sorted by complexity, then accuracy
		if p.Accuracy >= best-tolerance {
			return p, true
		}
	}
	return front[len(front)-1], true
}
