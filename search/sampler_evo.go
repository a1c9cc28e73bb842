package search

import (
	"encoding/json"
	"errors"
	"fmt"

	"goalsearch/search/evo"
)

// evoSampler adapts an evo.Optimizer (GA, DE or PSO), whose state already
// names its algorithm, configuration, box and seed.
type evoSampler struct {
	o *evo.Optimizer
}

func newGASampler(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
	var c evo.GAConfig
	if err := decodeSamplerConfig(raw, &c); err != nil {
		return nil, err
	}
	return newEvoSampler(func() (*evo.Optimizer, error) { return evo.NewGA(box.Lower, box.Upper, c, seed) })
}

func newDESampler(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
	var c evo.DEConfig
	if err := decodeSamplerConfig(raw, &c); err != nil {
		return nil, err
	}
	return newEvoSampler(func() (*evo.Optimizer, error) { return evo.NewDE(box.Lower, box.Upper, c, seed) })
}

func newPSOSampler(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
	var c evo.PSOConfig
	if err := decodeSamplerConfig(raw, &c); err != nil {
		return nil, err
	}
	return newEvoSampler(func() (*evo.Optimizer, error) { return evo.NewPSO(box.Lower, box.Upper, c, seed) })
}

func newEvoSampler(mk func() (*evo.Optimizer, error)) (Sampler, error) {
	o, err := mk()
	if err != nil {
		return nil, err
	}
	return &evoSampler{o: o}, nil
}

func (s *evoSampler) Name() string { return s.o.Name() }

// Ask replays the algorithm and returns its next generation: the points of
// its next evaluation pass that were never told, at most one population,
// whatever n is.
func (s *evoSampler) Ask(n int) ([][]float64, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: Ask(%d) needs at least one worker", ErrProtocol, n)
	}
	xs, err := s.o.Ask()
	return xs, mapEvoError(err)
}

func (s *evoSampler) Tell(values []float64) error { return mapEvoError(s.o.Tell(values)) }

func (s *evoSampler) State() (SamplerState, error) {
	return encodeSamplerState(evo.StateVersion, s.o.State())
}

func (s *evoSampler) Restore(st SamplerState) error {
	var data evo.State
	if err := decodeSamplerState(st, evo.StateVersion, s.o.Name(), &data); err != nil {
		return err
	}
	// evo checks the algorithm, configuration, box and seed, and leaves the
	// Optimizer unchanged on error.
	return mapEvoError(s.o.Restore(data))
}

// mapEvoError maps the errors of package evo to this package's.
func mapEvoError(err error) error {
	for _, m := range []struct{ from, to error }{
		{evo.ErrDone, ErrDone},
		{evo.ErrProtocol, ErrProtocol},
		{evo.ErrState, ErrState},
	} {
		if errors.Is(err, m.from) {
			return fmt.Errorf("%w (%v)", m.to, err)
		}
	}
	return err
}
