package gp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"goalsearch/internal/floatbits"
	"goalsearch/search/asktell"
)

// Config holds the settings of an Optimizer. The zero value of every field
// selects the stated default.
type Config struct {
	// StartupTrials is the number of points, counted from the first, drawn
	// uniformly from the box before the model is used. If StartupTrials is
	// 0, 10 is used (Optuna's GPSampler n_startup_trials); a negative value
	// means none (the model is used once two points are told).
	StartupTrials int `json:"n_startup_trials,omitempty"`

	// Candidates is the number of uniform candidates at which the
	// acquisition is evaluated before the local search. If Candidates is
	// 0, 2048 is used. It must be positive otherwise.
	Candidates int `json:"n_candidates,omitempty"`
}

// Defaults used when a Config field is zero.
const (
	defaultStartupTrials = 10
	defaultCandidates    = 2048
)

func (cfg Config) resolve() (Config, error) {
	r := cfg
	switch {
	case r.StartupTrials == 0:
		r.StartupTrials = defaultStartupTrials
	case r.StartupTrials < 0:
		r.StartupTrials = -1 // one spelling of "none", so that configs compare equal
	}
	switch {
	case r.Candidates == 0:
		r.Candidates = defaultCandidates
	case r.Candidates < 0:
		return Config{}, fmt.Errorf("%w: n_candidates %d < 1", ErrConfig, r.Candidates)
	}
	return r, nil
}

// StateVersion is the Version of the States this package writes and the
// only one Restore accepts. It changes whenever the meaning of a field or
// the proposals for a given State change.
const StateVersion = 1

// Point is an asked point as held in State.
type Point = asktell.Point

// State is everything an Optimizer knows. Restoring it into an Optimizer of
// the same box, configuration and seed continues exactly; encoding/json
// round-trips it exactly.
type State struct {
	Version int `json:"version"`
	// Lower, Upper, Seed and Config (resolved) identify the Optimizer.
	Lower  []float64 `json:"lower"`
	Upper  []float64 `json:"upper"`
	Seed   uint64    `json:"seed"`
	Config Config    `json:"config"`
	// Points are every point asked or enqueued, by number, with results.
	Points []Point `json:"points"`
	// Theta holds the hyperparameters of the last fit, log λ_1..λ_d, log
	// s², log σ²_n; nil before the first. The next fit starts from them.
	Theta []float64 `json:"theta,omitempty"`
	// RNG is the state of the PCG as written by rand.PCG.MarshalBinary.
	RNG []byte `json:"rng"`
}

// Errors of this package; ErrProtocol and ErrState wrap the asktell errors
// of the same names.
var (
	ErrConfig   = errors.New("gp: invalid config")
	ErrProtocol = fmt.Errorf("gp: %w", asktell.ErrProtocol)
	ErrState    = fmt.Errorf("gp: %w", asktell.ErrState)
)

// Optimizer is a Gaussian-process sampler; it implements asktell.Sampler
// and asktell.WarmStarter. It proposes points while others are pending
// (kriging believers) and never runs out; it leaves no goroutine running
// (see package asktell). It is not safe for concurrent use.
type Optimizer struct {
	cfg          Config
	lower, upper []float64
	seed         uint64

	points []Point
	theta  []float64
	pcg    *rand.PCG
	rng    *rand.Rand
}

// pcgStream is the fixed second PCG seed, as in the other samplers.
const pcgStream = 0x9e3779b97f4a7c15

// New returns an Optimizer for the box [lower, upper] (finite, lower[i] <
// upper[i]), configured by cfg, drawing every random number from seed. It
// returns an error wrapping ErrConfig for an invalid box or Config.
func New(lower, upper []float64, cfg Config, seed uint64) (*Optimizer, error) {
	if err := asktell.CheckBox(lower, upper); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	pcg := rand.NewPCG(seed, pcgStream)
	return &Optimizer{cfg: r, lower: slices.Clone(lower), upper: slices.Clone(upper), seed: seed, pcg: pcg, rng: rand.New(pcg)}, nil
}

