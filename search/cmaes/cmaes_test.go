package cmaes

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"goalsearch/internal/floatbits"
	"goalsearch/search/asktell"
)

func TestDefaultPopulation(t *testing.T) {
	// λ = 4 + ⌊3 ln n⌋, tutorial Table 1, evaluated by hand.
	for _, tc := range []struct{ n, lambda int }{
		{1, 4}, {2, 6}, {5, 8}, {10, 10}, {19, 12}, {100, 17},
	} {
		o := mustNew(t, Config{Dim: tc.n})
		if got := o.State().Population; got != tc.lambda {
			t.Errorf("n=%d: λ=%d, want %d", tc.n, got, tc.lambda)
		}
	}
}

func TestParams(t *testing.T) {
	const tol = 1e-12
	for _, tc := range []struct {
		n, lambda int
		mueff     float64 // (Σw')²/Σw'² over i ≤ μ, evaluated in Python for λ=10
	}{
		{n: 10, lambda: 10, mueff: 3.1672992814107026},
		{n: 19, lambda: 12},
		{n: 2, lambda: 3}, // λ odd: w'_2 = 0
		{n: 1, lambda: 2},
		{n: 19, lambda: 12 << 6},
	} {
		p := newParams(tc.n, tc.lambda)
		if tc.mueff != 0 && math.Abs(p.mueff-tc.mueff) > 1e-9 {
			t.Errorf("n=%d λ=%d: μeff=%v, want %v", tc.n, tc.lambda, p.mueff, tc.mueff)
		}
		// Table 1: positive weights sum to one, are non-increasing, and the
		// negative ones sum to −min(α_μ⁻, α_μeff⁻, α_posdef⁻).
		var pos, neg float64
		for i, w := range p.weights {
			if i > 0 && w > p.weights[i-1] {
				t.Errorf("n=%d λ=%d: weights not non-increasing at %d", tc.n, tc.lambda, i)
			}
			if i < p.mu && !(w > 0) || i >= p.mu && w > 0 {
				t.Errorf("n=%d λ=%d: w_%d=%v has the wrong sign", tc.n, tc.lambda, i+1, w)
			}
			if w > 0 {
				pos += w
			} else {
				neg += w
			}
		}
		if math.Abs(pos-1) > tol {
			t.Errorf("n=%d λ=%d: Σw⁺=%v, want 1", tc.n, tc.lambda, pos)
		}
		if !(p.c1+p.cmu <= 1) || !(p.c1 > 0) || !(p.cmu > 0) {
			t.Errorf("n=%d λ=%d: c1=%v cμ=%v", tc.n, tc.lambda, p.c1, p.cmu)
		}
		// With α_posdef⁻ binding or not, c1 + cμ Σw must stay below one
		// so that the decay factor of C is positive.
		if d := 1 - p.c1 - p.cmu*p.sumW; !(d > 0) {
			t.Errorf("n=%d λ=%d: decay %v", tc.n, tc.lambda, d)
		}
		if neg > 0 {
			t.Errorf("n=%d λ=%d: Σw⁻=%v > 0", tc.n, tc.lambda, neg)
		}
	}
}

func TestInvalidConfig(t *testing.T) {
	nan := math.NaN()
	inf := math.Inf(1)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"Dim 0", Config{}},
		{"Dim negative", Config{Dim: -2}},
		{"Lower length", Config{Dim: 2, Lower: []float64{0}}},
		{"Upper length", Config{Dim: 2, Upper: []float64{1, 1, 1}}},
		{"Lower == Upper", Config{Dim: 2, Lower: []float64{0, 0}, Upper: []float64{1, 0}}},
		{"Lower > Upper", Config{Dim: 1, Lower: []float64{2}}},
		{"Lower NaN", Config{Dim: 2, Lower: []float64{nan, 0}}},
		{"Upper NaN", Config{Dim: 1, Upper: []float64{nan}}},
		{"Upper Inf", Config{Dim: 1, Upper: []float64{inf}}},
		{"Lower -Inf", Config{Dim: 1, Lower: []float64{-inf}}},
		{"width overflows", Config{Dim: 1, Lower: []float64{-math.MaxFloat64}, Upper: []float64{math.MaxFloat64}}},
		{"Mean length", Config{Dim: 2, Mean: []float64{0}}},
		{"Mean outside", Config{Dim: 2, Mean: []float64{0, 1.5}}},
		{"Mean NaN", Config{Dim: 1, Mean: []float64{nan}}},
		{"Sigma0 negative", Config{Dim: 1, Sigma0: -0.1}},
		{"Sigma0 NaN", Config{Dim: 1, Sigma0: nan}},
		{"Sigma0 Inf", Config{Dim: 1, Sigma0: inf}},
		{"Population 1", Config{Dim: 3, Population: 1}},
		{"Population negative", Config{Dim: 3, Population: -4}},
		{"MaxSamples negative", Config{Dim: 3, MaxSamples: -1}},
		{"Restart unknown", Config{Dim: 3, Restart: "ipopp"}},
		{"TolFun NaN", Config{Dim: 3, TolFun: nan}},
		{"TolX Inf", Config{Dim: 3, TolX: inf}},
		{"ConditionCov NaN", Config{Dim: 3, ConditionCov: nan}},
	} {
		o, err := New(tc.cfg)
		if !errors.Is(err, ErrConfig) || o != nil {
			t.Errorf("%s: New = %v, %v; want nil, ErrConfig", tc.name, o, err)
		}
	}
}

