package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"goalsearch/store"
)

// WorkerOptions configures Work: one process's share of a study that any
// number of processes run together on a shared store.
type WorkerOptions struct {
	// Slots is the number of trials this process runs at once; 0 means 1.
	Slots int
	// Batch is the number of points asked of samplers whose generation
	// size is free (random, Sobol; population samplers ignore it). Every
	// worker of a study must use the same Batch, and a single-process run
	// with Options.Workers = Batch proposes the same trials. 0 means 1.
	Batch int
	// Trials is the number of finished trials the study should have; the
	// worker stops when the study has them. 0 means no limit: the worker
	// runs until the sampler is done and no trial is left, or until
	// stopped. Workers may overshoot the budget by the trials they claim
	// at the same moment on different machines.
	Trials int
	// Time is this worker's wall-time budget; 0 means none. When it is
	// spent the worker stops as on Stop.
	Time time.Duration
	// Worker names this process in the trials it runs (host:pid).
	Worker string
	// Stop, when closed, stops the worker softly: it claims nothing more,
	// and its running trials stop after their current epoch and go back to
	// the queue with their checkpoints, for other workers to continue.
	// Cancelling ctx instead aborts them; they are handed back too if the
	// store can still be reached, else they are re-leased once their lease
	// expires.
	Stop <-chan struct{}
	// Observer, if set, receives progress events; calls are serialised.
	// Counts are as of the worker's last look at the store.
	Observer func(Event)
	// Poll is how long the worker waits before it looks again when no
	// trial can be claimed (others still run the generation); 0 means
	// 500 ms.
	Poll time.Duration
	// Retry is how long a store call is repeated while the store is
	// unavailable (store.ErrUnavailable: connection lost, server
	// restarting); 0 means 5 minutes.
	Retry time.Duration
}

// Work runs trials of the named study until its budget is spent, its
// sampler is done and every trial finished, or it is stopped, together with
// any number of other Work calls, in this or other processes on other
// machines, on the same store. No process coordinates: every worker claims
// queued trials (store.ClaimTrial), renews its lease while it trains
// (store.Leaser), requeues trials whose worker died (RequeueRunning, which a
// Leaser limits to expired leases), and the worker that finds the queue
// empty after a generation completed advances the sampler: it restores the
// sampler from the store's latest state, tells it that generation's values
// read from the store, asks the next generation and saves state and trials
// in one transaction (the same advance as Run's). As the save is idempotent
// and every step is deterministic, workers that advance at once save the
// generation once, and a study run by many workers proposes and computes
// exactly what a single-process Run with Workers = Batch would have (except
// for pruning, whose decisions depend on timing, as in Run).
//
// A trial whose store call fails because the store is unavailable is
// retried for opts.Retry; a change that committed before the connection
// broke is recognised on retry by the trial's attempt and epochs. If the
// trial was taken over meanwhile (this worker's lease expired), its result
// is refused (store.ErrStaleClaim) and the worker drops it.
//
// smp must be a fresh sampler of the study (NewSampler with the study's
// configuration); Work owns it until it returns.
func Work(ctx context.Context, st store.Store, study string, obj Objective, smp Sampler, opts WorkerOptions) (Summary, error) {
	s, err := st.Study(ctx, study)
	if err != nil {
		return Summary{}, err
	}
	space, err := NewSpace(s.Space)
	if err != nil {
		return Summary{}, err
	}
	pr, err := NewPruner(s.Pruner.Name, s.Pruner.Config, obj.Epochs())
	if err != nil {
		return Summary{}, err
	}
	initial, err := smp.State()
	if err != nil {
		return Summary{}, err
	}
	w := &worker{st: st, study: s, space: space, obj: obj, smp: smp, initial: initial, pruner: pr, opts: opts}
	w.leaser, _ = st.(store.Leaser)
	if ind, ok := smp.(independentSampler); ok && ind.Independent() {
		w.independent = true
	}
	if w.opts.Slots < 1 {
		w.opts.Slots = 1
	}
	if w.opts.Batch < 1 {
		w.opts.Batch = 1
	}
	if w.opts.Poll <= 0 {
		w.opts.Poll = 500 * time.Millisecond
	}
	if w.opts.Retry <= 0 {
		w.opts.Retry = 5 * time.Minute
	}
	w.stop = make(chan struct{})
	var stopOnce sync.Once
	softStop := func() { stopOnce.Do(func() { w.stopping.Store(true); close(w.stop) }) }
	if opts.Stop != nil || opts.Time > 0 {
		done := make(chan struct{})
		defer close(done)
		go func() {
			var deadline <-chan time.Time
			if opts.Time > 0 {
				t := time.NewTimer(opts.Time)
				defer t.Stop()
				deadline = t.C
			}
			select {
			case <-opts.Stop:
			case <-deadline:
			case <-done:
				return
			}
			softStop()
		}()
	}

	errs := make([]error, w.opts.Slots)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = w.slot(ctx) })
	}
	wg.Wait()
	err = errors.Join(errs...)

	rctx := ctx
	if ctx.Err() != nil {
		rctx = context.Background()
	}
	var sum Summary
	if trials, terr := w.trials(rctx); terr == nil {
		c := countTrials(trials)
		sum = Summary{Finished: c.finished, Complete: c.complete, Pruned: c.pruned, Failed: c.failed, Best: c.best}
	} else if err == nil {
		err = terr
	}
	sum.SamplerDone = w.samplerDone.Load()
	sum.Stopped = w.stopping.Load() || ctx.Err() != nil
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return sum, err
}

