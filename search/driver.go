package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"goalsearch/search/asktell"
	"goalsearch/store"
)

// Options configures one run of the driver.
type Options struct {
	// Slots is the number of trials in flight; 0 means 1. It is also the
	// number of points a generation asks of samplers whose generation size
	// is free (TPE, random, Sobol), so a resumed study is exact only with
	// the same Slots.
	Slots int
	// Trials is the number of finished trials (complete, pruned or
	// failed) the study should have; the run stops there, and a later run
	// with a larger number goes on. 0 means no limit (set Time or Stop).
	Trials int
	// Time is this run's wall-time budget; 0 means none. When it is spent
	// the run stops as on Stop.
	Time time.Duration
	// Name names this process in the trials it runs (store.Trial.Worker).
	Name string
	// Stop, when closed, stops the run softly: no trial starts, running
	// trials stop after their current epoch with its checkpoint saved and
	// go back to the queue, so the next run continues them. Cancelling
	// ctx instead aborts them at once; they then restart from their last
	// checkpoint.
	Stop <-chan struct{}
	// Observer, if set, receives progress events, on the driver's
	// goroutine: it must return quickly.
	Observer func(Event)

	// synchronous asks generation-synchronously even with a pruner: the
	// alternative that TestIdleCost measures.
	synchronous bool
}

// EventKind says what an Event reports.
type EventKind int

// The kinds of events.
const (
	TrialStarted EventKind = iota
	EpochDone
	TrialFinished
	TrialStopped // stopped softly, back in the queue
)

// An Event reports progress.
type Event struct {
	Kind    EventKind
	Trial   store.Trial // the trial as last stored (for EpochDone, before the epoch)
	Metrics store.EpochMetrics
	// Counts at the time of the event.
	Finished, Running, Queued int
	// Best is the best complete trial so far, nil if none.
	Best *store.Trial
}

// Summary describes a finished run.
type Summary struct {
	Finished, Complete, Pruned, Failed int // over the whole study
	Best                               *store.Trial
	Stopped                            bool // stopped by Stop, Time or ctx before the budget was spent
	SamplerDone                        bool // the sampler proposes nothing more
}

// errStopSoft and errPruned are how the driver answers an objective's
// report to end a trial early.
var (
	errStopSoft = errors.New("search: stopped")
	errPruned   = errors.New("search: pruned")
)

// Run runs the named study's search until its trial budget is spent, its
// sampler is done, or it is stopped. It resumes whatever an earlier run
// left: trials that were running go back to the queue (continuing from
// their checkpoints), the sampler is restored from its latest saved state
// and told the results that came in since.
//
// Generations. When the queue is empty and a slot is free, the sampler is
// told every result of its pending points and asked for points, which are
// saved with the sampler's new state as the next generation before any of
// them runs (advance). How it is asked depends on the study:
//
//   - Without a pruner, generation-synchronously: the sampler is asked
//     only when none of its points is pending, for Options.Slots points
//     (population samplers return their population). What it learns
//     before each Ask is then every result so far, whatever order they
//     came in, so a run that was killed and resumed proposes and computes
//     exactly what an uninterrupted one would have.
//   - With a pruner, asynchronously: trials stop at different epochs, and
//     waiting for a generation's longest trial would idle the other slots,
//     so a sampler that can propose while points are pending (TPE) is
//     asked for one point per free slot as soon as one is free; population
//     samplers still wait for their generation. Which results are in at
//     each Ask then depends on timing when several slots run, as do the
//     pruner's decisions; with one slot, both are exact too.
//
// Trial seeds derive from the study seed and the trial's place in its
// generation. Nothing finished is lost or run twice either way.
func Run(ctx context.Context, st store.Store, study string, obj Objective, smp Sampler, opts Options) (Summary, error) {
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
	d := &driver{
		st: st, study: s, space: space, obj: obj, smp: smp, pruner: pr, opts: opts,
		state:   map[int]store.TrialState{},
		results: map[int]Result{},
		running: map[int]store.Trial{},
		msgs:    make(chan any),
		warm:    warmStarterOf(smp),
	}
	if d.opts.Slots < 1 {
		d.opts.Slots = 1
	}
	if err := d.load(ctx); err != nil {
		return Summary{}, err
	}
	return d.loop(ctx)
}

