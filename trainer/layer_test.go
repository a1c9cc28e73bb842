package trainer

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"goalsearch/pid"
)

func triConfig() LayerConfig {
	return LayerConfig{
		Inputs:     []int{12, 4, 6},
		Neurons:    6,
		Masks:      []Mask{{}, {}, {Kind: NoSelfMask}},
		Activation: HiddenSchneider,
		Binning:    PaperFixedBinning,
		Goal:       make([]float64, pid.MustLattice(3).GoalLen()),
		Seed:       3,
	}
}

func biConfig() LayerConfig {
	return LayerConfig{
		Inputs:     []int{12, 4},
		Neurons:    5,
		Activation: HiddenGraetz,
		Binning:    PaperAdaptiveBinning,
		Goal:       []float64{-0.2, 0.1, 1, 0.1, 0},
		Seed:       4,
	}
}

func mustLayer(t testing.TB, cfg LayerConfig) *Layer {
	t.Helper()
	l, err := NewLayer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// randInputs returns batch × Inputs(k) standard normal inputs per source class.
func randInputs(l *Layer, batch int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 0))
	x := make([][]float64, l.Sources())
	for k := range x {
		x[k] = make([]float64, batch*l.Inputs(k))
		for j := range x[k] {
			x[k][j] = rng.NormFloat64()
		}
	}
	return x
}

func TestNewLayerInit(t *testing.T) {
	cfg := triConfig()
	l := mustLayer(t, cfg)
	for k := 0; k < 3; k++ {
		// nn.Linear: uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)).
		bound := 1 / math.Sqrt(float64(cfg.Inputs[k]))
		for _, v := range append(append([]float64(nil), l.W(k)...), l.B(k)...) {
			if v < -bound || v >= bound {
				t.Errorf("source %d: parameter %v outside ±%v", k+1, v, bound)
			}
		}
	}
	if l.Mask(0) != nil || l.Mask(1) != nil {
		t.Error("fully connected sources have a mask")
	}
	m := l.Mask(2)
	for i := 0; i < 6; i++ {
		for j := 0; j < 6; j++ {
			want := 1.0
			if i == j {
				want = 0
			}
			if m[i*6+j] != want {
				t.Errorf("lateral mask[%d][%d] = %v, want %v", i, j, m[i*6+j], want)
			}
			if i == j && l.W(2)[i*6+j] != 0 {
				t.Errorf("self-connection W_L[%d][%d] = %v", i, j, l.W(2)[i*6+j])
			}
		}
	}
	// Same seed, same parameters; another seed, others.
	same := mustLayer(t, cfg)
	cfg.Seed++
	other := mustLayer(t, cfg)
	diff := 0
	for j, v := range l.Params() {
		if same.Params()[j] != v {
			t.Fatalf("param %d differs between two layers of the same seed", j)
		}
		if other.Params()[j] != v {
			diff++
		}
	}
	if diff < len(l.Params())-6 {
		t.Errorf("only %d of %d params differ between seeds", diff, len(l.Params()))
	}
	if got, want := len(l.Params()), 6*12+6+6*4+6+6*6+6; got != want {
		t.Errorf("%d parameters, want %d", got, want)
	}
}