// TestSphere19 is the project's acceptance criterion: Σ(x_i − 0.3)² in 19-D
// on [-1, 1]¹⁹, from the centre (f = 1.71), below 1e-3 within 1000
// evaluations. The thresholds are measured on seeds 0..19 (evaluations to
// target in the comments); CMA-ES needs about as many on the unbounded
// sphere, so the box costs little. At the default Sigma0 = 1/3 the budget is
// tight: 4 of 20 seeds need 1000–1060 evaluations.
func TestSphere19(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       Config
		minHits   int // seeds of 20 that must reach 1e-3 within 1000
		maxMedian int // median evaluations to target over the 20 seeds
	}{
		// Measured: 16/20 hit, median 940, min 818.
		{"default", Config{Dim: 19}, 16, 960},
		// Measured: 20/20 hit, median 876, max 944.
		{"Sigma0 0.2", Config{Dim: 19, Sigma0: 0.2}, 20, 900},
		// Measured: 20/20 hit, median 781, max 907.
		{"Population 8", Config{Dim: 19, Population: 8}, 20, 820},
	} {
		var evals []int
		hits := 0
		for seed := range uint64(20) {
			cfg := tc.cfg
			cfg.Seed = seed
			r := minimize(t, mustNew(t, cfg), sphere(0.3), 1000, 1e-3)
			if r.hit {
				hits++
				evals = append(evals, r.evals)
			} else {
				evals = append(evals, math.MaxInt)
			}
		}
		slices.Sort(evals)
		med := evals[len(evals)/2]
		t.Logf("%s: %d/20 within 1000 evaluations, median %d", tc.name, hits, med)
		if hits < tc.minHits || med > tc.maxMedian {
			t.Errorf("%s: %d/20 hits (want ≥ %d), median %d (want ≤ %d)", tc.name, hits, tc.minHits, med, tc.maxMedian)
		}
	}
}

// TestRosenbrock checks convergence to 1e-6 on Rosenbrock in [-2, 2]ⁿ
// (optimum at (1, …, 1), inside the box) from the centre. Hansen and
// Ostermeier (2001) and the tutorial's Figure 6 report a few thousand
// evaluations in 10-D for CMA-ES (about 6000 to 1e-10); a minority of runs
// end in the local minimum near (−1, 1, …, 1), which is why not every seed
// must succeed.
func TestRosenbrock(t *testing.T) {
	for _, tc := range []struct {
		n, budget int
		minHits   int // of seeds 0..19
		maxMedian int
	}{
		// Measured: 19/20 hit, median 1560, max 1976.
		{n: 5, budget: 3000, minHits: 18, maxMedian: 1700},
		// Measured: 19/20 hit, median 4685, max 5984.
		{n: 10, budget: 8000, minHits: 18, maxMedian: 5200},
	} {
		var evals []int
		hits := 0
		for seed := range uint64(20) {
			cfg := Config{Dim: tc.n, Lower: fill(nil, tc.n, -2), Upper: fill(nil, tc.n, 2), Seed: seed}
			r := minimize(t, mustNew(t, cfg), rosenbrock, tc.budget, 1e-6)
			if r.hit {
				hits++
				evals = append(evals, r.evals)
			} else {
				evals = append(evals, math.MaxInt)
			}
		}
		slices.Sort(evals)
		med := evals[len(evals)/2]
		t.Logf("%d-D: %d/20 within %d evaluations, median %d", tc.n, hits, tc.budget, med)
		if hits < tc.minHits || med > tc.maxMedian {
			t.Errorf("%d-D: %d/20 hits (want ≥ %d), median %d (want ≤ %d)", tc.n, hits, tc.minHits, med, tc.maxMedian)
		}
	}
}

