package experiment

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// network.layers and network.goal_per_layer: a goal per layer multiplies
// the space by the layers, labelled and fixed per layer; one shared goal
// keeps the one-layer space; layers 1 stores the configuration of no
// layers key at all; bad values name their key.
func TestLayersKeys(t *testing.T) {
	r := resolve(t, "study: s\nnetwork: {setup: context-lateral, layers: 3, goal_per_layer: true}\nenqueue: [context-lateral/naive]\n")
	sp := r.Study.Space
	if sp.Dim() != 57 || sp.Labels[19] != "h2:{F}{C}{L}" || sp.Labels[56] != "h3:H_res" {
		t.Fatalf("labels %v", sp.Labels)
	}
	if len(sp.Fixed) != 3 || sp.Fixed["h1:H_res"] != 0 || sp.Fixed["h3:H_res"] != 0 {
		t.Errorf("fixed %v, want every layer's H_res", sp.Fixed)
	}
	if got := string(r.Study.Setup.Config); got != `{"setup":"context-lateral","hidden":100,"layers":3,"goal_per_layer":true,"epochs":100}` {
		t.Errorf("stored config %s", got)
	}
	if len(r.Known) != 1 || len(r.Known[0].Gamma) != 57 || r.Known[0].Gamma[7] != r.Known[0].Gamma[19+7] {
		t.Errorf("the enqueued preset is not given to every layer: %+v", r.Known)
	}
	// Fixing one layer's weight keeps the others free (the default fixes
	// only when no entry fixes a goal weight, as before layers).
	r = resolve(t, "study: s\nnetwork: {setup: context-lateral, layers: 2, goal_per_layer: true}\nspace: {entries: [{goal: 'h2:{F}', fixed: 0.5}]}\n")
	if len(r.Study.Space.Fixed) != 1 || r.Study.Space.Fixed["h2:{F}"] != 0.5 {
		t.Errorf("fixed %v", r.Study.Space.Fixed)
	}

	shared := resolve(t, "study: s\nnetwork: {setup: context-lateral, layers: 2}\n")
	if shared.Study.Space.Dim() != 19 || shared.Study.Space.Fixed["H_res"] != 0 {
		t.Errorf("a shared goal's space %+v", shared.Study.Space)
	}
	one := resolve(t, "study: s\nnetwork: {setup: context-lateral, layers: 1}\n")
	none := resolve(t, "study: s\nnetwork: {setup: context-lateral}\n")
	if a, b := string(one.Study.Setup.Config), string(none.Study.Setup.Config); a != b {
		t.Errorf("layers 1 stores %s, no layers %s", a, b)
	}
	x, _ := json.Marshal(one.Study.Space)
	y, _ := json.Marshal(none.Study.Space)
	if string(x) != string(y) {
		t.Errorf("layers 1 space %s, no layers %s", x, y)
	}

	for _, tc := range []struct{ file, path, msg string }{
		{"network: {setup: context, layers: -1}", "network.layers", "-1; want 1 to 16"},
		{"network: {setup: context, layers: 17}", "network.layers", "17; want 1 to 16"},
		{"network: {setup: context, goal_per_layer: true}", "network.goal_per_layer", "needs network.layers of 2 or more"},
		{"network: {setup: context, layers: 1, goal_per_layer: true}", "network.goal_per_layer", "true with 1 hidden layer"},
		{"network: {setup: context, layers: 2, goal_per_layer: true}\nenqueue: ['1,2,3']", "enqueue.0", "for a goal per layer of 2 layers, 10 weights"},
	} {
		e, err := Load([]byte("study: s\n"+tc.file+"\n"), nil)
		if err == nil {
			_, err = Resolve(e)
		}
		var pe *PathError
		if !errors.As(err, &pe) || pe.Path != tc.path || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want an error at %s containing %q", tc.file, err, tc.path, tc.msg)
		}
	}
}
