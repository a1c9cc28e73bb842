package store

import (
	"encoding/json"
	"time"
)

// SchemaVersion is the version of the record layout this build reads and
// writes. A store or export file whose records carry a larger version is
// refused with ErrNewerSchema rather than misread.
const SchemaVersion = 1

// A Study is one search: what is trained, over which goal vectors, towards
// which objective, and with which sampler. Everything but CreatedAt and
// SchemaVersion is its definition, fixed when it is created.
type Study struct {
	// Name identifies the study in its store: 1 to 128 bytes of UTF-8,
	// no control characters, no leading or trailing space.
	Name string

	// Setup names the network and training configuration each trial runs
	// (e.g. "context-lateral" with its dataset, neurons and epochs). The
	// store keeps Config as opaque JSON.
	Setup Setup

	// Space is the set of goal vectors the sampler may propose.
	Space SearchSpace

	// Objective is the metric the search optimises and its direction.
	Objective Objective

	// Objectives are the further objectives of a multi-objective study
	// (the goal's complexity, docs/pareto.md), after Objective; a trial's
	// Values hold their values in this order. Nil for a single objective,
	// as every study stored before they existed.
	Objectives []Objective

	// Sampler names the sampler and holds its configuration.
	Sampler SamplerConfig

	// Pruner names the pruner or scheduler (e.g. ASHA); an empty Name
	// means none.
	Pruner PrunerConfig

	// Seed is the study's root seed, from which the sampler's and the
	// trials' random streams are derived.
	Seed uint64

	// CreatedAt is set by the store when the study is created (UTC); a
	// value given to CreateStudy is ignored.
	CreatedAt time.Time

	// SchemaVersion is the SchemaVersion of the build that created the
	// study, set by the store.
	SchemaVersion int

	// Experiment is the resolved experiment the study was created from
	// (JSON, opaque to the store), so that the study can be printed as a
	// file that recreates it. It is metadata, not part of the definition:
	// CreateStudy does not compare it, and a study re-created with the
	// same definition keeps the stored one. Nil for studies made without
	// one.
	Experiment json.RawMessage
}

// Setup names the training setup of a study. Config is opaque to the store;
// nil, empty and JSON null all mean "no configuration" and are stored as nil.
type Setup struct {
	Name   string
	Config json.RawMessage
}

// SamplerConfig names a sampler ("random", "tpe", "cmaes", ...) and holds its
// settings as JSON, opaque to the store.
type SamplerConfig struct {
	Name   string
	Config json.RawMessage
}

// PrunerConfig names a pruner ("median", "asha", ...) and holds its settings
// as JSON, opaque to the store. The zero value means no pruner.
type PrunerConfig struct {
	Name   string
	Config json.RawMessage
}

// Direction says whether the objective is to be maximised or minimised.
type Direction string

// The two directions.
const (
	Maximize Direction = "maximize"
	Minimize Direction = "minimize"
)

// Objective is the metric a trial's Value holds, e.g. "val_acc", and
// whether larger is better.
type Objective struct {
	Metric    string
	Direction Direction
	// Grid is the step that the goal weights are rounded to for a
	// complexity objective ("nonzero", "l1"): the goals are trained
	// rounded, and the complexity is the rounded goal's. 0 otherwise.
	Grid float64
}

// SearchSpace is the box (optionally projected to the unit sphere) that goal
// vectors are drawn from. Index i is the weight of the PID atom Labels[i];
// the labels follow the goal order of package pid (for two sources "{1}",
// "{2}", "{1}{2}", "{12}", "H_res").
type SearchSpace struct {
	// Labels names each coordinate; they are unique and non-empty.
	Labels []string
	// Lower and Upper bound each coordinate: Lower[i] <= Upper[i], finite.
	Lower, Upper []float64
	// Fixed holds coordinates that are not searched, by label; each value
	// lies within its bounds. Nil means none is fixed.
	Fixed map[string]float64
	// UnitNorm says the sampler scales every proposal to Euclidean norm 1.
	// It applies to the goal weights only, never to Params.
	UnitNorm bool
	// Params are the hyperparameters searched beside the goal weights, in
	// the order of Trial.Params. Nil for a goal-only search.
	Params []Param
}

