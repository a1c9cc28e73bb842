package search

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
)

// RandomConfig configures the random sampler. It has no settings; it
// exists so that every sampler takes a configuration, and an unknown field
// is rejected like anywhere else.
type RandomConfig struct{}

// randomStateVersion is the SamplerState.Version of the random sampler.
const randomStateVersion = 2

// samplerPCGStream is the fixed second PCG seed of this package's samplers,
// as in package cmaes: one uint64 of seed is plenty for distinct searches.
const samplerPCGStream = 0x9e3779b97f4a7c15

// randomSampler proposes points drawn independently and uniformly from the
// box. It learns nothing, so it is the baseline every other sampler must
// beat, and it never runs out.
type randomSampler struct {
	header samplerHeader
	box    Box
	pcg    *rand.PCG
	rng    *rand.Rand
	// count is the number of points proposed so far.
	count int
}

// randomState is the data of a random SamplerState.
type randomState struct {
	samplerHeader
	// RNG is the PCG's state as written by rand.PCG.MarshalBinary.
	RNG   []byte `json:"rng"`
	Count int    `json:"count"`
}

func newRandomSampler(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
	var c RandomConfig
	if err := decodeStrict(raw, &c); err != nil {
		return nil, err
	}
	pcg := rand.NewPCG(seed, samplerPCGStream)
	return &randomSampler{
		header: newSamplerHeader("random", box, c, seed),
		box:    box,
		pcg:    pcg,
		rng:    rand.New(pcg),
	}, nil
}

func (s *randomSampler) Name() string { return "random" }

// Ask returns n points, one per worker. A random sampler learns nothing,
// so no point is ever pending.
func (s *randomSampler) Ask(n int) ([][]float64, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: Ask(%d)", ErrProtocol, n)
	}
	xs := make([][]float64, n)
	for k := range xs {
		x := make([]float64, s.box.Dim())
		for i := range x {
			lo, hi := s.box.Lower[i], s.box.Upper[i]
			// lo + u(hi−lo) with u < 1 can round up to hi, never beyond.
			x[i] = math.Min(lo+s.rng.Float64()*(hi-lo), hi)
		}
		xs[k] = x
	}
	s.count += n
	return xs, nil
}

// Tell returns ErrProtocol: no point is pending.
func (s *randomSampler) Tell(k int, _ Result) error {
	return fmt.Errorf("%w: random: point %d is not pending (random sampling learns nothing)", ErrProtocol, k)
}

// Pending returns nil: a random sampler waits for no result.
func (s *randomSampler) Pending() []int { return nil }

func (s *randomSampler) State() (SamplerState, error) {
	b, err := s.pcg.MarshalBinary()
	if err != nil {
		return SamplerState{}, fmt.Errorf("search: random: %w", err)
	}
	return encodeSamplerState(randomStateVersion, randomState{
		samplerHeader: s.header, RNG: b, Count: s.count,
	})
}

func (s *randomSampler) Restore(st SamplerState) error {
	var data randomState
	if err := decodeSamplerState(st, randomStateVersion, "random", &data); err != nil {
		return err
	}
	if err := s.header.check(data.samplerHeader); err != nil {
		return err
	}
	if data.Count < 0 {
		return fmt.Errorf("%w: random: count %d", ErrState, data.Count)
	}
	pcg := new(rand.PCG)
	if err := pcg.UnmarshalBinary(data.RNG); err != nil {
		return fmt.Errorf("%w: random: rng: %v", ErrState, err)
	}
	s.pcg, s.rng = pcg, rand.New(pcg)
	s.count = data.Count
	return nil
}
