package evo

import (
	randv1 "math/rand"
	"math/rand/v2"
)

// pcgSource adapts a math/rand/v2 PCG to the math/rand (v1) Source64 that
// eaopt takes, so that the whole 64-bit seed matters (v1's own source
// reduces its seed modulo 2³¹−1).
type pcgSource struct{ pcg *rand.PCG }

// pcgStream is the fixed second PCG seed, as in package cmaes.
const pcgStream = 0x9e3779b97f4a7c15

func newRand(seed uint64) *randv1.Rand {
	return randv1.New(&pcgSource{rand.NewPCG(seed, pcgStream)})
}

func (s *pcgSource) Uint64() uint64 { return s.pcg.Uint64() }
func (s *pcgSource) Int63() int64   { return int64(s.pcg.Uint64() >> 1) }
func (s *pcgSource) Seed(seed int64) {
	s.pcg.Seed(uint64(seed), pcgStream)
}
