package trainer

import "fmt"

// An Activation maps the n pre-activations of a neuron to its firing
// probability theta = P(Y = +1).
//
// Implementations are small value types and safe for concurrent use.
type Activation interface {
	// Sources is the number of source classes n the activation takes.
	Sources() int
	// Apply sets theta[j] from s[0][j], ..., s[n-1][j] for every j <
	// len(theta) and, if grad is non-nil, grad[k][j] = dtheta[j]/ds[k][j].
	// s and grad have n slices, each at least len(theta) long.
	Apply(theta []float64, grad [][]float64, s [][]float64)
}

// Graetz is the bivariate activation of the reference implementation
// (GraetzActivation):
//
//	theta = clamp( sigmoid( r * (K1 + (1 - K1) * 2 * sigmoid(K2 * r * c)) ), 1e-6, 1 - 1e-6 )
//
// with r = s_1 (feedforward) and c = s_2 (context). The context only
// modulates: with r = 0, theta = 1/2 whatever c is; with K1 = 1 it has no
// effect at all. The clamp behaves as torch.clamp under autograd: where it is
// active (the unclamped theta is outside [1e-6, 1 - 1e-6]) the gradient is 0.
//
// The zero value is not useful; see HiddenGraetz and OutputGraetz.
type Graetz struct {
	K1 float64 // weight of the feedforward drive alone; 1 - K1 is modulated by the context
	K2 float64 // gain of the context modulation
}

// The paper's Graetz activations: K1 = 0.9 in hidden layers, K1 = 1 (theta =
// sigmoid(r)) in the output layer; K2 = 2 as in the reference's default.
var (
	HiddenGraetz = Graetz{K1: 0.9, K2: 2}
	OutputGraetz = Graetz{K1: 1, K2: 2}
)

// graetzLo and graetzHi are the reference's clamp bounds. They are variables so
// that 1 - 1e-6 is rounded as Python rounds it (a float64 subtraction at run
// time), not evaluated exactly as a Go constant expression.
var (
	graetzLo = 1e-6
	graetzHi = 1 - graetzLo
)

// Sources returns 2.
func (Graetz) Sources() int { return 2 }

// Theta returns theta and its partial derivatives with respect to r and c.
// Where the clamp is active both derivatives are 0; a NaN source gives NaN
// everywhere.
//
// Operations are in the reference's order, (K2*r)*c and ((1-K1)*2)*g; each
// product that an addition consumes is rounded on its own (float64()), as
// the vector kernel (activation_amd64.s) does it, so that both give the same
// bits on every platform.
func (a Graetz) Theta(r, c float64) (theta, dr, dc float64) {
	g := sigmoid(float64(a.K2*r) * c)
	h := (1 - a.K1) * 2
	m := a.K1 + float64(h*g)
	t := sigmoid(r * m)
	if t < graetzLo {
		return graetzLo, 0, 0
	}
	if t > graetzHi {
		return graetzHi, 0, 0
	}
	dt := t * (1 - t)
	dg := float64(g*(1-g)) * a.K2 // dg/d(r*c)
	// u = r*m(r*c): du/dr = m + r*h*dg*c, du/dc = r*h*dg*r.
	q := float64(r*h) * dg
	dr = dt * (m + float64(q*c))
	dc = dt * float64(q*r)
	return t, dr, dc
}

// params are the kernel parameters of a (see activation_amd64_gen.go).
func (a Graetz) params() [5]float64 {
	return [5]float64{a.K2, a.K1, (1 - a.K1) * 2, graetzLo, graetzHi}
}

// Apply implements Activation.
func (a Graetz) Apply(theta []float64, grad [][]float64, s [][]float64) {
	checkApply(a.Sources(), theta, grad, s)
	n := len(theta)
	r, c := s[0][:n], s[1][:n]
	done := 0
	if useAVX2 && n >= 4 {
		var k actConsts
		k.set(a.params())
		done = n &^ 3
		if grad == nil {
			graetzThetaAVX2(&theta[0], &r[0], &c[0], done, &k)
		} else {
			graetzAVX2(&theta[0], &grad[0][0], &grad[1][0], &r[0], &c[0], done, &k)
		}
	}
	if grad == nil {
		for j := done; j < n; j++ {
			theta[j], _, _ = a.Theta(r[j], c[j])
		}
		return
	}
	gr, gc := grad[0][:n], grad[1][:n]
	for j := done; j < n; j++ {
		theta[j], gr[j], gc[j] = a.Theta(r[j], c[j])
	}
}

// Schneider is the trivariate activation of the reference implementation
// (Schneider3SourceActivation):
//
//	theta = sigmoid( r * ((1 - C1 - C2) + C1 * sigmoid(W1 * r * c) + C2 * sigmoid(W2 * r * l)) )
//
// with r = s_1 (feedforward), c = s_2 (context) and l = s_3 (lateral). There
// is no clamp: theta may reach exactly 0 or 1 in floating point.
//
// The zero value is not useful; see HiddenSchneider.
type Schneider struct {
	C1, C2 float64 // shares of the drive modulated by the context and by the lateral input
	W1, W2 float64 // gains of the two modulations
}

