package evo

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	randv1 "math/rand"
	"slices"

	"goalsearch/internal/floatbits"

	"github.com/MaxHalford/eaopt"

	"goalsearch/search/asktell"
)

// StateVersion is the Version of the States that this package writes and
// the only one that Restore accepts. It changes whenever an algorithm
// changes the points it generates, because a replay of an older history
// would then diverge.
const StateVersion = 2

// maxIdleGenerations is how many generations in a row may evaluate only
// points that earlier generations evaluated before Ask gives up with
// ErrDone. Such generations happen when a population has collapsed onto
// points already evaluated (a DE population of identical vectors, a swarm
// at rest); they cost a replay nothing to skip, but without a bound a
// collapsed population would replay forever.
const maxIdleGenerations = 50

// Optimizer is a GA, DE or PSO sampler; it implements asktell.Sampler (see
// the package documentation for how it works).
//
// An Optimizer is not safe for concurrent use: the caller calls Ask, Tell,
// State and Restore from one goroutine at a time, and evaluates the points
// on as many workers as it likes. No goroutine outlives a call.
type Optimizer struct {
	// Settings.
	alg          algorithm
	cfgJSON      []byte // the resolved configuration, compact JSON
	lower, upper []float64
	seed         uint64

	// Everything that changes.
	history []Record
	pending []Record // the outstanding generation; nil if none
	told    []bool   // which of pending have been told

	// Derived: memo maps the exact bits of each told point to its index in
	// history.
	memo map[string]int
}

// algorithm is one of GA, DE and PSO.
type algorithm interface {
	// name is "ga", "de" or "pso".
	name() string
	// config is the resolved configuration saved in State.Config.
	config() any
	// run replays the algorithm from seed, answering evaluations from r,
	// until r stops it.
	run(r *replay, seed uint64) error
}

// Record is one told point.
type Record struct {
	X []float64 `json:"x"`
	// Value is the told value; 0 if Failed.
	Value float64 `json:"value"`
	// Failed marks a NaN or infinite value, which JSON cannot hold.
	Failed bool `json:"failed,omitempty"`
	// Pruned marks an evaluation stopped after Step steps.
	Pruned bool `json:"pruned,omitempty"`
	Step   int  `json:"step,omitempty"`
}

// fitness is the value eaopt minimises for a told record. eaopt's fitness
// is one float64, so the ranking of asktell.Compare is folded into it:
// complete records keep their value; pruned ones get prunedFitness(Step),
// above every value a goal search produces and lower for later steps, so
// that they rank after the complete ones by the step they reached (their
// values, from another fidelity, are not compared); failures get +Inf.
func (r Record) fitness() float64 {
	switch {
	case r.Failed:
		return math.Inf(1)
	case r.Pruned:
		return prunedFitness(r.Step)
	}
	return r.Value
}

// prunedFitness is 1e300·(1 + 1/(1+step)): in (1e300, 2e300), decreasing in
// step.
func prunedFitness(step int) float64 { return 1e300 * (1 + 1/(1+float64(step))) }

// State is everything an Optimizer knows. Restoring it into an Optimizer
// built with the same algorithm, configuration, box and seed continues the
// search exactly; encoding/json round-trips it exactly.
type State struct {
	Version int `json:"version"`
	// Algorithm, Config, Lower, Upper and Seed identify the Optimizer; a
	// State is only restored into an Optimizer that agrees on all of them.
	// Config is the resolved configuration (defaults filled in).
	Algorithm string          `json:"algorithm"`
	Config    json.RawMessage `json:"config"`
	Lower     []float64       `json:"lower"`
	Upper     []float64       `json:"upper"`
	Seed      uint64          `json:"seed"`
	// History is every told point with its result, in point order: the
	// point of number k is History[k].
	History []Record `json:"history"`
	// Pending is the generation returned by the last Ask while it has not
	// been told whole (its points are numbered on from len(History)), and
	// Told marks those of its points whose results are in.
	Pending []Record `json:"pending,omitempty"`
	Told    []bool   `json:"told,omitempty"`
}

