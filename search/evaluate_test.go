package search

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"goalsearch/internal/testutil"
	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/summary"
	"goalsearch/trainer/dataset"
)

// searchedSphere runs a small random search on the sphere and returns its
// study, as the source of evaluations.
func searchedSphere(t *testing.T, st store.Store, cfg setups.SyntheticConfig) store.Study {
	t.Helper()
	ctx := context.Background()
	s := sphereStudy("src", cfg.Dim, "")
	s.Sampler = store.SamplerConfig{Name: "random"}
	s.Setup.Config, _ = json.Marshal(cfg)
	s, err := st.CreateStudy(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := NewSpace(s.Space)
	smp, _ := NewSampler("random", sp.Box(), nil, s.Seed)
	obj, _ := NewSynthetic("sphere", setups.SyntheticConfig{Dim: cfg.Dim, Epochs: 1})
	if _, err := Run(ctx, st, s.Name, obj, smp, Options{Slots: 2, Trials: 12}); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEvaluateStoresAndResumes evaluates the top goals of a synthetic
// search on fresh seeds, stops the evaluation softly after two runs,
// resumes it, and checks the contract of evalstudy.go: one trial per goal
// and seed, GoalIndex indexing the goals, test accuracy recorded, finished
// runs never redone, stopped runs continued from their checkpoints, and
// the same results as an uninterrupted evaluation.
func TestEvaluateStoresAndResumes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, filepath.Join(dir, "e.db"))
	src := searchedSphere(t, st, setups.SyntheticConfig{Dim: 3, Epochs: 3, Sleep: 30 * time.Millisecond})
	srcTrials, _ := st.Trials(ctx, src.Name)

	plan, err := PlanFromStudy(src, summary.KindEvaluate, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	plan.Config.Seeds = EvalSeeds(2, TrialSeeds(srcTrials))
	plan.Config.Goals = append(TopGoals(srcTrials, 3), summary.EvalGoal{Name: "0.3,0.3,0.3", Gamma: []float64{0.3, 0.3, 0.3}, Trial: -1})
	if len(plan.Config.Goals) != 4 || plan.Config.Goals[0].Trial < 0 {
		t.Fatalf("goals %+v", plan.Config.Goals)
	}

	// Stop softly once two runs have finished.
	stop := make(chan struct{})
	var once sync.Once
	ev := &Evaluator{Store: st, Options: Options{Slots: 2, Stop: stop, Observer: func(e Event) {
		if e.Kind == TrialFinished && e.Finished >= 2 {
			once.Do(func() { close(stop) })
		}
	}}}
	res, err := ev.Evaluate(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Summary.Stopped || res.Study.Name != "src/evaluate/sphere/h0" {
		t.Fatalf("first run: %+v, study %s", res.Summary, res.Study.Name)
	}
	before, _ := st.Trials(ctx, res.Study.Name)
	if len(before) != 8 {
		t.Fatalf("%d trials, want 4 goals × 2 seeds", len(before))
	}
	finished := map[int]store.Trial{}
	var stopped []int
	for _, tr := range before {
		switch {
		case tr.State.Finished():
			finished[tr.Number] = tr
		case tr.CheckpointEpoch > 0:
			stopped = append(stopped, tr.Number)
		}
	}
	if len(finished) < 2 || len(finished) == 8 || len(stopped) == 0 {
		t.Fatalf("after the stop: %d finished, %d with checkpoints", len(finished), len(stopped))
	}

	// Resume: a new evaluator, the same plan.
	ev = &Evaluator{Store: st, Options: Options{Slots: 2}}
	res, err = ev.Evaluate(ctx, plan)
	if err != nil || res.Summary.Stopped {
		t.Fatalf("resume: %+v, %v", res.Summary, err)
	}
	after, _ := st.Trials(ctx, res.Study.Name)
	if len(after) != 8 {
		t.Fatalf("%d trials after resuming", len(after))
	}
	cfg, err := summary.ReadEvalConfig(res.Study)
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := NewSynthetic("sphere", setups.SyntheticConfig{Dim: 3})
	for _, tr := range after {
		if tr.State != store.Complete {
			t.Fatalf("trial %d is %s", tr.Number, tr.State)
		}
		if old, ok := finished[tr.Number]; ok && (!old.Finished.Equal(tr.Finished) || old.Attempt != tr.Attempt) {
			t.Errorf("finished trial %d was run again", tr.Number)
		}
		if slices.Contains(stopped, tr.Number) && (tr.Attempt != 2 || len(tr.Epochs) != 3) {
			t.Errorf("stopped trial %d: attempt %d, %d epochs", tr.Number, tr.Attempt, len(tr.Epochs))
		}
		if !slices.Equal(tr.Gamma, cfg.Goals[summary.GoalIndex(tr)].Gamma) || !slices.Contains(cfg.Seeds, tr.Seed) {
			t.Errorf("trial %d: gamma %v seed %d is not goal %d on a study seed", tr.Number, tr.Gamma, tr.Seed, summary.GoalIndex(tr))
		}
		test, ok := tr.Final["test_acc"]
		if !ok || *tr.Value != test || tr.Epochs[2].TestAcc == nil || *tr.Epochs[2].TestAcc != test {
			t.Errorf("trial %d: no test accuracy: %v", tr.Number, tr.Final)
		}
		if want := -fn.f(tr.Gamma); math.Abs(tr.Final["val_acc"]-want) > 1e-12 {
			t.Errorf("trial %d: val_acc %v, want %v", tr.Number, tr.Final["val_acc"], want)
		}
	}
	for _, s := range cfg.Seeds {
		if TrialSeeds(srcTrials)[s] {
			t.Errorf("evaluation seed %d was a search trial's seed", s)
		}
	}
	if len(res.Eval.Goals) != 4 || res.Eval.Goals[0].Val.N != 2 || res.Eval.Goals[0].Test.N != 2 || res.Eval.Goals[0].Val.Mean != *srcTrials[plan.Config.Goals[0].Trial].Value {
		t.Errorf("stats %+v", res.Eval.Goals[0])
	}

	// Growing the study: a third seed and a fifth goal keep every trial
	// and add only the missing runs.
	plan.Config.Seeds = EvalSeeds(3, TrialSeeds(srcTrials))
	plan.Config.Goals = append(plan.Config.Goals, summary.EvalGoal{Name: "origin", Gamma: []float64{0, 0, 0}, Trial: -1})
	res, err = ev.Evaluate(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	grown, _ := st.Trials(ctx, res.Study.Name)
	cfg, _ = summary.ReadEvalConfig(res.Study)
	if len(grown) != 15 || len(cfg.Goals) != 5 || len(cfg.Seeds) != 3 || res.Goals[4] != 4 {
		t.Fatalf("grown: %d trials, %d goals, %d seeds", len(grown), len(cfg.Goals), len(cfg.Seeds))
	}
	for i := range after {
		if !grown[i].Finished.Equal(after[i].Finished) || !slices.Equal(grown[i].Gamma, after[i].Gamma) {
			t.Errorf("trial %d changed when the study grew", i)
		}
	}
	// Other epochs would make runs incomparable.
	if p2, _ := PlanFromStudy(src, summary.KindEvaluate, 0, 5); true {
		p2.Config.Seeds, p2.Config.Goals = plan.Config.Seeds, plan.Config.Goals[:1]
		if _, err := ev.Evaluate(ctx, p2); !errors.Is(err, store.ErrStudyExists) {
			t.Errorf("other epochs: %v", err)
		}
	}
}

// TestEvaluateMatchesUninterrupted compares a trainer evaluation stopped
// after its first epoch and resumed with one run straight through: the
// checkpointed network continues bit for bit.
func TestEvaluateMatchesUninterrupted(t *testing.T) {
	ctx := context.Background()
	data := tinyData(t)
	plan, err := PlanForSetup("presets", summary.KindEvaluate, setups.NetworkConfig{Setup: "context", Hidden: 6, Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	plan.Config.Seeds = EvalSeeds(1, nil)
	plan.Config.Goals = []summary.EvalGoal{{Name: "context/naive", Gamma: []float64{0, 0, 1, 0, 0}, Trial: -1}}

	ref := openStore(t, filepath.Join(t.TempDir(), "ref.db"))
	want, err := (&Evaluator{Store: ref, Data: data}).Evaluate(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, filepath.Join(t.TempDir(), "cut.db"))
	stop := make(chan struct{})
	var once sync.Once
	ev := &Evaluator{Store: st, Data: data, Options: Options{Stop: stop, Observer: func(e Event) {
		if e.Kind == EpochDone {
			once.Do(func() { close(stop) })
		}
	}}}
	if r, err := ev.Evaluate(ctx, plan); err != nil || !r.Summary.Stopped {
		t.Fatalf("stopped run: %+v %v", r.Summary, err)
	}
	if r, err := (&Evaluator{Store: st, Data: data}).Evaluate(ctx, plan); err != nil || r.Summary.Stopped {
		t.Fatalf("resumed run: %+v %v", r.Summary, err)
	}
	a, _ := ref.Trials(ctx, want.Study.Name)
	b, _ := st.Trials(ctx, want.Study.Name)
	if len(a) != 1 || len(b) != 1 || b[0].Attempt != 2 {
		t.Fatalf("%d and %d trials, attempt %d", len(a), len(b), b[0].Attempt)
	}
	if a[0].State != store.Complete || !mapsEqual(a[0].Final, b[0].Final) || len(b[0].Atoms) != 6 || len(b[0].Atoms[0]) != 5 {
		t.Fatalf("results differ:\n%v\n%v", a[0].Final, b[0].Final)
	}
	if v := a[0].Final["test_acc"]; !(v > 0 && v <= 1) || a[0].Epochs[1].TestAcc == nil {
		t.Errorf("test accuracy %v", v)
	}
	// A baseline takes no goal and stores the one-number gamma [0].
	bp, _ := PlanForSetup("presets", summary.KindEvaluate, setups.NetworkConfig{Setup: "backprop", Hidden: 6, Epochs: 1})
	bp.Config.Seeds = plan.Config.Seeds
	bp.Config.Goals = []summary.EvalGoal{{Name: "backprop", Trial: -1}}
	r, err := (&Evaluator{Store: st, Data: data}).Evaluate(ctx, bp)
	if err != nil || r.Eval.Goals[0].Complete != 1 || r.Study.Space.Labels[0] != "none" {
		t.Fatalf("backprop: %+v %v", r.Eval.Goals, err)
	}
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

var (
	tinyOnce sync.Once
	tiny     *dataset.Dataset
)

// tinyData is a small synthetic image set (testutil.Images): a network
// trains on it in milliseconds and learns it well above chance.
func tinyData(t testing.TB) *dataset.Dataset {
	tinyOnce.Do(func() { tiny = testutil.Images(t, 640, 200) })
	return tiny
}

// The statistics of the runs are summary.NewSample's (summary/sample_test.go).
func TestEvalSeeds(t *testing.T) {
	s := EvalSeeds(4, nil)
	if len(s) != 4 || !slices.Equal(EvalSeeds(3, nil), s[:3]) {
		t.Fatalf("seeds %v", s)
	}
	if got := EvalSeeds(3, map[uint64]bool{s[1]: true}); !slices.Equal(got, []uint64{s[0], s[2], s[3]}) {
		t.Errorf("avoiding %d: %v", s[1], got)
	}
}

func TestPrepareEvalDeduplicates(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "d.db"))
	plan, _ := PlanForSetup("presets", summary.KindEvaluate, setups.NetworkConfig{Setup: "context", Hidden: 4, Epochs: 1})
	s := EvalSeeds(2, nil)
	plan.Config.Seeds = []uint64{s[0], s[1], s[0]}
	naive := summary.EvalGoal{Name: "context/naive", Gamma: []float64{0, 0, 1, 0, 0}, Trial: -1}
	plan.Config.Goals = []summary.EvalGoal{naive, naive}
	study, idx, err := PrepareEval(ctx, st, plan)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := summary.ReadEvalConfig(study)
	trials, _ := st.Trials(ctx, study.Name)
	if !slices.Equal(idx, []int{0, 0}) || len(cfg.Goals) != 1 || len(cfg.Seeds) != 2 || len(trials) != 2 {
		t.Fatalf("idx %v, %d goals, %d seeds, %d trials", idx, len(cfg.Goals), len(cfg.Seeds), len(trials))
	}
	// Preparing again changes nothing.
	if _, _, err := PrepareEval(ctx, st, plan); err != nil {
		t.Fatal(err)
	}
	if again, _ := st.Trials(ctx, study.Name); len(again) != 2 {
		t.Fatalf("%d trials after preparing twice", len(again))
	}
}

// ForStudy runs an evaluation study with the evaluation objective and a
// sampler that proposes nothing, and a search with its own sampler.
func TestForStudy(t *testing.T) {
	cfg, _ := json.Marshal(setups.SyntheticConfig{Dim: 2, Epochs: 1})
	ev, _ := summary.EvalStudy(summary.EvalConfig{Kind: summary.KindEvaluate, Group: "s", Setup: "sphere", Hidden: 1, Epochs: 1}, []string{"x1", "x2"})
	ev.Setup.Config = cfg
	obj, smp, err := ForStudy(ev, 1)
	if err != nil || smp.Name() != summary.EvalSampler {
		t.Fatalf("evaluation study: %v, %v", smp, err)
	}
	if _, ok := obj.(*syntheticEval); !ok {
		t.Errorf("evaluation objective is %T", obj)
	}
	if _, err := smp.Ask(1); err != ErrDone {
		t.Errorf("the evaluation sampler proposed: %v", err)
	}
	s := sphereStudy("x", 2, "")
	s.Setup.Config = cfg
	s.Sampler.Name = "random"
	if _, smp, err := ForStudy(s, 1); err != nil || smp.Name() != "random" {
		t.Fatalf("search study: %v, %v", smp, err)
	}
}

func TestTrialGoals(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	trials := []store.Trial{
		{Number: 0, State: store.Complete, Gamma: []float64{1, 0}, Value: f(0.9)},
		{Number: 1, State: store.Pruned, Gamma: []float64{0, 1}, Value: f(0.8)},
		{Number: 2, State: store.Failed, Gamma: []float64{0.5, 0.5}},
		{Number: 3, State: store.Running, Gamma: []float64{0.2, 0.2}},
	}
	gs, err := TrialGoals(trials, []int{1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 2 || gs[0].Name != "trial 1" || gs[0].Trial != 1 || !slices.Equal(gs[0].Gamma, []float64{0, 1}) || gs[1].Trial != 0 {
		t.Fatalf("goals %+v, want trials 1 then 0", gs)
	}
	// The pruned trial's goal is a copy: evaluating it must not alias the trial.
	gs[0].Gamma[0] = 7
	if trials[1].Gamma[0] != 0 {
		t.Error("TrialGoals aliases the trial's goal")
	}
	for _, bad := range [][]int{{2}, {3}, {4}, {-1}} {
		if _, err := TrialGoals(trials, bad); err == nil {
			t.Errorf("trials %v: no error", bad)
		}
	}
	// Top goals and picked trials together hold each goal once.
	top := TopGoals(trials, 1)
	all := AppendNewGoals(top, gs[1], summary.EvalGoal{Name: "trial 1", Gamma: []float64{0, 1}, Trial: 1})
	if len(all) != 2 || all[0].Trial != 0 || all[1].Trial != 1 {
		t.Errorf("AppendNewGoals: %+v, want trial 0 once, then trial 1", all)
	}
}
