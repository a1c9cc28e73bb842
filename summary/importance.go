package summary

import (
	"cmp"
	"math"
	"slices"

	"goalsearch/store"
)

// ImportanceMethod names how Importance estimates a weight's importance, for
// those who print it.
const ImportanceMethod = "first-order variance share (fANOVA main effect) over equal-count bins, omega squared"

// MinImportanceTrials is the number of complete trials below which
// Importance gives no estimate: with fewer, a bin holds one or two trials
// and the share of every weight is noise.
const MinImportanceTrials = 8

// Importance says how much of the variation of a study's values each
// searched weight explains on its own: the main effect of a functional
// ANOVA (Hutter et al., ICML 2014, which Optuna's default importance
// evaluator follows), estimated from the trials alone, without a surrogate
// model. For weight i the complete trials are split into B bins of equal
// count by that weight's value (B = floor(sqrt(n)), between 2 and 10), and
// the share is omega squared of the one-way ANOVA over the bins,
//
//	(SSB - (B-1) MSW) / (SST + MSW),  MSW = SSW / (n-B),
//
// which, unlike the raw ratio SSB/SST, is about 0 for a weight that does not
// matter however few trials there are (clamped to 0 below). Shares of
// different weights need not sum to 1: interactions are left out, and
// samplers that concentrate their proposals correlate the weights.
//
// Only complete trials count: a pruned trial's value is from an earlier
// epoch, not comparable.
type Importance struct {
	// Trials is the number of complete trials with a finite value used.
	Trials int
	// Bins is B.
	Bins int
	// Rows holds one row per searched (not fixed) weight, most important
	// first, ties in label order. Empty with fewer than
	// MinImportanceTrials trials.
	Rows []ImportanceRow
}

// An ImportanceRow is one searched weight or hyperparameter.
type ImportanceRow struct {
	Label string // the weight's atom label, or the hyperparameter's key path
	// Index is the weight's coordinate in the goal vector, or, for the
	// j-th hyperparameter of the search space, the goal's length + j.
	Index int
	// Param is true for a hyperparameter.
	Param bool
	// Share is omega squared, in [0, 1].
	Share float64
	// Normalized is Share divided by the sum of the shares (0 when all are
	// 0), the scale Optuna's importance plots use.
	Normalized float64
	// Spearman is the rank correlation of the weight with the value: its
	// sign says in which direction the value improves, for a maximised
	// objective when positive. NaN for a constant weight or value, and for
	// a categorical hyperparameter, whose choices have no order.
	Spearman float64
}

// StudyImportance estimates the importance of each searched weight and
// hyperparameter of study from its trials. A hyperparameter is binned by
// its value like a weight (a log-float's bins are the same on the log
// scale, since they are by rank); a categorical one's choices, stored as
// their indices, stay in one bin each up to B choices.
func StudyImportance(study store.Study, trials []store.Trial) Importance {
	var xs [][]float64
	var ys []float64
	dim, np := study.Space.Dim(), len(study.Space.Params)
	for _, t := range trials {
		if t.State != store.Complete || t.Value == nil || !finite(*t.Value) || len(t.Gamma) != dim || len(t.Params) != np {
			continue
		}
		xs, ys = append(xs, append(slices.Clone(t.Gamma), t.Params...)), append(ys, *t.Value)
	}
	imp := Importance{Trials: len(ys)}
	if len(ys) < MinImportanceTrials {
		return imp
	}
	n := len(ys)
	imp.Bins = min(max(int(math.Sqrt(float64(n))), 2), 10)
	sum := 0.0
	for i, l := range study.Space.Labels {
		if _, fixed := study.Space.FixedAt(i); fixed {
			continue
		}
		x := make([]float64, n)
		for k := range xs {
			x[k] = xs[k][i]
		}
		r := ImportanceRow{Label: l, Index: i, Share: omegaSquared(x, ys, imp.Bins), Spearman: Spearman(x, ys)}
		sum += r.Share
		imp.Rows = append(imp.Rows, r)
	}
	for j, p := range study.Space.Params {
		x := make([]float64, n)
		for k := range xs {
			x[k] = xs[k][dim+j]
		}
		r := ImportanceRow{Label: p.Key, Index: dim + j, Param: true, Share: omegaSquared(x, ys, imp.Bins), Spearman: math.NaN()}
		if p.Type != store.Categorical {
			r.Spearman = Spearman(x, ys)
		}
		sum += r.Share
		imp.Rows = append(imp.Rows, r)
	}
	for k := range imp.Rows {
		if sum > 0 {
			imp.Rows[k].Normalized = imp.Rows[k].Share / sum
		}
	}
	slices.SortStableFunc(imp.Rows, func(a, b ImportanceRow) int { return cmp.Compare(b.Share, a.Share) })
	return imp
}

// omegaSquared is the one-way ANOVA effect size of y grouped into bins of
// equal count by the order of x; equal x values stay in one bin, so a
// weight that takes few values is not split arbitrarily.
func omegaSquared(x, y []float64, bins int) float64 {
	n := len(y)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	mean := 0.0
	for _, v := range y {
		mean += v
	}
	mean /= float64(n)
	sst := 0.0
	for _, v := range y {
		sst += (v - mean) * (v - mean)
	}
	if sst == 0 {
		return 0
	}
	ssb, groups := 0.0, 0
	for start := 0; start < n; {
		end := min(n, start+max(1, (n-start)/(bins-groups)))
		if groups == bins-1 {
			end = n
		}
		for end < n && x[idx[end]] == x[idx[end-1]] {
			end++
		}
		s := 0.0
		for _, k := range idx[start:end] {
			s += y[k]
		}
		m := s / float64(end-start)
		ssb += float64(end-start) * (m - mean) * (m - mean)
		groups++
		start = end
	}
	if groups < 2 || n <= groups {
		return 0
	}
	msw := (sst - ssb) / float64(n-groups)
	w := (ssb - float64(groups-1)*msw) / (sst + msw)
	return min(max(w, 0), 1)
}
