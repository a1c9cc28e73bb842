package experiment

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"goalsearch/search"
	"goalsearch/store"
)

func mustOverrides(t *testing.T, kvs ...string) []Override {
	t.Helper()
	var out []Override
	for _, kv := range kvs {
		o, err := ParseOverride(kv)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

func resolve(t *testing.T, file string, kvs ...string) Resolved {
	t.Helper()
	e, err := Load([]byte(file), mustOverrides(t, kvs...))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Resolve(e)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The defaults are the paper's: a context-lateral experiment with nothing
// but its setup stores the configuration that the flags of earlier
// versions stored, so that their studies resume under the same command.
func TestDefaultsAreThePapers(t *testing.T) {
	r := resolve(t, "study: s\nnetwork: {setup: context-lateral}\n")
	if got := string(r.Study.Setup.Config); got != `{"setup":"context-lateral","hidden":100,"epochs":100}` {
		t.Errorf("stored setup config %s", got)
	}
	n := r.Experiment.Network
	if n.HiddenLayer.Binning.Kind != "fixed" || n.HiddenLayer.Binning.Bins != 20 || n.HiddenLayer.Binning.Lower != -20 ||
		n.HiddenLayer.Adam.LR != 0.002 || n.HiddenLayer.Adam.WeightDecay != 3.5e-4 || n.OutputLayer.Adam.LR != 0.003 ||
		n.OutputLayer.Binning.Kind != "adaptive" || n.HiddenLayer.Activation.C1 != 0.1 || n.Batch != 1024 || n.ValFraction != 0.2 {
		t.Errorf("resolved network %+v", n)
	}
	if v, ok := r.Study.Space.Fixed["H_res"]; !ok || v != 0 {
		t.Errorf("trivariate default: H_res fixed %v %v, want 0", v, ok)
	}
	if r.Study.Sampler.Name != "cmaes" || r.Experiment.Budget.Trials != 20 || r.Experiment.Workers != DefaultWorkers || r.Study.Seed != 1 {
		t.Errorf("search defaults: %+v", r.Experiment)
	}
	// A bivariate setup's hidden layer bins adaptively and uses Graetz.
	b := resolve(t, "network: {setup: lateral}\n").Experiment.Network
	if b.HiddenLayer.Binning.Kind != "adaptive" || b.HiddenLayer.Activation.K1 != 0.9 {
		t.Errorf("lateral network %+v %+v", b.HiddenLayer.Binning, b.HiddenLayer.Activation)
	}
}

// A layer setting given in part keeps the paper's other values.
func TestPartialLayerKeepsDefaults(t *testing.T) {
	r := resolve(t, "network: {setup: context}\n", "network.hidden_layer.adam.lr=0.01")
	a := r.Experiment.Network.HiddenLayer.Adam
	if a.LR != 0.01 || a.WeightDecay != 3.5e-4 || a.Betas != [2]float64{0.9, 0.999} {
		t.Fatalf("adam %+v", a)
	}
	if !strings.Contains(string(r.Study.Setup.Config), `"lr":0.01`) {
		t.Fatalf("stored config %s", r.Study.Setup.Config)
	}
}

// Resolving the marshalled resolved experiment gives the same study and
// the same document: what status --config relies on.
func TestResolveIsIdempotent(t *testing.T) {
	paths, _ := filepath.Glob("../docs/examples/*.yaml")
	if len(paths) < 3 {
		t.Fatalf("examples: %v", paths)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r := resolve(t, string(b))
		out, err := Marshal(r.Experiment)
		if err != nil {
			t.Fatal(err)
		}
		again := resolve(t, string(out))
		x, _ := json.Marshal(r.Study)
		y, _ := json.Marshal(again.Study)
		if string(x) != string(y) {
			t.Errorf("%s: studies differ:\n%s\n%s", p, x, y)
		}
		out2, _ := Marshal(again.Experiment)
		if string(out) != string(out2) {
			t.Errorf("%s: documents differ:\n%s\n---\n%s", p, out, out2)
		}
	}
}

// The mixed space maps to the sampler's box and back: log-floats on a log
// scale, ints rounded, choices by index.
func TestMixedSpaceBox(t *testing.T) {
	r := resolve(t, `network: {setup: context}
space:
  entries:
    - {param: network.hidden_layer.adam.lr, type: log-float, lower: 0.0001, upper: 0.01}
    - {param: network.hidden_layer.binning.bins, type: int, lower: 5, upper: 9}
    - {param: network.hidden_layer.binning.kind, type: categorical, choices: [fixed, adaptive]}
sampler: {name: random}
`)
	sp, err := search.NewSpace(r.Study.Space)
	if err != nil {
		t.Fatal(err)
	}
	box := sp.Box()
	if box.Dim() != 5+3 || box.Kinds[5] != search.Continuous || box.Kinds[6] != search.Integer || box.Kinds[7] != search.Choice {
		t.Fatalf("box %+v", box)
	}
	x := make([]float64, box.Dim())
	x[5], x[6], x[7] = -4.6, 7.4, 1.99 // exp(-4.6) ≈ 0.01005 clips to 0.01
	g, ps := sp.Trial(x)
	if len(g) != 5 || ps[0] != 0.01 || ps[1] != 7 || ps[2] != 1 {
		t.Fatalf("trial %v %v", g, ps)
	}
	back := sp.Point(g, ps)
	// exp(log(v)) may differ from v in the last bit.
	if g2, ps2 := sp.Trial(back); math.Abs(ps2[0]-ps[0]) > 1e-15 || ps2[1] != ps[1] || ps2[2] != ps[2] || len(g2) != 5 {
		t.Fatalf("round trip %v -> %v", ps, ps2)
	}
	cfg, err := search.ApplyParams(r.Experiment.Network, r.Study.Space.Params, ps)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HiddenLayer.Adam.LR != 0.01 || cfg.HiddenLayer.Binning.Bins != 7 || cfg.HiddenLayer.Binning.Kind != "adaptive" {
		t.Fatalf("applied %+v %+v", cfg.HiddenLayer.Adam, cfg.HiddenLayer.Binning)
	}
	// CMA-ES, GA, DE and PSO refuse the categorical coordinate by name;
	// TPE, random and Sobol take it.
	for _, name := range search.Samplers() {
		_, err := search.NewSampler(name, box, nil, 1)
		refuses := err != nil && strings.Contains(err.Error(), "network.hidden_layer.binning.kind")
		switch name {
		case "tpe", "random", "sobol":
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		default:
			if !refuses {
				t.Errorf("%s: %v, want a refusal naming the categorical hyperparameter", name, err)
			}
		}
	}
}

func TestOverrideErrors(t *testing.T) {
	cases := []struct{ file, kv, path, want string }{
		{"network: {setup: context}\n", "network.hidden_layers.adam.lr=1", "network.hidden_layers", "no such key"},
		{"network: {setup: context}\n", "sampler.name.x=1", "sampler.name.x", "is a value, not a mapping"},
		{"network: {setup: context}\nspace: {entries: [{goal: '{F}', lower: 0, upper: 1}]}\n", "space.entries.3.lower=0", "space.entries.3", "not one of their indices"},
		{"network: {setup: context}\n", "workers=two", "workers", "want an integer"},
		{"network: {setup: context}\n", "space.bounds=5", "space.bounds", "want a list"},
	}
	for _, c := range cases {
		_, err := Load([]byte(c.file), mustOverrides(t, c.kv))
		var pe *PathError
		if !errors.As(err, &pe) || pe.Path != c.path || !strings.Contains(pe.Msg, c.want) {
			t.Errorf("%s: %v, want path %s and %q", c.kv, err, c.path, c.want)
		}
	}
	// Sampler settings take any key; the sampler checks them.
	e, err := Load([]byte("network: {setup: sphere}\nsampler: {name: tpe}\n"), mustOverrides(t, "sampler.settings.n_startup_trials=3"))
	if err != nil || e.Sampler.Settings["n_startup_trials"] != 3 {
		t.Fatalf("settings override: %v %v", e.Sampler.Settings, err)
	}
}

func TestOfStudyRebuildsOldStudies(t *testing.T) {
	r := resolve(t, "study: s\nnetwork: {setup: context-lateral, hidden: 50}\nspace: {bounds: [-2, 2]}\nsampler: {name: tpe, settings: {n_startup_trials: 3}}\n")
	old := r.Study
	old.Experiment = nil // as stored before experiments
	e, err := OfStudy(old, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Marshal(e)
	again := resolve(t, string(b))
	x, _ := json.Marshal(store.SearchSpace(r.Study.Space))
	y, _ := json.Marshal(store.SearchSpace(again.Study.Space))
	if string(x) != string(y) || string(again.Study.Setup.Config) != string(r.Study.Setup.Config) ||
		string(again.Study.Sampler.Config) != string(r.Study.Sampler.Config) || again.Experiment.Budget.Trials != 20 {
		t.Fatalf("rebuilt:\n%s\n%s %s", b, x, y)
	}
}