func TestMaskIdentityAndFanIn(t *testing.T) {
	cfg := LayerConfig{
		Inputs:     []int{5, 10},
		Neurons:    10,
		Masks:      []Mask{{}, {Kind: IdentityMask}},
		Activation: OutputGraetz,
		Binning:    PaperAdaptiveBinning,
	}
	l := mustLayer(t, cfg)
	for i := 0; i < 10; i++ {
		for j := 0; j < 10; j++ {
			if w := l.W(1)[i*10+j]; (i == j) != (w != 0) {
				t.Errorf("identity-masked W_C[%d][%d] = %v", i, j, w)
			}
		}
	}
	cfg.Masks[1] = Mask{Kind: NoSelfMask, FanIn: 3}
	l = mustLayer(t, cfg)
	cfg.Seed = 99
	l2 := mustLayer(t, cfg)
	same := true
	for i := 0; i < 10; i++ {
		n := 0
		for j := 0; j < 10; j++ {
			v := l.Mask(1)[i*10+j]
			n += int(v)
			if i == j && v != 0 {
				t.Errorf("fan-in mask connects neuron %d to itself", i)
			}
			if (v == 0) != (l.W(1)[i*10+j] == 0) {
				t.Errorf("W_L[%d][%d] = %v under mask %v", i, j, l.W(1)[i*10+j], v)
			}
			same = same && v == l2.Mask(1)[i*10+j]
		}
		if n != 3 {
			t.Errorf("neuron %d has fan-in %d, want 3", i, n)
		}
	}
	if same {
		t.Error("two seeds chose the same sparse lateral connections")
	}
	// A fan-in at least the number of allowed inputs keeps them all.
	cfg.Masks[1] = Mask{Kind: FullMask, FanIn: 10}
	if l := mustLayer(t, cfg); l.Mask(1) != nil {
		t.Error("fan-in 10 of 10 built a mask")
	}
}

// The backward pass is checked against central differences of the surrogate
// loss L = sum_j c_j theta_j (so dL/dtheta = c), which needs no PID: it
// exercises the activation's derivatives, the products with the inputs, the
// bias sums and the masks.
func TestBackwardFiniteDifference(t *testing.T) {
	for _, cfg := range []LayerConfig{triConfig(), biConfig()} {
		l := mustLayer(t, cfg)
		const batch = 7
		x := randInputs(l, batch, 11)
		rng := rand.New(rand.NewPCG(12, 0))
		c := make([]float64, batch*l.Neurons())
		for j := range c {
			c[j] = rng.NormFloat64()
		}
		surrogate, grads := surrogateGrads(l, func() { l.Forward(x, batch) }, c)
		p := l.Params()
		masked := make([]bool, len(p))
		off := 0
		for k := 0; k < l.Sources(); k++ {
			if m := l.Mask(k); m != nil {
				for j, v := range m {
					masked[off+j] = v == 0
				}
			}
			off += len(l.W(k)) + len(l.B(k))
		}
		for j := range p {
			if masked[j] {
				if grads[j] != 0 {
					t.Errorf("%v: masked parameter %d has gradient %v", cfg.Activation, j, grads[j])
				}
				continue
			}
			fd := paramDiff(p, j, 1e-6, surrogate)
			if !closeTo(grads[j], fd, 1e-6, 1e-8) {
				t.Errorf("%v: dL/dparam[%d] = %v, finite difference %v", cfg.Activation, j, grads[j], fd)
			}
		}
	}
}

// A nil input reuses the previous Forward's source: the image source of the
// second recurrent step.
func TestForwardReuse(t *testing.T) {
	l := mustLayer(t, triConfig())
	x := randInputs(l, 9, 1)
	y := randInputs(l, 9, 2)
	l.Forward([][]float64{x[0], x[1], x[2]}, 9)
	l.Forward([][]float64{nil, y[1], y[2]}, 9)
	got := append(append([]float64(nil), l.Source(0)...), l.Theta()...)
	l.Forward([][]float64{x[0], y[1], y[2]}, 9)
	want := append(append([]float64(nil), l.Source(0)...), l.Theta()...)
	for j := range want {
		if got[j] != want[j] {
			t.Fatalf("reused forward differs at %d: %v vs %v", j, got[j], want[j])
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("reusing a source with another batch size did not panic")
		}
	}()
	l.Forward([][]float64{nil, y[1], y[2]}, 8)
}

