package summary

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"goalsearch/setups"
)

// Sensitivity ranks the weights of a goal by how much validation accuracy
// is lost when each is set to 0.
type Sensitivity struct {
	// Baseline is the unchanged goal: its name, weights and results.
	Baseline  string
	Gamma     []float64
	Val, Test Sample
	Rows      []SensitivityRow
	// PaperBaseline is the paper's validation accuracy of its own
	// optimised goal when the setup is the paper's sensitivity setup, NaN
	// otherwise.
	PaperBaseline float64
}

// A SensitivityRow is one weight: the goal with it set to 0, and with it
// moved by ±delta, where evaluated. Rows are in rank order.
type SensitivityRow struct {
	// Rank orders the weights by ZeroCost, 1 costing most; 0 for a weight
	// whose cost cannot be told (no zeroed run).
	Rank   int
	Atom   string
	Weight float64 // the baseline's weight
	// Zero, Plus and Minus are the variants; nil if not evaluated.
	Zero, Plus, Minus *Variant
	// Paper is the paper's validation accuracy with this weight set to 0;
	// NaN if it gives none.
	Paper float64
}

// A Variant is one changed goal of a sensitivity study.
type Variant struct {
	Goal  string
	Delta float64 // the change of the weight
	Val   Sample
	Test  Sample
	// DeltaVal is mean validation accuracy minus the baseline's.
	DeltaVal float64
	// Paired compares the variant with the baseline seed by seed.
	Paired Change
	// Compare tests the variant's validation accuracies against the
	// baseline's: paired by seed when every run has its partner (the
	// evaluation's design), else Welch's t-test.
	Compare TestResult
}

// A Change compares a variant goal with a reference goal of the same
// evaluation study over the seeds on which both completed: paired, since
// their runs on one seed share initial weights, validation split and batch
// order, which makes differences of a few tenths of a percent visible with
// few seeds.
type Change struct {
	Goal   int `json:"goal"`   // the variant's index in the study
	N      int `json:"n"`      // paired seeds
	Failed int `json:"failed"` // the variant's failed runs
	// ValMean is the variant's mean validation accuracy over the paired
	// seeds; 0 without any.
	ValMean float64 `json:"val_mean"`
	// Diff is the mean over the paired seeds of the variant's validation
	// accuracy minus the reference's; 0 without any.
	Diff float64 `json:"diff"`
	// TestMean is the variant's mean test accuracy, reported only; 0
	// without any.
	TestMean float64 `json:"test_mean"`
}

// Paired compares goal g with the reference ref over their common complete
// seeds.
func Paired(ref, g GoalResult) Change {
	c := Change{Goal: g.Index, Failed: g.Failed, TestMean: finiteOr0(g.Test.Mean)}
	vs, refs := PairBySeed(g.ValBySeed, ref.ValBySeed)
	for i, v := range vs {
		c.Diff += v - refs[i]
	}
	if c.N = len(vs); c.N > 0 {
		c.Diff /= float64(c.N)
		c.ValMean = NewSample(vs).Mean
	}
	return c
}

// ZeroCost is what setting a weight to 0 costs in validation accuracy, by
// which the weights of a goal are ranked, largest first: minus the zeroed
// variant's paired change; 0 for a weight that is 0 already; +Inf when the
// zeroed goal failed on every seed (zeroing the weight breaks training).
// ok is false when the cost cannot be told: a non-zero weight without a
// zeroed variant.
func ZeroCost(weight float64, zero *Change) (cost float64, ok bool) {
	switch {
	case zero == nil:
		return 0, weight == 0
	case zero.N == 0:
		return math.Inf(1), true
	}
	return -zero.Diff, true
}

// Rank ranks costs, largest first, ties in their given order: ranks[i] is
// 1 for the largest cost, 0 where ranked[i] is false.
func Rank(costs []float64, ranked []bool) []int {
	var idx []int
	for i := range costs {
		if ranked[i] {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(costs[b], costs[a]) })
	ranks := make([]int, len(costs))
	for r, i := range idx {
		ranks[i] = r + 1
	}
	return ranks
}

// The goals of a sensitivity study are named as ZeroedName and MovedName
// say, which is how the summaries tell a zeroed variant from a moved one.
const zeroedSuffix = " = 0"

// ZeroedName names the variant of goal base with the weight of atom set to
// 0: "best, {F}{C} = 0".
func ZeroedName(base, atom string) string { return base + ", " + atom + zeroedSuffix }

