package evo

import (
	"fmt"
	"math"
	randv1 "math/rand"
	"slices"

	"github.com/MaxHalford/eaopt"
)

// GAConfig holds the settings of a real-coded genetic algorithm. The zero
// value of every field selects the stated default.
//
// A generation breeds PopSize offspring: parents are picked by tournament,
// an offspring is a uniform blend of two parents (eaopt's
// CrossUniformFloat64, with probability CrossRate) or a copy of one, and
// then every offspring is mutated by Gaussian steps. By default the next
// population is the best PopSize of parents and offspring together (eaopt's
// ModDownToSize with elitist down-selection, a (μ+λ) GA): with trials that
// cost minutes, throwing away the best points found, as a generational GA
// does, wastes evaluations.
type GAConfig struct {
	// PopSize is the number of individuals, and the number of offspring
	// (new points) per generation. If PopSize is 0, 16 is used: with
	// elitist selection, small populations did best on the quality table's
	// 5- and 19-dimensional test functions within 500 to 1000 evaluations
	// (12 to 20 were about equal; 30 and more were clearly slower). It must
	// be at least Tournament+1 otherwise.
	PopSize int `json:"pop_size,omitempty"`

	// Tournament is the number of contestants in a tournament selection.
	// If Tournament is 0, 2 is used: a mild selection pressure, because the
	// elitist down-selection already keeps the best.
	Tournament int `json:"tournament,omitempty"`

	// CrossRate is the probability that a pair of parents is blended. If
	// CrossRate is 0, 0.8 is used; a negative value disables crossover. It
	// must be at most 1.
	CrossRate float64 `json:"cross_rate,omitempty"`

	// MutationRate is the probability that a mutation moves a coordinate;
	// one coordinate, drawn at random, always moves, so that no offspring
	// repeats a parent. If MutationRate is 0, 1/d is used. It must lie in
	// (0, 1] otherwise; a tiny positive value moves one coordinate only.
	MutationRate float64 `json:"mutation_rate,omitempty"`

	// MutationScale is the standard deviation of a Gaussian mutation step
	// as a fraction of the box's width in that coordinate. If MutationScale
	// is 0, 0.15 is used. It must be positive and finite otherwise.
	MutationScale float64 `json:"mutation_scale,omitempty"`

	// Generational replaces the population by its offspring each generation
	// (eaopt's ModGenerational), as in a textbook GA, instead of the
	// elitist default.
	Generational bool `json:"generational,omitempty"`

	// Bounds brings mutated coordinates back into the box: Reflect (the
	// default) or Clip.
	Bounds Bounds `json:"bounds,omitempty"`
}

// resolve returns cfg with the defaults for d coordinates filled in.
func (cfg GAConfig) resolve(d int) (GAConfig, error) {
	bad := func(format string, args ...any) (GAConfig, error) {
		return GAConfig{}, fmt.Errorf("%w: ga: "+format, append([]any{ErrConfig}, args...)...)
	}
	r := cfg
	if r.Tournament == 0 {
		r.Tournament = 2
	}
	if r.Tournament < 1 {
		return bad("Tournament %d < 1", r.Tournament)
	}
	if r.PopSize == 0 {
		r.PopSize = 16
	}
	if r.PopSize < r.Tournament+1 {
		return bad("PopSize %d < Tournament+1 = %d", r.PopSize, r.Tournament+1)
	}
	switch {
	case r.CrossRate == 0:
		r.CrossRate = 0.8
	case math.IsNaN(r.CrossRate) || r.CrossRate > 1:
		return bad("CrossRate %v > 1", r.CrossRate)
	case r.CrossRate < 0:
		r.CrossRate = -1 // one spelling of "disabled", so that configs compare equal
	}
	switch {
	case r.MutationRate == 0:
		r.MutationRate = 1 / float64(d)
	case !(r.MutationRate > 0 && r.MutationRate <= 1):
		return bad("MutationRate %v outside (0, 1]", r.MutationRate)
	}
	switch {
	case r.MutationScale == 0:
		r.MutationScale = 0.15
	case !(r.MutationScale > 0) || math.IsInf(r.MutationScale, 1):
		return bad("MutationScale %v is not positive and finite", r.MutationScale)
	}
	var err error
	if r.Bounds, err = r.Bounds.resolve(); err != nil {
		return GAConfig{}, err
	}
	return r, nil
}