func TestSample(t *testing.T) {
	l := mustLayer(t, biConfig())
	const batch = 4000
	x := randInputs(l, batch, 5)
	l.Forward(x, batch)
	state, err := l.SamplerState()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, batch*l.Neurons())
	l.Sample(out)
	// Mean of (out+1)/2 against mean theta: binomial standard error
	// sqrt(sum th(1-th))/N; 5 standard errors.
	sum, want, vr := 0.0, 0.0, 0.0
	for j, v := range out {
		if v != 1 && v != -1 {
			t.Fatalf("output %v", v)
		}
		sum += (v + 1) / 2
		th := l.Theta()[j]
		want += th
		vr += th * (1 - th)
	}
	if math.Abs(sum-want) > 5*math.Sqrt(vr) {
		t.Errorf("%v outputs +1, expected %v ± %v", sum, want, math.Sqrt(vr))
	}
	if err := l.SetSamplerState(state); err != nil {
		t.Fatal(err)
	}
	again := make([]float64, len(out))
	l.Sample(again)
	for j := range out {
		if out[j] != again[j] {
			t.Fatalf("restored sampler differs at %d", j)
		}
	}
}

// With adaptive binning, a source that is 0 for the whole minibatch (its
// weights and bias are 0) goes to the bin of 0 rather than dividing by zero.
func TestZeroSourceAdaptive(t *testing.T) {
	l := mustLayer(t, biConfig())
	for _, s := range [][]float64{l.W(1), l.B(1)} {
		for j := range s {
			s[j] = 0
		}
	}
	l.Forward(randInputs(l, 16, 3), 16)
	if err := l.binSources(); err != nil {
		t.Fatal(err)
	}
	for j, b := range l.Bins(1) {
		if b != 9 {
			t.Fatalf("zero source bin[%d] = %d, want 9 (0 <= edge[10] = 5.6e-17)", j, b)
		}
	}
}

// A diverged layer reports the NaN as an error from Learn, not a panic.
func TestLearnNaN(t *testing.T) {
	l := mustLayer(t, triConfig())
	l.W(0)[0] = math.NaN()
	l.Forward(randInputs(l, 8, 3), 8)
	if _, err := l.Learn(); !errors.Is(err, ErrNonFinite) {
		t.Errorf("Learn on a NaN source: error %v, want ErrNonFinite", err)
	}
}

// The per-minibatch path allocates nothing once the buffers exist. Learn's
// own code is covered through binSources and backward; the PID engine's
// allocations are its own.
func TestNoAllocations(t *testing.T) {
	l := mustLayer(t, triConfig())
	const batch = 64
	x := randInputs(l, batch, 1)
	out := make([]float64, batch*l.Neurons())
	a, _ := NewAdam(HiddenAdam, len(l.Params()))
	l.Forward(x, batch)
	allocs := testing.AllocsPerRun(20, func() {
		l.Forward(x, batch)
		l.Sample(out)
		l.Forward([][]float64{nil, x[1], out}, batch)
		if err := l.binSources(); err != nil {
			t.Fatal(err)
		}
		l.backward()
		a.Step(l.Params(), l.Grads())
		l.Forward(x[:3], batch/2) // a smaller batch reuses the buffers
	})
	if allocs != 0 {
		t.Errorf("%v allocations per minibatch, want 0", allocs)
	}
}

func TestLayerConfigErrors(t *testing.T) {
	mod := func(f func(*LayerConfig)) LayerConfig {
		c := triConfig()
		f(&c)
		return c
	}
	for name, cfg := range map[string]LayerConfig{
		"no activation":    mod(func(c *LayerConfig) { c.Activation = nil }),
		"wrong sources":    mod(func(c *LayerConfig) { c.Activation = HiddenGraetz }),
		"no neurons":       mod(func(c *LayerConfig) { c.Neurons = 0 }),
		"empty input":      mod(func(c *LayerConfig) { c.Inputs[1] = 0 }),
		"mask count":       mod(func(c *LayerConfig) { c.Masks = c.Masks[:2] }),
		"no-self shape":    mod(func(c *LayerConfig) { c.Masks[0] = Mask{Kind: NoSelfMask} }),
		"identity shape":   mod(func(c *LayerConfig) { c.Masks[1] = Mask{Kind: IdentityMask} }),
		"mask kind":        mod(func(c *LayerConfig) { c.Masks[2].Kind = 9 }),
		"negative fan-in":  mod(func(c *LayerConfig) { c.Masks[2].FanIn = -1 }),
		"goal length":      mod(func(c *LayerConfig) { c.Goal = c.Goal[:5] }),
		"goal NaN":         mod(func(c *LayerConfig) { c.Goal[3] = math.NaN() }),
		"binning":          mod(func(c *LayerConfig) { c.Binning.Bins = -2 }),
		"negative threads": mod(func(c *LayerConfig) { c.Threads = -1 }),
	} {
		if _, err := NewLayer(cfg); err == nil {
			t.Errorf("%s: NewLayer accepted %+v", name, cfg)
		}
	}
}

