package summary

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strings"

	"goalsearch/setups"
)

// A ComparisonGroup compares goals trained with the same hidden size and
// epochs: only those runs are comparable.
type ComparisonGroup struct {
	Hidden, Epochs int
	Rows           []ComparisonRow
	// Best indexes the row with the highest mean test accuracy, -1 if no
	// row has one.
	Best int
}

// A ComparisonRow is one evaluated goal, preset or baseline.
type ComparisonRow struct {
	Study string
	Setup string
	Goal  string
	// Kind is "heuristic", "optimised", "modified" or "baseline".
	Kind string
	Val  Sample
	Test Sample
	// VsHeuristic compares the test accuracies with the setup's heuristic
	// goal in the same group; nil for the heuristic itself, baselines, or
	// when the group has no heuristic for the setup.
	VsHeuristic *Difference
	// VsReference compares the test accuracies with Compare's reference
	// goal seed by seed; nil without a reference, for the reference
	// itself, or when the two share fewer than two seeds.
	VsReference *PairedDifference
	// TestBySeed is Test by run seed, for paired comparisons.
	TestBySeed map[uint64]float64
	// Paper is the paper's test accuracy for this setup, goal kind and
	// hidden size; PaperText is "" when it has none.
	Paper     float64
	PaperText string
	PaperRow  string
}

// A Difference is row minus reference, with tests of whether it is real.
type Difference struct {
	Reference   string // the reference row's study and goal
	Delta       float64
	Welch       TestResult
	MannWhitney TestResult
}

// A PairedDifference is a row minus the reference on the seeds both ran:
// evaluation runs on one seed share the data split and order, so pairing
// removes the part of the seed spread the goals have in common.
type PairedDifference struct {
	Reference string // the reference row's study and goal
	// Seeds is the number of seeds both have; Ahead the number where the
	// row's test accuracy is higher.
	Seeds, Ahead int
	// Median and Mean are of the per-seed differences.
	Median, Mean float64
	T            TestResult // paired t-test
}

// PairedBySeed compares row values a with reference values b on their common
// seeds; nil if they share fewer than two.
func PairedBySeed(a, b map[uint64]float64) *PairedDifference {
	x, y := PairBySeed(a, b)
	if len(x) < 2 {
		return nil
	}
	d := make([]float64, len(x))
	for i := range x {
		d[i] = x[i] - y[i]
	}
	p := &PairedDifference{Seeds: len(d), T: PairedT(x, y)}
	for _, v := range d {
		if v > 0 {
			p.Ahead++
		}
	}
	ds := NewSample(d)
	p.Median, p.Mean = ds.Median, ds.Mean
	return p
}

// PairBySeed returns the values of the seeds both a and b hold, in seed
// order: a sum over a map in its own order could differ in its last bit from
// run to run, and a resumed analysis must decide as the first did.
func PairBySeed(a, b map[uint64]float64) (x, y []float64) {
	for _, s := range slices.Sorted(maps.Keys(a)) {
		if w, ok := b[s]; ok {
			x, y = append(x, a[s]), append(y, w)
		}
	}
	return x, y
}

// setupRank orders setups in comparisons as the registry (and the paper)
// does: the infomorphic setups, then the baselines, then any other.
func setupRank(s string) int {
	order := setups.Names(setups.Infomorphic, setups.Baseline)
	if i := slices.Index(order, s); i >= 0 {
		return i
	}
	return len(order)
}

