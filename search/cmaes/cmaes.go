package cmaes

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"

	"goalsearch/search/asktell"
)

// Optimizer is a CMA-ES sampler; it implements asktell.Sampler.
//
// An Optimizer is not safe for concurrent use: the caller's driver calls Ask,
// Tell, Pending, State and Restore from one goroutine at a time (for example
// while holding a lock), and evaluates the points on as many workers as it
// likes.
type Optimizer struct {
	// Settings.
	cfg       Config  // resolved: defaults filled in
	sigmaDef  float64 // σ₀ of the first run and of large-regime restarts
	scale     []float64
	maxScale0 float64 // max(D₀), for TolXUp

	// Everything that changes, in the form it is saved in.
	s State

	// Derived from s: strategy parameters for s.Population and the random
	// source whose state s.RNG records.
	p   params
	pcg *rand.PCG
	rng *rand.Rand
}

// New returns an Optimizer for cfg, with the first generation sampled. It
// returns an error wrapping ErrConfig if cfg is invalid.
func New(cfg Config) (*Optimizer, error) {
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	n := r.Dim
	// r̄ is the geometric mean of the widths, so that C₀ has determinant 1
	// and σ is the typical standard deviation.
	logSum := 0.0
	for i := range n {
		logSum += math.Log(r.Upper[i] - r.Lower[i])
	}
	rbar := math.Exp(logSum / float64(n))
	o := &Optimizer{
		cfg:      r,
		sigmaDef: r.Sigma0 * rbar,
		scale:    make([]float64, n),
	}
	for i := range n {
		o.scale[i] = (r.Upper[i] - r.Lower[i]) / rbar
		o.maxScale0 = math.Max(o.maxScale0, o.scale[i])
	}
	// The second PCG seed is fixed: one uint64 of seed is plenty for
	// distinct searches and keeps Config small.
	o.pcg = rand.NewPCG(r.Seed, 0x9e3779b97f4a7c15)
	o.rng = rand.New(o.pcg)
	o.s = State{
		Version: StateVersion,
		Dim:     n,
		Lower:   append([]float64(nil), r.Lower...),
		Upper:   append([]float64(nil), r.Upper...),
		Seed:    r.Seed,
		Config:  r,
	}
	// State.Config holds the settings that encode as JSON; the box and the
	// seed are State's own fields.
	o.s.Config.Dim, o.s.Config.Lower, o.s.Config.Upper, o.s.Config.Seed = 0, nil, nil, 0
	o.s.Config.Mean = slices.Clone(r.Mean)
	o.startRun(RegimeLarge, r.Population, o.sigmaDef, append([]float64(nil), r.Mean...), 0)
	o.sample()
	return o, nil
}

// Ask returns the points of the current generation that have not been
// asked yet, whatever n is (≥ 1): CMA-ES updates its distribution only
// from whole generations. Point numbers continue over generations and
// restarts: the first point of the current generation is number
// State.Evaluations. The points are the caller's. Ask returns an error
// wrapping ErrPending if every point of the generation has been asked and
// some are not told yet, ErrDone if the search has finished, and
// ErrProtocol if n < 1. Nothing is durable until the caller saves State.
func (o *Optimizer) Ask(n int) ([][]float64, error) {
	switch {
	case n < 1:
		return nil, fmt.Errorf("%w: Ask(%d)", ErrProtocol, n)
	case o.s.Done:
		return nil, ErrDone
	case o.s.Asked >= len(o.s.Points):
		return nil, ErrPending
	}
	xs := make([][]float64, 0, len(o.s.Points)-o.s.Asked)
	for _, p := range o.s.Points[o.s.Asked:] {
		xs = append(xs, slices.Clone(p.X))
	}
	o.s.Asked = len(o.s.Points)
	return xs, nil
}

// Pending returns the numbers of the asked points of the current generation
// that have not been told, in ascending order.
func (o *Optimizer) Pending() []int {
	var ks []int
	for i, p := range o.s.Points[:o.s.Asked] {
		if !p.Told {
			ks = append(ks, o.s.Evaluations+i)
		}
	}
	return ks
}

