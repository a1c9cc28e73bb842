package cmaes

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Optimizer is a CMA-ES sampler with an ask/tell interface.
//
// An Optimizer is not safe for concurrent use: the caller's driver calls Ask,
// Tell, Fail and State from one goroutine at a time (for example while
// holding a lock), and evaluates the points on as many workers as it likes.
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
	}
	o.startRun(RegimeLarge, r.Population, o.sigmaDef, append([]float64(nil), r.Mean...), 0)
	o.sample()
	return o, nil
}

// Ask returns the next point of the current generation. The returned X is
// the caller's. Ask returns ErrGenerationFull if every point of the
// generation has been asked (Tell the outstanding ones first) and ErrDone if
// the search has finished. Nothing is durable until the caller saves State.
func (o *Optimizer) Ask() (Candidate, error) {
	if o.s.Done {
		return Candidate{}, ErrDone
	}
	if o.s.Asked >= len(o.s.Points) {
		return Candidate{}, ErrGenerationFull
	}
	i := o.s.Asked
	o.s.Asked++
	return Candidate{
		ID: ID{Generation: o.s.Generation, Index: i},
		X:  slices.Clone(o.s.Points[i].X),
	}, nil
}

// CanAsk reports whether Ask would return a point now.
func (o *Optimizer) CanAsk() bool {
	return !o.s.Done && o.s.Asked < len(o.s.Points)
}

// Pending returns the points that have been asked but not told, in index
// order; after a Restore it tells a driver which evaluations to (re)run. The
// returned slice is the caller's.
func (o *Optimizer) Pending() []Candidate {
	var c []Candidate
	for i, p := range o.s.Points[:o.s.Asked] {
		if !p.Told {
			c = append(c, Candidate{
				ID: ID{Generation: o.s.Generation, Index: i},
				X:  slices.Clone(p.X),
			})
		}
	}
	return c
}

// Done reports whether the search has finished: the last run met a
// termination criterion and no restart is left (see State.StopReason).
func (o *Optimizer) Done() bool { return o.s.Done }

// Best returns the best point told so far and whether there is one. The
// returned X is the caller's.
func (o *Optimizer) Best() (Best, bool) {
	if o.s.Best == nil {
		return Best{}, false
	}
	b := *o.s.Best
	b.X = slices.Clone(b.X)
	return b, true
}

// Tell records value, to be minimised, for the asked point id. Values may be
// told in any order; once every point of the generation has been told, the
// distribution is updated and the next generation sampled (or, if a
// termination criterion is met, the next run started), and the update does
// not depend on the order of the tells.
//
// A NaN or infinite value is recorded as a failure, as by Fail: an objective
// that is really unbounded below does not arise here, and -Inf almost always
// signals a broken evaluation.
//
// Tell returns ErrUnknownCandidate if id is not an asked point of the
// current generation and ErrAlreadyTold if it was told before; the state is
// then unchanged.
func (o *Optimizer) Tell(id ID, value float64) error {
	if id.Generation != o.s.Generation || id.Index < 0 || id.Index >= o.s.Asked {
		return ErrUnknownCandidate
	}
	p := &o.s.Points[id.Index]
	if p.Told {
		return ErrAlreadyTold
	}
	p.Told = true
	if finite(value) {
		p.Value = value
	} else {
		p.Failed = true
	}
	for _, q := range o.s.Points {
		if !q.Told {
			return nil
		}
	}
	o.endGeneration()
	return nil
}

// Fail records that evaluating the asked point id failed. A failed point
// ranks below every told value (ties among failures by index), so it takes
// the most negative recombination weights: a failure caused by the point
// itself, such as a diverging training run, is evidence against its region.
// If fewer than μ = ⌊λ/2⌋ points of a generation succeed, the generation
// carries too little information to rank the parents, and the distribution
// is left unchanged; the next generation is sampled afresh. Fail returns the
// same errors as Tell.
func (o *Optimizer) Fail(id ID) error { return o.Tell(id, math.NaN()) }

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

	// Rank: finite values ascending, failures last, ties by index, so the
	// order of the tells cannot matter.
	order := make([]int, lambda)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		pa, pb := s.Points[a], s.Points[b]
		if pa.Failed != pb.Failed {
			if pa.Failed {
				return 1
			}
			return -1
		}
		// Failed points all hold Value 0, so they fall through to the index.
		return cmp.Or(cmp.Compare(pa.Value, pb.Value), cmp.Compare(a, b))
	})
	var values []float64 // finite values, ascending
	for _, i := range order {
		if !s.Points[i].Failed {
			values = append(values, s.Points[i].Value)
		}
	}
	if len(values) > 0 {
		i := order[0]
		if s.Best == nil || values[0] < s.Best.Value {
			s.Best = &Best{
				ID:    ID{Generation: s.Generation, Index: i},
				X:     slices.Clone(s.Points[i].X),
				Value: values[0],
			}
		}
	}

	var reason StopReason
	if len(values) >= o.p.mu {
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
// and returns the termination criterion met, if any.
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
	s.BestHistory = appendHistory(s.BestHistory, values[0])
	s.MedianHistory = appendHistory(s.MedianHistory, median(values))

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
