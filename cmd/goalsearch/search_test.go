package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"goalsearch/store"
	"goalsearch/store/boltstore"
)

// TestMain lets the kill test run this test binary as the goalsearch
// command in a subprocess.
func TestMain(m *testing.M) {
	if os.Getenv("GOALSEARCH_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], streams{os.Stdin, os.Stdout, os.Stderr}))
	}
	os.Exit(m.Run())
}

// studyDump reads a study back, without what legitimately differs between
// runs: timestamps, wall times, worker names and attempt counts.
func studyDump(t *testing.T, path, name string) store.Dump {
	t.Helper()
	st, err := boltstore.Open(path, &boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.Export(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	d.Study.CreatedAt = time.Time{}
	for i := range d.Trials {
		tr := &d.Trials[i]
		tr.Created, tr.Started, tr.Finished, tr.WallTime, tr.Worker, tr.Attempt = time.Time{}, time.Time{}, time.Time{}, 0, "", 0
		for j := range tr.Epochs {
			tr.Epochs[j].Seconds = 0
		}
	}
	for i := range d.SamplerStates {
		d.SamplerStates[i].CreatedAt = time.Time{}
	}
	d.Checkpoints = nil
	return d
}

// killArgs is the search the kill test runs, with the sampler's name.
func killArgs(sampler string) []string {
	return []string{"search", "--study", "k", "--setup", "sphere", "--dim", "4", "--sampler", sampler,
		"--trials", "60", "--epochs", "3", "--workers", "2", "--sleep", "100ms", "--seed", "11"}
}

// TestSearchSurvivesKill starts a synthetic search in a subprocess, kills
// it with SIGKILL at 20 random moments, resumes it each time, and checks that
// the finished study equals an uninterrupted run's: the same trials in the
// same order with the same goals, results and sampler states. It runs
// CMA-ES (a population sampler), TPE (which proposes while points are
// pending, warm-started with enqueued goals), the GP sampler (which
// also keeps its last fit in its state) and NSGA-II (two objectives),
// each with 2 workers.
func TestSearchSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test runs a subprocess 20 times")
	}
	t.Run("cmaes", func(t *testing.T) { testSurvivesKill(t, killArgs("cmaes")) })
	// TPE warm-started with two enqueued goals, so that kills before its
	// first saved state (while the enqueued goals run) are covered too.
	t.Run("tpe", func(t *testing.T) {
		testSurvivesKill(t, append(killArgs("tpe"), "--enqueue", "0.3,0.3,0.3,0.3", "--enqueue", "-0.5,0.2,0.1,0.9"))
	})
	t.Run("gp", func(t *testing.T) {
		testSurvivesKill(t, append(killArgs("gp"), "--enqueue", "0.3,0.3,0.3,0.3"))
	})
	// NSGA-II on two objectives, generations of 8 so that 60 trials span
	// several selections; the second value is stored with each trial.
	t.Run("nsga2", func(t *testing.T) {
		testSurvivesKill(t, append(killArgs("nsga2"), "--objectives", "accuracy,nonzero", "--sampler-config", `{"population_size":8}`))
	})
}

func testSurvivesKill(t *testing.T, killArgs []string) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.db")
	if code, _, errs := runCmd(t, append(killArgs, "--store", ref)...); code != 0 {
		t.Fatalf("reference run: exit %d: %s", code, errs)
	}
	want := studyDump(t, ref, "k")
	if slices.Contains(killArgs, "--objectives") && (len(want.Trials) == 0 || len(want.Trials[0].Values) != 1) {
		t.Fatalf("reference run of a two-objective study: trial 0 has values %v, want one", want.Trials[0].Values)
	}
	if len(want.Trials) < 60 || len(want.SamplerStates) == 0 {
		t.Fatalf("reference run has %d trials, %d sampler states", len(want.Trials), len(want.SamplerStates))
	}

	cut := filepath.Join(dir, "cut.db")
	r := rand.New(rand.NewPCG(3, 4))
	killed := 0
	for i := 0; i < 20; i++ {
		cmd := exec.Command(os.Args[0], append(killArgs, "--store", cut)...)
		cmd.Env = append(os.Environ(), "GOALSEARCH_TEST_MAIN=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-time.After(time.Duration(20+r.IntN(300)) * time.Millisecond):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			killed++
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d: %v", i, err)
			}
		}
	}
	t.Logf("%d of 20 runs killed", killed)
	if killed < 15 {
		t.Fatalf("only %d of 20 runs were killed; the test did not test much", killed)
	}
	if code, _, errs := runCmd(t, append(killArgs, "--store", cut)...); code != 0 {
		t.Fatalf("final run: exit %d: %s", code, errs)
	}
	got := studyDump(t, cut, "k")
	if !reflect.DeepEqual(got.Study, want.Study) {
		t.Fatalf("study differs:\n%+v\n%+v", got.Study, want.Study)
	}
	if len(got.Trials) != len(want.Trials) {
		t.Fatalf("%d trials, want %d", len(got.Trials), len(want.Trials))
	}
	for i := range want.Trials {
		if !reflect.DeepEqual(got.Trials[i], want.Trials[i]) {
			g, _ := json.Marshal(got.Trials[i])
			w, _ := json.Marshal(want.Trials[i])
			t.Fatalf("trial %d differs after %d kills:\n got %s\nwant %s", i, killed, g, w)
		}
	}
	if !reflect.DeepEqual(got.SamplerStates, want.SamplerStates) {
		t.Fatalf("sampler states differ after %d kills", killed)
	}
}

func TestSearchCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	code, out, errs := runCmd(t, "search", "--study", "demo", "--store", db, "--setup", "rastrigin", "--dim", "3",
		"--sampler", "cmaes", "--trials", "12", "--workers", "2", "--enqueue", "0.1,0.2,0.3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sum searchSummaryJSON
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Finished != 12 || sum.Best == nil || len(sum.BestGoal) != 3 {
		t.Fatalf("summary %s (%v)", out, err)
	}
	// The enqueued goal ran first.
	code, out, _ = runCmd(t, "trials", "demo", "--store", db, "--json")
	var trials []store.Trial
	if code != 0 || json.Unmarshal([]byte(out), &trials) != nil || !reflect.DeepEqual(trials[0].Gamma, []float64{0.1, 0.2, 0.3}) {
		t.Fatalf("trials: %s", out)
	}
	// Resuming with a larger budget needs only the name; the command that
	// created the study, --enqueue included, resumes it too, but other
	// enqueued goals are refused.
	if code, _, errs := runCmd(t, "search", "--study", "demo", "--store", db, "--trials", "16"); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errs)
	}
	if code, _, errs := runCmd(t, "search", "--study", "demo", "--store", db, "--setup", "rastrigin", "--dim", "3",
		"--sampler", "cmaes", "--trials", "20", "--workers", "2", "--enqueue", "0.1,0.2,0.3"); code != 0 {
		t.Fatalf("resume with the creating command: exit %d: %s", code, errs)
	}
	if code, _, errs := runCmd(t, "search", "--study", "demo", "--store", db, "--trials", "20", "--enqueue", "0.1,0.2,0.4"); code == 0 || !strings.Contains(errs, "other enqueued goals") {
		t.Fatalf("resume with other enqueued goals: exit %d: %s", code, errs)
	}
	code, out, _ = runCmd(t, "status", "demo", "--store", db)
	if code != 0 || !strings.Contains(out, "demo") || !strings.Contains(out, "best goal") {
		t.Fatalf("status:\n%s", out)
	}
	// Export, import under a new name, and the same trials come back.
	exp := filepath.Join(dir, "demo.json")
	if code, _, errs := runCmd(t, "export", "demo", "--store", db, "-o", exp); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	if code, _, errs := runCmd(t, "import", exp, "--store", db, "--name", "copy"); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	code, csv, _ := runCmd(t, "export", "copy", "--store", db, "--format", "csv")
	if code != 0 || strings.Count(csv, "\n") < 21 {
		t.Fatalf("csv export:\n%s", csv)
	}
}

func TestSearchErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"search", "--setup", "sphere"}, 2, "--study is required"},
		{[]string{"search", "--study", "x"}, 2, "--setup is required"},
		{[]string{"search", "--study", "x", "--setup", "mnist-magic"}, 2, `network.setup (--setup): "mnist-magic"`},
		{[]string{"search", "--study", "x", "--setup", "sphere", "--sampler", "bayes"}, 1, `unknown sampler "bayes"`},
		{[]string{"search", "--study", "x", "--setup", "sphere", "--sampler", "tpe", "--sampler-config", `{"n_startup":3}`}, 1, "n_startup"},
		{[]string{"search", "--study", "x", "--setup", "sphere", "--pruner", "asha", "--pruner-config", `{"etta":3}`}, 1, "etta"},
		{[]string{"search", "--study", "x", "--setup", "context-lateral", "--fix", "H_ress=0"}, 2, `no atom "H_ress"`},
		{[]string{"search", "--study", "x", "--setup", "context", "--enqueue", "1,2"}, 2, "setup context wants 5"},
		{[]string{"status", "nope"}, 1, "nope"},
		{[]string{"export", "x", "--format", "xml"}, 2, "--format"},
	}
	for _, c := range cases {
		code, _, errs := runCmd(t, append(c.args, "--store", db)...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q, want %q", c.args, code, c.code, errs, c.msg)
		}
	}
	// A study defined one way cannot be resumed with another definition.
	runCmd(t, "search", "--study", "d", "--setup", "sphere", "--dim", "2", "--trials", "1", "--store", db)
	if code, _, errs := runCmd(t, "search", "--study", "d", "--setup", "sphere", "--dim", "3", "--store", db); code != 1 || !strings.Contains(errs, "exists") {
		t.Errorf("redefinition: exit %d, %s", code, errs)
	}
}

// A writer on a store that a running search holds says so, and what to do.
func TestLockedStoreMessage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	held, err := boltstore.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	code, _, errs := runCmd(t, "search", "--study", "x", "--setup", "sphere", "--store", db)
	if code != 1 || !strings.Contains(errs, "is locked by another process") || !strings.Contains(errs, "probably running on it") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}
