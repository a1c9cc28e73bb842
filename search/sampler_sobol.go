package search

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// SobolConfig configures the sobol sampler: the Sobol low-discrepancy
// sequence (I. M. Sobol', "On the distribution of points in a cube and the
// approximate evaluation of integrals", USSR Comput. Math. Math. Phys. 7,
// 1967) with the direction numbers of Joe and Kuo (2008), mapped linearly
// onto the box. The zero value selects the plain sequence.
//
// The sequence is generated in its natural order: point i is the XOR of
// the direction numbers v_k of the bits k set in i (not the Gray-code order
// of Antonov and Saleev, which visits the same first 2^m points in another
// order). Its first 2^m points stratify every coordinate into 2^m equal
// intervals, and every pair of coordinates better than random points do,
// so a budget spent on it covers the box evenly; it learns nothing from
// values.
type SobolConfig struct {
	// Randomize selects a randomisation of the sequence by the sampler's
	// seed:
	//   - "" or "none" (the default): the plain sequence, the same for every
	//     seed. Its point 0 is the corner Lower, so the sampler skips it and
	//     starts at point 1, the centre of the box.
	//   - "shift": a Cranley–Patterson rotation, x ↦ (x + u) mod 1 with one
	//     uniform u per coordinate (R. Cranley and T. N. L. Patterson, SIAM
	//     J. Numer. Anal. 13, 1976). It keeps the lattice structure but not
	//     the stratification into dyadic intervals.
	//   - "xor": a random digital shift, x ↦ x ⊕ u bit by bit, which keeps
	//     the stratification (the points stay a digital net).
	// Randomised sequences start at point 0, which is no longer special.
	// Randomisation is for independent replicates (distinct seeds give
	// distinct point sets); a single study gains nothing from it.
	Randomize string `json:"randomize,omitempty"`
}

// sobolBits is the number of bits of each coordinate: a float64 holds 53,
// so float64(v)·2⁻⁵³ is exact and below 1, and the sequence has 2⁵³ points.
const sobolBits = 53

// sobolStateVersion is the SamplerState.Version of the sobol sampler.
const sobolStateVersion = 2

type sobolSampler struct {
	header samplerHeader
	box    Box
	cfg    SobolConfig
	// v[j][k] is direction number v_{k+1} of coordinate j in units of
	// 2⁻⁵³.
	v [][sobolBits]uint64
	// shift is the randomisation per coordinate in units of 2⁻⁵³, nil for
	// the plain sequence.
	shift []uint64
	// index is the index of the next point.
	index uint64
}

// sobolState is the data of a sobol SamplerState.
type sobolState struct {
	samplerHeader
	Index uint64   `json:"index"`
	Shift []uint64 `json:"shift,omitempty"`
}

func newSobolSampler(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
	var c SobolConfig
	if err := decodeStrict(raw, &c); err != nil {
		return nil, err
	}
	switch c.Randomize {
	case "":
		c.Randomize = "none"
	case "none", "shift", "xor":
	default:
		return nil, fmt.Errorf("unknown randomize %q (valid: none, shift, xor)", c.Randomize)
	}
	d := box.Dim()
	if d > sobolMaxDim {
		return nil, fmt.Errorf("%d coordinates, but the direction numbers cover %d", d, sobolMaxDim)
	}
	s := &sobolSampler{
		header: newSamplerHeader("sobol", box, c, seed),
		box:    box,
		cfg:    c,
		v:      sobolDirectionNumbers(d),
		shift:  sobolShift(c.Randomize, d, seed),
	}
	if c.Randomize == "none" {
		s.index = 1
	}
	return s, nil
}