type driver struct {
	st     store.Store
	study  store.Study
	space  *Space
	obj    Objective
	smp    Sampler
	pruner Pruner
	opts   Options
	// warm is the sampler's warm start, nil if it has none. With one, the
	// enqueued trials (generation 0) are its first points.
	warm asktell.WarmStarter

	// What the driver knows of the study, kept in step with the store.
	state   map[int]store.TrialState // every trial's state
	results map[int]Result           // sampler results of finished trials
	sampled []int                    // the trials proposed by the sampler, by point number
	running map[int]store.Trial      // trials on a slot
	best    *store.Trial
	counts  struct{ finished, complete, pruned, failed, queued int }

	gen         int // latest generation saved
	samplerDone bool
	stopping    bool

	msgs chan any
}

// epochMsg and doneMsg go from a trial's goroutine to the driver.
type epochMsg struct {
	trial int
	rep   EpochReport
	reply chan error
}

type doneMsg struct {
	trial   int
	outcome Outcome
	err     error
	wall    time.Duration
}

func (d *driver) load(ctx context.Context) error {
	if _, err := d.st.RequeueRunning(ctx, d.study.Name); err != nil {
		return err
	}
	trials, err := d.st.Trials(ctx, d.study.Name)
	if err != nil {
		return err
	}
	for i := range trials {
		d.record(trials[i])
		recordEpochs(d.pruner, trials[i])
	}
	latest, err := d.st.LatestSamplerState(ctx, d.study.Name)
	switch {
	case errors.Is(err, store.ErrSamplerStateNotFound):
		d.gen = 0
		if err := warmStart(d.warm, d.space, trials); err != nil {
			return fmt.Errorf("warm-starting the %s sampler of study %s: %w", d.smp.Name(), d.study.Name, err)
		}
	case err != nil:
		return err
	default:
		if err := d.smp.Restore(SamplerState{Version: latest.Version, Data: latest.Data}); err != nil {
			return fmt.Errorf("restoring the %s sampler of study %s: %w", d.smp.Name(), d.study.Name, err)
		}
		d.gen = latest.Generation
	}
	return nil
}

// record takes note of a trial as stored. Trials are recorded in number
// order, new ones after those known.
func (d *driver) record(t store.Trial) {
	old, seen := d.state[t.Number]
	if seen && old == t.State {
		return
	}
	if !seen && (t.Generation > 0 || d.warm != nil) {
		d.sampled = append(d.sampled, t.Number)
	}
	if seen && old == store.Queued {
		d.counts.queued--
	}
	d.state[t.Number] = t.State
	switch t.State {
	case store.Queued:
		d.counts.queued++
	case store.Complete, store.Pruned, store.Failed:
		d.counts.finished++
		d.results[t.Number] = samplerResult(t)
		switch t.State {
		case store.Complete:
			d.counts.complete++
			if d.best == nil || *t.Value > *d.best.Value {
				tc := t
				d.best = &tc
			}
		case store.Pruned:
			d.counts.pruned++
		default:
			d.counts.failed++
		}
	}
}

// recordEpochs gives the pruner the values t reported, except, for a trial
// that is not finished and not running, its last: whether it should go on
// from there may not have been decided (it was stopped, or its worker
// died, right after reporting), and is decided when it starts again
// (pruneOnResume).
func recordEpochs(p Pruner, t store.Trial) {
	es := t.Epochs
	if !t.State.Finished() && t.State != store.Running && len(es) > 0 {
		es = es[:len(es)-1]
	}
	for _, e := range es {
		p.Record(t.Number, e.Epoch, e.ValAcc)
	}
}

// pruneOnResume decides, for a trial that continues from a checkpoint,
// whether it should have stopped at its last reported epoch (see
// recordEpochs), and returns its result if so. epochs is its budget.
func pruneOnResume(p Pruner, t store.Trial, epochs int) (store.Result, bool) {
	e := t.LastEpoch()
	if e == 0 || e >= epochs || !p.Prune(t.Number, e, t.Epochs[len(t.Epochs)-1].ValAcc) {
		return store.Result{}, false
	}
	r, _ := trialResult(t, Outcome{}, errPruned, 0, false)
	return r, true
}

// samplerResult is what a sampler is told of a finished trial: the negated
// value (samplers minimise), for a pruned trial with the epoch it reached
// (see asktell.Compare), NaN for a failure or a pruned trial without a
// value.
func samplerResult(t store.Trial) Result {
	if t.Value == nil || t.State == store.Failed {
		return Result{Value: math.NaN()}
	}
	r := Result{Value: -*t.Value, Values: t.Values}
	if t.State == store.Pruned {
		r.Pruned, r.Step = true, t.LastEpoch()
	}
	return r
}