// ParamType is how a hyperparameter is searched.
type ParamType string

// The hyperparameter types.
const (
	// Float is a real number in [Lower, Upper].
	Float ParamType = "float"
	// LogFloat is a positive real number in [Lower, Upper], searched on a
	// log scale (0 < Lower).
	LogFloat ParamType = "log-float"
	// Int is an integer in [Lower, Upper].
	Int ParamType = "int"
	// Categorical is one of Choices; a trial records the choice's index.
	Categorical ParamType = "categorical"
)

// A Param is one searched hyperparameter: the key path of the setting it
// sets (e.g. "network.hidden_layer.adam.lr") and its range.
type Param struct {
	Key  string
	Type ParamType
	// Lower and Upper bound Float, LogFloat and Int parameters (integral
	// for Int); zero for Categorical.
	Lower, Upper float64
	// Choices are the JSON values of a Categorical parameter (at least
	// one); nil otherwise.
	Choices []json.RawMessage
}

// Dim returns the number of coordinates of a goal vector.
func (s SearchSpace) Dim() int { return len(s.Labels) }

// FixedAt reports whether coordinate i is fixed, and to which value.
func (s SearchSpace) FixedAt(i int) (float64, bool) {
	if i < 0 || i >= len(s.Labels) {
		return 0, false
	}
	v, ok := s.Fixed[s.Labels[i]]
	return v, ok
}

// TrialState is where a trial is in its life. Queued, Running and Paused
// trials may still change; Complete, Pruned and Failed trials are finished
// and never change again.
//
//	queued -> running            StartTrial, ClaimTrial
//	running -> queued            RequeueRunning (the worker died)
//	running -> paused            PauseTrial (stopped at a rung, may continue)
//	paused -> queued             ContinueTrial (promoted)
//	running, paused -> finished  FinishTrial
type TrialState string

// The trial states.
const (
	Queued   TrialState = "queued"
	Running  TrialState = "running"
	Paused   TrialState = "paused"
	Complete TrialState = "complete"
	Pruned   TrialState = "pruned"
	Failed   TrialState = "failed"
)

// Valid reports whether s is one of the six states.
func (s TrialState) Valid() bool {
	switch s {
	case Queued, Running, Paused, Complete, Pruned, Failed:
		return true
	}
	return false
}

// Finished reports whether s is Complete, Pruned or Failed.
func (s TrialState) Finished() bool { return s == Complete || s == Pruned || s == Failed }

// A Trial is one training run with one goal vector. The store assigns
// Number and keeps every other field consistent with State; callers change
// a trial only through the Store's methods.
type Trial struct {
	// Study is the name of the study the trial belongs to.
	Study string
	// Number is 0 for a study's first trial and one more for each next.
	Number int
	// State is where the trial is in its life.
	State TrialState

	// Gamma is the goal vector, one weight per coordinate of the study's
	// search space.
	Gamma []float64
	// Params are the values of the search space's Params, in their order
	// (a Categorical parameter's value is the index of its choice); nil
	// for a goal-only search.
	Params []float64
	// Seed seeds the trial's network initialisation and data order.
	Seed uint64
	// Generation is the sampler generation that proposed the trial (0 for
	// samplers without generations).
	Generation int
	// Budget is the number of epochs to train to; 0 means the setup's
	// default. ContinueTrial raises it when a pruner promotes the trial.
	Budget int

	// Attempt counts the starts of the trial. It is the fencing token of
	// a Claim: a change carrying an older attempt is refused.
	Attempt int
	// Worker names who runs (or last ran) the trial, as given to
	// StartTrial or ClaimTrial.
	Worker string
	// LeaseExpiry is when a networked backend may hand a running trial to
	// another worker; zero for backends without leases (bbolt).
	LeaseExpiry time.Time

	// Epochs holds the metrics of each finished epoch in order. When a
	// trial leaves Running without finishing, epochs after its checkpoint
	// are dropped, because training continues from the checkpoint.
	Epochs []EpochMetrics
	// CheckpointEpoch is the epoch of the trial's checkpoint, 0 if it has
	// none. Finishing a trial deletes its checkpoint.
	CheckpointEpoch int

	// Value is the objective value: set for Complete trials, optional for
	// Pruned ones (the last reported value), nil otherwise.
	Value *float64
	// Values are the values of the study's further Objectives, in their
	// order, set with Value; nil for a single-objective study.
	Values []float64
	// Final holds the final metrics by name ("val_acc", "test_acc", ...).
	Final map[string]float64
	// Atoms holds, per neuron, the mean PID atoms of the last epoch.
	Atoms [][]float64
	// WallTime is the training time over all attempts, as reported.
	WallTime time.Duration
	// Reason says why a Failed trial failed; empty otherwise.
	Reason string

	// Created, Started (the latest start) and Finished are set by the
	// store, in UTC; zero until they happen.
	Created, Started, Finished time.Time
}

