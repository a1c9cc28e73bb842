package evo

import (
	"fmt"
	"math"
	randv1 "math/rand"
	"slices"

	"github.com/MaxHalford/eaopt"
)

// DE mutation strategies (Storn and Price, "Differential Evolution – A
// Simple and Efficient Heuristic for Global Optimization over Continuous
// Spaces", J. Global Optim. 11, 1997, and the "current-to-best" variant of
// Zhang and Sanderson's JADE, IEEE TEC 13, 2009, without its archive and
// parameter adaptation).
const (
	// Rand1 is DE/rand/1/bin: v = x_r1 + F(x_r2 − x_r3).
	Rand1 = "rand1"
	// Best1 is DE/best/1/bin: v = x_best + F(x_r1 − x_r2).
	Best1 = "best1"
	// CurrentToBest1 is DE/current-to-best/1/bin:
	// v = x_i + F(x_best − x_i) + F(x_r1 − x_r2).
	CurrentToBest1 = "current-to-best1"
)

// DEConfig holds the settings of differential evolution. The zero value of
// every field selects the stated default.
//
// Each generation builds one trial point per population member i from a
// mutant vector v (Strategy) by binomial crossover with x_i (each
// coordinate from v with probability CR, and at least one), evaluates all
// trials, and then replaces x_i by its trial if the trial is no worse. This
// is synchronous DE: every trial of a generation is built from the same
// population, so that the whole generation can be evaluated in parallel.
type DEConfig struct {
	// PopSize is the number of population members and of trial points
	// (new points) per generation. If PopSize is 0, max(20, 2d) is used for
	// d coordinates: less than the textbook 10d, which would spend a budget
	// of a few hundred trials on a few generations, but enough that the
	// greedy default Strategy does not collapse early (10 did, in 19
	// dimensions). It must be at least 4 otherwise.
	PopSize int `json:"pop_size,omitempty"`

	// F is the differential weight. If F is 0, 0.5 is used. It must be
	// positive and at most 2 otherwise.
	F float64 `json:"f,omitempty"`

	// CR is the crossover probability. If CR is 0, 0.9 is used (suited to
	// non-separable functions); a negative value means 0, so that each
	// trial differs from x_i in exactly one coordinate. It must be at most
	// 1.
	CR float64 `json:"cr,omitempty"`

	// Strategy is the mutation strategy: Rand1, Best1 or CurrentToBest1.
	// If Strategy is "", CurrentToBest1 is used: with budgets of a few
	// hundred trials, pulling towards the best converges much faster than
	// Rand1, while its random difference keeps more diversity than Best1.
	Strategy string `json:"strategy,omitempty"`

	// Bounds brings trial coordinates back into the box: Reflect (the
	// default) or Clip.
	Bounds Bounds `json:"bounds,omitempty"`
}

func (cfg DEConfig) resolve(d int) (DEConfig, error) {
	bad := func(format string, args ...any) (DEConfig, error) {
		return DEConfig{}, fmt.Errorf("%w: de: "+format, append([]any{ErrConfig}, args...)...)
	}
	r := cfg
	switch {
	case r.PopSize == 0:
		r.PopSize = max(20, 2*d)
	case r.PopSize < 4:
		return bad("PopSize %d < 4", r.PopSize)
	}
	switch {
	case r.F == 0:
		r.F = 0.5
	case !(r.F > 0 && r.F <= 2):
		return bad("F %v outside (0, 2]", r.F)
	}
	switch {
	case r.CR == 0:
		r.CR = 0.9
	case math.IsNaN(r.CR) || r.CR > 1:
		return bad("CR %v > 1", r.CR)
	case r.CR < 0:
		r.CR = -1 // one spelling of "zero", so that configs compare equal
	}
	switch r.Strategy {
	case "":
		r.Strategy = CurrentToBest1
	case Rand1, Best1, CurrentToBest1:
	default:
		return bad("unknown Strategy %q (want %q, %q or %q)", r.Strategy, Rand1, Best1, CurrentToBest1)
	}
	var err error
	if r.Bounds, err = r.Bounds.resolve(); err != nil {
		return DEConfig{}, err
	}
	return r, nil
}

