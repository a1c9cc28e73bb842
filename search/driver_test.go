package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/store/boltstore"
)

// genSampler is a small generation-based sampler for the driver's tests: it
// proposes 4 points a generation around the best point told so far, so its
// proposals depend on the values, as CMA-ES's do, and it waits for a whole
// generation.
type genSampler struct {
	box Box
	st  genState
	rng *rand.PCG
}

type genState struct {
	Gen   int       `json:"gen"`
	Best  []float64 `json:"best"`
	BestV float64   `json:"best_v"`
	BestK int       `json:"best_k"`
	First int       // number of the generation's first point
	Pts   [][]float64
	Told  []bool
	RNG   []byte
}

func newGenSampler(box Box, seed uint64) *genSampler {
	return &genSampler{box: box, rng: rand.NewPCG(seed, 1), st: genState{BestV: math.Inf(1)}}
}

func (g *genSampler) Name() string { return "test" }

func (g *genSampler) Ask(int) ([][]float64, error) {
	if len(g.Pending()) > 0 {
		return nil, ErrPending
	}
	r := rand.New(g.rng)
	g.st.First += len(g.st.Pts)
	g.st.Pts, g.st.Told = nil, nil
	for i := 0; i < 4; i++ {
		x := make([]float64, g.box.Dim())
		for j := range x {
			c := 0.0
			if g.st.Best != nil {
				c = g.st.Best[j]
			}
			x[j] = math.Max(g.box.Lower[j], math.Min(g.box.Upper[j], c+0.3*r.NormFloat64()))
		}
		g.st.Pts = append(g.st.Pts, x)
		g.st.Told = append(g.st.Told, false)
	}
	g.st.Gen++
	return g.st.Pts, nil
}

func (g *genSampler) Pending() []int {
	var ks []int
	for i, told := range g.st.Told {
		if !told {
			ks = append(ks, g.st.First+i)
		}
	}
	return ks
}

func (g *genSampler) Tell(k int, r Result) error {
	i := k - g.st.First
	if i < 0 || i >= len(g.st.Told) || g.st.Told[i] {
		return ErrProtocol
	}
	g.st.Told[i] = true
	// The best is the lowest value, ties to the lowest number, so the
	// order of the tells does not matter. NaN never wins.
	if v := r.Value; !r.Pruned && (v < g.st.BestV || v == g.st.BestV && k < g.st.BestK) {
		g.st.BestV, g.st.BestK, g.st.Best = v, k, g.st.Pts[i]
	}
	return nil
}

func (g *genSampler) State() (SamplerState, error) {
	b, _ := g.rng.MarshalBinary()
	g.st.RNG = b
	st := g.st
	if math.IsInf(st.BestV, 1) {
		st.BestV = 1e300
	}
	data, err := json.Marshal(st)
	return SamplerState{Version: 1, Data: data}, err
}

func (g *genSampler) Restore(s SamplerState) error {
	if s.Version != 1 {
		return ErrState
	}
	var st genState
	if err := json.Unmarshal(s.Data, &st); err != nil {
		return err
	}
	g.st = st
	return g.rng.UnmarshalBinary(st.RNG)
}

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sphereStudy(name string, dim int, pruner string) store.Study {
	sp := store.SearchSpace{}
	for i := 0; i < dim; i++ {
		sp.Labels = append(sp.Labels, fmt.Sprintf("x%d", i+1))
		sp.Lower = append(sp.Lower, -1)
		sp.Upper = append(sp.Upper, 1)
	}
	return store.Study{
		Name: name, Setup: store.Setup{Name: "sphere"}, Space: sp,
		Objective: store.Objective{Metric: "val_acc", Direction: store.Maximize},
		Sampler:   store.SamplerConfig{Name: "test"}, Pruner: store.PrunerConfig{Name: pruner}, Seed: 7,
	}
}