// Done reports whether the search has finished: the last run met a
// termination criterion and no restart is left (see State.StopReason).
func (o *Optimizer) Done() bool { return o.s.Done }

// Config returns the Optimizer's configuration with every default filled
// in. Its slices are the caller's.
func (o *Optimizer) Config() Config {
	c := o.cfg
	c.Lower, c.Upper, c.Mean = slices.Clone(c.Lower), slices.Clone(c.Upper), slices.Clone(c.Mean)
	return c
}

// Best returns the best complete point told so far and whether there is
// one. The returned X is the caller's.
func (o *Optimizer) Best() (Best, bool) {
	if o.s.Best == nil {
		return Best{}, false
	}
	b := *o.s.Best
	b.X = slices.Clone(b.X)
	return b, true
}

// Tell records the result of pending point k. Results may be told in any
// order; once every point of the generation has been told, the
// distribution is updated and the next generation sampled (or, if a
// termination criterion is met, the next run started), and the update does
// not depend on the order of the tells.
//
// The generation is ranked by asktell.Compare: complete points by value,
// then pruned ones (by the step they reached, then value), then failures,
// ties by point number. A failure (a NaN or infinite value: an objective
// that is really unbounded below does not arise here, and -Inf almost
// always signals a broken evaluation) thus takes the most negative
// recombination weights, as evidence against its region; pruned points
// take the weights of their rank, so a successive-halving pruner that stops
// most trials early still moves the distribution. If fewer than μ = ⌊λ/2⌋
// points of a generation are complete or pruned, the generation carries
// too little information to rank the parents and the distribution is left
// unchanged; the next generation is sampled afresh.
//
// Tell returns an error wrapping ErrProtocol, and changes nothing, if k is
// not pending.
func (o *Optimizer) Tell(k int, r asktell.Result) error {
	i := k - o.s.Evaluations
	if i < 0 || i >= o.s.Asked || o.s.Points[i].Told {
		return fmt.Errorf("%w: point %d is not pending", ErrProtocol, k)
	}
	p := &o.s.Points[i]
	p.Told = true
	switch {
	case r.Failed():
		p.Failed = true
	case r.Pruned:
		p.Value, p.Pruned, p.Step = r.Value, true, r.Step
	default:
		p.Value = r.Value
	}
	for _, q := range o.s.Points {
		if !q.Told {
			return nil
		}
	}
	o.endGeneration()
	return nil
}

// startRun resets the distribution for a new run.
func (o *Optimizer) startRun(regime Regime, lambda int, sigma0 float64, mean []float64, maxEvals int) {
	n := o.cfg.Dim
	s := &o.s
	s.Regime = regime
	s.Population = lambda
	s.RunSigma0 = sigma0
	s.RunMaxEvaluations = maxEvals
	s.RunGeneration = 0
	s.RunEvaluations = 0
	s.Mean = mean
	s.Sigma = sigma0
	s.C = make([][]float64, n)
	s.B = make([][]float64, n)
	for i := range n {
		s.C[i] = make([]float64, n)
		s.C[i][i] = o.scale[i] * o.scale[i]
		s.B[i] = make([]float64, n)
		s.B[i][i] = 1
	}
	s.D = slices.Clone(o.scale)
	s.EigenEvaluations = 0
	s.PSigma = make([]float64, n)
	s.PC = make([]float64, n)
	s.BestHistory = nil
	s.MedianHistory = nil
	o.p = newParams(n, lambda)
}

