// Package nsga2 is the NSGA-II multi-objective genetic algorithm (Deb,
// Pratap, Agarwal and Meyarivan, "A fast and elitist multiobjective genetic
// algorithm: NSGA-II", IEEE TEC 6(2), 2002) as an asktell.Sampler: each
// generation proposes PopulationSize points; once all are told, parents and
// offspring together are sorted into non-dominated fronts (package
// internal/pareto), and the next parents are the best fronts, the last one
// cut by crowding distance. Offspring are bred by binary tournament on
// (front, crowding distance), uniform crossover and per-coordinate
// mutation. The settings and their defaults are those Optuna documents for
// its NSGAIISampler: population 50, crossover probability 0.9, uniform
// crossover with swapping probability 0.5, mutation probability 1/n for n
// coordinates, a mutated coordinate redrawn uniformly from its interval.
//
// # Sparsity
//
// goalsearch searches goals whose second objective is how many weights are
// nonzero once rounded to a grid. Uniform draws almost never give a weight
// that rounds to zero (with grid 0.1 on [-1, 1], one in twenty), so plain
// NSGA-II leaves 14 to 17 of 18 weights nonzero and never reaches the
// sparse end of the front. Two additions make exact zeros reachable, for
// every coordinate whose interval contains 0:
//
//   - the initial population has varied sparsity: individual i of N has
//     k = 1 + ⌊i·n/N⌋ nonzero weights (k spread evenly over 1..n), at
//     coordinates drawn at random, the others exactly 0;
//   - mutation zeroes or revives: a mutated coordinate that is 0 is
//     revived (redrawn uniformly); one that is not is set to 0 with
//     probability ZeroProb (default 0.5), and redrawn otherwise.
//
// ZeroProb < 0 and DenseInit give back plain NSGA-II.
//
// Results. A told Result's objectives are [Value, Values...], all
// minimised. A failure, or a pruned result (NSGA-II compares complete
// evaluations only), is dominated by every other point.
//
// Every random number comes from one math/rand/v2 PCG whose state is part
// of State, so a sampler restored from a State continues exactly.
package nsga2

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"goalsearch/internal/floatbits"
	"goalsearch/internal/pareto"
	"goalsearch/search/asktell"
)

// StateVersion is the Version of the States this package writes.
const StateVersion = 1

// Config holds the settings of NSGA-II. The zero value of every field
// selects the stated default.
type Config struct {
	// PopulationSize is the number of points per generation and of
	// parents kept. Default 50 (Optuna's); at least 2.
	PopulationSize int `json:"population_size,omitempty"`
	// CrossoverProb is the probability that a child is bred by crossover
	// rather than copied from its first parent. Default 0.9; a negative
	// value disables crossover; at most 1.
	CrossoverProb float64 `json:"crossover_prob,omitempty"`
	// SwappingProb is the probability that uniform crossover takes a
	// coordinate from the second parent. Default 0.5; in (0, 1).
	SwappingProb float64 `json:"swapping_prob,omitempty"`
	// MutationProb is the probability that a child's coordinate is
	// mutated. Default 1/n for n coordinates; in (0, 1].
	MutationProb float64 `json:"mutation_prob,omitempty"`
	// ZeroProb is the probability that a mutation sets a nonzero
	// coordinate to 0 (see Sparsity). Default 0.5; a negative value
	// disables zeroing; below 1.
	ZeroProb float64 `json:"zero_prob,omitempty"`
	// DenseInit draws the initial population uniformly from the box, as
	// plain NSGA-II, instead of with varied sparsity.
	DenseInit bool `json:"dense_init,omitempty"`
}

// Defaults used when a Config field is zero.
const (
	DefaultPopulationSize = 50
	DefaultCrossoverProb  = 0.9
	DefaultSwappingProb   = 0.5
	DefaultZeroProb       = 0.5
)

// Errors of this package. ErrConfig is returned by New; the others wrap
// the asktell errors of the same names.
var (
	ErrConfig   = errors.New("nsga2: invalid config")
	ErrProtocol = fmt.Errorf("nsga2: %w", asktell.ErrProtocol)
	ErrState    = fmt.Errorf("nsga2: %w", asktell.ErrState)
)

