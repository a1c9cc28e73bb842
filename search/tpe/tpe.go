package tpe

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"goalsearch/internal/floatbits"
	"goalsearch/search/asktell"
)

// Config holds the settings of a TPE Optimizer. The zero value of every
// field selects the stated default, which is Optuna 3.1's TPESampler
// default where Optuna has one.
type Config struct {
	// StartupTrials is the number of points, counted from the first, drawn
	// uniformly from the box before the estimator is used. If
	// StartupTrials is 0, 10 is used (Optuna's n_startup_trials); a
	// negative value means none.
	StartupTrials int `json:"n_startup_trials,omitempty"`

	// Candidates is the number of candidates drawn from l(x) for each
	// proposed point; the one with the largest l(x)/g(x) is proposed. If
	// Candidates is 0, 24 is used (Optuna's n_ei_candidates). It must be
	// positive otherwise.
	Candidates int `json:"n_ei_candidates,omitempty"`

	// GammaFraction and GammaMax give the number of good points out of n,
	// γ(n) = min(⌈GammaFraction·n⌉, GammaMax). If GammaFraction is 0, 0.1
	// is used, and if GammaMax is 0, 25 (Optuna's default_gamma).
	// GammaFraction must lie in (0, 1] and GammaMax be positive otherwise.
	GammaFraction float64 `json:"gamma_fraction,omitempty"`
	GammaMax      int     `json:"gamma_max,omitempty"`

	// PriorWeight is the weight of the prior kernel in both estimators. If
	// PriorWeight is 0, 1 is used (Optuna's prior_weight); a negative
	// value leaves the prior out (Optuna's consider_prior=False). It must
	// be finite.
	PriorWeight float64 `json:"prior_weight,omitempty"`

	// NoMagicClip turns off the lower bound on the bandwidths (Optuna's
	// consider_magic_clip=False); a bound of 1e-12 times the width stays,
	// so that no kernel degenerates.
	NoMagicClip bool `json:"no_magic_clip,omitempty"`

	// FlatWeights gives every point the weight 1, instead of ramping down
	// the weights of all but the newest 25 points of a group.
	FlatWeights bool `json:"flat_weights,omitempty"`
}

// Defaults used when a Config field is zero.
const (
	defaultStartupTrials = 10
	defaultCandidates    = 24
	defaultGammaFraction = 0.1
	defaultGammaMax      = 25
	defaultPriorWeight   = 1.0
)

// Constants of the estimator (see the package documentation).
const (
	// bandwidthScale is the bandwidth of a group of one point as a
	// fraction of the width.
	bandwidthScale = 0.2
	// clipKernels bounds the kernel count in the magic clip,
	// width/min(clipKernels, m+2).
	clipKernels = 100
	// flatWeights is the number of newest points of a group that keep the
	// weight 1.
	flatWeights = 25
	// minSigmaFraction is the bandwidth floor without the magic clip.
	minSigmaFraction = 1e-12
)

// resolve returns cfg with the defaults filled in, or an error wrapping
// ErrConfig.
func (cfg Config) resolve() (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	r := cfg
	switch {
	case r.StartupTrials == 0:
		r.StartupTrials = defaultStartupTrials
	case r.StartupTrials < 0:
		r.StartupTrials = -1 // one spelling of "none", so that configs compare equal
	}
	switch {
	case r.Candidates == 0:
		r.Candidates = defaultCandidates
	case r.Candidates < 0:
		return bad("n_ei_candidates %d < 1", r.Candidates)
	}
	switch {
	case r.GammaFraction == 0:
		r.GammaFraction = defaultGammaFraction
	case !(r.GammaFraction > 0 && r.GammaFraction <= 1):
		return bad("gamma_fraction %v outside (0, 1]", r.GammaFraction)
	}
	switch {
	case r.GammaMax == 0:
		r.GammaMax = defaultGammaMax
	case r.GammaMax < 0:
		return bad("gamma_max %d < 1", r.GammaMax)
	}
	switch {
	case math.IsNaN(r.PriorWeight) || math.IsInf(r.PriorWeight, 0):
		return bad("prior_weight %v is not finite", r.PriorWeight)
	case r.PriorWeight == 0:
		r.PriorWeight = defaultPriorWeight
	case r.PriorWeight < 0:
		r.PriorWeight = -1 // one spelling of "no prior"
	}
	return r, nil
}

