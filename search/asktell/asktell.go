// Package asktell is the one protocol that every goalsearch sampler speaks
// (search's samplers, and the optimisers of packages cmaes, evo, tpe and gp
// that they wrap): a sampler proposes points in a box and learns from
// their results, and the caller owns the loop, the workers and the
// goroutines. A sampler never leaves a goroutine running (GP's L-BFGS, from
// gonum/optimize, runs one only for the length of the call), and never sees
// a trial, a store or a clock.
//
// # Points and their numbers
//
// Ask(n) proposes points; they are numbered 0, 1, 2, … in the order Ask
// returns them over the sampler's whole life, and the caller tells a
// point's result under its number k. A point that was asked and not told
// yet is pending; Pending lists them. Points may be told in any order,
// each once, and a sampler's state after a set of points was told does not
// depend on the order of the tells: that is what lets a driver that was
// killed tell the same results again, in its own order, and continue
// exactly.
//
// n is how many points the caller would like (the workers it has free).
// Samplers whose generation size is free (TPE, GP, random, Sobol) return n
// points; population methods (CMA-ES, GA, DE, PSO) return the rest of
// their current generation whatever n is, and answer ErrPending while
// points of it are pending, because they update only from whole
// generations. A sampler that can propose while points are pending (TPE,
// with a constant liar; GP, with kriging believers) does so; whether the caller asks it then, or waits
// until nothing is pending, is the caller's choice, and only the second is
// independent of the order in which results come back.
//
// # Results
//
// A Result is a value to be minimised (a caller that maximises tells the
// negated value), marked as pruned when the evaluation was stopped early;
// NaN or an infinite value is a failure. Samplers rank results with
// Compare, the one ranking rule of goalsearch: complete results by value,
// then pruned ones by how far they got and then by value, then failures.
package asktell

import (
	"cmp"
	"errors"
	"math"
)

// Sampler is the ask/tell protocol (see the package documentation).
type Sampler interface {
	// Ask proposes the next points. n ≥ 1 is how many the caller would
	// like; the sampler returns at least one, or an error: ErrPending if
	// it needs the results of pending points first, ErrDone if it will
	// propose nothing more. The points are the caller's.
	Ask(n int) ([][]float64, error)
	// Tell gives the result of pending point k. It returns an error
	// wrapping ErrProtocol, and changes nothing, if k is not pending.
	Tell(k int, r Result) error
	// Pending returns the numbers of the points asked and not told, in
	// ascending order; nil if none. A sampler that learns nothing (random,
	// Sobol) has no pending points, and Tell is never needed.
	Pending() []int
}

// A WarmStarter takes points it did not propose — goals a user enqueued
// because they are known to be good — as pending points, numbered on like
// asked ones, so that their results, told like any other, inform what it
// proposes next. Enqueue returns the number of the first of them.
// Model-based samplers (TPE) are warm starters; population methods, whose
// generations are their own, are not.
type WarmStarter interface {
	Enqueue(xs [][]float64) (first int, err error)
}

// Result is what an evaluation of a point gave.
type Result struct {
	// Value is to be minimised. NaN or ±Inf means that the evaluation
	// failed (a diverged training run), which ranks below every value.
	Value float64
	// Pruned marks an evaluation stopped early, after Step steps (epochs)
	// of its budget; Value is then its last reported value, which is
	// comparable only with other values at the same step.
	Pruned bool
	Step   int
	// Values are the further objectives of a multi-objective study (the
	// goal's complexity), also minimised, in the study's order; nil for a
	// single objective. Single-objective samplers ignore them; a
	// multi-objective sampler (NSGA-II) ranks points by [Value, Values...]
	// under Pareto dominance. A failure's Values mean nothing.
	Values []float64
}

// Failed reports whether r is a failure.
func (r Result) Failed() bool { return math.IsNaN(r.Value) || math.IsInf(r.Value, 0) }

// Compare ranks two results: it returns a negative number if a is better
// than b, a positive one if it is worse, and 0 if they rank equal.
//
// Complete results rank first, by Value. Pruned results follow, those
// stopped at a later step first and, at the same step, by Value; this is
// the rule Optuna's TPE sampler documents for pruned trials, and it is what
// a successive-halving pruner means: a trial it stopped at a rung was worse
// than the trials it let through that rung. Failures rank last, equal to
// each other. Callers break ties by point number, so that rankings are
// deterministic.
func Compare(a, b Result) int {
	if fa, fb := a.Failed(), b.Failed(); fa || fb {
		switch {
		case fa && fb:
			return 0
		case fa:
			return 1
		}
		return -1
	}
	if a.Pruned != b.Pruned {
		if a.Pruned {
			return 1
		}
		return -1
	}
	if a.Pruned && a.Step != b.Step {
		return cmp.Compare(b.Step, a.Step)
	}
	return cmp.Compare(a.Value, b.Value)
}

// Errors of the protocol. Samplers return errors that wrap them.
var (
	// ErrDone: the sampler will propose no more points.
	ErrDone = errors.New("sampler is done")
	// ErrPending: the sampler proposes more only once pending points are
	// told (a population method in the middle of a generation).
	ErrPending = errors.New("sampler waits for the results of pending points")
	// ErrProtocol: Ask with n < 1, or Tell of a point that is not pending.
	ErrProtocol = errors.New("ask/tell out of turn")
	// ErrState: a state that cannot be restored into this sampler: another
	// version, sampler, box, configuration or seed, or an inconsistent one.
	ErrState = errors.New("sampler state does not match")
)