func newOptimizer(alg algorithm, lower, upper []float64, seed uint64) (*Optimizer, error) {
	if err := checkBox(lower, upper); err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(alg.config())
	if err != nil {
		return nil, fmt.Errorf("evo: encoding config: %w", err)
	}
	return &Optimizer{
		alg:     alg,
		cfgJSON: cfg,
		lower:   slices.Clone(lower),
		upper:   slices.Clone(upper),
		seed:    seed,
		memo:    make(map[string]int),
	}, nil
}

func checkBox(lower, upper []float64) error {
	if len(lower) == 0 || len(lower) != len(upper) {
		return fmt.Errorf("%w: box with %d lower and %d upper bounds", ErrConfig, len(lower), len(upper))
	}
	for i := range lower {
		lo, hi := lower[i], upper[i]
		if !finite(lo) || !finite(hi) || !(lo < hi) || !finite(hi-lo) {
			return fmt.Errorf("%w: bound %d is [%v, %v]", ErrConfig, i, lo, hi)
		}
	}
	return nil
}

// Name returns "ga", "de" or "pso".
func (o *Optimizer) Name() string { return o.alg.name() }

// Ask replays the algorithm and returns the points of its next evaluation
// pass that have not been told: the next generation, whatever n is (≥ 1).
// Its points are numbered on from Evaluations(). The points are the
// caller's. Ask returns ErrPending if points of the previous generation are
// pending, ErrDone if the algorithm proposes no new point, ErrDiverged if
// the replay does not reproduce the history, and ErrProtocol if n < 1.
func (o *Optimizer) Ask(n int) ([][]float64, error) {
	switch {
	case n < 1:
		return nil, fmt.Errorf("%w: Ask(%d)", ErrProtocol, n)
	case o.pending != nil:
		return nil, ErrPending
	}
	r := o.replay()
	if err := o.alg.run(r, o.seed); err != nil {
		return nil, fmt.Errorf("evo: %s: %w", o.alg.name(), err)
	}
	if r.hits != len(o.history) {
		return nil, fmt.Errorf("%w: the replay re-visited %d of %d told points", ErrDiverged, r.hits, len(o.history))
	}
	if len(r.unknown) == 0 {
		return nil, ErrDone
	}
	o.pending = make([]Record, len(r.unknown))
	for i, x := range r.unknown {
		o.pending[i] = Record{X: x}
	}
	o.told = make([]bool, len(r.unknown))
	return clonePoints(r.unknown), nil
}

// Pending returns the numbers of the points of the last Ask that have not
// been told, in ascending order.
func (o *Optimizer) Pending() []int {
	var ks []int
	for i, told := range o.told {
		if !told {
			ks = append(ks, len(o.history)+i)
		}
	}
	return ks
}

// Tell records the result of pending point k; values are minimised. Once
// the whole generation is told, its points join the history in point
// order, so the order of the tells does not matter. Tell returns an error
// wrapping ErrProtocol, changing nothing, if k is not pending.
func (o *Optimizer) Tell(k int, r asktell.Result) error {
	i := k - len(o.history)
	if i < 0 || i >= len(o.pending) || o.told[i] {
		return fmt.Errorf("%w: point %d is not pending", ErrProtocol, k)
	}
	rec := &o.pending[i]
	switch {
	case r.Failed():
		rec.Failed = true
	case r.Pruned:
		rec.Value, rec.Pruned, rec.Step = r.Value, true, r.Step
	default:
		rec.Value = r.Value
	}
	o.told[i] = true
	if slices.Contains(o.told, false) {
		return nil
	}
	for _, rec := range o.pending {
		o.memo[pointKey(rec.X)] = len(o.history)
		o.history = append(o.history, rec)
	}
	o.pending, o.told = nil, nil
	return nil
}

// Evaluations returns the number of points told.
func (o *Optimizer) Evaluations() int { return len(o.history) }