// Claim returns the claim that the trial's current attempt holds.
func (t Trial) Claim() Claim { return Claim{Study: t.Study, Number: t.Number, Attempt: t.Attempt} }

// LastEpoch returns the last reported epoch, 0 if none.
func (t Trial) LastEpoch() int {
	if len(t.Epochs) == 0 {
		return 0
	}
	return t.Epochs[len(t.Epochs)-1].Epoch
}

// A Claim is what a worker holds while it runs a trial: which trial, and
// which attempt at it. Every change a worker makes carries its claim, so a
// worker whose trial was requeued (and perhaps started again elsewhere)
// cannot write to it any more; that is what keeps a trial from being run
// twice to completion.
type Claim struct {
	Study   string
	Number  int
	Attempt int
}

// Amendment is a change of a study's sampler configuration with the trials
// it adds (Store.AmendStudy), made against the study as the caller read it.
type Amendment struct {
	// Was is the Sampler.Config the caller read, Next the number of the
	// next trial as it read the trials: the last one's plus one, 0 for
	// none.
	Was  json.RawMessage
	Next int
	// Config replaces Sampler.Config; Enqueue are queued after it.
	Config  json.RawMessage
	Enqueue []NewTrial
}

// NewTrial is what a sampler proposes: a trial to enqueue.
type NewTrial struct {
	Gamma      []float64
	Params     []float64
	Seed       uint64
	Generation int
	Budget     int
}

// EpochMetrics is what a running trial reports after each epoch. Any value
// may be NaN or infinite (a diverged loss is recorded as such).
type EpochMetrics struct {
	// Epoch counts the finished epochs: 1 after the first.
	Epoch     int
	TrainLoss float64
	TrainAcc  float64
	ValAcc    float64
	// TestAcc is nil when the test set was not evaluated this epoch.
	TestAcc *float64
	// Seconds is the wall time of the epoch.
	Seconds float64
	// Extra holds further metrics by name (e.g. the mean goal value).
	Extra map[string]float64
}

// Result is how a trial ends. Complete needs a Value that is not NaN;
// Failed needs a Reason and no Value; Pruned may carry the last value.
type Result struct {
	State    TrialState
	Value    *float64
	Values   []float64 // the further objectives' values (Trial.Values)
	Final    map[string]float64
	Atoms    [][]float64
	WallTime time.Duration
	Reason   string
}

// SamplerState is a sampler's state after one generation, saved so a
// resumed study proposes exactly what an uninterrupted one would have.
type SamplerState struct {
	// Generation numbers the state; each generation is saved once.
	Generation int
	// Version is the sampler's own format version of Data.
	Version int
	// Data is the state itself as JSON (mean, covariance factor, step size,
	// random stream, ...), stored compacted.
	Data json.RawMessage
	// Trials lists the numbers of the trials enqueued together with the
	// state, set by the store.
	Trials []int
	// CreatedAt is set by the store (UTC).
	CreatedAt time.Time
}

// A Checkpoint is everything a running trial needs to continue after its
// Epoch-th epoch (weights, optimiser moments, random stream states),
// encoded by the trainer; the store keeps Data opaque.
type Checkpoint struct {
	Trial int
	Epoch int
	Data  []byte
}

// A Dump is a whole study: its definition, every trial in number order,
// every sampler state in generation order and every checkpoint in trial
// order. Export produces one from a consistent snapshot; Import writes one.
type Dump struct {
	Study         Study
	Trials        []Trial
	SamplerStates []SamplerState
	Checkpoints   []Checkpoint
}
