// Package rules holds the state transitions of studies and trials as pure
// functions on store values, so that every backend (bbolt now, PostgreSQL
// later) enforces the same contract: a backend reads the records inside its
// transaction, applies a rule, and writes back what the rule returns.
//
// Each function either changes its argument and returns nil, or leaves it
// untouched and returns an error wrapping a store sentinel.
package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"goalsearch/store"
)

// NewStudy validates s and returns it as it is to be stored: configs
// normalised, CreatedAt now, SchemaVersion current.
func NewStudy(s store.Study, now time.Time) (store.Study, error) {
	if err := s.Validate(); err != nil {
		return store.Study{}, err
	}
	s.Setup.Config = store.NormalizeJSON(s.Setup.Config)
	s.Sampler.Config = store.NormalizeJSON(s.Sampler.Config)
	s.Pruner.Config = store.NormalizeJSON(s.Pruner.Config)
	s.Experiment = store.NormalizeJSON(s.Experiment)
	s.CreatedAt = store.Stamp(now)
	s.SchemaVersion = store.SchemaVersion
	return s, nil
}

// SameDefinition returns nil if asked defines the same study as stored, or
// ErrStudyExists naming the first field that differs.
func SameDefinition(stored, asked store.Study) error {
	a, b := stored, asked
	field := ""
	switch {
	case a.Setup.Name != b.Setup.Name || !jsonEqual(a.Setup.Config, b.Setup.Config):
		field = "setup"
	case !slices.Equal(a.Space.Labels, b.Space.Labels):
		field = "search space labels"
	case !floatsEqual(a.Space.Lower, b.Space.Lower) || !floatsEqual(a.Space.Upper, b.Space.Upper):
		field = "search space bounds"
	case !maps.EqualFunc(a.Space.Fixed, b.Space.Fixed, sameFloat):
		field = "fixed coordinates"
	case a.Space.UnitNorm != b.Space.UnitNorm:
		field = "unit-norm setting"
	case !slices.EqualFunc(a.Space.Params, b.Space.Params, sameParam):
		field = "hyperparameter space"
	case a.Objective != b.Objective || !slices.Equal(a.Objectives, b.Objectives):
		field = "objective"
	case a.Sampler.Name != b.Sampler.Name || !jsonEqual(a.Sampler.Config, b.Sampler.Config):
		field = "sampler"
	case a.Pruner.Name != b.Pruner.Name || !jsonEqual(a.Pruner.Config, b.Pruner.Config):
		field = "pruner"
	case a.Seed != b.Seed:
		field = "seed"
	default:
		return nil
	}
	return fmt.Errorf("%w: study %q has a different %s", store.ErrStudyExists, stored.Name, field)
}

// Amend returns the definition def becomes by a, for a study whose next
// trial number is next: ErrStudyChanged unless def and next are what a
// was made against, ErrInvalidStudy if the new config is not JSON. The
// trials of a.Enqueue are the caller's to check (NewTrial).
func Amend(def store.Study, next int, a store.Amendment) (store.Study, error) {
	if !jsonEqual(def.Sampler.Config, a.Was) || next != a.Next {
		return store.Study{}, fmt.Errorf("%w: study %q has %d trials and sampler config %s; the caller read %d and %s",
			store.ErrStudyChanged, def.Name, next, def.Sampler.Config, a.Next, a.Was)
	}
	def.Sampler.Config = a.Config
	if err := def.Validate(); err != nil {
		return store.Study{}, err
	}
	def.Sampler.Config = store.NormalizeJSON(a.Config)
	return def, nil
}

// NewTrial returns trial number of study as proposed by nt, queued.
func NewTrial(study store.Study, number int, nt store.NewTrial, now time.Time) (store.Trial, error) {
	if err := store.ValidateNewTrial(study.Space, nt); err != nil {
		return store.Trial{}, err
	}
	return store.Trial{
		Study:      study.Name,
		Number:     number,
		State:      store.Queued,
		Gamma:      slices.Clone(nt.Gamma),
		Params:     slices.Clone(nt.Params),
		Seed:       nt.Seed,
		Generation: nt.Generation,
		Budget:     nt.Budget,
		Created:    store.Stamp(now),
	}, nil
}

// Start moves a queued trial to running under a new attempt.
func Start(t *store.Trial, worker string, now time.Time) error {
	if err := want(*t, store.Queued); err != nil {
		return err
	}
	t.State = store.Running
	t.Attempt++
	t.Worker = worker
	t.LeaseExpiry = time.Time{}
	t.Started = store.Stamp(now)
	return nil
}

