package gp

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"

	"goalsearch/search/asktell"
)

func box(d int) (lo, hi []float64) {
	lo, hi = make([]float64, d), make([]float64, d)
	for i := range lo {
		lo[i], hi[i] = -1, 1
	}
	return lo, hi
}

func sphere(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += (v - 0.3) * (v - 0.3)
	}
	return s
}

// run asks and tells f for trials points, batch at a time, and returns the
// values in point order.
func run(t *testing.T, o *Optimizer, f func([]float64) float64, trials, batch int) []float64 {
	t.Helper()
	var vals []float64
	for len(vals) < trials {
		xs, err := o.Ask(min(batch, trials-len(vals)))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range xs {
			v := f(x)
			if err := o.Tell(len(vals), asktell.Result{Value: v}); err != nil {
				t.Fatal(err)
			}
			vals = append(vals, v)
		}
	}
	return vals
}

func newOpt(t *testing.T, d int, cfg Config, seed uint64) *Optimizer {
	t.Helper()
	lo, hi := box(d)
	o, err := New(lo, hi, cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// The analytic gradient of the negative log posterior matches central
// differences.
func TestGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d = 25, 4
	xs := make([][]float64, n)
	ys := make([]float64, n)
	for i := range xs {
		xs[i] = make([]float64, d)
		for j := range xs[i] {
			xs[i][j] = rng.Float64()
		}
		ys[i] = sphere(xs[i]) + 0.05*rng.NormFloat64()
	}
	m := newModel(xs, ys, nil)
	for _, theta := range [][]float64{
		{0.3, -0.5, 1.2, 0.1, 0.2, math.Log(0.01)},
		{-1, 2, 0, 0.5, -0.3, math.Log(0.2)},
	} {
		g := make([]float64, len(theta))
		m.negLogPosterior(theta, g)
		for i := range theta {
			const h = 1e-6
			tp, tm := slices.Clone(theta), slices.Clone(theta)
			tp[i] += h
			tm[i] -= h
			fd := (m.negLogPosterior(tp, make([]float64, len(theta))) - m.negLogPosterior(tm, make([]float64, len(theta)))) / (2 * h)
			if math.Abs(fd-g[i]) > 1e-5*math.Max(1, math.Abs(fd)) {
				t.Errorf("theta %v: d/dθ%d = %v, finite difference %v", theta, i, g[i], fd)
			}
		}
	}
}

// The fit improves the posterior over its start, and the model
// interpolates what it was told: the mean at a told point of a smooth
// function is close to its value.
func TestFitInterpolates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 30
	xs := make([][]float64, n)
	ys := make([]float64, n)
	for i := range xs {
		xs[i] = []float64{rng.Float64(), rng.Float64(), rng.Float64()}
		ys[i] = sphere(xs[i])
	}
	m := newModel(xs, ys, nil)
	mean, sd := meanSD(ys)
	for i := range xs {
		mu, _ := m.predict(xs[i])
		if got := mu*sd + mean; math.Abs(got-ys[i]) > 0.05*sd {
			t.Errorf("point %d: mean %v, value %v", i, got, ys[i])
		}
	}
}

func TestLogH(t *testing.T) {
	direct := func(z float64) float64 {
		return math.Log(z*0.5*math.Erfc(-z/math.Sqrt2) + math.Exp(-z*z/2)/math.Sqrt(2*math.Pi))
	}
	// Where the direct sum is still accurate, the continued fraction
	// agrees with it; above −2 logH is the direct sum.
	for _, z := range []float64{-4, -3, -2.5, -2, -1, 0, 0.5, 2, 5} {
		if got, want := logH(z), direct(z); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("logH(%v) = %v, want %v", z, got, want)
		}
	}
	// Far out it follows the asymptote log φ(z) − 2 log|z|, stays finite
	// and decreases.
	prev := logH(-5)
	for _, z := range []float64{-10, -40, -1e3} {
		v := logH(z)
		asym := -z*z/2 - 0.5*math.Log(2*math.Pi) - 2*math.Log(-z)
		if !finite(v) || !(v < prev) || math.Abs(v-asym) > 3/(z*z) {
			t.Errorf("logH(%v) = %v: want finite, below %v and within 3/z² of %v", z, v, prev, asym)
		}
		prev = v
	}
}

