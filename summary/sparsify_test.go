package summary

import (
	"strings"
	"testing"
)

// Without the analysis's "sparse" goal, the sparse goal is the sparsest
// within the tolerance; "sparse=NAME" in Extra overrides both.
func TestSparsificationRules(t *testing.T) {
	step := func(name string, gamma []float64, val ...float64) GoalResult {
		return GoalResult{Name: name, Gamma: gamma, Val: NewSample(val), Test: NewSample(val)}
	}
	e := EvalSummary{Labels: []string{"a", "b", "c"}, Extra: []string{"tolerance=0.01"}, Goals: []GoalResult{
		step("dense", []float64{1, 1, 1}, 0.95, 0.95),
		step("two", []float64{1, 0, 1}, 0.945, 0.945),
		step("one", []float64{1, 0, 0}, 0.93, 0.93),
	}}
	sp := sparsification(e)
	if sp.Chosen != 1 || !strings.Contains(sp.Rule, "1.00 pp") || strings.Join(sp.Steps[2].Zeroed, " ") != "c" {
		t.Errorf("tolerance rule: chosen %d (%s), zeroed %v", sp.Chosen, sp.Rule, sp.Steps[2].Zeroed)
	}
	e.Extra = append(e.Extra, "sparse=one")
	if sp := sparsification(e); sp.Chosen != 2 {
		t.Errorf("sparse=one: chosen %d", sp.Chosen)
	}
}
