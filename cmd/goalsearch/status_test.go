package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"goalsearch/store"
	"goalsearch/store/boltstore"
)

// busyStore is reportStore (a search "s" of three trials, 0.91, 0.93 and a
// failed one, and an evaluation of its best goal on two seeds) with two
// more trials of s: one queued, and one that worker w1:42 is running.
func busyStore(t *testing.T) string {
	t.Helper()
	db := reportStore(t)
	st, err := boltstore.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for _, g := range [][]float64{{1, 0, 0, 0, 0}, {0, 1, 0, 0, 0}} {
		if _, err := st.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: g, Seed: 9}); err != nil {
			t.Fatal(err)
		}
	}
	if tr, err := st.ClaimTrial(ctx, "s", "w1:42"); err != nil || tr.Number != 3 {
		t.Fatalf("claimed %d: %v", tr.Number, err)
	}
	return db
}

var columnGap = regexp.MustCompile(`\s{2,}`)

// cells splits a line of a table (columns at least two spaces apart) into
// at most n cells, the last taking the rest of the line.
func cells(line string, n int) []string {
	return columnGap.Split(strings.TrimSpace(line), n)
}

// row returns the cells of the table line whose first cell is key.
func row(t *testing.T, out, key string, n int) []string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if c := cells(l, n); c[0] == key {
			return c
		}
	}
	t.Fatalf("no row %q in\n%s", key, out)
	return nil
}

// A person sees a table of the studies, and for one study its workers and
// best goal; a script gets the same as JSON.
func TestStatusCommand(t *testing.T) {
	db := busyStore(t)
	code, out, errs := runCmd(t, "status", "--store", db)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errs)
	}
	head := cells(strings.SplitN(out, "\n", 2)[0], 20)
	if strings.Join(head, ",") != "study,setup,sampler,trials,complete,pruned,failed,queued,best,value,wall h" {
		t.Errorf("header %q", head)
	}
	// s: 5 trials, 2 complete, 1 failed, 2 queued or running; the best is
	// trial 1 (0.93); 3 trials of a minute each.
	if got := row(t, out, "s", 11); strings.Join(got, ",") != "s,context,random,5,2,0,1,2,#1,0.9300,0.05" {
		t.Errorf("row s: %q", got)
	}
	// The evaluation: 2 runs, the second seed's test accuracy 0.92 best.
	if got := row(t, out, "s/evaluate/context/h20", 11); strings.Join(got[1:], ",") != "context,evaluate,2,2,0,0,0,#1,0.9200,0.00" {
		t.Errorf("row of the evaluation: %q", got)
	}

	code, out, _ = runCmd(t, "status", "s", "--store", db)
	if code != 0 || strings.Contains(out, "s/evaluate") {
		t.Fatalf("status s: exit %d\n%s", code, out)
	}
	if w := row(t, out, "w1:42", 5); strings.Join(w, ",") != "w1:42,#3,1,0,-" {
		t.Errorf("running trial: %q", w)
	}
	if !strings.Contains(out, "best goal (trial 1):") || strings.Join(row(t, out, "{FC}", 2), " ") != "{FC} 0.2500" {
		t.Errorf("best goal of s:\n%s", out)
	}

	code, out, _ = runCmd(t, "status", "s", "--store", db, "--json")
	var js []studyStatus
	if code != 0 || json.Unmarshal([]byte(out), &js) != nil || len(js) != 1 {
		t.Fatalf("status --json: exit %d\n%s", code, out)
	}
	s := js[0]
	if s.Name != "s" || s.Trials != 5 || s.Counts["complete"] != 2 || s.Counts["failed"] != 1 || s.Counts["queued"] != 1 || s.Counts["running"] != 1 ||
		s.Best == nil || *s.Best != 1 || *s.BestValue != 0.93 || s.BestGoal["{F}{C}"] != 1 || s.BestGoal["{FC}"] != 0.25 || len(s.BestGoal) != 5 {
		t.Errorf("status --json: %+v", s)
	}
	if len(s.Workers) != 1 || s.Workers[0].Worker != "w1:42" || s.Workers[0].Trial != 3 || s.Workers[0].Attempt != 1 {
		t.Errorf("workers %+v", s.Workers)
	}
}