func (c Config) resolve(n int) (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	r := c
	if r.PopulationSize == 0 {
		r.PopulationSize = DefaultPopulationSize
	}
	if r.PopulationSize < 2 {
		return bad("population_size %d, want at least 2", r.PopulationSize)
	}
	switch {
	case r.CrossoverProb == 0:
		r.CrossoverProb = DefaultCrossoverProb
	case math.IsNaN(r.CrossoverProb) || r.CrossoverProb > 1:
		return bad("crossover_prob %v, want at most 1 (negative: no crossover)", r.CrossoverProb)
	case r.CrossoverProb < 0:
		r.CrossoverProb = -1 // one spelling of "disabled", so that configs compare equal
	}
	switch {
	case r.SwappingProb == 0:
		r.SwappingProb = DefaultSwappingProb
	case !(r.SwappingProb > 0 && r.SwappingProb < 1):
		return bad("swapping_prob %v, want it in (0, 1)", r.SwappingProb)
	}
	switch {
	case r.MutationProb == 0:
		r.MutationProb = 1 / float64(n)
	case !(r.MutationProb > 0 && r.MutationProb <= 1):
		return bad("mutation_prob %v, want it in (0, 1]", r.MutationProb)
	}
	switch {
	case r.ZeroProb == 0:
		r.ZeroProb = DefaultZeroProb
	case math.IsNaN(r.ZeroProb) || r.ZeroProb >= 1:
		return bad("zero_prob %v, want it below 1 (negative: no zeroing)", r.ZeroProb)
	case r.ZeroProb < 0:
		r.ZeroProb = -1
	}
	return r, nil
}

// An Individual is a parent: a point and its objectives (nil if it
// failed).
type Individual struct {
	X      []float64 `json:"x"`
	F      []float64 `json:"f,omitempty"`
	Failed bool      `json:"failed,omitempty"`
}

// A Point is a point of the current generation and, once told, its
// objectives.
type Point struct {
	Individual
	Told bool `json:"told,omitempty"`
}

// State is everything an Optimizer needs to continue exactly; encoding/json
// round-trips it exactly.
type State struct {
	Version int `json:"version"`
	// Lower, Upper, Seed and Config (resolved) identify the Optimizer.
	Lower  []float64 `json:"lower"`
	Upper  []float64 `json:"upper"`
	Seed   uint64    `json:"seed"`
	Config Config    `json:"config"`
	// Objectives is the number of objectives, fixed by the first
	// complete result told; 0 before.
	Objectives int `json:"objectives"`
	// Parents are the population that breeds the next generation, empty
	// before the first generation is told.
	Parents []Individual `json:"parents"`
	// Generation holds the points of the generation asked and not yet
	// wholly told, numbered from Base; empty between generations.
	Generation []Point `json:"generation"`
	Base       int     `json:"base"`
	// Generations counts the generations asked.
	Generations int `json:"generations"`
	// RNG is the state of the PCG as written by rand.PCG.MarshalBinary.
	RNG []byte `json:"rng"`
}

// Optimizer is NSGA-II; it implements asktell.Sampler. It is not safe for
// concurrent use.
type Optimizer struct {
	cfg          Config
	lower, upper []float64
	seed         uint64
	s            State // RNG left nil: pcg holds it
	pcg          *rand.PCG
	rng          *rand.Rand
}

// pcgStream is the fixed second PCG seed, as in packages cmaes and tpe.
const pcgStream = 0x9e3779b97f4a7c15

// New returns an Optimizer for the box [lower, upper] (finite, lower[i] <
// upper[i]), configured by cfg, drawing every random number from seed.
func New(lower, upper []float64, cfg Config, seed uint64) (*Optimizer, error) {
	if len(lower) == 0 || len(lower) != len(upper) {
		return nil, fmt.Errorf("%w: box with %d lower and %d upper bounds", ErrConfig, len(lower), len(upper))
	}
	for i := range lower {
		lo, hi := lower[i], upper[i]
		if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || !(lo < hi) || math.IsInf(hi-lo, 0) {
			return nil, fmt.Errorf("%w: bound %d is [%v, %v]", ErrConfig, i, lo, hi)
		}
	}
	r, err := cfg.resolve(len(lower))
	if err != nil {
		return nil, err
	}
	o := &Optimizer{cfg: r, lower: slices.Clone(lower), upper: slices.Clone(upper), seed: seed}
	o.pcg = rand.NewPCG(seed, pcgStream)
	o.rng = rand.New(o.pcg)
	o.s = State{Version: StateVersion, Lower: o.lower, Upper: o.upper, Seed: seed, Config: r}
	return o, nil
}

// Config returns the resolved configuration.
func (o *Optimizer) Config() Config { return o.cfg }

// Ask returns the next generation's PopulationSize points, whatever n ≥ 1
// is: ErrPending while points of the current one are pending.
func (o *Optimizer) Ask(n int) ([][]float64, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: Ask(%d)", ErrProtocol, n)
	}
	if len(o.s.Generation) > 0 {
		return nil, fmt.Errorf("nsga2: %w", asktell.ErrPending)
	}
	N := o.cfg.PopulationSize
	xs := make([][]float64, N)
	var rank []int
	var crowd []float64
	if len(o.s.Parents) > 0 {
		rank, crowd = o.fitness()
	}
	for i := range xs {
		if len(o.s.Parents) == 0 {
			xs[i] = o.initial(i)
		} else {
			xs[i] = o.child(rank, crowd)
		}
	}
	o.s.Generation = make([]Point, N)
	for i, x := range xs {
		o.s.Generation[i] = Point{Individual: Individual{X: slices.Clone(x)}}
	}
	o.s.Generations++
	return xs, nil
}

