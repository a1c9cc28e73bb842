package search

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/summary"
)

// knownObjective has answers the analysis should find: the validation
// accuracy is 0.8 + 0.1·x1 + 0.003·x3 plus a little noise of the seed, so
// x1 matters a lot, x3 a little and x2 not at all (x4 is fixed at 0). The
// test accuracy favours x2 instead, so that an analysis deciding by it
// would be caught.
type knownObjective struct{}

func (knownObjective) Epochs() int { return 1 }

func (knownObjective) Run(_ context.Context, spec TrialSpec, report func(EpochReport) error) (Outcome, error) {
	g := spec.Gamma
	val := 0.8 + 0.1*g[0] + 0.003*g[2] + 5e-4*rand.New(rand.NewPCG(spec.Seed, 9)).NormFloat64()
	test := 0.8 + 0.1*g[1]
	if err := report(EpochReport{Metrics: store.EpochMetrics{Epoch: 1, ValAcc: val, TestAcc: &test}, Checkpoint: []byte("{}")}); err != nil {
		return Outcome{}, err
	}
	return Outcome{Value: test, Final: map[string]float64{"val_acc": val, "test_acc": test},
		Atoms: [][]float64{{g[0], 0, 0, 0}, {g[0], 1, 0, 0}}}, nil
}

