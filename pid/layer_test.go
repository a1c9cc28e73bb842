package pid

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// layerBatch simulates one minibatch of a trivariate hidden layer as the
// trainer produces it (row-major sample × neuron): a feedforward drive spread
// over several bins, a context that takes one of 10 label values, a lateral
// input, all binned on [-20, 20] like the paper's fixed binning.
type layerBatch struct {
	batch, neurons int
	bins           [][]int32
	theta          []float64
}

func newLayerBatch(seed uint64, batch, neurons, nbins int) *layerBatch {
	return newLayerBatchSpread(seed, batch, neurons, nbins, 1)
}

// newLayerBatchSpread scales the spread of the source values: 1 spreads a
// neuron over ~200 cells of 20^3 (a worst case), 0.3 over ~20, as a
// context-lateral layer trained on MNIST does (measured: 21-22 cells per
// neuron at 20 bins, 170-200 at 100 bins, after 1 to 5 epochs).
func newLayerBatchSpread(seed uint64, batch, neurons, nbins int, spread float64) *layerBatch {
	r := rand.New(rand.NewPCG(seed, 1))
	lb := &layerBatch{batch: batch, neurons: neurons, bins: make([][]int32, 3), theta: make([]float64, batch*neurons)}
	for k := range lb.bins {
		lb.bins[k] = make([]int32, batch*neurons)
	}
	ctx := make([]float64, 10*neurons)
	for i := range ctx {
		ctx[i] = 3 * spread * r.NormFloat64()
	}
	bin := func(x float64) int32 {
		x = math.Max(-20+1e-4, math.Min(20, x))
		b := int32(math.Ceil((x+20)/40*float64(nbins))) - 1
		return max(b, 0)
	}
	for m := 0; m < batch; m++ {
		label := r.IntN(10)
		for i := 0; i < neurons; i++ {
			f := 4 * spread * r.NormFloat64()
			c := ctx[label*neurons+i]
			l := 2 * spread * r.NormFloat64()
			j := m*neurons + i
			lb.bins[0][j], lb.bins[1][j], lb.bins[2][j] = bin(f), bin(c), bin(l)
			lb.theta[j] = 1 / (1 + math.Exp(-f*(0.8+0.1/(1+math.Exp(-2*f*c))+0.1/(1+math.Exp(-2*f*l)))))
		}
	}
	return lb
}

// tpeGoal is context-lateral/opt_1_100_tpe (goals_reference.yaml).
var tpeGoal = []float64{0.3307283306516516, 0.9780761799548087, -0.9935002057481923, 0.40173303106031233, 0.2427806207519021, 0.6255375402143335, 0.47128370476190684, 0.02120506738070921, 0.06053998481721795, -0.9469786302806626, -0.01985334149032275, -0.9676614963177035, -0.6924498112774857, 0.42701490050101726, 0.9736446648870112, 0.7369645864450716, -0.12183291675207343, -0.21512478790202927, 0.035001249394734923}

func newResults(lat *Lattice, n int) []*Result {
	res := make([]*Result, n)
	for i := range res {
		res[i] = lat.NewResult()
	}
	return res
}

