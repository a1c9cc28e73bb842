package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// On a synthetic setup every epoch's value is the same decreasing function
// of f (search/objective.go), so every early epoch ranks the trials exactly
// as the last one: Spearman 1 and full overlap.
func TestFidelityCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, errs := runCmd(t, "search", "--store", db, "--study", "f", "--setup", "sphere", "--dim", "3",
		"--sampler", "random", "--trials", "20", "--epochs", "4"); code != 0 {
		t.Fatalf("search: exit %d: %s", code, errs)
	}
	code, out, errs := runCmd(t, "fidelity", "f", "--store", db, "--json")
	if code != 0 {
		t.Fatalf("fidelity: exit %d: %s", code, errs)
	}
	var rep struct {
		Final  int `json:"final_epoch"`
		Trials int `json:"trials"`
		Rungs  []struct {
			Epoch      int      `json:"epoch"`
			Trials     int      `json:"trials"`
			Spearman   *float64 `json:"spearman"`
			TopOverlap *float64 `json:"top_overlap"`
			Top        int      `json:"top"`
		} `json:"rungs"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	// Default epochs 1,2,3,5,...: those below the final epoch 4 remain.
	if rep.Final != 4 || rep.Trials != 20 || len(rep.Rungs) != 3 {
		t.Fatalf("report %s: want final 4, 20 trials, rungs 1-3", out)
	}
	for _, g := range rep.Rungs {
		if g.Spearman == nil || *g.Spearman != 1 || g.TopOverlap == nil || *g.TopOverlap != 1 || g.Top != 2 {
			t.Errorf("rung %+v: want Spearman 1, overlap 1 of the top 2", g)
		}
	}

	svg := filepath.Join(t.TempDir(), "f.svg")
	code, out, _ = runCmd(t, "fidelity", "f", "--store", db, "--svg", svg)
	if code != 0 || !strings.Contains(out, "(Spearman >= 0.9): 1\n") {
		t.Errorf("text output (exit %d):\n%s\nwant the first rung at epoch 1", code, out)
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b), "Spearman, all goals (20 trials)") {
		t.Errorf("--svg: %v, %d bytes without the series' legend", err, len(b))
	}
	// Nobody is left above an impossible threshold: an error, not an empty table.
	if code, _, errs := runCmd(t, "fidelity", "f", "--store", db, "--min-final", "1"); code == 0 || !strings.Contains(errs, "epoch 4") {
		t.Errorf("--min-final 1: exit %d, stderr %q; want an error naming epoch 4", code, errs)
	}
	if code, _, errs := runCmd(t, "fidelity", "nosuch", "--store", db); code == 0 || !strings.Contains(errs, "nosuch") {
		t.Errorf("unknown study: exit %d, stderr %q", code, errs)
	}
}