func runStudy(t *testing.T, st store.Store, study store.Study, obj Objective, opts Options) Summary {
	t.Helper()
	ctx := context.Background()
	if _, err := st.CreateStudy(ctx, study); err != nil {
		t.Fatal(err)
	}
	sp, _ := NewSpace(study.Space)
	sum, err := Run(ctx, st, study.Name, obj, newGenSampler(sp.Box(), study.Seed), opts)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// comparable strips what legitimately differs between runs (times, the
// worker's name) from a study's dump.
func comparable(t *testing.T, st store.Store, name string) store.Dump {
	t.Helper()
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
	return d
}

func TestRunBudgetAndGenerations(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "s.db"))
	obj, _ := NewSynthetic("sphere", setups.SyntheticConfig{Dim: 3, Epochs: 2})
	sum := runStudy(t, st, sphereStudy("a", 3, ""), obj, Options{Slots: 3, Trials: 10})
	if sum.Finished != 10 || sum.Complete != 10 || sum.Best == nil {
		t.Fatalf("summary %+v", sum)
	}
	trials, _ := st.Trials(context.Background(), "a")
	// 3 generations of 4 were needed for 10 trials; the last 2 wait queued.
	if len(trials) != 12 || trials[10].State != store.Queued || trials[11].Generation != 3 {
		t.Fatalf("%d trials, last %+v", len(trials), trials[len(trials)-1])
	}
	states, _ := st.SamplerStates(context.Background(), "a")
	if len(states) != 3 {
		t.Fatalf("%d sampler states, want 3", len(states))
	}
	// Every complete trial has 2 epochs and its value is -f(gamma).
	for _, tr := range trials[:10] {
		want := 0.0
		for _, g := range tr.Gamma {
			want -= (g - 0.3) * (g - 0.3)
		}
		if len(tr.Epochs) != 2 || math.Abs(*tr.Value-want) > 1e-12 {
			t.Fatalf("trial %d: %d epochs, value %v, want %v", tr.Number, len(tr.Epochs), *tr.Value, want)
		}
	}
	// A second run with a larger budget goes on from there.
	sum = runStudy(t, st, sphereStudy("a", 3, ""), obj, Options{Slots: 2, Trials: 14})
	if sum.Finished != 14 {
		t.Fatalf("after resume: %+v", sum)
	}
}

// TestResumeIsExact stops a search softly and with a cancelled context at
// several points and checks that the finished study equals one run without
// interruption: generation-synchronously with 2 slots, and asynchronously
// (TPE with ASHA pruning) with 1 slot.
func TestResumeIsExact(t *testing.T) {
	obj, _ := NewSynthetic("sphere", setups.SyntheticConfig{Dim: 4, Epochs: 3, Sleep: 3 * time.Millisecond})
	study := sphereStudy("s", 4, "")
	sp, _ := NewSpace(study.Space)
	testResumeIsExact(t, study, obj, func() Sampler { return newGenSampler(sp.Box(), 7) }, 2)

	pobj, _ := NewSynthetic("rastrigin", setups.SyntheticConfig{Dim: 4, Epochs: 9, Sleep: 3 * time.Millisecond})
	pstudy := sphereStudy("p", 4, "asha")
	pstudy.Sampler.Name = "tpe"
	testResumeIsExact(t, pstudy, pobj, func() Sampler {
		s, err := NewSampler("tpe", sp.Box(), nil, pstudy.Seed)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, 1)
}

func testResumeIsExact(t *testing.T, study store.Study, obj Objective, newSampler func() Sampler, slots int) {
	dir := t.TempDir()
	ref := openStore(t, filepath.Join(dir, "ref.db"))
	if _, err := ref.CreateStudy(context.Background(), study); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), ref, study.Name, obj, newSampler(), Options{Slots: slots, Trials: 17}); err != nil {
		t.Fatal(err)
	}
	want := comparable(t, ref, study.Name)

	st := openStore(t, filepath.Join(dir, "cut.db"))
	stopped := 0
	for i, budget := range []int{3, 6, 9, 13, 17} {
		stop := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(time.Duration(5+i*3) * time.Millisecond)
			if i%2 == 0 {
				close(stop)
			} else {
				cancel()
			}
		}()
		st.CreateStudy(ctx, study)
		sum, err := Run(ctx, st, study.Name, obj, newSampler(), Options{Slots: slots, Trials: budget, Stop: stop})
		if sum.Stopped {
			stopped++
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		cancel()
	}
	if stopped < 3 {
		t.Fatalf("%s: only %d of 5 runs were interrupted", study.Sampler.Name, stopped)
	}
	// Finish whatever the interruptions left.
	if _, err := Run(context.Background(), st, study.Name, obj, newSampler(), Options{Slots: slots, Trials: 17}); err != nil {
		t.Fatal(err)
	}
	got := comparable(t, st, study.Name)
	if !reflect.DeepEqual(got.Trials, want.Trials) {
		for i := range want.Trials {
			if i >= len(got.Trials) || !reflect.DeepEqual(got.Trials[i], want.Trials[i]) {
				t.Fatalf("%s: trial %d differs:\n got %+v\nwant %+v", study.Sampler.Name, i, got.Trials[min(i, len(got.Trials)-1)], want.Trials[i])
			}
		}
		t.Fatalf("%s: %d trials, want %d", study.Sampler.Name, len(got.Trials), len(want.Trials))
	}
	if !reflect.DeepEqual(got.SamplerStates, want.SamplerStates) {
		t.Fatalf("%s: sampler states differ", study.Sampler.Name)
	}
	pruned := 0
	for _, tr := range want.Trials {
		if tr.State == store.Pruned {
			pruned++
		}
	}
	if study.Pruner.Name != "" && pruned == 0 {
		t.Errorf("%s: no trial was pruned; the test did not test pruning", study.Sampler.Name)
	}
}