// An empty store is said to be empty, to a person and to a script (an empty
// list, not null).
func TestStatusEmptyStore(t *testing.T) {
	db := filepath.Join(t.TempDir(), "empty.db")
	st, err := boltstore.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if code, out, _ := runCmd(t, "status", "--store", db); code != 0 || out != "no studies in "+db+"\n" {
		t.Errorf("exit %d, %q", code, out)
	}
	if code, out, _ := runCmd(t, "status", "--store", db, "--json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("--json: exit %d, %q", code, out)
	}
}

// A person sees one line per trial, the sampler's generation of a search
// trial or the goal of an evaluation's run, and the goal or why it failed;
// a script gets every field.
func TestTrialsCommand(t *testing.T) {
	db := busyStore(t)
	code, out, errs := runCmd(t, "trials", "s", "--store", db)
	if code != 0 {
		t.Fatalf("trials: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if h := cells(lines[0], 7); strings.Join(h, ",") != "trial,state,gen,epochs,val_acc,wall,goal / reason" || len(lines) != 6 {
		t.Fatalf("%d lines, header %q\n%s", len(lines), h, out)
	}
	if c := row(t, out, "1", 7); c[1] != "complete" || c[3] != "2" || c[4] != "0.9300" || !strings.Contains(c[6], "{FC} +0.250") {
		t.Errorf("trial 1: %q", c)
	}
	if c := row(t, out, "2", 7); c[1] != "failed" || c[4] != "-" || c[6] != "training diverged" {
		t.Errorf("trial 2: %q", c)
	}
	if c := row(t, out, "3", 7); c[1] != "running" || c[4] != "-" {
		t.Errorf("trial 3: %q", c)
	}
	code, out, _ = runCmd(t, "trials", "s/evaluate/context/h20", "--store", db)
	if h := cells(strings.SplitN(out, "\n", 2)[0], 7); code != 0 || h[2] != "goal" || h[4] != "test_acc" {
		t.Errorf("evaluation's header %q (exit %d)", h, code)
	}

	code, out, _ = runCmd(t, "trials", "s", "--store", db, "--json")
	// The trial records of an export file: snake_case, seconds, RFC 3339.
	var trials []struct {
		Number      int                `json:"number"`
		State       store.TrialState   `json:"state"`
		Value       *float64           `json:"value"`
		Epochs      []map[string]any   `json:"epochs"`
		Atoms       [][]float64        `json:"atoms"`
		Final       map[string]float64 `json:"final"`
		Worker      string             `json:"worker"`
		WallSeconds float64            `json:"wall_seconds"`
		Created     time.Time          `json:"created"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &trials) != nil || len(trials) != 5 {
		t.Fatalf("trials --json: exit %d\n%s", code, out)
	}
	for i, tr := range trials {
		if tr.Number != i || tr.Created.IsZero() {
			t.Errorf("trial %d listed as %d, created %v", i, tr.Number, tr.Created)
		}
	}
	if tr := trials[1]; tr.State != store.Complete || *tr.Value != 0.93 || len(tr.Epochs) != 2 || tr.Epochs[1]["val_acc"] != 0.93 ||
		len(tr.Atoms) != 2 || tr.Final["val_acc"] != 0.93 || tr.WallSeconds != 60 {
		t.Errorf("trial 1: %+v", tr)
	}
	if tr := trials[3]; tr.State != store.Running || tr.Worker != "w1:42" || tr.Value != nil {
		t.Errorf("trial 3: %+v", tr)
	}
	if strings.Contains(out, `"Number"`) || strings.Contains(out, "wall_time_ns") {
		t.Errorf("trials --json has Go field names or nanoseconds:\n%.500s", out)
	}
}

func TestStatusAndTrialsErrors(t *testing.T) {
	db := reportStore(t)
	missing := filepath.Join(t.TempDir(), "missing.db")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"status", "nope", "--store", db}, 1, `"nope"`},
		{[]string{"status", "a", "b", "--store", db}, 2, "want at most one study name, got 2 arguments"},
		{[]string{"status", "--store", missing}, 1, "no store at " + missing},
		{[]string{"trials", "--store", db}, 2, "want one study name, got 0 arguments"},
		{[]string{"trials", "nope", "--store", db}, 1, `"nope"`},
		{[]string{"trials", "s", "--store", missing}, 1, "no store at"},
	} {
		code, out, errs := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d and %q", c.args, code, out, errs, c.code, c.msg)
		}
	}
}