// NewGA returns a GA Optimizer for the box [lower, upper] (one interval per
// coordinate) that draws every random number from seed. It returns an error
// wrapping ErrConfig if the box or cfg is invalid.
func NewGA(lower, upper []float64, cfg GAConfig, seed uint64) (*Optimizer, error) {
	if err := checkBox(lower, upper); err != nil {
		return nil, err
	}
	r, err := cfg.resolve(len(lower))
	if err != nil {
		return nil, err
	}
	return newOptimizer(&gaAlgorithm{cfg: r}, lower, upper, seed)
}

type gaAlgorithm struct{ cfg GAConfig }

func (a *gaAlgorithm) name() string { return "ga" }
func (a *gaAlgorithm) config() any  { return a.cfg }

func (a *gaAlgorithm) run(r *replay, seed uint64) error {
	cfg := &a.cfg
	crossRate := max(cfg.CrossRate, 0)
	sel := eaopt.SelTournament{NContestants: uint(cfg.Tournament)}
	// MutRate 1: every offspring goes through Mutate, which always moves a
	// coordinate, so no offspring is a copy of its parent.
	var model eaopt.Model = eaopt.ModDownToSize{
		NOffsprings: uint(cfg.PopSize),
		SelectorA:   sel,
		SelectorB:   eaopt.SelElitism{},
		MutRate:     1,
		CrossRate:   crossRate,
	}
	if cfg.Generational {
		model = eaopt.ModGenerational{Selector: sel, MutRate: 1, CrossRate: crossRate}
	}
	return r.minimize(seed, cfg.PopSize, model, func(rng *randv1.Rand) eaopt.Genome {
		return &gaGenome{x: uniform(r, rng), r: r, cfg: cfg}
	})
}

// gaGenome is a point of the box, evaluated through the replay.
type gaGenome struct {
	x   []float64
	r   *replay
	cfg *GAConfig
}

func (g *gaGenome) Evaluate() (float64, error) { return g.r.evaluate(g.x), nil }

// Mutate adds a Gaussian step of MutationScale times the width to each
// coordinate with probability MutationRate, and to one coordinate drawn at
// random in any case.
func (g *gaGenome) Mutate(rng *randv1.Rand) {
	always := rng.Intn(len(g.x))
	for i := range g.x {
		if i != always && !(rng.Float64() < g.cfg.MutationRate) {
			continue
		}
		lo, hi := g.r.lower[i], g.r.upper[i]
		g.x[i], _ = g.cfg.Bounds.apply(g.x[i]+rng.NormFloat64()*g.cfg.MutationScale*(hi-lo), lo, hi)
	}
}

// Crossover blends the receiver with mate and leaves mate unchanged.
// eaopt's Individual.Crossover takes the mate by value, so a mate whose
// genome changed would keep its parent's fitness and never be evaluated;
// eaopt's crossovers change both parents, so the blend runs on a copy.
func (g *gaGenome) Crossover(mate eaopt.Genome, rng *randv1.Rand) {
	eaopt.CrossUniformFloat64(g.x, slices.Clone(mate.(*gaGenome).x), rng)
	for i := range g.x {
		// A blend of two points of the box lies in it up to rounding.
		g.x[i] = math.Min(math.Max(g.x[i], g.r.lower[i]), g.r.upper[i])
	}
}

func (g *gaGenome) Clone() eaopt.Genome {
	return &gaGenome{x: slices.Clone(g.x), r: g.r, cfg: g.cfg}
}