// TestLayerMatchesEstimator checks that the parallel layer gives, bit for
// bit, what one estimator gives neuron by neuron, whatever the threads.
func TestLayerMatchesEstimator(t *testing.T) {
	lb := newLayerBatch(1, 200, 13, 20)
	lat := MustLattice(3)
	est := NewEstimator(lat)
	want := newResults(lat, lb.neurons)
	wantD := make([]float64, len(lb.theta))
	col := make([][]int32, 3)
	th := make([]float64, lb.batch)
	d := make([]float64, lb.batch)
	for i := 0; i < lb.neurons; i++ {
		for k := range col {
			col[k] = make([]int32, lb.batch)
			for m := range col[k] {
				col[k][m] = lb.bins[k][m*lb.neurons+i]
			}
		}
		for m := range th {
			th[m] = lb.theta[m*lb.neurons+i]
		}
		if err := est.Samples(want[i], col, th, tpeGoal, d); err != nil {
			t.Fatal(err)
		}
		for m, v := range d {
			wantD[m*lb.neurons+i] = v
		}
	}
	for _, threads := range []int{1, 2, 5, 32} {
		y := NewLayer(lat, threads)
		got := newResults(lat, lb.neurons)
		gotD := make([]float64, len(lb.theta))
		for rep := 0; rep < 2; rep++ { // the second call reuses every buffer
			if err := y.Compute(got, lb.bins, lb.theta, lb.batch, lb.neurons, tpeGoal, gotD); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i].G != want[i].G || got[i].HRes != want[i].HRes {
					t.Fatalf("threads %d neuron %d: G %v, want %v", threads, i, got[i].G, want[i].G)
				}
				for a := range got[i].Atoms {
					if got[i].Atoms[a] != want[i].Atoms[a] {
						t.Fatalf("threads %d neuron %d atom %d differs", threads, i, a)
					}
				}
			}
			for j := range gotD {
				if gotD[j] != wantD[j] {
					t.Fatalf("threads %d: dtheta[%d] = %v, want %v", threads, j, gotD[j], wantD[j])
				}
			}
		}
		y.Close()
	}
}

func TestLayerError(t *testing.T) {
	lb := newLayerBatch(2, 50, 6, 20)
	lb.theta[7*6+4] = math.NaN() // sample 7 of neuron 4
	lb.theta[9*6+5] = 2          // sample 9 of neuron 5
	lat := MustLattice(3)
	y := NewLayer(lat, 3)
	defer y.Close()
	err := y.Compute(newResults(lat, 6), lb.bins, lb.theta, lb.batch, lb.neurons, nil, nil)
	if !errors.Is(err, ErrProbability) || err.Error() != "neuron 4: pid: probability outside [0, 1] or NaN: theta[7] = NaN" {
		t.Fatalf("error %v", err)
	}
}

// TestLayerBinRange: a layer reports a negative bin of any neuron, and bins
// too wide for its packed cell keys (64/n bits per source) give the results
// of an estimator, for every number of sources.
func TestLayerBinRange(t *testing.T) {
	for n := MinSources; n <= MaxSources; n++ {
		lat := MustLattice(n)
		const batch, neurons = 40, 3
		r := rand.New(rand.NewPCG(uint64(n), 9))
		bins := make([][]int32, n)
		theta := make([]float64, batch*neurons)
		for j := range theta {
			theta[j] = r.Float64()
		}
		for k := range bins {
			bins[k] = make([]int32, batch*neurons)
			for j := range bins[k] {
				bins[k][j] = int32(r.IntN(3))
			}
		}
		y := NewLayer(lat, 2)
		bins[n-1][5*neurons+1] = -1 // sample 5 of neuron 1, the last source
		err := y.Compute(newResults(lat, neurons), bins, theta, batch, neurons, nil, nil)
		if !errors.Is(err, ErrNegativeBin) {
			t.Errorf("%d sources: error %v, want a negative bin", n, err)
		}
		// Neuron 2's bins of the last source just beyond its key width.
		bins[n-1][5*neurons+1] = 0
		for m := 0; m < batch; m++ {
			bins[n-1][m*neurons+2] += 1<<(64/n) - 2 + int32(m%2)
			if n == 2 {
				bins[n-1][m*neurons+2] = math.MaxInt32 - int32(m%3)
			}
		}
		got := newResults(lat, neurons)
		d := make([]float64, len(theta))
		goal := make([]float64, lat.GoalLen())
		for k := range goal {
			goal[k] = r.NormFloat64()
		}
		if err := y.Compute(got, bins, theta, batch, neurons, goal, d); err != nil {
			t.Fatalf("%d sources: %v", n, err)
		}
		y.Close()
		est := NewEstimator(lat)
		col := make([][]int32, n)
		th := make([]float64, batch)
		want := lat.NewResult()
		wantD := make([]float64, batch)
		for i := 0; i < neurons; i++ {
			for k := range col {
				col[k] = make([]int32, batch)
				for m := range col[k] {
					col[k][m] = bins[k][m*neurons+i]
				}
			}
			for m := range th {
				th[m] = theta[m*neurons+i]
			}
			if err := est.Samples(want, col, th, goal, wantD); err != nil {
				t.Fatal(err)
			}
			if got[i].G != want.G {
				t.Errorf("%d sources, neuron %d: G %v, want %v", n, i, got[i].G, want.G)
			}
			for m := range wantD {
				if d[m*neurons+i] != wantD[m] {
					t.Fatalf("%d sources, neuron %d: dtheta[%d] %v, want %v", n, i, m, d[m*neurons+i], wantD[m])
				}
			}
		}
	}
}

