package pid

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestLatticeSizes(t *testing.T) {
	// Antichains of nonempty subsets: the Dedekind numbers minus 2
	// (OEIS A007153 shifted: 4, 18, 166).
	for n, want := range map[int]int{2: 4, 3: 18, 4: 166} {
		lat := MustLattice(n)
		if lat.NumAtoms() != want {
			t.Errorf("n=%d: %d antichains, want %d", n, lat.NumAtoms(), want)
		}
		if got := lat.Labels(nil)[lat.Top()]; got != "{"+"1234"[:n]+"}" {
			t.Errorf("n=%d: top is %s", n, got)
		}
		// Möbius inversion is the inverse of summing over the down-set.
		icap := make([]float64, want)
		for i := range icap {
			icap[i] = float64(i*i%7) - 2.5
		}
		atoms := make([]float64, want)
		lat.Atoms(atoms, icap)
		for a := 0; a < want; a++ {
			s := 0.0
			for b := 0; b < want; b++ {
				if lat.Below(b, a) {
					s += atoms[b]
				}
			}
			if math.Abs(s-icap[a]) > 1e-12 {
				t.Fatalf("n=%d: atoms below %s sum to %v, want %v", n, lat.Labels(nil)[a], s, icap[a])
			}
		}
	}
}

func TestLatticeOrder(t *testing.T) {
	// spec/infomorphic.md §3: the goal vector's order.
	want := map[int]string{
		2: "{1} {2} {1}{2} {12} H_res",
		3: "{1}{2}{3} {1}{2} {1}{3} {2}{3} {1}{23} {2}{13} {3}{12} {1} {2} {3} {12}{13}{23} {12}{13} {12}{23} {13}{23} {12} {13} {23} {123} H_res",
	}
	for n, w := range want {
		if got := strings.Join(MustLattice(n).Labels(nil), " "); got != w {
			t.Errorf("n=%d order:\n got %s\nwant %s", n, got, w)
		}
	}
	l4 := MustLattice(4).Labels(nil)
	if l4[0] != "{1}{2}{3}{4}" || l4[165] != "{1234}" || l4[166] != "H_res" {
		t.Errorf("n=4 order starts %s, ends %s", l4[0], l4[165])
	}
	if got := MustLattice(3).Labels([]string{"F", "C", "L"})[4]; got != "{F}{CL}" {
		t.Errorf("named label %s, want {F}{CL}", got)
	}
	if got := MustLattice(2).Labels([]string{"age", "dose"})[3]; got != "{age,dose}" {
		t.Errorf("named label %s, want {age,dose}", got)
	}
	for _, n := range []int{-1, 0, 1, 5} {
		if _, err := NewLattice(n); err == nil {
			t.Errorf("NewLattice(%d) succeeded", n)
		}
	}
}

// gate builds a dense table with uniform iid binary sources and the target
// given by f (two target values).
func gate(n int, f func(s []int) int) (shape []int, p []float64) {
	cells := 1 << n
	shape = append(make([]int, 0, n+1), 2, 2)
	for len(shape) < n+1 {
		shape = append(shape, 2)
	}
	p = make([]float64, 2*cells)
	s := make([]int, n)
	for c := 0; c < cells; c++ {
		for k := 0; k < n; k++ {
			s[k] = c >> (n - 1 - k) & 1 // row-major: source 1 is the slowest
		}
		p[2*c+f(s)] = 1 / float64(cells)
	}
	return shape, p
}