// Report appends m to a running trial held by c; withCheckpoint says a
// checkpoint of epoch m.Epoch is saved with it.
func Report(t *store.Trial, c store.Claim, m store.EpochMetrics, withCheckpoint bool) error {
	if err := held(*t, c, store.Running); err != nil {
		return err
	}
	if m.Epoch < 1 || m.Epoch <= t.LastEpoch() {
		return fmt.Errorf("%w: trial %d: epoch %d reported after epoch %d", store.ErrEpochOrder, t.Number, m.Epoch, t.LastEpoch())
	}
	for k := range m.Extra {
		if k == "" {
			return fmt.Errorf("%w: trial %d: epoch %d has a metric with an empty name", store.ErrInvalidTrial, t.Number, m.Epoch)
		}
	}
	if m.TestAcc != nil {
		v := *m.TestAcc
		m.TestAcc = &v
	}
	m.Extra = maps.Clone(m.Extra)
	t.Epochs = append(slices.Clip(t.Epochs), m)
	if withCheckpoint {
		t.CheckpointEpoch = m.Epoch
	}
	return nil
}

// Pause moves a running trial held by c to paused.
func Pause(t *store.Trial, c store.Claim) error {
	if err := held(*t, c, store.Running); err != nil {
		return err
	}
	t.State = store.Paused
	truncate(t)
	return nil
}

// Continue moves a paused trial back to queued; budget 0 keeps its budget.
func Continue(t *store.Trial, budget int) error {
	if err := want(*t, store.Paused); err != nil {
		return err
	}
	if budget < 0 {
		return fmt.Errorf("%w: trial %d: negative budget %d", store.ErrInvalidTrial, t.Number, budget)
	}
	t.State = store.Queued
	if budget > 0 {
		t.Budget = budget
	}
	return nil
}

// Finish ends a running or paused trial held by c with r. The caller
// deletes the trial's checkpoint in the same transaction.
func Finish(t *store.Trial, c store.Claim, r store.Result, now time.Time) error {
	if err := held(*t, c, store.Running, store.Paused); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	t.State = r.State
	if r.Value != nil {
		v := *r.Value
		t.Value = &v
	}
	t.Values = slices.Clone(r.Values)
	if len(r.Final) > 0 {
		t.Final = maps.Clone(r.Final)
	}
	for _, row := range r.Atoms {
		t.Atoms = append(t.Atoms, slices.Clone(row))
	}
	t.WallTime = r.WallTime
	t.Reason = r.Reason
	t.CheckpointEpoch = 0
	t.LeaseExpiry = time.Time{}
	t.Finished = store.Stamp(now)
	return nil
}

// Requeue moves a running trial back to queued after its worker is gone.
func Requeue(t *store.Trial) error {
	if err := want(*t, store.Running); err != nil {
		return err
	}
	t.State = store.Queued
	t.LeaseExpiry = time.Time{}
	truncate(t)
	return nil
}

// truncate drops the epochs after the checkpoint: they will be trained
// again from it, and reported again.
func truncate(t *store.Trial) {
	i := len(t.Epochs)
	for i > 0 && t.Epochs[i-1].Epoch > t.CheckpointEpoch {
		i--
	}
	if i == 0 {
		t.Epochs = nil
	} else {
		t.Epochs = t.Epochs[:i:i]
	}
}

// want checks that t is in one of the states an operation needs.
func want(t store.Trial, states ...store.TrialState) error {
	if slices.Contains(states, t.State) {
		return nil
	}
	if t.State.Finished() {
		return fmt.Errorf("%w: trial %d is %s", store.ErrTrialFinished, t.Number, t.State)
	}
	return fmt.Errorf("%w: trial %d is %s, not %s", store.ErrWrongState, t.Number, t.State, states[0])
}

// held checks the state and that c holds the trial's current attempt.
func held(t store.Trial, c store.Claim, states ...store.TrialState) error {
	if err := want(t, states...); err != nil {
		return err
	}
	if c.Attempt != t.Attempt {
		return fmt.Errorf("%w: trial %d is at attempt %d, the claim holds attempt %d", store.ErrStaleClaim, t.Number, t.Attempt, c.Attempt)
	}
	return nil
}

// PrepareSamplerState validates st and returns it as it is to be stored,
// without trials (the backend fills them in).
func PrepareSamplerState(st store.SamplerState, now time.Time) (store.SamplerState, error) {
	st.Trials = nil
	st.Data = store.NormalizeJSON(st.Data)
	st.CreatedAt = store.Stamp(now)
	if err := st.Validate(); err != nil {
		return store.SamplerState{}, err
	}
	return st, nil
}