func (d *driver) budgetLeft() bool {
	return d.opts.Trials == 0 || d.counts.finished+len(d.running) < d.opts.Trials
}

func (d *driver) loop(ctx context.Context) (Summary, error) {
	var deadline <-chan time.Time
	if d.opts.Time > 0 {
		t := time.NewTimer(d.opts.Time)
		defer t.Stop()
		deadline = t.C
	}
	stop := d.opts.Stop
	var firstErr error
	for {
		if !d.stopping && firstErr == nil && ctx.Err() == nil {
			if err := d.fill(ctx); err != nil {
				firstErr = err
				d.stopping = true
			}
		}
		if len(d.running) == 0 {
			break
		}
		select {
		case m := <-d.msgs:
			if err := d.handle(ctx, m); err != nil && firstErr == nil {
				firstErr = err
				d.stopping = true
			}
		case <-stop:
			stop = nil
			d.stopping = true
		case <-deadline:
			deadline = nil
			d.stopping = true
		}
	}
	// Trials stopped softly or aborted go back to the queue now, with their
	// checkpoints, so that the store says what the next run will do.
	rctx := ctx
	if ctx.Err() != nil {
		rctx = context.Background()
	}
	if _, err := d.st.RequeueRunning(rctx, d.study.Name); err != nil && firstErr == nil {
		firstErr = err
	}
	sum := Summary{
		Finished: d.counts.finished, Complete: d.counts.complete, Pruned: d.counts.pruned, Failed: d.counts.failed,
		Best: d.best, SamplerDone: d.samplerDone,
		Stopped: d.stopping || ctx.Err() != nil,
	}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return sum, firstErr
}

// fill starts trials on free slots, asking the sampler for more when the
// queue is empty and the sampler may be asked.
func (d *driver) fill(ctx context.Context) error {
	for len(d.running) < d.opts.Slots && d.budgetLeft() {
		t, err := d.st.ClaimTrial(ctx, d.study.Name, d.opts.Name)
		if errors.Is(err, store.ErrNoQueuedTrial) {
			asked, err := d.ask(ctx, d.opts.Slots-len(d.running))
			if err != nil {
				return err
			}
			if !asked {
				return nil
			}
			continue
		}
		if err != nil {
			return err
		}
		d.record(t)
		if r, pruned := pruneOnResume(d.pruner, t, d.specEpochs(t)); pruned {
			ft, err := d.st.FinishTrial(ctx, t.Claim(), r)
			if err != nil {
				return fmt.Errorf("trial %d: %w", t.Number, err)
			}
			d.record(ft)
			d.emit(Event{Kind: TrialFinished, Trial: ft})
			continue
		}
		d.start(ctx, t)
	}
	return nil
}

// ask moves the sampler on (advance) with free slots free, and reports
// whether trials were enqueued.
func (d *driver) ask(ctx context.Context, free int) (bool, error) {
	if d.samplerDone || !d.budgetLeft() {
		return false, nil
	}
	if d.opts.Trials > 0 && len(d.state) >= d.opts.Trials {
		// Enough trials exist to spend the budget; proposals beyond it
		// would only wait in the queue.
		return false, nil
	}
	a := asking{size: d.opts.Slots, free: free, async: d.study.Pruner.Name != "" && !d.opts.synchronous, gen: d.gen, sampled: d.sampled,
		result: func(n int) (Result, bool) { r, ok := d.results[n]; return r, ok }}
	trials, err := advance(ctx, d.st, d.study, d.space, d.smp, a)
	switch {
	case errors.Is(err, errWaiting):
		return false, nil
	case errors.Is(err, ErrDone):
		d.samplerDone = true
		return false, nil
	case err != nil:
		return false, err
	}
	d.gen++
	for _, t := range trials {
		d.record(t)
	}
	return len(trials) > 0, nil
}

// asking is what advance needs to know of a study to move its sampler on.
type asking struct {
	// size is the number of points a generation asks for when no point is
	// pending; free the number of free slots, asked for when points are
	// pending and async is set (the study has a pruner).
	size, free int
	async      bool
	// gen is the latest generation saved (0 if none); sampled[k] the
	// trial of the sampler's point k, as far as known; result the result
	// of a finished trial.
	gen     int
	sampled []int
	result  func(trial int) (Result, bool)
}