// State returns a copy of the Optimizer's state, sharing no memory with it.
func (o *Optimizer) State() State {
	s := State{
		Version:   StateVersion,
		Algorithm: o.alg.name(),
		Config:    slices.Clone(o.cfgJSON),
		Lower:     slices.Clone(o.lower),
		Upper:     slices.Clone(o.upper),
		Seed:      o.seed,
		History:   cloneRecords(o.history),
		Pending:   cloneRecords(o.pending),
		Told:      slices.Clone(o.told),
	}
	return s
}

// Restore replaces the Optimizer's state with a copy of s. It returns an
// error wrapping ErrState, leaving the Optimizer unchanged, if s has another
// version, algorithm, configuration, box or seed, or is inconsistent
// (points of the wrong length or outside the box, a point told twice).
// Whether the history is one this Optimizer would have produced is checked
// by the next Ask (ErrDiverged).
func (o *Optimizer) Restore(s State) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrState}, args...)...)
	}
	if s.Version != StateVersion {
		return bad("version %d, want %d", s.Version, StateVersion)
	}
	if s.Algorithm != o.alg.name() {
		return bad("algorithm %q, want %q", s.Algorithm, o.alg.name())
	}
	var cfg bytes.Buffer
	if err := json.Compact(&cfg, s.Config); err != nil || !bytes.Equal(cfg.Bytes(), o.cfgJSON) {
		return bad("config %s, want %s", s.Config, o.cfgJSON)
	}
	if !floatbits.Equal(s.Lower, o.lower) || !floatbits.Equal(s.Upper, o.upper) {
		return bad("box differs")
	}
	if s.Seed != o.seed {
		return bad("seed %d, want %d", s.Seed, o.seed)
	}
	memo := make(map[string]int, len(s.History))
	for i, rec := range s.History {
		if err := o.checkRecord(rec, true); err != nil {
			return bad("history[%d]: %v", i, err)
		}
		k := pointKey(rec.X)
		if _, dup := memo[k]; dup {
			return bad("history[%d]: point told twice", i)
		}
		memo[k] = i
	}
	if len(s.Told) != len(s.Pending) || (len(s.Pending) > 0 && !slices.Contains(s.Told, false)) {
		return bad("%d pending points with %d told flags, not all told", len(s.Pending), len(s.Told))
	}
	seen := make(map[string]bool, len(s.Pending))
	for i, rec := range s.Pending {
		if err := o.checkRecord(rec, s.Told[i]); err != nil {
			return bad("pending[%d]: %v", i, err)
		}
		k := pointKey(rec.X)
		if _, told := memo[k]; told || seen[k] {
			return bad("pending[%d]: point proposed twice", i)
		}
		seen[k] = true
	}
	o.history, o.memo = cloneRecords(s.History), memo
	o.pending, o.told = nil, nil
	if len(s.Pending) > 0 {
		o.pending, o.told = cloneRecords(s.Pending), slices.Clone(s.Told)
	}
	return nil
}

// checkRecord checks a record of a State: a point in the box and, unless it
// is untold (then all zero), a consistent result.
func (o *Optimizer) checkRecord(rec Record, told bool) error {
	if err := o.checkPoint(rec.X); err != nil {
		return err
	}
	if !finite(rec.Value) || rec.Step < 0 || (rec.Failed && (rec.Value != 0 || rec.Pruned)) || (!rec.Pruned && rec.Step != 0) ||
		(!told && (rec.Value != 0 || rec.Failed || rec.Pruned)) {
		return fmt.Errorf("value %v, failed %v, pruned %v at step %d, told %v", rec.Value, rec.Failed, rec.Pruned, rec.Step, told)
	}
	return nil
}

func (o *Optimizer) checkPoint(x []float64) error {
	if len(x) != len(o.lower) {
		return fmt.Errorf("point of length %d, want %d", len(x), len(o.lower))
	}
	for i, v := range x {
		if !(o.lower[i] <= v && v <= o.upper[i]) {
			return fmt.Errorf("coordinate %d = %v outside [%v, %v]", i, v, o.lower[i], o.upper[i])
		}
	}
	return nil
}