// zeroable reports whether coordinate j's interval contains 0.
func (o *Optimizer) zeroable(j int) bool { return o.lower[j] <= 0 && 0 <= o.upper[j] }

func (o *Optimizer) uniform(j int) float64 {
	lo, hi := o.lower[j], o.upper[j]
	return math.Min(lo+o.rng.Float64()*(hi-lo), hi)
}

// initial returns individual i of the initial population (see Sparsity).
func (o *Optimizer) initial(i int) []float64 {
	d := len(o.lower)
	x := make([]float64, d)
	var zs []int
	for j := range x {
		if !o.cfg.DenseInit && o.zeroable(j) {
			zs = append(zs, j)
		} else {
			x[j] = o.uniform(j)
		}
	}
	if len(zs) == 0 {
		return x
	}
	k := 1 + i*len(zs)/o.cfg.PopulationSize
	// The first k of a partial Fisher–Yates shuffle of zs are nonzero.
	for a := 0; a < k; a++ {
		b := a + o.rng.IntN(len(zs)-a)
		zs[a], zs[b] = zs[b], zs[a]
		x[zs[a]] = o.uniform(zs[a])
	}
	return x
}

// child breeds one offspring from the parents, whose fronts and crowding
// distances are rank and crowd.
func (o *Optimizer) child(rank []int, crowd []float64) []float64 {
	p1 := o.tournament(rank, crowd)
	p2 := o.tournament(rank, crowd)
	x := slices.Clone(o.s.Parents[p1].X)
	if o.rng.Float64() < o.cfg.CrossoverProb {
		for j := range x {
			if o.rng.Float64() < o.cfg.SwappingProb {
				x[j] = o.s.Parents[p2].X[j]
			}
		}
	}
	for j := range x {
		if !(o.rng.Float64() < o.cfg.MutationProb) {
			continue
		}
		switch {
		case o.zeroable(j) && x[j] == 0:
			x[j] = o.uniform(j) // revive
		case o.zeroable(j) && o.rng.Float64() < o.cfg.ZeroProb:
			x[j] = 0
		default:
			x[j] = o.uniform(j)
		}
	}
	return x
}

// objectives returns the individuals' objective vectors, NaN for failures
// (which pareto.Sort puts last).
func objectives(ps []Individual, m int) [][]float64 {
	out := make([][]float64, len(ps))
	for i, p := range ps {
		if p.Failed {
			out[i] = make([]float64, max(m, 1))
			for k := range out[i] {
				out[i][k] = math.NaN()
			}
		} else {
			out[i] = p.F
		}
	}
	return out
}

// fitness returns each parent's front and crowding distance within the
// parent population.
func (o *Optimizer) fitness() ([]int, []float64) {
	objs := objectives(o.s.Parents, o.s.Objectives)
	rank := make([]int, len(objs))
	crowd := make([]float64, len(objs))
	for r, f := range pareto.Sort(objs) {
		d := pareto.Crowding(objs, f)
		for k, i := range f {
			rank[i], crowd[i] = r, d[k]
		}
	}
	return rank, crowd
}

// tournament is binary tournament selection with the crowded-comparison
// operator: the lower front wins, then the larger crowding distance, then
// the first drawn.
func (o *Optimizer) tournament(rank []int, crowd []float64) int {
	a, b := o.rng.IntN(len(rank)), o.rng.IntN(len(rank))
	if rank[b] < rank[a] || rank[b] == rank[a] && crowd[b] > crowd[a] {
		return b
	}
	return a
}

// Tell records the result of pending point k.
func (o *Optimizer) Tell(k int, r asktell.Result) error {
	i := k - o.s.Base
	if i < 0 || i >= len(o.s.Generation) || o.s.Generation[i].Told {
		return fmt.Errorf("%w: point %d is not pending", ErrProtocol, k)
	}
	p := Point{Individual: Individual{X: o.s.Generation[i].X}, Told: true}
	if r.Failed() || r.Pruned || slices.ContainsFunc(r.Values, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }) {
		p.Failed = true
	} else {
		p.F = append([]float64{r.Value}, r.Values...)
		if o.s.Objectives != 0 && len(p.F) != o.s.Objectives {
			return fmt.Errorf("%w: point %d has %d objectives, earlier points %d", ErrProtocol, k, len(p.F), o.s.Objectives)
		}
		o.s.Objectives = len(p.F)
	}
	o.s.Generation[i] = p
	for _, q := range o.s.Generation {
		if !q.Told {
			return nil
		}
	}
	o.selectParents()
	return nil
}