func TestBoundsRespected(t *testing.T) {
	// A linear objective pulls the search into a corner, so many draws fall
	// outside and are resampled or clipped.
	linear := func(x []float64) float64 {
		var s float64
		for i, v := range x {
			s += float64(i+1) * v
		}
		return s
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		f    objective
	}{
		{"default box", Config{Dim: 5}, linear},
		{"asymmetric box, huge Sigma0", Config{Dim: 3, Lower: []float64{0, -10, 5}, Upper: []float64{1e-3, 10, 5.5}, Sigma0: 5}, linear},
		{"clip without resampling", Config{Dim: 4, MaxSamples: 1, Sigma0: 2}, linear},
		{"mean in a corner", Config{Dim: 2, Mean: []float64{1, -1}}, sphere(2)},
		{"IPOP restarts", Config{Dim: 3, Restart: IPOP, TolFun: 1e-3}, rastrigin},
		{"BIPOP restarts", Config{Dim: 3, Restart: BIPOP, TolFun: 1e-3, MaxRestarts: -1}, rastrigin},
	} {
		o := mustNew(t, tc.cfg)
		lo, hi := o.cfg.Lower, o.cfg.Upper
		atBound := 0
		for e := 0; e < 3000 && !o.Done(); {
			k := o.s.Evaluations
			xs, err := o.Ask(1)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			for j, x := range xs {
				for i, v := range x {
					if !(lo[i] <= v && v <= hi[i]) {
						t.Fatalf("%s: x[%d]=%v outside [%v, %v]", tc.name, i, v, lo[i], hi[i])
					}
					if v == lo[i] || v == hi[i] {
						atBound++
					}
				}
				if err := o.Tell(k+j, value(tc.f(x))); err != nil {
					t.Fatal(err)
				}
				e++
			}
		}
		t.Logf("%s: %d coordinates on a bound", tc.name, atBound)
	}
}

// driver is a deterministic stand-in for a parallel search driver: it asks
// when it may, evaluates pending points in random order, and reports some
// as failures and some as pruned. Its choices depend only on its own PCG and
// on what the Optimizer reports, so two drivers with equal seeds make the
// same choices on Optimizers in equal states.
type driver struct {
	rng      *rand.Rand
	f        objective
	failPct  int
	prunePct int
	next     int               // number of the next point Ask returns
	points   map[int][]float64 // the asked points, by number
}

// step performs one ask or one tell; it returns the asked points, if any,
// and false if the search is done.
func (d *driver) step(t *testing.T, o *Optimizer) ([][]float64, bool) {
	if d.points == nil {
		d.points = map[int][]float64{}
	}
	pend := o.Pending()
	if len(pend) == 0 || d.rng.IntN(3) == 0 {
		xs, err := o.Ask(1 + d.rng.IntN(3))
		switch {
		case err == nil:
			for _, x := range xs {
				d.points[d.next] = x
				d.next++
			}
			return xs, true
		case errors.Is(err, ErrDone):
			return nil, false
		case !errors.Is(err, ErrPending):
			t.Fatal(err)
		}
	}
	k := pend[d.rng.IntN(len(pend))]
	r := value(d.f(d.points[k]))
	switch p := d.rng.IntN(100); {
	case p < d.failPct:
		r.Value = math.NaN()
	case p < d.failPct+d.prunePct:
		r.Pruned, r.Step = true, 1+d.rng.IntN(3)
	}
	if err := o.Tell(k, r); err != nil {
		t.Fatal(err)
	}
	return nil, true
}

// jsonRoundTrip encodes s and decodes it into a new State.
func jsonRoundTrip(t *testing.T, s State) (State, []byte) {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("json.Marshal(State): %v", err)
	}
	var r State
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("json.Unmarshal(State): %v", err)
	}
	return r, b
}