func TestForwardPanics(t *testing.T) {
	l := mustLayer(t, triConfig())
	x := randInputs(l, 4, 1)
	for name, f := range map[string]func(){
		"input count":   func() { l.Forward(x[:2], 4) },
		"short input":   func() { l.Forward(x, 5) },
		"reuse first":   func() { mustLayer(t, triConfig()).Forward([][]float64{nil, x[1], x[2]}, 4) },
		"sample early":  func() { mustLayer(t, triConfig()).Sample(make([]float64, 100)) },
		"learn early":   func() { _, _ = mustLayer(t, triConfig()).Learn() },
		"learn no goal": func() { c := triConfig(); c.Goal = nil; m := mustLayer(t, c); m.Forward(x, 4); _, _ = m.Learn() },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func BenchmarkForwardBackward(b *testing.B) {
	// The paper's trivariate hidden layer at a reduced batch: 784 → 100.
	cfg := LayerConfig{
		Inputs:     []int{784, 10, 100},
		Neurons:    100,
		Masks:      []Mask{{}, {}, {Kind: NoSelfMask}},
		Activation: HiddenSchneider,
		Binning:    PaperFixedBinning,
		Goal:       make([]float64, 19),
	}
	l := mustLayer(b, cfg)
	const batch = 256
	x := randInputs(l, batch, 1)
	out := make([]float64, batch*l.Neurons())
	l.Forward(x, batch) // sizes the buffers
	b.ReportAllocs()
	for b.Loop() {
		l.Forward(x, batch)
		l.Sample(out)
		l.Forward([][]float64{nil, x[1], out}, batch)
		if err := l.binSources(); err != nil {
			b.Fatal(err)
		}
		l.backward()
	}
}

// BenchmarkLearn is the PID part of a training step of the paper's
// trivariate hidden layer (100 neurons, batch 1024, 20 fixed bins).
func BenchmarkLearn(b *testing.B) {
	cfg := LayerConfig{
		Inputs:     []int{784, 10, 100},
		Neurons:    100,
		Masks:      []Mask{{}, {}, {Kind: NoSelfMask}},
		Activation: HiddenSchneider,
		Binning:    PaperFixedBinning,
		Goal:       []float64{0.33, 1, -1, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0},
	}
	l := mustLayer(b, cfg)
	const batch = 1024
	x := randInputs(l, batch, 1)
	l.Forward(x, batch)
	if _, err := l.Learn(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Learn(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSampleIntoMatchesRand: sampleInto reproduces, draw for draw, the
// straightforward rand.New(src).Float64() < theta, so that its speed-up
// changes no result.
func TestSampleIntoMatchesRand(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	theta := make([]float64, 5000)
	for j := range theta {
		switch j % 4 {
		case 0:
			theta[j] = rng.Float64()
		case 1:
			theta[j] = float64(rng.IntN(3)) / 2 // 0, 1/2, 1
		default:
			theta[j] = math.Ldexp(rng.Float64(), -rng.IntN(60))
		}
		if j == 17 {
			theta[j] = math.NaN()
		}
	}
	got := make([]float64, len(theta))
	sampleInto(got, theta, rand.NewPCG(3, 4))
	ref := rand.New(rand.NewPCG(3, 4))
	for j, th := range theta {
		want := -1.0
		if ref.Float64() < th {
			want = 1
		}
		if got[j] != want {
			t.Fatalf("sample %d (theta %v) = %v, rand.Rand gives %v", j, th, got[j], want)
		}
	}
}

// TestPCGMatchesRand: the reproduced generator gives rand.PCG's draws, and
// jumping ahead n steps lands where n draws do.
func TestPCGMatchesRand(t *testing.T) {
	for _, seed := range [][2]uint64{{0, 0}, {1, 2}, {30, streamSample}, {1<<64 - 1, 12345}} {
		ref := rand.NewPCG(seed[0], seed[1])
		var g pcg
		var buf pcgBuf
		g.get(ref, &buf)
		start := g
		for i := 0; i < 1000; i++ {
			if a, b := ref.Uint64(), g.uint64(); a != b {
				t.Fatalf("seed %v draw %d: %#x, rand.PCG %#x", seed, i, b, a)
			}
		}
		for _, n := range []uint64{0, 1, 2, 3, 1000, 1 << 20, 1<<40 + 7} {
			jumped, walked := start, start
			jumped.advance(n)
			if n <= 1<<20 {
				for i := uint64(0); i < n; i++ {
					walked.uint64()
				}
			} else {
				walked.advance(n / 2)
				walked.advance(n - n/2)
			}
			if jumped != walked {
				t.Fatalf("seed %v: advance(%d) = %v, %d steps give %v", seed, n, jumped, n, walked)
			}
		}
		back := rand.NewPCG(9, 9)
		start.put(back, &buf)
		var again pcg
		again.get(back, &buf)
		if again != start {
			t.Fatal("put/get do not round-trip")
		}
	}
}

// The threaded sampling gives sampleInto's outputs and leaves the stream
// where sampleInto leaves it, for any number of threads.
func TestSampleTaskMatchesSequential(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	theta := make([]float64, 70001)
	for j := range theta {
		theta[j] = rng.Float64()
	}
	want := make([]float64, len(theta))
	ref := rand.NewPCG(5, 6)
	sampleInto(want, theta, ref)
	next := ref.Uint64()
	for _, threads := range []int{1, 2, 3} {
		p := newLinPool(threads)
		var task sampleTask
		got := make([]float64, len(theta))
		src := rand.NewPCG(5, 6)
		task.sample(p, got, theta, src, false)
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("threads %d: sample %d = %v, sequential %v", threads, j, got[j], want[j])
			}
		}
		if n := src.Uint64(); n != next {
			t.Fatalf("threads %d: the stream continues with %#x, sequential %#x", threads, n, next)
		}
		task.sample(p, got, theta[:100], rand.NewPCG(5, 6), true)
		for j := range got[:100] {
			if got[j] != (want[j]+1)/2 {
				t.Fatalf("threads %d: 0/1 sample %d = %v", threads, j, got[j])
			}
		}
		p.stop()
	}
}

// surrogateGrads prepares a finite-difference check of a layer's backward
// pass: it returns s = Σ_j c_j θ_j as a function that runs forward first,
// and the gradient of s that backward computes at the current parameters.
func surrogateGrads(l *Layer, forward func(), c []float64) (s func() float64, grads []float64) {
	s = func() float64 {
		forward()
		v := 0.0
		for j, th := range l.Theta() {
			v += c[j] * th
		}
		return v
	}
	s()
	copy(l.gTheta, c)
	l.backward()
	return s, slices.Clone(l.Grads())
}

// paramDiff is centralDiff of f in parameter j of p, which it leaves as it
// found it.
func paramDiff(p []float64, j int, h float64, f func() float64) float64 {
	x := p[j]
	d := centralDiff(func(v float64) float64 { p[j] = v; return f() }, x, h)
	p[j] = x
	return d
}