func TestGates(t *testing.T) {
	log2 := math.Log2
	xor := func(s []int) int { return s[0] ^ s[1] }
	and := func(s []int) int { return s[0] & s[1] }
	unq := func(s []int) int { return s[0] }
	par := func(s []int) int {
		x := 0
		for _, v := range s {
			x ^= v
		}
		return x
	}
	maj3 := func(s []int) int {
		if s[0]+s[1]+s[2] >= 2 {
			return 1
		}
		return 0
	}
	cases := []struct {
		name  string
		n     int
		f     func([]int) int
		atoms map[string]float64 // label -> value
		tol   float64
	}{
		// Closed forms from golden/pid_vectors.json meta.closed_forms; the
		// epsilons move them at the 1e-9 level.
		{"XOR", 2, xor, map[string]float64{"{1}": log2(1.5), "{2}": log2(1.5), "{1}{2}": log2(2.0 / 3), "{12}": 2 - log2(3)}, 2e-9},
		{"AND", 2, and, map[string]float64{"{1}": 0.188722, "{2}": 0.188722, "{1}{2}": 0.122556, "{12}": 0.311278}, 1e-6},
		{"UNQ", 2, unq, map[string]float64{"{1}": log2(1.5), "{2}": -log2(4.0 / 3), "{1}{2}": log2(4.0 / 3), "{12}": log2(4.0 / 3)}, 2e-9},
		// XOR3 bottom by hand: p_u = 7/8 and, n being odd, the complement
		// of s has the other parity, so p_ut(s, parity(s)) = 1/2 and
		// I^sx({1}{2}{3}) = log2((1/2) / ((7/8)(1/2))) = log2(8/7). The other
		// values are the reference's, golden/pid_vectors.json.
		{"XOR3", 3, par, map[string]float64{"{1}{2}{3}": log2(8.0 / 7), "{12}{13}{23}": -0.2268607932967967, "{123}": 0.2451124972594534}, 2e-9},
		{"MAJ3", 3, maj3, map[string]float64{"{1}{2}{3}": 0.19264507761263708, "{1}": -0.0318312800477642, "{123}": 0.1838343728003205}, 1e-9},
		// 4-parity: no proper subset of the sources says anything about T,
		// so every single-member antichain below the top has I^sx = 0.
		// Bottom, by hand: p_u = 1 - 2^-4, p_ut(s, parity(s)) = 1/2 - 2^-4
		// (the complement of s has the same parity), so
		// I^sx({1}{2}{3}{4}) = log2((7/16) / ((15/16)(1/2))) = log2(14/15),
		// which is also the bottom atom. The atoms sum to I(T;S) = 1 bit.
		{"XOR4", 4, par, map[string]float64{"{1}{2}{3}{4}": log2(14.0 / 15)}, 2e-9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lat := MustLattice(c.n)
			shape, p := gate(c.n, c.f)
			res := lat.NewResult()
			if err := NewEstimator(lat).Dense(res, shape, p, nil, nil); err != nil {
				t.Fatal(err)
			}
			labels := lat.Labels(nil)
			found := 0
			for i, l := range labels[:lat.NumAtoms()] {
				if want, ok := c.atoms[l]; ok {
					found++
					if math.Abs(res.Atoms[i]-want) > c.tol {
						t.Errorf("%s = %.12g, want %.12g", l, res.Atoms[i], want)
					}
				}
			}
			if found != len(c.atoms) {
				t.Fatalf("only %d of %d labels found", found, len(c.atoms))
			}
			// Every gate is deterministic: the atoms sum to I(T;S) = H(T)
			// and H_res = 0, up to the epsilons.
			sum := 0.0
			for _, v := range res.Atoms {
				sum += v
			}
			mi := mutualInfo(shape, p, uint8(1<<c.n-1))
			if math.Abs(sum-mi) > 1e-8 || math.Abs(res.HT-mi) > 1e-8 || math.Abs(res.HRes) > 1e-8 {
				t.Errorf("atoms sum to %v, H(T) = %v, H_res = %v; I(T;S) = %v", sum, res.HT, res.HRes, mi)
			}
			if c.name == "XOR4" {
				for a, ch := range lat.antichains {
					if len(ch) == 1 && a != lat.Top() && math.Abs(res.Icap[a]) > 1e-8 {
						t.Errorf("I^sx(%s) = %v, want 0", labels[a], res.Icap[a])
					}
				}
			}
		})
	}
}

