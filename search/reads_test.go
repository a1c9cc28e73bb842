package search

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/store/pgstore"
	"goalsearch/store/pgstore/pgtest"
)

// readCounter passes calls to a store and notes, per caller, the trial
// records its reads return.
type readCounter struct {
	store.Store
	// old trials were finished before the caller started.
	old int
	mu  sync.Mutex
	// first is the size of the first read, later the largest read after
	// it, reread the old trials that reads after the first returned.
	first, later, reread int
	reads                int
}

func (r *readCounter) note(ts []store.Trial) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reads == 0 {
		r.first = len(ts)
	} else {
		r.later = max(r.later, len(ts))
		for _, t := range ts {
			if t.Number < r.old {
				r.reread++
			}
		}
	}
	r.reads++
}

func (r *readCounter) Trials(ctx context.Context, study string) ([]store.Trial, error) {
	ts, err := r.Store.Trials(ctx, study)
	r.note(ts)
	return ts, err
}

func (r *readCounter) LiveTrials(ctx context.Context, study string, from int) ([]store.Trial, error) {
	ts, err := r.Store.LiveTrials(ctx, study, from)
	r.note(ts)
	return ts, err
}

func (r *readCounter) Export(ctx context.Context, study string) (store.Dump, error) {
	d, err := r.Store.Export(ctx, study)
	r.note(d.Trials)
	return d, err
}

// TestWorkerReadsDoNotGrow runs a pruned study in two rounds of workers on
// PostgreSQL, to 40 trials and then to 100: a worker reads the whole study
// once, when it starts, and after that no read of trials (which the pruner
// decides from) returns a trial that was finished when it started, so what
// a decision costs does not grow with the study's length.
func TestWorkerReadsDoNotGrow(t *testing.T) {
	st := pgtest.Open(t, pgstore.Options{Lease: 5 * time.Second})
	ctx := context.Background()
	study := sphereStudy("r", 3, "median")
	if _, err := st.CreateStudy(ctx, study); err != nil {
		t.Fatal(err)
	}
	obj, _ := NewSynthetic("rastrigin", setups.SyntheticConfig{Dim: 3, Epochs: 4, Sleep: time.Millisecond})
	sp, _ := NewSpace(study.Space)
	const slots, gen, workers = 2, 2, 2
	old := 0
	for _, budget := range []int{40, 100} {
		counters := make([]*readCounter, workers)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for i := range counters {
			counters[i] = &readCounter{Store: st, old: old}
			wg.Go(func() {
				_, errs[i] = Work(ctx, counters[i], "r", obj, newGenSampler(sp.Box(), study.Seed),
					WorkerOptions{Slots: slots, GenerationSize: gen, Trials: budget, Name: string(rune('a' + i)), Poll: time.Millisecond})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		for i, c := range counters {
			if c.reads < 10 {
				t.Errorf("budget %d, worker %d: %d reads; the test needs many", budget, i, c.reads)
			}
			if c.first < old || c.reread > 0 {
				t.Errorf("budget %d, worker %d: a first read of %d trials (want at least %d), then %d of them read again",
					budget, i, c.first, old, c.reread)
			}
		}
		t.Logf("budget %d: reads %d, %d; largest after the first %d, %d", budget, counters[0].reads, counters[1].reads, counters[0].later, counters[1].later)
		old = budget
	}
	ts, _ := st.Trials(ctx, "r")
	pruned := 0
	for _, tr := range ts {
		if tr.State == store.Pruned {
			pruned++
		}
	}
	if pruned == 0 {
		t.Error("no trial was pruned: the pruner decided nothing")
	}
}