// TestResumeExact interrupts a search at random moments (between any two
// asks or tells, so often mid-generation and across restarts), saves its
// State through JSON, restores it into a new Optimizer and continues. Every
// proposed point and the final State must equal those of an uninterrupted
// search bit for bit.
func TestResumeExact(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		f       objective
		steps   int
		failPct int
	}{
		{"sphere 19-D", Config{Dim: 19, Seed: 1}, sphere(0.3), 1500, 0},
		{"rastrigin IPOP with failures", Config{Dim: 4, Lower: fill(nil, 4, -5.12), Upper: fill(nil, 4, 5.12), Restart: IPOP, TolFun: 1e-4, Seed: 2}, rastrigin, 6000, 5},
		{"rastrigin BIPOP with failures", Config{Dim: 3, Lower: fill(nil, 3, -5.12), Upper: fill(nil, 3, 5.12), Restart: BIPOP, TolFun: 1e-4, MaxRestarts: -1, Seed: 3}, rastrigin, 6000, 10},
		{"until done", Config{Dim: 2, Restart: IPOP, MaxRestarts: 2, TolFun: 1e-2, Seed: 4}, sphere(0.1), 100000, 3},
	} {
		run := func(interrupt *rand.Rand) ([][]float64, []byte, int) {
			o := mustNew(t, tc.cfg)
			d := &driver{rng: rand.New(rand.NewPCG(7, 7)), f: tc.f, failPct: tc.failPct, prunePct: 10}
			var asked [][]float64
			restores := 0
			for range tc.steps {
				if interrupt != nil && interrupt.IntN(20) == 0 {
					s, b := jsonRoundTrip(t, o.State())
					o = mustNew(t, tc.cfg)
					if err := o.Restore(s); err != nil {
						t.Fatalf("%s: Restore: %v", tc.name, err)
					}
					if _, b2 := jsonRoundTrip(t, o.State()); !bytes.Equal(b, b2) {
						t.Fatalf("%s: restored State differs from the saved one", tc.name)
					}
					restores++
				}
				xs, more := d.step(t, o)
				asked = append(asked, xs...)
				if !more {
					break
				}
			}
			_, b := jsonRoundTrip(t, o.State())
			return asked, b, restores
		}
		want, wantState, _ := run(nil)
		got, gotState, restores := run(rand.New(rand.NewPCG(99, 1)))
		if len(got) != len(want) {
			t.Fatalf("%s: %d points asked after %d restores, want %d", tc.name, len(got), restores, len(want))
		}
		for i := range want {
			if !floatbits.Equal(got[i], want[i]) {
				t.Fatalf("%s: point %d is %v, want %v", tc.name, i, got[i], want[i])
			}
		}
		if !bytes.Equal(gotState, wantState) {
			t.Errorf("%s: final states differ:\n got %s\nwant %s", tc.name, gotState, wantState)
		}
		var s State
		if err := json.Unmarshal(wantState, &s); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d points, %d restores, %d restarts, done %v", tc.name, len(want), restores, s.Restarts, s.Done)
	}
}

// TestTellOrderIndependence tells each generation's values in index order
// to one Optimizer and in a random order to another; their states must stay
// identical. Values are rounded so that ties occur; some fail, some are
// pruned.
func TestTellOrderIndependence(t *testing.T) {
	f := func(x []float64) float64 { return math.Round(10*rastrigin(x)) / 10 }
	cfg := Config{Dim: 6, Restart: BIPOP, TolFun: 1e-3, Seed: 5}
	a, b := mustNew(t, cfg), mustNew(t, cfg)
	shuffle := rand.New(rand.NewPCG(3, 4))
	result := func(i int, x []float64) asktell.Result {
		r := value(f(x))
		switch i % 7 {
		case 3:
			r.Value = math.Inf(1)
		case 5:
			r.Pruned, r.Step = true, 1+i%2
		}
		return r
	}
	for g := 0; g < 300 && !a.Done(); g++ {
		k := a.s.Evaluations
		xa, _ := a.Ask(1)
		xb, _ := b.Ask(1)
		for i, x := range xa {
			if err := a.Tell(k+i, result(i, x)); err != nil {
				t.Fatal(err)
			}
		}
		for _, i := range shuffle.Perm(len(xb)) {
			if err := b.Tell(k+i, result(i, xb[i])); err != nil {
				t.Fatal(err)
			}
		}
		_, ja := jsonRoundTrip(t, a.State())
		_, jb := jsonRoundTrip(t, b.State())
		if !bytes.Equal(ja, jb) {
			t.Fatalf("generation %d: states differ", g)
		}
	}
}

