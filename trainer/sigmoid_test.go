package trainer

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// expPoints returns n arguments covering expFast's domain: uniform over the
// range of normal results, and normal around 0 where the activations live.
func expPoints(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float64, n)
	for i := range x {
		switch i % 3 {
		case 0:
			x[i] = -708.39 + 1418.17*rng.Float64()
		case 1:
			x[i] = 3 * rng.NormFloat64()
		default:
			x[i] = 40 * rng.NormFloat64()
		}
	}
	return x
}

// TestExpFast bounds expFast's relative error against math.Exp (itself
// within one unit in the last place) by expFastMaxErr over normal results,
// and its absolute error by 2^-1074 over subnormal ones.
func TestExpFast(t *testing.T) {
	n := 3000000
	if testing.Short() {
		n = 300000
	}
	worst, at := 0.0, 0.0
	for _, x := range expPoints(n, 1) {
		want, got := math.Exp(x), expFast(x)
		if e := math.Abs(got-want) / want; e > worst {
			worst, at = e, x
		}
	}
	if worst > expFastMaxErr {
		t.Errorf("relative error %.3g at %v, documented bound %.3g", worst, at, expFastMaxErr)
	}
	t.Logf("largest relative error against math.Exp: %.3g (%.2f × 2^-53) at %v", worst, worst/0x1p-53, at)
	for x := -745.2; x < -708.3; x += 0.01 {
		if d := math.Abs(expFast(x) - math.Exp(x)); d > 0x1p-1074 {
			t.Errorf("exp(%v) = %v, math.Exp %v", x, expFast(x), math.Exp(x))
		}
	}
}

// bigExp is e^x to 200 bits: e^x = (e^(x/2^s))^(2^s), the inner one by its
// Taylor series.
func bigExp(x float64) *big.Float {
	const prec, s = 200, 12
	y := new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(x).SetPrec(prec), -s)
	sum := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	for i := 1; i < 40; i++ {
		term.Mul(term, y)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(int64(i)))
		sum.Add(sum, term)
	}
	for i := 0; i < s; i++ {
		sum.Mul(sum, sum)
	}
	return sum
}

// TestExpFastExact measures expFast's error against e^x itself (to 200
// bits): at most 1.5 units in the last place of the result.
func TestExpFastExact(t *testing.T) {
	worst, at := 0.0, 0.0
	for _, x := range expPoints(3000, 2) {
		want := bigExp(x)
		got := new(big.Float).SetPrec(200).SetFloat64(expFast(x))
		d, _ := new(big.Float).Sub(got, want).Float64()
		w, _ := want.Float64()
		_, e := math.Frexp(w)
		ulp := math.Ldexp(1, e-53)
		if u := math.Abs(d) / ulp; u > worst {
			worst, at = u, x
		}
	}
	if worst > 1.5 {
		t.Errorf("error %.3g ulp at %v, want at most 1.5", worst, at)
	}
	t.Logf("largest error against e^x: %.3g ulp at %v", worst, at)
}

