package cmaes

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"goalsearch/internal/floatbits"
	"goalsearch/search/asktell"
)

// StateVersion is the Version of the States that this package writes and
// the only one that Restore accepts. It changes whenever the meaning of a
// field or the algorithm that reads the State changes, because either would
// break exact resumption.
const StateVersion = 2

// Regime is the BIPOP regime of a run. IPOP runs and the first run are
// RegimeLarge; NoRestart runs are RegimeLarge too.
type Regime string

const (
	// RegimeLarge is the increasing-population regime.
	RegimeLarge Regime = "large"
	// RegimeSmall is BIPOP's small-population, small-step regime.
	RegimeSmall Regime = "small"
)

// StopReason names the termination criterion that ended a run.
type StopReason string

// Termination criteria, mostly from the tutorial's Appendix B.3.
const (
	StopTolFun        StopReason = "tolfun"
	StopTolHistFun    StopReason = "tolhistfun"
	StopTolX          StopReason = "tolx"
	StopTolXUp        StopReason = "tolxup"
	StopNoEffectAxis  StopReason = "noeffectaxis"
	StopNoEffectCoord StopReason = "noeffectcoord"
	StopConditionCov  StopReason = "conditioncov"
	StopStagnation    StopReason = "stagnation"
	// StopBudget ends a BIPOP small-regime run that has used its budget of
	// half the large regime's evaluations.
	StopBudget StopReason = "budget"
	// StopNumerical ends a run whose update produced a non-finite number or
	// a covariance matrix that could not be decomposed.
	StopNumerical StopReason = "numerical"
)

// Point is one point of the current generation as held in State.
type Point struct {
	// X is the point handed out by Ask (after clipping onto the box).
	X []float64 `json:"x"`
	// Told reports whether a result has been told.
	Told bool `json:"told"`
	// Failed reports a failed evaluation; Value is then 0.
	Failed bool `json:"failed,omitempty"`
	// Pruned reports an evaluation stopped after Step steps.
	Pruned bool `json:"pruned,omitempty"`
	Step   int  `json:"step,omitempty"`
	// Value is the told value; always finite.
	Value float64 `json:"value"`
}

func (p Point) result() asktell.Result {
	if p.Failed {
		return asktell.Result{Value: math.NaN()}
	}
	return asktell.Result{Value: p.Value, Pruned: p.Pruned, Step: p.Step}
}

// Best is the best complete point told over the whole search.
type Best struct {
	// K is the point's number (see Optimizer.Ask).
	K     int       `json:"k"`
	X     []float64 `json:"x"`
	Value float64   `json:"value"`
}

