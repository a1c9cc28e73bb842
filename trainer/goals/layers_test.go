package goals

import (
	"slices"
	"strings"
	"testing"

	"goalsearch/setups"
)

// A goal per layer: K × the setup's labels, prefixed by the layer; a preset
// or one goal is given to every layer; K goals' weights are read in layer
// order. Without a goal per layer the network's goal is the setup's.
func TestNetworkGoals(t *testing.T) {
	per := setups.NetworkConfig{Setup: "context", Layers: 3, PerLayer: true}
	l, err := NetworkLabels(per)
	if err != nil || len(l) != 15 || l[0] != "h1:{F}" || l[5] != "h2:{F}" || l[14] != "h3:H_res" {
		t.Fatalf("labels %v, %v", l, err)
	}
	shared := setups.NetworkConfig{Setup: "context", Layers: 3}
	if l, _ := NetworkLabels(shared); !slices.Equal(l, []string{"{F}", "{C}", "{F}{C}", "{FC}", "H_res"}) {
		t.Errorf("a shared goal's labels %v", l)
	}
	naive, _ := Parse("naive", "context")
	for _, tc := range []struct {
		spec string
		cfg  setups.NetworkConfig
		want []float64
		err  string
	}{
		{"naive", shared, naive, ""},
		{"naive", per, slices.Repeat(naive, 3), ""},
		{"1,2,3,4,5", per, slices.Repeat([]float64{1, 2, 3, 4, 5}, 3), ""},
		{"1,2,3,4,5, 6,7,8,9,10, 11,12,13,14,15", per, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, ""},
		{"1,2,3,4,5,6,7,8,9,10", per, nil, "or, for a goal per layer of 3 layers, 15 weights"},
		{"1,2,3,4,5,6,7,8,9,10,11,12,13,14,Inf", per, nil, `weight 15 "Inf" (h3:H_res) is not a finite number`},
		{"1,2,3,4,5,6,7,8,9,10", shared, nil, "goal has 10 weights; setup context wants 5"},
	} {
		g, err := ParseNetwork(tc.spec, tc.cfg)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: %v, want an error containing %q", tc.spec, err, tc.err)
		case tc.err == "" && (err != nil || !slices.Equal(g, tc.want)):
			t.Errorf("%q: %v, %v; want %v", tc.spec, g, err, tc.want)
		}
	}
	if n := (setups.NetworkConfig{Layers: 4}).GoalLayers(); n != 1 {
		t.Errorf("a shared goal of 4 layers: GoalLayers %d, want 1", n)
	}
}
