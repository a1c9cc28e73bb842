package evo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"goalsearch/internal/floatbits"
	"goalsearch/search/asktell"
)

// unitBox returns [-1, 1]^d.
func unitBox(d int) (lower, upper []float64) {
	lower, upper = make([]float64, d), make([]float64, d)
	for i := range lower {
		lower[i], upper[i] = -1, 1
	}
	return lower, upper
}

// sphere is Σ (x_i − c_i)² with c_i = 0.6 cos(1.7i + 0.3), an optimum
// inside [-1, 1]^d that is not the centre.
func sphere(x []float64) float64 {
	var s float64
	for i, v := range x {
		c := 0.6 * math.Cos(1.7*float64(i)+0.3)
		s += (v - c) * (v - c)
	}
	return s
}

// algo is a way to build an Optimizer, for table-driven tests.
type algo struct {
	name string
	mk   func(lower, upper []float64, seed uint64) (*Optimizer, error)
}

var algos = []algo{
	{"ga", func(l, u []float64, s uint64) (*Optimizer, error) { return NewGA(l, u, GAConfig{}, s) }},
	{"ga generational clip", func(l, u []float64, s uint64) (*Optimizer, error) {
		return NewGA(l, u, GAConfig{Generational: true, Bounds: Clip, PopSize: 10}, s)
	}},
	{"de", func(l, u []float64, s uint64) (*Optimizer, error) { return NewDE(l, u, DEConfig{}, s) }},
	{"de rand1 clip", func(l, u []float64, s uint64) (*Optimizer, error) {
		return NewDE(l, u, DEConfig{Strategy: Rand1, Bounds: Clip}, s)
	}},
	{"de best1", func(l, u []float64, s uint64) (*Optimizer, error) {
		return NewDE(l, u, DEConfig{Strategy: Best1, PopSize: 6}, s)
	}},
	{"pso", func(l, u []float64, s uint64) (*Optimizer, error) { return NewPSO(l, u, PSOConfig{}, s) }},
	{"pso spso2011 clip", func(l, u []float64, s uint64) (*Optimizer, error) {
		return NewPSO(l, u, PSOConfig{Update: SPSO2011, Bounds: Clip}, s)
	}},
}

func mustNew(t testing.TB, a algo, lower, upper []float64, seed uint64) *Optimizer {
	t.Helper()
	o, err := a.mk(lower, upper, seed)
	if err != nil {
		t.Fatalf("%s: %v", a.name, err)
	}
	return o
}

// tellAll tells the values of the pending generation in point order, NaN
// meaning a failure.
func tellAll(o *Optimizer, vals []float64) error {
	pend := o.Pending()
	if len(vals) != len(pend) {
		return fmt.Errorf("%w: %d values for %d pending points", ErrProtocol, len(vals), len(pend))
	}
	for i, k := range pend {
		if err := o.Tell(k, asktell.Result{Value: vals[i]}); err != nil {
			return err
		}
	}
	return nil
}

func jsonRoundTrip(t testing.TB, s State) (State, []byte) {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var r State
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r, b
}

// run asks and tells gens generations of f (with about 5% failures, drawn
// from a PCG of its own) and returns every proposed point. If reload says
// so, before an Ask or a Tell, the state goes through JSON into a new
// Optimizer.
func run(t *testing.T, a algo, d int, seed uint64, f func([]float64) float64, gens int, reload func() bool) [][]float64 {
	t.Helper()
	lower, upper := unitBox(d)
	o := mustNew(t, a, lower, upper, seed)
	fail := rand.New(rand.NewPCG(seed, 3))
	maybeReload := func() {
		if reload == nil || !reload() {
			return
		}
		s, b := jsonRoundTrip(t, o.State())
		o = mustNew(t, a, lower, upper, seed)
		if err := o.Restore(s); err != nil {
			t.Fatalf("%s: Restore: %v", a.name, err)
		}
		if _, b2 := jsonRoundTrip(t, o.State()); !bytes.Equal(b, b2) {
			t.Fatalf("%s: restored state differs", a.name)
		}
	}
	var all [][]float64
	for range gens {
		maybeReload()
		xs, err := o.Ask(1)
		if err != nil {
			t.Fatalf("%s: Ask: %v", a.name, err)
		}
		all = append(all, xs...)
		maybeReload()
		vals := make([]float64, len(xs))
		for i, x := range xs {
			vals[i] = f(x)
			if fail.IntN(20) == 0 {
				vals[i] = math.NaN()
			}
		}
		if err := tellAll(o, vals); err != nil {
			t.Fatalf("%s: Tell: %v", a.name, err)
		}
	}
	return all
}

