package search

import (
	"fmt"
	"math"

	"goalsearch/store"
)

// Space maps between a study's goal vectors and the box its sampler
// searches: fixed atoms (the paper fixed H_res = 0 in its trivariate search)
// are left out of the box, and with UnitNorm the free part of a proposal is
// scaled to Euclidean norm 1.
//
// UnitNorm exists because training with Adam is nearly invariant to the
// goal's scale: gamma and c·gamma (c > 0) give almost the same updates, so
// a sampler searching the full box wastes one dimension on the radius.
type Space struct {
	store.SearchSpace
	free []int // indices of the coordinates the sampler searches
}

// NewSpace validates s and returns its mapping.
func NewSpace(s store.SearchSpace) (*Space, error) {
	if len(s.Labels) == 0 || len(s.Lower) != len(s.Labels) || len(s.Upper) != len(s.Labels) {
		return nil, fmt.Errorf("search space: %d labels, %d lower and %d upper bounds", len(s.Labels), len(s.Lower), len(s.Upper))
	}
	sp := &Space{SearchSpace: s}
	for i, l := range s.Labels {
		if !(s.Lower[i] < s.Upper[i]) || math.IsInf(s.Lower[i], 0) || math.IsInf(s.Upper[i], 0) {
			if _, fixed := s.Fixed[l]; !fixed {
				return nil, fmt.Errorf("search space: %s has bounds [%v, %v]; want finite lower < upper", l, s.Lower[i], s.Upper[i])
			}
		}
		if _, fixed := s.Fixed[l]; !fixed {
			sp.free = append(sp.free, i)
		}
	}
	for l := range s.Fixed {
		found := false
		for _, x := range s.Labels {
			found = found || x == l
		}
		if !found {
			return nil, fmt.Errorf("search space: fixed atom %q is not one of %v", l, s.Labels)
		}
	}
	if len(sp.free) == 0 {
		return nil, fmt.Errorf("search space: every atom is fixed; nothing to search")
	}
	if s.UnitNorm && len(sp.free) < 2 {
		return nil, fmt.Errorf("search space: a unit-norm search needs at least 2 free atoms")
	}
	return sp, nil
}

// Point is the sampler's point of a goal vector: its free coordinates,
// clipped into the box (a preset may lie outside narrower bounds). With
// UnitNorm the point is the goal's direction, which Gamma maps back to the
// same goal whenever it lies in the box.
func (sp *Space) Point(gamma []float64) []float64 {
	if len(gamma) != len(sp.Labels) {
		panic(fmt.Sprintf("search: goal of %d weights for a space of %d", len(gamma), len(sp.Labels)))
	}
	x := make([]float64, len(sp.free))
	for j, i := range sp.free {
		x[j] = math.Min(math.Max(gamma[i], sp.Lower[i]), sp.Upper[i])
	}
	return x
}

// Box is the sampler's box: the bounds of the free coordinates.
func (sp *Space) Box() Box {
	b := Box{}
	for _, i := range sp.free {
		b.Lower = append(b.Lower, sp.Lower[i])
		b.Upper = append(b.Upper, sp.Upper[i])
	}
	return b
}

// Gamma turns a sampler's point into a goal vector: fixed atoms filled in,
// and with UnitNorm the free part scaled to norm 1 (a point at the origin
// maps to the first free atom's unit vector, so that no trial divides by 0).
func (sp *Space) Gamma(x []float64) []float64 {
	if len(x) != len(sp.free) {
		panic(fmt.Sprintf("search: point of %d coordinates for %d free atoms", len(x), len(sp.free)))
	}
	g := make([]float64, len(sp.Labels))
	for i, l := range sp.Labels {
		if v, ok := sp.Fixed[l]; ok {
			g[i] = v
		}
	}
	norm := 0.0
	for _, v := range x {
		norm += v * v
	}
	norm = math.Sqrt(norm)
	for j, i := range sp.free {
		v := x[j]
		if sp.UnitNorm {
			if norm == 0 {
				v = 0
				if j == 0 {
					v = 1
				}
			} else {
				v /= norm
			}
		}
		g[i] = v
	}
	return g
}