type worker struct {
	st          store.Store
	leaser      store.Leaser // nil for stores without leases
	study       store.Study
	space       *Space
	obj         Objective
	pruner      Pruner
	opts        WorkerOptions
	independent bool

	// smpMu guards the sampler, which advance restores from the store
	// each time (another worker may have moved it on), starting from
	// initial when the store has no state yet.
	smpMu       sync.Mutex
	smp         Sampler
	initial     SamplerState
	samplerDone atomic.Bool

	// claimMu makes looking at the budget and claiming one step within
	// this process, so that its slots do not overshoot the budget.
	claimMu sync.Mutex

	stopping atomic.Bool
	stop     chan struct{}

	obsMu  sync.Mutex
	counts trialCounts // as of the last look at the store
}

// trialCounts summarises a study's trials.
type trialCounts struct {
	finished, complete, pruned, failed, queued, running int
	best                                                *store.Trial
}

func countTrials(ts []store.Trial) trialCounts {
	var c trialCounts
	for i, t := range ts {
		switch t.State {
		case store.Queued:
			c.queued++
		case store.Running:
			c.running++
		case store.Complete:
			c.complete++
			if c.best == nil || *t.Value > *c.best.Value {
				c.best = &ts[i]
			}
		case store.Pruned:
			c.pruned++
		case store.Failed:
			c.failed++
		}
	}
	c.finished = c.complete + c.pruned + c.failed
	return c
}