// State is everything an Optimizer knows. Restoring it into an Optimizer
// built from the same Config continues the search exactly. It encodes with
// encoding/json, which round-trips float64 values exactly; every float in a
// State is finite, because failures are recorded as flags rather than NaN
// and an update that would produce a non-finite number is discarded.
//
// Matrices are stored as rows. The fields are exported so that a store can
// keep them as data; a State edited by hand may be rejected by Restore, or
// restored and then continue differently.
type State struct {
	Version int `json:"version"`

	// Dim, Lower, Upper, Seed and Config are the resolved Config (Config
	// holding the fields that encode as JSON); Restore rejects a State of
	// another Config, because the rest of it means nothing under another.
	Dim    int       `json:"dim"`
	Lower  []float64 `json:"lower"`
	Upper  []float64 `json:"upper"`
	Seed   uint64    `json:"seed"`
	Config Config    `json:"config"`

	// Generation is the number of generations completed over the whole
	// search.
	Generation int `json:"generation"`
	// Evaluations is the number of results told in completed generations
	// over the whole search: the number of the current generation's first
	// point.
	Evaluations int `json:"evaluations"`
	// Done reports that the last run has ended and no restart is left.
	Done bool `json:"done"`
	// StopReason is why the most recent run ended, "" before any has.
	StopReason StopReason `json:"stop_reason,omitempty"`
	// Best is the best finite value told so far, nil if none.
	Best *Best `json:"best,omitempty"`

	// Restarts counts restarts of either regime; LargeRestarts counts those
	// of the large (IPOP) regime, whose population is Population·2^k.
	Restarts      int `json:"restarts"`
	LargeRestarts int `json:"large_restarts"`
	// BudgetLarge and BudgetSmall are the evaluations used by each BIPOP
	// regime; the first run counts as large.
	BudgetLarge int `json:"budget_large"`
	BudgetSmall int `json:"budget_small"`

	// The current run.
	Regime Regime `json:"regime"`
	// Population is λ of the current run.
	Population int `json:"population"`
	// RunSigma0 is σ at the start of the run (TolX, TolXUp refer to it).
	RunSigma0 float64 `json:"run_sigma0"`
	// RunMaxEvaluations caps the evaluations of the run; 0 means no cap.
	RunMaxEvaluations int `json:"run_max_evaluations"`
	// RunGeneration is the number of distribution updates in this run: the
	// tutorial's g.
	RunGeneration int `json:"run_generation"`
	// RunEvaluations is the number of evaluations in this run.
	RunEvaluations int `json:"run_evaluations"`
	// Mean is m, Sigma is σ, C is the covariance matrix, and B (eigenvectors
	// in columns) and D (square roots of the eigenvalues) its decomposition
	// as of evaluation EigenEvaluations of this run.
	Mean             []float64   `json:"mean"`
	Sigma            float64     `json:"sigma"`
	C                [][]float64 `json:"c"`
	B                [][]float64 `json:"b"`
	D                []float64   `json:"d"`
	EigenEvaluations int         `json:"eigen_evaluations"`
	// PSigma and PC are the evolution paths p_σ and p_c.
	PSigma []float64 `json:"p_sigma"`
	PC     []float64 `json:"p_c"`
	// BestHistory and MedianHistory hold the best and median finite value of
	// each generation of the run that updated the distribution, at most
	// maxHistory of the most recent.
	BestHistory   []float64 `json:"best_history"`
	MedianHistory []float64 `json:"median_history"`

	// Points are the current generation's points, sampled when the
	// generation starts; the first Asked of them have been handed out
	// (Ask hands out all of them at once, so Asked is 0 or len(Points)).
	// Points is empty when Done.
	Points []Point `json:"points"`
	Asked  int     `json:"asked"`

	// RNG is the state of the PCG as written by rand.PCG.MarshalBinary.
	RNG []byte `json:"rng"`
}

// maxHistory bounds BestHistory and MedianHistory; the stagnation criterion
// never looks further back than this (tutorial B.3).
const maxHistory = 20000

// State returns a copy of the Optimizer's state. The copy shares no memory
// with the Optimizer and stays valid indefinitely. Nothing is made durable:
// the caller stores the State where it needs it.
func (o *Optimizer) State() State {
	s := o.s.clone()
	b, err := o.pcg.MarshalBinary()
	if err != nil {
		// rand.PCG.MarshalBinary cannot fail; a failure is a broken
		// invariant, not a user error.
		panic("cmaes: " + err.Error())
	}
	s.RNG = b
	return s
}

// Restore replaces the Optimizer's state with a copy of s, so that it
// continues exactly where the Optimizer that produced s was, including in
// the middle of a generation. It returns an error wrapping ErrState (or
// ErrVersion) and leaves the Optimizer unchanged if s has another version
// or another resolved Config (box, seed, settings) than the Optimizer, or
// is inconsistent.
func (o *Optimizer) Restore(s State) error {
	if err := o.validate(&s); err != nil {
		return err
	}
	pcg := new(rand.PCG)
	if err := pcg.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("%w: rng: %v", ErrState, err)
	}
	o.s = s.clone()
	o.s.RNG = nil
	o.pcg = pcg
	o.rng = rand.New(pcg)
	o.p = newParams(o.cfg.Dim, o.s.Population)
	return nil
}

