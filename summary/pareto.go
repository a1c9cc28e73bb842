package summary

import (
	"fmt"
	"slices"
	"strings"

	"goalsearch/internal/pareto"
	"goalsearch/store"
)

// DefaultFrontTolerance is how far below the front's best validation
// accuracy the picked goal may be: 0.005, half a percentage point, about
// the spread of one goal's accuracy over seeds at 100 neurons.
const DefaultFrontTolerance = 0.005

// ParetoFront is a multi-objective study's Pareto front: its complete
// trials that no other beats in both validation accuracy and complexity,
// and the goal picked from it. The front is computed by package
// internal/pareto, the one the NSGA-II sampler ranks with.
type ParetoFront struct {
	// Complexity names the second objective (nonzero, l1) and Grid the
	// step the goals were rounded to.
	Complexity string  `json:"complexity"`
	Grid       float64 `json:"grid"`
	// Points are the front, sparsest first.
	Points []FrontPoint `json:"points"`
	// BestAccuracy is the best validation accuracy on the front (of the
	// study); Tolerance the distance the pick may fall below it.
	BestAccuracy float64 `json:"best_accuracy"`
	Tolerance    float64 `json:"tolerance"`
	// Picked is the sparsest point within Tolerance of BestAccuracy.
	Picked *FrontPoint `json:"picked,omitempty"`
	// Complete counts the complete trials the front was computed from;
	// Cloud holds them all (without goals), for plots.
	Complete int          `json:"complete"`
	Cloud    []FrontPoint `json:"-"`
}

// A FrontPoint is one trial on the front.
type FrontPoint struct {
	Trial      int       `json:"trial"`
	Accuracy   float64   `json:"val_acc"`
	Complexity float64   `json:"complexity"`
	Gamma      []float64 `json:"gamma"`
}

// Front returns the Pareto front of a study with a complexity objective,
// picking with tolerance; nil for a single-objective study. Only complete
// trials count: a pruned or failed one has no final accuracy.
func Front(study store.Study, trials []store.Trial, tolerance float64) *ParetoFront {
	if len(study.Objectives) == 0 {
		return nil
	}
	o := study.Objectives[0]
	f := &ParetoFront{Complexity: o.Metric, Grid: o.Grid, Tolerance: tolerance}
	var ps []pareto.Point
	gammas := map[int][]float64{}
	for _, t := range trials {
		if t.State != store.Complete || t.Value == nil || len(t.Values) == 0 {
			continue
		}
		f.Complete++
		ps = append(ps, pareto.Point{Trial: t.Number, Accuracy: *t.Value, Complexity: t.Values[0]})
		f.Cloud = append(f.Cloud, FrontPoint{Trial: t.Number, Accuracy: *t.Value, Complexity: t.Values[0]})
		gammas[t.Number] = t.Gamma
	}
	front := pareto.Front(ps)
	for _, p := range front {
		f.Points = append(f.Points, FrontPoint{Trial: p.Trial, Accuracy: p.Accuracy, Complexity: p.Complexity, Gamma: slices.Clone(gammas[p.Trial])})
		if len(f.Points) == 1 || p.Accuracy > f.BestAccuracy {
			f.BestAccuracy = p.Accuracy
		}
	}
	if p, ok := pareto.Pick(front, tolerance); ok {
		for i := range f.Points {
			if f.Points[i].Trial == p.Trial {
				pp := f.Points[i]
				f.Picked = &pp
			}
		}
	}
	return f
}

// ComplexityName is how tables head a complexity: "nonzero weights" or
// "L1 norm", with the grid.
func (f *ParetoFront) ComplexityName() string {
	name := "nonzero weights"
	if f.Complexity == pareto.L1 {
		name = "L1 norm"
	}
	return fmt.Sprintf("%s (grid %g)", name, f.Grid)
}

// FormatComplexity writes a complexity value: an integer count, or an L1
// norm with two decimals.
func (f *ParetoFront) FormatComplexity(v float64) string {
	if f.Complexity == pareto.NonZero {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// Terms writes a goal's nonzero weights as "label +w", in goal order.
func Terms(labels []string, gamma []float64) string {
	var parts []string
	for i, v := range gamma {
		if v != 0 && i < len(labels) {
			parts = append(parts, fmt.Sprintf("%s %+g", labels[i], v))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