// Config returns the resolved configuration.
func (o *Optimizer) Config() Config { return o.cfg }

// Ask proposes n points (n ≥ 1), numbered on from the points asked so far;
// each is proposed with every pending point, those of this call included,
// as a kriging believer. Ask returns an error wrapping ErrProtocol if n <
// 1; it never runs out.
func (o *Optimizer) Ask(n int) ([][]float64, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: Ask(%d)", ErrProtocol, n)
	}
	xs := make([][]float64, n)
	var m *model
	for i := range xs {
		var x []float64
		if len(o.points) < o.cfg.StartupTrials {
			x = o.uniform()
		} else {
			if m == nil {
				m = o.fit()
			}
			if m == nil {
				x = o.uniform()
			} else {
				x = o.fromUnit(o.propose(m))
			}
		}
		o.points = append(o.points, Point{X: x})
		if m != nil {
			m.believe(o.toUnit(x))
		}
		xs[i] = slices.Clone(x)
	}
	return xs, nil
}

// Enqueue adds points the caller chose (a warm start) as pending points,
// numbered on from the points asked so far, and returns the first number.
func (o *Optimizer) Enqueue(xs [][]float64) (int, error) {
	first, err := asktell.Enqueue(&o.points, xs, o.lower, o.upper)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	return first, nil
}

// Tell records the result of pending point k (values are minimised; NaN or
// ±Inf is a failure). It returns an error wrapping ErrProtocol, changing
// nothing, if k is not pending.
func (o *Optimizer) Tell(k int, r asktell.Result) error {
	if !asktell.Tell(o.points, k, r) {
		return fmt.Errorf("%w: point %d is not pending", ErrProtocol, k)
	}
	return nil
}

// Pending returns the numbers of the points asked and not told, ascending.
func (o *Optimizer) Pending() []int { return asktell.PendingOf(o.points) }

// State returns a copy of the Optimizer's state, sharing no memory with it.
func (o *Optimizer) State() State {
	b, err := o.pcg.MarshalBinary()
	if err != nil {
		panic("gp: " + err.Error()) // rand.PCG.MarshalBinary cannot fail
	}
	return State{
		Version: StateVersion, Lower: slices.Clone(o.lower), Upper: slices.Clone(o.upper),
		Seed: o.seed, Config: o.cfg, Points: asktell.ClonePoints(o.points), Theta: slices.Clone(o.theta), RNG: b,
	}
}

// Restore replaces the Optimizer's state with a copy of s. It returns an
// error wrapping ErrState, leaving the Optimizer unchanged, if s has
// another version, box, configuration or seed, or is inconsistent.
func (o *Optimizer) Restore(s State) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrState}, args...)...)
	}
	if s.Version != StateVersion {
		return bad("version %d, want %d", s.Version, StateVersion)
	}
	if !floatbits.Equal(s.Lower, o.lower) || !floatbits.Equal(s.Upper, o.upper) {
		return bad("box differs")
	}
	if s.Seed != o.seed {
		return bad("seed %d, want %d", s.Seed, o.seed)
	}
	if got, want := configJSON(s.Config), configJSON(o.cfg); !bytes.Equal(got, want) {
		return bad("config %s, want %s", got, want)
	}
	for k, p := range s.Points {
		if err := p.Check(o.lower, o.upper); err != nil {
			return bad("point %d: %v", k, err)
		}
	}
	if s.Theta != nil && (len(s.Theta) != len(o.lower)+2 || slices.ContainsFunc(s.Theta, func(v float64) bool { return !finite(v) })) {
		return bad("theta %v: want %d finite values", s.Theta, len(o.lower)+2)
	}
	pcg := new(rand.PCG)
	if err := pcg.UnmarshalBinary(s.RNG); err != nil {
		return bad("rng: %v", err)
	}
	o.points = asktell.ClonePoints(s.Points)
	o.theta = slices.Clone(s.Theta)
	o.pcg, o.rng = pcg, rand.New(pcg)
	return nil
}

