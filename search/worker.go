package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	// GenerationSize is the number of points a generation asks of
	// samplers whose generation size is free (TPE, random, Sobol;
	// population samplers ignore it). Every worker of a study must use the
	// same GenerationSize, and a single-process Run with Options.Slots =
	// GenerationSize proposes the same trials. 0 means 1.
	GenerationSize int
	// Trials is the number of finished trials the study should have; the
	// worker stops when the study has them. It is exact however many
	// workers run: a worker starts only trials numbered below Trials, so
	// the study ends with exactly those finished. 0 means no limit: the
	// worker runs until the sampler is done and no trial is left, or until
	// stopped.
	Trials int
	// Time is this worker's wall-time budget; 0 means none. When it is
	// spent the worker stops as on Stop.
	Time time.Duration
	// Name names this process in the trials it runs (host:pid;
	// store.Trial.Worker).
	Name string
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
// machines, on the same store. No process coordinates: every worker starts
// queued trials (store.StartTrial, of which one of several concurrent
// starts wins), renews its lease while it trains (store.Leaser), requeues
// trials whose worker died (RequeueRunning, which a Leaser limits to
// expired leases), and the worker that finds the queue empty advances the
// sampler: it restores the sampler from the store's latest state, tells it
// the results it was waiting for, asks it for points and saves state and
// trials in one transaction (the same advance as Run's, with the same
// policy). Without a pruner every step is deterministic and the save
// idempotent, so workers that advance at once save the generation once,
// and a study run by many workers proposes and computes exactly what a
// single-process Run with Slots = GenerationSize would have. With a
// pruner, which results are in when the sampler is asked depends on
// timing, as do the pruner's decisions (as in Run); a worker whose save
// comes second simply looks again.
//
// A worker keeps a view of the study that it brings up to date with
// store.LiveTrials, whose cost depends on the trials still running, not on
// the study's length; its pruner decides from that view, refreshed before
// every decision, in O(log n).
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
	pr, err := NewPruner(s.Pruner.Name, s.Pruner.Config, s.Setup.Name, obj.Epochs())
	if err != nil {
		return Summary{}, err
	}
	initial, err := smp.State()
	if err != nil {
		return Summary{}, err
	}
	w := &worker{st: st, study: s, space: space, obj: obj, smp: smp, initial: initial, opts: opts}
	w.view = newStudyView(pr, warmStarterOf(smp) != nil)
	w.leaser, _ = st.(store.Leaser)
	if w.opts.Slots < 1 {
		w.opts.Slots = 1
	}
	if w.opts.GenerationSize < 1 {
		w.opts.GenerationSize = 1
	}
	if w.opts.Poll <= 0 {
		w.opts.Poll = 500 * time.Millisecond
	}
	if w.opts.Retry <= 0 {
		w.opts.Retry = 5 * time.Minute
	}
	if w.leaser == nil {
		if _, err := w.requeue(ctx); err != nil {
			return Summary{}, err
		}
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
	if terr := w.refresh(rctx); terr == nil {
		c := w.counts()
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
	st     store.Store
	leaser store.Leaser // nil for stores without leases
	study  store.Study
	space  *Space
	obj    Objective
	opts   WorkerOptions

	// smpMu guards the sampler, which advance restores from the store
	// each time (another worker may have moved it on), starting from
	// initial when the store has no state yet.
	smpMu       sync.Mutex
	smp         Sampler
	initial     SamplerState
	samplerDone atomic.Bool

	// viewMu guards the view of the study (and its pruner), and makes
	// looking at the budget and claiming one step within this process.
	viewMu sync.Mutex
	view   *studyView

	stopping atomic.Bool
	stop     chan struct{}

	obsMu sync.Mutex
}

// trialCounts summarises a study's trials.
type trialCounts struct {
	finished, complete, pruned, failed, queued, running, paused int
	best                                                        *store.Trial
}

func (c *trialCounts) add(t store.Trial, sign int) {
	switch t.State {
	case store.Queued:
		c.queued += sign
	case store.Running:
		c.running += sign
	case store.Paused:
		c.paused += sign
	case store.Complete:
		c.complete += sign
		c.finished += sign
	case store.Pruned:
		c.pruned += sign
		c.finished += sign
	case store.Failed:
		c.failed += sign
		c.finished += sign
	}
}

// studyView is what a worker knows of a study: every trial's state, the
// results of finished trials, which trials the sampler proposed, and the
// pruner fed with every reported value. Finished trials never change, so
// it is kept current by reading only the trials that may have
// (store.LiveTrials).
type studyView struct {
	state   []store.TrialState // by trial number; len is the trials known
	active  map[int]bool       // known trials not finished
	results map[int]Result     // sampler results of finished trials
	sampled []int              // trials proposed by the sampler, by point number
	// warm says the sampler is warm-started with the enqueued trials
	// (generation 0), which are then its first points; enqueued holds
	// those trials as read.
	warm     bool
	enqueued []store.Trial
	counts   trialCounts
	pruner   Pruner
	// mine are the trials this worker runs: their values reach the pruner
	// through the running slot (Prune), not through refreshes, so that a
	// decision sees the others' values and not its own twice.
	mine map[int]bool
}

func newStudyView(p Pruner, warm bool) *studyView {
	return &studyView{active: map[int]bool{}, results: map[int]Result{}, pruner: p, mine: map[int]bool{}, warm: warm}
}

// update takes note of t as read from the store.
func (v *studyView) update(t store.Trial) {
	switch {
	case t.Number == len(v.state):
		v.state = append(v.state, t.State)
		if t.Generation > 0 || v.warm {
			v.sampled = append(v.sampled, t.Number)
		}
		if t.Generation == 0 && v.warm {
			v.enqueued = append(v.enqueued, t)
		}
	case t.Number < len(v.state):
		old := v.state[t.Number]
		if old.Finished() {
			return // finished trials never change
		}
		v.counts.add(store.Trial{State: old}, -1)
		v.state[t.Number] = t.State
	default:
		// Not reachable: LiveTrials returns every trial from the first
		// unknown on, in number order.
		panic(fmt.Sprintf("search: trial %d read before trial %d", t.Number, len(v.state)))
	}
	v.counts.add(t, 1)
	if !v.mine[t.Number] {
		recordEpochs(v.pruner, t)
	}
	if t.State.Finished() {
		delete(v.active, t.Number)
		v.results[t.Number] = samplerResult(t)
		if t.State == store.Complete && (v.counts.best == nil || *t.Value > *v.counts.best.Value) {
			tc := t
			v.counts.best = &tc
		}
	} else {
		v.active[t.Number] = true
	}
}

// refresh brings the view up to date: the trials that may have changed
// since the last refresh, and those new since.
func (w *worker) refresh(ctx context.Context) error {
	w.viewMu.Lock()
	defer w.viewMu.Unlock()
	return w.refreshLocked(ctx)
}

func (w *worker) refreshLocked(ctx context.Context) error {
	v := w.view
	var live []store.Trial
	if err := w.retry(ctx, "reading trials", func(bool) error {
		var err error
		live, err = w.st.LiveTrials(ctx, w.study.Name, len(v.state))
		return err
	}); err != nil {
		return err
	}
	got := make(map[int]bool, len(live))
	for _, t := range live {
		got[t.Number] = true
	}
	// Trials known unfinished that are not live any more have finished.
	var done []int
	for n := range v.active {
		if !got[n] {
			done = append(done, n)
		}
	}
	slices.Sort(done)
	for _, n := range done {
		var t store.Trial
		if err := w.retry(ctx, "reading a trial", func(bool) error {
			var err error
			t, err = w.st.Trial(ctx, w.study.Name, n)
			return err
		}); err != nil {
			return err
		}
		v.update(t)
	}
	for _, t := range live {
		v.update(t)
	}
	return nil
}

// counts returns the view's counts.
func (w *worker) counts() trialCounts {
	w.viewMu.Lock()
	defer w.viewMu.Unlock()
	return w.view.counts
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

func (w *worker) emit(e Event) {
	if w.opts.Observer == nil {
		return
	}
	c := w.counts()
	w.obsMu.Lock()
	defer w.obsMu.Unlock()
	e.Finished, e.Running, e.Queued, e.Best = c.finished, c.running, c.queued, c.best
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
		// claim refreshed the view.
		w.viewMu.Lock()
		c := w.view.counts
		var paused []int
		for n := range w.view.active {
			if w.view.state[n] == store.Paused {
				paused = append(paused, n)
			}
		}
		w.viewMu.Unlock()
		if w.opts.Trials > 0 && c.finished >= w.opts.Trials {
			return nil
		}
		// A paused trial is one whose hand-back (pause, then continue) a
		// dying worker interrupted: goalsearch's pruners stop trials
		// rather than pause them, so nothing else leaves one paused.
		// Continue it; of several workers doing so, one wins and the others
		// get ErrWrongState.
		slices.Sort(paused)
		resumed := false
		for _, n := range paused {
			err := w.retry(ctx, "requeueing a paused trial", func(bool) error {
				_, err := w.st.ContinueTrial(ctx, w.study.Name, n, 0)
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
		// expired. (A store without leases belongs to this process, whose
		// own running trials are not dead: Work requeued the trials of an
		// earlier process when it started.)
		if w.leaser != nil {
			requeued, err := w.requeue(ctx)
			if err != nil {
				return err
			}
			if len(requeued) > 0 {
				continue
			}
		}
		if c.queued == 0 && w.budgetLeft(c) {
			asked, err := w.advance(ctx)
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

// requeue requeues the running trials whose worker died (for a Leaser, those
// whose lease expired; for another store, all).
func (w *worker) requeue(ctx context.Context) ([]int, error) {
	var requeued []int
	err := w.retry(ctx, "requeueing", func(bool) error {
		var err error
		requeued, err = w.st.RequeueRunning(ctx, w.study.Name)
		return err
	})
	return requeued, err
}

// claim starts the lowest queued trial that the budget allows: one
// numbered below Trials, while fewer than Trials are finished or running.
// A trial that another worker started first is skipped.
func (w *worker) claim(ctx context.Context) (store.Trial, bool, error) {
	w.viewMu.Lock()
	defer w.viewMu.Unlock()
	for {
		if err := w.refreshLocked(ctx); err != nil {
			return store.Trial{}, false, err
		}
		v := w.view
		if !w.budgetLeft(v.counts) {
			return store.Trial{}, false, nil
		}
		next := -1
		for n := range v.active {
			if v.state[n] == store.Queued && (w.opts.Trials == 0 || n < w.opts.Trials) && (next < 0 || n < next) {
				next = n
			}
		}
		if next < 0 {
			return store.Trial{}, false, nil
		}
		var t store.Trial
		err := w.retry(ctx, "starting a trial", func(again bool) error {
			var err error
			t, err = w.st.StartTrial(ctx, w.study.Name, next, w.opts.Name)
			if again && errors.Is(err, store.ErrWrongState) {
				// An earlier try may have committed: then it is ours.
				if got, terr := w.st.Trial(ctx, w.study.Name, next); terr == nil && got.State == store.Running && got.Worker == w.opts.Name {
					t, err = got, nil
				}
			}
			return err
		})
		if errors.Is(err, store.ErrWrongState) || errors.Is(err, store.ErrTrialFinished) {
			continue // another worker was first
		}
		if err != nil {
			return store.Trial{}, false, err
		}
		v.mine[t.Number] = true
		v.update(t)
		return t, true, nil
	}
}

// advance moves the sampler on (see Work), and reports whether trials were
// enqueued.
func (w *worker) advance(ctx context.Context) (bool, error) {
	w.smpMu.Lock()
	defer w.smpMu.Unlock()
	w.viewMu.Lock()
	v := w.view
	known := len(v.state)
	sampled := slices.Clone(v.sampled)
	enqueued := slices.Clone(v.enqueued)
	results := make(map[int]Result, len(v.results))
	for _, n := range sampled {
		if r, ok := v.results[n]; ok {
			results[n] = r
		}
	}
	w.viewMu.Unlock()
	if w.samplerDone.Load() || (w.opts.Trials > 0 && known >= w.opts.Trials) {
		return false, nil
	}
	var trials []store.Trial
	err := w.retry(ctx, "advancing the sampler", func(bool) error {
		// Restore on every try: a failed try may have asked already.
		latest, err := w.st.LatestSamplerState(ctx, w.study.Name)
		switch {
		case errors.Is(err, store.ErrSamplerStateNotFound):
			latest = store.SamplerState{}
			if err = w.smp.Restore(w.initial); err == nil {
				err = warmStart(warmStarterOf(w.smp), w.space, enqueued)
			}
		case err != nil:
			return err
		case len(latest.Trials) > 0 && latest.Trials[len(latest.Trials)-1] >= known:
			// Another worker saved a generation this view has not seen:
			// look again before asking.
			return errWaiting
		default:
			err = w.smp.Restore(SamplerState{Version: latest.Version, Data: latest.Data})
		}
		if err != nil {
			return fmt.Errorf("restoring the %s sampler of study %s: %w", w.smp.Name(), w.study.Name, err)
		}
		a := asking{size: w.opts.GenerationSize, free: 1, async: w.study.Pruner.Name != "", gen: latest.Generation,
			sampled: sampled, result: func(n int) (Result, bool) { r, ok := results[n]; return r, ok }}
		trials, err = advance(ctx, w.st, w.study, w.space, w.smp, a)
		return err
	})
	switch {
	case errors.Is(err, errWaiting):
		return false, nil
	case errors.Is(err, ErrDone):
		w.samplerDone.Store(true)
		return false, nil
	case errors.Is(err, store.ErrSamplerStateExists) && w.study.Pruner.Name != "":
		// Asynchronous: another worker saved the generation first, from
		// the results it had; look again.
		return false, nil
	case errors.Is(err, store.ErrSamplerStateExists):
		return false, fmt.Errorf("%w: another worker saved a different next generation; do all workers of study %s use the same --generation-size?", err, w.study.Name)
	case err != nil:
		return false, err
	}
	return len(trials) > 0, nil
}

// errLost marks a trial that another worker took over.
var errLost = errors.New("search: trial taken over by another worker")

// run runs one claimed trial to its end, renewing its lease meanwhile.
func (w *worker) run(ctx context.Context, t store.Trial) error {
	defer func() {
		w.viewMu.Lock()
		delete(w.view.mine, t.Number)
		w.viewMu.Unlock()
	}()
	w.emit(Event{Kind: TrialStarted, Trial: t})
	claim := t.Claim()
	spec := TrialSpec{Number: t.Number, Gamma: t.Gamma, Params: t.Params, Seed: t.Seed, Epochs: t.Budget}
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

	if r, pruned := w.pruneOnResume(ctx, t, spec.Epochs); pruned {
		return w.finish(ctx, t, r)
	}

	tctx, cancel := context.WithCancel(ctx)
	var lost atomic.Bool
	var hb sync.WaitGroup
	if w.leaser != nil && w.leaser.Lease() > 0 {
		hb.Go(func() { w.heartbeat(tctx, claim, &lost, cancel) })
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
		w.emit(Event{Kind: EpochDone, Trial: t, Metrics: r.Metrics})
		switch {
		case w.stopping.Load() || ctx.Err() != nil:
			w.record(t.Number, r.Metrics)
			return errStopSoft
		case r.Metrics.Epoch < spec.Epochs && w.prune(ctx, t.Number, r.Metrics):
			return errPruned
		case r.Metrics.Epoch >= spec.Epochs:
			w.record(t.Number, r.Metrics)
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
	r, stopped := trialResult(t, out, err, wall, ctx.Err() != nil)
	r = withValues(w.study, t, r)
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
	w.refresh(ctx) // for the counts of the event; an error shows at the next claim
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

// prune brings the view up to date with the other trials' values, and asks
// the pruner about trial n's value m.ValAcc after epoch m.Epoch. It never
// prunes on a guess: if the store cannot be read, the trial goes on.
func (w *worker) prune(ctx context.Context, n int, m store.EpochMetrics) bool {
	if _, none := w.view.pruner.(nonePruner); none {
		return false
	}
	w.viewMu.Lock()
	defer w.viewMu.Unlock()
	if err := w.refreshLocked(ctx); err != nil {
		w.view.pruner.Record(n, m.Epoch, m.ValAcc)
		return false
	}
	return w.view.pruner.Prune(n, m.Epoch, m.ValAcc)
}

// pruneOnResume decides, for a trial continued from its checkpoint,
// whether it should have stopped at its last reported epoch (see
// recordEpochs).
func (w *worker) pruneOnResume(ctx context.Context, t store.Trial, epochs int) (store.Result, bool) {
	if _, none := w.view.pruner.(nonePruner); none || t.LastEpoch() == 0 {
		return store.Result{}, false
	}
	w.viewMu.Lock()
	defer w.viewMu.Unlock()
	if err := w.refreshLocked(ctx); err != nil {
		return store.Result{}, false // never prune on a guess
	}
	return pruneOnResume(w.view.pruner, t, epochs)
}

// record gives the pruner trial n's value after an epoch that is not
// judged (the trial stops anyway).
func (w *worker) record(n int, m store.EpochMetrics) {
	w.viewMu.Lock()
	defer w.viewMu.Unlock()
	w.view.pruner.Record(n, m.Epoch, m.ValAcc)
}