// retry repeats fn while the store is unavailable, for up to opts.Retry.
// again tells fn that an earlier call may have committed.
func (w *worker) retry(ctx context.Context, what string, fn func(again bool) error) error {
	deadline := time.Now().Add(w.opts.Retry)
	delay := 50 * time.Millisecond
	for again := false; ; again = true {
		err := fn(again)
		if err == nil || !errors.Is(err, store.ErrUnavailable) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: store unavailable for %v: %w", what, w.opts.Retry, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func (w *worker) trials(ctx context.Context) ([]store.Trial, error) {
	var ts []store.Trial
	err := w.retry(ctx, "reading trials", func(bool) error {
		var err error
		ts, err = w.st.Trials(ctx, w.study.Name)
		return err
	})
	return ts, err
}

// look reads the study's trials and notes their counts.
func (w *worker) look(ctx context.Context) ([]store.Trial, trialCounts, error) {
	ts, err := w.trials(ctx)
	if err != nil {
		return nil, trialCounts{}, err
	}
	c := countTrials(ts)
	w.obsMu.Lock()
	w.counts = c
	w.obsMu.Unlock()
	return ts, c, nil
}

func (w *worker) emit(e Event) {
	if w.opts.Observer == nil {
		return
	}
	w.obsMu.Lock()
	defer w.obsMu.Unlock()
	e.Finished, e.Running, e.Queued, e.Best = w.counts.finished, w.counts.running, w.counts.queued, w.counts.best
	w.opts.Observer(e)
}

func (w *worker) budgetLeft(c trialCounts) bool {
	return w.opts.Trials == 0 || c.finished+c.running < w.opts.Trials
}

// slot is one of the worker's trial loops.
func (w *worker) slot(ctx context.Context) error {
	for {
		if w.stopping.Load() || ctx.Err() != nil {
			return nil
		}
		t, claimed, err := w.claim(ctx)
		if err != nil {
			return err
		}
		if claimed {
			if err := w.run(ctx, t); err != nil {
				return err
			}
			continue
		}
		ts, c, err := w.look(ctx)
		if err != nil {
			return err
		}
		if w.opts.Trials > 0 && c.finished >= w.opts.Trials {
			return nil
		}
		// A paused trial is one whose hand-back (pause, then continue) a
		// dying worker interrupted: goalsearch's pruners stop trials
		// rather than pause them, so nothing else leaves one paused.
		// Continue it; of several workers doing so, one wins and the others
		// get ErrWrongState.
		resumed := false
		for _, t := range ts {
			if t.State != store.Paused {
				continue
			}
			err := w.retry(ctx, "requeueing a paused trial", func(bool) error {
				_, err := w.st.ContinueTrial(ctx, t.Study, t.Number, 0)
				return err
			})
			if err != nil && !errors.Is(err, store.ErrWrongState) {
				return err
			}
			resumed = resumed || err == nil
		}
		if resumed {
			continue
		}
		// Trials of dead workers go back to the queue once their lease
		// expired.
		var requeued []int
		if err := w.retry(ctx, "requeueing", func(bool) error {
			var err error
			requeued, err = w.st.RequeueRunning(ctx, w.study.Name)
			return err
		}); err != nil {
			return err
		}
		if len(requeued) > 0 {
			continue
		}
		if c.queued == 0 && w.budgetLeft(c) {
			asked, err := w.advance(ctx, ts)
			if err != nil {
				return err
			}
			if asked {
				continue
			}
		}
		if w.samplerDone.Load() && c.queued == 0 && c.running == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-w.stop:
		case <-time.After(w.opts.Poll):
		}
	}
}

// claim claims a queued trial if the budget allows one more.
func (w *worker) claim(ctx context.Context) (store.Trial, bool, error) {
	w.claimMu.Lock()
	defer w.claimMu.Unlock()
	if w.opts.Trials > 0 {
		_, c, err := w.look(ctx)
		if err != nil || !w.budgetLeft(c) {
			return store.Trial{}, false, err
		}
	}
	var t store.Trial
	err := w.retry(ctx, "claiming a trial", func(bool) error {
		var err error
		t, err = w.st.ClaimTrial(ctx, w.study.Name, w.opts.Worker)
		return err
	})
	if errors.Is(err, store.ErrNoQueuedTrial) {
		return store.Trial{}, false, nil
	}
	return t, err == nil, err
}

