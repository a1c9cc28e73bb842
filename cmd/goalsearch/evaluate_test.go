package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"goalsearch/internal/testutil"
	"goalsearch/search"
	"goalsearch/store"
	"goalsearch/summary"
)

// tinyDataDir writes a small synthetic image set (testutil.Images) in
// MNIST's IDX layout, for --data: networks train on it in milliseconds.
func tinyDataDir(t *testing.T) string { return testutil.ImageDir(t, 640, 200) }

func studyTrials(t *testing.T, db, study string) []store.Trial {
	t.Helper()
	code, out, errs := runCmd(t, "trials", study, "--store", db, "--json")
	var trials []store.Trial
	if code != 0 || json.Unmarshal([]byte(out), &trials) != nil {
		t.Fatalf("trials %s: exit %d: %s", study, code, errs)
	}
	return trials
}

func TestEvaluateCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, errs := runCmd(t, "search", "--study", "s", "--setup", "sphere", "--dim", "3", "--sampler", "random",
		"--trials", "8", "--epochs", "2", "--store", db); code != 0 {
		t.Fatalf("search: %s", errs)
	}
	args := []string{"evaluate", "s", "--top", "2", "--goal", "0.3,0.3,0.3", "--seeds", "2", "--workers", "2", "--store", db}
	code, out, errs := runCmd(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("evaluate: exit %d: %s", code, errs)
	}
	checkJSONConventions(t, "evaluate --json", out)
	var res []evalJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 {
		t.Fatalf("evaluate --json: %v\n%s", err, out)
	}
	r := res[0]
	if r.Study != "s/evaluate/sphere/h0" || len(r.Goals) != 3 || r.Goals[2].Goal.Name != "0.3,0.3,0.3" || r.Stopped {
		t.Fatalf("result %+v", r)
	}
	for _, g := range r.Goals {
		if g.Complete != 2 || g.Val.N != 2 || g.Test.N != 2 {
			t.Errorf("goal %s: %+v", g.Goal.Name, g)
		}
	}
	if !strings.Contains(errs, "[6/6]") {
		t.Errorf("progress:\n%s", errs)
	}
	// Again, as a table: nothing is trained twice.
	code, out, errs = runCmd(t, args...)
	if code != 0 || !strings.Contains(out, "s/evaluate/sphere/h0 (2 seeds, 2 epochs)") || !strings.Contains(out, "test mean") || strings.Contains(errs, "runs of") {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errs)
	}
	if n := len(studyTrials(t, db, r.Study)); n != 6 {
		t.Errorf("%d trials after a second run, want 6", n)
	}
}

// TestEvaluateSurvivesKill kills an evaluation with SIGKILL while it runs
// and checks that the next run keeps what had finished and completes the
// rest.
func TestEvaluateSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a subprocess")
	}
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, errs := runCmd(t, "search", "--study", "k", "--setup", "sphere", "--dim", "2", "--sampler", "random",
		"--trials", "4", "--epochs", "4", "--sleep", "120ms", "--workers", "4", "--store", db); code != 0 {
		t.Fatalf("search: %s", errs)
	}
	args := []string{"evaluate", "k", "--top", "3", "--seeds", "2", "--workers", "2", "--store", db}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GOALSEARCH_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// 6 runs of 120 ms, 2 at a time: kill it when the second has finished,
	// while others run.
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), "[2/6]") {
	}
	cmd.Process.Signal(syscall.SIGKILL)
	io.Copy(io.Discard, stderr)
	cmd.Wait()
	before := studyTrials(t, db, "k/evaluate/sphere/h0")
	done := map[int]time.Time{}
	running := 0
	for _, tr := range before {
		if tr.State.Finished() {
			done[tr.Number] = tr.Finished
		}
		if tr.State == store.Running {
			running++
		}
	}
	if len(before) != 6 || len(done) == 6 {
		t.Fatalf("killed run left %d trials, %d finished", len(before), len(done))
	}
	if code, _, errs := runCmd(t, args...); code != 0 {
		t.Fatalf("resume: %s", errs)
	}
	after := studyTrials(t, db, "k/evaluate/sphere/h0")
	for _, tr := range after {
		if tr.State != store.Complete {
			t.Errorf("trial %d is %s", tr.Number, tr.State)
		}
		if f, ok := done[tr.Number]; ok && !f.Equal(tr.Finished) {
			t.Errorf("finished trial %d ran again", tr.Number)
		}
	}
	t.Logf("killed with %d finished and %d running of 6", len(done), running)
}