// Special cases, from the definition of the clamp and IEEE arithmetic.
func TestExpFastSpecial(t *testing.T) {
	for _, c := range []struct{ x, want float64 }{
		{0, 1}, {math.Copysign(0, -1), 1}, {1, math.E},
		{math.Inf(1), math.Inf(1)}, {710, math.Inf(1)}, {709.8, math.Inf(1)}, {1e300, math.Inf(1)},
		{math.Inf(-1), 0}, {-746, 0}, {-1e300, 0},
		{709.7, math.Exp(709.7)}, {-708, math.Exp(-708)}, {-745, math.Exp(-745)},
	} {
		got := expFast(c.x)
		if !(got == c.want || math.Abs(got-c.want) <= expFastMaxErr*c.want) {
			t.Errorf("expFast(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if !math.IsNaN(expFast(math.NaN())) || !math.IsNaN(sigmoid(math.NaN())) {
		t.Error("NaN does not propagate")
	}
}

// TestSigmoidFast bounds the sigmoid against 1/(1+math.Exp(-x)): relative
// error below 2^-51 + 2^-52, and exactly 0 and 1 where that formula gives
// them.
func TestSigmoidFast(t *testing.T) {
	worst := 0.0
	pts := append(expPoints(600000, 3), 0, 36.7, 37, 38, -708, -709, -710, -744, -746, 800, -800)
	for _, x := range pts {
		want := 1 / (1 + math.Exp(-x))
		got := sigmoid(x)
		if want == 0 || want == 1 {
			if got != want {
				t.Errorf("sigmoid(%v) = %v, want %v", x, got, want)
			}
			continue
		}
		if e := math.Abs(got-want) / want; e > worst {
			worst = e
		}
	}
	if worst > 0x1p-51+0x1p-52 {
		t.Errorf("relative error %.3g", worst)
	}
	t.Logf("largest relative error: %.3g (%.2f × 2^-53)", worst, worst/0x1p-53)
}

// sameFloat is bitwise equality, except that every NaN equals every NaN.
func sameFloat(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (a != a && b != b)
}

// activationInputs returns n source values of every scale: typical, large,
// saturating, and the special values 0, -0, ±Inf and NaN.
func activationInputs(rng *rand.Rand, n int) []float64 {
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 1e300, -1e300, 400, -400}
	x := make([]float64, n)
	for i := range x {
		switch rng.IntN(8) {
		case 0:
			x[i] = special[rng.IntN(len(special))]
		case 1:
			x[i] = 100 * rng.NormFloat64()
		default:
			x[i] = 3 * rng.NormFloat64()
		}
	}
	return x
}

// TestActivationKernels: Apply (the vector kernel on groups of four, the
// portable code on the rest) gives, bit for bit, what Theta gives sample by
// sample, for every tail length, with and without the gradient.
func TestActivationKernels(t *testing.T) {
	if !useAVX2 {
		t.Log("no AVX2 on this machine: checking the portable loop only")
	}
	rng := rand.New(rand.NewPCG(4, 5))
	schneiders := []Schneider{HiddenSchneider, {C1: 0.3, C2: 0.05, W1: 1, W2: 3}}
	graetzes := []Graetz{HiddenGraetz, OutputGraetz, {K1: 0.2, K2: 0.7}}
	for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 13, 100, 1001} {
		s := [][]float64{activationInputs(rng, n), activationInputs(rng, n), activationInputs(rng, n)}
		theta := make([]float64, n)
		grad := [][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
		for _, a := range schneiders {
			a.Apply(theta, grad, s)
			for j := 0; j < n; j++ {
				th, dr, dc, dl := a.Theta(s[0][j], s[1][j], s[2][j])
				if !sameFloat(theta[j], th) || !sameFloat(grad[0][j], dr) || !sameFloat(grad[1][j], dc) || !sameFloat(grad[2][j], dl) {
					t.Fatalf("%+v n=%d j=%d (%v, %v, %v): Apply %v %v %v %v, Theta %v %v %v %v", a, n, j,
						s[0][j], s[1][j], s[2][j], theta[j], grad[0][j], grad[1][j], grad[2][j], th, dr, dc, dl)
				}
			}
			clear(theta)
			a.Apply(theta, nil, s)
			for j := 0; j < n; j++ {
				if th, _, _, _ := a.Theta(s[0][j], s[1][j], s[2][j]); !sameFloat(theta[j], th) {
					t.Fatalf("%+v n=%d j=%d: Apply without gradient %v, Theta %v", a, n, j, theta[j], th)
				}
			}
		}
		for _, a := range graetzes {
			a.Apply(theta, grad[:2], s[:2])
			for j := 0; j < n; j++ {
				th, dr, dc := a.Theta(s[0][j], s[1][j])
				if !sameFloat(theta[j], th) || !sameFloat(grad[0][j], dr) || !sameFloat(grad[1][j], dc) {
					t.Fatalf("%+v n=%d j=%d (%v, %v): Apply %v %v %v, Theta %v %v %v", a, n, j,
						s[0][j], s[1][j], theta[j], grad[0][j], grad[1][j], th, dr, dc)
				}
			}
			clear(theta)
			a.Apply(theta, nil, s[:2])
			for j := 0; j < n; j++ {
				if th, _, _ := a.Theta(s[0][j], s[1][j]); !sameFloat(theta[j], th) {
					t.Fatalf("%+v n=%d j=%d: Apply without gradient %v, Theta %v", a, n, j, theta[j], th)
				}
			}
		}
	}
}

// TestActivationMatchesExact: the Schneider activation agrees with the same
// formula evaluated with math.Exp to 1e-14 relative (theta) and 1e-13
// relative or 1e-15 absolute (its derivative, at most 1/4). A sigmoid amplifies the relative error of its argument u by
// |u|(1 - theta), so a few units in the last place of the inner sigmoids
// become ~1e-15 at |u| ~ 4; any two exponentials would differ so.
func TestActivationMatchesExact(t *testing.T) {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	a := HiddenSchneider
	rng := rand.New(rand.NewPCG(6, 7))
	for i := 0; i < 100000; i++ {
		r, c, l := 4*rng.NormFloat64(), 4*rng.NormFloat64(), 4*rng.NormFloat64()
		g1, g2 := sig(a.W1*r*c), sig(a.W2*r*l)
		m := (1 - a.C1 - a.C2) + a.C1*g1 + a.C2*g2
		want := sig(r * m)
		dt := want * (1 - want)
		d1 := a.C1 * g1 * (1 - g1) * a.W1
		wantDr := dt * (m + r*(d1*c+a.C2*g2*(1-g2)*a.W2*l))
		th, dr, _, _ := a.Theta(r, c, l)
		if !closeTo(th, want, 1e-14, 1e-300) {
			t.Fatalf("Schneider(%v, %v, %v) = %v, with math.Exp %v", r, c, l, th, want)
		}
		if !closeTo(dr, wantDr, 1e-13, 1e-15) {
			t.Fatalf("Schneider(%v, %v, %v): dtheta/dr = %v, with math.Exp %v", r, c, l, dr, wantDr)
		}
	}
}

// activationDigest hashes the bits of the activations (theta and every
// derivative) on a fixed set of inputs.
func activationDigest() uint64 {
	rng := rand.New(rand.NewPCG(8, 9))
	const n = 1003
	s := [][]float64{activationInputs(rng, n), activationInputs(rng, n), activationInputs(rng, n)}
	theta := make([]float64, n)
	grad := [][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
	h := fnv.New64a()
	put := func(v []float64) {
		for _, x := range v {
			if x != x {
				x = math.NaN() // one NaN pattern: payloads are not part of the contract
			}
			binary.Write(h, binary.LittleEndian, math.Float64bits(x))
		}
	}
	HiddenSchneider.Apply(theta, grad, s)
	put(theta)
	for _, g := range grad {
		put(g)
	}
	HiddenGraetz.Apply(theta, grad[:2], s[:2])
	put(theta)
	put(grad[0])
	put(grad[1])
	return h.Sum64()
}

// TestActivationDigest pins the activations' bits: every build (the AVX2
// kernels, -tags purego, GOAMD64=v3, other architectures, where the compiler
// may fuse multiply-adds) must give the same ones.
func TestActivationDigest(t *testing.T) {
	const want uint64 = 0x43556beddd0ce5c8
	if got := activationDigest(); got != want {
		t.Errorf("activation digest %#x, want %#x", got, want)
	}
}
