package trainer

import (
	"math"
	"testing"
)

// centralDiff is the central finite difference of f at x with step h; its
// error is O(h^2 f”') plus rounding O(eps/h).
func centralDiff(f func(float64) float64, x, h float64) float64 {
	return (f(x+h) - f(x-h)) / (2 * h)
}

// closeTo reports |got - want| <= rel*|want| + abs.
func closeTo(got, want, rel, abs float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)+abs
}

// Points cover the sign combinations, r = 0, large modulation and the
// saturated regime; derivatives are compared with central differences
// (h = 1e-6: truncation ~1e-12, rounding ~1e-10, hence the 1e-7 tolerance).
var activationPoints = [][3]float64{
	{0.3, -0.7, 0.2}, {-1.2, 0.4, -0.9}, {2.5, 1.5, -3}, {-0.05, -4, 2},
	{0, 1.3, -0.4}, {1, 0, 0}, {4, -2, 1}, {-6, 3, 3}, {0.7, 0.7, 0.7},
}

func TestGraetzDerivatives(t *testing.T) {
	for _, a := range []Graetz{HiddenGraetz, OutputGraetz, {K1: 0.5, K2: 2}, {K1: 0.2, K2: 0.7}} {
		for _, p := range activationPoints {
			r, c := p[0], p[1]
			theta, dr, dc := a.Theta(r, c)
			fr := func(x float64) float64 { th, _, _ := a.Theta(x, c); return th }
			fc := func(x float64) float64 { th, _, _ := a.Theta(r, x); return th }
			if w := centralDiff(fr, r, 1e-6); !closeTo(dr, w, 1e-6, 1e-9) {
				t.Errorf("%+v r=%v c=%v: dtheta/dr = %v, finite difference %v", a, r, c, dr, w)
			}
			if w := centralDiff(fc, c, 1e-6); !closeTo(dc, w, 1e-6, 1e-9) {
				t.Errorf("%+v r=%v c=%v: dtheta/dc = %v, finite difference %v", a, r, c, dc, w)
			}
			if theta < 1e-6 || theta > 1-1e-6 {
				t.Errorf("%+v r=%v c=%v: theta %v outside the clamp", a, r, c, theta)
			}
		}
	}
}

func TestSchneiderDerivatives(t *testing.T) {
	for _, a := range []Schneider{HiddenSchneider, {C1: 1. / 3, C2: 1. / 3, W1: 2, W2: 2}, {C1: 0.3, C2: 0.05, W1: 1, W2: 3}} {
		for _, p := range activationPoints {
			r, c, l := p[0], p[1], p[2]
			_, dr, dc, dl := a.Theta(r, c, l)
			fr := func(x float64) float64 { th, _, _, _ := a.Theta(x, c, l); return th }
			fc := func(x float64) float64 { th, _, _, _ := a.Theta(r, x, l); return th }
			fl := func(x float64) float64 { th, _, _, _ := a.Theta(r, c, x); return th }
			for _, d := range []struct {
				name      string
				got, want float64
			}{
				{"r", dr, centralDiff(fr, r, 1e-6)},
				{"c", dc, centralDiff(fc, c, 1e-6)},
				{"l", dl, centralDiff(fl, l, 1e-6)},
			} {
				if !closeTo(d.got, d.want, 1e-6, 1e-9) {
					t.Errorf("%+v (%v, %v, %v): dtheta/d%s = %v, finite difference %v", a, r, c, l, d.name, d.got, d.want)
				}
			}
		}
	}
}

// Special cases, each from the closed form of the activation.
func TestActivationSpecialCases(t *testing.T) {
	// r = 0: the context and lateral inputs only modulate, theta = 1/2.
	for _, c := range []float64{-5, 0, 3} {
		if th, _, dc := HiddenGraetz.Theta(0, c); th != 0.5 || dc != 0 {
			t.Errorf("Graetz(0, %v) = %v, dc %v; want 0.5, 0", c, th, dc)
		}
		if th, _, dc, dl := HiddenSchneider.Theta(0, c, -c); th != 0.5 || dc != 0 || dl != 0 {
			t.Errorf("Schneider(0, %v, %v) = %v, dc %v, dl %v; want 0.5, 0, 0", c, -c, th, dc, dl)
		}
	}
	// K1 = 1: theta = sigmoid(r), the context has no effect; dtheta/dr = theta(1-theta).
	for _, r := range []float64{-2, 0.5, 3} {
		th, dr, dc := OutputGraetz.Theta(r, 7)
		want := 1 / (1 + math.Exp(-r))
		if !closeTo(th, want, 0x1p-51+0x1p-52, 0) || dc != 0 || !closeTo(dr, th*(1-th), 1e-15, 0) {
			t.Errorf("OutputGraetz(%v, 7) = %v, %v, %v; want %v, %v, 0", r, th, dr, dc, want, want*(1-want))
		}
	}
	// The clamp: beyond it theta sticks to 1e-6 or 1 - 1e-6 and, as torch.clamp
	// under autograd, passes no gradient.
	for _, r := range []float64{-20, 20, -1e3, 1e3} {
		th, dr, dc := HiddenGraetz.Theta(r, 0.3)
		want := 1e-6
		if r > 0 {
			want = 1 - 1e-6
		}
		if th != want || dr != 0 || dc != 0 {
			t.Errorf("Graetz(%v, 0.3) = %v, %v, %v; want %v, 0, 0", r, th, dr, dc, want)
		}
	}
	// Schneider has no clamp: it saturates to exactly 0 and 1 with zero slope.
	if th, dr, _, _ := HiddenSchneider.Theta(1e3, 0, 0); th != 1 || dr != 0 {
		t.Errorf("Schneider(1e3, 0, 0) = %v, dr %v; want 1, 0", th, dr)
	}
	if th, _, _, _ := HiddenSchneider.Theta(-1e3, 0, 0); th != 0 {
		t.Errorf("Schneider(-1e3, 0, 0) = %v; want 0", th)
	}
	// NaN propagates (Learn reports it through the PID engine).
	if th, _, _ := HiddenGraetz.Theta(math.NaN(), 1); !math.IsNaN(th) {
		t.Errorf("Graetz(NaN, 1) = %v; want NaN", th)
	}
}

func TestActivationApply(t *testing.T) {
	r := []float64{0.3, -1.2, 2.5, 40}
	c := []float64{-0.7, 0.4, 1.5, 1}
	l := []float64{0.2, -0.9, -3, 1}
	theta := make([]float64, 4)
	g := [][]float64{make([]float64, 4), make([]float64, 4)}
	HiddenGraetz.Apply(theta, g, [][]float64{r, c})
	for j := range r {
		th, dr, dc := HiddenGraetz.Theta(r[j], c[j])
		if theta[j] != th || g[0][j] != dr || g[1][j] != dc {
			t.Errorf("Graetz.Apply[%d] = %v, %v, %v; Theta gives %v, %v, %v", j, theta[j], g[0][j], g[1][j], th, dr, dc)
		}
	}
	g3 := [][]float64{make([]float64, 4), make([]float64, 4), make([]float64, 4)}
	HiddenSchneider.Apply(theta, g3, [][]float64{r, c, l})
	for j := range r {
		th, dr, dc, dl := HiddenSchneider.Theta(r[j], c[j], l[j])
		if theta[j] != th || g3[0][j] != dr || g3[1][j] != dc || g3[2][j] != dl {
			t.Errorf("Schneider.Apply[%d] differs from Theta", j)
		}
	}
	HiddenSchneider.Apply(theta, nil, [][]float64{r, c, l})
}
