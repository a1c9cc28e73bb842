package summary

import (
	"strings"
	"testing"
)

// Without the analysis's "sparse" goal, the sparse goal is the sparsest
// within the tolerance; "sparse=NAME" in Extra overrides both.
func TestSparsificationRules(t *testing.T) {
	step := func(name string, gamma []float64, val ...float64) GoalResult {
		return GoalResult{Goal: EvalGoal{Name: name, Gamma: gamma}, Val: NewSample(val), Test: NewSample(val)}
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

// A path stored with the analysis's names and Extra entries: its sparse
// goal is found by its name, and the tolerance read back.
func TestSparsificationReadsNames(t *testing.T) {
	step := func(name string, gamma []float64, val ...float64) GoalResult {
		return GoalResult{Goal: EvalGoal{Name: name, Gamma: gamma}, Val: NewSample(val), Test: NewSample(val)}
	}
	if SparseName(1) != "sparse, 1 terms" || StepName(2, "b", 1) != "step 2: b = 0 (1 terms)" || ExtraEntry(ExtraTolerance, 0.004) != "tolerance=0.004" {
		t.Fatalf("names %q %q %q", SparseName(1), StepName(2, "b", 1), ExtraEntry(ExtraTolerance, 0.004))
	}
	e := EvalSummary{Labels: []string{"a", "b"}, Extra: []string{ExtraEntry(ExtraTolerance, 0.004), ExtraEntry(ExtraRound, 0.1)}, Goals: []GoalResult{
		step("best", []float64{0.93, 0.42}, 0.95),
		step(StepName(1, "b", 1), []float64{0.93, 0}, 0.949),
		step(SparseName(1), []float64{0.9, 0}, 0.948),
	}}
	sp := sparsification(e)
	if sp.Chosen != 2 || !strings.Contains(sp.Rule, "0.40 pp") || strings.Join(sp.Steps[1].Zeroed, " ") != "b" {
		t.Errorf("chosen %d (%s), zeroed %v", sp.Chosen, sp.Rule, sp.Steps[1].Zeroed)
	}
}