// randomTable draws a joint over n sources with the given number of bins and
// K target values; a fraction of the cells is empty.
func randomTable(r *rand.Rand, n, bins, K int, empty float64) (shape []int, p []float64) {
	for k := 0; k < n; k++ {
		shape = append(shape, 1+r.IntN(bins))
	}
	shape = append(shape, K)
	size := 1
	for _, d := range shape {
		size *= d
	}
	p = make([]float64, size)
	sum := 0.0
	for i := range p {
		if r.Float64() >= empty {
			p[i] = r.ExpFloat64()
			sum += p[i]
		}
	}
	if sum == 0 {
		p[0], sum = 1, 1
	}
	for i := range p {
		p[i] /= sum
	}
	return shape, p
}

// marginal sums p over every source not in mask u: keys are the source
// values on u, row-major.
func marginal(shape []int, p []float64, u uint8) (ps, pst map[[MaxSources]int]float64, pt []float64) {
	n := len(shape) - 1
	K := shape[n]
	ps = map[[MaxSources]int]float64{}
	pst = map[[MaxSources]int]float64{}
	pt = make([]float64, K)
	for i, v := range p {
		r := i
		t := r % K
		r /= K
		var key [MaxSources]int
		for k := n - 1; k >= 0; k-- {
			if u&(1<<k) != 0 {
				key[k] = r % shape[k]
			} else {
				key[k] = -1
			}
			r /= shape[k]
		}
		ps[key] += v
		kt := key
		kt[MaxSources-1] = kt[MaxSources-1]*1000 + t // room for t in the key
		if n == MaxSources {
			kt = key
			kt[0] = key[0]*1000 + t
		}
		pst[kt] += v
		pt[t] += v
	}
	return ps, pst, pt
}

// mutualInfo is I(T; S_u) in bits from the definition, no epsilons.
func mutualInfo(shape []int, p []float64, u uint8) float64 {
	n := len(shape) - 1
	K := shape[n]
	ps, _, pt := marginal(shape, p, u)
	joint := map[[MaxSources + 1]int]float64{}
	for i, v := range p {
		r := i
		var key [MaxSources + 1]int
		key[MaxSources] = r % K
		r /= K
		for k := n - 1; k >= 0; k-- {
			if u&(1<<k) != 0 {
				key[k] = r % shape[k]
			} else {
				key[k] = -1
			}
			r /= shape[k]
		}
		joint[key] += v
	}
	mi := 0.0
	for key, v := range joint {
		if v == 0 {
			continue
		}
		var sk [MaxSources]int
		copy(sk[:], key[:MaxSources])
		mi += v * math.Log2(v/(ps[sk]*pt[key[MaxSources]]))
	}
	return mi
}

// epsBound bounds how far the 1e-10 in the denominator moves I^sx of a
// single-member antichain u from I(T;S_u): each term's log shifts by at most
// 1e-10 / (p(s_u) p(t) ln 2).
func epsBound(shape []int, p []float64, u uint8) float64 {
	ps, _, pt := marginal(shape, p, u)
	b := 0.0
	for _, v := range ps {
		for _, q := range pt {
			if v > 0 && q > 0 {
				b += 1e-10 / math.Ln2 * v / (v * q) // at most p(s_u) of mass per cell
			}
		}
	}
	return 1.01*b + 1e-13
}

// bruteIsx is I^sx(alpha) straight from its definition: the union event's
// probability by enumerating every cell, not by inclusion-exclusion.
func bruteIsx(shape []int, p []float64, alpha Antichain) float64 {
	n := len(shape) - 1
	K := shape[n]
	cells := len(p) / K
	vals := make([][]int, cells)
	for c := range vals {
		vals[c] = make([]int, n)
		r := c
		for k := n - 1; k >= 0; k-- {
			vals[c][k] = r % shape[k]
			r /= shape[k]
		}
	}
	pt := make([]float64, K)
	for i, v := range p {
		pt[i%K] += v
	}
	sum := 0.0
	for s := 0; s < cells; s++ {
		pu := 0.0
		put := make([]float64, K)
		for s2 := 0; s2 < cells; s2++ {
			hit := false
			for _, m := range alpha {
				same := true
				for k := 0; k < n; k++ {
					if m&(1<<k) != 0 && vals[s][k] != vals[s2][k] {
						same = false
					}
				}
				hit = hit || same
			}
			if hit {
				for t := 0; t < K; t++ {
					pu += p[s2*K+t]
					put[t] += p[s2*K+t]
				}
			}
		}
		for t := 0; t < K; t++ {
			frac := put[t] / (pu*pt[t] + 1e-10)
			if frac >= 1e-7 {
				sum += p[s*K+t] * math.Log2(frac)
			}
		}
	}
	return sum
}

func TestPropertiesRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 60; trial++ {
		n := 2 + trial%3
		K := 2 + trial%4
		bins := []int{2, 4, 6}[trial%3]
		if n == 4 {
			bins = 3
		}
		shape, p := randomTable(r, n, bins, K, 0.3)
		lat := MustLattice(n)
		res := lat.NewResult()
		if err := NewEstimator(lat).Dense(res, shape, p, nil, nil); err != nil {
			t.Fatal(err)
		}
		labels := lat.Labels(nil)
		for a, ch := range lat.antichains {
			// I^sx differs from the plain measures only through the 1e-10
			// epsilon, a relative 1e-10 of each term.
			if len(ch) == 1 {
				if want := mutualInfo(shape, p, ch[0]); math.Abs(res.Icap[a]-want) > epsBound(shape, p, ch[0]) {
					t.Errorf("trial %d: I^sx(%s) = %v, I(T;S_a) = %v", trial, labels[a], res.Icap[a], want)
				}
			}
			if want := bruteIsx(shape, p, ch); math.Abs(res.Icap[a]-want) > 1e-12 {
				t.Errorf("trial %d: I^sx(%s) = %v, from the definition %v", trial, labels[a], res.Icap[a], want)
			}
		}
		top := res.Icap[lat.Top()]
		sum := 0.0
		for _, v := range res.Atoms {
			sum += v
		}
		if math.Abs(sum-top) > 1e-12 {
			t.Errorf("trial %d: atoms sum to %v, top I^sx %v", trial, sum, top)
		}
		ht := 0.0
		_, _, pt := marginal(shape, p, 0)
		for _, v := range pt {
			if v > 0 {
				ht -= v * math.Log2(v)
			}
		}
		if math.Abs(res.HT-ht) > 1e-8 || math.Abs(res.HRes-(res.HT-top)) > 1e-15 {
			t.Errorf("trial %d: H(T) %v want %v, H_res %v", trial, res.HT, ht, res.HRes)
		}
	}
}

// samplesFromTable draws N samples whose soft histogram is a table: each
// sample gets a random cell and a random theta. It returns the samples and
// the dense table they make.
func randomSamples(r *rand.Rand, n, bins, N int) (sb [][]int32, theta []float64, shape []int, p []float64) {
	sb = make([][]int32, n)
	shape = make([]int, n+1)
	for k := range shape {
		shape[k] = bins
	}
	shape[n] = 2
	p = make([]float64, len(shape))
	size := 2
	for k := 0; k < n; k++ {
		size *= bins
	}
	p = make([]float64, size)
	theta = make([]float64, N)
	for m := 0; m < N; m++ {
		cell := 0
		for k := 0; k < n; k++ {
			// Skewed bins, so some cells hold many samples and some none.
			b := int32(math.Min(float64(bins-1), r.ExpFloat64()*float64(bins)/3))
			sb[k] = append(sb[k], b)
			cell = cell*bins + int(b)
		}
		theta[m] = r.Float64()
		if m%7 == 0 {
			theta[m] = float64(m % 2) // deterministic outputs too
		}
		p[2*cell] += (1 - theta[m]) / float64(N)
		p[2*cell+1] += theta[m] / float64(N)
	}
	return sb, theta, shape, p
}

func randomGoal(r *rand.Rand, lat *Lattice) []float64 {
	g := make([]float64, lat.GoalLen())
	for i := range g {
		g[i] = 2*r.Float64() - 1
	}
	return g
}

