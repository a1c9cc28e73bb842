package reports

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"goalsearch/store"
	"goalsearch/store/boltstore"
)

// TestParetoSection: a study with a complexity objective gets a Pareto
// front section, with the front's table, the picked goal (within the
// report's tolerance) and a plot that draws; a single-objective study gets
// none (the golden reports).
func TestParetoSection(t *testing.T) {
	ctx := context.Background()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	def := store.Study{
		Name:       "multi",
		Setup:      store.Setup{Name: "sphere", Config: []byte(`{"dim":3,"epochs":1}`)},
		Space:      store.SearchSpace{Labels: []string{"x1", "x2", "x3"}, Lower: []float64{-1, -1, -1}, Upper: []float64{1, 1, 1}},
		Objective:  store.Objective{Metric: "val_acc", Direction: store.Maximize},
		Objectives: []store.Objective{{Metric: "nonzero", Direction: store.Minimize, Grid: 0.1}},
		Sampler:    store.SamplerConfig{Name: "nsga2"},
	}
	if _, err := st.CreateStudy(ctx, def); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []struct {
		gamma []float64
		acc   float64
		n     float64
	}{
		{[]float64{0.3, 0.5, -1}, 0.95, 3},
		{[]float64{0.3, 0, -1}, 0.947, 2}, // within 0.005 of 0.95: picked
		{[]float64{0, 0, -1}, 0.90, 1},
		{[]float64{0.1, 0.1, 0.1}, 0.80, 3}, // dominated
	} {
		nt, err := st.EnqueueTrial(ctx, "multi", store.NewTrial{Gamma: tr.gamma})
		if err != nil {
			t.Fatal(err)
		}
		s, err := st.StartTrial(ctx, "multi", nt.Number, "w")
		if err != nil {
			t.Fatal(err)
		}
		acc := tr.acc
		if _, err := st.FinishTrial(ctx, s.Claim(), store.Result{State: store.Complete, Value: &acc, Values: []float64{tr.n}}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Collect(ctx, st, []string{"multi"}, &Options{Tolerance: 0.005})
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if _, err := WriteMarkdown(&md, r, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	for _, want := range []string{"### Pareto front", "3 of the 4 complete trials are on the front",
		"Picked: trial 1, the sparsest goal", "| 1 | 2 | **0.947** | x1 +0.3, x3 -1 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	found := false
	for _, f := range layout(r).figures() {
		if f.id == "s1-front" {
			found = true
			if _, err := drawSVG(f); err != nil {
				t.Errorf("front plot: %v", err)
			}
		}
	}
	if !found {
		t.Error("no front plot")
	}
	// A tighter tolerance picks the most accurate goal.
	r, _ = Collect(ctx, st, []string{"multi"}, &Options{Tolerance: 0.001})
	if p := r.Sections[0].Search.Pareto.Picked; p == nil || p.Trial != 0 {
		t.Fatalf("tolerance 0.001 picked %+v, want trial 0", p)
	}
}
