package evo

import (
	"fmt"
	"math"
	randv1 "math/rand"
	"slices"

	"github.com/MaxHalford/eaopt"
)

// PSO update rules.
const (
	// Classic is the inertia-weight update of Shi and Eberhart with the
	// constriction constants of Clerc and Kennedy ("The particle swarm —
	// explosion, stability, and convergence in a multidimensional complex
	// space", IEEE TEC 6, 2002): v ← w·v + c·r₁∘(p − x) + c·r₂∘(l − x) with
	// r₁, r₂ uniform in [0, 1] per coordinate, w = 0.7298, c = 1.49618.
	Classic = "classic"
	// SPSO2011 is the update of Standard PSO 2011 (M. Clerc, "Standard
	// Particle Swarm Optimisation", 2012, hal-00764996), which eaopt's SPSO
	// also follows: with c = C, the centre of gravity is
	// G = x + c(p + l − 2x)/3 (G = x + c(p − x)/2 for the particle whose p
	// is l), a point x′ is drawn uniformly from the ball around G of radius
	// ‖G − x‖, and v ← w·v + x′ − x; w = 1/(2 ln 2), c = 1/2 + ln 2. It is
	// rotation invariant but explores more and converged more slowly in the
	// quality table.
	SPSO2011 = "spso2011"
)

// PSOConfig holds the settings of particle swarm optimisation. The zero
// value of every field selects the stated default.
//
// Each particle has a position x (the point evaluated), a velocity v and
// the best position p it has visited; l is the best position of the whole
// swarm (global topology, which converges faster than SPSO 2011's adaptive
// random topology within the small budgets of a goal search). Each
// generation updates v by the Update rule and moves x ← x + v. The swarm is
// synchronous (all particles move, then all are evaluated, then the bests
// are updated) so that a whole swarm can be evaluated in parallel.
// Initially x is uniform in the box and v_j uniform in
// [lower_j − x_j, upper_j − x_j] (SPSO 2011).
type PSOConfig struct {
	// SwarmSize is the number of particles, and of new points per
	// generation. If SwarmSize is 0, 10+⌊2√d⌋ is used for d coordinates
	// (the SPSO 2007 rule; SPSO 2011's 40 spends too much of a small budget
	// per generation). It must be at least 2 otherwise.
	SwarmSize int `json:"swarm_size,omitempty"`

	// Update is the velocity update rule, Classic or SPSO2011. If Update is
	// "", Classic is used.
	Update string `json:"update,omitempty"`

	// Inertia is w. If Inertia is 0, the Update rule's w is used. It must
	// lie in (0, 1) otherwise.
	Inertia float64 `json:"inertia,omitempty"`

	// C is the acceleration coefficient c. If C is 0, the Update rule's c
	// is used. It must be positive and finite otherwise.
	C float64 `json:"c,omitempty"`

	// Bounds brings a particle that left the box back: Reflect (the
	// default) mirrors the position and reverses that velocity component;
	// Clip sets the position to the bound and reverses and halves the
	// component, as in SPSO 2011.
	Bounds Bounds `json:"bounds,omitempty"`
}

func (cfg PSOConfig) resolve(d int) (PSOConfig, error) {
	bad := func(format string, args ...any) (PSOConfig, error) {
		return PSOConfig{}, fmt.Errorf("%w: pso: "+format, append([]any{ErrConfig}, args...)...)
	}
	r := cfg
	switch {
	case r.SwarmSize == 0:
		r.SwarmSize = 10 + int(math.Floor(2*math.Sqrt(float64(d))))
	case r.SwarmSize < 2:
		return bad("SwarmSize %d < 2", r.SwarmSize)
	}
	w, c := 0.7298, 1.49618
	switch r.Update {
	case "":
		r.Update = Classic
	case Classic:
	case SPSO2011:
		w, c = 1/(2*math.Ln2), 0.5+math.Ln2
	default:
		return bad("unknown Update %q (want %q or %q)", r.Update, Classic, SPSO2011)
	}
	switch {
	case r.Inertia == 0:
		r.Inertia = w
	case !(r.Inertia > 0 && r.Inertia < 1):
		return bad("Inertia %v outside (0, 1)", r.Inertia)
	}
	switch {
	case r.C == 0:
		r.C = c
	case !(r.C > 0) || math.IsInf(r.C, 1):
		return bad("C %v is not positive and finite", r.C)
	}
	var err error
	if r.Bounds, err = r.Bounds.resolve(); err != nil {
		return PSOConfig{}, err
	}
	return r, nil
}

// NewPSO returns a PSO Optimizer for the box [lower, upper] (one interval
// per coordinate) that draws every random number from seed. It returns an
// error wrapping ErrConfig if the box or cfg is invalid.
func NewPSO(lower, upper []float64, cfg PSOConfig, seed uint64) (*Optimizer, error) {
	if err := checkBox(lower, upper); err != nil {
		return nil, err
	}
	r, err := cfg.resolve(len(lower))
	if err != nil {
		return nil, err
	}
	return newOptimizer(&psoAlgorithm{cfg: r}, lower, upper, seed)
}