// knownStudy stores a finished search over x1..x4 (x4 fixed at 0) whose
// best trial is (0.9, 0.4, 0.6, 0).
func knownStudy(t *testing.T, st store.Store) store.Study {
	t.Helper()
	ctx := context.Background()
	s := sphereStudy("known", 4, "")
	s.Space.Fixed = map[string]float64{"x4": 0}
	s.Setup.Config, _ = json.Marshal(setups.SyntheticConfig{Dim: 4, Epochs: 1})
	s, err := st.CreateStudy(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range [][]float64{{0.5, -0.4, 0.2, 0}, {0.9, 0.4, 0.6, 0}, {0.7, 0.9, -0.1, 0}, {-0.2, 0.1, 0.3, 0}, {0.8, -0.6, 0.5, 0}} {
		if _, err := st.EnqueueTrial(ctx, s.Name, store.NewTrial{Gamma: g, Seed: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// Search values are validation accuracies: run the trials with a
	// driver whose objective reports the validation accuracy as value.
	if _, err := Run(ctx, st, s.Name, valueIsVal{}, doneSampler{}, Options{}); err != nil {
		t.Fatal(err)
	}
	return s
}

type valueIsVal struct{ knownObjective }

func (v valueIsVal) Run(ctx context.Context, spec TrialSpec, report func(EpochReport) error) (Outcome, error) {
	out, err := v.knownObjective.Run(ctx, spec, report)
	out.Value = out.Final["val_acc"]
	return out, err
}

func TestAnalyzeFindsWhatMatters(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "a.db"))
	knownStudy(t, st)
	ev := &Evaluator{Store: st, Options: Options{Slots: 3}, Objective: func(store.Setup) (Objective, error) { return knownObjective{}, nil }}
	cfg := AnalyzeConfig{Study: "known", Seeds: 3, Tolerance: 0.005, Delta: 0.1, Top: 3}
	a, err := Analyze(ctx, ev, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Stopped || !slices.Equal(a.Best.Gamma, []float64{0.9, 0.4, 0.6, 0}) || a.Reference.Val.N != 3 {
		t.Fatalf("best %+v, reference %+v, stopped %v", a.Best, a.Reference, a.Stopped)
	}
	// Sensitivity: x1 first, x3 second, x2 last; the fixed x4 unranked.
	rank := map[string]int{}
	for _, s := range a.Sensitivity {
		rank[s.Atom] = s.Rank
	}
	if rank["x1"] != 1 || rank["x3"] != 2 || rank["x2"] != 3 || rank["x4"] != 0 || !a.Sensitivity[3].Fixed {
		t.Fatalf("ranks %v", rank)
	}
	// Zeroing x1 costs 0.1·0.9 exactly (the noise is paired away); +0.1 gains 0.01.
	if z := a.Sensitivity[0].Zero; z == nil || z.N != 3 || math.Abs(z.Diff+0.09) > 1e-12 || math.Abs(a.Sensitivity[0].Plus.Diff-0.01) > 1e-12 {
		t.Errorf("x1: %+v", a.Sensitivity[0])
	}
	// Sparsification: x2 and x3 go, x1 stays; every accepted step is within
	// the tolerance, and the path stops at the first that is not.
	sp := a.Sparsify
	if sp == nil || len(sp.Steps) != 3 {
		t.Fatalf("sparsify %+v", sp)
	}
	for i, want := range []struct {
		atom string
		ok   bool
	}{{"x2", true}, {"x3", true}, {"x1", false}} {
		s := sp.Steps[i]
		if s.Atom != want.atom || s.Accepted != want.ok || (s.Accepted && s.Diff < -cfg.Tolerance) {
			t.Errorf("step %d: %+v", i+1, s)
		}
	}
	if !slices.Equal(sp.SparseGamma, []float64{0.9, 0, 0, 0}) || sp.Terms != 1 || sp.Sparse == nil || sp.Sparse.Val.N != 3 {
		t.Errorf("sparse goal %v (%d terms), %+v", sp.SparseGamma, sp.Terms, sp.Sparse)
	}
	// Agreement over the top 3: (0.9,0.4,0.6), (0.8,-0.6,0.5), (0.7,0.9,-0.1).
	ag := a.Agreement
	if ag.Top != 3 || !slices.Equal(ag.Kept, []string{"x1"}) || ag.Atoms[1].Positive != 2 || ag.Atoms[1].Negative != 1 || ag.Atoms[3].Kept {
		t.Errorf("agreement %+v", ag)
	}
	// The synthetic setup has no heuristic goal; the best goal's profile is
	// the mean over neurons and seeds.
	if a.Profiles == nil || a.Profiles.Naive != nil || !slices.Equal(a.Profiles.Best.Atoms, []float64{0.9, 0.5, 0, 0}) {
		t.Errorf("profiles %+v", a.Profiles)
	}
	// The studies follow the contract, and a second analysis trains nothing.
	if !slices.Equal(a.Studies, []string{"known/sensitivity/sphere/h0", "known/sparsify/sphere/h0"}) {
		t.Fatalf("studies %v", a.Studies)
	}
	s, _ := st.Study(ctx, a.Studies[0])
	sc, _ := summary.ReadEvalConfig(s)
	if sc.Kind != summary.KindSensitivity || sc.Goals[0].Name != "best" || sc.Goals[1].Atom != "x1" || sc.Goals[1].Delta != -0.9 || len(sc.Goals) != 1+3+3+3 {
		t.Errorf("sensitivity study %+v", sc)
	}
	count := func() int {
		n := 0
		for _, name := range a.Studies {
			tr, _ := st.Trials(ctx, name)
			n += len(tr)
		}
		return n
	}
	n := count()
	ev.Objective = func(store.Setup) (Objective, error) { t.Fatal("trained again"); return nil, nil }
	b, err := Analyze(ctx, ev, cfg)
	if err != nil || count() != n {
		t.Fatalf("second analysis: %v, %d trials, want %d", err, count(), n)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("second analysis differs:\n%s\n%s", ja, jb)
	}
}

// TestAnalyzeTrainer runs the analysis on a tiny network, where the
// heuristic goal is evaluated too and the neurons' atoms are PID atoms.
func TestAnalyzeTrainer(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "a.db"))
	s := store.Study{Name: "ctx", Setup: store.Setup{Name: "context"},
		Space:     store.SearchSpace{Labels: []string{"{F}", "{C}", "{F}{C}", "{FC}", "H_res"}, Fixed: map[string]float64{"{FC}": 0, "H_res": 0}},
		Objective: store.Objective{Metric: "val_acc", Direction: store.Maximize}, Sampler: store.SamplerConfig{Name: "random"}}
	s.Setup.Config, _ = json.Marshal(setups.NetworkConfig{Setup: "context", Hidden: 5, Epochs: 1})
	for range s.Space.Labels {
		s.Space.Lower, s.Space.Upper = append(s.Space.Lower, -1), append(s.Space.Upper, 1)
	}
	if _, err := st.CreateStudy(ctx, s); err != nil {
		t.Fatal(err)
	}
	st.EnqueueTrial(ctx, "ctx", store.NewTrial{Gamma: []float64{0.2, 0, 1, 0, 0}})
	data := tinyData(t)
	obj, _ := NewEvalObjective(s.Setup, nil, 1, data)
	if _, err := Run(ctx, st, "ctx", obj, doneSampler{}, Options{}); err != nil {
		t.Fatal(err)
	}
	ev := &Evaluator{Store: st, Data: data, Options: Options{Slots: 2}}
	a, err := Analyze(ctx, ev, AnalyzeConfig{Study: "ctx", Seeds: 1, Tolerance: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	p := a.Profiles
	if p == nil || p.Naive == nil || p.Naive.Name != "context/naive" || len(p.Naive.Atoms) != 5 || len(p.Best.Atoms) != 5 {
		t.Fatalf("profiles %+v", p)
	}
	if p.Naive.Study != "ctx/evaluate/context/h5" || a.Sparsify == nil || a.Sparsify.Sparse == nil || a.Sparsify.Sparse.Test.N != 1 {
		t.Errorf("naive in %s, sparsify %+v", p.Naive.Study, a.Sparsify)
	}
	if len(a.Sensitivity) != 5 || a.Sensitivity[1].Rank == 0 || a.Sensitivity[1].Zero != nil {
		t.Errorf("sensitivity %+v", a.Sensitivity)
	}
}

func TestRoundGoal(t *testing.T) {
	got := roundGoal([]float64{0.3307, 0.978, -0.9935, -0.04, 0.05, 0.149}, 0.1)
	want := []float64{0.3, 1, -1, 0, 0.1, 0.1}
	if !slices.Equal(got, want) || math.Signbit(got[3]) {
		t.Errorf("rounded %v, want %v", got, want)
	}
}

// AnalyzeConfig.Trial analyses a named trial's goal instead of the best,
// and refuses a trial that is not complete.
func TestAnalyzeNamedTrial(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "a.db"))
	knownStudy(t, st)
	ev := &Evaluator{Store: st, Options: Options{Slots: 2}, Objective: func(store.Setup) (Objective, error) { return knownObjective{}, nil }}
	n := 4 // gamma (0.8, -0.6, 0.5, 0), not the best
	a, err := Analyze(ctx, ev, AnalyzeConfig{Study: "known", Seeds: 1, Delta: 0, Top: 3, Trial: &n})
	if err != nil {
		t.Fatal(err)
	}
	if a.Best.Trial != 4 || !slices.Equal(a.Best.Gamma, []float64{0.8, -0.6, 0.5, 0}) {
		t.Fatalf("analysed %+v, want trial 4", a.Best)
	}
	missing := 99
	if _, err := Analyze(ctx, ev, AnalyzeConfig{Study: "known", Seeds: 1, Trial: &missing}); err == nil {
		t.Error("a missing trial was analysed")
	}
}