// MovedName names the variant of goal base with the weight of atom moved by
// delta: "best, {F}{C} + 0.1", "best, {F}{C} - 0.1".
func MovedName(base, atom string, delta float64) string {
	if delta < 0 {
		return fmt.Sprintf("%s, %s - %v", base, atom, -delta)
	}
	return fmt.Sprintf("%s, %s + %v", base, atom, delta)
}

// sensitivity reads a sensitivity study: the unchanged goal (the first
// without Atom) and, per weight, the goal with it set to 0 (ZeroedName) and
// moved by ±delta (MovedName).
func sensitivity(e EvalSummary) *Sensitivity {
	bi := slices.IndexFunc(e.Goals, func(g GoalResult) bool { return g.Goal.Atom == "" && g.Goal.Gamma != nil })
	if bi < 0 {
		return nil
	}
	base := e.Goals[bi]
	s := &Sensitivity{Baseline: base.Goal.Name, Gamma: base.Goal.Gamma, Val: base.Val, Test: base.Test, PaperBaseline: math.NaN()}
	setup, _ := setups.Lookup(e.Setup)
	paper := setup.Sensitivity
	if paper != nil {
		s.PaperBaseline = paper.Baseline
	}
	rows := map[string]*SensitivityRow{}
	for _, g := range e.Goals {
		i := slices.Index(e.Labels, g.Goal.Atom)
		if g.Goal.Atom == "" || i < 0 || len(g.Goal.Gamma) != len(e.Labels) || len(base.Goal.Gamma) != len(e.Labels) {
			continue
		}
		r, ok := rows[g.Goal.Atom]
		if !ok {
			r = &SensitivityRow{Atom: g.Goal.Atom, Weight: base.Goal.Gamma[i], Paper: math.NaN()}
			if paper != nil {
				if v, ok := paper.Zeroed[g.Goal.Atom]; ok {
					r.Paper = v
				}
			}
			rows[g.Goal.Atom] = r
		}
		v := &Variant{Goal: g.Goal.Name, Delta: g.Goal.Delta, Val: g.Val, Test: g.Test, DeltaVal: g.Val.Mean - base.Val.Mean, Paired: Paired(base, g)}
		v.Compare = comparePaired(g.ValBySeed, base.ValBySeed, g.Val.Values, base.Val.Values)
		switch {
		case strings.HasSuffix(strings.TrimSpace(g.Goal.Name), strings.TrimSpace(zeroedSuffix)) || (g.Goal.Gamma[i] == 0 && g.Goal.Delta == -base.Goal.Gamma[i] && g.Goal.Delta != 0):
			r.Zero = v
		case g.Goal.Delta > 0:
			r.Plus = v
		case g.Goal.Delta < 0:
			r.Minus = v
		}
	}
	var costs []float64
	var ranked []bool
	for _, l := range e.Labels {
		if r, ok := rows[l]; ok {
			var zero *Change
			if r.Zero != nil {
				zero = &r.Zero.Paired
			}
			c, ok := ZeroCost(r.Weight, zero)
			s.Rows = append(s.Rows, *r)
			costs, ranked = append(costs, c), append(ranked, ok)
		}
	}
	// Most harmful first; weights whose cost cannot be told keep label
	// order at the end.
	for i, r := range Rank(costs, ranked) {
		s.Rows[i].Rank = r
	}
	slices.SortStableFunc(s.Rows, func(a, b SensitivityRow) int {
		switch {
		case a.Rank == 0 || b.Rank == 0:
			return cmp.Compare(b.Rank, a.Rank) // ranked before unranked
		}
		return cmp.Compare(a.Rank, b.Rank)
	})
	return s
}

// comparePaired tests a against b: paired by seed (PairedT) when at least
// two seeds have both, since evaluation runs of different goals on one seed
// share initial weights and data order; else unpaired (WelchT).
func comparePaired(a, b map[uint64]float64, av, bv []float64) TestResult {
	var x, y []float64
	seeds := slices.Sorted(maps.Keys(a))
	for _, s := range seeds {
		if w, ok := b[s]; ok {
			x, y = append(x, a[s]), append(y, w)
		}
	}
	if len(x) >= 2 && len(x) == len(av) && len(y) == len(bv) {
		return PairedT(x, y)
	}
	return WelchT(av, bv)
}
