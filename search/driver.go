package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"goalsearch/store"
)

// Options configures one run of the driver.
type Options struct {
	// Workers is the number of trials in flight; 0 means 1.
	Workers int
	// Trials is the number of finished trials (complete, pruned or
	// failed) the study should have; the run stops there, and a later run
	// with a larger number goes on. 0 means no limit (set Time or Stop).
	Trials int
	// Time is this run's wall-time budget; 0 means none. When it is spent
	// the run stops as on Stop.
	Time time.Duration
	// Worker names this process in the trials it runs.
	Worker string
	// Stop, when closed, stops the run softly: no trial starts, running
	// trials stop after their current epoch with its checkpoint saved and
	// go back to the queue, so the next run continues them. Cancelling
	// ctx instead aborts them at once; they then restart from their last
	// checkpoint.
	Stop <-chan struct{}
	// Observer, if set, receives progress events, on the driver's
	// goroutine: it must return quickly.
	Observer func(Event)
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

// independentSampler is implemented by samplers whose proposals do not
// depend on values (random, Sobol): the driver asks them again before the
// last generation is told, so that no worker waits for a generation's
// slowest trial, and never tells them.
type independentSampler interface {
	Independent() bool
}

// Run runs the named study's search until its trial budget is spent, its
// sampler is done, or it is stopped. It resumes whatever an earlier run
// left: trials that were running go back to the queue (continuing from
// their checkpoints), the sampler is restored from its latest saved state
// and told the results of that generation once they are all in.
//
// Exactness. Every generation is saved with the sampler state that
// proposed it before any of its trials runs, trial seeds derive from the
// study seed and the trial's place in its generation, and generation-based
// samplers learn only from complete generations, in trial order. So a run
// that was killed and resumed proposes and computes exactly what an
// uninterrupted one would have. Pruning is the exception: which trials a
// pruner stops depends on the order in which trials report, which depends
// on timing when several workers run; nothing finished is lost or run
// twice either way.
func Run(ctx context.Context, st store.Store, study string, obj Objective, smp Sampler, opts Options) (Summary, error) {
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
	d := &driver{
		st: st, study: s, space: space, obj: obj, smp: smp, pruner: pr, opts: opts,
		curves:  map[int][]float64{},
		state:   map[int]store.TrialState{},
		running: map[int]store.Trial{},
		msgs:    make(chan any),
	}
	if d.opts.Workers < 1 {
		d.opts.Workers = 1
	}
	if ind, ok := smp.(independentSampler); ok && ind.Independent() {
		d.independent = true
	}
	if err := d.load(ctx); err != nil {
		return Summary{}, err
	}
	return d.loop(ctx)
}

type driver struct {
	st          store.Store
	study       store.Study
	space       *Space
	obj         Objective
	smp         Sampler
	pruner      Pruner
	opts        Options
	independent bool

	// What the driver knows of the study, kept in step with the store.
	curves  map[int][]float64        // reported values per trial
	state   map[int]store.TrialState // every trial's state
	values  map[int]float64          // sampler values of finished trials
	running map[int]store.Trial      // trials on a worker
	best    *store.Trial
	counts  struct{ finished, complete, pruned, failed, queued int }

	gen         int   // latest generation asked
	genTrials   []int // its trials
	told        bool  // whether genTrials were told to the sampler
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
	d.values = map[int]float64{}
	for i := range trials {
		d.record(trials[i])
	}
	latest, err := d.st.LatestSamplerState(ctx, d.study.Name)
	switch {
	case errors.Is(err, store.ErrSamplerStateNotFound):
		d.gen, d.told = 0, true
	case err != nil:
		return err
	default:
		if err := d.smp.Restore(SamplerState{Version: latest.Version, Data: latest.Data}); err != nil {
			return fmt.Errorf("restoring the %s sampler of study %s: %w", d.smp.Name(), d.study.Name, err)
		}
		d.gen, d.genTrials, d.told = latest.Generation, latest.Trials, false
	}
	return nil
}

// record takes note of a trial as stored.
func (d *driver) record(t store.Trial) {
	old, seen := d.state[t.Number]
	if seen && old == t.State {
		return
	}
	if seen && old == store.Queued {
		d.counts.queued--
	}
	d.state[t.Number] = t.State
	curve := make([]float64, 0, len(t.Epochs))
	for _, e := range t.Epochs {
		curve = append(curve, e.ValAcc)
	}
	d.curves[t.Number] = curve
	switch t.State {
	case store.Queued:
		d.counts.queued++
	case store.Complete, store.Pruned, store.Failed:
		d.counts.finished++
		v := math.NaN()
		if t.Value != nil {
			v = *t.Value
		}
		d.values[t.Number] = v
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

// fill starts trials on free workers, asking the sampler for more when the
// queue is empty and the sampler may be asked.
func (d *driver) fill(ctx context.Context) error {
	for len(d.running) < d.opts.Workers && d.budgetLeft() {
		t, err := d.st.ClaimTrial(ctx, d.study.Name, d.opts.Worker)
		if errors.Is(err, store.ErrNoQueuedTrial) {
			asked, err := d.ask(ctx)
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
		d.start(ctx, t)
	}
	return nil
}

// ask tells the sampler the last generation if it is complete, and asks the
// next one, saving it with the sampler's state. It reports whether trials
// were enqueued.
func (d *driver) ask(ctx context.Context) (bool, error) {
	if d.samplerDone || !d.budgetLeft() {
		return false, nil
	}
	if d.opts.Trials > 0 && len(d.state) >= d.opts.Trials {
		// Enough trials exist to spend the budget; proposals beyond it
		// would only wait in the queue.
		return false, nil
	}
	g := generation{Number: d.gen, Trials: d.genTrials, Told: d.told}
	trials, err := advance(ctx, d.st, d.study, d.space, d.smp, d.independent, &g, d.values, d.opts.Workers)
	if errors.Is(err, errGenerationRunning) {
		d.told = g.Told
		return false, nil
	}
	if errors.Is(err, ErrDone) {
		d.told = g.Told
		d.samplerDone = true
		return false, nil
	}
	if err != nil {
		return false, err
	}
	d.gen, d.genTrials, d.told = g.Number, g.Trials, g.Told
	for _, t := range trials {
		d.record(t)
	}
	return len(trials) > 0, nil
}

// generation is what a driver knows of the latest generation saved: its
// number, its trials, and whether the sampler was told their values.
type generation struct {
	Number int
	Trials []int
	Told   bool
}

// errGenerationRunning is advance's answer when the latest generation still
// has trials without a value.
var errGenerationRunning = errors.New("search: generation still running")

// advance is the one place where a sampler moves on, shared by the
// single-process driver and the workers of a shared store: unless smp is
// independent, it tells smp the values of generation g (values holds the
// value of every finished trial, NaN for those without one) if they are
// all in, else returns errGenerationRunning; then it asks for n points and
// saves them with the sampler's new state as generation g.Number+1, in one
// store transaction (PutSamplerState), and updates g. It returns ErrDone
// when the sampler proposes nothing more.
//
// smp must hold the state saved with g (or, for g.Number 0, its initial
// state). Because the save is idempotent, two workers that advance the same
// generation at once save it once and both get its trials back.
func advance(ctx context.Context, st store.Store, study store.Study, space *Space, smp Sampler, independent bool, g *generation, values map[int]float64, n int) ([]store.Trial, error) {
	if !independent && !g.Told {
		vals := make([]float64, len(g.Trials))
		for i, num := range g.Trials {
			v, done := values[num]
			if !done {
				return nil, errGenerationRunning
			}
			vals[i] = -v // samplers minimise; NaN stays NaN
		}
		if err := smp.Tell(vals); err != nil {
			return nil, fmt.Errorf("telling the %s sampler generation %d: %w", smp.Name(), g.Number, err)
		}
		g.Told = true
	}
	pts, err := smp.Ask(n)
	if errors.Is(err, ErrDone) {
		return nil, ErrDone
	}
	if err != nil {
		return nil, fmt.Errorf("asking the %s sampler: %w", smp.Name(), err)
	}
	state, err := smp.State()
	if err != nil {
		return nil, err
	}
	gen := g.Number + 1
	nts := make([]store.NewTrial, len(pts))
	for i, x := range pts {
		nts[i] = store.NewTrial{Gamma: space.Gamma(x), Seed: TrialSeed(study.Seed, gen, i), Generation: gen}
	}
	trials, err := st.PutSamplerState(ctx, study.Name, store.SamplerState{Generation: gen, Version: state.Version, Data: state.Data}, nts)
	if err != nil {
		return nil, err
	}
	g.Number, g.Told = gen, false
	g.Trials = make([]int, 0, len(trials))
	for _, t := range trials {
		g.Trials = append(g.Trials, t.Number)
	}
	return trials, nil
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
	spec := TrialSpec{Number: t.Number, Gamma: t.Gamma, Seed: t.Seed, Epochs: t.Budget}
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
		d.curves[m.trial] = append(d.curves[m.trial], m.rep.Metrics.ValAcc)
		d.emit(Event{Kind: EpochDone, Trial: t, Metrics: m.rep.Metrics})
		switch {
		case d.stopping || ctx.Err() != nil:
			m.reply <- errStopSoft
		case m.rep.Metrics.Epoch < d.specEpochs(t) && d.pruner.Prune(m.trial, m.rep.Metrics.Epoch, d.curves):
			m.reply <- errPruned
		default:
			m.reply <- nil
		}
	case doneMsg:
		t := d.running[m.trial]
		delete(d.running, m.trial)
		r, stopped := trialResult(t, d.curves[m.trial], m.outcome, m.err, m.wall, ctx.Err() != nil)
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
// back to the queue; pruned trials keep their last reported value; NaN or
// infinite values and errors fail the trial. curve holds the trial's
// reported values, wall the time of this attempt.
func trialResult(t store.Trial, curve []float64, out Outcome, err error, wall time.Duration, aborted bool) (r store.Result, stopped bool) {
	wall += t.WallTime
	switch {
	case errors.Is(err, errStopSoft), aborted:
		return store.Result{}, true
	case errors.Is(err, errPruned):
		r = store.Result{State: store.Pruned, WallTime: wall}
		if len(curve) > 0 && !math.IsNaN(curve[len(curve)-1]) {
			v := curve[len(curve)-1]
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
