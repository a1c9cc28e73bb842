package summary

// Fidelity: how well a trial's validation accuracy after a few epochs
// predicts its accuracy after many — the rank correlation and the overlap
// of the best trials between an early epoch and a final one. Multi-fidelity
// search (ASHA, Hyperband) rests on it: a rung is only worth stopping trials
// at if it ranks them as the final epoch would.

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat"

	"goalsearch/store"
)

// FidelityTop is the share of trials whose overlap FidelityRung.TopOverlap
// measures: the best 10 %, rounded up.
const FidelityTop = 0.1

// A FidelityRung compares the validation accuracy at one epoch with the final one
// over the trials that reached both.
type FidelityRung struct {
	// Epoch is the early epoch.
	Epoch int
	// Trials is the number of trials with a value at both epochs.
	Trials int
	// Spearman is the rank correlation of the values at Epoch and at the
	// final epoch (ties take their mean rank); NaN with fewer than 3
	// trials or when either epoch's values are all equal.
	Spearman float64
	// TopOverlap is the fraction of the best ⌈FidelityTop·Trials⌉ trials
	// at the final epoch that are also among the best as many at Epoch.
	TopOverlap float64
	// Top is ⌈FidelityTop·Trials⌉, the size of the sets TopOverlap compares.
	Top int
}

// A Fidelity is the fidelity of one study's validation curves.
type Fidelity struct {
	// Final is the epoch every rung is compared with.
	Final int
	// Trials is the number of trials that reached Final.
	Trials int
	// Rungs holds one entry per requested epoch, in increasing order.
	Rungs []FidelityRung
}

// FirstAbove returns the first rung whose Spearman correlation with the
// final epoch is at least min, and whether there is one.
func (r Fidelity) FirstAbove(min float64) (FidelityRung, bool) {
	for _, g := range r.Rungs {
		if g.Spearman >= min {
			return g, true
		}
	}
	return FidelityRung{}, false
}

// MeasureFidelity compares the validation accuracy of trials at each of epochs
// with their accuracy at final. Only trials with a finite value at final
// count, whatever their state (a pruned trial that reached final counts);
// for each rung, only those of them with a finite value at that epoch.
// Epoch numbers follow store.EpochMetrics.Epoch (epoch 0 is the pass
// before any update). It returns an error for a final epoch below 1, an
// epoch outside [0, final), or no trial reaching final.
func MeasureFidelity(trials []store.Trial, epochs []int, final int) (Fidelity, error) {
	if final < 1 {
		return Fidelity{}, fmt.Errorf("summary: final epoch %d: want at least 1", final)
	}
	epochs = slices.Clone(epochs)
	slices.Sort(epochs)
	epochs = slices.Compact(epochs)
	for _, e := range epochs {
		if e < 0 || e >= final {
			return Fidelity{}, fmt.Errorf("summary: epoch %d: want 0 <= epoch < final epoch %d", e, final)
		}
	}
	var curves []map[int]float64
	for _, t := range trials {
		c := make(map[int]float64, len(t.Epochs))
		for _, m := range t.Epochs {
			if finite(m.ValAcc) {
				c[m.Epoch] = m.ValAcc
			}
		}
		if _, ok := c[final]; ok {
			curves = append(curves, c)
		}
	}
	if len(curves) == 0 {
		return Fidelity{}, fmt.Errorf("summary: no trial has a validation accuracy at epoch %d", final)
	}
	rep := Fidelity{Final: final, Trials: len(curves)}
	for _, e := range epochs {
		var early, late []float64
		for _, c := range curves {
			if v, ok := c[e]; ok {
				early = append(early, v)
				late = append(late, c[final])
			}
		}
		g := FidelityRung{Epoch: e, Trials: len(early), Spearman: Spearman(early, late), TopOverlap: math.NaN()}
		if len(early) > 0 {
			g.Top = int(math.Ceil(FidelityTop * float64(len(early))))
			g.TopOverlap = TopOverlap(early, late, g.Top)
		}
		rep.Rungs = append(rep.Rungs, g)
	}
	return rep, nil
}

// Spearman returns the Spearman rank correlation of x and y: the Pearson
// correlation of their ranks, ties taking the mean of the ranks they span.
// It is NaN for fewer than 3 pairs or when x or y is constant. It panics
// if x and y differ in length.
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) {
		panic("summary: Spearman of slices of different lengths")
	}
	if len(x) < 3 {
		return math.NaN()
	}
	rx, ry := Ranks(x), Ranks(y)
	if constant(rx) || constant(ry) {
		return math.NaN()
	}
	return stat.Correlation(rx, ry, nil)
}

// Ranks returns the rank of each value of x from 1 (smallest) to len(x);
// tied values get the mean of the ranks they span.
func Ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && x[idx[j]] == x[idx[i]] {
			j++
		}
		mean := float64(i+j+1) / 2 // ranks i+1 .. j
		for k := i; k < j; k++ {
			r[idx[k]] = mean
		}
		i = j
	}
	return r
}

// TopOverlap returns the fraction of the k largest values of late whose
// positions are also among the k largest of early. Ties at the k-th place
// are broken by position, so the answer is deterministic.
func TopOverlap(early, late []float64, k int) float64 {
	if len(early) != len(late) {
		panic("summary: TopOverlap of slices of different lengths")
	}
	if k <= 0 || len(early) == 0 {
		return math.NaN()
	}
	k = min(k, len(early))
	a, b := topK(early, k), topK(late, k)
	n := 0
	for i := range b {
		if a[i] {
			n++
		}
	}
	return float64(n) / float64(k)
}

// topK returns the set of positions of the k largest values of v.
func topK(v []float64, k int) map[int]bool {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] > v[idx[b]] })
	set := make(map[int]bool, k)
	for _, i := range idx[:k] {
		set[i] = true
	}
	return set
}

func constant(v []float64) bool {
	for _, x := range v[1:] {
		if x != v[0] {
			return false
		}
	}
	return true
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