func samePoints(a, b [][]float64) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d points, want %d", len(a), len(b))
	}
	for i := range a {
		if !floatbits.Equal(a[i], b[i]) {
			return fmt.Errorf("point %d is %v, want %v", i, a[i], b[i])
		}
	}
	return nil
}

// TestResumeExact saves the state through JSON at random moments and
// restores it into a new Optimizer; the proposals must be bit-identical to
// an uninterrupted run's.
func TestResumeExact(t *testing.T) {
	for k, a := range algos {
		want := run(t, a, 6, uint64(k), sphere, 20, nil)
		rng := rand.New(rand.NewPCG(uint64(k), 9))
		got := run(t, a, 6, uint64(k), sphere, 20, func() bool { return rng.IntN(3) == 0 })
		if err := samePoints(got, want); err != nil {
			t.Errorf("%s: with restores: %v", a.name, err)
		}
		// Another seed gives another search.
		if other := run(t, a, 6, uint64(k)+100, sphere, 1, nil); floatbits.Equal(other[0], want[0]) {
			t.Errorf("%s: seeds %d and %d propose the same first point", a.name, k, k+100)
		}
	}
}

// TestPlaceholderCannotLeak replays with other placeholder values: the
// proposals must not change, because every point of a pass exists before
// the pass evaluates any, and the run that saw a placeholder is discarded.
func TestPlaceholderCannotLeak(t *testing.T) {
	defer func(v float64) { placeholder = v }(placeholder)
	for k, a := range algos {
		placeholder = math.Inf(1)
		want := run(t, a, 5, uint64(k), sphere, 15, nil)
		for _, p := range []float64{math.Inf(-1), 0, -1e300, math.NaN()} {
			placeholder = p
			if err := samePoints(run(t, a, 5, uint64(k), sphere, 15, nil), want); err != nil {
				t.Errorf("%s: placeholder %v: %v", a.name, p, err)
			}
		}
	}
}

// TestBounds drives the search into a corner (and, with wide steps, far
// outside the box) and checks every point.
func TestBounds(t *testing.T) {
	corner := func(x []float64) float64 {
		var s float64
		for i, v := range x {
			s += float64(i+1) * v
		}
		return s
	}
	wild := []algo{
		{"ga wide mutation", func(l, u []float64, s uint64) (*Optimizer, error) {
			return NewGA(l, u, GAConfig{MutationScale: 5, MutationRate: 1}, s)
		}},
		{"de F=2", func(l, u []float64, s uint64) (*Optimizer, error) { return NewDE(l, u, DEConfig{F: 2}, s) }},
	}
	for k, a := range append(wild, algos...) {
		for _, x := range run(t, a, 7, uint64(k), corner, 40, nil) {
			for i, v := range x {
				if !(-1 <= v && v <= 1) {
					t.Fatalf("%s: coordinate %d = %v outside [-1, 1]", a.name, i, v)
				}
			}
		}
	}
}