// Compare builds the comparison groups from the evaluate and reproduce
// studies: every goal with at least one complete run. With a reference
// goal name (a preset's full or short name, or a goal as an evaluation
// study names it), every other row of a group that holds it is compared
// with it seed by seed (VsReference).
func Compare(evals []*EvalSummary, reference string) []ComparisonGroup {
	type key struct{ hidden, epochs int }
	groups := map[key]*ComparisonGroup{}
	var keys []key
	type meta struct {
		rank, goal int
		heur       bool
	}
	metas := map[key][]meta{}
	for _, e := range evals {
		if e.Err != "" || e.Synthetic || (e.Kind != KindEvaluate && e.Kind != KindReproduce) {
			continue
		}
		k := key{e.Hidden, e.Epochs}
		g, ok := groups[k]
		if !ok {
			g = &ComparisonGroup{Hidden: e.Hidden, Epochs: e.Epochs, Best: -1}
			groups[k] = g
			keys = append(keys, k)
		}
		for _, gr := range e.Goals {
			if gr.Counts.Complete == 0 {
				continue
			}
			row := ComparisonRow{Study: e.Study, Setup: e.Setup, Goal: gr.Goal.Name, Val: gr.Val, Test: gr.Test, TestBySeed: gr.TestBySeed, Paper: math.NaN()}
			if gr.Goal.Gamma == nil {
				row.Kind = "baseline"
			} else {
				row.Kind = goalKind(e.Setup, gr.Goal.Name, gr.Goal.Gamma)
			}
			if pr, v, text, ok := paperFor(e.Setup, gr.Goal.Name, gr.Goal.Gamma, e.Hidden); ok {
				row.Paper, row.PaperText, row.PaperRow = v, text, pr.Label
			}
			g.Rows = append(g.Rows, row)
			metas[k] = append(metas[k], meta{rank: setupRank(e.Setup), goal: gr.Index, heur: gr.Heuristic})
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.hidden, b.hidden), cmp.Compare(a.epochs, b.epochs)) })
	var out []ComparisonGroup
	for _, k := range keys {
		g, ms := groups[k], metas[k]
		idx := make([]int, len(g.Rows))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			ra, rb := g.Rows[a], g.Rows[b]
			ha, hb := 1, 1
			if ms[a].heur {
				ha = 0
			}
			if ms[b].heur {
				hb = 0
			}
			return cmp.Or(cmp.Compare(ms[a].rank, ms[b].rank), cmp.Compare(ra.Setup, rb.Setup), cmp.Compare(ha, hb),
				cmp.Compare(ra.Study, rb.Study), cmp.Compare(ms[a].goal, ms[b].goal))
		})
		rows := make([]ComparisonRow, len(idx))
		for i, j := range idx {
			rows[i] = g.Rows[j]
		}
		g.Rows = rows
		for i := range g.Rows {
			r := &g.Rows[i]
			if r.Kind == "heuristic" || r.Kind == "baseline" {
				continue
			}
			// The heuristic of the same setup, from the same study if it
			// has one.
			ref := -1
			for j, h := range g.Rows {
				if h.Kind == "heuristic" && h.Setup == r.Setup && (ref < 0 || (h.Study == r.Study && g.Rows[ref].Study != r.Study)) {
					ref = j
				}
			}
			if ref < 0 {
				continue
			}
			h := g.Rows[ref]
			r.VsHeuristic = &Difference{Reference: h.Study + ": " + h.Goal, Delta: r.Test.Mean - h.Test.Mean,
				Welch: WelchT(r.Test.Values, h.Test.Values), MannWhitney: MannWhitneyU(r.Test.Values, h.Test.Values)}
		}
		if ref := referenceRow(g.Rows, reference); ref >= 0 {
			h := g.Rows[ref]
			for i := range g.Rows {
				if i != ref {
					if d := PairedBySeed(g.Rows[i].TestBySeed, h.TestBySeed); d != nil {
						d.Reference = h.Study + ": " + h.Goal
						g.Rows[i].VsReference = d
					}
				}
			}
		}
		for i, r := range g.Rows {
			if !math.IsNaN(r.Test.Mean) && (g.Best < 0 || r.Test.Mean > g.Rows[g.Best].Test.Mean) {
				g.Best = i
			}
		}
		out = append(out, *g)
	}
	return out
}

// referenceRow is the index of the row whose goal is name (the first, in
// the group's order), or -1.
func referenceRow(rows []ComparisonRow, name string) int {
	if name == "" {
		return -1
	}
	for i, r := range rows {
		if r.Is(name) {
			return i
		}
	}
	return -1
}

// Is reports whether the row's goal is named name: as the evaluation
// study names it, or, for a preset, by its short name.
func (r ComparisonRow) Is(name string) bool {
	return name != "" && (r.Goal == name || strings.TrimPrefix(r.Goal, r.Setup+"/") == name)
}
