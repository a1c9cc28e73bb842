package summary

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"goalsearch/store"
)

// trialsOf makes complete trials with the given goals and values f(goal).
func trialsOf(gammas [][]float64, f func([]float64) float64) []store.Trial {
	var ts []store.Trial
	for i, g := range gammas {
		v := f(g)
		ts = append(ts, store.Trial{Number: i, State: store.Complete, Gamma: g, Value: &v})
	}
	return ts
}

// A value that depends on x1 strongly, on x2 weakly and on x3 not at all is
// ranked so, with x3's share near 0 and the fixed x4 left out; a pruned or
// failed trial does not count.
func TestImportanceRanksWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var gs [][]float64
	for range 200 {
		gs = append(gs, []float64{r.Float64()*2 - 1, r.Float64()*2 - 1, r.Float64()*2 - 1, 0})
	}
	ts := trialsOf(gs, func(g []float64) float64 { return 3*g[0]*g[0] - 0.5*g[1] + 0.05*r.NormFloat64() })
	ts = append(ts, store.Trial{Number: 200, State: store.Pruned, Gamma: []float64{0, 0, 0, 0}, Value: new(float64)},
		store.Trial{Number: 201, State: store.Failed, Gamma: []float64{0, 0, 0, 0}})
	study := store.Study{Space: store.SearchSpace{Labels: []string{"x1", "x2", "x3", "x4"}, Fixed: map[string]float64{"x4": 0}}}
	imp := StudyImportance(study, ts)
	if imp.Trials != 200 || imp.Bins != 10 || len(imp.Rows) != 3 {
		t.Fatalf("trials %d bins %d rows %d, want 200, 10, 3", imp.Trials, imp.Bins, len(imp.Rows))
	}
	if imp.Rows[0].Label != "x1" || imp.Rows[1].Label != "x2" || imp.Rows[2].Label != "x3" {
		t.Fatalf("order %v", imp.Rows)
	}
	// x1's quadratic effect: Var(3 x^2) = 9 * 4/45 = 0.8, x2's linear one
	// Var(0.5 x) = 0.25/3 ≈ 0.083, so about 0.9 and 0.09 of the variance;
	// binning loses a little of each.
	if s := imp.Rows[0].Share; s < 0.75 || s > 0.95 {
		t.Errorf("x1 share %.3f, want about 0.9", s)
	}
	if s := imp.Rows[1].Share; s < 0.03 || s > 0.15 {
		t.Errorf("x2 share %.3f, want about 0.09", s)
	}
	if s := imp.Rows[2].Share; s > 0.03 {
		t.Errorf("x3 share %.3f, want about 0 (it does not matter)", s)
	}
	if rho := imp.Rows[1].Spearman; rho > -0.1 {
		t.Errorf("x2 Spearman %.3f, want negative (the value falls with x2)", rho)
	}
	sum := 0.0
	for _, row := range imp.Rows {
		sum += row.Normalized
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("normalized shares sum to %v, want 1", sum)
	}
}

func TestImportanceEdgeCases(t *testing.T) {
	study := store.Study{Space: store.SearchSpace{Labels: []string{"a", "b"}}}
	few := trialsOf([][]float64{{0, 1}, {1, 0}, {0.5, 0.5}}, func(g []float64) float64 { return g[0] })
	if imp := StudyImportance(study, few); imp.Trials != 3 || imp.Rows != nil {
		t.Errorf("3 trials: %+v, want no rows", imp)
	}
	var gs [][]float64
	for i := range 20 {
		gs = append(gs, []float64{float64(i), 1})
	}
	// A constant value: nothing to explain; a constant weight explains
	// nothing.
	imp := StudyImportance(study, trialsOf(gs, func([]float64) float64 { return 0.5 }))
	for _, row := range imp.Rows {
		if row.Share != 0 || row.Normalized != 0 {
			t.Errorf("constant value: %+v, want 0 shares", row)
		}
	}
	imp = StudyImportance(study, trialsOf(gs, func(g []float64) float64 { return g[0] }))
	if imp.Rows[0].Label != "a" || imp.Rows[0].Share < 0.8 || imp.Rows[1].Share != 0 || !math.IsNaN(imp.Rows[1].Spearman) {
		t.Errorf("value = a: %+v", imp.Rows)
	}
}

// A hyperparameter searched beside the goal gets its own row: a
// categorical one that drives the value ranks first, without a direction;
// a log-float one that does not matter is about 0; a trial without the
// study's hyperparameters does not count.
func TestImportanceOfHyperparameters(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var ts []store.Trial
	for i := range 120 {
		g := []float64{r.Float64()*2 - 1, r.Float64()*2 - 1}
		bins, lr := float64(r.IntN(3)), math.Exp(r.Float64()*4-9)
		v := []float64{0.9, 0.5, 0.7}[int(bins)] + 0.1*g[0] + 0.01*r.NormFloat64()
		ts = append(ts, store.Trial{Number: i, State: store.Complete, Gamma: g, Params: []float64{bins, lr}, Value: &v})
	}
	v := 1.0
	ts = append(ts, store.Trial{Number: 120, State: store.Complete, Gamma: []float64{0, 0}, Value: &v})
	study := store.Study{Space: store.SearchSpace{Labels: []string{"a", "b"}, Params: []store.Param{
		{Key: "network.hidden_layer.binning.bins", Type: store.Categorical, Choices: []json.RawMessage{json.RawMessage("10"), json.RawMessage("20"), json.RawMessage("40")}},
		{Key: "network.hidden_layer.adam.lr", Type: store.LogFloat, Lower: math.Exp(-9), Upper: math.Exp(-5)},
	}}}
	imp := StudyImportance(study, ts)
	if imp.Trials != 120 || len(imp.Rows) != 4 {
		t.Fatalf("trials %d rows %d, want 120 and 4 (2 weights, 2 hyperparameters)", imp.Trials, len(imp.Rows))
	}
	top := imp.Rows[0]
	if top.Label != "network.hidden_layer.binning.bins" || !top.Param || top.Index != 2 || top.Share < 0.7 || !math.IsNaN(top.Spearman) {
		t.Errorf("first row %+v, want the categorical bins, share > 0.7, no direction", top)
	}
	for _, row := range imp.Rows {
		if row.Label == "network.hidden_layer.adam.lr" && (row.Share > 0.05 || !row.Param || row.Index != 3 || math.IsNaN(row.Spearman)) {
			t.Errorf("lr %+v, want share about 0 with a rank correlation", row)
		}
	}
}