// HiddenSchneider is the paper's trivariate hidden-layer activation.
var HiddenSchneider = Schneider{C1: 0.1, C2: 0.1, W1: 2, W2: 2}

// Sources returns 3.
func (Schneider) Sources() int { return 3 }

// Theta returns theta and its partial derivatives with respect to r, c and
// l. As Graetz.Theta, it rounds every product on its own, in the
// reference's order, as the vector kernel does.
func (a Schneider) Theta(r, c, l float64) (theta, dr, dc, dl float64) {
	g1 := sigmoid(float64(a.W1*r) * c)
	g2 := sigmoid(float64(a.W2*r) * l)
	m := float64(a.c0()+float64(a.C1*g1)) + float64(a.C2*g2)
	t := sigmoid(r * m)
	dt := t * (1 - t)
	d1 := float64(float64(a.C1*g1)*(1-g1)) * a.W1 // d(C1*g1)/d(r*c)
	d2 := float64(float64(a.C2*g2)*(1-g2)) * a.W2 // d(C2*g2)/d(r*l)
	// u = r*m: du/dr = m + r*(d1*c + d2*l), du/dc = r*d1*r, du/dl = r*d2*r.
	dr = dt * (m + float64(r*float64(float64(d1*c)+float64(d2*l))))
	dc = dt * float64(float64(r*d1)*r)
	dl = dt * float64(float64(r*d2)*r)
	return t, dr, dc, dl
}

// c0 is the share of the drive that is not modulated, 1 - C1 - C2.
func (a Schneider) c0() float64 { return 1 - a.C1 - a.C2 }

// theta is Theta without the derivatives.
func (a Schneider) theta(r, c, l float64) float64 {
	g1 := sigmoid(float64(a.W1*r) * c)
	g2 := sigmoid(float64(a.W2*r) * l)
	m := float64(a.c0()+float64(a.C1*g1)) + float64(a.C2*g2)
	return sigmoid(r * m)
}

// params are the kernel parameters of a (see activation_amd64_gen.go).
func (a Schneider) params() [5]float64 { return [5]float64{a.W1, a.W2, a.C1, a.C2, a.c0()} }

// Apply implements Activation. Without grad it computes theta alone.
func (a Schneider) Apply(theta []float64, grad [][]float64, s [][]float64) {
	checkApply(a.Sources(), theta, grad, s)
	n := len(theta)
	r, c, l := s[0][:n], s[1][:n], s[2][:n]
	// Eight samples at a time with AVX-512, then four with AVX2, then
	// one by one: the same bits either way (TestActivationKernels).
	done := 0
	if useAVX2 && n >= 4 {
		var k actConsts
		k.set(a.params())
		if useAVX512 && n >= 8 {
			done = n &^ 7
			if grad == nil {
				schneiderTheta512(&theta[0], &r[0], &c[0], &l[0], done, &k)
			} else {
				schneider512(&theta[0], &grad[0][0], &grad[1][0], &grad[2][0], &r[0], &c[0], &l[0], done, &k)
			}
		}
		if m := (n - done) &^ 3; m > 0 {
			if grad == nil {
				schneiderThetaAVX2(&theta[done], &r[done], &c[done], &l[done], m, &k)
			} else {
				schneiderAVX2(&theta[done], &grad[0][done], &grad[1][done], &grad[2][done], &r[done], &c[done], &l[done], m, &k)
			}
			done += m
		}
	}
	if grad == nil {
		for j := done; j < n; j++ {
			theta[j] = a.theta(r[j], c[j], l[j])
		}
		return
	}
	gr, gc, gl := grad[0][:n], grad[1][:n], grad[2][:n]
	for j := done; j < n; j++ {
		theta[j], gr[j], gc[j], gl[j] = a.Theta(r[j], c[j], l[j])
	}
}

// checkApply panics unless s and grad (if non-nil) hold n slices at least as
// long as theta. It takes n, not the Activation, so that the value receiver
// is not boxed into an interface (an allocation per call).
func checkApply(n int, theta []float64, grad [][]float64, s [][]float64) {
	if len(s) != n || (grad != nil && len(grad) != n) {
		panic(fmt.Sprintf("trainer: activation of %d sources given %d source slices and %d gradient slices", n, len(s), len(grad)))
	}
	for k := 0; k < n; k++ {
		if len(s[k]) < len(theta) || (grad != nil && len(grad[k]) < len(theta)) {
			panic(fmt.Sprintf("trainer: activation source %d shorter than theta (%d)", k, len(theta)))
		}
	}
}
