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
// Hyperparameters (store.SearchSpace.Params) follow the goal's free atoms
// in the box, each as one coordinate: a float as it is, a log-float as its
// natural logarithm, an int on [Lower-0.5, Upper+0.5] rounded to the
// nearest integer, a categorical of n choices on [0, n] whose integer part
// is the choice. The box's Kinds say which coordinates are integer or
// categorical, so that a sampler can model them natively or refuse them.
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
	if err := s.Validate(); err != nil && len(s.Params) > 0 {
		return nil, err
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

// Point is the sampler's point of a trial's goal vector and
// hyperparameters: the goal's free coordinates, clipped into the box (a
// preset may lie outside narrower bounds), then the hyperparameters'
// coordinates. With UnitNorm the goal part is the goal's direction, which
// Trial maps back to the same goal whenever it lies in the box.
func (sp *Space) Point(gamma, params []float64) []float64 {
	if len(gamma) != len(sp.Labels) || len(params) != len(sp.Params) {
		panic(fmt.Sprintf("search: goal of %d weights and %d hyperparameters for a space of %d and %d", len(gamma), len(params), len(sp.Labels), len(sp.Params)))
	}
	x := make([]float64, len(sp.free), len(sp.free)+len(sp.Params))
	for j, i := range sp.free {
		x[j] = math.Min(math.Max(gamma[i], sp.Lower[i]), sp.Upper[i])
	}
	for k, p := range sp.Params {
		v := params[k]
		switch p.Type {
		case store.LogFloat:
			v = math.Log(math.Max(v, p.Lower))
		case store.Categorical:
			v += 0.5
		}
		x = append(x, v)
	}
	return x
}

// Box is the sampler's box: the bounds of the free goal coordinates, then
// those of the hyperparameters.
func (sp *Space) Box() Box {
	b := Box{}
	for _, i := range sp.free {
		b.Lower = append(b.Lower, sp.Lower[i])
		b.Upper = append(b.Upper, sp.Upper[i])
		b.Names = append(b.Names, sp.Labels[i])
	}
	if len(sp.Params) == 0 {
		b.Names = nil // a goal-only box, as before hyperparameters existed
		return b
	}
	b.Kinds = make([]CoordKind, len(sp.free), len(sp.free)+len(sp.Params))
	for _, p := range sp.Params {
		lo, hi, kind := p.Lower, p.Upper, Continuous
		switch p.Type {
		case store.LogFloat:
			lo, hi = math.Log(lo), math.Log(hi)
		case store.Int:
			lo, hi, kind = lo-0.5, hi+0.5, Integer
		case store.Categorical:
			lo, hi, kind = 0, float64(len(p.Choices)), Choice
		}
		b.Lower = append(b.Lower, lo)
		b.Upper = append(b.Upper, hi)
		b.Kinds = append(b.Kinds, kind)
		b.Names = append(b.Names, p.Key)
	}
	return b
}

// Trial turns a sampler's point into a trial's goal vector and
// hyperparameter values (nil without hyperparameters).
func (sp *Space) Trial(x []float64) (gamma, params []float64) {
	if len(x) != len(sp.free)+len(sp.Params) {
		panic(fmt.Sprintf("search: point of %d coordinates for %d free atoms and %d hyperparameters", len(x), len(sp.free), len(sp.Params)))
	}
	gamma = sp.Gamma(x[:len(sp.free)])
	for k, p := range sp.Params {
		v := x[len(sp.free)+k]
		switch p.Type {
		case store.Float:
			v = math.Min(math.Max(v, p.Lower), p.Upper)
		case store.LogFloat:
			v = math.Min(math.Max(math.Exp(v), p.Lower), p.Upper)
		case store.Int:
			v = math.Min(math.Max(math.Round(v), p.Lower), p.Upper)
		case store.Categorical:
			v = math.Min(math.Max(math.Floor(v), 0), float64(len(p.Choices)-1))
		}
		params = append(params, v)
	}
	return gamma, params
}

// Gamma turns the goal part of a sampler's point into a goal vector: fixed
// atoms filled in, and with UnitNorm the free part scaled to norm 1 (a
// point at the origin maps to the first free atom's unit vector, so that no
// trial divides by 0).
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