// StateVersion is the Version of the States this package writes and the
// only one Restore accepts. It changes whenever the meaning of a field or
// the proposals for a given State change.
const StateVersion = 1

// Point is an asked point as held in State.
type Point = asktell.Point

// State is everything an Optimizer knows. Restoring it into an Optimizer
// of the same box, configuration and seed continues exactly; encoding/json
// round-trips it exactly.
type State struct {
	Version int `json:"version"`
	// Lower, Upper, Seed and Config (resolved) identify the Optimizer; a
	// State is only restored into one that agrees on all of them.
	Lower []float64 `json:"lower"`
	Upper []float64 `json:"upper"`
	// Choices gives the number of choices of each categorical
	// coordinate, 0 for a continuous one; nil if none is categorical.
	Choices []int  `json:"choices,omitempty"`
	Seed    uint64 `json:"seed"`
	Config  Config `json:"config"`
	// Points are every point asked, by number, with their results.
	Points []Point `json:"points"`
	// RNG is the state of the PCG as written by rand.PCG.MarshalBinary.
	RNG []byte `json:"rng"`
}

// Errors of this package. ErrConfig is returned by New; the others wrap
// the asktell errors of the same names.
var (
	// ErrConfig is wrapped by every error that reports an invalid Config
	// or box.
	ErrConfig = errors.New("tpe: invalid config")
	// ErrProtocol reports an Ask with n < 1 or a Tell of a point that is
	// not pending.
	ErrProtocol = fmt.Errorf("tpe: %w", asktell.ErrProtocol)
	// ErrState reports a State of another version, box, configuration or
	// seed, or an inconsistent one.
	ErrState = fmt.Errorf("tpe: %w", asktell.ErrState)
)

// Optimizer is a TPE sampler; it implements asktell.Sampler. It proposes
// points while others are pending (with a constant liar), never runs out,
// and never starts a goroutine.
//
// An Optimizer is not safe for concurrent use: the caller calls Ask, Tell,
// Pending, State and Restore from one goroutine at a time.
type Optimizer struct {
	// Settings.
	cfg          Config // resolved
	lower, upper []float64
	choices      []int // per coordinate: its number of choices, 0 if continuous; nil if none
	seed         uint64

	// Everything that changes.
	points []Point
	pcg    *rand.PCG
	rng    *rand.Rand

	// Scratch space of Ask, reused between calls.
	w work
}

// pcgStream is the fixed second PCG seed, as in packages cmaes and search.
const pcgStream = 0x9e3779b97f4a7c15

// New returns an Optimizer for the box [lower, upper] (finite, lower[i] <
// upper[i]), configured by cfg, drawing every random number from seed. It
// returns an error wrapping ErrConfig for an invalid box or Config.
func New(lower, upper []float64, cfg Config, seed uint64) (*Optimizer, error) {
	return NewWithChoices(lower, upper, nil, cfg, seed)
}

// NewWithChoices is New for a box some of whose coordinates are
// categorical: choices[j] > 0 says coordinate j holds one of choices[j]
// unordered values, its box interval must then be [0, choices[j]], and the
// choice of a value x is ⌊x⌋ (a proposal holds the choice's centre,
// choice + ½). TPE models such a coordinate by a categorical distribution
// per kernel, as Optuna does: each observed choice gets weight 1 plus
// PriorWeight/(kernels) spread over every choice, the prior kernel is
// uniform. A nil choices is New.
func NewWithChoices(lower, upper []float64, choices []int, cfg Config, seed uint64) (*Optimizer, error) {
	if choices != nil && len(choices) != len(lower) {
		return nil, fmt.Errorf("%w: %d choice counts for %d coordinates", ErrConfig, len(choices), len(lower))
	}
	for j, n := range choices {
		if n < 0 || (n > 0 && (lower[j] != 0 || upper[j] != float64(n))) {
			return nil, fmt.Errorf("%w: coordinate %d of %d choices has the interval [%v, %v], want [0, %d]", ErrConfig, j, n, lower[j], upper[j], n)
		}
	}
	if !slices.ContainsFunc(choices, func(n int) bool { return n > 0 }) {
		choices = nil
	}
	if err := asktell.CheckBox(lower, upper); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	pcg := rand.NewPCG(seed, pcgStream)
	return &Optimizer{
		cfg: r, lower: slices.Clone(lower), upper: slices.Clone(upper), choices: slices.Clone(choices), seed: seed,
		pcg: pcg, rng: rand.New(pcg),
	}, nil
}

