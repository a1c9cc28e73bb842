package goals

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"goalsearch/setups"
)

func TestPresets(t *testing.T) {
	ps := Presets()
	// goals_reference.yaml has 16 vectors: 3 context, 10 context-lateral, 3
	// lateral; goalsearch's campaigns added discovered_1.
	if len(ps) != 17 {
		t.Fatalf("%d presets, want 17", len(ps))
	}
	for _, p := range ps {
		if err := Check(p.Gamma, p.Setup); err != nil {
			t.Errorf("%s: %v", p.FullName(), err)
		}
	}
	p, ok := Lookup("context-lateral/opt_1_100_tpe", "")
	if !ok || p.Gamma[0] != 0.3307283306516516 || len(p.Gamma) != 19 {
		t.Fatalf("opt_1_100_tpe: %v %v", ok, p.Gamma)
	}
}

// TestDiscoveredPreset checks that discovered_1 is the goal of the trial its
// provenance names, in the campaign's committed export, and that only
// discovered presets claim one.
func TestDiscoveredPreset(t *testing.T) {
	p, ok := Lookup("discovered_1", "context-lateral")
	if !ok || p.Discovered == nil {
		t.Fatalf("discovered_1: %v %+v", ok, p)
	}
	d := p.Discovered
	if d.Study != "discovery-1" || d.Trial != 93 || d.Seed != 30 || d.Epochs != 100 || d.ValAcc < 0.9 || d.TestAcc < 0.9 || d.Date == "" {
		t.Errorf("provenance %+v", d)
	}
	f, err := os.Open("../../docs/campaigns/discovery-1.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	labels, _ := Labels("context-lateral")
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	found := false
	for _, row := range rows[1:] {
		if row[col["number"]] != strconv.Itoa(d.Trial) {
			continue
		}
		found = true
		for i, l := range labels {
			v, err := strconv.ParseFloat(row[col[l]], 64)
			if err != nil || v != p.Gamma[i] {
				t.Errorf("%s: preset %v, trial %d of the export %q", l, p.Gamma[i], d.Trial, row[col[l]])
			}
		}
	}
	if !found {
		t.Errorf("no trial %d in the export", d.Trial)
	}
	for _, q := range Presets() {
		if q.Discovered != nil && !strings.HasPrefix(q.Name, "discovered_") {
			t.Errorf("%s claims a discovery", q.FullName())
		}
	}
}

func TestLabels(t *testing.T) {
	l, err := Labels("context-lateral")
	if err != nil || len(l) != 19 || l[4] != "{F}{CL}" || l[18] != "H_res" {
		t.Fatalf("%v %v", l, err)
	}
	l, _ = Labels("lateral")
	if strings.Join(l, " ") != "{F} {L} {F}{L} {FL} H_res" {
		t.Errorf("lateral labels %v", l)
	}
	if _, err := Labels("backprop"); err == nil {
		t.Error("backprop has no goal")
	}
}

func TestParse(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	good := []struct {
		spec, setup string
		want        []float64
	}{
		{"context/naive", "context", []float64{0, 0, 1, 0, 0}},
		{"naive", "lateral", []float64{1, 0, 0, 0, 0}},
		{"0.1, -0.2,1,0,0", "context", []float64{0.1, -0.2, 1, 0, 0}},
		{write("g.yaml", "gamma: [0, 1, 0, 0, 0]\n"), "context", []float64{0, 1, 0, 0, 0}},
		{write("a.yml", "setup: context\natoms:\n  \"{F}{C}\": 1\n  \"{2}\": 0.5\n"), "context", []float64{0, 0.5, 1, 0, 0}},
	}
	for _, c := range good {
		g, err := Parse(c.spec, c.setup)
		if err != nil {
			t.Errorf("%s: %v", c.spec, err)
			continue
		}
		for i := range c.want {
			if g[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.spec, g, c.want)
				break
			}
		}
	}
	bad := []struct {
		spec, setup, msg string
	}{
		{"1,2,3", "context", "goal has 3 weights; setup context wants 5 in this order: {F} {C} {F}{C} {FC} H_res"},
		{"1,2,x,4,5", "context", `weight 3 "x" is not a number`},
		{"0,0,NaN,0,0", "context", "goal weight 3 ({F}{C}) is NaN"},
		{"opt_9", "context", `no such preset for context (presets: context/naive, context/opt_1_100, context/opt_2_100)`},
		{"context/naive", "context-lateral", "is a preset for setup context, not context-lateral"},
		{"", "context", "--goal is empty"},
		{"naive", "backprop", "setup has no hidden-layer goal"},
		{write("u.yaml", "gama: [1]\n"), "context", "field gama not found"},
		{write("v.yaml", "atoms:\n  \"{X}\": 1\n"), "context", `unknown atom "{X}"`},
		{write("w.yaml", "setup: lateral\ngamma: [1,0,0,0,0]\n"), "context", "is for setup lateral, not context"},
		{filepath.Join(dir, "missing.yaml"), "context", "no such file"},
	}
	for _, c := range bad {
		if _, err := Parse(c.spec, c.setup); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q for %s: error %v, want %q", c.spec, c.setup, err, c.msg)
		}
	}
}

func TestFeedbackTakesContextLateralPresets(t *testing.T) {
	g, err := Parse("opt_1_100_tpe", "context-lateral-feedback")
	if err != nil || len(g) != 19 || g[0] != 0.3307283306516516 {
		t.Fatalf("%v %v", g, err)
	}
	if _, err := Parse("context/naive", "context-lateral-feedback"); err == nil {
		t.Error("a bivariate preset accepted for the feedback setup")
	}
}

// Every infomorphic setup of the registry has labels, a heuristic goal and
// the presets the paper's comparison trains it with; no other setup does.
func TestRegistryPresets(t *testing.T) {
	for _, s := range setups.All() {
		_, err := Labels(s.Name)
		h, ok := Heuristic(s.Name)
		if s.TakesGoal() != (err == nil) || s.TakesGoal() != ok {
			t.Errorf("%s: labels %v, heuristic %v", s.Name, err, ok)
			continue
		}
		if !s.TakesGoal() {
			continue
		}
		if h.Setup != s.PresetSetup() || h.Name != HeuristicName {
			t.Errorf("%s: heuristic %s", s.Name, h.FullName())
		}
		for _, name := range s.Reproduce {
			if _, err := Parse(name, s.Name); err != nil {
				t.Errorf("%s is reproduced with %s: %v", s.Name, name, err)
			}
		}
	}
	if p, ok := Lookup("naive", "context-lateral-feedback"); !ok || p.FullName() != "context-lateral/naive" {
		t.Errorf("the feedback variant's naive preset: %v %v", p.FullName(), ok)
	}
	if _, ok := Heuristic("sphere"); ok {
		t.Error("a synthetic setup has a heuristic goal")
	}
}