// selectParents makes the next parents from the parents and the wholly told
// generation: whole fronts while they fit, the last one by crowding
// distance, larger first (ties: parents before offspring, then order).
func (o *Optimizer) selectParents() {
	all := slices.Clone(o.s.Parents)
	for _, p := range o.s.Generation {
		all = append(all, p.Individual)
	}
	objs := objectives(all, o.s.Objectives)
	N := o.cfg.PopulationSize
	var next []Individual
	for _, f := range pareto.Sort(objs) {
		if len(next)+len(f) <= N {
			for _, i := range f {
				next = append(next, all[i])
			}
			continue
		}
		d := pareto.Crowding(objs, f)
		order := make([]int, len(f))
		for k := range order {
			order[k] = k
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(d[b], d[a]) })
		for _, k := range order[:N-len(next)] {
			next = append(next, all[f[k]])
		}
		break
	}
	o.s.Parents = next
	o.s.Base += len(o.s.Generation)
	o.s.Generation = nil
}

// Pending returns the numbers of the points asked and not told.
func (o *Optimizer) Pending() []int {
	var ks []int
	for i, p := range o.s.Generation {
		if !p.Told {
			ks = append(ks, o.s.Base+i)
		}
	}
	return ks
}

// Front returns the parents of the first front (the best trade-offs of the
// generations told so far), in parent order.
func (o *Optimizer) Front() []Individual {
	objs := objectives(o.s.Parents, o.s.Objectives)
	var out []Individual
	if fs := pareto.Sort(objs); len(fs) > 0 {
		for _, i := range fs[0] {
			if !o.s.Parents[i].Failed {
				out = append(out, o.s.Parents[i])
			}
		}
	}
	return out
}

// State returns a copy of the Optimizer's state.
func (o *Optimizer) State() State {
	s := cloneState(o.s)
	b, err := o.pcg.MarshalBinary()
	if err != nil {
		panic("nsga2: " + err.Error()) // rand.PCG.MarshalBinary cannot fail
	}
	s.RNG = b
	return s
}

// Restore replaces the Optimizer's state with a copy of s; it returns an
// error wrapping ErrState, and changes nothing, if s belongs to another
// box, seed, configuration or version, or is inconsistent.
func (o *Optimizer) Restore(s State) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrState}, args...)...)
	}
	switch {
	case s.Version != StateVersion:
		return bad("version %d, want %d", s.Version, StateVersion)
	case !floatbits.Equal(s.Lower, o.lower) || !floatbits.Equal(s.Upper, o.upper):
		return bad("box differs")
	case s.Seed != o.seed:
		return bad("seed %d, want %d", s.Seed, o.seed)
	case s.Config != o.cfg:
		return bad("config %+v, want %+v", s.Config, o.cfg)
	case len(s.Parents) > o.cfg.PopulationSize || len(s.Generation) != 0 && len(s.Generation) != o.cfg.PopulationSize:
		return bad("%d parents and %d points for a population of %d", len(s.Parents), len(s.Generation), o.cfg.PopulationSize)
	case s.Base < 0 || s.Objectives < 0:
		return bad("negative base or objectives")
	}
	for _, p := range append(slices.Clone(s.Parents), individuals(s.Generation)...) {
		if len(p.X) != len(o.lower) || !p.Failed && p.F != nil && len(p.F) != s.Objectives {
			return bad("an individual of %d coordinates and %d objectives", len(p.X), len(p.F))
		}
	}
	pcg := new(rand.PCG)
	if err := pcg.UnmarshalBinary(s.RNG); err != nil {
		return bad("rng: %v", err)
	}
	o.s = cloneState(s)
	o.s.RNG = nil
	o.s.Lower, o.s.Upper = o.lower, o.upper
	o.pcg, o.rng = pcg, rand.New(pcg)
	return nil
}

func individuals(ps []Point) []Individual {
	out := make([]Individual, len(ps))
	for i, p := range ps {
		out[i] = p.Individual
	}
	return out
}

func cloneIndividual(p Individual) Individual {
	return Individual{X: slices.Clone(p.X), F: slices.Clone(p.F), Failed: p.Failed}
}

func cloneState(s State) State {
	c := s
	c.Lower, c.Upper = slices.Clone(s.Lower), slices.Clone(s.Upper)
	c.Parents = make([]Individual, len(s.Parents))
	for i, p := range s.Parents {
		c.Parents[i] = cloneIndividual(p)
	}
	c.Generation = nil
	for _, p := range s.Generation {
		c.Generation = append(c.Generation, Point{Individual: cloneIndividual(p.Individual), Told: p.Told})
	}
	c.RNG = slices.Clone(s.RNG)
	return c
}