func TestAskTellProtocol(t *testing.T) {
	o := mustNew(t, Config{Dim: 3, Population: 4})
	if _, err := o.Ask(0); !errors.Is(err, ErrProtocol) || !errors.Is(err, asktell.ErrProtocol) {
		t.Errorf("Ask(0): %v, want ErrProtocol", err)
	}
	xs, err := o.Ask(1)
	if err != nil || len(xs) != 4 {
		t.Fatalf("Ask(1) = %d points, %v; want the whole generation of 4", len(xs), err)
	}
	if _, err := o.Ask(1); !errors.Is(err, ErrPending) || !errors.Is(err, asktell.ErrPending) {
		t.Errorf("Ask on a full generation: %v, want ErrPending", err)
	}
	for _, k := range []int{-1, 4, 5} {
		if err := o.Tell(k, value(1)); !errors.Is(err, ErrProtocol) {
			t.Errorf("Tell(%d): %v, want ErrProtocol", k, err)
		}
	}
	if err := o.Tell(2, value(1)); err != nil {
		t.Fatal(err)
	}
	if err := o.Tell(2, value(1)); !errors.Is(err, ErrProtocol) {
		t.Errorf("second tell: %v, want ErrProtocol", err)
	}
	if p := o.Pending(); !slices.Equal(p, []int{0, 1, 3}) {
		t.Errorf("Pending = %v, want [0 1 3]", p)
	}
	xs[0][0] = 99 // the caller owns the points
	if o.s.Points[0].X[0] == 99 {
		t.Error("Ask returned memory shared with the Optimizer")
	}
	for _, k := range []int{3, 0, 1} {
		if err := o.Tell(k, value(2)); err != nil {
			t.Fatal(err)
		}
	}
	if p := o.Pending(); p != nil || o.State().Generation != 1 {
		t.Errorf("after the last tell: pending %v, generation %d; want none, 1", p, o.State().Generation)
	}
	if err := o.Tell(0, value(1)); !errors.Is(err, ErrProtocol) {
		t.Errorf("tell of a finished generation: %v, want ErrProtocol", err)
	}
	if b, ok := o.Best(); !ok || b.Value != 1 || b.K != 2 {
		t.Errorf("Best = %v, %v; want value 1 at point 2", b, ok)
	}
	// The next generation's points are numbered on.
	if _, err := o.Ask(1); err != nil {
		t.Fatal(err)
	}
	if p := o.Pending(); !slices.Equal(p, []int{4, 5, 6, 7}) {
		t.Errorf("Pending = %v, want [4 5 6 7]", p)
	}
}

// TestPrunedRanking: pruned points rank below complete ones, those pruned
// later first, so a generation in which most points were pruned still
// moves the mean towards the complete and the later-pruned points.
func TestPrunedRanking(t *testing.T) {
	o := mustNew(t, Config{Dim: 2, Population: 6, Seed: 3})
	xs, _ := o.Ask(1)
	before := slices.Clone(o.s.Mean)
	// Point 0 is complete with the worst value, point 1 pruned at step 3,
	// the rest pruned at step 1 with better values: the rank order is
	// 0, 1, then 2..5 by value.
	rs := []asktell.Result{{Value: 100}, {Value: 50, Pruned: true, Step: 3}}
	for i := 2; i < 6; i++ {
		rs = append(rs, asktell.Result{Value: float64(-i), Pruned: true, Step: 1})
	}
	for k, r := range rs {
		if err := o.Tell(k, r); err != nil {
			t.Fatal(err)
		}
	}
	if o.s.RunGeneration != 1 {
		t.Fatalf("a generation of 1 complete and 5 pruned points did not update (run generation %d)", o.s.RunGeneration)
	}
	// μ = 3: the mean moves to a convex combination of points 0, 1 and 5
	// (the best of those pruned at step 1), with the largest weight on 0.
	p := newParams(2, 6)
	for j := range 2 {
		want := p.weights[0]*xs[0][j] + p.weights[1]*xs[1][j] + p.weights[2]*xs[5][j]
		if math.Abs(o.s.Mean[j]-want) > 1e-12 {
			t.Errorf("mean[%d] = %v, want %v (from %v)", j, o.s.Mean[j], want, before[j])
		}
	}
	if b, ok := o.Best(); !ok || b.K != 0 || b.Value != 100 {
		t.Errorf("Best = %+v, %v; want the complete point 0 (pruned values are not best)", b, ok)
	}
}

