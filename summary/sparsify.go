package summary

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// DefaultSparseTolerance is how much mean validation accuracy the sparse
// goal of a sparsification may lose against the dense goal, unless the
// study's configuration says otherwise (an Extra entry "tolerance=X"): the
// default of goalsearch analyze --tolerance too.
const DefaultSparseTolerance = 0.005

// The keys of a sparsify study's EvalConfig.Extra entries, KEY=VALUE:
// the tolerance and rounding step goalsearch analyze used, and the name of
// the sparse goal if a study names it.
const (
	ExtraTolerance = "tolerance"
	ExtraRound     = "round"
	ExtraSparse    = "sparse"
)

// ExtraEntry writes an EvalConfig.Extra entry: "tolerance=0.005".
func ExtraEntry(key string, value float64) string { return fmt.Sprintf("%s=%v", key, value) }

// The goals of a sparsify study are named as StepName and SparseName say,
// which is how the summaries find the sparse goal.
const sparsePrefix = "sparse"

// StepName names step k (from 1) of a sparsification: the goal so far with
// the weight of atom set to 0, terms non-zero weights left.
func StepName(k int, atom string, terms int) string {
	return fmt.Sprintf("step %d: %s = 0 (%d terms)", k, atom, terms)
}

// SparseName names the sparse goal of a sparsification, with terms
// non-zero weights.
func SparseName(terms int) string { return fmt.Sprintf("%s, %d terms", sparsePrefix, terms) }

// Sparsification is the greedy path from the dense goal to sparser ones.
type Sparsification struct {
	Steps []SparseStep
	// Chosen indexes the sparse goal in Steps, -1 if none; Rule says how
	// it was chosen.
	Chosen int
	Rule   string
}

// A SparseStep is one goal on the sparsification path.
type SparseStep struct {
	Goal  string
	Gamma []float64
	// Terms counts the non-zero weights; Zeroed names the weights that
	// are zero here but not in the previous step's goal.
	Terms  int
	Zeroed []string
	Val    Sample
	Test   Sample
}

// sparsification reads a sparsify study: its goals in order are the path
// from the dense goal to the sparsest (goalsearch analyze stores "best",
// then StepName for every step it tried, then the last accepted step
// rounded, SparseName). The sparse goal is the one the
// configuration names ("sparse=NAME" in Extra), else the last goal named
// "sparse...", else the sparsest whose mean validation accuracy is within
// the tolerance ("tolerance=X" in Extra, default DefaultSparseTolerance) of
// the dense goal's.
func sparsification(e EvalSummary) *Sparsification {
	sp := &Sparsification{Chosen: -1}
	var prev []float64
	for _, g := range e.Goals {
		if g.Goal.Gamma == nil {
			continue
		}
		st := SparseStep{Goal: g.Goal.Name, Gamma: g.Goal.Gamma, Val: g.Val, Test: g.Test}
		for i, w := range g.Goal.Gamma {
			if w != 0 {
				st.Terms++
			} else if i < len(prev) && prev[i] != 0 && i < len(e.Labels) {
				st.Zeroed = append(st.Zeroed, e.Labels[i])
			}
		}
		sp.Steps = append(sp.Steps, st)
		prev = g.Goal.Gamma
	}
	if len(sp.Steps) == 0 {
		return sp
	}
	tol := DefaultSparseTolerance
	for _, x := range e.Extra {
		k, v, _ := strings.Cut(x, "=")
		switch strings.TrimSpace(k) {
		case ExtraSparse:
			if i := slices.IndexFunc(sp.Steps, func(s SparseStep) bool { return s.Goal == strings.TrimSpace(v) }); i >= 0 {
				sp.Chosen, sp.Rule = i, "chosen by the analysis"
			}
		case ExtraTolerance:
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 {
				tol = f
			}
		}
	}
	if sp.Chosen >= 0 {
		return sp
	}
	for i, st := range sp.Steps {
		if i > 0 && strings.HasPrefix(st.Goal, sparsePrefix) {
			sp.Chosen, sp.Rule = i, fmt.Sprintf("the analysis's sparse goal: the last step within %.2f pp of the dense goal's validation accuracy, rounded", 100*tol)
		}
	}
	if sp.Chosen >= 0 {
		return sp
	}
	dense := sp.Steps[0].Val.Mean
	if math.IsNaN(dense) {
		return sp
	}
	for i, s := range sp.Steps {
		if math.IsNaN(s.Val.Mean) || s.Val.Mean < dense-tol {
			continue
		}
		if c := sp.Chosen; c < 0 || s.Terms < sp.Steps[c].Terms || (s.Terms == sp.Steps[c].Terms && s.Val.Mean > sp.Steps[c].Val.Mean) {
			sp.Chosen = i
		}
	}
	sp.Rule = fmt.Sprintf("the sparsest goal whose mean validation accuracy is at most %.2f pp below the dense goal's", 100*tol)
	return sp
}
