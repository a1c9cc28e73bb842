package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"goalsearch/search"
	"goalsearch/store"
	"goalsearch/store/boltstore"
)

// Networks of several hidden layers end to end (docs/layers.md), at tiny
// sizes: train reports each layer, a search of a goal per layer has every
// layer's labels with each H_res fixed and runs with every sampler, and a
// search of a shared goal keeps the one-layer space.

func TestLayersTrain(t *testing.T) {
	data := tinyDataDir(t)
	for _, args := range [][]string{
		{"--setup", "context-lateral", "--goal", "naive", "--layers", "2"},
		{"--setup", "context-lateral-feedback", "--goal", "context-lateral/naive", "--layers", "3", "--goal-per-layer"},
		{"--setup", "backprop", "--layers", "2"},
	} {
		code, out, errs := runCmd(t, append([]string{"train", "--hidden", "6", "--epochs", "1", "--batch", "64", "--threads", "1",
			"--data", data, "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("train %v: exit %d: %s", args, code, errs)
		}
		var rep trainReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		n := int(args[len(args)-1][0] - '0')
		if args[len(args)-1] == "--goal-per-layer" {
			n = 3
		}
		if rep.Layers != n || len(rep.Metrics) != 2 {
			t.Fatalf("train %v: %d layers, %d epochs reported", args, rep.Layers, len(rep.Metrics))
		}
		wantLayers := n
		if rep.Setup == "backprop" {
			wantLayers = 0
		}
		if got := len(rep.Metrics[1].Layers); got != wantLayers {
			t.Errorf("train %v: %d layers' metrics, want %d", args, got, wantLayers)
		}
		if strings.Contains(strings.Join(args, " "), "--goal-per-layer") {
			if len(rep.Goal) != 57 || rep.GoalLabels[19] != "h2:{F}{C}{L}" {
				t.Errorf("a goal per layer of 3: %d weights, label 20 %q", len(rep.Goal), rep.GoalLabels[19])
			}
		}
		if !strings.Contains(errs, "hidden layers of 6") {
			t.Errorf("train %v: header does not say the layers:\n%s", args, errs)
		}
	}
}

func TestLayersSearch(t *testing.T) {
	data := tinyDataDir(t)
	db := filepath.Join(t.TempDir(), "l.db")
	base := []string{"search", "--hidden", "5", "--epochs", "1", "--layers", "2", "--data", data,
		"--threads", "1", "--store", db, "network.batch=64"}
	// Every sampler, on the bivariate context setup: 2 × 5 weights, within
	// every sampler's reach (sobol's direction numbers cover 32
	// coordinates, fewer than a trivariate goal per layer's 36).
	for _, smp := range search.Samplers() {
		args := append(base, "--study", "ctx-"+smp, "--setup", "context", "--goal-per-layer", "--sampler", smp,
			"--trials", "2", "--enqueue", "context/naive")
		if smp == "nsga2" {
			args = append(args, "--objectives", "accuracy,nonzero") // it needs a second objective
		}
		code, _, errs := runCmd(t, args...)
		if code != 0 {
			t.Fatalf("search --sampler %s --goal-per-layer: exit %d: %s", smp, code, errs)
		}
	}
	code, _, errs := runCmd(t, append(base, "--study", "per-tpe", "--setup", "context-lateral", "--goal-per-layer", "--sampler", "tpe",
		"--trials", "2", "--enqueue", "context-lateral/opt_1_100_tpe")...)
	if code != 0 {
		t.Fatalf("search --goal-per-layer: exit %d: %s", code, errs)
	}
	code, _, errs = runCmd(t, append(base, "--study", "shared", "--setup", "context-lateral", "--sampler", "random", "--trials", "2")...)
	if code != 0 {
		t.Fatalf("search, shared goal: exit %d: %s", code, errs)
	}
	st, err := boltstore.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for _, smp := range search.Samplers() {
		trials, err := st.Trials(ctx, "ctx-"+smp)
		if err != nil {
			t.Fatal(err)
		}
		if len(trials) < 2 || len(trials[1].Gamma) != 10 || trials[1].State != store.Complete {
			t.Errorf("sampler %s: trials %+v", smp, trials)
		}
	}
	per, err := st.Study(ctx, "per-tpe")
	if err != nil {
		t.Fatal(err)
	}
	sp := per.Space
	if sp.Dim() != 38 || sp.Labels[0] != "h1:{F}{C}{L}" || sp.Labels[37] != "h2:H_res" {
		t.Fatalf("a goal per layer's space: %d labels %v", sp.Dim(), sp.Labels)
	}
	if len(sp.Fixed) != 2 || sp.Fixed["h1:H_res"] != 0 || sp.Fixed["h2:H_res"] != 0 {
		t.Errorf("fixed %v, want both layers' H_res at 0", sp.Fixed)
	}
	var cfg struct {
		Layers   int  `json:"layers"`
		PerLayer bool `json:"goal_per_layer"`
	}
	if err := json.Unmarshal(per.Setup.Config, &cfg); err != nil || cfg.Layers != 2 || !cfg.PerLayer {
		t.Errorf("stored network %s: %v", per.Setup.Config, err)
	}
	trials, err := st.Trials(ctx, "per-tpe")
	if err != nil {
		t.Fatal(err)
	}
	done := 0
	for _, tr := range trials {
		if len(tr.Gamma) != 38 {
			t.Errorf("trial %d: %d weights", tr.Number, len(tr.Gamma))
		}
		if tr.State == store.Complete {
			done++
		}
		if tr.Number > 0 && (tr.Gamma[18] != 0 || tr.Gamma[37] != 0) { // trial 0 is the enqueued preset, whose H_res is not 0
			t.Errorf("trial %d: H_res %v, %v; want 0, 0", tr.Number, tr.Gamma[18], tr.Gamma[37])
		}
	}
	// The enqueued preset is given to both layers.
	if g := trials[0].Gamma; len(g) == 38 && (g[0] != g[19] || g[10] != g[29]) {
		t.Errorf("the enqueued preset differs between the layers: %v", g)
	}
	if done != 2 {
		t.Errorf("%d complete trials, want 2", done)
	}
	shared, err := st.Study(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if shared.Space.Dim() != 19 || shared.Space.Labels[0] != "{F}{C}{L}" {
		t.Errorf("a shared goal's space: %v", shared.Space.Labels)
	}
}

// evaluate of presets with --layers trains the layers, in a study of its own
// group (never the one-layer presets' study).
func TestLayersEvaluatePresets(t *testing.T) {
	data := tinyDataDir(t)
	db := filepath.Join(t.TempDir(), "e.db")
	code, out, errs := runCmd(t, "evaluate", "--goal", "context-lateral/naive", "--layers", "2", "--goal-per-layer", "--hidden", "5",
		"--epochs", "1", "--seeds", "1", "--threads", "1", "--data", data, "--store", db, "--json")
	if code != 0 {
		t.Fatalf("evaluate: exit %d: %s", code, errs)
	}
	var res []evalJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 {
		t.Fatalf("evaluate --json: %v\n%s", err, out)
	}
	if res[0].Study != "presets-2layers-per-layer/evaluate/context-lateral/h5" || res[0].Goals[0].Complete != 1 {
		t.Fatalf("result %+v", res[0])
	}
	st, err := boltstore.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := st.Study(context.Background(), res[0].Study)
	if err != nil {
		t.Fatal(err)
	}
	if s.Space.Dim() != 38 || !strings.Contains(string(s.Setup.Config), `"layers":2`) {
		t.Errorf("evaluation study: %d labels, config %s", s.Space.Dim(), s.Setup.Config)
	}
}