// sample draws the points of a new generation.
func (o *Optimizer) sample() {
	n := o.cfg.Dim
	s := &o.s
	s.Points = make([]Point, s.Population)
	s.Asked = 0
	z := make([]float64, n)
	for k := range s.Points {
		x := make([]float64, n)
		for try := 1; ; try++ {
			for j := range z {
				z[j] = o.rng.NormFloat64() * s.D[j]
			}
			inside := true
			for i := range x {
				var y float64
				for j, zj := range z {
					y += s.B[i][j] * zj
				}
				x[i] = s.Mean[i] + s.Sigma*y
				if !(s.Lower[i] <= x[i] && x[i] <= s.Upper[i]) {
					inside = false
				}
			}
			if inside || try >= o.cfg.MaxSamples {
				break
			}
		}
		for i := range x {
			x[i] = math.Min(math.Max(x[i], s.Lower[i]), s.Upper[i])
		}
		s.Points[k] = Point{X: x}
	}
}

// endGeneration runs once every point of the generation has been told.
func (o *Optimizer) endGeneration() {
	s := &o.s
	lambda := len(s.Points)
	s.Evaluations += lambda
	s.RunEvaluations += lambda
	if s.Regime == RegimeSmall {
		s.BudgetSmall += lambda
	} else {
		s.BudgetLarge += lambda
	}

	// Rank by asktell.Compare, ties by index, so the order of the tells
	// cannot matter.
	order := make([]int, lambda)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(asktell.Compare(s.Points[a].result(), s.Points[b].result()), cmp.Compare(a, b))
	})
	ranked := 0          // complete and pruned points
	var values []float64 // values of the complete points, ascending
	for _, i := range order {
		if p := s.Points[i]; !p.Failed {
			ranked++
			if !p.Pruned {
				values = append(values, p.Value)
			}
		}
	}
	if len(values) > 0 {
		i := order[0]
		if s.Best == nil || values[0] < s.Best.Value {
			s.Best = &Best{K: s.Evaluations - lambda + i, X: slices.Clone(s.Points[i].X), Value: values[0]}
		}
	}

	var reason StopReason
	if ranked >= o.p.mu {
		reason = o.update(order, values)
	}
	if reason == "" && s.RunMaxEvaluations > 0 && s.RunEvaluations >= s.RunMaxEvaluations {
		reason = StopBudget
	}
	s.Generation++
	if reason != "" {
		o.restart(reason)
	}
	if s.Done {
		s.Points = nil
		s.Asked = 0
		return
	}
	o.sample()
}