func TestSamplesMatchDense(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 30; trial++ {
		n := 2 + trial%3
		bins := []int{3, 5, 20}[trial%3]
		if n == 4 {
			bins = 4
		}
		N := 1 + r.IntN(300)
		sb, theta, shape, p := randomSamples(r, n, bins, N)
		lat := MustLattice(n)
		goal := randomGoal(r, lat)
		est := NewEstimator(lat)
		rs, rd := lat.NewResult(), lat.NewResult()
		dTheta := make([]float64, N)
		dP := make([]float64, len(p))
		if err := est.Samples(rs, sb, theta, goal, dTheta); err != nil {
			t.Fatal(err)
		}
		if err := est.Dense(rd, shape, p, goal, dP); err != nil {
			t.Fatal(err)
		}
		vs, vd := rs.Vector(nil), rd.Vector(nil)
		for k := range vs {
			if math.Abs(vs[k]-vd[k]) > 1e-12 {
				t.Fatalf("trial %d: %s sample %v dense %v", trial, lat.Labels(nil)[k], vs[k], vd[k])
			}
		}
		if math.Abs(rs.G-rd.G) > 1e-12 {
			t.Fatalf("trial %d: G sample %v dense %v", trial, rs.G, rd.G)
		}
		for m := 0; m < N; m++ {
			cell := 0
			for k := 0; k < n; k++ {
				cell = cell*bins + int(sb[k][m])
			}
			want := (dP[2*cell+1] - dP[2*cell]) / float64(N)
			if math.Abs(dTheta[m]-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Fatalf("trial %d: dG/dtheta[%d] = %v, dense gives %v", trial, m, dTheta[m], want)
			}
		}
	}
}

// TestFiniteDifferenceSamples checks dG/dtheta against central differences
// of G, for n = 2, 3, 4. Thetas are kept away from 0 and 1 so the step stays
// inside [0, 1].
func TestFiniteDifferenceSamples(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{2, 3, 4} {
		for trial := 0; trial < 4; trial++ {
			sb, theta, _, _ := randomSamples(r, n, 4, 40)
			for m := range theta {
				theta[m] = 0.05 + 0.9*r.Float64()
			}
			lat := MustLattice(n)
			goal := randomGoal(r, lat)
			est := NewEstimator(lat)
			res := lat.NewResult()
			dTheta := make([]float64, len(theta))
			if err := est.Samples(res, sb, theta, goal, dTheta); err != nil {
				t.Fatal(err)
			}
			const h = 1e-6
			for m := range theta {
				old := theta[m]
				theta[m] = old + h
				est.Samples(res, sb, theta, goal, nil)
				gp := res.G
				theta[m] = old - h
				est.Samples(res, sb, theta, goal, nil)
				gm := res.G
				theta[m] = old
				fd := (gp - gm) / (2 * h)
				if math.Abs(fd-dTheta[m]) > 1e-6*math.Max(1, math.Abs(fd)) {
					t.Errorf("n=%d trial %d: dG/dtheta[%d] = %.10g, finite difference %.10g", n, trial, m, dTheta[m], fd)
				}
			}
		}
	}
}