// Config returns the resolved configuration.
func (o *Optimizer) Config() Config { return o.cfg }

// Ask proposes n points (n ≥ 1), numbered on from the number of points
// asked so far. Points pending at the time, including those proposed
// earlier in the same call, are treated as worse than every told point (a
// constant liar). The points are the caller's. Ask returns an error
// wrapping ErrProtocol if n < 1; it never runs out.
func (o *Optimizer) Ask(n int) ([][]float64, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: Ask(%d)", ErrProtocol, n)
	}
	xs := make([][]float64, n)
	for i := range xs {
		var x []float64
		if len(o.points) < o.cfg.StartupTrials {
			x = o.uniform()
		} else {
			x = o.propose()
		}
		o.points = append(o.points, Point{X: x})
		xs[i] = slices.Clone(x)
	}
	return xs, nil
}

// Enqueue adds points the caller chose (a warm start) as pending points,
// numbered on from the points asked so far, and returns the first number.
// Once told, they count as observations like asked points, including
// towards StartupTrials. A point outside the box, or of the wrong
// dimension, is an error wrapping ErrProtocol, and nothing is added.
func (o *Optimizer) Enqueue(xs [][]float64) (int, error) {
	first, err := asktell.Enqueue(&o.points, xs, o.lower, o.upper)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	return first, nil
}

// Tell records the result of pending point k; values are minimised, and
// NaN or ±Inf is a failure. Tell returns an error wrapping ErrProtocol,
// changing nothing, if k is not pending.
func (o *Optimizer) Tell(k int, r asktell.Result) error {
	if !asktell.Tell(o.points, k, r) {
		return fmt.Errorf("%w: point %d is not pending", ErrProtocol, k)
	}
	return nil
}

// Pending returns the numbers of the points asked and not told, ascending.
func (o *Optimizer) Pending() []int { return asktell.PendingOf(o.points) }

// State returns a copy of the Optimizer's state, sharing no memory with it.
func (o *Optimizer) State() State {
	b, err := o.pcg.MarshalBinary()
	if err != nil {
		// rand.PCG.MarshalBinary cannot fail.
		panic("tpe: " + err.Error())
	}
	s := State{
		Version: StateVersion,
		Lower:   slices.Clone(o.lower),
		Upper:   slices.Clone(o.upper),
		Choices: slices.Clone(o.choices),
		Seed:    o.seed,
		Config:  o.cfg,
		Points:  asktell.ClonePoints(o.points),
		RNG:     b,
	}
	return s
}

// Restore replaces the Optimizer's state with a copy of s. It returns an
// error wrapping ErrState, leaving the Optimizer unchanged, if s has
// another version, box, configuration or seed, or is inconsistent.
func (o *Optimizer) Restore(s State) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrState}, args...)...)
	}
	if s.Version != StateVersion {
		return bad("version %d, want %d", s.Version, StateVersion)
	}
	if !floatbits.Equal(s.Lower, o.lower) || !floatbits.Equal(s.Upper, o.upper) || !slices.Equal(s.Choices, o.choices) {
		return bad("box differs")
	}
	if s.Seed != o.seed {
		return bad("seed %d, want %d", s.Seed, o.seed)
	}
	if got, want := configJSON(s.Config), configJSON(o.cfg); !bytes.Equal(got, want) {
		return bad("config %s, want %s", got, want)
	}
	for k, p := range s.Points {
		if err := p.Check(o.lower, o.upper); err != nil {
			return bad("point %d: %v", k, err)
		}
	}
	pcg := new(rand.PCG)
	if err := pcg.UnmarshalBinary(s.RNG); err != nil {
		return bad("rng: %v", err)
	}
	o.points = asktell.ClonePoints(s.Points)
	o.pcg, o.rng = pcg, rand.New(pcg)
	return nil
}