// NewDE returns a DE Optimizer for the box [lower, upper] (one interval per
// coordinate) that draws every random number from seed. It returns an error
// wrapping ErrConfig if the box or cfg is invalid.
func NewDE(lower, upper []float64, cfg DEConfig, seed uint64) (*Optimizer, error) {
	if err := checkBox(lower, upper); err != nil {
		return nil, err
	}
	r, err := cfg.resolve(len(lower))
	if err != nil {
		return nil, err
	}
	return newOptimizer(&deAlgorithm{cfg: r}, lower, upper, seed)
}

type deAlgorithm struct{ cfg DEConfig }

func (a *deAlgorithm) name() string { return "de" }
func (a *deAlgorithm) config() any  { return a.cfg }

func (a *deAlgorithm) run(r *replay, seed uint64) error {
	return r.minimize(seed, a.cfg.PopSize, deModel{cfg: &a.cfg, r: r}, func(rng *randv1.Rand) eaopt.Genome {
		return &point{x: uniform(r, rng), r: r}
	})
}

// point is a point of the box, evaluated through the replay; the operators
// live in the Model, so Mutate and Crossover do nothing.
type point struct {
	x []float64
	r *replay
}

func (p *point) Evaluate() (float64, error)           { return p.r.evaluate(p.x), nil }
func (p *point) Mutate(*randv1.Rand)                  {}
func (p *point) Crossover(eaopt.Genome, *randv1.Rand) {}
func (p *point) Clone() eaopt.Genome                  { return &point{x: slices.Clone(p.x), r: p.r} }

// deModel is one generation of synchronous DE as an eaopt Model.
type deModel struct {
	cfg *DEConfig
	r   *replay
}

func (m deModel) Validate() error { return nil }

func (m deModel) Apply(pop *eaopt.Population) error {
	cfg, r, rng := m.cfg, m.r, pop.RNG
	indis := pop.Individuals
	n, d := len(indis), len(r.lower)
	xs := make([][]float64, n)
	best := 0
	for i, indi := range indis {
		xs[i] = indi.Genome.(*point).x
		if indi.Fitness < indis[best].Fitness {
			best = i
		}
	}
	trials := make(eaopt.Individuals, n)
	for i := range n {
		r1, r2, r3 := distinct3(n, i, rng)
		jr := rng.Intn(d)
		y := slices.Clone(xs[i])
		for j := range d {
			if j != jr && !(rng.Float64() < cfg.CR) {
				continue
			}
			var v float64
			switch cfg.Strategy {
			case Rand1:
				v = xs[r1][j] + cfg.F*(xs[r2][j]-xs[r3][j])
			case Best1:
				v = xs[best][j] + cfg.F*(xs[r1][j]-xs[r2][j])
			default: // CurrentToBest1
				v = xs[i][j] + cfg.F*(xs[best][j]-xs[i][j]) + cfg.F*(xs[r1][j]-xs[r2][j])
			}
			y[j], _ = cfg.Bounds.apply(v, r.lower[j], r.upper[j])
		}
		trials[i] = eaopt.NewIndividual(&point{x: y, r: r}, rng)
	}
	// The evaluation pass: every trial exists before any is evaluated.
	if err := trials.Evaluate(false); err != nil {
		return err
	}
	if r.pending() {
		return errStop // before selection reads a placeholder
	}
	for i := range indis {
		if trials[i].Fitness <= indis[i].Fitness {
			indis[i] = trials[i]
		}
	}
	return nil
}

// distinct3 draws three distinct indices in [0, n), all different from i;
// n must be at least 4.
func distinct3(n, i int, rng *randv1.Rand) (int, int, int) {
	draw := func(not ...int) int {
		for {
			k := rng.Intn(n)
			if !slices.Contains(not, k) {
				return k
			}
		}
	}
	r1 := draw(i)
	r2 := draw(i, r1)
	r3 := draw(i, r1, r2)
	return r1, r2, r3
}

// uniform draws a point uniformly from the box.
func uniform(r *replay, rng *randv1.Rand) []float64 {
	x := make([]float64, len(r.lower))
	for i := range x {
		x[i] = r.lower[i] + rng.Float64()*(r.upper[i]-r.lower[i])
		x[i] = math.Min(x[i], r.upper[i]) // rounding
	}
	return x
}