func TestBoundsApply(t *testing.T) {
	for _, tc := range []struct {
		b          Bounds
		x, lo, hi  float64
		want       float64
		wasOutside bool
	}{
		{Reflect, 0.5, 0, 1, 0.5, false},
		{Reflect, 1, 0, 1, 1, false},
		{Reflect, 1.25, 0, 1, 0.75, true},
		{Reflect, -0.25, 0, 1, 0.25, true},
		{Reflect, 2.25, 0, 1, 0.25, true},  // two reflections
		{Reflect, -1.75, 0, 1, 0.25, true}, // two reflections
		{Reflect, 3, 1, 2, 1, true},
		{Clip, 1.25, 0, 1, 1, true},
		{Clip, -7, 0, 1, 0, true},
		{Reflect, math.NaN(), 0, 1, 0.5, true},
		{Clip, math.Inf(1), 0, 1, 0.5, true},
	} {
		got, out := tc.b.apply(tc.x, tc.lo, tc.hi)
		if got != tc.want || out != tc.wasOutside {
			t.Errorf("%s.apply(%v, %v, %v) = %v, %v; want %v, %v", tc.b, tc.x, tc.lo, tc.hi, got, out, tc.want, tc.wasOutside)
		}
	}
}

// TestBeatsRandom checks that each algorithm's best value on a 10-D sphere
// after 400 evaluations is far below that of 400 uniform random points,
// averaged over 3 seeds, for the default configurations. A sampler that
// ignored its values would be about as good as random.
func TestBeatsRandom(t *testing.T) {
	const d, budget, seeds = 10, 400, 3
	lower, upper := unitBox(d)
	var random float64
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 1))
		best := math.Inf(1)
		for range budget {
			x := make([]float64, d)
			for i := range x {
				x[i] = -1 + 2*rng.Float64()
			}
			best = math.Min(best, sphere(x))
		}
		random += best / seeds
	}
	for _, a := range []algo{algos[0], algos[2], algos[5]} {
		var mean float64
		for seed := range uint64(seeds) {
			o := mustNew(t, a, lower, upper, seed)
			best, n := math.Inf(1), 0
			for n < budget {
				xs, err := o.Ask(1)
				if err != nil {
					t.Fatalf("%s: %v", a.name, err)
				}
				vals := make([]float64, len(xs))
				for i, x := range xs {
					vals[i] = sphere(x)
					if n < budget {
						best = math.Min(best, vals[i])
					}
					n++
				}
				if err := tellAll(o, vals); err != nil {
					t.Fatal(err)
				}
			}
			mean += best / seeds
		}
		t.Logf("%s: mean best %.4g, random %.4g", a.name, mean, random)
		if !(mean < random/4) {
			t.Errorf("%s: mean best %.4g after %d evaluations, want < random's %.4g / 4", a.name, mean, budget, random)
		}
	}
}

func TestProtocol(t *testing.T) {
	lower, upper := unitBox(3)
	for _, a := range algos {
		o := mustNew(t, a, lower, upper, 1)
		if err := o.Tell(0, asktell.Result{Value: 1}); !errors.Is(err, ErrProtocol) || !errors.Is(err, asktell.ErrProtocol) {
			t.Errorf("%s: Tell before Ask = %v", a.name, err)
		}
		if _, err := o.Ask(0); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: Ask(0) = %v", a.name, err)
		}
		xs, err := o.Ask(1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Ask(1); !errors.Is(err, ErrPending) || !errors.Is(err, asktell.ErrPending) {
			t.Errorf("%s: second Ask = %v", a.name, err)
		}
		if err := o.Tell(len(xs), asktell.Result{}); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: Tell of a point not asked = %v", a.name, err)
		}
		// Told in reverse, each once; the history takes them in point
		// order once the last is in.
		for k := len(xs) - 1; k >= 0; k-- {
			if err := o.Tell(k, asktell.Result{Value: float64(k)}); err != nil {
				t.Fatalf("%s: Tell(%d): %v", a.name, k, err)
			}
			if k == 0 {
				break
			}
			if err := o.Tell(k, asktell.Result{}); !errors.Is(err, ErrProtocol) {
				t.Errorf("%s: second Tell(%d) = %v", a.name, k, err)
			}
			if o.Evaluations() != 0 || len(o.Pending()) != k {
				t.Errorf("%s: after telling %d of %d: %d evaluations, pending %v", a.name, len(xs)-k, len(xs), o.Evaluations(), o.Pending())
			}
		}
		if o.Evaluations() != len(xs) || o.Pending() != nil {
			t.Errorf("%s: %d evaluations and pending %v after the generation, want %d and none", a.name, o.Evaluations(), o.Pending(), len(xs))
		}
		for k, rec := range o.State().History {
			if rec.Value != float64(k) || !floatbits.Equal(rec.X, xs[k]) {
				t.Errorf("%s: history[%d] = %+v, want point %d with value %d", a.name, k, rec, k, k)
			}
		}
	}
}

