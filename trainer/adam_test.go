package trainer

import (
	"math"
	"testing"
)

// Three steps on f(p) = p²/2 from p = 1 with lr 0.1, weight decay 0.01 and
// the default betas and eps. Expected values evaluated with 40-digit
// decimals from torch.optim.Adam's documented algorithm (g = p + 0.01 p;
// m = 0.9 m + 0.1 g; v = 0.999 v + 0.001 g²; p -= 0.1 m̂ / (sqrt(v̂) + 1e-8)).
// Step 1 by hand: g = 1.01, m̂ = g, v̂ = g², so p1 = 1 - 0.1·1.01/(1.01 + 1e-8)
// = 0.9 + 9.90099e-10.
func TestAdamHandComputed(t *testing.T) {
	want := []float64{
		0.9000000009900990000980297019997059207950,
		0.8004122296921285744594372753548279507467,
		0.7015862744735551120428416571279476682656,
	}
	a, err := NewAdam(AdamConfig{LR: 0.1, WeightDecay: 0.01}, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := []float64{1}
	g := []float64{0}
	for step, w := range want {
		g[0] = p[0] // df/dp
		g0 := g[0]
		a.Step(p, g)
		if g[0] != g0 {
			t.Fatalf("Step modified the gradient")
		}
		// A few ulps: float64 rounding of the same formula.
		if !closeTo(p[0], w, 1e-14, 0) {
			t.Errorf("step %d: p = %.17g, want %.17g", step+1, p[0], w)
		}
	}
}

// With a constant gradient g and no weight decay, m̂ = g and v̂ = g² at every
// step, so each step moves by exactly lr·g/(|g| + eps): p_t = p_0 - t·lr·g/(|g|+eps).
func TestAdamConstantGradient(t *testing.T) {
	a, err := NewAdam(AdamConfig{LR: 0.01}, 3)
	if err != nil {
		t.Fatal(err)
	}
	p := []float64{0.5, -2, 0}
	p0 := append([]float64(nil), p...)
	g := []float64{3, -1e-3, 0}
	for step := 1; step <= 200; step++ {
		a.Step(p, g)
	}
	for j := range p {
		want := p0[j] - 200*0.01*g[j]/(math.Abs(g[j])+1e-8)
		if !closeTo(p[j], want, 1e-12, 1e-14) {
			t.Errorf("p[%d] = %.17g, want %.17g", j, p[j], want)
		}
	}
}

// refAdam is a straightforward reimplementation of torch.optim.Adam's
// documented algorithm (the formula in its docstring, bias corrections applied
// to the moments themselves), against which the optimised arithmetic of Step
// is compared over a longer trajectory.
type refAdam struct {
	lr, b1, b2, eps, wd float64
	t                   int
	m, v                []float64
}

func (r *refAdam) step(p, grad []float64) {
	r.t++
	for j := range p {
		g := grad[j] + r.wd*p[j]
		r.m[j] = r.b1*r.m[j] + (1-r.b1)*g
		r.v[j] = r.b2*r.v[j] + (1-r.b2)*g*g
		mh := r.m[j] / (1 - math.Pow(r.b1, float64(r.t)))
		vh := r.v[j] / (1 - math.Pow(r.b2, float64(r.t)))
		p[j] -= r.lr * mh / (math.Sqrt(vh) + r.eps)
	}
}

// quadGrad is the gradient of f(p) = sum_j a_j (p_j - c_j)² / 2, a tiny
// ill-conditioned problem.
func quadGrad(g, p []float64) {
	a := []float64{1, 10, 0.1, 100}
	c := []float64{1, -1, 3, 0.5}
	for j := range p {
		g[j] = a[j] * (p[j] - c[j])
	}
}

func TestAdamTrajectory(t *testing.T) {
	for _, cfg := range []AdamConfig{HiddenAdam, OutputAdam, {LR: 0.05, Beta1: 0.5, Beta2: 0.9, Eps: 1e-6, WeightDecay: 0.1}} {
		a, err := NewAdam(cfg, 4)
		if err != nil {
			t.Fatal(err)
		}
		d := a.Config()
		ref := &refAdam{lr: d.LR, b1: d.Beta1, b2: d.Beta2, eps: d.Eps, wd: d.WeightDecay, m: make([]float64, 4), v: make([]float64, 4)}
		p := []float64{0, 0.3, -2, 1}
		q := append([]float64(nil), p...)
		g, h := make([]float64, 4), make([]float64, 4)
		// 60 steps: long enough to pass the optimum and oscillate, short
		// enough that the rounding differences of the two formulas (Step
		// divides sqrt(v) by sqrt(1-beta2^t) as torch does) stay ~1e-15.
		for step := 0; step < 60; step++ {
			quadGrad(g, p)
			a.Step(p, g)
			quadGrad(h, q)
			ref.step(q, h)
		}
		for j := range p {
			if !closeTo(p[j], q[j], 1e-12, 1e-14) {
				t.Errorf("%+v: p[%d] = %.17g, reference %.17g", cfg, j, p[j], q[j])
			}
		}
	}
}

// Saving the state and restoring it into a fresh optimiser continues the
// trajectory bit for bit.
func TestAdamStateRoundTrip(t *testing.T) {
	a, _ := NewAdam(HiddenAdam, 4)
	p := []float64{0, 0.3, -2, 1}
	g := make([]float64, 4)
	for step := 0; step < 5; step++ {
		quadGrad(g, p)
		a.Step(p, g)
	}
	st := a.State()
	q := append([]float64(nil), p...)
	for step := 0; step < 5; step++ {
		quadGrad(g, p)
		a.Step(p, g)
	}
	st.M[0] += 0 // State is a copy: later steps must not have changed it
	b, _ := NewAdam(HiddenAdam, 4)
	if err := b.SetState(st); err != nil {
		t.Fatal(err)
	}
	for step := 0; step < 5; step++ {
		quadGrad(g, q)
		b.Step(q, g)
	}
	for j := range p {
		if p[j] != q[j] {
			t.Errorf("p[%d] = %v after restore, %v uninterrupted", j, q[j], p[j])
		}
	}
	if b.State().Step != 10 {
		t.Errorf("restored optimiser at step %d, want 10", b.State().Step)
	}
}

func TestAdamErrors(t *testing.T) {
	for _, cfg := range []AdamConfig{{LR: -1}, {Beta1: 1}, {Beta2: -0.1}, {Eps: -1}, {WeightDecay: -1}, {LR: math.NaN()}} {
		if _, err := NewAdam(cfg, 1); err == nil {
			t.Errorf("NewAdam(%+v) accepted", cfg)
		}
	}
	a, _ := NewAdam(AdamConfig{}, 2)
	for _, s := range []AdamState{
		{M: make([]float64, 1), V: make([]float64, 2)},
		{Step: -1, M: make([]float64, 2), V: make([]float64, 2)},
		{M: make([]float64, 2), V: []float64{0, -1}},
		{M: make([]float64, 2), V: []float64{0, math.NaN()}},
	} {
		if err := a.SetState(s); err == nil {
			t.Errorf("SetState(%+v) accepted", s)
		}
	}
}