// TestLayerNoAllocs: the steady state of a training loop allocates nothing.
func TestLayerNoAllocs(t *testing.T) {
	lb := newLayerBatch(3, 256, 20, 20)
	lat := MustLattice(3)
	for _, threads := range []int{1, 2} {
		y := NewLayer(lat, threads)
		res := newResults(lat, lb.neurons)
		d := make([]float64, len(lb.theta))
		allocs := testing.AllocsPerRun(5, func() {
			if err := y.Compute(res, lb.bins, lb.theta, lb.batch, lb.neurons, tpeGoal, d); err != nil {
				t.Fatal(err)
			}
		})
		y.Close()
		if allocs != 0 {
			t.Errorf("threads %d: %v allocations per call, want 0", threads, allocs)
		}
	}
}

// BenchmarkLayer is the target: PID and gradient of a 100-neuron
// trivariate layer, batch 1024, at 20 and 100 bins per source, on 1 and 2
// threads. The same source values are binned at both resolutions.
func BenchmarkLayer(b *testing.B) {
	lat := MustLattice(3)
	for _, data := range []struct {
		name   string
		spread float64
	}{{"trained", 0.3}, {"spread", 1}} {
		for _, nbins := range []int{20, 100, -20} {
			name := data.name + "/bins=" + itoa(nbins)
			lb := newLayerBatchSpread(4, 1024, 100, max(nbins, 20), data.spread)
			if nbins < 0 {
				// The 20-bin cells with their indices spread over 1000
				// bins: the same occupancy, a 50 times larger range.
				for k := range lb.bins {
					for j := range lb.bins[k] {
						lb.bins[k][j] *= 50
					}
				}
				name = data.name + "/bins=20x50"
			}
			for _, threads := range []int{1, 2} {
				b.Run(name+"/threads="+itoa(threads), func(b *testing.B) {
					y := NewLayer(lat, threads)
					defer y.Close()
					res := newResults(lat, lb.neurons)
					d := make([]float64, len(lb.theta))
					// Warm up first: buffers are sized on the first call.
					if err := y.Compute(res, lb.bins, lb.theta, lb.batch, lb.neurons, tpeGoal, d); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					for b.Loop() {
						if err := y.Compute(res, lb.bins, lb.theta, lb.batch, lb.neurons, tpeGoal, d); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/batch")
					b.ReportMetric(lb.cellsPerNeuron(), "cells/neuron")
				})
			}
		}
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func (lb *layerBatch) cellsPerNeuron() float64 {
	total := 0
	for i := 0; i < lb.neurons; i++ {
		seen := map[[3]int32]bool{}
		for m := 0; m < lb.batch; m++ {
			j := m*lb.neurons + i
			seen[[3]int32{lb.bins[0][j], lb.bins[1][j], lb.bins[2][j]}] = true
		}
		total += len(seen)
	}
	return float64(total) / float64(lb.neurons)
}

// TestTrivariateFullPass: the spelled-out pass for the union of all three
// sources gives the generic pass's results bit for bit, gradients included,
// on data that exercise the fraction floor (thetas of exactly 0 and 1).
func TestTrivariateFullPass(t *testing.T) {
	lat := MustLattice(3)
	generic := *lat
	generic.unions = append([]unionGroup(nil), lat.unions...)
	found := false
	for i := range generic.unions {
		found = found || generic.unions[i].trivariateFull
		generic.unions[i].trivariateFull = false
	}
	if !found {
		t.Fatal("the trivariate lattice has no union matching tri7Terms")
	}
	for seed, nbins := range []int{3, 20, 100} {
		lb := newLayerBatchSpread(uint64(seed), 300, 4, nbins, 0.5)
		for j := range lb.theta {
			switch j % 7 {
			case 0:
				lb.theta[j] = 0
			case 1:
				lb.theta[j] = 1
			}
		}
		y1, y2 := NewLayer(lat, 1), NewLayer(&generic, 1)
		r1, r2 := newResults(lat, lb.neurons), newResults(lat, lb.neurons)
		d1, d2 := make([]float64, len(lb.theta)), make([]float64, len(lb.theta))
		if err := y1.Compute(r1, lb.bins, lb.theta, lb.batch, lb.neurons, tpeGoal, d1); err != nil {
			t.Fatal(err)
		}
		if err := y2.Compute(r2, lb.bins, lb.theta, lb.batch, lb.neurons, tpeGoal, d2); err != nil {
			t.Fatal(err)
		}
		y1.Close()
		y2.Close()
		for i := range r1 {
			for a := range r1[i].Icap {
				if r1[i].Icap[a] != r2[i].Icap[a] {
					t.Fatalf("bins %d neuron %d: I_cap %s %v, generic %v", nbins, i, lat.Antichain(a).Label(nil), r1[i].Icap[a], r2[i].Icap[a])
				}
			}
			if r1[i].G != r2[i].G {
				t.Fatalf("bins %d neuron %d: G %v, generic %v", nbins, i, r1[i].G, r2[i].G)
			}
		}
		for j := range d1 {
			if d1[j] != d2[j] {
				t.Fatalf("bins %d: dtheta[%d] %v, generic %v", nbins, j, d1[j], d2[j])
			}
		}
	}
}

// TestTinyTheta: thetas so small that p_ut times the denominator is
// subnormal (its reciprocal overflows) give the results of thetas of 0,
// within rounding: their fractions lie far below the floor.
func TestTinyTheta(t *testing.T) {
	lat := MustLattice(3)
	lb := newLayerBatch(5, 200, 3, 20)
	zero := append([]float64(nil), lb.theta...)
	for m := 0; m < lb.batch; m++ {
		if lb.bins[0][m*lb.neurons] < 10 { // about half of neuron 0's samples
			lb.theta[m*lb.neurons] = 1e-305
			zero[m*lb.neurons] = 0
		}
	}
	y := NewLayer(lat, 1)
	defer y.Close()
	r1, r2 := newResults(lat, lb.neurons), newResults(lat, lb.neurons)
	d1, d2 := make([]float64, len(lb.theta)), make([]float64, len(lb.theta))
	if err := y.Compute(r1, lb.bins, lb.theta, lb.batch, lb.neurons, tpeGoal, d1); err != nil {
		t.Fatal(err)
	}
	if err := y.Compute(r2, lb.bins, zero, lb.batch, lb.neurons, tpeGoal, d2); err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(r1[0].G) || math.IsInf(r1[0].G, 0) || math.Abs(r1[0].G-r2[0].G) > 1e-12 {
		t.Fatalf("G %v with thetas of 1e-305, %v with 0", r1[0].G, r2[0].G)
	}
	for j := range d1 {
		if math.IsNaN(d1[j]) || math.Abs(d1[j]-d2[j]) > 1e-9 {
			t.Fatalf("dtheta[%d] %v with thetas of 1e-305, %v with 0", j, d1[j], d2[j])
		}
	}
}