// SameSamplerState returns nil if saving st with enqueue repeats the save
// that stored stored with trials, else ErrSamplerStateExists. Trials are
// matched by gamma and seed (their budget may have been raised since).
func SameSamplerState(stored store.SamplerState, trials []store.Trial, st store.SamplerState, enqueue []store.NewTrial) error {
	what := ""
	switch {
	case stored.Version != st.Version || !jsonEqual(stored.Data, st.Data):
		what = "a different state"
	case len(trials) != len(enqueue):
		what = fmt.Sprintf("%d trials, not %d", len(trials), len(enqueue))
	default:
		for i, t := range trials {
			if !floatsEqual(t.Gamma, enqueue[i].Gamma) || !floatsEqual(t.Params, enqueue[i].Params) || t.Seed != enqueue[i].Seed {
				what = fmt.Sprintf("a different trial %d", t.Number)
				break
			}
		}
	}
	if what == "" {
		return nil
	}
	return fmt.Errorf("%w: generation %d was saved with %s", store.ErrSamplerStateExists, stored.Generation, what)
}

// ValidateDump checks that d can be imported as it is: a valid study, and
// trials, sampler states and checkpoints that agree with each other.
func ValidateDump(d store.Dump) error {
	if err := d.Study.Validate(); err != nil {
		return err
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w %q: %s", store.ErrInvalidDump, d.Study.Name, fmt.Sprintf(format, a...))
	}
	if d.Study.CreatedAt.IsZero() || d.Study.SchemaVersion < 1 || d.Study.SchemaVersion > store.SchemaVersion {
		return bad("no creation time or schema version %d", d.Study.SchemaVersion)
	}
	ckptOf := map[int]int{}
	for i, t := range d.Trials {
		if err := t.Validate(); err != nil {
			return bad("%v", err)
		}
		if t.Study != "" && t.Study != d.Study.Name {
			return bad("trial %d belongs to study %q", t.Number, t.Study)
		}
		if i > 0 && t.Number <= d.Trials[i-1].Number {
			return bad("trial %d after trial %d", t.Number, d.Trials[i-1].Number)
		}
		if len(t.Gamma) != d.Study.Space.Dim() {
			return bad("trial %d has %d coordinates, the search space %d", t.Number, len(t.Gamma), d.Study.Space.Dim())
		}
		if len(t.Params) != len(d.Study.Space.Params) {
			return bad("trial %d has %d parameter values, the search space %d parameters", t.Number, len(t.Params), len(d.Study.Space.Params))
		}
		if t.CheckpointEpoch > 0 {
			ckptOf[t.Number] = t.CheckpointEpoch
		}
	}
	for i, c := range d.Checkpoints {
		if i > 0 && c.Trial <= d.Checkpoints[i-1].Trial {
			return bad("checkpoint of trial %d after that of trial %d", c.Trial, d.Checkpoints[i-1].Trial)
		}
		if e, ok := ckptOf[c.Trial]; !ok || e != c.Epoch || len(c.Data) == 0 {
			return bad("checkpoint of trial %d, epoch %d, does not match the trial", c.Trial, c.Epoch)
		}
		delete(ckptOf, c.Trial)
	}
	for n := range ckptOf {
		return bad("trial %d has no checkpoint data", n)
	}
	numbers := make(map[int]bool, len(d.Trials))
	for _, t := range d.Trials {
		numbers[t.Number] = true
	}
	for i, s := range d.SamplerStates {
		if err := s.Validate(); err != nil {
			return bad("%v", err)
		}
		if s.CreatedAt.IsZero() {
			return bad("sampler state %d has no creation time", s.Generation)
		}
		if i > 0 && s.Generation <= d.SamplerStates[i-1].Generation {
			return bad("sampler state %d after %d", s.Generation, d.SamplerStates[i-1].Generation)
		}
		for _, n := range s.Trials {
			if !numbers[n] {
				return bad("sampler state %d lists missing trial %d", s.Generation, n)
			}
		}
	}
	return nil
}

func jsonEqual(a, b []byte) bool {
	return bytes.Equal(store.NormalizeJSON(a), store.NormalizeJSON(b))
}

// floatsEqual compares bit patterns, so that -0 differs from 0 and a stored
// value must be exactly what was asked.
func floatsEqual(a, b []float64) bool { return slices.EqualFunc(a, b, sameFloat) }

func sameParam(a, b store.Param) bool {
	return a.Key == b.Key && a.Type == b.Type && sameFloat(a.Lower, b.Lower) && sameFloat(a.Upper, b.Upper) &&
		slices.EqualFunc(a.Choices, b.Choices, func(x, y json.RawMessage) bool { return jsonEqual(x, y) })
}

func sameFloat(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }
