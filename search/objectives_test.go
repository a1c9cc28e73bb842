package search

import (
	"strings"
	"testing"

	"goalsearch/store"
)

func TestParseObjectives(t *testing.T) {
	for spec, want := range map[string]string{"accuracy": "", "accuracy,nonzero": "nonzero", " accuracy , l1 ": "l1"} {
		if got, err := ParseObjectives(spec); err != nil || got != want {
			t.Errorf("ParseObjectives(%q) = %q, %v; want %q", spec, got, err, want)
		}
	}
	for spec, msg := range map[string]string{"nonzero": "first objective is accuracy", "accuracy,l2": `"l2"`,
		"accuracy,nonzero,l1": "at most two", "": "first objective"} {
		if _, err := ParseObjectives(spec); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseObjectives(%q): error %v, want one containing %s", spec, err, msg)
		}
	}
}

func TestCheckObjectives(t *testing.T) {
	nz := []store.Objective{{Metric: "nonzero", Direction: store.Minimize, Grid: 0.1}}
	ok := []store.Study{
		{Sampler: store.SamplerConfig{Name: "nsga2"}, Objectives: nz},
		{Sampler: store.SamplerConfig{Name: "random"}, Objectives: nz},
		{Sampler: store.SamplerConfig{Name: "tpe"}},
	}
	for _, s := range ok {
		if err := CheckObjectives(s); err != nil {
			t.Errorf("%s with %v: %v", s.Sampler.Name, s.Objectives, err)
		}
	}
	bad := map[string]store.Study{
		"only the accuracy": {Sampler: store.SamplerConfig{Name: "nsga2"}},
		"ranks by one":      {Sampler: store.SamplerConfig{Name: "cmaes"}, Objectives: nz},
		"runs every trial":  {Sampler: store.SamplerConfig{Name: "nsga2"}, Objectives: nz, Pruner: store.PrunerConfig{Name: "asha"}},
		"grid 0":            {Sampler: store.SamplerConfig{Name: "nsga2"}, Objectives: []store.Objective{{Metric: "nonzero", Direction: store.Minimize}}},
		"is minimised":      {Sampler: store.SamplerConfig{Name: "nsga2"}, Objectives: []store.Objective{{Metric: "l1", Direction: store.Maximize, Grid: 0.1}}},
		"at most one":       {Sampler: store.SamplerConfig{Name: "nsga2"}, Objectives: append(nz, nz...)},
		"unit-norm":         {Sampler: store.SamplerConfig{Name: "nsga2"}, Objectives: nz, Space: store.SearchSpace{UnitNorm: true}},
		`complexity "l2"`:   {Sampler: store.SamplerConfig{Name: "nsga2"}, Objectives: []store.Objective{{Metric: "l2", Direction: store.Minimize, Grid: 0.1}}},
	}
	for msg, s := range bad {
		if err := CheckObjectives(s); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want one containing %q", msg, err, msg)
		}
	}
}

// TestSpaceRound: free weights go to the grid, within their bounds;
// fixed ones keep their values; grid 0 changes nothing.
func TestSpaceRound(t *testing.T) {
	sp, err := NewSpace(store.SearchSpace{Labels: []string{"a", "b", "c", "d"}, Lower: []float64{-1, -0.95, -1, -1}, Upper: []float64{1, 0.95, 1, 1},
		Fixed: map[string]float64{"d": 0.33}})
	if err != nil {
		t.Fatal(err)
	}
	got := sp.Round([]float64{0.04, 0.949, -0.66, 0.33}, 0.1)
	want := []float64{0, 0.9, -0.7, 0.33} // b: 0.949 rounds to 1 > 0.95, so 0.9
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Round = %v, want %v", got, want)
		}
	}
	if g := sp.Round([]float64{0.04, 0.5, 0.1, 0.33}, 0); g[0] != 0.04 {
		t.Fatalf("Round with grid 0 changed the goal: %v", g)
	}
	s := store.Study{Objectives: []store.Objective{{Metric: "nonzero", Grid: 0.1}}}
	if v := objectiveValues(s, got); len(v) != 1 || v[0] != 3 {
		t.Fatalf("objectiveValues = %v, want [3]", v)
	}
	if v := objectiveValues(store.Study{}, got); v != nil {
		t.Fatalf("a single-objective study has values %v", v)
	}
}