// uniform draws a point uniformly from the box.
func (o *Optimizer) uniform() []float64 {
	x := make([]float64, len(o.lower))
	for i := range x {
		lo, hi := o.lower[i], o.upper[i]
		// lo + u(hi−lo) with u < 1 can round up to hi, never beyond.
		x[i] = math.Min(lo+o.rng.Float64()*(hi-lo), hi)
		if o.isChoice(i) {
			x[i] = o.choiceOf(i, x[i]) + 0.5
		}
	}
	return x
}

func (o *Optimizer) isChoice(j int) bool { return o.choices != nil && o.choices[j] > 0 }

// choiceOf is the choice a value of categorical coordinate j stands for.
func (o *Optimizer) choiceOf(j int, v float64) float64 {
	return math.Min(math.Max(math.Floor(v), 0), float64(o.choices[j]-1))
}

// gamma is the number of good points among n.
func (o *Optimizer) gamma(n int) int {
	return min(int(math.Ceil(o.cfg.GammaFraction*float64(n))), o.cfg.GammaMax)
}

// propose returns the candidate that maximises l(x)/g(x) among
// Config.Candidates drawn from l.
func (o *Optimizer) propose() []float64 {
	w := &o.w
	n := len(o.points)
	// Rank every point: told ones by asktell.Compare, pending ones last;
	// ties by number.
	w.order = w.order[:0]
	for k := range n {
		w.order = append(w.order, k)
	}
	slices.SortFunc(w.order, func(a, b int) int {
		pa, pb := o.points[a], o.points[b]
		if pa.Told != pb.Told {
			if pa.Told {
				return -1
			}
			return 1
		}
		if pa.Told {
			if c := asktell.Compare(pa.Result(), pb.Result()); c != 0 {
				return c
			}
		}
		return cmp.Compare(a, b)
	})
	nBelow := o.gamma(n)
	w.below = append(w.below[:0], w.order[:nBelow]...)
	w.above = append(w.above[:0], w.order[nBelow:]...)
	// Weights ramp by age: each group in point order.
	slices.Sort(w.below)
	slices.Sort(w.above)
	o.fit(&w.l, w.below)
	o.fit(&w.g, w.above)

	d := len(o.lower)
	best, bestScore := make([]float64, d), math.NaN()
	w.x = slices.Grow(w.x[:0], d)[:d]
	for c := range o.cfg.Candidates {
		w.l.sample(o.rng, w.x)
		score := w.l.logPDF(w.x) - w.g.logPDF(w.x)
		// Equal scores keep the earlier candidate; a NaN score (both
		// densities underflowing) loses to any other.
		if c == 0 || score > bestScore || (math.IsNaN(bestScore) && !math.IsNaN(score)) {
			copy(best, w.x)
			bestScore = score
		}
	}
	return best
}

// work is the scratch space of an Ask.
type work struct {
	order, below, above []int
	l, g                mixture
	x                   []float64
}

// mixture is a Parzen estimator: kernels i = 0..m−1 with weights, centres
// mu[i·d+j] and inverse bandwidths isig[i·d+j] in coordinate j, each
// truncated to the box; logc[i] is log w_i − Σ_j log(σ_ij √(2π) Z_ij), with
// Z_ij the kernel's mass inside [Lower_j, Upper_j]. cum holds the
// cumulative weights for sampling a kernel; sig the bandwidths of the
// points' kernels and then the prior's.
type mixture struct {
	lower, upper []float64
	mu, sig      []float64
	isig         []float64
	logc         []float64
	cum          []float64
	scratch      []float64
	uniform      bool // no kernel at all: the uniform density on the box
	// choices is the Optimizer's (nil: every coordinate continuous);
	// catOff[j] is where coordinate j's choices start in each kernel's row
	// of catLogP, the log probabilities of the choices, nCat choices per
	// kernel in all.
	choices []int
	catOff  []int
	nCat    int
	catLogP []float64
}