func (o *Optimizer) validate(s *State) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrState}, args...)...)
	}
	if s.Version != StateVersion {
		return fmt.Errorf("%w: got %d, want %d", ErrVersion, s.Version, StateVersion)
	}
	n := o.cfg.Dim
	if s.Dim != n {
		return bad("Dim %d, config has %d", s.Dim, n)
	}
	if !floatbits.Equal(s.Lower, o.cfg.Lower) || !floatbits.Equal(s.Upper, o.cfg.Upper) {
		return bad("box differs from the config's")
	}
	if s.Seed != o.cfg.Seed {
		return bad("seed %d, config has %d", s.Seed, o.cfg.Seed)
	}
	if got, want := configJSON(s.Config), configJSON(o.cfg); got != want {
		return bad("config %s, want %s", got, want)
	}
	if s.Regime != RegimeLarge && s.Regime != RegimeSmall {
		return bad("unknown regime %q", s.Regime)
	}
	if s.Population < 2 {
		return bad("Population %d < 2", s.Population)
	}
	if !(s.Sigma > 0) || math.IsInf(s.Sigma, 0) || !(s.RunSigma0 > 0) || math.IsInf(s.RunSigma0, 0) {
		return bad("Sigma %v, RunSigma0 %v not positive and finite", s.Sigma, s.RunSigma0)
	}
	vecs := []struct {
		name string
		v    []float64
	}{{"Mean", s.Mean}, {"D", s.D}, {"PSigma", s.PSigma}, {"PC", s.PC}}
	for _, v := range vecs {
		if len(v.v) != n {
			return bad("len(%s)=%d, want %d", v.name, len(v.v), n)
		}
	}
	for _, m := range []struct {
		name string
		m    [][]float64
	}{{"C", s.C}, {"B", s.B}} {
		if len(m.m) != n {
			return bad("%s has %d rows, want %d", m.name, len(m.m), n)
		}
		for _, row := range m.m {
			if len(row) != n {
				return bad("%s has a row of length %d, want %d", m.name, len(row), n)
			}
		}
	}
	for _, d := range s.D {
		if !(d > 0) {
			return bad("D has a non-positive entry %v", d)
		}
	}
	if len(s.BestHistory) != len(s.MedianHistory) || len(s.BestHistory) > maxHistory {
		return bad("history lengths %d, %d", len(s.BestHistory), len(s.MedianHistory))
	}
	if s.Best != nil && (len(s.Best.X) != n || s.Best.K < 0 || s.Best.K >= s.Evaluations) {
		return bad("Best: %d coordinates, point %d of %d", len(s.Best.X), s.Best.K, s.Evaluations)
	}
	if s.Done {
		if len(s.Points) != 0 || s.Asked != 0 {
			return bad("done, but %d points pending", len(s.Points))
		}
		return nil
	}
	if len(s.Points) != s.Population {
		return bad("%d points, want Population %d", len(s.Points), s.Population)
	}
	if s.Asked != 0 && s.Asked != len(s.Points) {
		return bad("Asked %d, want 0 or %d", s.Asked, len(s.Points))
	}
	told := 0
	for i, p := range s.Points {
		if len(p.X) != n {
			return bad("len(Points[%d].X)=%d, want %d", i, len(p.X), n)
		}
		if p.Told {
			if i >= s.Asked {
				return bad("point %d told but not asked", i)
			}
			told++
		}
		if !finite(p.Value) || (p.Failed && (p.Value != 0 || p.Pruned)) || p.Step < 0 || (!p.Pruned && p.Step != 0) {
			return bad("point %d: value %v, failed %v, pruned %v at step %d", i, p.Value, p.Failed, p.Pruned, p.Step)
		}
	}
	if told == len(s.Points) {
		return bad("every point told but the generation not completed")
	}
	return nil
}

// configJSON is the JSON encoding of the settings of cfg that State.Config
// holds.
func configJSON(cfg Config) string {
	b, err := json.Marshal(cfg)
	if err != nil {
		// A Config is numbers, strings and booleans; the tolerances are
		// finite once resolved.
		panic("cmaes: encoding a config: " + err.Error())
	}
	return string(b)
}

func (s *State) clone() State {
	c := *s
	c.Config.Mean = slices.Clone(s.Config.Mean)
	c.Lower = slices.Clone(s.Lower)
	c.Upper = slices.Clone(s.Upper)
	if s.Best != nil {
		b := *s.Best
		b.X = slices.Clone(b.X)
		c.Best = &b
	}
	c.Mean = slices.Clone(s.Mean)
	c.C = cloneMatrix(s.C)
	c.B = cloneMatrix(s.B)
	c.D = slices.Clone(s.D)
	c.PSigma = slices.Clone(s.PSigma)
	c.PC = slices.Clone(s.PC)
	c.BestHistory = slices.Clone(s.BestHistory)
	c.MedianHistory = slices.Clone(s.MedianHistory)
	c.Points = slices.Clone(s.Points)
	for i := range c.Points {
		c.Points[i].X = slices.Clone(c.Points[i].X)
	}
	c.RNG = slices.Clone(s.RNG)
	return c
}

func cloneMatrix(m [][]float64) [][]float64 {
	if m == nil {
		return nil
	}
	c := make([][]float64, len(m))
	for i, row := range m {
		c[i] = slices.Clone(row)
	}
	return c
}