// TestAsynchronousWithPruner runs TPE with 2 slots, with ASHA and without
// a pruner. With the pruner it must be asked while its other trial runs
// (a generation saved before a trial of an earlier one finished), one
// point per free slot; without, never, 2 points a generation. Either way
// it learns each pruned trial as pruned at the epoch it reached.
func TestAsynchronousWithPruner(t *testing.T) {
	obj, _ := NewSynthetic("rastrigin", setups.SyntheticConfig{Dim: 3, Epochs: 9, Sleep: 18 * time.Millisecond})
	for _, pruner := range []string{"asha", ""} {
		st := openStore(t, filepath.Join(t.TempDir(), "s.db"))
		study := sphereStudy("a", 3, pruner)
		study.Sampler.Name = "tpe"
		ctx := context.Background()
		if _, err := st.CreateStudy(ctx, study); err != nil {
			t.Fatal(err)
		}
		sp, _ := NewSpace(study.Space)
		smp, _ := NewSampler("tpe", sp.Box(), nil, 3)
		if _, err := Run(ctx, st, "a", obj, smp, Options{Slots: 2, Trials: 30}); err != nil {
			t.Fatal(err)
		}
		d, _ := st.Export(ctx, "a")
		finished := map[int]time.Time{} // generation -> when its last trial finished
		for _, tr := range d.Trials {
			if tr.Finished.After(finished[tr.Generation]) {
				finished[tr.Generation] = tr.Finished
			}
		}
		overlapping, singles := 0, 0
		for _, s := range d.SamplerStates {
			if s.Generation > 1 && s.CreatedAt.Before(finished[s.Generation-1]) {
				overlapping++
			}
			if len(s.Trials) == 1 {
				singles++
			}
		}
		t.Logf("pruner %q: %d generations, %d of one point, %d asked before the previous one finished", pruner, len(d.SamplerStates), singles, overlapping)
		if pruner != "" && (overlapping == 0 || singles == 0) {
			t.Errorf("with %s: %d generations asked while the previous one ran, %d of one point; want some of both", pruner, overlapping, singles)
		}
		if pruner == "" && (overlapping > 0 || singles > 0) {
			t.Errorf("without a pruner: %d generations asked while the previous one ran, %d of one point; want none", overlapping, singles)
		}
		// What the sampler was told of each trial, from its last state.
		var data struct {
			State struct {
				Points []struct {
					Told, Pruned bool
					Step         int
				}
			}
		}
		last := d.SamplerStates[len(d.SamplerStates)-1]
		if err := json.Unmarshal(last.Data, &data); err != nil {
			t.Fatal(err)
		}
		k, pruned := 0, 0
		for _, tr := range d.Trials {
			if tr.Generation == 0 {
				continue
			}
			p := data.State.Points[k]
			k++
			if !p.Told {
				continue
			}
			if (tr.State == store.Pruned) != p.Pruned || (p.Pruned && p.Step != tr.LastEpoch()) {
				t.Errorf("trial %d (%s after %d epochs) told as pruned %v at step %d", tr.Number, tr.State, tr.LastEpoch(), p.Pruned, p.Step)
			}
			if p.Pruned {
				pruned++
			}
		}
		if pruner != "" && pruned == 0 {
			t.Errorf("with %s: no pruned trial told", pruner)
		}
	}
}