// TestFiniteDifferenceDense checks dG/dp of the dense form along every
// direction that moves mass between two target values of one cell: those
// leave the source marginals, hence p_u, unchanged, so the p_u-detached
// gradient is the true derivative there. The remaining, source-marginal
// directions are checked against the reference's autograd in TestGoldenDense.
func TestFiniteDifferenceDense(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 9; trial++ {
		n := 2 + trial%3
		K := 2 + trial%3
		shape, p := randomTable(r, n, 3, K, 0)
		lat := MustLattice(n)
		goal := randomGoal(r, lat)
		est := NewEstimator(lat)
		res := lat.NewResult()
		dP := make([]float64, len(p))
		if err := est.Dense(res, shape, p, goal, dP); err != nil {
			t.Fatal(err)
		}
		const h = 1e-7
		for c := 0; c < len(p)/K; c++ {
			for t1 := 1; t1 < K; t1++ {
				i, j := c*K, c*K+t1
				step := math.Min(h, math.Min(p[i], p[j])/2)
				pi, pj := p[i], p[j]
				p[i], p[j] = pi+step, pj-step
				est.Dense(res, shape, p, goal, nil)
				gp := res.G
				p[i], p[j] = pi-step, pj+step
				est.Dense(res, shape, p, goal, nil)
				gm := res.G
				p[i], p[j] = pi, pj
				fd := (gp - gm) / (2 * step)
				if an := dP[i] - dP[j]; math.Abs(fd-an) > 1e-5*math.Max(1, math.Abs(fd)) {
					t.Errorf("trial %d cell %d t %d: analytic %.9g, finite difference %.9g", trial, c, t1, an, fd)
				}
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	lat := MustLattice(2)
	est := NewEstimator(lat)
	res := lat.NewResult()
	ok := [][]int32{{0, 1}, {1, 0}}
	cases := []struct {
		name  string
		err   error
		bins  [][]int32
		theta []float64
	}{
		{"no samples", ErrNoSamples, [][]int32{{}, {}}, []float64{}},
		{"NaN theta", ErrProbability, ok, []float64{0.5, math.NaN()}},
		{"theta above 1", ErrProbability, ok, []float64{1.5, 0.5}},
		{"negative theta", ErrProbability, ok, []float64{-0.1, 0.5}},
		{"negative bin", ErrNegativeBin, [][]int32{{0, -3}, {1, 0}}, []float64{0.5, 0.5}},
	}
	for _, c := range cases {
		if err := est.Samples(res, c.bins, c.theta, nil, nil); !errors.Is(err, c.err) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.err)
		}
	}
	dense := []struct {
		name  string
		err   error
		shape []int
		p     []float64
	}{
		{"rank", ErrShape, []int{2, 2}, []float64{.25, .25, .25, .25}},
		{"zero dimension", ErrShape, []int{2, 0, 2}, nil},
		{"length", ErrShape, []int{2, 2, 2}, []float64{.5, .5}},
		{"negative", ErrProbability, []int{1, 1, 2}, []float64{1.5, -0.5}},
		{"NaN", ErrProbability, []int{1, 1, 2}, []float64{math.NaN(), 1}},
		{"infinite", ErrProbability, []int{1, 1, 2}, []float64{math.Inf(1), 0}},
		{"unnormalised", ErrNotNormal, []int{1, 1, 2}, []float64{0.5, 0.4}},
	}
	for _, c := range dense {
		if err := est.Dense(res, c.shape, c.p, nil, nil); !errors.Is(err, c.err) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.err)
		}
	}
	panics := map[string]func(){
		"bin slices":        func() { est.Samples(res, [][]int32{{0}}, []float64{0.5}, nil, nil) },
		"bin length":        func() { est.Samples(res, [][]int32{{0}, {0, 1}}, []float64{0.5}, nil, nil) },
		"goal length":       func() { est.Samples(res, ok, []float64{.5, .5}, []float64{1, 2}, nil) },
		"gradient, no goal": func() { est.Samples(res, ok, []float64{.5, .5}, nil, make([]float64, 2)) },
	}
	for name, f := range panics {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "pid: ") {
					t.Errorf("%s: recovered %v, want a pid: panic", name, r)
				}
			}()
			f()
		}()
	}
}

