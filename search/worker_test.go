package search

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/store/pgstore"
	"goalsearch/store/pgstore/pgtest"
)

// sameDump strips leases (which only workers on a shared store have) and
// compares a study with the reference run's, trial by trial.
func sameDump(t *testing.T, st store.Store, name string, want store.Dump) {
	t.Helper()
	got := comparable(t, st, name)
	for i := range got.Trials {
		got.Trials[i].LeaseExpiry = time.Time{}
	}
	for i := range want.Trials {
		if i >= len(got.Trials) || !reflect.DeepEqual(got.Trials[i], want.Trials[i]) {
			t.Fatalf("trial %d differs:\n got %+v\nwant %+v", i, got.Trials[min(i, len(got.Trials)-1)], want.Trials[i])
		}
	}
	if len(got.Trials) != len(want.Trials) {
		t.Fatalf("%d trials, want %d", len(got.Trials), len(want.Trials))
	}
	if !reflect.DeepEqual(got.SamplerStates, want.SamplerStates) {
		t.Fatal("sampler states differ")
	}
}

// workers runs n Work calls at once on st, each with its own sampler, as n
// processes would.
func workers(t *testing.T, st store.Store, study store.Study, obj Objective, n int, opts WorkerOptions) []Summary {
	t.Helper()
	ctx := context.Background()
	if _, err := st.CreateStudy(ctx, study); err != nil {
		t.Fatal(err)
	}
	sp, _ := NewSpace(study.Space)
	sums := make([]Summary, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Go(func() {
			o := opts
			o.Name = string(rune('a' + i))
			sums[i], errs[i] = Work(ctx, st, study.Name, obj, newGenSampler(sp.Box(), study.Seed), o)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return sums
}

// TestWorkMatchesRun: a worker on a file computes what Run computes.
func TestWorkMatchesRun(t *testing.T) {
	dir := t.TempDir()
	obj, _ := NewSynthetic("sphere", setups.SyntheticConfig{Dim: 3, Epochs: 2, Sleep: 2 * time.Millisecond})
	ref := openStore(t, filepath.Join(dir, "ref.db"))
	runStudy(t, ref, sphereStudy("s", 3, ""), obj, Options{Slots: 2, Trials: 12})
	want := comparable(t, ref, "s")

	st := openStore(t, filepath.Join(dir, "w.db"))
	sums := workers(t, st, sphereStudy("s", 3, ""), obj, 1, WorkerOptions{Slots: 2, GenerationSize: 2, Trials: 12, Poll: time.Millisecond})
	if sums[0].Finished != 12 || sums[0].Complete != 12 || sums[0].Stopped {
		t.Fatalf("summary %+v", sums[0])
	}
	sameDump(t, st, "s", want)
}

// TestWorkersShareStudy runs 4 workers of 2 slots each on PostgreSQL and
// checks that every trial ran once and the study equals a single-process
// run's.
func TestWorkersShareStudy(t *testing.T) {
	st := pgtest.Open(t, pgstore.Options{Lease: 2 * time.Second})
	obj, _ := NewSynthetic("sphere", setups.SyntheticConfig{Dim: 3, Epochs: 3, Sleep: 15 * time.Millisecond})
	ref := openStore(t, filepath.Join(t.TempDir(), "ref.db"))
	runStudy(t, ref, sphereStudy("s", 3, ""), obj, Options{Slots: 2, Trials: 24})
	want := comparable(t, ref, "s")

	workers(t, st, sphereStudy("s", 3, ""), obj, 4, WorkerOptions{Slots: 2, GenerationSize: 2, Trials: 24, Poll: 5 * time.Millisecond})
	trials, _ := st.Trials(context.Background(), "s")
	for _, tr := range trials {
		if tr.State != store.Complete || tr.Attempt != 1 {
			t.Errorf("trial %d is %s after %d attempts, want complete after 1", tr.Number, tr.State, tr.Attempt)
		}
	}
	sameDump(t, st, "s", want)
}

// TestWorkersExactBudget runs 6 workers of 2 slots each on PostgreSQL with
// a budget of 23 trials, which a generation of 4 does not divide: the
// study must end with exactly trials 0-22 finished, each once, and the
// proposed trials beyond the budget never started.
func TestWorkersExactBudget(t *testing.T) {
	st := pgtest.Open(t, pgstore.Options{Lease: 5 * time.Second})
	obj, _ := NewSynthetic("sphere", setups.SyntheticConfig{Dim: 3, Epochs: 2, Sleep: 4 * time.Millisecond})
	const budget = 23
	sums := workers(t, st, sphereStudy("b", 3, ""), obj, 6, WorkerOptions{Slots: 2, GenerationSize: 2, Trials: budget, Poll: time.Millisecond})
	trials, err := st.Trials(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	finished := 0
	for _, tr := range trials {
		switch {
		case tr.Number < budget && (!tr.State.Finished() || tr.Attempt != 1):
			t.Errorf("trial %d is %s after %d attempts, want finished after 1", tr.Number, tr.State, tr.Attempt)
		case tr.Number >= budget && (tr.State != store.Queued || tr.Attempt != 0):
			t.Errorf("trial %d beyond the budget is %s after %d attempts, want queued, never started", tr.Number, tr.State, tr.Attempt)
		}
		if tr.State.Finished() {
			finished++
		}
	}
	if finished != budget || len(trials) != 24 {
		t.Errorf("%d trials finished of %d, want %d of 24 (6 generations of 4)", finished, len(trials), budget)
	}
	for i, s := range sums {
		if s.Finished != budget {
			t.Errorf("worker %d reports %d finished, want %d", i, s.Finished, budget)
		}
	}
}

// TestWorkersAsynchronous runs 4 workers of 2 slots on a TPE study with
// ASHA: they ask TPE asynchronously (generations of one point) and race
// to save generations, and must still end with exactly the budget
// finished, each trial once.
func TestWorkersAsynchronous(t *testing.T) {
	st := pgtest.Open(t, pgstore.Options{Lease: 5 * time.Second})
	obj, _ := NewSynthetic("rastrigin", setups.SyntheticConfig{Dim: 3, Epochs: 9, Sleep: 9 * time.Millisecond})
	study := sphereStudy("a", 3, "asha")
	study.Sampler.Name = "tpe"
	ctx := context.Background()
	if _, err := st.CreateStudy(ctx, study); err != nil {
		t.Fatal(err)
	}
	sp, _ := NewSpace(study.Space)
	const budget = 40
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			smp, err := NewSampler("tpe", sp.Box(), nil, study.Seed)
			if err == nil {
				_, err = Work(ctx, st, "a", obj, smp, WorkerOptions{Slots: 2, GenerationSize: 2, Trials: budget,
					Name: string(rune('a' + i)), Poll: time.Millisecond})
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	d, err := st.Export(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	finished, pruned := 0, 0
	for _, tr := range d.Trials {
		switch {
		case tr.Number < budget && (!tr.State.Finished() || tr.Attempt != 1):
			t.Errorf("trial %d is %s after %d attempts, want finished after 1", tr.Number, tr.State, tr.Attempt)
		case tr.Number >= budget && tr.Attempt != 0:
			t.Errorf("trial %d beyond the budget was started", tr.Number)
		}
		if tr.State.Finished() {
			finished++
		}
		if tr.State == store.Pruned {
			pruned++
		}
	}
	if finished != budget || pruned == 0 {
		t.Errorf("%d finished (want %d), %d pruned (want some)", finished, budget, pruned)
	}
	singles := 0
	for _, s := range d.SamplerStates {
		if len(s.Trials) == 1 {
			singles++
		}
	}
	if singles == 0 {
		t.Errorf("no generation of one point among %d: not asked asynchronously", len(d.SamplerStates))
	}
}

// TestWorkerTakesOverExpiredTrial: a trial claimed by a worker that then
// vanished is re-leased after its lease, and the dead worker's late result
// is refused.
func TestWorkerTakesOverExpiredTrial(t *testing.T) {
	st := pgtest.Open(t, pgstore.Options{Lease: 300 * time.Millisecond})
	ctx := context.Background()
	study := sphereStudy("s", 2, "")
	study.Sampler.Name = "random"
	if _, err := st.CreateStudy(ctx, study); err != nil {
		t.Fatal(err)
	}
	if _, err := st.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: []float64{0.1, 0.2}, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	dead, err := st.ClaimTrial(ctx, "s", "dead")
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := NewSynthetic("sphere", setups.SyntheticConfig{Dim: 2, Epochs: 2})
	sp, _ := NewSpace(study.Space)
	smp, err := NewSampler("random", sp.Box(), nil, 7)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Work(ctx, st, "s", obj, smp, WorkerOptions{Trials: 3, GenerationSize: 1, Name: "alive", Poll: 20 * time.Millisecond})
	if err != nil || sum.Complete != 3 {
		t.Fatalf("Work = %+v, %v", sum, err)
	}
	tr, _ := st.Trial(ctx, "s", 0)
	if tr.State != store.Complete || tr.Attempt != 2 || tr.Worker != "alive" {
		t.Errorf("trial 0: %s, attempt %d by %q; want complete at attempt 2 by alive", tr.State, tr.Attempt, tr.Worker)
	}
	v := 1.0
	if _, err := st.FinishTrial(ctx, dead.Claim(), store.Result{State: store.Complete, Value: &v}); !errors.Is(err, store.ErrTrialFinished) && !errors.Is(err, store.ErrStaleClaim) {
		t.Errorf("late result of the dead worker: %v, want it refused", err)
	}
}

// TestWorkerContinuesPausedTrial: a worker that died between pausing a
// stopped trial and continuing it left it paused; the next worker continues
// it from its checkpoint.
func TestWorkerContinuesPausedTrial(t *testing.T) {
	st := pgtest.Open(t, pgstore.Options{Lease: time.Minute})
	ctx := context.Background()
	study := sphereStudy("p", 2, "")
	study.Sampler.Name = "random"
	if _, err := st.CreateStudy(ctx, study); err != nil {
		t.Fatal(err)
	}
	if _, err := st.EnqueueTrial(ctx, "p", store.NewTrial{Gamma: []float64{0.1, 0.2}, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	tr, err := st.ClaimTrial(ctx, "p", "dying")
	if err != nil {
		t.Fatal(err)
	}
	ck := []byte(`{"epoch":1}`)
	if err := st.ReportEpoch(ctx, tr.Claim(), store.EpochMetrics{Epoch: 1, ValAcc: -1}, ck); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PauseTrial(ctx, tr.Claim()); err != nil {
		t.Fatal(err)
	}
	obj, _ := NewSynthetic("sphere", setups.SyntheticConfig{Dim: 2, Epochs: 2})
	sp, _ := NewSpace(study.Space)
	smp, _ := NewSampler("random", sp.Box(), nil, 7)
	sum, err := Work(ctx, st, "p", obj, smp, WorkerOptions{Trials: 2, GenerationSize: 1, Name: "next", Poll: 20 * time.Millisecond})
	if err != nil || sum.Complete != 2 {
		t.Fatalf("Work = %+v, %v", sum, err)
	}
	got, _ := st.Trial(ctx, "p", 0)
	if got.State != store.Complete || got.Worker != "next" || len(got.Epochs) != 2 {
		t.Errorf("trial 0: %s by %q with %d epochs; want complete by next, 2 epochs", got.State, got.Worker, len(got.Epochs))
	}
}
