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
const randomStateVersion = 1

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
	// count is the number of points proposed so far; pending is the size of
	// the outstanding generation, 0 if none.
	count, pending int
}

// randomState is the data of a random SamplerState.
type randomState struct {
	samplerHeader
	// RNG is the PCG's state as written by rand.PCG.MarshalBinary.
	RNG     []byte `json:"rng"`
	Count   int    `json:"count"`
	Pending int    `json:"pending"`
}

func newRandomSampler(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
	var c RandomConfig
	if err := decodeSamplerConfig(raw, &c); err != nil {
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

// Independent reports that the proposals do not depend on values, so the
// driver may Ask again before the last generation is told and need never
// tell it (see the driver's independentSampler).
func (s *randomSampler) Independent() bool { return true }

// Ask returns n points, one per worker. Unlike a learning sampler, it may
// be called while a generation is outstanding: that generation's values
// are no longer expected.
func (s *randomSampler) Ask(n int) ([][]float64, error) {
	if err := checkAsk(n, false); err != nil {
		return nil, err
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
	s.pending = n
	return xs, nil
}

// Tell checks the number of values for the last Ask; the values
// themselves teach a random sampler nothing.
func (s *randomSampler) Tell(values []float64) error {
	if err := checkTell(len(values), s.pending); err != nil {
		return err
	}
	s.pending = 0
	return nil
}

func (s *randomSampler) State() (SamplerState, error) {
	b, err := s.pcg.MarshalBinary()
	if err != nil {
		return SamplerState{}, fmt.Errorf("search: random: %w", err)
	}
	return encodeSamplerState(randomStateVersion, randomState{
		samplerHeader: s.header, RNG: b, Count: s.count, Pending: s.pending,
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
	if data.Count < 0 || data.Pending < 0 || data.Pending > data.Count {
		return fmt.Errorf("%w: random: count %d, pending %d", ErrState, data.Count, data.Pending)
	}
	pcg := new(rand.PCG)
	if err := pcg.UnmarshalBinary(data.RNG); err != nil {
		return fmt.Errorf("%w: random: rng: %v", ErrState, err)
	}
	s.pcg, s.rng = pcg, rand.New(pcg)
	s.count, s.pending = data.Count, data.Pending
	return nil
}