// advance moves the sampler on if the study's latest generation is
// complete (see Work), and reports whether trials were enqueued.
func (w *worker) advance(ctx context.Context, ts []store.Trial) (bool, error) {
	w.smpMu.Lock()
	defer w.smpMu.Unlock()
	if w.samplerDone.Load() || (w.opts.Trials > 0 && len(ts) >= w.opts.Trials) {
		return false, nil
	}
	values := map[int]float64{}
	for _, t := range ts {
		if t.State.Finished() {
			v := math.NaN()
			if t.Value != nil {
				v = *t.Value
			}
			values[t.Number] = v
		}
	}
	var trials []store.Trial
	err := w.retry(ctx, "advancing the sampler", func(bool) error {
		// Restore on every try: a failed try may have asked already.
		latest, err := w.st.LatestSamplerState(ctx, w.study.Name)
		g := generation{Number: latest.Generation, Trials: latest.Trials}
		switch {
		case errors.Is(err, store.ErrSamplerStateNotFound):
			g = generation{Told: true}
			err = w.smp.Restore(w.initial)
		case err != nil:
			return err
		default:
			err = w.smp.Restore(SamplerState{Version: latest.Version, Data: latest.Data})
		}
		if err != nil {
			return fmt.Errorf("restoring the %s sampler of study %s: %w", w.smp.Name(), w.study.Name, err)
		}
		trials, err = advance(ctx, w.st, w.study, w.space, w.smp, w.independent, &g, values, w.opts.Batch)
		return err
	})
	switch {
	case errors.Is(err, errGenerationRunning):
		return false, nil
	case errors.Is(err, ErrDone):
		w.samplerDone.Store(true)
		return false, nil
	case errors.Is(err, store.ErrSamplerStateExists):
		return false, fmt.Errorf("%w: another worker saved a different next generation; do all workers of study %s use the same --batch?", err, w.study.Name)
	case err != nil:
		return false, err
	}
	return len(trials) > 0, nil
}

// errLost marks a trial that another worker took over.
var errLost = errors.New("search: trial taken over by another worker")

// run runs one claimed trial to its end, renewing its lease meanwhile.
func (w *worker) run(ctx context.Context, t store.Trial) error {
	w.emit(Event{Kind: TrialStarted, Trial: t})
	claim := t.Claim()
	spec := TrialSpec{Number: t.Number, Gamma: t.Gamma, Seed: t.Seed, Epochs: t.Budget}
	if spec.Epochs == 0 {
		spec.Epochs = w.obj.Epochs()
	}
	if t.CheckpointEpoch > 0 {
		err := w.retry(ctx, "reading a checkpoint", func(bool) error {
			c, err := w.st.Checkpoint(ctx, w.study.Name, t.Number)
			spec.Checkpoint = c.Data
			return err
		})
		if err != nil && ctx.Err() == nil {
			return w.finish(ctx, t, store.Result{State: store.Failed, Reason: fmt.Sprintf("reading its checkpoint: %v", err), WallTime: t.WallTime})
		}
	}

	tctx, cancel := context.WithCancel(ctx)
	var lost atomic.Bool
	var hb sync.WaitGroup
	if w.leaser != nil && w.leaser.Lease() > 0 {
		hb.Go(func() { w.heartbeat(tctx, claim, &lost, cancel) })
	}
	curve := make([]float64, 0, len(t.Epochs))
	for _, e := range t.Epochs {
		curve = append(curve, e.ValAcc)
	}
	begin := time.Now()
	out, err := w.obj.Run(tctx, spec, func(r EpochReport) error {
		if err := w.report(ctx, claim, r); err != nil {
			if isLost(err) {
				lost.Store(true)
				return errLost
			}
			return err
		}
		t.Epochs = append(t.Epochs, r.Metrics)
		curve = append(curve, r.Metrics.ValAcc)
		w.emit(Event{Kind: EpochDone, Trial: t, Metrics: r.Metrics})
		switch {
		case w.stopping.Load() || ctx.Err() != nil:
			return errStopSoft
		case r.Metrics.Epoch < spec.Epochs && w.prune(ctx, t.Number, r.Metrics.Epoch, curve):
			return errPruned
		}
		return nil
	})
	wall := time.Since(begin)
	cancel()
	hb.Wait()
	if lost.Load() || errors.Is(err, errLost) {
		w.emit(Event{Kind: TrialStopped, Trial: t})
		return nil
	}
	var storeErr error
	if err != nil && !errors.Is(err, errStopSoft) && !errors.Is(err, errPruned) && isStoreErr(err) {
		storeErr = err
	}
	if storeErr != nil {
		return fmt.Errorf("trial %d: %w", t.Number, storeErr)
	}
	r, stopped := trialResult(t, curve, out, err, wall, ctx.Err() != nil)
	if stopped {
		w.handBack(ctx, claim)
		w.emit(Event{Kind: TrialStopped, Trial: t})
		return nil
	}
	return w.finish(ctx, t, r)
}

