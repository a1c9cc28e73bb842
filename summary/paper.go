package summary

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"goalsearch/setups"
	"goalsearch/trainer/goals"
)

// The paper's published values are in the registry (package setups); these
// match our goals with its rows.

// presetGamma returns the gamma of preset name for setup (for the feedback
// variant, context-lateral's), nil if none.
func presetGamma(setup, name string) []float64 {
	if p, ok := goals.Lookup(name, setup); ok {
		return p.Gamma
	}
	return nil
}

// isHeuristic reports whether gamma is setup's heuristic (naive) goal.
func isHeuristic(setup string, gamma []float64) bool {
	h, ok := goals.Heuristic(setup)
	return ok && slices.Equal(h.Gamma, gamma)
}

// goalKind classifies a goal for matching with the paper's rows.
func goalKind(setup, name string, gamma []float64) string {
	switch {
	case gamma == nil:
		return ""
	case isHeuristic(setup, gamma):
		return "heuristic"
	case slices.Equal(gamma, presetGamma(setup, "opt_1_100_modified")) || strings.HasSuffix(name, "opt_1_100_modified"):
		return "modified"
	}
	return "optimised"
}

// paperFor returns the paper's row for a goal trained with setup and hidden
// neurons, and its value and text for that size; ok is false when the paper
// has no such value.
func paperFor(setup, name string, gamma []float64, hidden int) (row setups.PaperResult, value float64, text string, ok bool) {
	s, _ := setups.Lookup(setup)
	kind := goalKind(setup, name, gamma)
	for _, r := range s.Paper {
		if r.Goal != kind && r.Goal != "" {
			continue
		}
		v, text, ok := r.At(hidden)
		if r.Exact && ok {
			text = strconv.FormatFloat(100*v, 'f', 2, 64) + " %" // the test value alone
		}
		return r, v, text, ok
	}
	return setups.PaperResult{}, math.NaN(), "", false
}