// replay is the context of one eaopt run: it answers evaluations from the
// history and collects the points it cannot answer.
type replay struct {
	lower, upper []float64
	history      []Record
	memo         map[string]int

	// hit marks the told points evaluated so far in this run; hits counts
	// them.
	hit  []bool
	hits int
	// unknown are the points evaluated in this run that were never told, in
	// the order first met, without repeats.
	unknown     [][]float64
	unknownKeys map[string]bool
	// fresh reports that the current generation evaluated a point for the
	// first time in this run; idle counts generations in a row that did not.
	fresh bool
	idle  int
}

func (o *Optimizer) replay() *replay {
	return &replay{
		lower:       o.lower,
		upper:       o.upper,
		history:     o.history,
		memo:        o.memo,
		hit:         make([]bool, len(o.history)),
		unknownKeys: make(map[string]bool),
	}
}

// placeholder is the value an unknown point gets. The run that sees it is
// stopped at the end of the evaluation pass and discarded, so the value
// only has to be a valid fitness.
var placeholder = math.Inf(1)

// evaluate returns the told value of x (+Inf for a failure) or, for a point
// never told, records it and returns the placeholder.
func (r *replay) evaluate(x []float64) float64 {
	k := pointKey(x)
	if i, ok := r.memo[k]; ok {
		if !r.hit[i] {
			r.hit[i] = true
			r.hits++
			r.fresh = true
		}
		return r.history[i].fitness()
	}
	if !r.unknownKeys[k] {
		r.unknownKeys[k] = true
		r.unknown = append(r.unknown, slices.Clone(x))
		r.fresh = true
	}
	return placeholder
}

// pending reports whether the run has met a point never told, so that it
// must stop at the end of the current evaluation pass.
func (r *replay) pending() bool { return len(r.unknown) > 0 }

// earlyStop is eaopt's EarlyStop hook, called after the initial population
// is evaluated and after every generation: it stops the run once a pass met
// unknown points or when maxIdleGenerations generations in a row met no
// new point.
func (r *replay) earlyStop(*eaopt.GA) bool {
	if r.pending() {
		return true
	}
	if r.fresh {
		r.idle = 0
	} else {
		r.idle++
	}
	r.fresh = false
	return r.idle >= maxIdleGenerations
}

// errStop ends an eaopt run from inside Model.Apply, right after an
// evaluation pass that met unknown points.
var errStop = errors.New("evo: stop replay")

// stopModel wraps an eaopt Model so that the run stops when Apply's own
// evaluation pass (as in ModDownToSize) met unknown points.
type stopModel struct {
	eaopt.Model
	r *replay
}

func (m stopModel) Apply(pop *eaopt.Population) error {
	if err := m.Model.Apply(pop); err != nil {
		return err
	}
	if m.r.pending() {
		return errStop
	}
	return nil
}

// minimize runs eaopt's GA with one population of popSize individuals
// made by newGenome under model, with every random stream derived from
// seed, until r stops it.
func (r *replay) minimize(seed uint64, popSize int, model eaopt.Model, newGenome func(*randv1.Rand) eaopt.Genome) error {
	ga, err := eaopt.GAConfig{
		NPops:   1,
		PopSize: uint(popSize),
		// The run ends through EarlyStop or errStop, long before this.
		NGenerations: math.MaxInt32,
		HofSize:      1,
		Model:        stopModel{model, r},
		// ParallelEval stays false: it would evaluate on goroutines.
		EarlyStop: r.earlyStop,
		RNG:       newRand(seed),
	}.NewGA()
	if err != nil {
		return err
	}
	if err := ga.Minimize(newGenome); err != nil && !errors.Is(err, errStop) {
		return err
	}
	return nil
}

// pointKey is the exact bit pattern of x, as a map key.
func pointKey(x []float64) string {
	b := make([]byte, 8*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return string(b)
}

func cloneRecords(rs []Record) []Record {
	if rs == nil {
		return nil
	}
	c := slices.Clone(rs)
	for i := range c {
		c[i].X = slices.Clone(c[i].X)
	}
	return c
}

func clonePoints(p [][]float64) [][]float64 {
	if p == nil {
		return nil
	}
	c := make([][]float64, len(p))
	for i, x := range p {
		c[i] = slices.Clone(x)
	}
	return c
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
