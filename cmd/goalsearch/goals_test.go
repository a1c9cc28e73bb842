package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"goalsearch/trainer/goals"
)

// A person sees every preset with its length and largest weights, or one
// preset weight by weight; a script gets the vectors with their labels.
func TestGoalsCommand(t *testing.T) {
	presets := goals.Presets()
	code, out, errs := runCmd(t, "goals")
	if code != 0 {
		t.Fatalf("goals: exit %d: %s", code, errs)
	}
	table, foot, _ := strings.Cut(strings.TrimSpace(out), "\n\n")
	lines := strings.Split(table, "\n")
	if h := cells(lines[0], 3); strings.Join(h, ",") != "preset,weights,largest weights" || len(lines) != 1+len(presets) {
		t.Fatalf("%d lines for %d presets, header %q", len(lines), len(presets), h)
	}
	// context/naive is 1 on {F}{C} alone; opt_1_100_modified's largest are
	// its three ±1 weights.
	if c := row(t, out, "context/naive", 3); c[1] != "5" || c[2] != "{F}{C} +1.00" {
		t.Errorf("context/naive: %q", c)
	}
	if c := row(t, out, "context-lateral/opt_1_100_modified", 3); c[1] != "19" || strings.Count(c[2], "1.00") != 3 {
		t.Errorf("opt_1_100_modified: %q", c)
	}

	// A discovered goal is marked, and the footnote says where to look.
	if !strings.Contains(out, "context-lateral/discovered_1 *") || !strings.Contains(foot, "discovered by a goalsearch campaign") {
		t.Errorf("discovered_1 is not marked:\n%s", out)
	}
	code, out, _ = runCmd(t, "goals", "context-lateral/discovered_1")
	if code != 0 || !strings.Contains(out, "study discovery-1, trial 93") || !strings.Contains(out, "seed 30, 100") {
		t.Errorf("goals context-lateral/discovered_1: exit %d, no provenance:\n%s", code, out)
	}

	code, out, _ = runCmd(t, "goals", "lateral/naive")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || lines[0] != "lateral/naive (setup lateral)" || len(lines) != 6 || strings.Join(cells(lines[1], 2), " ") != "{F} 1.0000" {
		t.Errorf("goals lateral/naive: exit %d\n%s", code, out)
	}

	code, out, _ = runCmd(t, "goals", "--json")
	var list []goalJSON
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != len(presets) {
		t.Fatalf("goals --json: exit %d\n%.200s", code, out)
	}
	for i, g := range list {
		labels, _ := goals.Labels(g.Setup)
		if g.Name != presets[i].FullName() || !slices.Equal(g.Gamma, presets[i].Gamma) || !slices.Equal(g.Labels, labels) || (g.Discovered != nil) != (presets[i].Discovered != nil) {
			t.Errorf("preset %d: %+v", i, g)
		}
	}
	if code, out, _ := runCmd(t, "goals", "context/naive", "--json"); code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 {
		t.Errorf("goals context/naive --json: exit %d\n%s", code, out)
	}
}

func TestGoalsErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		// A preset is named in full: naive alone is every setup's.
		{[]string{"goals", "naive"}, 1, `no preset "naive"; 'goalsearch goals' lists them`},
		{[]string{"goals", "context/nope"}, 1, `no preset "context/nope"`},
		{[]string{"goals", "a", "b"}, 2, "want at most one preset name, got 2 arguments"},
	} {
		code, out, errs := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d and %q", c.args, code, out, errs, c.code, c.msg)
		}
	}
}