// TestPrunedFitness: pruned points rank after complete ones, later steps
// first, and before failures.
func TestPrunedFitness(t *testing.T) {
	recs := []Record{
		{Value: 1e200},
		{Value: -5, Pruned: true, Step: 9},
		{Value: -50, Pruned: true, Step: 3},
		{Value: -500, Pruned: true, Step: 1},
		{Failed: true},
	}
	for i := 1; i < len(recs); i++ {
		if !(recs[i-1].fitness() < recs[i].fitness()) {
			t.Errorf("fitness of %+v = %v, not below %+v's %v", recs[i-1], recs[i-1].fitness(), recs[i], recs[i].fitness())
		}
	}
}

// TestDiverged edits a told point (keeping it in the box): the next replay
// cannot re-visit it and must say so.
func TestDiverged(t *testing.T) {
	lower, upper := unitBox(4)
	for _, a := range algos {
		o := mustNew(t, a, lower, upper, 1)
		for range 3 {
			xs, err := o.Ask(1)
			if err != nil {
				t.Fatal(err)
			}
			if err := tellAll(o, make([]float64, len(xs))); err != nil {
				t.Fatal(err)
			}
		}
		s := o.State()
		s.History[len(s.History)/2].X[0] = math.Nextafter(s.History[len(s.History)/2].X[0], 0)
		if err := o.Restore(s); err != nil {
			t.Fatalf("%s: Restore: %v", a.name, err)
		}
		if _, err := o.Ask(1); !errors.Is(err, ErrDiverged) {
			t.Errorf("%s: Ask after editing the history = %v, want ErrDiverged", a.name, err)
		}
	}
}

