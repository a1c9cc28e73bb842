package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"goalsearch/experiment"
	"goalsearch/store"
	"goalsearch/store/boltstore"
	"goalsearch/trainer/goals"
)

// sphereMixed is a synthetic mixed search: three goal coordinates, a float
// and an int hyperparameter, TPE with two workers.
const sphereMixed = `study: mixed
network:
  setup: sphere
  epochs: 2
synthetic:
  dim: 3
space:
  entries:
    - {param: synthetic.step, type: float, lower: -1, upper: 1}
    - {param: synthetic.level, type: int, lower: -2, upper: 2}
    - {param: synthetic.pick, type: categorical, choices: [0, 0.3, 1]}
sampler:
  name: tpe
  settings: {n_startup_trials: 5}
budget:
  trials: 14
workers: 2
seed: 3
`

func writeTemp(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func dumpOf(t *testing.T, db, study string) store.Dump {
	t.Helper()
	st, err := boltstore.Open(db, &boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.Export(context.Background(), study)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sameTrials reports how two studies' trials differ: the same proposals
// (goal, hyperparameters, seed) and the same values, bit for bit.
func sameTrials(t *testing.T, a, b store.Dump) {
	t.Helper()
	if len(a.Trials) != len(b.Trials) || len(a.Trials) == 0 {
		t.Fatalf("%d and %d trials", len(a.Trials), len(b.Trials))
	}
	bits := func(x, y []float64) bool {
		return slices.EqualFunc(x, y, func(p, q float64) bool { return math.Float64bits(p) == math.Float64bits(q) })
	}
	for i := range a.Trials {
		x, y := a.Trials[i], b.Trials[i]
		if !bits(x.Gamma, y.Gamma) || !bits(x.Params, y.Params) || x.Seed != y.Seed || x.State != y.State ||
			(x.Value == nil) != (y.Value == nil) || (x.Value != nil && math.Float64bits(*x.Value) != math.Float64bits(*y.Value)) {
			t.Fatalf("trial %d differs:\n%+v\n%+v", i, x, y)
		}
	}
}

// TestConfigRecreatesStudy runs an experiment file, prints the study's
// experiment with status --config and runs that under a new name: the same
// proposals and the same results, trial by trial.
func TestConfigRecreatesStudy(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	file := writeTemp(t, "mixed.yaml", sphereMixed)
	if code, _, errs := runCmd(t, "search", "-f", file, "--store", db); code != 0 {
		t.Fatalf("search -f: exit %d: %s", code, errs)
	}
	code, cfg, errs := runCmd(t, "status", "mixed", "--config", "--store", db)
	if code != 0 || !strings.Contains(cfg, "synthetic.pick") || !strings.Contains(cfg, "workers: 2") {
		t.Fatalf("status --config: exit %d: %s\n%s", code, errs, cfg)
	}
	again := writeTemp(t, "again.yaml", cfg)
	if code, _, errs := runCmd(t, "search", "-f", again, "study=again", "--store", db); code != 0 {
		t.Fatalf("search -f (printed config): exit %d: %s", code, errs)
	}
	a, b := dumpOf(t, db, "mixed"), dumpOf(t, db, "again")
	sameTrials(t, a, b)
	if len(a.Trials[0].Params) != 3 {
		t.Fatalf("trial 0 records %v, want 3 hyperparameters", a.Trials[0].Params)
	}
	// Every choice is an index into its choices; ints are integers.
	for _, tr := range a.Trials {
		if l := tr.Params[1]; l != math.Round(l) || l < -2 || l > 2 {
			t.Fatalf("trial %d: int hyperparameter %v", tr.Number, l)
		}
		if c := tr.Params[2]; c != math.Round(c) || c < 0 || c > 2 {
			t.Fatalf("trial %d: choice %v", tr.Number, c)
		}
	}
	// The printed config, printed again from the new study, is the same
	// file but for the study's name and creation time.
	_, cfg2, _ := runCmd(t, "status", "again", "--config", "--store", db)
	strip := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "study:") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if strip(cfg) != strip(cfg2) {
		t.Fatalf("configs differ:\n%s\n---\n%s", cfg, cfg2)
	}
	// trials and the CSV export show the hyperparameters by key path.
	_, out, _ := runCmd(t, "trials", "mixed", "--store", db)
	if !strings.Contains(out, "synthetic.level=") {
		t.Fatalf("trials:\n%s", out)
	}
	_, csv, _ := runCmd(t, "export", "mixed", "--format", "csv", "--store", db)
	if head, _, _ := strings.Cut(csv, "\n"); !strings.Contains(head, ",synthetic.step,synthetic.level,synthetic.pick,") {
		t.Fatalf("csv header %q", head)
	}
}

// TestConfigRecreatesNetworkStudy does the same on a tiny real network with
// a learning rate and a bin count searched beside the goal.
func TestConfigRecreatesNetworkStudy(t *testing.T) {
	data := tinyDataDir(t)
	db := filepath.Join(t.TempDir(), "s.db")
	file := writeTemp(t, "net.yaml", `study: net
network:
  setup: context
  hidden: 4
  epochs: 1
  batch: 100
  train_limit: 300
space:
  entries:
    - {param: network.hidden_layer.adam.lr, type: log-float, lower: 0.001, upper: 0.01}
    - {param: network.hidden_layer.binning.bins, type: int, lower: 4, upper: 24}
sampler: {name: random}
budget: {trials: 3}
enqueue: [context/naive]
`)
	args := []string{"search", "-f", file, "network.data=" + data, "--store", db}
	if code, _, errs := runCmd(t, args...); code != 0 {
		t.Fatalf("search -f: exit %d: %s", code, errs)
	}
	_, cfg, _ := runCmd(t, "status", "net", "--config", "--store", db)
	again := writeTemp(t, "again.yaml", cfg)
	if code, _, errs := runCmd(t, "search", "-f", again, "study=net2", "--store", db); code != 0 {
		t.Fatalf("search -f (printed config): exit %d: %s", code, errs)
	}
	a, b := dumpOf(t, db, "net"), dumpOf(t, db, "net2")
	sameTrials(t, a, b)
	// The enqueued goal keeps the paper's values; the sampled ones differ.
	if p := a.Trials[0].Params; p[0] != 0.002 || p[1] != 20 {
		t.Fatalf("enqueued trial's hyperparameters %v, want the paper's [0.002 20]", p)
	}
	if p := a.Trials[1].Params; p[0] == 0.002 || p[0] < 0.001 || p[0] > 0.01 || p[1] != math.Round(p[1]) {
		t.Fatalf("sampled hyperparameters %v", p)
	}
	// Evaluating the best goals retrains each with its trial's
	// hyperparameters; analyze refuses by name.
	if code, _, errs := runCmd(t, "evaluate", "net", "--top", "2", "--seeds", "1", "--store", db); code != 0 {
		t.Fatalf("evaluate: exit %d: %s", code, errs)
	}
	ev := dumpOf(t, db, "net/evaluate/context/h4")
	if len(ev.Study.Space.Params) != 2 || len(ev.Trials) != 2 {
		t.Fatalf("evaluation study: %d params, %d trials", len(ev.Study.Space.Params), len(ev.Trials))
	}
	for _, et := range ev.Trials {
		found := false
		for _, st := range a.Trials {
			found = found || (slices.Equal(st.Gamma, et.Gamma) && slices.Equal(st.Params, et.Params))
		}
		if !found || et.State != store.Complete {
			t.Fatalf("evaluation trial %d (%s) with %v: no search trial has that goal and those hyperparameters", et.Number, et.State, et.Params)
		}
	}
	// analyze varies the goal weights and each hyperparameter, the goal's
	// variants with the best trial's hyperparameters.
	code, out, errs := runCmd(t, "analyze", "net", "--seeds", "1", "--store", db, "--json")
	if code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	var an struct {
		Best             struct{ Trial int } `json:"best"`
		ParamSensitivity []struct {
			Key      string `json:"key"`
			Value    string `json:"value"`
			Variants []struct {
				Value  string `json:"value"`
				Change struct {
					N int `json:"n"`
				} `json:"change"`
			} `json:"variants"`
		} `json:"param_sensitivity"`
	}
	if err := json.Unmarshal([]byte(out), &an); err != nil {
		t.Fatal(err)
	}
	if len(an.ParamSensitivity) != 2 || an.ParamSensitivity[0].Key != "network.hidden_layer.adam.lr" ||
		len(an.ParamSensitivity[1].Variants) == 0 || an.ParamSensitivity[1].Variants[0].Change.N != 1 {
		t.Fatalf("param sensitivity: %s", out)
	}
	sens := dumpOf(t, db, "net/sensitivity/context/h4")
	bestParams := a.Trials[an.Best.Trial].Params
	for _, et := range sens.Trials {
		same := 0
		for k := range bestParams {
			if et.Params[k] == bestParams[k] {
				same++
			}
		}
		if same < len(bestParams)-1 {
			t.Fatalf("sensitivity trial %d has hyperparameters %v, the best trial %v: more than one changed", et.Number, et.Params, bestParams)
		}
	}
	// The report names the searched hyperparameters and the best trial's.
	page := filepath.Join(t.TempDir(), "r.html")
	if code, _, errs := runCmd(t, "report", "net", "-o", page, "--store", db); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errs)
	}
	html, _ := os.ReadFile(page)
	if !strings.Contains(string(html), "best hyperparameters") || !strings.Contains(string(html), "network.hidden_layer.binning.bins (int, [4, 24])") {
		t.Fatalf("report does not show the hyperparameters")
	}
}

