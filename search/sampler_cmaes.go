package search

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"goalsearch/search/cmaes"
)

// CMAESConfig configures the cmaes sampler, an adapter over package cmaes.
// The zero value of every field selects the stated default.
type CMAESConfig struct {
	// Restart is the restart strategy when a run meets a termination
	// criterion: "ipop" (the default), "bipop" or "none".
	//
	// IPOP is the default because the objective of a goal search is noisy
	// (the validation accuracy of a trained network varies with the
	// training run) and the budget is small (hundreds to a few thousand
	// trials). A larger population is the standard remedy for noise, and
	// IPOP is the regime that grows it; BIPOP spends every other restart
	// on a small population with a step size down to 1/100 of the
	// default, which is where noise hurts most, and its advantage on
	// weakly structured multimodal functions shows in budgets far larger
	// than a goal search has. In the quality table (docs/samplers.md) the
	// two are identical over 1000 evaluations, because no run ends that
	// early: the choice matters only for long searches, or with a TolFun
	// that lets runs end.
	Restart string `json:"restart,omitempty"`

	// MaxRestarts is the maximum number of restarts; after the last run the
	// sampler is done (ErrDone). If MaxRestarts is 0, 9 is used; a negative
	// value means no limit.
	MaxRestarts int `json:"max_restarts,omitempty"`

	// Sigma0 is the initial step size as a fraction of the box's width in
	// each coordinate. If Sigma0 is 0, 1/3 is used, so that the initial
	// distribution (±1σ) spans two thirds of the box around its centre. It
	// must be positive and finite otherwise.
	Sigma0 float64 `json:"sigma0,omitempty"`

	// Population is λ, the number of points per generation of the first
	// run, which IPOP doubles at each restart. If Population is 0,
	// 4+⌊3 ln d⌋ is used for d coordinates (8 for d = 5, 12 for d = 19).
	// It must be at least 2 otherwise.
	Population int `json:"population,omitempty"`

	// Mean is the mean of the first run's distribution. If Mean is nil,
	// the centre of the box is used. It must lie in the box.
	Mean []float64 `json:"mean,omitempty"`

	// TolFun ends a run (and so starts a restart) when the best values of
	// the last 10+⌈30d/λ⌉ generations and all values of the current one lie
	// within a range below TolFun. If TolFun is 0, 1e-12 is used (package
	// cmaes's default), which a noisy objective never meets; set it to the
	// objective's noise level (say 1e-3 for a validation accuracy) to let
	// runs that have converged as far as the noise allows restart. A
	// negative value disables the criterion.
	TolFun float64 `json:"tol_fun,omitempty"`
}

// cmaesStateVersion is the SamplerState.Version of the cmaes sampler; the
// optimiser's own State carries cmaes.StateVersion.
const cmaesStateVersion = 1

// cmaesSampler adapts a cmaes.Optimizer, which hands out points one at a
// time, to the Sampler protocol's whole generations.
type cmaesSampler struct {
	header samplerHeader
	cfg    cmaes.Config
	o      *cmaes.Optimizer
	// asked are the IDs of the outstanding generation, in the order Ask
	// returned them; nil when none is outstanding.
	asked []cmaes.ID
}

// cmaesState is the data of a cmaes SamplerState.
type cmaesState struct {
	samplerHeader
	Optimizer cmaes.State `json:"optimizer"`
}