// uniform draws a point uniformly from the box.
func (o *Optimizer) uniform() []float64 {
	x := make([]float64, len(o.lower))
	for i := range x {
		lo, hi := o.lower[i], o.upper[i]
		x[i] = math.Min(lo+o.rng.Float64()*(hi-lo), hi)
	}
	return x
}

func (o *Optimizer) toUnit(x []float64) []float64 {
	u := make([]float64, len(x))
	for i, v := range x {
		u[i] = (v - o.lower[i]) / (o.upper[i] - o.lower[i])
	}
	return u
}

func (o *Optimizer) fromUnit(u []float64) []float64 {
	x := make([]float64, len(u))
	for i, v := range u {
		x[i] = math.Min(math.Max(o.lower[i]+v*(o.upper[i]-o.lower[i]), o.lower[i]), o.upper[i])
	}
	return x
}

// fit fits the model to the told points and takes the pending ones as
// believers; nil if fewer than two points can be modelled.
func (o *Optimizer) fit() *model {
	var xs [][]float64
	var ys []float64
	worst, anyComplete := math.Inf(-1), false
	for _, p := range o.points {
		if p.Told && !p.Failed && !p.Pruned {
			worst, anyComplete = math.Max(worst, p.Value), true
		}
	}
	for _, p := range o.points {
		switch {
		case !p.Told:
			continue
		case p.Failed || (p.Pruned && anyComplete):
			if !anyComplete {
				continue
			}
			ys = append(ys, worst)
		default:
			ys = append(ys, p.Value)
		}
		xs = append(xs, o.toUnit(p.X))
	}
	if len(xs) < 2 {
		return nil
	}
	m := newModel(xs, ys, o.theta)
	o.theta = slices.Clone(m.theta)
	for _, p := range o.points {
		if !p.Told {
			m.believe(o.toUnit(p.X))
		}
	}
	return m
}

// propose maximises the acquisition over the unit cube: uniform
// candidates, then a local search from the best of them and of the told
// points.
func (o *Optimizer) propose(m *model) []float64 {
	d := len(o.lower)
	type cand struct {
		u   []float64
		acq float64
	}
	var starts []cand
	keep := func(c cand) {
		// The best few, ties to the earlier: a short insertion sort.
		const nStarts = 5
		i := len(starts)
		for i > 0 && better(c.acq, starts[i-1].acq) {
			i--
		}
		if i < nStarts {
			starts = slices.Insert(starts, i, c)
			if len(starts) > nStarts {
				starts = starts[:nStarts]
			}
		}
	}
	for range o.cfg.Candidates {
		u := make([]float64, d)
		for j := range u {
			u[j] = o.rng.Float64()
		}
		keep(cand{u, m.logEI(u)})
	}
	// The best observed points start local searches too: the optimum of
	// the acquisition is often next to the incumbent.
	for _, k := range m.bestObserved(5) {
		u := slices.Clone(m.x[k])
		keep(cand{u, m.logEI(u)})
	}
	best := starts[0]
	trial := make([]float64, d)
	for _, s := range starts {
		cur := cand{slices.Clone(s.u), s.acq}
		for _, step := range []float64{0.1, 0.03, 0.01} {
			for range 32 {
				for j := range trial {
					trial[j] = math.Min(math.Max(cur.u[j]+step*o.rng.NormFloat64(), 0), 1)
				}
				if a := m.logEI(trial); better(a, cur.acq) {
					copy(cur.u, trial)
					cur.acq = a
				}
			}
		}
		if better(cur.acq, best.acq) {
			best = cur
		}
	}
	return best.u
}

// better reports whether acquisition a beats b; NaN loses to anything.
func better(a, b float64) bool { return a > b || (math.IsNaN(b) && !math.IsNaN(a)) }

func configJSON(c Config) []byte {
	b, _ := json.Marshal(c)
	return b
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
