package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/store/boltstore"
	"goalsearch/summary"
	"goalsearch/trainer/goals"
)

// reportStore writes a small store: a searched study of three trials (one
// failed) and an evaluation of its best goal on two seeds.
func reportStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.db")
	st, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	labels, _ := goals.Labels("context")
	cfg, _ := json.Marshal(setups.NetworkConfig{Setup: "context", Hidden: 20, Epochs: 2})
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	sp := store.SearchSpace{Labels: labels, Lower: []float64{-1, -1, -1, -1, -1}, Upper: []float64{1, 1, 1, 1, 1}}
	d := store.Dump{Study: store.Study{Name: "s", Setup: store.Setup{Name: "context", Config: cfg}, Space: sp,
		Objective: store.Objective{Metric: "val_acc", Direction: store.Maximize}, Sampler: store.SamplerConfig{Name: "random"},
		CreatedAt: t0, SchemaVersion: store.SchemaVersion}}
	val := func(v float64) *float64 { return &v }
	for n, v := range []float64{0.91, 0.93, -1} {
		tr := store.Trial{Number: n, Gamma: []float64{0, 0, 1, float64(n) / 4, 0}, Seed: uint64(n), Attempt: 1, Created: t0, Started: t0, Finished: t0.Add(time.Minute),
			WallTime: time.Minute, Epochs: []store.EpochMetrics{{Epoch: 1, ValAcc: v - 0.05, TrainAcc: v - 0.04}, {Epoch: 2, ValAcc: v, TrainAcc: v + 0.01}}}
		if v < 0 {
			tr.State, tr.Reason, tr.Epochs = store.Failed, "training diverged", nil
		} else {
			tr.State, tr.Value, tr.Final = store.Complete, val(v), map[string]float64{"val_acc": v}
			tr.Atoms = [][]float64{{0.1, 0.2, 0.3, 0.1, 0.05}, {0.1, 0.2, 0.3, 0.1, 0.05}}
		}
		d.Trials = append(d.Trials, tr)
	}
	ev, err := summary.EvalStudy(summary.EvalConfig{Kind: summary.KindEvaluate, Group: "s", Setup: "context", Hidden: 20, Epochs: 2, Seeds: []uint64{7, 8},
		Goals: []summary.EvalGoal{{Name: "trial 1", Gamma: d.Trials[1].Gamma, Trial: 1}}}, labels)
	if err != nil {
		t.Fatal(err)
	}
	ev.CreatedAt, ev.SchemaVersion = t0, store.SchemaVersion
	e := store.Dump{Study: ev}
	for i, seed := range []uint64{7, 8} {
		v := 0.92 + 0.01*float64(i)
		e.Trials = append(e.Trials, store.Trial{Number: i, State: store.Complete, Gamma: d.Trials[1].Gamma, Seed: seed, Attempt: 1,
			Created: t0, Started: t0, Finished: t0, Value: val(v - 0.01), Final: map[string]float64{"val_acc": v, "test_acc": v - 0.01},
			Epochs: []store.EpochMetrics{{Epoch: 1, ValAcc: v - 0.02, TestAcc: val(v - 0.03)}, {Epoch: 2, ValAcc: v, TestAcc: val(v - 0.01)}}})
	}
	for _, x := range []store.Dump{d, e} {
		if err := st.Import(context.Background(), x, false); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestReportCommand(t *testing.T) {
	db := reportStore(t)
	dir := t.TempDir()

	html := filepath.Join(dir, "s.html")
	code, _, errOut := runCmd(t, "report", "s", "--store", db, "-o", html)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "Study: s", "s/evaluate/context/h20", "<svg class=\"plot\"", "Comparison of goals"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}
	if !strings.Contains(errOut, "wrote "+html) {
		t.Errorf("stderr %q", errOut)
	}

	// Markdown, chosen by the extension, with the plots beside it.
	md := filepath.Join(dir, "s.md")
	if code, _, errOut := runCmd(t, "report", "s", "--store", db, "-o", md); code != 0 {
		t.Fatalf("markdown: exit %d: %s", code, errOut)
	}
	text, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	svgs, _ := filepath.Glob(filepath.Join(dir, "s_files", "*.svg"))
	if len(svgs) == 0 || strings.Count(string(text), "](s_files/") != len(svgs) {
		t.Errorf("%d SVG files, %d links", len(svgs), strings.Count(string(text), "](s_files/"))
	}

	// HTML on standard output; --all.
	if code, out, _ := runCmd(t, "report", "--all", "--store", db, "-o", "-"); code != 0 || !strings.HasPrefix(out, "<!DOCTYPE html>") {
		t.Errorf("--all -o -: exit %d, %.40q", code, out)
	}
}

func TestReportErrors(t *testing.T) {
	db := reportStore(t)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"report", "--store", db}, 2, "name at least one study"},
		{[]string{"report", "s", "--all", "--store", db}, 2, "not both"},
		{[]string{"report", "s", "--store", db, "--format", "pdf"}, 2, "want html or md"},
		{[]string{"report", "s", "--store", db, "--format", "md", "-o", "-"}, 2, "needs a file"},
		{[]string{"report", "nope", "--store", db, "-o", filepath.Join(t.TempDir(), "x.html")}, 1, `no study or group of evaluation studies named "nope"`},
		{[]string{"report", "s", "--store", filepath.Join(t.TempDir(), "missing.db")}, 1, "no store at"},
	} {
		code, _, errOut := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args[1:], code, errOut, c.code, c.msg)
		}
	}
}
