package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/store/pgstore"
	"goalsearch/store/pgstore/pgtest"
	"goalsearch/summary"
)

// TestEvalGrowsWhileWorkersRun grows an evaluation study on PostgreSQL,
// from two processes at once, while three workers run its trials: every
// goal must end up run on every seed exactly once, no worker may fail or
// lose a trial, and no trial may be redone. (Growing by export and
// re-import, as before Store.AmendStudy, rewrote trials under the workers:
// their reports on trials that had been rewritten failed or were lost.)
func TestEvalGrowsWhileWorkersRun(t *testing.T) {
	st := pgtest.Open(t, pgstore.Options{Lease: 5 * time.Second})
	ctx := context.Background()
	synth := setups.SyntheticConfig{Dim: 2, Epochs: 3, Sleep: 15 * time.Millisecond}
	src := sphereStudy("src", 2, "")
	src.Setup.Config, _ = json.Marshal(synth)
	if _, err := st.CreateStudy(ctx, src); err != nil {
		t.Fatal(err)
	}
	base, err := PlanFromStudy(src, summary.KindEvaluate, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	goal := func(i int) summary.EvalGoal {
		x := float64(i) / 10
		return summary.EvalGoal{Name: fmt.Sprintf("g%d", i), Gamma: []float64{x, -x}, Trial: -1}
	}
	plan := func(goals, seeds int) EvalPlan {
		p := base
		p.Config.Seeds = EvalSeeds(seeds, nil)
		for i := range goals {
			p.Config.Goals = append(p.Config.Goals, goal(i))
		}
		return p
	}
	study, _, err := PrepareEval(ctx, st, plan(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	inner, err := NewEvalObjective(study.Setup, nil, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The first trials wait, running, until the growing is done, so that
	// it happens while trials run however slow the machine is.
	gate := make(chan struct{})
	obj := gated{inner, gate}

	work := func(name string) error {
		_, err := Work(ctx, st, study.Name, obj, NewEvalSampler(), WorkerOptions{Slots: 2, Name: name, Poll: time.Millisecond})
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = work(fmt.Sprintf("w%d", i)) })
	}
	// Wait until a trial runs (held by the gate), then grow from two
	// "processes", each a few times, counting the growths that happened
	// while trials ran.
	deadline := time.Now().Add(30 * time.Second)
	for {
		live, err := st.LiveTrials(ctx, study.Name, 0)
		if err != nil {
			t.Fatal(err)
		}
		if running(live) > 0 {
			break
		}
		if time.Now().After(deadline) {
			close(gate)
			t.Fatal("no trial started within 30 s")
		}
		time.Sleep(time.Millisecond)
	}
	var whileRunning atomic.Int32
	growErrs := make([]error, 2)
	var gw sync.WaitGroup
	for p := range growErrs {
		gw.Go(func() {
			for step := 1; step <= 3; step++ {
				// Process 0 adds goals, process 1 seeds.
				pl := plan(2+step*(1-p), 2+step*p)
				if _, _, err := PrepareEval(ctx, st, pl); err != nil {
					growErrs[p] = err
					return
				}
				if live, _ := st.LiveTrials(ctx, study.Name, 0); running(live) > 0 {
					whileRunning.Add(1)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	gw.Wait()
	close(gate)
	wg.Wait()
	if err := errors.Join(append(errs, growErrs...)...); err != nil {
		t.Fatal(err)
	}
	if whileRunning.Load() == 0 {
		t.Fatal("no growth happened while trials ran: the test tests nothing")
	}
	// The workers may have finished before the last growth: one more
	// works off what is left, as goalsearch evaluate would.
	if err := work("last"); err != nil {
		t.Fatal(err)
	}

	final, idx, err := PrepareEval(ctx, st, plan(5, 5))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := summary.ReadEvalConfig(final)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Goals) != 5 || len(cfg.Seeds) != 5 || idx[4] < 0 {
		t.Fatalf("grown study has %d goals and %d seeds, want 5 and 5", len(cfg.Goals), len(cfg.Seeds))
	}
	trials, err := st.Trials(ctx, study.Name)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		goal int
		seed uint64
	}
	seen := map[key]int{}
	for _, tr := range trials {
		seen[key{summary.GoalIndex(tr), tr.Seed}]++
		// The last PrepareEval adds nothing: every pair exists by now.
		if tr.State != store.Complete || tr.Attempt != 1 {
			t.Errorf("trial %d is %s after %d attempts, want complete after 1", tr.Number, tr.State, tr.Attempt)
		}
	}
	for gi := range cfg.Goals {
		for _, s := range cfg.Seeds {
			if n := seen[key{gi, s}]; n != 1 {
				t.Errorf("goal %d on seed %d has %d trials, want 1", gi, s, n)
			}
		}
	}
	if len(trials) != 25 {
		t.Errorf("%d trials, want 5 goals × 5 seeds", len(trials))
	}
}

// gated is an objective whose trials wait for gate to close before they
// run.
type gated struct {
	Objective
	gate chan struct{}
}

func (g gated) Run(ctx context.Context, spec TrialSpec, report func(EpochReport) error) (Outcome, error) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return Outcome{}, ctx.Err()
	}
	return g.Objective.Run(ctx, spec, report)
}

func running(ts []store.Trial) int {
	n := 0
	for _, t := range ts {
		if t.State == store.Running {
			n++
		}
	}
	return n
}