// TestWideBins covers bin indices too wide to pack into one key (the chained
// grouping): the result must not depend on how the bins are numbered.
func TestWideBins(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	sb, theta, _, _ := randomSamples(r, 4, 5, 200)
	lat := MustLattice(4)
	goal := randomGoal(r, lat)
	est := NewEstimator(lat)
	a, b := lat.NewResult(), lat.NewResult()
	da, db := make([]float64, 200), make([]float64, 200)
	est.Samples(a, sb, theta, goal, da)
	wide := make([][]int32, 4)
	for k := range sb {
		for _, v := range sb[k] {
			wide[k] = append(wide[k], math.MaxInt32-7*v) // 31-bit values, reordered
		}
	}
	if err := est.Samples(b, wide, theta, goal, db); err != nil {
		t.Fatal(err)
	}
	va, vb := a.Vector(nil), b.Vector(nil)
	for k := range va {
		if math.Abs(va[k]-vb[k]) > 1e-13 {
			t.Fatalf("%s: %v with small bins, %v with wide", lat.Labels(nil)[k], va[k], vb[k])
		}
	}
	for m := range da {
		if math.Abs(da[m]-db[m]) > 1e-12 {
			t.Fatalf("dtheta[%d]: %v vs %v", m, da[m], db[m])
		}
	}
}

// TestConstantSource covers a source that takes one value for the whole
// batch (all its information atoms vanish) and a constant target.
func TestConstantSource(t *testing.T) {
	lat := MustLattice(2)
	res := lat.NewResult()
	bins := [][]int32{{0, 1, 0, 1}, {3, 3, 3, 3}}
	if err := NewEstimator(lat).Samples(res, bins, []float64{1, 0, 1, 0}, nil, nil); err != nil {
		t.Fatal(err)
	}
	// T = S1, S2 constant: {1} = 1 bit of unique information, nothing else.
	want := []float64{1, 0, 0, 0}
	for k, w := range want {
		if math.Abs(res.Atoms[k]-w) > 1e-8 {
			t.Errorf("%s = %v, want %v", lat.Labels(nil)[k], res.Atoms[k], w)
		}
	}
	if err := NewEstimator(lat).Samples(res, bins, []float64{1, 1, 1, 1}, nil, nil); err != nil {
		t.Fatal(err)
	}
	for k, v := range res.Atoms {
		if math.Abs(v) > 1e-8 || math.Abs(res.HT) > 1e-8 {
			t.Errorf("constant target: %s = %v, H(T) = %v", lat.Labels(nil)[k], v, res.HT)
		}
	}
}

// TestCountsMatchDense: samples with a target of K values give the atoms of
// their empirical table.
func TestCountsMatchDense(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for trial := 0; trial < 12; trial++ {
		n, K, bins, N := 2+trial%3, 1+trial%4, 4, 50+r.IntN(200)
		lat := MustLattice(n)
		sb := make([][]int32, n)
		target := make([]int32, N)
		shape := make([]int, n+1)
		for k := range shape {
			shape[k] = bins
		}
		shape[n] = K
		size := K
		for k := 0; k < n; k++ {
			size *= bins
		}
		p := make([]float64, size)
		for m := 0; m < N; m++ {
			cell := 0
			for k := 0; k < n; k++ {
				b := int32(r.IntN(bins))
				sb[k] = append(sb[k], b)
				cell = cell*bins + int(b)
			}
			target[m] = int32(r.IntN(K))
			p[cell*K+int(target[m])] += 1 / float64(N)
		}
		goal := randomGoal(r, lat)
		est := NewEstimator(lat)
		rc, rd := lat.NewResult(), lat.NewResult()
		if err := est.Counts(rc, sb, target, K, goal); err != nil {
			t.Fatal(err)
		}
		if err := est.Dense(rd, shape, p, goal, nil); err != nil {
			t.Fatal(err)
		}
		vc, vd := rc.Vector(nil), rd.Vector(nil)
		for k := range vc {
			if math.Abs(vc[k]-vd[k]) > 1e-12 {
				t.Fatalf("trial %d: %s counts %v dense %v", trial, lat.Labels(nil)[k], vc[k], vd[k])
			}
		}
		if math.Abs(rc.G-rd.G) > 1e-12 {
			t.Fatalf("trial %d: G %v vs %v", trial, rc.G, rd.G)
		}
	}
	est := NewEstimator(MustLattice(2))
	err := est.Counts(MustLattice(2).NewResult(), [][]int32{{0}, {0}}, []int32{3}, 3, nil)
	if !errors.Is(err, ErrTarget) {
		t.Errorf("target out of range: %v", err)
	}
}
