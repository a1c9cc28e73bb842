package asktell

import (
	"fmt"
	"math"
	"slices"
)

// Point is a point a model-based sampler asked (or took from Enqueue) with
// its result once told, as the sampler's state keeps it: encoding/json
// round-trips it exactly. Packages tpe and gp hold their history as a
// slice of Points indexed by point number.
type Point struct {
	X []float64 `json:"x"`
	// Told reports whether its result is in; the fields below are zero
	// until then.
	Told bool `json:"told,omitempty"`
	// Failed marks a failed evaluation (a NaN or infinite value, which
	// JSON cannot hold); Value is then 0.
	Failed bool `json:"failed,omitempty"`
	// Pruned marks an evaluation stopped after Step steps.
	Pruned bool    `json:"pruned,omitempty"`
	Step   int     `json:"step,omitempty"`
	Value  float64 `json:"value,omitempty"`
}

// Result is the point's result (meaningful once Told).
func (p Point) Result() Result {
	if p.Failed {
		return Result{Value: math.NaN()}
	}
	return Result{Value: p.Value, Pruned: p.Pruned, Step: p.Step}
}

// Record stores r as the point's result. It reports false, changing
// nothing, if the point was told already.
func (p *Point) Record(r Result) bool {
	if p.Told {
		return false
	}
	p.Told = true
	switch {
	case r.Failed():
		p.Failed = true
	case r.Pruned:
		p.Value, p.Pruned, p.Step = r.Value, true, r.Step
	default:
		p.Value = r.Value
	}
	return true
}

// Check returns what makes p inconsistent in the box [lower, upper] (a
// restored state's point): the wrong dimension, a coordinate outside the
// box, or result fields that contradict each other; nil if nothing does.
func (p Point) Check(lower, upper []float64) error {
	if len(p.X) != len(lower) {
		return fmt.Errorf("%d coordinates, want %d", len(p.X), len(lower))
	}
	for i, v := range p.X {
		if !(lower[i] <= v && v <= upper[i]) {
			return fmt.Errorf("coordinate %d = %v outside [%v, %v]", i, v, lower[i], upper[i])
		}
	}
	if !finite(p.Value) || p.Step < 0 || (!p.Pruned && p.Step != 0) ||
		(p.Failed && (p.Value != 0 || p.Pruned)) || (!p.Told && (p.Failed || p.Pruned || p.Value != 0)) {
		return fmt.Errorf("told %v, value %v, failed %v, pruned %v at step %d", p.Told, p.Value, p.Failed, p.Pruned, p.Step)
	}
	return nil
}

// CheckBox returns why [lower, upper] is not a box a sampler can search:
// no coordinate, unequal lengths, or an interval that is not finite with
// lower < upper; nil if it is one.
func CheckBox(lower, upper []float64) error {
	if len(lower) == 0 || len(lower) != len(upper) {
		return fmt.Errorf("box with %d lower and %d upper bounds", len(lower), len(upper))
	}
	for i := range lower {
		lo, hi := lower[i], upper[i]
		if !finite(lo) || !finite(hi) || !(lo < hi) || !finite(hi-lo) {
			return fmt.Errorf("bound %d is [%v, %v]", i, lo, hi)
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Tell is a model-based sampler's Tell over its points: it records r as
// point k's result, or reports false, changing nothing, if k is not
// pending.
func Tell(ps []Point, k int, r Result) bool {
	return k >= 0 && k < len(ps) && ps[k].Record(r)
}

// Enqueue is a model-based sampler's Enqueue over its points: it appends
// copies of xs as pending points, numbered on, and returns the first
// number, or an error (appending nothing) if one is not in the box.
func Enqueue(ps *[]Point, xs [][]float64, lower, upper []float64) (int, error) {
	if err := CheckEnqueued(xs, lower, upper); err != nil {
		return 0, err
	}
	first := len(*ps)
	for _, x := range xs {
		*ps = append(*ps, Point{X: slices.Clone(x)})
	}
	return first, nil
}

// PendingOf returns the numbers of the points of ps not told yet, in
// ascending order; nil if none.
func PendingOf(ps []Point) []int {
	var ks []int
	for k, p := range ps {
		if !p.Told {
			ks = append(ks, k)
		}
	}
	return ks
}

// ClonePoints returns a copy of ps that shares no memory with it.
func ClonePoints(ps []Point) []Point {
	c := slices.Clone(ps)
	for i := range c {
		c[i].X = slices.Clone(c[i].X)
	}
	return c
}

// CheckEnqueued returns why points a caller wants to enqueue cannot be:
// one of the wrong dimension or outside the box [lower, upper]; nil if
// all can.
func CheckEnqueued(xs [][]float64, lower, upper []float64) error {
	for i, x := range xs {
		if len(x) != len(lower) {
			return fmt.Errorf("enqueued point %d has %d coordinates, want %d", i, len(x), len(lower))
		}
		for j, v := range x {
			if !(v >= lower[j] && v <= upper[j]) {
				return fmt.Errorf("enqueued point %d: coordinate %d is %v, outside [%v, %v]", i, j, v, lower[j], upper[j])
			}
		}
	}
	return nil
}