// fit sets m to the estimator of the points ks (in point order), with the
// prior kernel unless Config.PriorWeight is negative.
func (o *Optimizer) fit(m *mixture, ks []int) {
	d := len(o.lower)
	m.lower, m.upper, m.choices = o.lower, o.upper, o.choices
	m.mu, m.isig, m.logc, m.cum, m.catLogP = m.mu[:0], m.isig[:0], m.logc[:0], m.cum[:0], m.catLogP[:0]
	m.catOff, m.nCat = m.catOff[:0], 0
	for j := range o.choices {
		m.catOff = append(m.catOff, m.nCat)
		m.nCat += o.choices[j]
	}
	prior := o.cfg.PriorWeight > 0
	nk := len(ks)
	if prior {
		nk++
	}
	m.uniform = nk == 0
	if m.uniform {
		return
	}
	// Weights: 1 each, or a ramp from 1/n for all but the newest
	// flatWeights points; the prior's; then normalised.
	weights := m.cum // reused: filled with the weights, then accumulated
	nObs := len(ks)
	for i := range nObs {
		wt := 1.0
		if !o.cfg.FlatWeights && nObs > flatWeights && i < nObs-flatWeights {
			// linspace(1/n, 1, n−25) over the oldest n−25.
			r := nObs - flatWeights
			if r == 1 {
				wt = 1 / float64(nObs)
			} else {
				wt = 1/float64(nObs) + (1-1/float64(nObs))*float64(i)/float64(r-1)
			}
		}
		weights = append(weights, wt)
	}
	if prior {
		weights = append(weights, o.cfg.PriorWeight)
	}
	var total float64
	for _, wt := range weights {
		total += wt
	}
	// Bandwidths: Scott's rule for the group's points, the width for the
	// prior, all clipped to [width/min(100, kernels+1), width] (the magic
	// clip).
	scale := bandwidthScale * math.Pow(float64(max(nObs, 1)), -1/float64(d+4))
	clip := minSigmaFraction
	if !o.cfg.NoMagicClip {
		clip = 1 / math.Min(clipKernels, float64(nk+1))
	}
	const logSqrt2Pi = 0.9189385332046727 // log √(2π)
	m.sig = slices.Grow(m.sig[:0], 2*d)[:2*d]
	obsSig, priorSig := m.sig[:d], m.sig[d:]
	var obsLogSig, priorLogSig float64
	for j := range d {
		width := o.upper[j] - o.lower[j]
		obsSig[j] = math.Min(math.Max(scale*width, clip*width), width)
		priorSig[j] = width
		if o.isChoice(j) {
			continue // its density is the categorical one below
		}
		obsLogSig += math.Log(obsSig[j]) + logSqrt2Pi
		priorLogSig += math.Log(priorSig[j]) + logSqrt2Pi
	}
	for i := range nk {
		sig, logc := obsSig, math.Log(weights[i]/total)-obsLogSig
		if i == nObs {
			sig, logc = priorSig, math.Log(weights[i]/total)-priorLogSig
		}
		// The masses are at least Φ(1) − ½ each (see normMass), so their
		// product does not underflow in any dimension a goal search has,
		// and one log serves the kernel.
		mass := 1.0
		for j := range d {
			lo, hi := o.lower[j], o.upper[j]
			mu := lo + (hi-lo)/2
			if i < nObs {
				mu = o.points[ks[i]].X[j]
			}
			if o.isChoice(j) {
				// A zero inverse bandwidth takes the coordinate out of
				// the Gaussian part; its row of choice probabilities
				// is Optuna's: prior weight / kernels on every choice,
				// 1 more on the observed one (the prior kernel's row
				// is uniform).
				nc := o.choices[j]
				row := make([]float64, nc)
				for c := range row {
					row[c] = o.cfg.PriorWeight / float64(nk)
					if !prior {
						row[c] = 0
					}
				}
				if i < nObs {
					row[int(o.choiceOf(j, mu))]++
				} else {
					for c := range row {
						row[c] = 1
					}
				}
				var sum float64
				for _, r := range row {
					sum += r
				}
				for _, r := range row {
					m.catLogP = append(m.catLogP, math.Log(r/sum))
				}
				m.mu = append(m.mu, mu)
				m.isig = append(m.isig, 0)
				continue
			}
			m.mu = append(m.mu, mu)
			m.isig = append(m.isig, 1/sig[j])
			mass *= normMass((lo-mu)/sig[j], (hi-mu)/sig[j])
		}
		m.logc = append(m.logc, logc-math.Log(mass))
	}
	// Cumulative weights for choosing a kernel.
	var c float64
	for i := range weights {
		c += weights[i] / total
		weights[i] = c
	}
	weights[len(weights)-1] = 1
	m.cum = weights
}