// isLost reports whether a store error means the trial is no longer this
// worker's.
func isLost(err error) bool {
	return errors.Is(err, store.ErrStaleClaim) || errors.Is(err, store.ErrTrialFinished) || errors.Is(err, store.ErrWrongState)
}

// isStoreErr reports whether an error from an objective's Run came from
// the store (through report), rather than from training.
func isStoreErr(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrClosed) || errors.Is(err, store.ErrEpochOrder) ||
		errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrStudyNotFound) || errors.Is(err, store.ErrTrialNotFound)
}

// report saves an epoch, recognising on a retry an earlier try that
// committed.
func (w *worker) report(ctx context.Context, c store.Claim, r EpochReport) error {
	return w.retry(ctx, "reporting an epoch", func(again bool) error {
		err := w.st.ReportEpoch(ctx, c, r.Metrics, r.Checkpoint)
		if again && errors.Is(err, store.ErrEpochOrder) {
			if t, terr := w.st.Trial(ctx, c.Study, c.Number); terr == nil && t.Attempt == c.Attempt && t.LastEpoch() == r.Metrics.Epoch {
				return nil
			}
		}
		return err
	})
}

// finish saves the trial's result, recognising on a retry an earlier try
// that committed.
func (w *worker) finish(ctx context.Context, t store.Trial, r store.Result) error {
	c := t.Claim()
	var ft store.Trial
	err := w.retry(ctx, "finishing a trial", func(again bool) error {
		var err error
		ft, err = w.st.FinishTrial(ctx, c, r)
		if again && errors.Is(err, store.ErrTrialFinished) {
			if got, terr := w.st.Trial(ctx, c.Study, c.Number); terr == nil && got.Attempt == c.Attempt {
				ft = got
				return nil
			}
		}
		return err
	})
	if isLost(err) {
		// Taken over while we trained: the other worker's result counts.
		w.emit(Event{Kind: TrialStopped, Trial: t})
		return nil
	}
	if err != nil {
		return fmt.Errorf("trial %d: %w", t.Number, err)
	}
	w.look(ctx)
	w.emit(Event{Kind: TrialFinished, Trial: ft})
	return nil
}

// handBack puts a trial stopped early back in the queue with its
// checkpoint, for any worker to continue: pause (which keeps the
// checkpoint and drops later epochs) then continue. Should this worker die
// in between, the trial stays paused until a worker's loop continues it.
func (w *worker) handBack(ctx context.Context, c store.Claim) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
	}
	if _, err := w.st.PauseTrial(ctx, c); err != nil {
		return // lost, or the store is gone: its lease will expire
	}
	w.retry(ctx, "requeueing a stopped trial", func(bool) error {
		_, err := w.st.ContinueTrial(ctx, c.Study, c.Number, 0)
		return err
	})
}

// heartbeat renews the trial's lease every third of it until ctx ends; if
// the trial was taken over, it marks it lost and cancels its training.
func (w *worker) heartbeat(ctx context.Context, c store.Claim, lost *atomic.Bool, cancel context.CancelFunc) {
	tick := time.NewTicker(w.leaser.Lease() / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_, err := w.leaser.Heartbeat(ctx, c)
		if isLost(err) {
			lost.Store(true)
			cancel()
			return
		}
		// Other errors (the store unavailable): try again at the next tick.
	}
}

// prune asks the pruner about trial n, with every trial's reported values
// as the store has them and n's own.
func (w *worker) prune(ctx context.Context, n, epoch int, curve []float64) bool {
	if _, none := w.pruner.(nonePruner); none {
		return false
	}
	ts, err := w.st.Trials(ctx, w.study.Name)
	if err != nil {
		return false // never prune on a guess
	}
	curves := make(map[int][]float64, len(ts))
	for _, t := range ts {
		c := make([]float64, 0, len(t.Epochs))
		for _, e := range t.Epochs {
			c = append(c, e.ValAcc)
		}
		curves[t.Number] = c
	}
	curves[n] = curve
	return w.pruner.Prune(n, epoch, curves)
}