// errWaiting is advance's answer when the sampler is not to be asked
// before more results are in.
var errWaiting = errors.New("search: sampler waits for results")

// advance is the one place where a sampler moves on, shared by the
// single-process driver and the workers of a shared store (see Run for
// the policy): it tells smp the result of every pending point whose trial
// has finished, asks it for points unless it is to wait (errWaiting), and
// saves them with the sampler's new state as generation a.gen+1, in one
// store transaction (PutSamplerState). It returns ErrDone when the
// sampler proposes nothing more.
//
// smp must hold the state saved with generation a.gen (or, for 0, its
// initial state), perhaps with results told since. Because a sampler's
// state after a set of tells does not depend on their order, and the save
// is idempotent, two workers that advance the same generation from the
// same results save it once and both get its trials back.
func advance(ctx context.Context, st store.Store, study store.Study, space *Space, smp Sampler, a asking) ([]store.Trial, error) {
	for _, k := range smp.Pending() {
		if k >= len(a.sampled) {
			break // trials not seen yet: not finished either
		}
		if r, ok := a.result(a.sampled[k]); ok {
			if err := smp.Tell(k, r); err != nil {
				return nil, fmt.Errorf("telling the %s sampler trial %d: %w", smp.Name(), a.sampled[k], err)
			}
		}
	}
	n := a.size
	if len(smp.Pending()) > 0 {
		if !a.async {
			return nil, errWaiting
		}
		n = a.free
	}
	pts, err := smp.Ask(max(n, 1))
	switch {
	case errors.Is(err, ErrPending):
		return nil, errWaiting
	case errors.Is(err, ErrDone):
		return nil, ErrDone
	case err != nil:
		return nil, fmt.Errorf("asking the %s sampler: %w", smp.Name(), err)
	}
	state, err := smp.State()
	if err != nil {
		return nil, err
	}
	gen := a.gen + 1
	nts := make([]store.NewTrial, len(pts))
	for i, x := range pts {
		g, ps := space.Trial(x)
		g = space.Round(g, goalGrid(study))
		nts[i] = store.NewTrial{Gamma: g, Params: ps, Seed: TrialSeed(study.Seed, gen, i), Generation: gen}
	}
	return st.PutSamplerState(ctx, study.Name, store.SamplerState{Generation: gen, Version: state.Version, Data: state.Data}, nts)
}

// warmStart gives a warm-starting sampler (ws non-nil) the goals of the
// study's enqueued trials, in trial order, as its first points, so that
// their results are told to it like those of the points it asks. It is
// called when no sampler state is saved yet, so the sampler holds its
// initial state; every state saved after it includes those points.
func warmStart(ws asktell.WarmStarter, space *Space, trials []store.Trial) error {
	if ws == nil {
		return nil
	}
	var xs [][]float64
	for _, t := range trials {
		if t.Generation == 0 {
			xs = append(xs, space.Point(t.Gamma, t.Params))
		}
	}
	if len(xs) == 0 {
		return nil
	}
	first, err := ws.Enqueue(xs)
	if err == nil && first != 0 {
		err = fmt.Errorf("enqueued goals became points %d on, want 0 on", first)
	}
	return err
}

