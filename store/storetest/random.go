package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"goalsearch/store"
)

// RandomOptions configures Randomized. The zero value is a short run.
type RandomOptions struct {
	// Seed seeds the operations; the run is reproducible from it.
	Seed uint64
	// Steps is the number of operations; if 0, 400 are run.
	Steps int
	// Reopen, if not nil, closes the store and opens it again from its
	// persistent form; Randomized calls it now and then, so that what the
	// model expects is checked against what survives a restart.
	Reopen func(store.Store) store.Store
}

// Randomized applies random operations (valid and invalid) to s and to a
// simple in-memory model of the contract, and fails at the first result
// or error that differs, and whenever the store's contents differ from the
// model's. It uses a study named "random".
func Randomized(t *testing.T, s store.Store, opts RandomOptions) {
	steps := opts.Steps
	if steps == 0 {
		steps = 400
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	const study = "random"
	if _, err := s.CreateStudy(ctx, Study(study)); err != nil {
		t.Fatal(err)
	}
	m := &model{sampler: map[int]*modelSampler{}}
	r := &runner{t: t, s: s, m: m, rng: rng, study: study}
	for step := 0; step < steps; step++ {
		r.step = step
		r.randomOp()
		if t.Failed() {
			t.Fatalf("randomized run (seed %d) failed at step %d; operations:\n%s", opts.Seed, step, r.log.String())
		}
		if opts.Reopen != nil && rng.IntN(50) == 0 {
			fmt.Fprintf(&r.log, "%d: reopen\n", step)
			r.s = opts.Reopen(r.s)
			s = r.s
		}
		if step%25 == 24 || step == steps-1 {
			r.compare()
			if t.Failed() {
				t.Fatalf("randomized run (seed %d): contents differ after step %d; operations:\n%s", opts.Seed, step, r.log.String())
			}
		}
	}
}

// model is the contract reduced to what can be checked: states, attempts,
// epoch numbers, checkpoints and sampler generations.
type model struct {
	trials  []*modelTrial
	sampler map[int]*modelSampler
}

type modelTrial struct {
	state   store.TrialState
	gamma   []float64
	seed    uint64
	gen     int
	budget  int
	attempt int
	epochs  []int
	ckpt    int
	data    []byte
	value   *float64
	reason  string
}

type modelSampler struct {
	data   string
	trials []int
}

type runner struct {
	t     *testing.T
	s     store.Store
	m     *model
	rng   *rand.Rand
	study string
	step  int
	log   bytes.Buffer
}

func (r *runner) logf(format string, a ...any) {
	fmt.Fprintf(&r.log, "%d: %s\n", r.step, fmt.Sprintf(format, a...))
}

// check compares an operation's error with the model's.
func (r *runner) check(op string, got, want error) bool {
	r.t.Helper()
	r.logf("%s -> %v", op, got)
	if want == nil && got != nil || want != nil && !errors.Is(got, want) {
		r.t.Errorf("step %d: %s: error %v, model expects %v", r.step, op, got, want)
		return false
	}
	return got == nil
}

// pick returns a trial number, now and then one that does not exist.
func (r *runner) pick() int {
	n := len(r.m.trials)
	if n == 0 || r.rng.IntN(20) == 0 {
		return n + r.rng.IntN(3) - 1 // -1, n or n+1
	}
	return r.rng.IntN(n)
}

func (r *runner) trial(n int) (*modelTrial, error) {
	if n < 0 || n >= len(r.m.trials) {
		return nil, store.ErrTrialNotFound
	}
	return r.m.trials[n], nil
}

// need mirrors the order of the contract's checks: existence, finished,
// state, then claim.
func (r *runner) need(n, attempt int, claim bool, states ...store.TrialState) (*modelTrial, error) {
	mt, err := r.trial(n)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(states, mt.state) {
		if mt.state.Finished() {
			return mt, store.ErrTrialFinished
		}
		return mt, store.ErrWrongState
	}
	if claim && attempt != mt.attempt {
		return mt, store.ErrStaleClaim
	}
	return mt, nil
}

// claimFor returns a claim for trial n: usually the current one, sometimes
// a stale or future attempt.
func (r *runner) claimFor(n int) store.Claim {
	a := 0
	if mt, err := r.trial(n); err == nil {
		a = mt.attempt
	}
	switch r.rng.IntN(10) {
	case 0:
		a--
	case 1:
		a++
	}
	return store.Claim{Study: r.study, Number: n, Attempt: a}
}

func (mt *modelTrial) last() int {
	if len(mt.epochs) == 0 {
		return 0
	}
	return mt.epochs[len(mt.epochs)-1]
}

func (mt *modelTrial) truncate() {
	for len(mt.epochs) > 0 && mt.last() > mt.ckpt {
		mt.epochs = mt.epochs[:len(mt.epochs)-1]
	}
	if len(mt.epochs) == 0 {
		mt.epochs = nil
	}
}

func (r *runner) newTrial(gen int) store.NewTrial {
	g := []float64{r.rng.Float64()*2 - 1, r.rng.NormFloat64(), 0, float64(gen), 0}
	if r.rng.IntN(15) == 0 {
		g = g[:r.rng.IntN(5)] // invalid: wrong dimension
	}
	return store.NewTrial{Gamma: g, Seed: r.rng.Uint64(), Generation: gen, Budget: r.rng.IntN(4)}
}

func (r *runner) addTrial(nt store.NewTrial, gen int) {
	r.m.trials = append(r.m.trials, &modelTrial{state: store.Queued, gamma: nt.Gamma, seed: nt.Seed, gen: gen, budget: nt.Budget})
}

func (r *runner) randomOp() {
	s, m, rng := r.s, r.m, r.rng
	switch op := rng.IntN(100); {
	case op < 12: // enqueue
		nt := r.newTrial(rng.IntN(3))
		var want error
		if len(nt.Gamma) != 5 {
			want = store.ErrInvalidTrial
		}
		tr, err := s.EnqueueTrial(ctx, r.study, nt)
		if r.check(fmt.Sprintf("enqueue %v", nt.Gamma), err, want) {
			if tr.Number != len(m.trials) {
				r.t.Errorf("enqueued number %d, model expects %d", tr.Number, len(m.trials))
			}
			r.addTrial(nt, nt.Generation)
		}

	case op < 20: // start
		n := r.pick()
		mt, want := r.need(n, 0, false, store.Queued)
		tr, err := s.StartTrial(ctx, r.study, n, "w")
		if r.check(fmt.Sprintf("start %d", n), err, want) {
			mt.state, mt.attempt = store.Running, mt.attempt+1
			if tr.Attempt != mt.attempt {
				r.t.Errorf("started attempt %d, model expects %d", tr.Attempt, mt.attempt)
			}
		}

	case op < 28: // claim
		want, n := store.ErrNoQueuedTrial, -1
		for i, mt := range m.trials {
			if mt.state == store.Queued {
				want, n = nil, i
				break
			}
		}
		tr, err := s.ClaimTrial(ctx, r.study, "w")
		if r.check("claim", err, want) {
			mt := m.trials[n]
			mt.state, mt.attempt = store.Running, mt.attempt+1
			if tr.Number != n || tr.Attempt != mt.attempt {
				r.t.Errorf("claimed trial %d attempt %d, model expects %d attempt %d", tr.Number, tr.Attempt, n, mt.attempt)
			}
		}

	case op < 55: // report
		n := r.pick()
		c := r.claimFor(n)
		mt, want := r.need(n, c.Attempt, true, store.Running)
		epoch := 1
		if mt != nil {
			epoch = mt.last() + 1
			if rng.IntN(8) == 0 {
				epoch = rng.IntN(epoch + 1) // 0..last: out of order
			}
		}
		if want == nil && (epoch < 1 || epoch <= mt.last()) {
			want = store.ErrEpochOrder
		}
		var data []byte
		if rng.IntN(2) == 0 {
			data = fmt.Appendf(nil, "trial %d epoch %d step %d", n, epoch, r.step)
		}
		met := store.EpochMetrics{Epoch: epoch, TrainLoss: rng.ExpFloat64(), ValAcc: rng.Float64()}
		if rng.IntN(10) == 0 {
			met.TrainLoss = math.NaN()
		}
		err := s.ReportEpoch(ctx, c, met, data)
		if r.check(fmt.Sprintf("report %d attempt %d epoch %d ckpt %t", n, c.Attempt, epoch, data != nil), err, want) {
			mt.epochs = append(mt.epochs, epoch)
			if data != nil {
				mt.ckpt, mt.data = epoch, data
			}
		}

	case op < 60: // pause
		n := r.pick()
		c := r.claimFor(n)
		mt, want := r.need(n, c.Attempt, true, store.Running)
		_, err := s.PauseTrial(ctx, c)
		if r.check(fmt.Sprintf("pause %d attempt %d", n, c.Attempt), err, want) {
			mt.state = store.Paused
			mt.truncate()
		}

	case op < 65: // continue
		n := r.pick()
		budget := rng.IntN(6) - 1
		mt, want := r.need(n, 0, false, store.Paused)
		if want == nil && budget < 0 {
			want = store.ErrInvalidTrial
		}
		_, err := s.ContinueTrial(ctx, r.study, n, budget)
		if r.check(fmt.Sprintf("continue %d budget %d", n, budget), err, want) {
			mt.state = store.Queued
			if budget > 0 {
				mt.budget = budget
			}
		}

	case op < 78: // finish
		n := r.pick()
		c := r.claimFor(n)
		mt, want := r.need(n, c.Attempt, true, store.Running, store.Paused)
		res := store.Result{State: []store.TrialState{store.Complete, store.Pruned, store.Failed}[rng.IntN(3)]}
		switch res.State {
		case store.Complete, store.Pruned:
			res.Value = ptr(rng.Float64())
		case store.Failed:
			res.Reason = "random failure"
		}
		if rng.IntN(10) == 0 { // invalid: a failed trial with a value
			res.State, res.Value, res.Reason = store.Failed, ptr(1), "x"
			if want == nil {
				want = store.ErrInvalidResult
			}
		}
		_, err := s.FinishTrial(ctx, c, res)
		if r.check(fmt.Sprintf("finish %d attempt %d as %s", n, c.Attempt, res.State), err, want) {
			mt.state, mt.value, mt.reason = res.State, res.Value, res.Reason
			mt.ckpt, mt.data = 0, nil
		}

	case op < 84: // requeue running
		var want []int
		for i, mt := range m.trials {
			if mt.state == store.Running {
				want = append(want, i)
			}
		}
		got, err := s.RequeueRunning(ctx, r.study)
		if r.check("requeue", err, nil) {
			if !slices.Equal(got, want) {
				r.t.Errorf("RequeueRunning = %v, model expects %v", got, want)
			}
			for _, i := range want {
				m.trials[i].state = store.Queued
				m.trials[i].truncate()
			}
		}

	default: // sampler state
		gen := rng.IntN(6)
		data := fmt.Sprintf(`{"gen":%d,"v":%d}`, gen, rng.IntN(2))
		k := rng.IntN(3)
		// Trials derived from what is saved, so that repeating a save is
		// likely to repeat its trials too.
		prng := rand.New(rand.NewPCG(uint64(gen), uint64(len(data)+k)))
		var nts []store.NewTrial
		for i := 0; i < k; i++ {
			nts = append(nts, store.NewTrial{Gamma: []float64{prng.Float64(), 0, 0, 0, float64(i)}, Seed: prng.Uint64()})
		}
		var want error
		old, exists := m.sampler[gen]
		if exists {
			want = store.ErrSamplerStateExists
			if old.data == data && len(old.trials) == k {
				want = nil
				for i, n := range old.trials {
					if !slices.Equal(m.trials[n].gamma, nts[i].Gamma) || m.trials[n].seed != nts[i].Seed {
						want = store.ErrSamplerStateExists
					}
				}
			}
		}
		got, err := s.PutSamplerState(ctx, r.study, store.SamplerState{Generation: gen, Data: json.RawMessage(data)}, nts)
		if r.check(fmt.Sprintf("sampler gen %d %s with %d trials", gen, data, k), err, want) {
			var numbers []int
			for _, tr := range got {
				numbers = append(numbers, tr.Number)
			}
			if exists {
				if !slices.Equal(numbers, old.trials) {
					r.t.Errorf("repeated sampler state returned trials %v, model expects %v", numbers, old.trials)
				}
				return
			}
			ms := &modelSampler{data: data}
			for _, nt := range nts {
				ms.trials = append(ms.trials, len(m.trials))
				r.addTrial(nt, gen)
			}
			if !slices.Equal(numbers, ms.trials) {
				r.t.Errorf("sampler state enqueued trials %v, model expects %v", numbers, ms.trials)
			}
			m.sampler[gen] = ms
		}
	}
}

// compare checks the store's whole contents against the model.
func (r *runner) compare() {
	t := r.t
	ts, err := r.s.Trials(ctx, r.study)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != len(r.m.trials) {
		t.Fatalf("%d trials, model has %d", len(ts), len(r.m.trials))
	}
	for i, tr := range ts {
		mt := r.m.trials[i]
		var epochs []int
		for _, e := range tr.Epochs {
			epochs = append(epochs, e.Epoch)
		}
		sameValue := (tr.Value == nil) == (mt.value == nil) && (tr.Value == nil || *tr.Value == *mt.value)
		if tr.Number != i || tr.State != mt.state || !slices.Equal(tr.Gamma, mt.gamma) || tr.Seed != mt.seed ||
			tr.Generation != mt.gen || tr.Budget != mt.budget || tr.Attempt != mt.attempt ||
			!slices.Equal(epochs, mt.epochs) || tr.CheckpointEpoch != mt.ckpt || !sameValue || tr.Reason != mt.reason {
			t.Errorf("trial %d: %s attempt %d epochs %v ckpt %d gen %d budget %d reason %q;\nmodel: %s attempt %d epochs %v ckpt %d gen %d budget %d reason %q",
				i, tr.State, tr.Attempt, epochs, tr.CheckpointEpoch, tr.Generation, tr.Budget, tr.Reason,
				mt.state, mt.attempt, mt.epochs, mt.ckpt, mt.gen, mt.budget, mt.reason)
		}
		ck, err := r.s.Checkpoint(ctx, r.study, i)
		switch {
		case mt.ckpt == 0 && !errors.Is(err, store.ErrCheckpointNotFound):
			t.Errorf("trial %d: Checkpoint = epoch %d, %v; model has none", i, ck.Epoch, err)
		case mt.ckpt > 0 && (err != nil || ck.Epoch != mt.ckpt || !bytes.Equal(ck.Data, mt.data)):
			t.Errorf("trial %d: Checkpoint = epoch %d %q, %v; model has epoch %d %q", i, ck.Epoch, ck.Data, err, mt.ckpt, mt.data)
		}
	}
	states, err := r.s.SamplerStates(ctx, r.study)
	if err != nil {
		t.Fatal(err)
	}
	var gens []int
	for g := range r.m.sampler {
		gens = append(gens, g)
	}
	slices.Sort(gens)
	if len(states) != len(gens) {
		t.Fatalf("%d sampler states, model has %d", len(states), len(gens))
	}
	for i, st := range states {
		ms := r.m.sampler[gens[i]]
		if st.Generation != gens[i] || string(st.Data) != ms.data || !slices.Equal(st.Trials, ms.trials) {
			t.Errorf("sampler state %d: %s %v; model: generation %d %s %v", st.Generation, st.Data, st.Trials, gens[i], ms.data, ms.trials)
		}
	}
}