// On a smooth function the GP beats uniform sampling at a small budget,
// in the median over seeds.
func TestBeatsRandom(t *testing.T) {
	const d, trials = 5, 30
	var gpBest, rndBest []float64
	for seed := range uint64(5) {
		vals := run(t, newOpt(t, d, Config{}, seed), sphere, trials, 1)
		gpBest = append(gpBest, slices.Min(vals))
		rnd := newOpt(t, d, Config{StartupTrials: trials}, seed)
		rndBest = append(rndBest, slices.Min(run(t, rnd, sphere, trials, 1)))
	}
	sort.Float64s(gpBest)
	sort.Float64s(rndBest)
	if !(gpBest[2] < 0.5*rndBest[2]) {
		t.Errorf("median best over 5 seeds: gp %v, random %v; want gp below half of random", gpBest[2], rndBest[2])
	}
}

// Points of one Ask, and points proposed while others are pending, are
// not proposed on top of each other.
func TestBelieversSpread(t *testing.T) {
	o := newOpt(t, 3, Config{StartupTrials: 5}, 7)
	run(t, o, sphere, 12, 1)
	xs, err := o.Ask(4)
	if err != nil {
		t.Fatal(err)
	}
	for a := range xs {
		for b := range a {
			dist := 0.0
			for j := range xs[a] {
				dist += (xs[a][j] - xs[b][j]) * (xs[a][j] - xs[b][j])
			}
			if math.Sqrt(dist) < 0.02 {
				t.Errorf("points %d and %d of one Ask are %v apart: %v, %v", a, b, math.Sqrt(dist), xs[a], xs[b])
			}
		}
	}
	if got := o.Pending(); !slices.Equal(got, []int{12, 13, 14, 15}) {
		t.Errorf("Pending = %v", got)
	}
}

