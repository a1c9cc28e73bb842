package search

import (
	"fmt"
	"slices"
	"strings"

	"goalsearch/internal/pareto"
	"goalsearch/store"
)

// Multi-objective studies (docs/pareto.md). A study's first objective is
// always the validation accuracy; a second one, minimised, may be the
// goal's complexity: the number of its weights that are nonzero once
// rounded to a grid, or their L1 norm. With one, every proposed goal is
// rounded to the grid before it is trained (Space.Round), so that what a
// trial scores is the goal it reports, and its complexity goes into the
// trial's Values.

// ObjectiveNames are the names --objectives accepts: accuracy first, then
// one complexity.
var ObjectiveNames = append([]string{"accuracy"}, pareto.Complexities...)

// multiObjectiveSamplers may search a study with a second objective:
// NSGA-II ranks by both, random and Sobol learn nothing. The others rank
// by one value and would silently ignore the second.
var multiObjectiveSamplers = map[string]bool{"nsga2": true, "random": true, "sobol": true}

// ParseObjectives parses --objectives: "accuracy" or "accuracy,C" for a
// complexity C (nonzero, l1). It returns the complexity, "" for accuracy
// alone.
func ParseObjectives(spec string) (string, error) {
	parts := strings.Split(spec, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	switch {
	case len(parts) == 0 || parts[0] != "accuracy":
		return "", fmt.Errorf("objectives %q: the first objective is accuracy (the validation accuracy, maximised); want accuracy or accuracy,%s", spec, strings.Join(pareto.Complexities, " or accuracy,"))
	case len(parts) == 1:
		return "", nil
	case len(parts) > 2:
		return "", fmt.Errorf("objectives %q: at most two objectives, accuracy and one of %s", spec, strings.Join(pareto.Complexities, ", "))
	case !slices.Contains(pareto.Complexities, parts[1]):
		return "", fmt.Errorf("objectives %q: unknown objective %q; the second objective is one of %s", spec, parts[1], strings.Join(pareto.Complexities, ", "))
	}
	return parts[1], nil
}

// CheckObjectives checks a study's further objectives against the rest of
// its definition: at most one, a complexity with a positive grid; NSGA-II
// needs one, and a study with one needs a sampler that searches two
// objectives and no pruner.
func CheckObjectives(s store.Study) error {
	switch {
	case len(s.Objectives) > 1:
		return fmt.Errorf("%d further objectives: at most one (a complexity) beside the accuracy", len(s.Objectives))
	case len(s.Objectives) == 0 && s.Sampler.Name == "nsga2":
		return fmt.Errorf("sampler nsga2 is multi-objective and the study has only the accuracy: give --objectives accuracy,nonzero (or accuracy,l1), or use a single-objective sampler")
	case len(s.Objectives) == 0:
		return nil
	}
	o := s.Objectives[0]
	if _, err := pareto.Complexity(o.Metric, o.Grid, nil); err != nil {
		return fmt.Errorf("objective %s: %v", o.Metric, err)
	}
	if o.Direction != store.Minimize {
		return fmt.Errorf("objective %s is minimised, not %s", o.Metric, o.Direction)
	}
	if !multiObjectiveSamplers[s.Sampler.Name] {
		return fmt.Errorf("sampler %s ranks by one objective and would ignore %s: use nsga2 (or random, sobol)", s.Sampler.Name, o.Metric)
	}
	if s.Pruner.Name != "" && s.Pruner.Name != "none" {
		return fmt.Errorf("pruner %s: a multi-objective study runs every trial to the end (NSGA-II compares complete trials); use no pruner", s.Pruner.Name)
	}
	if s.Space.UnitNorm {
		return fmt.Errorf("unit-norm with objective %s: a goal scaled to norm 1 after rounding is off the grid again; search the box", o.Metric)
	}
	return nil
}

// goalGrid is the grid the study's goals are rounded to, 0 for none.
func goalGrid(s store.Study) float64 {
	if len(s.Objectives) == 0 {
		return 0
	}
	return s.Objectives[0].Grid
}

// objectiveValues returns a finished trial's further objective values
// (nil for a single-objective study).
func objectiveValues(s store.Study, gamma []float64) []float64 {
	if len(s.Objectives) == 0 {
		return nil
	}
	out := make([]float64, len(s.Objectives))
	for i, o := range s.Objectives {
		v, err := pareto.Complexity(o.Metric, o.Grid, gamma)
		if err != nil {
			// CheckObjectives refused such a study when it was created.
			panic("search: " + err.Error())
		}
		out[i] = v
	}
	return out
}

// Round returns gamma with its free weights rounded to multiples of grid
// (grid 0: gamma unchanged), each kept within its bounds: a weight that
// rounds past a bound takes the grid point next to it inside. Fixed
// weights keep their values.
func (sp *Space) Round(gamma []float64, grid float64) []float64 {
	if grid == 0 {
		return gamma
	}
	g := slices.Clone(gamma)
	for _, i := range sp.free {
		r := pareto.Round(g[i], grid)
		if r > sp.Upper[i] {
			r = pareto.Round(r-grid, grid)
		}
		if r < sp.Lower[i] {
			r = pareto.Round(r+grid, grid)
		}
		g[i] = r
	}
	return g
}