// TrialSeed derives a trial's seed from the study's seed and the trial's
// place in its generation (generation 0 holds goals enqueued by hand), with
// the SplitMix64 finaliser, so that neighbouring trials get unrelated
// streams.
func TrialSeed(studySeed uint64, generation, index int) uint64 {
	z := studySeed + 0x9E3779B97F4A7C15*uint64(generation+1) + 0xBF58476D1CE4E5B9*uint64(index+1)
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

func (d *driver) start(ctx context.Context, t store.Trial) {
	d.running[t.Number] = t
	d.emit(Event{Kind: TrialStarted, Trial: t})
	spec := TrialSpec{Number: t.Number, Gamma: t.Gamma, Params: t.Params, Seed: t.Seed, Epochs: t.Budget}
	if spec.Epochs == 0 {
		spec.Epochs = d.obj.Epochs()
	}
	var ckptErr error
	if t.CheckpointEpoch > 0 {
		c, err := d.st.Checkpoint(ctx, d.study.Name, t.Number)
		if err == nil {
			spec.Checkpoint = c.Data
		}
		ckptErr = err
	}
	go func() {
		begin := time.Now()
		if ckptErr != nil {
			d.msgs <- doneMsg{trial: t.Number, err: fmt.Errorf("reading its checkpoint: %w", ckptErr)}
			return
		}
		out, err := d.obj.Run(ctx, spec, func(r EpochReport) error {
			reply := make(chan error, 1)
			d.msgs <- epochMsg{trial: t.Number, rep: r, reply: reply}
			return <-reply
		})
		d.msgs <- doneMsg{trial: t.Number, outcome: out, err: err, wall: time.Since(begin)}
	}()
}

func (d *driver) handle(ctx context.Context, m any) error {
	switch m := m.(type) {
	case epochMsg:
		t := d.running[m.trial]
		if err := d.st.ReportEpoch(ctx, t.Claim(), m.rep.Metrics, m.rep.Checkpoint); err != nil {
			m.reply <- err
			return fmt.Errorf("trial %d: %w", m.trial, err)
		}
		t.Epochs = append(t.Epochs, m.rep.Metrics)
		d.running[m.trial] = t
		d.emit(Event{Kind: EpochDone, Trial: t, Metrics: m.rep.Metrics})
		e := m.rep.Metrics.Epoch
		switch {
		case d.stopping || ctx.Err() != nil:
			d.pruner.Record(m.trial, e, m.rep.Metrics.ValAcc)
			m.reply <- errStopSoft
		case e < d.specEpochs(t) && d.pruner.Prune(m.trial, e, m.rep.Metrics.ValAcc):
			m.reply <- errPruned
		default:
			d.pruner.Record(m.trial, e, m.rep.Metrics.ValAcc)
			m.reply <- nil
		}
	case doneMsg:
		t := d.running[m.trial]
		delete(d.running, m.trial)
		r, stopped := trialResult(t, m.outcome, m.err, m.wall, ctx.Err() != nil)
		r = withValues(d.study, t, r)
		if stopped {
			// Left running in the store: requeued with its checkpoint.
			d.emit(Event{Kind: TrialStopped, Trial: t})
			return nil
		}
		ft, err := d.st.FinishTrial(ctx, t.Claim(), r)
		if err != nil {
			return fmt.Errorf("trial %d: %w", m.trial, err)
		}
		d.record(ft)
		d.emit(Event{Kind: TrialFinished, Trial: ft})
	}
	return nil
}

// trialResult turns how an objective's Run ended into the trial's result:
// stopped (softly, or aborted) means the trial is not finished and goes
// back to the queue; pruned trials keep their last reported value (t holds
// every epoch reported); NaN or infinite values and errors fail the trial.
// wall is the time of this attempt.
func trialResult(t store.Trial, out Outcome, err error, wall time.Duration, aborted bool) (r store.Result, stopped bool) {
	wall += t.WallTime
	switch {
	case errors.Is(err, errStopSoft), aborted:
		return store.Result{}, true
	case errors.Is(err, errPruned):
		r = store.Result{State: store.Pruned, WallTime: wall}
		if n := len(t.Epochs); n > 0 && !math.IsNaN(t.Epochs[n-1].ValAcc) {
			v := t.Epochs[n-1].ValAcc
			r.Value = &v
		}
	case err != nil:
		r = store.Result{State: store.Failed, Reason: err.Error(), WallTime: wall}
	case math.IsNaN(out.Value) || math.IsInf(out.Value, 0):
		r = store.Result{State: store.Failed, Reason: fmt.Sprintf("objective value is %v", out.Value), WallTime: wall}
	default:
		v := out.Value
		r = store.Result{State: store.Complete, Value: &v, Final: out.Final, Atoms: out.Atoms, WallTime: wall}
	}
	return r, false
}

// withValues adds to a result with a value the values of the study's
// further objectives, computed from the trial's goal.
func withValues(s store.Study, t store.Trial, r store.Result) store.Result {
	if r.Value != nil {
		r.Values = objectiveValues(s, t.Gamma)
	}
	return r
}

func (d *driver) specEpochs(t store.Trial) int {
	if t.Budget > 0 {
		return t.Budget
	}
	return d.obj.Epochs()
}

func (d *driver) emit(e Event) {
	if d.opts.Observer == nil {
		return
	}
	e.Finished, e.Running, e.Queued = d.counts.finished, len(d.running), d.counts.queued
	e.Best = d.best
	d.opts.Observer(e)
}