func TestEvaluatePresetsAndReproduce(t *testing.T) {
	data := tinyDataDir(t)
	db := filepath.Join(t.TempDir(), "s.db")
	code, out, errs := runCmd(t, "evaluate", "--goal", "context/naive", "--seeds", "1", "--epochs", "1", "--hidden", "4,6",
		"--data", data, "--store", db, "--json")
	if code != 0 {
		t.Fatalf("evaluate: exit %d: %s", code, errs)
	}
	var res []evalJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 2 || res[1].Study != "presets/evaluate/context/h6" {
		t.Fatalf("%v\n%s", err, out)
	}
	if g := res[0].Goals[0]; g.Goal.Name != "context/naive" || g.Test.N != 1 || !(g.Test.Mean > 0 && g.Test.Mean <= 1) || len(g.Atoms) != 5 {
		t.Errorf("context/naive: %+v", g)
	}

	code, out, errs = runCmd(t, "reproduce", "--hidden", "4", "--seeds", "1", "--epochs", "1", "--data", data, "--store", db, "--json")
	if code != 0 {
		t.Fatalf("reproduce: exit %d: %s", code, errs)
	}
	checkJSONConventions(t, "reproduce --json", out)
	res = nil
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 6 {
		t.Fatalf("reproduce: %v\n%s", err, out)
	}
	want := []string{"context", "lateral", "context-lateral", "context-lateral-feedback", "random-projection", "backprop"}
	for i, r := range res {
		if r.Study != summary.EvalStudyName("presets", summary.KindReproduce, want[i], 4) {
			t.Errorf("study %d is %s", i, r.Study)
		}
		for _, g := range r.Goals {
			if g.Complete != 1 || g.Test.N != 1 {
				t.Errorf("%s %s: %+v", r.Study, g.Goal.Name, g)
			}
		}
	}
	if len(res[2].Goals) != 3 || res[5].Goals[0].Goal.Name != "backprop" {
		t.Errorf("context-lateral goals %d, backprop %+v", len(res[2].Goals), res[5].Goals)
	}
	code, out, _ = runCmd(t, "status", "--store", db)
	if code != 0 || !strings.Contains(out, "presets/reproduce/backprop/h4") {
		t.Errorf("status:\n%s", out)
	}
}

func TestAnalyzeCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, errs := runCmd(t, "search", "--study", "a", "--setup", "sphere", "--dim", "3", "--sampler", "random",
		"--trials", "10", "--store", db); code != 0 {
		t.Fatalf("search: %s", errs)
	}
	code, out, errs := runCmd(t, "analyze", "a", "--seeds", "2", "--top", "5", "--workers", "2", "--store", db)
	if code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	for _, s := range []string{"best goal: trial", "sensitivity", "sparsification", "sparse goal", "agreement over the 5 best", "a/sensitivity/sphere/h0"} {
		if !strings.Contains(out, s) {
			t.Errorf("no %q in\n%s", s, out)
		}
	}
	code, out, _ = runCmd(t, "analyze", "a", "--seeds", "2", "--top", "5", "--store", db, "--json")
	checkJSONConventions(t, "analyze --json", out)
	var a search.Analysis
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || len(a.Sensitivity) != 3 || a.Sparsify == nil || a.Agreement.Top != 5 {
		t.Fatalf("analyze --json: exit %d\n%s", code, out)
	}
}

func TestEvaluateErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	runCmd(t, "search", "--study", "s", "--setup", "sphere", "--dim", "2", "--trials", "2", "--store", db)
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"evaluate"}, 2, "give a STUDY"},
		{[]string{"evaluate", "--goal", "naive"}, 2, "give a STUDY"},
		{[]string{"evaluate", "--goal", "context/naive", "--goal", "lateral/naive"}, 2, "--setup"},
		{[]string{"evaluate", "--setup", "backprop", "--goal", "1"}, 2, "takes no goal"},
		{[]string{"evaluate", "--setup", "context"}, 2, "--goal is required"},
		{[]string{"evaluate", "s", "--goal", "1,2,3"}, 2, "want 2"},
		{[]string{"evaluate", "s", "--hidden", "50"}, 2, "synthetic"},
		{[]string{"evaluate", "nope"}, 1, "nope"},
		{[]string{"evaluate", "s", "--seeds", "0"}, 2, "--seeds 0"},
		{[]string{"analyze"}, 2, "one study"},
		{[]string{"analyze", "s", "--round", "0"}, 2, "--round 0"},
		{[]string{"reproduce", "--hidden", "0"}, 2, "--hidden 0"},
	}
	for _, c := range cases {
		code, _, errs := runCmd(t, append(c.args, "--store", db)...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q, want %q", c.args, code, c.code, errs, c.msg)
		}
	}
	// An evaluation study is not a source of goals.
	runCmd(t, "evaluate", "s", "--top", "1", "--seeds", "1", "--store", db)
	if code, _, errs := runCmd(t, "evaluate", "s/evaluate/sphere/h0", "--store", db); code != 2 || !strings.Contains(errs, "evaluation study") {
		t.Errorf("evaluating an evaluation: exit %d, %s", code, errs)
	}
}