// update applies the tutorial's Table 1 update for the ranked generation
// and returns the termination criterion met, if any. values are the
// generation's complete values, ascending (possibly none, when every
// ranked point was pruned): the value-based criteria and histories use only
// them, because a pruned point's value belongs to another fidelity.
func (o *Optimizer) update(order []int, values []float64) StopReason {
	n := o.cfg.Dim
	s := &o.s
	p := &o.p

	// Steps of the points actually evaluated (see the package doc, Bounds).
	ys := make([][]float64, len(order))
	for r, i := range order {
		y := make([]float64, n)
		for j := range y {
			y[j] = (s.Points[i].X[j] - s.Mean[j]) / s.Sigma
		}
		ys[r] = y
	}

	yw := make([]float64, n)
	for r := range p.mu {
		for j := range yw {
			yw[j] += p.weights[r] * ys[r][j]
		}
	}
	mean := make([]float64, n)
	for j := range mean {
		mean[j] = s.Mean[j] + s.Sigma*yw[j] // c_m = 1
	}

	ps := make([]float64, n)
	cinv := o.invSqrtC(yw)
	a := math.Sqrt(p.cs * (2 - p.cs) * p.mueff)
	for j := range ps {
		ps[j] = (1-p.cs)*s.PSigma[j] + a*cinv[j]
	}
	psNorm := norm(ps)
	g := float64(s.RunGeneration)
	hsig := 0.0
	if psNorm/math.Sqrt(1-math.Pow(1-p.cs, 2*(g+1))) < (1.4+2/float64(n+1))*p.chiN {
		hsig = 1
	}
	pc := make([]float64, n)
	a = hsig * math.Sqrt(p.cc*(2-p.cc)*p.mueff)
	for j := range pc {
		pc[j] = (1-p.cc)*s.PC[j] + a*yw[j]
	}

	// w°_i: negative weights are rescaled by n/‖C^{-1/2}y‖² so that the
	// active update cannot be dominated by long steps.
	wo := make([]float64, len(order))
	for r := range order {
		w := p.weights[r]
		if w < 0 {
			if q := sq(o.invSqrtC(ys[r])); q > 0 {
				w *= float64(n) / q
			} else {
				w = 0
			}
		}
		wo[r] = w
	}
	delta := (1 - hsig) * p.cc * (2 - p.cc)
	decay := 1 + p.c1*delta - p.c1 - p.cmu*p.sumW
	c := make([][]float64, n)
	for i := range c {
		c[i] = make([]float64, n)
	}
	for i := range n {
		for j := i; j < n; j++ {
			var rankMu float64
			for r, y := range ys {
				if wo[r] != 0 {
					rankMu += wo[r] * y[i] * y[j]
				}
			}
			v := decay*s.C[i][j] + p.c1*pc[i]*pc[j] + p.cmu*rankMu
			c[i][j], c[j][i] = v, v
		}
	}
	sigma := s.Sigma * math.Exp(p.cs/p.damps*(psNorm/p.chiN-1))

	// Commit only finite results, so that State always encodes as JSON.
	if !(sigma > 0) || math.IsInf(sigma, 0) || !allFinite(mean) || !allFinite(ps) || !allFinite(pc) {
		return StopNumerical
	}
	for _, row := range c {
		if !allFinite(row) {
			return StopNumerical
		}
	}
	s.Mean, s.PSigma, s.PC, s.C, s.Sigma = mean, ps, pc, c, sigma
	s.RunGeneration++
	if len(values) > 0 {
		s.BestHistory = appendHistory(s.BestHistory, values[0])
		s.MedianHistory = appendHistory(s.MedianHistory, median(values))
	}

	if float64(s.RunEvaluations-s.EigenEvaluations) > p.eigenGap {
		if !o.decompose() {
			return StopNumerical
		}
	}
	return o.checkStop(values)
}

// decompose sets B and D from C. It reports false, leaving them unchanged,
// if C is not numerically positive definite.
func (o *Optimizer) decompose() bool {
	n := o.cfg.Dim
	s := &o.s
	flat := make([]float64, n*n)
	for i, row := range s.C {
		copy(flat[i*n:], row)
	}
	var es mat.EigenSym
	if !es.Factorize(mat.NewSymDense(n, flat), true) {
		return false
	}
	vals := es.Values(nil)
	d := make([]float64, n)
	for i, v := range vals {
		if !(v > 0) || math.IsInf(v, 0) {
			return false
		}
		d[i] = math.Sqrt(v)
	}
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	b := make([][]float64, n)
	for i := range b {
		b[i] = make([]float64, n)
		for j := range b[i] {
			b[i][j] = vecs.At(i, j)
		}
	}
	s.B, s.D = b, d
	s.EigenEvaluations = s.RunEvaluations
	return true
}

// invSqrtC returns C^{-1/2} v = B D⁻¹ Bᵀ v using the last decomposition.
func (o *Optimizer) invSqrtC(v []float64) []float64 {
	s := &o.s
	n := len(v)
	t := make([]float64, n)
	for k := range n {
		var sum float64
		for i := range n {
			sum += s.B[i][k] * v[i]
		}
		t[k] = sum / s.D[k]
	}
	out := make([]float64, n)
	for i := range n {
		var sum float64
		for k := range n {
			sum += s.B[i][k] * t[k]
		}
		out[i] = sum
	}
	return out
}

func appendHistory(h []float64, v float64) []float64 {
	if len(h) >= maxHistory {
		h = slices.Delete(h, 0, len(h)-maxHistory+1)
	}
	return append(h, v)
}

// median of ascending values.
func median(v []float64) float64 {
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}

func sq(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return s
}

func norm(v []float64) float64 { return math.Sqrt(sq(v)) }

func allFinite(v []float64) bool {
	for _, x := range v {
		if !finite(x) {
			return false
		}
	}
	return true
}
