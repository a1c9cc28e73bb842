package nsga2

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"goalsearch/internal/pareto"
	"goalsearch/search/asktell"
)

func box(d int) ([]float64, []float64) {
	lo, hi := make([]float64, d), make([]float64, d)
	for i := range lo {
		lo[i], hi[i] = -1, 1
	}
	return lo, hi
}

// sparseSphere is a two-objective test problem like the goal search's:
// distance to a dense optimum against the number of nonzero coordinates
// rounded to 0.1.
func sparseSphere(x []float64) asktell.Result {
	f := 0.0
	for _, v := range x {
		f += (v - 0.5) * (v - 0.5)
	}
	n, _ := pareto.Complexity(pareto.NonZero, 0.1, x)
	return asktell.Result{Value: f, Values: []float64{n}}
}

func TestDefaults(t *testing.T) {
	lo, hi := box(18)
	o, err := New(lo, hi, Config{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{PopulationSize: 50, CrossoverProb: 0.9, SwappingProb: 0.5, MutationProb: 1.0 / 18, ZeroProb: 0.5}
	if got := o.Config(); got != want {
		t.Fatalf("defaults %+v, want %+v (Optuna's NSGAIISampler, and zero_prob 0.5)", got, want)
	}
	for _, c := range []Config{{PopulationSize: 1}, {CrossoverProb: 1.5}, {SwappingProb: 1}, {MutationProb: 2},
		{ZeroProb: 1}, {CrossoverProb: math.NaN()}} {
		if _, err := New(lo, hi, c, 1); !errors.Is(err, ErrConfig) {
			t.Errorf("config %+v: error %v, want ErrConfig", c, err)
		}
	}
	if _, err := New([]float64{1}, []float64{0}, Config{}, 1); !errors.Is(err, ErrConfig) {
		t.Errorf("empty interval: error %v, want ErrConfig", err)
	}
}

// TestSparseInitial: individual i of N has 1 + ⌊i·n/N⌋ nonzero
// coordinates, and the rest are exactly 0; DenseInit draws every one.
func TestSparseInitial(t *testing.T) {
	lo, hi := box(18)
	o, _ := New(lo, hi, Config{PopulationSize: 25}, 7)
	xs, err := o.Ask(1)
	if err != nil || len(xs) != 25 {
		t.Fatalf("Ask: %d points, %v", len(xs), err)
	}
	for i, x := range xs {
		nz := 0
		for _, v := range x {
			if v != 0 {
				nz++
			}
		}
		if want := 1 + i*18/25; nz != want {
			t.Fatalf("initial point %d has %d nonzero coordinates, want %d", i, nz, want)
		}
	}
	d, _ := New(lo, hi, Config{PopulationSize: 25, DenseInit: true}, 7)
	xs, _ = d.Ask(1)
	for i, x := range xs {
		for _, v := range x {
			if v == 0 {
				t.Fatalf("dense initial point %d has a zero", i)
			}
		}
	}
	// A coordinate whose interval excludes 0 is never zeroed.
	lo[3], hi[3] = 0.5, 1
	o, _ = New(lo, hi, Config{PopulationSize: 25}, 7)
	xs, _ = o.Ask(1)
	for i, x := range xs {
		if x[3] < 0.5 {
			t.Fatalf("point %d: coordinate 3 is %v outside [0.5, 1]", i, x[3])
		}
	}
}

// run drives o for gens generations, telling each generation's results in
// the order perm gives (nil: in order), and returns every point asked.
func run(t *testing.T, o *Optimizer, gens int, f func([]float64) asktell.Result, perm func(n int) []int) [][]float64 {
	t.Helper()
	var all [][]float64
	for g := 0; g < gens; g++ {
		xs, err := o.Ask(3)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Ask(1); !errors.Is(err, asktell.ErrPending) {
			t.Fatalf("Ask with a generation pending: %v, want ErrPending", err)
		}
		pend := o.Pending()
		if len(pend) != len(xs) {
			t.Fatalf("%d pending after asking %d", len(pend), len(xs))
		}
		order := make([]int, len(xs))
		for i := range order {
			order[i] = i
		}
		if perm != nil {
			order = perm(len(xs))
		}
		for _, i := range order {
			if err := o.Tell(pend[i], f(xs[i])); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, xs...)
	}
	return all
}

// TestTellOrderAndRestore: the points asked do not depend on the order
// results are told in, and a sampler restored from a state (through JSON,
// as the store keeps it) mid-generation continues exactly.
func TestTellOrderAndRestore(t *testing.T) {
	lo, hi := box(6)
	cfg := Config{PopulationSize: 10}
	a, _ := New(lo, hi, cfg, 3)
	want := run(t, a, 8, sparseSphere, nil)

	b, _ := New(lo, hi, cfg, 3)
	r := rand.New(rand.NewPCG(1, 2))
	if got := run(t, b, 8, sparseSphere, r.Perm); !reflect.DeepEqual(got, want) {
		t.Fatal("points differ when results are told in another order")
	}

	c, _ := New(lo, hi, cfg, 3)
	got := run(t, c, 3, sparseSphere, nil)
	xs, _ := c.Ask(1)
	pend := c.Pending()
	for i := 0; i < 4; i++ {
		_ = c.Tell(pend[i], sparseSphere(xs[i]))
	}
	raw, err := json.Marshal(c.State())
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	d, _ := New(lo, hi, cfg, 3)
	if err := d.Restore(st); err != nil {
		t.Fatal(err)
	}
	for i := 4; i < len(xs); i++ {
		if err := d.Tell(pend[i], sparseSphere(xs[i])); err != nil {
			t.Fatal(err)
		}
	}
	got = append(got, xs...)
	got = append(got, run(t, d, 4, sparseSphere, nil)...)
	if !reflect.DeepEqual(got, want) {
		t.Fatal("a restored sampler proposes other points")
	}

	other, _ := New(lo, hi, Config{PopulationSize: 12}, 3)
	if err := other.Restore(st); !errors.Is(err, asktell.ErrState) {
		t.Fatalf("restoring into another config: %v, want ErrState", err)
	}
	seed, _ := New(lo, hi, cfg, 4)
	if err := seed.Restore(st); !errors.Is(err, asktell.ErrState) {
		t.Fatalf("restoring into another seed: %v, want ErrState", err)
	}
}

func TestProtocol(t *testing.T) {
	lo, hi := box(3)
	o, _ := New(lo, hi, Config{PopulationSize: 4}, 1)
	if _, err := o.Ask(0); !errors.Is(err, asktell.ErrProtocol) {
		t.Fatalf("Ask(0): %v", err)
	}
	o.Ask(1)
	if err := o.Tell(4, asktell.Result{Value: 1}); !errors.Is(err, asktell.ErrProtocol) {
		t.Fatalf("Tell of a point not asked: %v", err)
	}
	o.Tell(0, asktell.Result{Value: 1, Values: []float64{2}})
	if err := o.Tell(0, asktell.Result{Value: 1}); !errors.Is(err, asktell.ErrProtocol) {
		t.Fatalf("Tell twice: %v", err)
	}
	if err := o.Tell(1, asktell.Result{Value: 1}); !errors.Is(err, asktell.ErrProtocol) {
		t.Fatalf("Tell with another number of objectives: %v", err)
	}
	if got := o.Pending(); !reflect.DeepEqual(got, []int{1, 2, 3}) {
		t.Fatalf("Pending = %v, want [1 2 3]", got)
	}
}

// TestSelectionKeepsTheFront: after a generation is told, the parents are
// the best fronts of parents and offspring; a point that dominates every
// other one survives every later generation, and failures never displace
// a complete point.
func TestSelectionKeepsTheFront(t *testing.T) {
	lo, hi := box(4)
	o, _ := New(lo, hi, Config{PopulationSize: 6}, 5)
	xs, _ := o.Ask(1)
	for i := range xs {
		r := asktell.Result{Value: float64(10 + i), Values: []float64{float64(10 + i)}}
		if i == 2 {
			r = asktell.Result{Value: 0, Values: []float64{0}} // dominates everything
		}
		o.Tell(i, r)
	}
	best := xs[2]
	for g := 1; g < 5; g++ {
		xs, _ := o.Ask(1)
		for i, k := range o.Pending() {
			r := asktell.Result{Value: math.NaN()}
			if i%2 == 0 {
				r = asktell.Result{Value: 5 + float64(i), Values: []float64{5}}
			}
			o.Tell(k, r)
		}
		_ = xs
		f := o.Front()
		if len(f) != 1 || !reflect.DeepEqual(f[0].X, best) {
			t.Fatalf("generation %d: front %+v, want only the dominating point", g, f)
		}
		for _, p := range o.State().Parents {
			if p.Failed {
				t.Fatalf("generation %d: a failure is a parent while complete points were left out", g)
			}
		}
	}
}

// TestReachesSparseGoals is the lesson of the first attempt: on the
// 18-coordinate sparse sphere, NSGA-II with the sparsity operators finds
// points of 4 or fewer nonzero weights near the sparse optimum (0.5 on
// four coordinates), and plain NSGA-II (dense start, no zeroing) finds
// none with so few.
func TestReachesSparseGoals(t *testing.T) {
	lo, hi := box(18)
	sparsest := func(cfg Config) (int, float64) {
		o, _ := New(lo, hi, cfg, 9)
		xs := run(t, o, 8, sparseSphere, nil)
		best, bestF := 99, math.Inf(1)
		for _, x := range xs {
			r := sparseSphere(x)
			if n := int(r.Values[0]); n > 0 && n <= 4 && r.Value < bestF {
				best, bestF = n, r.Value
			}
		}
		return best, bestF
	}
	if n, _ := sparsest(Config{PopulationSize: 25}); n > 4 {
		t.Fatalf("sparse NSGA-II: no point with at most 4 nonzero weights")
	}
	if n, f := sparsest(Config{PopulationSize: 25, DenseInit: true, ZeroProb: -1}); n <= 4 {
		t.Fatalf("plain NSGA-II found a point of %d nonzero weights (f %v); the test no longer shows the difference", n, f)
	}
}