type psoAlgorithm struct{ cfg PSOConfig }

func (a *psoAlgorithm) name() string { return "pso" }
func (a *psoAlgorithm) config() any  { return a.cfg }

func (a *psoAlgorithm) run(r *replay, seed uint64) error {
	return r.minimize(seed, a.cfg.SwarmSize, psoModel{cfg: &a.cfg, r: r}, func(rng *randv1.Rand) eaopt.Genome {
		// SPSO 2011: x uniform in the box, v_j uniform in
		// [lower_j − x_j, upper_j − x_j].
		x := uniform(r, rng)
		v := make([]float64, len(x))
		for j := range v {
			lo, hi := r.lower[j]-x[j], r.upper[j]-x[j]
			v[j] = lo + rng.Float64()*(hi-lo)
		}
		return &particle{x: x, v: v, p: slices.Clone(x), pf: math.Inf(1), r: r}
	})
}

// particle is a PSO particle: position x (the point evaluated), velocity v,
// and the best position p it has visited with its value pf.
type particle struct {
	x, v, p []float64
	pf      float64
	r       *replay
}

func (q *particle) Evaluate() (float64, error)           { return q.r.evaluate(q.x), nil }
func (q *particle) Mutate(*randv1.Rand)                  {}
func (q *particle) Crossover(eaopt.Genome, *randv1.Rand) {}
func (q *particle) Clone() eaopt.Genome {
	return &particle{x: slices.Clone(q.x), v: slices.Clone(q.v), p: slices.Clone(q.p), pf: q.pf, r: q.r}
}

// psoModel is one step of a synchronous swarm as an eaopt Model.
type psoModel struct {
	cfg *PSOConfig
	r   *replay
}

func (m psoModel) Validate() error { return nil }

func (m psoModel) Apply(pop *eaopt.Population) error {
	cfg, r, rng := m.cfg, m.r, pop.RNG
	indis := pop.Individuals
	d := len(r.lower)
	// The previous pass's values are all told (a pass with unknown points
	// ends the run), so the personal bests are updated from them here.
	ps := make([]*particle, len(indis))
	best := 0
	for i, indi := range indis {
		q := indi.Genome.(*particle)
		if indi.Fitness < q.pf {
			q.pf = indi.Fitness
			copy(q.p, q.x)
		}
		ps[i] = q
		if q.pf < ps[best].pf {
			best = i
		}
	}
	l := slices.Clone(ps[best].p)
	for i, q := range ps {
		if cfg.Update == SPSO2011 {
			spso2011(q, l, i == best, cfg, rng)
		} else {
			for j := range d {
				q.v[j] = cfg.Inertia*q.v[j] + cfg.C*rng.Float64()*(q.p[j]-q.x[j]) + cfg.C*rng.Float64()*(l[j]-q.x[j])
			}
		}
		for j := range d {
			x, out := cfg.Bounds.apply(q.x[j]+q.v[j], r.lower[j], r.upper[j])
			if out {
				if cfg.Bounds == Clip {
					q.v[j] *= -0.5
				} else {
					q.v[j] = -q.v[j]
				}
			}
			q.x[j] = x
		}
		indis[i].Evaluated = false
	}
	// The evaluation pass: every particle has moved before any is
	// evaluated. GA.evolve's own pass that follows finds them evaluated.
	if err := indis.Evaluate(false); err != nil {
		return err
	}
	if r.pending() {
		return errStop
	}
	return nil
}

// spso2011 sets q's velocity by the SPSO 2011 rule, with l the swarm's best
// position and isBest reporting that q's own best is l.
func spso2011(q *particle, l []float64, isBest bool, cfg *PSOConfig, rng *randv1.Rand) {
	d := len(q.x)
	g := make([]float64, d)
	var radius2 float64
	for j := range d {
		if isBest {
			g[j] = q.x[j] + cfg.C*(q.p[j]-q.x[j])/2
		} else {
			g[j] = q.x[j] + cfg.C*(q.p[j]+l[j]-2*q.x[j])/3
		}
		radius2 += (g[j] - q.x[j]) * (g[j] - q.x[j])
	}
	// x′ uniform in the ball B(G, ‖G − x‖): a uniform direction times a
	// radius distributed as ‖G − x‖·U^{1/d}.
	z := make([]float64, d)
	var zn float64
	for j := range z {
		z[j] = rng.NormFloat64()
		zn += z[j] * z[j]
	}
	scale := 0.0
	if zn > 0 {
		scale = math.Sqrt(radius2) * math.Pow(rng.Float64(), 1/float64(d)) / math.Sqrt(zn)
	}
	for j := range d {
		q.v[j] = cfg.Inertia*q.v[j] + g[j] + scale*z[j] - q.x[j]
	}
}