func TestFailures(t *testing.T) {
	// A generation with fewer than μ successes leaves the distribution
	// unchanged but is counted.
	o := mustNew(t, Config{Dim: 4, Population: 6})
	before := o.State()
	o.Ask(1)
	for i := range 6 {
		v := math.NaN()
		if i == 0 {
			v = 5
		}
		if err := o.Tell(i, value(v)); err != nil {
			t.Fatal(err)
		}
	}
	after := o.State()
	if !floatbits.Equal(after.Mean, before.Mean) || after.Sigma != before.Sigma || after.RunGeneration != 0 {
		t.Error("distribution changed after a generation with 1 success of 6")
	}
	if after.Evaluations != 6 || after.Generation != 1 {
		t.Errorf("evaluations %d, generation %d; want 6, 1", after.Evaluations, after.Generation)
	}
	if floatbits.Equal(after.Points[0].X, before.Points[0].X) {
		t.Error("the next generation repeats the failed one")
	}
	if after.Best == nil || after.Best.Value != 5 {
		t.Errorf("Best = %+v, want value 5 (failures are not best)", after.Best)
	}
	// Every kind of non-finite value is a failure, and the State still
	// encodes as JSON.
	o.Ask(1)
	for i, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if err := o.Tell(6+i, value(v)); err != nil {
			t.Fatal(err)
		}
		s := o.State()
		if p := s.Points[i]; !p.Failed || p.Value != 0 {
			t.Errorf("Tell(%v) recorded %+v", v, p)
		}
		jsonRoundTrip(t, s)
	}
}

func TestStopCriteria(t *testing.T) {
	constant := func([]float64) float64 { return 1 }
	linear := func(x []float64) float64 { return x[0] + x[1] + x[2] }
	ellipsoid := func(x []float64) float64 {
		var s float64
		for i, v := range x {
			s += math.Pow(1e6, float64(i)/float64(len(x)-1)) * v * v
		}
		return s
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		f    objective
		want StopReason
	}{
		// A flat function meets TolFun once the history window is full.
		{"flat", Config{Dim: 3, Restart: NoRestart}, constant, StopTolFun},
		// Without TolFun, a zero range of best values is EqualFunValues.
		{"flat, no TolFun", Config{Dim: 3, Restart: NoRestart, TolFun: -1}, constant, StopTolHistFun},
		// Without both, the medians cannot improve: stagnation.
		{"flat, no TolFun/TolHistFun", Config{Dim: 3, Restart: NoRestart, TolFun: -1, TolHistFun: -1}, constant, StopStagnation},
		// On the sphere the standard deviations fall below 1e-3 long
		// before the values flatten to 1e-12.
		{"sphere TolX", Config{Dim: 3, Restart: NoRestart, TolX: 1e-3}, sphere(0.3), StopTolX},
		// A far too small step size on a slope grows by 1e4.
		{"linear TolXUp", Config{Dim: 3, Restart: NoRestart, Sigma0: 1e-7}, linear, StopTolXUp},
		// Axis ratio 1e3 needs condition 1e6 > 1e4.
		{"ellipsoid ConditionCov", Config{Dim: 4, Restart: NoRestart, ConditionCov: 1e4}, ellipsoid, StopConditionCov},
		// With the value-based criteria off, σ shrinks until it no longer
		// moves the mean; each test is checked with the other one off.
		{"sphere NoEffectCoord", Config{Dim: 3, Restart: NoRestart, TolFun: -1, TolHistFun: -1, TolX: -1, NoEffectAxis: -1}, sphere(0.3), StopNoEffectCoord},
		{"sphere NoEffectAxis", Config{Dim: 3, Restart: NoRestart, TolFun: -1, TolHistFun: -1, TolX: -1, NoEffectCoord: -1}, sphere(0.3), StopNoEffectAxis},
	} {
		o := mustNew(t, tc.cfg)
		minimize(t, o, tc.f, 200000, math.Inf(-1))
		s := o.State()
		if !s.Done || s.StopReason != tc.want {
			t.Errorf("%s: done %v, reason %q after %d evaluations; want %q", tc.name, s.Done, s.StopReason, s.Evaluations, tc.want)
		}
		if _, err := o.Ask(1); !errors.Is(err, ErrDone) || !errors.Is(err, asktell.ErrDone) {
			t.Errorf("%s: Ask after done: %v, want ErrDone", tc.name, err)
		}
	}
}