// sobolDirectionNumbers returns the direction numbers of the first d
// coordinates. With V_k = m_k·2^(53−k), Joe and Kuo's recurrence for a
// polynomial of degree s with coefficients a_1 … a_{s−1} is
// V_k = V_{k−s} ⊕ (V_{k−s} ≫ s) ⊕ a_1 V_{k−1} ⊕ … ⊕ a_{s−1} V_{k−s+1}.
func sobolDirectionNumbers(d int) [][sobolBits]uint64 {
	v := make([][sobolBits]uint64, d)
	for k := range sobolBits {
		v[0][k] = 1 << (sobolBits - 1 - k) // m_k = 1
	}
	for j := 1; j < d; j++ {
		dir := sobolDirections[j-1]
		s := int(dir.s)
		for k := range sobolBits {
			if k < s {
				v[j][k] = dir.m[k] << (sobolBits - 1 - k)
				continue
			}
			x := v[j][k-s] ^ v[j][k-s]>>s
			for i := 1; i < s; i++ {
				if (dir.a>>(s-1-i))&1 == 1 {
					x ^= v[j][k-i]
				}
			}
			v[j][k] = x
		}
	}
	return v
}

// sobolShift draws the randomisation of each coordinate from the seed.
func sobolShift(randomize string, d int, seed uint64) []uint64 {
	if randomize == "none" {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, samplerPCGStream))
	u := make([]uint64, d)
	for i := range u {
		u[i] = rng.Uint64() >> (64 - sobolBits)
	}
	return u
}

// point returns coordinate values of point i of the (randomised) sequence
// in [0, 1), written to u.
func (s *sobolSampler) point(i uint64, u []float64) {
	const mask = 1<<sobolBits - 1
	for j := range u {
		var x uint64
		for k, b := 0, i; b != 0; k, b = k+1, b>>1 {
			if b&1 == 1 {
				x ^= s.v[j][k]
			}
		}
		switch s.cfg.Randomize {
		case "shift":
			x = (x + s.shift[j]) & mask
		case "xor":
			x ^= s.shift[j]
		}
		u[j] = float64(x) * (1.0 / (1 << sobolBits))
	}
}

func (s *sobolSampler) Name() string { return "sobol" }

// Ask returns the next n points of the sequence, one per worker. It
// returns ErrDone once the 2⁵³ points of the sequence are used up. A
// sequence learns nothing, so no point is ever pending.
func (s *sobolSampler) Ask(n int) ([][]float64, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: Ask(%d)", ErrProtocol, n)
	}
	if s.index > 1<<sobolBits-uint64(n) {
		return nil, ErrDone
	}
	xs := make([][]float64, n)
	for k := range xs {
		x := make([]float64, s.box.Dim())
		s.point(s.index+uint64(k), x)
		for i, u := range x {
			lo, hi := s.box.Lower[i], s.box.Upper[i]
			x[i] = math.Min(lo+u*(hi-lo), hi)
		}
		xs[k] = x
	}
	s.index += uint64(n)
	return xs, nil
}

// Tell returns ErrProtocol: no point is pending.
func (s *sobolSampler) Tell(k int, _ Result) error {
	return fmt.Errorf("%w: sobol: point %d is not pending (the sequence learns nothing)", ErrProtocol, k)
}

// Pending returns nil: the sequence waits for no result.
func (s *sobolSampler) Pending() []int { return nil }

func (s *sobolSampler) State() (SamplerState, error) {
	return encodeSamplerState(sobolStateVersion, sobolState{
		samplerHeader: s.header, Index: s.index, Shift: slices.Clone(s.shift),
	})
}

func (s *sobolSampler) Restore(st SamplerState) error {
	var data sobolState
	if err := decodeSamplerState(st, sobolStateVersion, "sobol", &data); err != nil {
		return err
	}
	if err := s.header.check(data.samplerHeader); err != nil {
		return err
	}
	// The shift is a function of the seed, kept in the state so that the
	// state says which points it stands for; it must agree.
	if !slices.Equal(data.Shift, s.shift) {
		return fmt.Errorf("%w: sobol: shift differs from the seed's", ErrState)
	}
	if data.Index > 1<<sobolBits {
		return fmt.Errorf("%w: sobol: index %d", ErrState, data.Index)
	}
	s.index = data.Index
	return nil
}
