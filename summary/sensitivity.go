package summary

import (
	"cmp"
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
// moved by ±delta, where evaluated. Rows are ranked by DeltaVal of the
// zeroed goal, the most harmful first.
type SensitivityRow struct {
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
	// Test compares the variant's validation accuracies with the
	// baseline's: paired by seed when every run has its partner (the
	// evaluation's design), else Welch's t-test.
	Compare TestResult
}

// sensitivity reads a sensitivity study: the unchanged goal (the first
// without Atom) and, per weight, the goal with it set to 0 ("..., ATOM = 0")
// and moved by ±delta ("..., ATOM + 0.1", "..., ATOM - 0.1").
func sensitivity(e EvalSummary) *Sensitivity {
	bi := slices.IndexFunc(e.Goals, func(g GoalResult) bool { return g.Atom == "" && g.Gamma != nil })
	if bi < 0 {
		return nil
	}
	base := e.Goals[bi]
	s := &Sensitivity{Baseline: base.Name, Gamma: base.Gamma, Val: base.Val, Test: base.Test, PaperBaseline: math.NaN()}
	setup, _ := setups.Lookup(e.Setup)
	paper := setup.Sensitivity
	if paper != nil {
		s.PaperBaseline = paper.Baseline
	}
	rows := map[string]*SensitivityRow{}
	for _, g := range e.Goals {
		i := slices.Index(e.Labels, g.Atom)
		if g.Atom == "" || i < 0 || len(g.Gamma) != len(e.Labels) || len(base.Gamma) != len(e.Labels) {
			continue
		}
		r, ok := rows[g.Atom]
		if !ok {
			r = &SensitivityRow{Atom: g.Atom, Weight: base.Gamma[i], Paper: math.NaN()}
			if paper != nil {
				if v, ok := paper.Zeroed[g.Atom]; ok {
					r.Paper = v
				}
			}
			rows[g.Atom] = r
		}
		v := &Variant{Goal: g.Name, Delta: g.Delta, Val: g.Val, Test: g.Test, DeltaVal: g.Val.Mean - base.Val.Mean}
		v.Compare = comparePaired(g.ValBySeed, base.ValBySeed, g.Val.Values, base.Val.Values)
		switch {
		case strings.HasSuffix(strings.TrimSpace(g.Name), "= 0") || (g.Gamma[i] == 0 && g.Delta == -base.Gamma[i] && g.Delta != 0):
			r.Zero = v
		case g.Delta > 0:
			r.Plus = v
		case g.Delta < 0:
			r.Minus = v
		}
	}
	for _, l := range e.Labels {
		if r, ok := rows[l]; ok {
			s.Rows = append(s.Rows, *r)
		}
	}
	// Most harmful first; weights without a zeroed run keep label order
	// at the end.
	slices.SortStableFunc(s.Rows, func(a, b SensitivityRow) int {
		switch {
		case a.Zero == nil || math.IsNaN(a.Zero.DeltaVal):
			if b.Zero == nil || math.IsNaN(b.Zero.DeltaVal) {
				return 0
			}
			return 1
		case b.Zero == nil || math.IsNaN(b.Zero.DeltaVal):
			return -1
		}
		return cmp.Compare(a.Zero.DeltaVal, b.Zero.DeltaVal)
	})
	for i := range s.Rows {
		if s.Rows[i].Zero != nil && !math.IsNaN(s.Rows[i].Zero.DeltaVal) {
			s.Rows[i].Rank = i + 1
		}
	}
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