func TestFailedTrialsDoNotStopTheSearch(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "s.db"))
	// f > 1.5 fails: points far from the optimum diverge.
	obj, _ := NewSynthetic("sphere", setups.SyntheticConfig{Dim: 6, Fail: 1.5})
	sum := runStudy(t, st, sphereStudy("f", 6, ""), obj, Options{Slots: 2, Trials: 16})
	if sum.Finished != 16 || sum.Failed == 0 || sum.Complete == 0 {
		t.Fatalf("summary %+v", sum)
	}
	trials, _ := st.Trials(context.Background(), "f")
	for _, tr := range trials {
		if tr.State == store.Failed && tr.Reason == "" {
			t.Fatalf("trial %d failed without a reason", tr.Number)
		}
	}
}

func TestPruning(t *testing.T) {
	for _, pruner := range []string{"asha", "median"} {
		st := openStore(t, filepath.Join(t.TempDir(), "s.db"))
		obj, _ := NewSynthetic("rastrigin", setups.SyntheticConfig{Dim: 3, Epochs: 9})
		sum := runStudy(t, st, sphereStudy("p", 3, pruner), obj, Options{Slots: 1, Trials: 20})
		if sum.Finished != 20 || sum.Pruned == 0 || sum.Complete == 0 {
			t.Fatalf("%s: %+v", pruner, sum)
		}
		trials, _ := st.Trials(context.Background(), "p")
		for _, tr := range trials {
			if tr.State == store.Pruned && (len(tr.Epochs) >= 9 || tr.Value == nil) {
				t.Fatalf("%s: pruned trial %d has %d epochs, value %v", pruner, tr.Number, len(tr.Epochs), tr.Value)
			}
		}
	}
}

func TestASHARungs(t *testing.T) {
	// A network setup's first rung is where early epochs start to rank
	// goals as the last does (docs/fidelity.md); a synthetic one's is 1.
	net, err := NewPruner("asha", nil, "context-lateral", 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := net.(*ASHA).Rungs; !reflect.DeepEqual(got, []int{10, 30, 90}) {
		t.Fatalf("context-lateral rungs %v, want [10 30 90]", got)
	}
	p, err := NewPruner("asha", nil, "sphere", 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.(*ASHA).Rungs; !reflect.DeepEqual(got, []int{1, 3, 9, 27, 81}) {
		t.Fatalf("rungs %v", got)
	}
	// Fewer than η trials at rung 1: every trial goes on; then only the
	// best third of those that reached it.
	if p.Prune(0, 1, 0.5) || p.Prune(1, 1, 0.9) || !p.Prune(2, 1, 0.7) || p.Prune(3, 1, 0.95) || !p.Prune(4, 1, 0.6) {
		t.Error("asha kept the wrong trials")
	}
	if _, err := NewPruner("bogus", nil, "sphere", 10); err == nil {
		t.Error("unknown pruner accepted")
	}
}

func TestSpace(t *testing.T) {
	sp, err := NewSpace(store.SearchSpace{Labels: []string{"a", "b", "c"}, Lower: []float64{-1, -1, -1}, Upper: []float64{1, 1, 1},
		Fixed: map[string]float64{"c": 0}, UnitNorm: true})
	if err != nil {
		t.Fatal(err)
	}
	if sp.Box().Dim() != 2 {
		t.Fatalf("box %v", sp.Box())
	}
	g := sp.Gamma([]float64{0.3, 0.4})
	if math.Abs(g[0]-0.6) > 1e-15 || math.Abs(g[1]-0.8) > 1e-15 || g[2] != 0 {
		t.Fatalf("gamma %v", g)
	}
	if _, err := NewSpace(store.SearchSpace{Labels: []string{"a"}, Lower: []float64{1}, Upper: []float64{-1}}); err == nil {
		t.Error("empty bounds accepted")
	}
}