// runStarts records the regime, population, initial σ and budgets at the
// start of every run of a search.
type runStart struct {
	regime       Regime
	lambda       int
	sigma0       float64
	maxEvals     int
	budgetLarge  int // before the run
	budgetSmall  int
	largeRestart int
}

func trackRuns(t *testing.T, cfg Config, f objective, budget int) ([]runStart, float64) {
	o := mustNew(t, cfg)
	var runs []runStart
	record := func() {
		s := &o.s
		runs = append(runs, runStart{s.Regime, s.Population, s.RunSigma0, s.RunMaxEvaluations, s.BudgetLarge, s.BudgetSmall, s.LargeRestarts})
	}
	record()
	for o.s.Evaluations < budget && !o.Done() {
		restarts := o.s.Restarts
		minimize(t, o, f, o.s.Population, math.Inf(-1)) // one generation
		if o.s.Restarts != restarts {
			record()
		}
	}
	b, _ := o.Best()
	return runs, b.Value
}

func TestIPOP(t *testing.T) {
	cfg := Config{Dim: 5, Lower: fill(nil, 5, -5.12), Upper: fill(nil, 5, 5.12), Restart: IPOP, MaxRestarts: 4}
	// Auger and Hansen (2005): λ doubles at every restart; σ₀ stays.
	runs, _ := trackRuns(t, cfg, rastrigin, math.MaxInt)
	if len(runs) != 5 {
		t.Fatalf("%d runs, want 1 + MaxRestarts = 5", len(runs))
	}
	for k, r := range runs {
		if want := 8 << k; r.lambda != want || r.regime != RegimeLarge || r.sigma0 != runs[0].sigma0 {
			t.Errorf("run %d: %+v, want λ=%d, large regime, σ₀=%v", k, r, want, runs[0].sigma0)
		}
	}
}

func TestBIPOP(t *testing.T) {
	const lambdaDef = 8 // 4 + ⌊3 ln 5⌋
	cfg := Config{Dim: 5, Lower: fill(nil, 5, -5.12), Upper: fill(nil, 5, 5.12), Restart: BIPOP, MaxRestarts: -1, Seed: 1}
	runs, _ := trackRuns(t, cfg, rastrigin, 40000)
	sigmaDef := runs[0].sigma0
	small := 0
	for k, r := range runs[1:] {
		// Hansen (2009): each restart goes to the regime that has used
		// fewer evaluations; the first run counts as large.
		wantRegime := RegimeLarge
		if r.budgetSmall < r.budgetLarge {
			wantRegime = RegimeSmall
		}
		if r.regime != wantRegime {
			t.Errorf("restart %d: regime %s with budgets large %d, small %d", k+1, r.regime, r.budgetLarge, r.budgetSmall)
		}
		switch r.regime {
		case RegimeLarge:
			if want := lambdaDef << r.largeRestart; r.lambda != want || r.sigma0 != sigmaDef || r.maxEvals != 0 {
				t.Errorf("restart %d: %+v, want λ=%d, σ₀=%v, no cap", k+1, r, want, sigmaDef)
			}
		case RegimeSmall:
			small++
			// λ_s ∈ [λ_def, λ_l/2], σ₀ ∈ [σ_def/100, σ_def], budget at most
			// half the large regime's.
			hiLambda := lambdaDef << r.largeRestart
			if r.lambda < lambdaDef || r.lambda > hiLambda ||
				r.sigma0 > sigmaDef || r.sigma0 < sigmaDef/100 ||
				r.maxEvals != max(r.budgetLarge/2, r.lambda) {
				t.Errorf("restart %d: %+v out of range", k+1, r)
			}
		}
	}
	large := len(runs) - small
	if small < 3 || large < 3 {
		t.Errorf("%d small and %d large runs in 40000 evaluations; want both regimes used", small, large)
	}
}