func newCMAESSampler(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
	var c CMAESConfig
	if err := decodeSamplerConfig(raw, &c); err != nil {
		return nil, err
	}
	d := box.Dim()
	switch c.Restart {
	case "":
		c.Restart = "ipop"
	case "ipop", "bipop", "none":
	default:
		return nil, fmt.Errorf("unknown restart %q (valid: ipop, bipop, none)", c.Restart)
	}
	switch {
	case c.MaxRestarts == 0:
		c.MaxRestarts = 9
	case c.MaxRestarts < 0:
		c.MaxRestarts = -1 // one spelling of "no limit", so that configs compare equal
	}
	if c.Sigma0 == 0 {
		c.Sigma0 = 1.0 / 3
	}
	switch {
	case c.TolFun == 0:
		c.TolFun = 1e-12
	case c.TolFun < 0:
		c.TolFun = -1 // one spelling of "disabled"
	}
	if c.Population == 0 {
		c.Population = 4 + int(math.Floor(3*math.Log(float64(d))))
	}
	if c.Mean == nil {
		c.Mean = make([]float64, d)
		for i := range d {
			c.Mean[i] = box.Lower[i] + (box.Upper[i]-box.Lower[i])/2
		}
	}
	restart := map[string]cmaes.Restart{"ipop": cmaes.IPOP, "bipop": cmaes.BIPOP, "none": cmaes.NoRestart}[c.Restart]
	cfg := cmaes.Config{
		Dim:         d,
		Lower:       slices.Clone(box.Lower),
		Upper:       slices.Clone(box.Upper),
		Mean:        slices.Clone(c.Mean),
		Sigma0:      c.Sigma0,
		Population:  c.Population,
		Restart:     restart,
		MaxRestarts: c.MaxRestarts,
		TolFun:      c.TolFun,
		Seed:        seed,
	}
	o, err := cmaes.New(cfg)
	if err != nil {
		return nil, err
	}
	return &cmaesSampler{header: newSamplerHeader("cmaes", box, c, seed), cfg: cfg, o: o}, nil
}

func (s *cmaesSampler) Name() string { return "cmaes" }

// Ask returns the whole current generation (λ points) and ignores n: CMA-ES
// updates its distribution only from complete generations.
func (s *cmaesSampler) Ask(n int) ([][]float64, error) {
	if err := checkAsk(n, s.asked != nil); err != nil {
		return nil, err
	}
	var ids []cmaes.ID
	var xs [][]float64
	for s.o.CanAsk() {
		c, err := s.o.Ask()
		if err != nil {
			return nil, fmt.Errorf("search: cmaes: %w", err)
		}
		ids = append(ids, c.ID)
		xs = append(xs, c.X)
	}
	if len(ids) == 0 {
		if s.o.Done() {
			return nil, ErrDone
		}
		// Not reachable: a generation is either complete and replaced, or
		// outstanding (s.asked) and then Ask stops above.
		return nil, fmt.Errorf("search: cmaes: nothing to ask")
	}
	s.asked = ids
	return xs, nil
}

// Tell tells the optimiser each value under its point's ID; the last one
// completes the generation and updates the distribution. NaN and ±Inf are
// failures (see package cmaes).
func (s *cmaesSampler) Tell(values []float64) error {
	if err := checkTell(len(values), len(s.asked)); err != nil {
		return err
	}
	for i, id := range s.asked {
		if err := s.o.Tell(id, values[i]); err != nil {
			// Not reachable: the IDs come from this generation's Ask.
			return fmt.Errorf("search: cmaes: %w", err)
		}
	}
	s.asked = nil
	return nil
}

func (s *cmaesSampler) State() (SamplerState, error) {
	return encodeSamplerState(cmaesStateVersion, cmaesState{samplerHeader: s.header, Optimizer: s.o.State()})
}

// Restore accepts a state written by a cmaes sampler of the same box,
// configuration and seed, between generations or with a whole generation
// asked and none of it told (the two moments State can be called under the
// Sampler protocol).
func (s *cmaesSampler) Restore(st SamplerState) error {
	var data cmaesState
	if err := decodeSamplerState(st, cmaesStateVersion, "cmaes", &data); err != nil {
		return err
	}
	if err := s.header.check(data.samplerHeader); err != nil {
		return err
	}
	o, err := cmaes.New(s.cfg)
	if err != nil {
		return fmt.Errorf("search: cmaes: %w", err)
	}
	if err := o.Restore(data.Optimizer); err != nil {
		if errors.Is(err, cmaes.ErrState) {
			return fmt.Errorf("%w: cmaes: %v", ErrState, err)
		}
		return err
	}
	inner := data.Optimizer
	var asked []cmaes.ID
	if inner.Asked > 0 {
		pending := o.Pending()
		if inner.Asked != len(inner.Points) || len(pending) != len(inner.Points) {
			return fmt.Errorf("%w: cmaes: %d of %d points asked and %d pending, want a whole generation",
				ErrState, inner.Asked, len(inner.Points), len(pending))
		}
		for _, c := range pending {
			asked = append(asked, c.ID)
		}
	}
	s.o, s.asked = o, asked
	return nil
}
