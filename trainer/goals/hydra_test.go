package goals

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The reference's own goal configs read as the presets they are.
func TestReadReferenceHydra(t *testing.T) {
	cases := []struct{ file, setup, preset string }{
		{"testdata/hydra_context_naive.yaml", "context", "context/naive"},
		{"testdata/hydra_context_lateral_opt_1_100_tpe.yaml", "context-lateral", "context-lateral/opt_1_100_tpe"},
	}
	for _, c := range cases {
		g, err := Parse(c.file, c.setup)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		p, _ := Lookup(c.preset, c.setup)
		if !slices.Equal(g, p.Gamma) {
			t.Errorf("%s: %v, want the preset %s %v", c.file, g, c.preset, p.Gamma)
		}
	}
	// A goal of the wrong setup and a sweep config are refused by name.
	if _, err := Parse("testdata/hydra_context_naive.yaml", "context-lateral"); err == nil || !strings.Contains(err.Error(), "layer_params.hidden_layer1.gamma") {
		t.Errorf("5 weights for a trivariate setup: %v", err)
	}
	if _, err := Parse("testdata/hydra_context_sweep.yaml", "context"); err == nil || !strings.Contains(err.Error(), "${g.r}") {
		t.Errorf("sweep config: %v", err)
	}
}

// Every preset written as a Hydra config reads back bit for bit.
func TestHydraRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, p := range Presets() {
		b, err := Hydra(p.Name, p.Setup, p.Gamma)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "# @package _global_\n") || !strings.Contains(string(b), "goal_type: "+p.Name) {
			t.Fatalf("%s:\n%s", p.FullName(), b)
		}
		path := filepath.Join(dir, strings.ReplaceAll(p.FullName(), "/", "_")+".yaml")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		g, err := Parse(path, p.Setup)
		if err != nil {
			t.Fatalf("%s: %v\n%s", p.FullName(), err, b)
		}
		if !slices.EqualFunc(g, p.Gamma, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) {
			t.Fatalf("%s: read back %v, wrote %v", p.FullName(), g, p.Gamma)
		}
	}
	// The reference's naive file and ours hold the same document but for
	// comments.
	ours, _ := Hydra("naive", "context", []float64{0, 0, 1, 0, 0})
	if !strings.Contains(string(ours), "- 1.0                    # {F}{C} {1}{2}") {
		t.Fatalf("comments:\n%s", ours)
	}
}