// sample draws x from the mixture: a kernel by weight, then every
// coordinate from the kernel's truncated normal, by inverting its CDF.
func (m *mixture) sample(rng *rand.Rand, x []float64) {
	d := len(x)
	if m.uniform {
		for j := range x {
			lo, hi := m.lower[j], m.upper[j]
			x[j] = math.Min(lo+rng.Float64()*(hi-lo), hi)
			if m.choices != nil && m.choices[j] > 0 {
				x[j] = math.Min(math.Floor(x[j]), float64(m.choices[j]-1)) + 0.5
			}
		}
		return
	}
	u := rng.Float64()
	i, _ := slices.BinarySearch(m.cum, u)
	i = min(i, len(m.logc)-1)
	for j := range x {
		if m.choices != nil && m.choices[j] > 0 {
			row := m.catLogP[i*m.nCat+m.catOff[j] : i*m.nCat+m.catOff[j]+m.choices[j]]
			u, c := rng.Float64(), 0
			for acc := 0.0; c < len(row)-1; c++ {
				if acc += math.Exp(row[c]); u < acc {
					break
				}
			}
			x[j] = float64(c) + 0.5
			continue
		}
		mu, sig := m.mu[i*d+j], 1/m.isig[i*d+j]
		lo, hi := m.lower[j], m.upper[j]
		pa, pb := normCDF((lo-mu)/sig), normCDF((hi-mu)/sig)
		p := pa + rng.Float64()*(pb-pa)
		v := mu + sig*normQuantile(p)
		if !(v >= lo) { // also NaN, for p rounding to 0
			v = lo
		}
		x[j] = math.Min(v, hi)
	}
}

// logPDF returns the log density of the mixture at x (log-sum-exp over the
// kernels).
func (m *mixture) logPDF(x []float64) float64 {
	d := len(x)
	if m.uniform {
		var s float64
		for j := range x {
			s -= math.Log(m.upper[j] - m.lower[j])
		}
		return s
	}
	nk := len(m.logc)
	m.scratch = slices.Grow(m.scratch[:0], nk)[:nk]
	lp := m.scratch
	maxLP := math.Inf(-1)
	for i := range nk {
		s := 0.0
		mu, is := m.mu[i*d:(i+1)*d], m.isig[i*d:(i+1)*d]
		for j, v := range x {
			z := (v - mu[j]) * is[j]
			s += z * z
		}
		l := m.logc[i] - 0.5*s
		for j, n := range m.choices {
			if n > 0 {
				c := int(math.Min(math.Max(math.Floor(x[j]), 0), float64(n-1)))
				l += m.catLogP[i*m.nCat+m.catOff[j]+c]
			}
		}
		lp[i] = l
		maxLP = math.Max(maxLP, l)
	}
	if math.IsInf(maxLP, -1) {
		return maxLP
	}
	var sum float64
	for _, l := range lp {
		sum += math.Exp(l - maxLP)
	}
	return maxLP + math.Log(sum)
}

// normCDF is Φ(z), the standard normal distribution function.
func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// normQuantile is Φ⁻¹(p).
func normQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }

// normMass is Φ(b) − Φ(a) for a < b, computed in the tail where it is
// most precise. Kernel centres lie in the box, so a ≤ 0 ≤ b here and the
// mass is at least Φ(1) − ½ (σ is at most the width).
func normMass(a, b float64) float64 {
	if a > 0 {
		// Both in the upper tail: Φ(b) − Φ(a) = Q(a) − Q(b).
		return 0.5 * (math.Erfc(a/math.Sqrt2) - math.Erfc(b/math.Sqrt2))
	}
	return normCDF(b) - normCDF(a)
}

func configJSON(c Config) []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic("tpe: encoding a config: " + err.Error())
	}
	return b
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
