package search

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"goalsearch/internal/floatbits"
)

// sobolUnit returns n points of the sobol sampler for d coordinates in
// [0, 1]^d, starting at index start, or where the sampler starts if start
// is negative.
func sobolUnit(t *testing.T, d, n int, randomize string, seed uint64, start int) [][]float64 {
	t.Helper()
	box := Box{Lower: make([]float64, d), Upper: make([]float64, d)}
	for i := range box.Upper {
		box.Upper[i] = 1
	}
	cfg, _ := json.Marshal(SobolConfig{Randomize: randomize})
	s, err := NewSampler("sobol", box, cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	if start >= 0 {
		s.(*sobolSampler).index = uint64(start)
	}
	xs, err := s.Ask(n)
	if err != nil {
		t.Fatal(err)
	}
	return xs
}

// TestSobolFirstPoints compares the first points with values computed by
// hand from the direction numbers: dimension 1 is the van der Corput
// sequence (v_k = 2^−k); dimension 2 (x + 1, m₁ = 1) has v = 1/2, 3/4, 5/8;
// dimension 3 (x² + x + 1, m = 1, 3) has v = 1/2, 3/4, 3/8. Point i is the
// XOR of the v_k of the bits of i. The same points, in Gray-code order,
// start the unscrambled sequence of scipy.stats.qmc.Sobol.
func TestSobolFirstPoints(t *testing.T) {
	want := [][]float64{
		{0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875},
		{0.5, 0.75, 0.25, 0.625, 0.125, 0.375, 0.875},
		{0.5, 0.75, 0.25, 0.375, 0.875, 0.625, 0.125},
	}
	// The plain sampler starts at point 1, skipping the corner.
	xs := sobolUnit(t, 3, 7, "", 0, -1)
	for i, x := range xs {
		for j := range want {
			if x[j] != want[j][i] {
				t.Errorf("point %d, dimension %d = %v, want %v", i+1, j+1, x[j], want[j][i])
			}
		}
	}
	// A fresh sampler proposes the same points, point 1 first.
	s, err := NewSampler("sobol", Box{Lower: []float64{-1, -1, -1}, Upper: []float64{1, 1, 1}}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Ask(2)
	if got[0][0] != 0 || got[1][0] != -0.5 || got[1][1] != 0.5 {
		t.Errorf("first points in [-1,1]^3 = %v, want the centre and then (-0.5, 0.5, 0.5)", got)
	}
}

// TestSobolDirectionTable checks the table's invariants: each m_k is odd
// and below 2^k, each a has s−1 bits, and the (s, a) pairs are distinct.
func TestSobolDirectionTable(t *testing.T) {
	seen := map[[2]uint]bool{}
	for j, dir := range sobolDirections {
		if len(dir.m) != int(dir.s) || dir.a >= 1<<(dir.s-1) {
			t.Errorf("dimension %d: s=%d, a=%d, %d direction numbers", j+2, dir.s, dir.a, len(dir.m))
		}
		for k, m := range dir.m {
			if m%2 == 0 || m >= 1<<(k+1) {
				t.Errorf("dimension %d: m_%d = %d is not odd and below 2^%d", j+2, k+1, m, k+1)
			}
		}
		key := [2]uint{dir.s, dir.a}
		if seen[key] {
			t.Errorf("dimension %d repeats polynomial (%d, %d)", j+2, dir.s, dir.a)
		}
		seen[key] = true
	}
	if sobolMaxDim < 21 {
		t.Errorf("direction numbers for %d dimensions, want at least 21", sobolMaxDim)
	}
}

// TestSobolStratification checks the defining property of a Sobol
// sequence: for every m, points 0 … 2^m − 1 put exactly one point in each
// interval [k/2^m, (k+1)/2^m) of every coordinate, and in dimensions 1 and
// 2 (a (0, 2)-sequence) exactly one in each dyadic box of area 2^−m. The
// random digital shift keeps both properties.
func TestSobolStratification(t *testing.T) {
	const m = 10
	n := 1 << m
	for _, randomize := range []string{"none", "xor"} {
		xs := sobolUnit(t, sobolMaxDim, n, randomize, 42, 0)
		for j := range sobolMaxDim {
			for mm := 1; mm <= m; mm++ {
				cells := make([]int, 1<<mm)
				for _, x := range xs[:1<<mm] {
					cells[int(x[j]*float64(int(1)<<mm))]++
				}
				for k, c := range cells {
					if c != 1 {
						t.Fatalf("%s: dimension %d, first %d points: %d in interval %d", randomize, j+1, 1<<mm, c, k)
					}
				}
			}
		}
		for a := 0; a <= m; a++ { // boxes of 2^a × 2^(m−a) cells
			cells := make(map[[2]int]int)
			for _, x := range xs {
				cells[[2]int{int(x[0] * float64(int(1)<<a)), int(x[1] * float64(int(1)<<(m-a)))}]++
			}
			if len(cells) != n {
				t.Errorf("%s: dimensions 1-2, %d×%d boxes: %d occupied, want %d", randomize, 1<<a, 1<<(m-a), len(cells), n)
			}
		}
	}
}

// l2StarDiscrepancy returns the L2-star discrepancy of points in [0,1]^d by
// Warnock's formula:
// D² = 3^−d − (2^(1−d)/n) Σ_i Π_k (1 − x_ik²) + (1/n²) Σ_i Σ_j Π_k (1 − max(x_ik, x_jk)).
func l2StarDiscrepancy(xs [][]float64) float64 {
	n, d := float64(len(xs)), len(xs[0])
	var s1, s2 float64
	for _, x := range xs {
		p := 1.0
		for _, v := range x {
			p *= 1 - v*v
		}
		s1 += p
		for _, y := range xs {
			q := 1.0
			for k := range x {
				q *= 1 - math.Max(x[k], y[k])
			}
			s2 += q
		}
	}
	return math.Sqrt(math.Pow(3, -float64(d)) - math.Pow(2, 1-float64(d))/n*s1 + s2/(n*n))
}

// pairDiscrepancy returns the mean L2-star discrepancy of the projections
// of xs onto every pair of coordinates. In many dimensions the L2-star
// discrepancy of a few hundred points is dominated by the volume of the
// boxes anchored at the origin and hardly tells point sets apart, while the
// evenness of low-dimensional projections is what a search profits from.
func pairDiscrepancy(xs [][]float64) float64 {
	d := len(xs[0])
	var sum float64
	var pairs int
	proj := make([][]float64, len(xs))
	for a := range d {
		for b := a + 1; b < d; b++ {
			for i, x := range xs {
				proj[i] = []float64{x[a], x[b]}
			}
			sum += l2StarDiscrepancy(proj)
			pairs++
		}
	}
	return sum / float64(pairs)
}

// TestSobolLowDiscrepancy checks that n points of the sampler have a
// lower discrepancy than every one of 5 sets of n uniform random points:
// the L2-star discrepancy in 2 and 5 dimensions (n = 256), and the mean
// over the 2-D projections in 5 and 19 dimensions (n = 128); plain and
// randomised.
func TestSobolLowDiscrepancy(t *testing.T) {
	for _, tc := range []struct {
		d, n  int
		pairs bool
	}{{2, 256, false}, {5, 256, false}, {5, 128, true}, {19, 128, true}} {
		n := tc.n
		disc, what := l2StarDiscrepancy, "L2-star discrepancy"
		if tc.pairs {
			disc, what = pairDiscrepancy, "mean 2-D L2-star discrepancy"
		}
		rng := rand.New(rand.NewPCG(uint64(tc.d), 1))
		best := math.Inf(1)
		for range 5 {
			xs := make([][]float64, n)
			for i := range xs {
				xs[i] = make([]float64, tc.d)
				for k := range xs[i] {
					xs[i][k] = rng.Float64()
				}
			}
			best = math.Min(best, disc(xs))
		}
		for _, randomize := range []string{"none", "shift", "xor"} {
			got := disc(sobolUnit(t, tc.d, n, randomize, 7, -1))
			t.Logf("d=%d %s, %s: Sobol %.3g, best of 5 random %.3g", tc.d, randomize, what, got, best)
			if !(got < best) {
				t.Errorf("d=%d %s: %s %.4g, not below random's %.4g", tc.d, randomize, what, got, best)
			}
		}
	}
}

// TestSobolShifts checks that randomised sequences depend on the seed and
// the plain one does not.
func TestSobolShifts(t *testing.T) {
	for _, tc := range []struct {
		randomize string
		differ    bool
	}{{"none", false}, {"shift", true}, {"xor", true}} {
		a := sobolUnit(t, 5, 4, tc.randomize, 1, 0)
		b := sobolUnit(t, 5, 4, tc.randomize, 2, 0)
		same := true
		for i := range a {
			same = same && floatbits.Equal(a[i], b[i])
		}
		if same == tc.differ {
			t.Errorf("%s: seeds 1 and 2 give the same points: %v, want %v", tc.randomize, same, !tc.differ)
		}
	}
}
