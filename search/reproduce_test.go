package search

import (
	"slices"
	"testing"

	"goalsearch/setups"
	"goalsearch/summary"
)

func TestReproducePlans(t *testing.T) {
	plans, err := ReproducePlans([]int{50, 100}, 2, setups.NetworkConfig{Epochs: 5, Data: "d"})
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 12 {
		t.Fatalf("%d plans, want 6 setups × 2 sizes", len(plans))
	}
	want := map[string][]string{
		"presets/reproduce/context/h50":                  {"context/naive", "context/opt_1_100"},
		"presets/reproduce/lateral/h50":                  {"lateral/naive", "lateral/opt_1_100"},
		"presets/reproduce/context-lateral/h50":          {"context-lateral/naive", "context-lateral/opt_1_100_tpe", "context-lateral/opt_1_100_modified"},
		"presets/reproduce/context-lateral-feedback/h50": {"context-lateral/naive", "context-lateral/opt_1_100_tpe"},
		"presets/reproduce/random-projection/h50":        {"random-projection"},
		"presets/reproduce/backprop/h50":                 {"backprop"},
	}
	for _, p := range plans[:6] {
		s, err := summary.EvalStudy(p.Config, p.Labels)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, g := range p.Config.Goals {
			names = append(names, g.Name)
			if (g.Gamma == nil) != (p.Labels == nil) || (g.Gamma != nil && len(g.Gamma) != len(p.Labels)) {
				t.Errorf("%s: goal %s has %d weights for %d labels", s.Name, g.Name, len(g.Gamma), len(p.Labels))
			}
		}
		if !slices.Equal(names, want[s.Name]) || p.Config.Epochs != 5 || !slices.Equal(p.Config.Seeds, EvalSeeds(2, nil)) {
			t.Errorf("%s: goals %v, epochs %d", s.Name, names, p.Config.Epochs)
		}
	}
	if plans[6].Config.Hidden != 100 || string(plans[0].SetupConfig) != `{"setup":"context","hidden":50,"epochs":5,"data":"d"}` {
		t.Errorf("plan 6 hidden %d, setup %s", plans[6].Config.Hidden, plans[0].SetupConfig)
	}
}
