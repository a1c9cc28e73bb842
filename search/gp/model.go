package gp

import (
	"cmp"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// Priors (Gamma shape k and rate b of λ_j, s² and σ²_n; see the package
// documentation), the hyperparameters' range and the first fit's start.
const (
	lambdaShape, lambdaRate = 2, 0.5
	scaleShape, scaleRate   = 2, 1
	noiseShape, noiseRate   = 1.1, 30
	minNoise                = 1e-6
	// jitter is added to the diagonal so that K stays positive definite
	// in floating point when two points nearly coincide.
	jitter = 1e-9
	// fitIterations bounds the L-BFGS iterations of one fit.
	fitIterations = 60
)

// model is a fitted Gaussian process over the unit cube: the modelled
// points x (the told ones first, nObs of them, then kriging believers),
// their standardised values y, the hyperparameters, and the Cholesky factor
// of K with α = K⁻¹y.
type model struct {
	x     [][]float64
	y     []float64
	nObs  int
	theta []float64 // log λ_1..λ_d, log s², log σ²_n
	lam   []float64
	s2    float64
	noise float64
	fBest float64 // the best (smallest) standardised told value

	l      []float64 // lower Cholesky factor of K, row-major with stride
	stride int
	alpha  []float64
	kx, v  []float64 // scratch of predict
}

// newModel fits the hyperparameters to (xs, ys), starting from theta0
// (the previous fit) when it has the right length, and from the priors'
// modes otherwise.
func newModel(xs [][]float64, ys []float64, theta0 []float64) *model {
	d := len(xs[0])
	mean, sd := meanSD(ys)
	y := make([]float64, len(ys))
	for i, v := range ys {
		y[i] = (v - mean) / sd
	}
	m := &model{x: xs, y: y, nObs: len(xs), fBest: slices.Min(y)}
	start := make([]float64, d+2)
	for j := range d {
		start[j] = math.Log((lambdaShape - 1) / lambdaRate)
	}
	start[d], start[d+1] = math.Log((scaleShape-1)/scaleRate), math.Log((noiseShape-1)/noiseRate)
	starts := [][]float64{start}
	if len(theta0) == d+2 {
		starts = append(starts, theta0)
	}
	best, bestF := start, math.Inf(1)
	for _, s := range starts {
		theta, f := m.maximise(s)
		if f < bestF {
			best, bestF = theta, f
		}
	}
	m.setTheta(best)
	if !m.factor() {
		// The start is positive definite by its noise; a fit that is not
		// falls back to it.
		m.setTheta(start)
		m.factor()
	}
	return m
}

// maximise runs L-BFGS on the negative log posterior from theta0 and
// returns the best hyperparameters it evaluated, and their value.
func (m *model) maximise(theta0 []float64) ([]float64, float64) {
	best, bestF := slices.Clone(theta0), math.Inf(1)
	var lastX []float64
	var lastF float64
	var lastG []float64
	eval := func(theta []float64) (float64, []float64) {
		if lastX != nil && slices.Equal(lastX, theta) {
			return lastF, lastG
		}
		g := make([]float64, len(theta))
		f := m.negLogPosterior(theta, g)
		lastX, lastF, lastG = slices.Clone(theta), f, g
		if f < bestF {
			best, bestF = slices.Clone(theta), f
		}
		return f, g
	}
	p := optimize.Problem{
		Func: func(theta []float64) float64 { f, _ := eval(theta); return f },
		Grad: func(grad, theta []float64) { _, g := eval(theta); copy(grad, g) },
	}
	// A failed line search (a non-finite value where K is singular) ends
	// the run; the best point evaluated stands either way.
	_, _ = optimize.Minimize(p, slices.Clone(theta0), &optimize.Settings{MajorIterations: fitIterations, GradientThreshold: 1e-5}, &optimize.LBFGS{})
	return best, bestF
}

func (m *model) setTheta(theta []float64) {
	d := len(theta) - 2
	m.theta = slices.Clone(theta)
	m.lam = make([]float64, d)
	for j := range d {
		m.lam[j] = math.Exp(theta[j])
	}
	m.s2 = math.Exp(theta[d])
	m.noise = math.Exp(theta[d+1]) + minNoise
}

// matern returns k/s² and d(k/s²)/d(r²) for squared scaled distance r2.
func matern(r2 float64) (k, dk float64) {
	r := math.Sqrt(r2)
	e := math.Exp(-math.Sqrt(5) * r)
	return (1 + math.Sqrt(5)*r + 5*r2/3) * e, -5.0 / 6 * (1 + math.Sqrt(5)*r) * e
}

// dist2 is Σ_j λ_j (a_j − b_j)².
func dist2(a, b, lam []float64) float64 {
	s := 0.0
	for j, l := range lam {
		t := a[j] - b[j]
		s += l * t * t
	}
	return s
}

// negLogPosterior returns −(log marginal likelihood + log priors) of the
// observed points at theta, and its gradient in grad; +Inf if K is not
// positive definite there.
func (m *model) negLogPosterior(theta, grad []float64) float64 {
	n, d := m.nObs, len(theta)-2
	lam := make([]float64, d)
	for j := range lam {
		lam[j] = math.Exp(theta[j])
	}
	s2, noise := math.Exp(theta[d]), math.Exp(theta[d+1])+minNoise
	k := mat.NewSymDense(n, nil)
	for a := range n {
		for b := range a {
			c, _ := matern(dist2(m.x[a], m.x[b], lam))
			k.SetSym(a, b, s2*c)
		}
		k.SetSym(a, a, s2+noise+jitter)
	}
	var ch mat.Cholesky
	if !ch.Factorize(k) {
		clear(grad)
		return math.Inf(1)
	}
	y := mat.NewVecDense(n, m.y[:n])
	var alpha mat.VecDense
	if err := ch.SolveVecTo(&alpha, y); err != nil {
		clear(grad)
		return math.Inf(1)
	}
	var kinv mat.SymDense
	if err := ch.InverseTo(&kinv); err != nil {
		clear(grad)
		return math.Inf(1)
	}
	// log p(y) = −½ yᵀα − ½ log|K| − n/2 log 2π (GPML eq. 2.30).
	lml := -0.5*mat.Dot(y, &alpha) - 0.5*ch.LogDet() - float64(n)/2*math.Log(2*math.Pi)
	// ∂ log p/∂θ = ½ tr(W ∂K/∂θ), W = ααᵀ − K⁻¹ (GPML eq. 5.9); W is
	// symmetric, so each pair a > b counts twice.
	clear(grad)
	for a := range n {
		for b := range a {
			w := alpha.AtVec(a)*alpha.AtVec(b) - kinv.At(a, b)
			c, dc := matern(dist2(m.x[a], m.x[b], lam))
			grad[d] -= w * s2 * c // ½·2·w·∂K/∂log s², negated below
			for j := range d {
				t := m.x[a][j] - m.x[b][j]
				grad[j] -= w * s2 * dc * lam[j] * t * t
			}
		}
		w := alpha.AtVec(a)*alpha.AtVec(a) - kinv.At(a, a)
		grad[d] -= 0.5 * w * s2
		grad[d+1] -= 0.5 * w * (noise - minNoise)
	}
	// Gamma(k, b) log-priors in log space: (k) log v − b v, gradient k − b v.
	lp := 0.0
	prior := func(i int, v, shape, rate float64) {
		lp += shape*math.Log(v) - rate*v
		grad[i] -= shape - rate*v
	}
	for j := range d {
		prior(j, lam[j], lambdaShape, lambdaRate)
	}
	prior(d, s2, scaleShape, scaleRate)
	prior(d+1, noise-minNoise, noiseShape, noiseRate)
	f := -(lml + lp)
	if !finite(f) {
		clear(grad)
		return math.Inf(1)
	}
	return f
}

// factor computes the Cholesky factor of K over every modelled point and α;
// false if K is not positive definite.
func (m *model) factor() bool {
	n := len(m.x)
	k := mat.NewSymDense(n, nil)
	for a := range n {
		for b := range a {
			c, _ := matern(dist2(m.x[a], m.x[b], m.lam))
			k.SetSym(a, b, m.s2*c)
		}
		k.SetSym(a, a, m.s2+m.noise+jitter)
	}
	var ch mat.Cholesky
	if !ch.Factorize(k) {
		return false
	}
	var l mat.TriDense
	ch.LTo(&l)
	raw := l.RawTriangular()
	m.l, m.stride = raw.Data, raw.Stride
	m.alpha = append(m.alpha[:0], m.y...)
	m.forward(m.alpha)
	m.backward(m.alpha)
	return true
}

// forward solves L z = v in place (the triangular solves are written out:
// gonum's would allocate at every one of the thousands of predictions of
// an Ask).
func (m *model) forward(v []float64) {
	for a := range v {
		s := v[a]
		row := m.l[a*m.stride : a*m.stride+a]
		for c, x := range row {
			s -= x * v[c]
		}
		v[a] = s / m.l[a*m.stride+a]
	}
}

// backward solves Lᵀ z = v in place.
func (m *model) backward(v []float64) {
	for a := len(v) - 1; a >= 0; a-- {
		s := v[a]
		for c := a + 1; c < len(v); c++ {
			s -= m.l[c*m.stride+a] * v[c]
		}
		v[a] = s / m.l[a*m.stride+a]
	}
}

// predict returns the posterior mean and standard deviation of the latent
// function at u.
func (m *model) predict(u []float64) (mu, sigma float64) {
	n := len(m.x)
	m.kx = slices.Grow(m.kx[:0], n)[:n]
	for i, x := range m.x {
		c, _ := matern(dist2(u, x, m.lam))
		m.kx[i] = m.s2 * c
	}
	for i, k := range m.kx {
		mu += k * m.alpha[i]
	}
	m.v = append(m.v[:0], m.kx...)
	m.forward(m.v)
	var2 := m.s2
	for _, x := range m.v {
		var2 -= x * x
	}
	return mu, math.Sqrt(math.Max(var2, 1e-12*m.s2))
}

// believe adds u as a point whose value is the model's mean there (a
// kriging believer) and refactors.
func (m *model) believe(u []float64) {
	mu, _ := m.predict(u)
	m.x = append(m.x, u)
	m.y = append(m.y, mu)
	if !m.factor() {
		// Drop the believer rather than lose the model (two believers on
		// the same spot); the next proposal may then repeat it.
		m.x, m.y = m.x[:len(m.x)-1], m.y[:len(m.y)-1]
		m.factor()
	}
}

// logEI is the log expected improvement below the best told value at u.
func (m *model) logEI(u []float64) float64 {
	mu, sigma := m.predict(u)
	return math.Log(sigma) + logH((m.fBest-mu)/sigma)
}

// logH is log(zΦ(z) + φ(z)), the standardised expected improvement. For
// z < −2 the sum cancels; there, with t = −z, it is φ(t)/(1 + t·D(t)),
// D(t) = t + 2/(t + 3/(t + 4/(t + …))), from the continued fraction of
// Mills' ratio Q(t)/φ(t) = 1/(t + 1/(t + 2/(t + …))) (Abramowitz and
// Stegun 26.2.14), which converges fast for t ≥ 2.
func logH(z float64) float64 {
	const logSqrt2Pi = 0.9189385332046727
	if z >= -2 {
		return math.Log(z*0.5*math.Erfc(-z/math.Sqrt2) + math.Exp(-z*z/2-logSqrt2Pi))
	}
	t := -z
	d := t
	for k := 60; k >= 2; k-- {
		d = t + float64(k)/d
	}
	return -t*t/2 - logSqrt2Pi - math.Log1p(t*d)
}

// bestObserved returns the indices of the k best told points, ties by
// index.
func (m *model) bestObserved(k int) []int {
	idx := make([]int, m.nObs)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(m.y[a], m.y[b]) })
	return idx[:min(k, len(idx))]
}

func meanSD(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	sd = math.Sqrt(sd / float64(len(v)))
	if !(sd > 1e-12*math.Max(1, math.Abs(mean))) {
		sd = 1
	}
	return mean, sd
}