// A state saved at any point, restored into a new Optimizer (through
// JSON), proposes exactly what the original does.
func TestResumeExact(t *testing.T) {
	for _, batch := range []int{1, 3} {
		a := newOpt(t, 4, Config{StartupTrials: 4}, 11)
		run(t, a, sphere, 9, batch)
		if _, err := a.Ask(2); err != nil { // two pending at the save
			t.Fatal(err)
		}
		raw, err := json.Marshal(a.State())
		if err != nil {
			t.Fatal(err)
		}
		var s State
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		b := newOpt(t, 4, Config{StartupTrials: 4}, 11)
		if err := b.Restore(s); err != nil {
			t.Fatal(err)
		}
		for _, o := range []*Optimizer{a, b} {
			// Tell the pending in reverse order in b: order must not matter.
			ks := o.Pending()
			if o == b {
				slices.Reverse(ks)
			}
			for _, k := range ks {
				if err := o.Tell(k, asktell.Result{Value: float64(k)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		xa, _ := a.Ask(batch)
		xb, _ := b.Ask(batch)
		for i := range xa {
			if !slices.Equal(xa[i], xb[i]) {
				t.Fatalf("batch %d: restored proposes %v, original %v", batch, xb[i], xa[i])
			}
		}
	}
}

// Failures and pruned points join the model as the worst complete value;
// the sampler keeps proposing inside the box.
func TestFailuresAndPruned(t *testing.T) {
	o := newOpt(t, 2, Config{StartupTrials: 3}, 5)
	for k := range 10 {
		xs, err := o.Ask(1)
		if err != nil {
			t.Fatal(err)
		}
		r := asktell.Result{Value: sphere(xs[0])}
		switch k % 3 {
		case 1:
			r = asktell.Result{Value: math.NaN()}
		case 2:
			r = asktell.Result{Value: -100, Pruned: true, Step: 1}
		}
		if err := o.Tell(k, r); err != nil {
			t.Fatal(err)
		}
		for _, v := range xs[0] {
			if !(v >= -1 && v <= 1) {
				t.Fatalf("proposal %v outside the box", xs[0])
			}
		}
	}
	// A pruned value of -100 must not become the incumbent the model
	// improves on.
	m := o.fit()
	_, sd := meanSD(func() []float64 {
		var v []float64
		for _, p := range o.points {
			if p.Told && !p.Failed && !p.Pruned {
				v = append(v, p.Value)
			}
		}
		return v
	}())
	if m == nil || m.fBest*sd < -50 {
		t.Errorf("model %v: incumbent from a pruned value", m)
	}
}

func TestRestoreRefuses(t *testing.T) {
	a := newOpt(t, 2, Config{StartupTrials: 2}, 1)
	run(t, a, sphere, 4, 1)
	good := a.State()
	for name, mut := range map[string]func(*State){
		"version": func(s *State) { s.Version++ },
		"seed":    func(s *State) { s.Seed++ },
		"box":     func(s *State) { s.Upper = []float64{2, 1} },
		"config":  func(s *State) { s.Config.Candidates = 7 },
		"theta":   func(s *State) { s.Theta = []float64{1} },
		"nan":     func(s *State) { s.Theta = []float64{1, 1, math.NaN(), 1} },
		"point":   func(s *State) { s.Points[0].X = []float64{5, 0} },
		"rng":     func(s *State) { s.RNG = nil },
	} {
		s := a.State()
		s.Points = asktell.ClonePoints(s.Points)
		mut(&s)
		b := newOpt(t, 2, Config{StartupTrials: 2}, 1)
		if err := b.Restore(s); !errors.Is(err, asktell.ErrState) {
			t.Errorf("%s: Restore = %v, want ErrState", name, err)
		}
	}
	b := newOpt(t, 2, Config{StartupTrials: 2}, 1)
	if err := b.Restore(good); err != nil {
		t.Fatal(err)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := New([]float64{0}, []float64{0}, Config{}, 1); !errors.Is(err, ErrConfig) {
		t.Errorf("empty interval: %v", err)
	}
	if _, err := New([]float64{0}, []float64{1}, Config{Candidates: -1}, 1); !errors.Is(err, ErrConfig) {
		t.Errorf("negative candidates: %v", err)
	}
	o := newOpt(t, 2, Config{}, 1)
	if _, err := o.Ask(0); !errors.Is(err, asktell.ErrProtocol) {
		t.Errorf("Ask(0): %v", err)
	}
	if err := o.Tell(0, asktell.Result{}); !errors.Is(err, asktell.ErrProtocol) {
		t.Errorf("Tell of nothing asked: %v", err)
	}
	if _, err := o.Enqueue([][]float64{{3, 0}}); !errors.Is(err, asktell.ErrProtocol) {
		t.Errorf("Enqueue outside the box: %v", err)
	}
}

func BenchmarkAsk(b *testing.B) {
	for _, n := range []int{100, 200, 500} {
		b.Run("told="+strconv.Itoa(n)+"/d=19", func(b *testing.B) {
			lo, hi := box(19)
			o, _ := New(lo, hi, Config{}, 1)
			rng := rand.New(rand.NewPCG(1, 1))
			for k := range n {
				x := make([]float64, 19)
				for j := range x {
					x[j] = 2*rng.Float64() - 1
				}
				o.Enqueue([][]float64{x})
				o.Tell(k, asktell.Result{Value: sphere(x) + 0.01*rng.NormFloat64()})
			}
			s := o.State()
			b.ResetTimer()
			for range b.N {
				o.Restore(s)
				if _, err := o.Ask(1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