func TestRestoreRejects(t *testing.T) {
	lower, upper := unitBox(3)
	a := algos[0]
	o := mustNew(t, a, lower, upper, 4)
	for range 2 {
		xs, _ := o.Ask(1)
		if err := tellAll(o, make([]float64, len(xs))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.Ask(1); err != nil {
		t.Fatal(err)
	}
	good := o.State()
	for _, tc := range []struct {
		name string
		into func() (*Optimizer, error)
		edit func(*State)
	}{
		{"version", nil, func(s *State) { s.Version++ }},
		{"algorithm", func() (*Optimizer, error) { return NewDE(lower, upper, DEConfig{}, 4) }, func(*State) {}},
		{"config", func() (*Optimizer, error) { return NewGA(lower, upper, GAConfig{PopSize: 17}, 4) }, func(*State) {}},
		{"seed", func() (*Optimizer, error) { return NewGA(lower, upper, GAConfig{}, 5) }, func(*State) {}},
		{"box", func() (*Optimizer, error) { return NewGA(lower, []float64{1, 1, 2}, GAConfig{}, 4) }, func(*State) {}},
		{"point length", nil, func(s *State) { s.History[0].X = s.History[0].X[:2] }},
		{"point outside", nil, func(s *State) { s.History[0].X[1] = 1.5 }},
		{"duplicate", nil, func(s *State) { s.History[1].X = s.History[0].X }},
		{"failed with value", nil, func(s *State) { s.History[0].Failed, s.History[0].Value = true, 1 }},
		{"pending told", nil, func(s *State) { s.Pending[0].X = s.History[0].X }},
		{"pending flags", nil, func(s *State) { s.Told = s.Told[1:] }},
		{"pending all told", nil, func(s *State) {
			for i := range s.Told {
				s.Told[i] = true
			}
		}},
		{"pending value untold", nil, func(s *State) { s.Pending[0].Value = 1 }},
		{"pruned step", nil, func(s *State) { s.History[0].Step = 2 }},
		{"config garbage", nil, func(s *State) { s.Config = json.RawMessage(`{`) }},
	} {
		s, _ := jsonRoundTrip(t, good)
		tc.edit(&s)
		into := tc.into
		if into == nil {
			into = func() (*Optimizer, error) { return NewGA(lower, upper, GAConfig{}, 4) }
		}
		r, err := into()
		if err != nil {
			t.Fatal(err)
		}
		_, before := jsonRoundTrip(t, r.State())
		if err := r.Restore(s); !errors.Is(err, ErrState) {
			t.Errorf("%s: Restore = %v, want ErrState", tc.name, err)
		}
		if _, after := jsonRoundTrip(t, r.State()); !bytes.Equal(before, after) {
			t.Errorf("%s: failed Restore changed the Optimizer", tc.name)
		}
	}
	// Defaults spelled out are the same configuration.
	r, err := NewGA(lower, upper, GAConfig{PopSize: 16, Tournament: 2, Bounds: Reflect}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Restore(good); err != nil {
		t.Errorf("Restore into explicit defaults: %v", err)
	}
}

// TestDone collapses a DE population onto a corner with clipping, where
// every trial repeats a point already told: Ask must end with ErrDone
// rather than replay forever.
func TestDone(t *testing.T) {
	lower, upper := unitBox(2)
	o, err := NewDE(lower, upper, DEConfig{Strategy: Best1, Bounds: Clip, F: 2, PopSize: 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	sum := func(x []float64) float64 { return x[0] + x[1] }
	for gen := range 10000 {
		xs, err := o.Ask(1)
		if errors.Is(err, ErrDone) {
			t.Logf("done after %d generations, %d evaluations", gen, o.Evaluations())
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]float64, len(xs))
		for i, x := range xs {
			vals[i] = sum(x)
		}
		if err := tellAll(o, vals); err != nil {
			t.Fatal(err)
		}
	}
	t.Error("no ErrDone after 10000 generations")
}

// TestNoGoroutineOutlivesAsk checks that eaopt's errgroup goroutine is gone
// when Ask returns.
func TestNoGoroutineOutlivesAsk(t *testing.T) {
	lower, upper := unitBox(3)
	for _, a := range algos {
		o := mustNew(t, a, lower, upper, 1)
		before := runtime.NumGoroutine()
		for range 5 {
			xs, err := o.Ask(1)
			if err != nil {
				t.Fatal(err)
			}
			if err := tellAll(o, make([]float64, len(xs))); err != nil {
				t.Fatal(err)
			}
		}
		// An exited goroutine may take a moment to be unaccounted.
		deadline := time.Now().Add(time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if after := runtime.NumGoroutine(); after > before {
			t.Errorf("%s: %d goroutines before, %d after", a.name, before, after)
		}
	}
}

// history1000 returns an Optimizer of a in 19 dimensions with about 1000
// told points and no generation outstanding.
func history1000(tb testing.TB, a algo) *Optimizer {
	lower, upper := unitBox(19)
	o := mustNew(tb, a, lower, upper, 1)
	for o.Evaluations() < 1000 {
		xs, err := o.Ask(1)
		if err != nil {
			tb.Fatal(err)
		}
		vals := make([]float64, len(xs))
		for i, x := range xs {
			vals[i] = sphere(x)
		}
		if err := tellAll(o, vals); err != nil {
			tb.Fatal(err)
		}
	}
	return o
}

// BenchmarkAsk measures one Ask that replays a history of 1000 evaluations
// in 19 dimensions.
func BenchmarkAsk(b *testing.B) {
	for _, a := range []algo{algos[0], algos[2], algos[5]} {
		b.Run(a.name, func(b *testing.B) {
			o := history1000(b, a)
			s := o.State()
			b.ReportAllocs()
			for b.Loop() {
				if err := o.Restore(s); err != nil {
					b.Fatal(err)
				}
				if _, err := o.Ask(1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
