package cmaes

import (
	"math"
	"testing"

	"goalsearch/search/asktell"
)

// objective is a test function to minimise.
type objective func(x []float64) float64

// sphere returns Σ (x_i − c)².
func sphere(c float64) objective {
	return func(x []float64) float64 {
		var s float64
		for _, v := range x {
			s += (v - c) * (v - c)
		}
		return s
	}
}

// rosenbrock is Σ 100(x_{i+1} − x_i²)² + (1 − x_i)², minimum 0 at (1, …, 1).
func rosenbrock(x []float64) float64 {
	var s float64
	for i := 0; i+1 < len(x); i++ {
		a := x[i+1] - x[i]*x[i]
		b := 1 - x[i]
		s += 100*a*a + b*b
	}
	return s
}

// rastrigin is 10n + Σ x_i² − 10 cos(2π x_i), minimum 0 at the origin and a
// local minimum near every integer point.
func rastrigin(x []float64) float64 {
	s := 10 * float64(len(x))
	for _, v := range x {
		s += v*v - 10*math.Cos(2*math.Pi*v)
	}
	return s
}

// result of a serial ask/tell loop.
type result struct {
	best  float64
	evals int // evaluations until best ≤ target, or all used
	hit   bool
}

// minimize runs o generation by generation until f ≤ target, the budget is
// used or the search is done; it may leave points of the last generation
// pending.
func minimize(t testing.TB, o *Optimizer, f objective, budget int, target float64) result {
	t.Helper()
	r := result{best: math.Inf(1)}
	for r.evals < budget && !o.Done() {
		k := o.s.Evaluations
		xs, err := o.Ask(1)
		if err != nil {
			t.Fatalf("Ask: %v", err)
		}
		for i, x := range xs {
			v := f(x)
			r.evals++
			if err := o.Tell(k+i, value(v)); err != nil {
				t.Fatalf("Tell: %v", err)
			}
			if v < r.best {
				r.best = v
			}
			if v <= target {
				r.hit = true
				return r
			}
			if r.evals >= budget {
				return r
			}
		}
	}
	return r
}

// value is the result of a complete evaluation.
func value(v float64) asktell.Result { return asktell.Result{Value: v} }

func mustNew(t testing.TB, cfg Config) *Optimizer {
	t.Helper()
	o, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return o
}
