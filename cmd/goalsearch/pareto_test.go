package main

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestParetoCommands: a two-objective search stores each trial's
// complexity, trains goals on the grid, and status, analyze --front and
// report show the same front and pick.
func TestParetoCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	if code, _, errs := runCmd(t, "search", "--study", "p", "--setup", "sphere", "--dim", "6", "--sampler", "nsga2",
		"--sampler-config", `{"population_size":10}`, "--objectives", "accuracy,nonzero", "--grid", "0.25", "--trials", "60", "--store", db); code != 0 {
		t.Fatalf("search: %s", errs)
	}
	code, out, errs := runCmd(t, "trials", "p", "--json", "--store", db)
	if code != 0 {
		t.Fatal(errs)
	}
	var trials []struct {
		Gamma  []float64 `json:"gamma"`
		Values []float64 `json:"values"`
	}
	if err := json.Unmarshal([]byte(out), &trials); err != nil || len(trials) != 60 {
		t.Fatalf("trials --json: %v, %d trials", err, len(trials))
	}
	for i, tr := range trials {
		n := 0.0
		for _, g := range tr.Gamma {
			if q := g / 0.25; q != float64(int(q)) {
				t.Fatalf("trial %d: weight %v is off the grid 0.25", i, g)
			}
			if g != 0 {
				n++
			}
		}
		if len(tr.Values) != 1 || tr.Values[0] != n {
			t.Fatalf("trial %d: values %v, want [%v] (its nonzero weights)", i, tr.Values, n)
		}
	}

	code, out, errs = runCmd(t, "analyze", "p", "--front", "--json", "--store", db)
	if code != 0 {
		t.Fatal(errs)
	}
	var a struct {
		Pareto struct {
			Points []struct {
				Trial int `json:"trial"`
			} `json:"points"`
			Picked *struct {
				Trial int `json:"trial"`
			} `json:"picked"`
		} `json:"pareto"`
	}
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.Pareto.Picked == nil || len(a.Pareto.Points) == 0 {
		t.Fatalf("analyze --front --json: %v\n%s", err, out)
	}
	picked := "#" + strconv.Itoa(a.Pareto.Picked.Trial)
	code, out, errs = runCmd(t, "status", "p", "--store", db)
	if code != 0 || !strings.Contains(out, "Pareto front") || !strings.Contains(out, "picked: trial "+strconv.Itoa(a.Pareto.Picked.Trial)) {
		t.Fatalf("status: exit %d, want the front and trial %s picked:\n%s%s", code, picked, out, errs)
	}
	md := filepath.Join(t.TempDir(), "r.md")
	if code, _, errs := runCmd(t, "report", "p", "--store", db, "--format", "md", "-o", md); code != 0 {
		t.Fatalf("report: %s", errs)
	}
	if code, _, errs := runCmd(t, "analyze", "p", "--front", "--tolerance", "0.001", "--store", db); code != 0 {
		t.Fatalf("analyze --tolerance 0.001: %s", errs)
	}
	if code, _, errs := runCmd(t, "report", "p", "--store", db, "--tolerance", "0", "-o", md); code == 0 || !strings.Contains(errs, "--tolerance") {
		t.Fatalf("report --tolerance 0: exit %d, %s", code, errs)
	}
}