// TestRestartsImprove compares the best value on 5-D Rastrigin without
// restarts (one run until it stops) and with IPOP and BIPOP within 20000
// evaluations, over 8 seeds. A single run with λ = 8 ends in a local
// minimum with value ≈ 2–9; IPOP reaches the global basin with λ ≈ 50–200
// (Auger and Hansen 2005).
func TestRestartsImprove(t *testing.T) {
	mean := func(rs Restart) float64 {
		var sum float64
		for seed := range uint64(8) {
			cfg := Config{Dim: 5, Lower: fill(nil, 5, -5.12), Upper: fill(nil, 5, 5.12), Restart: rs, MaxRestarts: -1, Seed: seed}
			_, best := trackRuns(t, cfg, rastrigin, 20000)
			sum += best
		}
		return sum / 8
	}
	none, ipop, bipop := mean(NoRestart), mean(IPOP), mean(BIPOP)
	t.Logf("mean best: none %.3g, IPOP %.3g, BIPOP %.3g", none, ipop, bipop)
	if !(ipop < none/2) || !(bipop < none/2) {
		t.Errorf("restarts did not halve the mean best value: none %v, IPOP %v, BIPOP %v", none, ipop, bipop)
	}
}

func TestStateIsACopy(t *testing.T) {
	o := mustNew(t, Config{Dim: 3})
	minimize(t, o, sphere(0), 50, -1)
	s := o.State()
	_, want := jsonRoundTrip(t, s)
	s.Mean[0] = 42
	s.C[1][1] = 42
	s.Points[0].X[0] = 42
	s.RNG[0] ^= 0xff
	if _, got := jsonRoundTrip(t, o.State()); !bytes.Equal(got, want) {
		t.Error("modifying a returned State changed the Optimizer")
	}
}

func TestRestoreErrors(t *testing.T) {
	cfg := Config{Dim: 3, Seed: 9}
	o := mustNew(t, cfg)
	minimize(t, o, sphere(0), 40, -1)
	good := o.State()
	for _, tc := range []struct {
		name  string
		cfg   Config // Config of the Optimizer restored into
		edit  func(*State)
		isErr error
	}{
		{"version", cfg, func(s *State) { s.Version = 1 }, ErrVersion},
		{"version 0", cfg, func(s *State) { s.Version = 0 }, ErrVersion},
		{"dimension", Config{Dim: 4}, func(*State) {}, ErrState},
		{"bounds", Config{Dim: 3, Upper: []float64{1, 1, 2}}, func(*State) {}, ErrState},
		{"seed", Config{Dim: 3, Seed: 8}, func(*State) {}, ErrState},
		{"settings", Config{Dim: 3, Seed: 9, TolFun: 1e-3}, func(*State) {}, ErrState},
		{"restart", Config{Dim: 3, Seed: 9, Restart: BIPOP}, func(*State) {}, ErrState},
		{"point value", cfg, func(s *State) { s.Points[0].Value = math.Inf(1) }, ErrState},
		{"best point", cfg, func(s *State) { s.Best.K = s.Evaluations }, ErrState},
		{"mean length", cfg, func(s *State) { s.Mean = s.Mean[:2] }, ErrState},
		{"C rows", cfg, func(s *State) { s.C = s.C[:2] }, ErrState},
		{"B row length", cfg, func(s *State) { s.B[1] = s.B[1][:1] }, ErrState},
		{"D non-positive", cfg, func(s *State) { s.D[0] = 0 }, ErrState},
		{"sigma", cfg, func(s *State) { s.Sigma = -1 }, ErrState},
		{"points", cfg, func(s *State) { s.Points = s.Points[:2] }, ErrState},
		{"point length", cfg, func(s *State) { s.Points[0].X = nil }, ErrState},
		{"asked", cfg, func(s *State) { s.Asked = 99 }, ErrState},
		{"asked part", cfg, func(s *State) { s.Asked = 1 }, ErrState},
		{"told not asked", cfg, func(s *State) { s.Asked = 0; s.Points[0].Told = true }, ErrState},
		{"regime", cfg, func(s *State) { s.Regime = "medium" }, ErrState},
		{"rng", cfg, func(s *State) { s.RNG = []byte("nonsense") }, ErrState},
	} {
		s, _ := jsonRoundTrip(t, good)
		tc.edit(&s)
		r := mustNew(t, tc.cfg)
		_, before := jsonRoundTrip(t, r.State())
		if err := r.Restore(s); !errors.Is(err, tc.isErr) {
			t.Errorf("%s: Restore = %v, want %v", tc.name, err, tc.isErr)
		}
		if _, after := jsonRoundTrip(t, r.State()); !bytes.Equal(before, after) {
			t.Errorf("%s: a failed Restore changed the Optimizer", tc.name)
		}
	}
	// The unedited state restores.
	s, _ := jsonRoundTrip(t, good)
	if err := mustNew(t, cfg).Restore(s); err != nil {
		t.Errorf("Restore(good) = %v", err)
	}
}