// TestExperimentBadInput: every bad value names its key path and what was
// expected, exits non-zero, and leaves the store as it was.
func TestExperimentBadInput(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, errs := runCmd(t, "search", "--study", "ok", "--setup", "sphere", "--trials", "2", "--store", db); code != 0 {
		t.Fatal(errs)
	}
	base := "study: bad\nnetwork:\n  setup: context-lateral\n  epochs: 1\n"
	cases := []struct {
		name, file string
		args       []string
		want       string
	}{
		{"unknown key", base + "netwrk: {hidden: 5}\n", nil, "netwrk: unknown key"},
		{"unknown nested key", "study: bad\nnetwork: {setup: context, hiden: 5}\n", nil, "network.hiden: unknown key"},
		{"wrong type", "study: bad\nnetwork: {setup: context, hidden: many}\n", nil, `network.hidden: want an integer, got "many"`},
		{"lr <= 0", base + "  hidden_layer: {adam: {lr: 0}}\n", nil, "network.hidden_layer.adam.lr: 0; want a learning rate > 0"},
		{"bins < 2", base, []string{"network.output_layer.binning.bins=1"}, "network.output_layer.binning.bins: 1; want at least 2 bins"},
		{"log range lower <= 0", base + "space: {entries: [{param: network.hidden_layer.adam.lr, type: log-float, lower: 0, upper: 0.1}]}\n", nil,
			"space.entries.0.lower: 0; a log-float range needs lower > 0"},
		{"lr range reaching 0", base + "space: {entries: [{param: network.hidden_layer.adam.lr, type: float, lower: 0, upper: 0.1}]}\n", nil,
			"space.entries.0.lower: network.hidden_layer.adam.lr: 0; want a learning rate > 0"},
		{"empty choices", base + "space: {entries: [{param: network.hidden_layer.binning.kind, type: categorical, choices: []}]}\n", nil,
			"space.entries.0.choices: empty; want at least one choice"},
		{"hidden 0", base, []string{"network.hidden=0"}, "network.hidden: 0; want at least 1 hidden neuron"},
		{"override of a nonexistent key", base, []string{"network.hiddn=500"}, "network.hiddn: override network.hiddn=500: no such key; network takes setup, hidden,"},
		{"override of the wrong type", base, []string{"network.hidden=lots"}, `network.hidden: override network.hidden=lots: want an integer, got "lots"`},
		{"override without =", base, []string{"network.hidden"}, "want KEY=VALUE"},
		{"unknown atom", base + "space: {entries: [{goal: '{X}', lower: 0, upper: 1}]}\n", nil, `space.entries.0.goal: no atom "{X}"`},
		{"unknown hyperparameter", base + "space: {entries: [{param: network.hidden_layer.adam.rate, lower: 0.1, upper: 0.2}]}\n", nil,
			"space.entries.0.lower: network.hidden_layer.adam.rate"},
		{"categorical with cmaes", base + "space: {entries: [{param: network.hidden_layer.binning.kind, type: categorical, choices: [fixed, adaptive]}]}\nsampler: {name: cmaes}\n", nil,
			"sampler.name: sampler cmaes searches continuous coordinates and cannot search the categorical hyperparameter network.hidden_layer.binning.kind"},
		{"unknown sampler setting", base + "sampler: {name: tpe, settings: {n_startup: 3}}\n", nil, `sampler.settings: sampler tpe: config: json: unknown field "n_startup"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := writeTemp(t, "bad.yaml", c.file)
			args := append([]string{"search", "-f", file, "--store", db}, c.args...)
			code, _, errs := runCmd(t, args...)
			if code == 0 || !strings.Contains(errs, c.want) {
				t.Fatalf("exit %d, stderr %q, want it to contain %q", code, errs, c.want)
			}
		})
	}
	st, err := boltstore.Open(db, &boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	studies, _ := st.Studies(context.Background())
	if len(studies) != 1 || studies[0].Name != "ok" {
		t.Fatalf("the store holds %v after bad input, want only study ok", studies)
	}
}

// TestFlagsAreOverrides: today's flags and key=value arguments define the
// same study.
func TestFlagsAreOverrides(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, errs := runCmd(t, "search", "--study", "a", "--setup", "sphere", "--dim", "3", "--sampler", "random", "--trials", "3", "--seed", "9", "--store", db); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runCmd(t, "search", "study=b", "network.setup=sphere", "synthetic.dim=3", "sampler.name=random", "budget.trials=3", "seed=9", "--store", db); code != 0 {
		t.Fatal(errs)
	}
	sameTrials(t, dumpOf(t, db, "a"), dumpOf(t, db, "b"))
	// Resuming study a with the same flags is the same definition.
	if code, _, errs := runCmd(t, "search", "--study", "a", "--setup", "sphere", "--dim", "3", "--sampler", "random", "--trials", "4", "--seed", "9", "--store", db); code != 0 {
		t.Fatalf("resume: %s", errs)
	}
	// A file's value, then an override of it: the override wins.
	file := writeTemp(t, "c.yaml", "study: c\nnetwork: {setup: sphere}\nsynthetic: {dim: 2}\nsampler: {name: sobol}\nbudget: {trials: 2}\n")
	if code, _, errs := runCmd(t, "search", "-f", file, "synthetic.dim=4", "--store", db); code != 0 {
		t.Fatal(errs)
	}
	if d := dumpOf(t, db, "c"); d.Study.Space.Dim() != 4 || d.Study.Sampler.Name != "sobol" {
		t.Fatalf("study c: %d coordinates, sampler %s", d.Study.Space.Dim(), d.Study.Sampler.Name)
	}
}

// TestTrainFile: train -f trains the file's network; with the paper's
// settings written out it is the run that flags give, and a changed
// learning rate changes it.
func TestTrainFile(t *testing.T) {
	data := tinyDataDir(t)
	file := writeTemp(t, "t.yaml", `network:
  setup: context
  hidden: 4
  epochs: 1
  batch: 100
  train_limit: 300
  hidden_layer:
    adam: {lr: 0.002, weight_decay: 0.00035}
enqueue: [context/naive]
`)
	lastVal := func(args ...string) (float64, string) {
		code, out, errs := runCmd(t, append(args, "--data", data, "--threads", "1", "--json")...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		var rep struct {
			Hidden  int `json:"hidden"`
			Metrics []struct {
				Val struct {
					BatchMean float64 `json:"batch_mean"`
				} `json:"val_acc"`
			} `json:"metrics"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Metrics) != 2 || rep.Metrics[1].Val.BatchMean == 0 {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return rep.Metrics[1].Val.BatchMean, out
	}
	flags, _ := lastVal("train", "--setup", "context", "--goal", "naive", "--hidden", "4", "--epochs", "1", "--batch", "100", "--train-limit", "300")
	fromFile, _ := lastVal("train", "-f", file)
	if flags != fromFile {
		t.Fatalf("train -f %v, the same run by flags %v", fromFile, flags)
	}
	faster, _ := lastVal("train", "-f", file, "network.hidden_layer.adam.lr=0.05")
	if faster == fromFile {
		t.Fatalf("lr 0.05 gives the same validation accuracy %v as lr 0.002", faster)
	}
	code, _, errs := runCmd(t, "train", "-f", file, "network.hidden_layer.adam.lr=-1", "--data", data)
	if code == 0 || !strings.Contains(errs, "network.hidden_layer.adam.lr: -1; want a learning rate > 0") {
		t.Fatalf("bad lr: exit %d, %s", code, errs)
	}
}

// TestHydraGoals: goals --format hydra writes the reference's layout, and
// train --goal, an experiment's enqueue and import read it back.
func TestHydraGoals(t *testing.T) {
	code, out, errs := runCmd(t, "goals", "context/opt_1_100", "--format", "hydra")
	if code != 0 || !strings.HasPrefix(out, "# @package _global_\n") || !strings.Contains(out, "layer_params:\n  hidden_layer1:\n    gamma:\n") {
		t.Fatalf("goals --format hydra: exit %d: %s\n%s", code, errs, out)
	}
	file := writeTemp(t, "opt_1_100.yaml", out)
	db := filepath.Join(t.TempDir(), "s.db")
	// A study created (not run) from an experiment enqueueing the file.
	data := tinyDataDir(t)
	res, err := loadExperiment("", mustOverridesT(t, "study=h", "network.setup=context", "network.epochs=1", "network.hidden=4",
		"network.train_limit=300", "network.data="+data, "sampler.name=tpe", "enqueue=["+file+"]"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateStudy(context.Background(), res.Study); err != nil {
		t.Fatal(err)
	}
	st.Close()
	ref := "../../trainer/goals/testdata/hydra_context_naive.yaml"
	if code, out, errs := runCmd(t, "import", ref, "--study", "h", "--store", db); code != 0 || !strings.Contains(out, "as trial 0") {
		t.Fatalf("import: exit %d: %s %s", code, out, errs)
	}
	d := dumpOf(t, db, "h")
	if len(d.Trials) != 1 || !slices.Equal(d.Trials[0].Gamma, []float64{0, 0, 1, 0, 0}) {
		t.Fatalf("trials after import: %+v", d.Trials)
	}
	if !slices.Equal(res.Known[0].Gamma, presetGamma(t, "context/opt_1_100")) {
		t.Fatalf("enqueue of the written file: %v", res.Known[0].Gamma)
	}
	// Once the sampler has proposed, import refuses.
	if code, _, errs := runCmd(t, "search", "--study", "h", "--trials", "2", "--store", db); code != 0 {
		t.Fatalf("search: %s", errs)
	}
	if code, _, errs := runCmd(t, "import", ref, "--study", "h", "--store", db); code == 0 || !strings.Contains(errs, "proposed goals already") {
		t.Fatalf("import after the start: exit %d: %s", code, errs)
	}
	if code, _, errs := runCmd(t, "import", ref, "--store", db); code == 0 || !strings.Contains(errs, "--study NAME") {
		t.Fatalf("import without --study: exit %d: %s", code, errs)
	}
}

func mustOverridesT(t *testing.T, kvs ...string) []experiment.Override {
	t.Helper()
	var out []experiment.Override
	for _, kv := range kvs {
		o, err := experiment.ParseOverride(kv)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

func presetGamma(t *testing.T, name string) []float64 {
	t.Helper()
	p, ok := goals.Lookup(name, "")
	if !ok {
		t.Fatalf("no preset %s", name)
	}
	return p.Gamma
}
