package search

import (
	"slices"
	"testing"

	"goalsearch/setups"
)

// Every synthetic setup of the registry has its function here, and no
// function is missing from the registry.
func TestSyntheticSetups(t *testing.T) {
	var funcs []string
	for name := range syntheticFuncs {
		funcs = append(funcs, name)
	}
	slices.Sort(funcs)
	if want := slices.Sorted(slices.Values(setups.Names(setups.Synthetic))); !slices.Equal(funcs, want) {
		t.Fatalf("functions %v, registry %v", funcs, want)
	}
	for _, name := range funcs {
		if _, err := NewSynthetic(name, setups.SyntheticConfig{Dim: 2}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := NewSynthetic("context", setups.SyntheticConfig{Dim: 2}); err == nil {
		t.Error("a network setup made a synthetic objective")
	}
}
