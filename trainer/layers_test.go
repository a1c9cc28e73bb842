package trainer

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Networks of several hidden layers (Config.Layers): every setup trains
// above chance with two layers, runs with three, reports each layer's figures, and
// a one-layer Config written as Layers 1 is the Layers 0 run bit for bit.

func layersConfig(s Setup, layers, epochs int) Config {
	cfg := smallConfig(s, epochs)
	cfg.Layers, cfg.TrainLimit, cfg.ValLimit, cfg.TestLimit = layers, 1000, 300, 300
	return cfg
}

func TestLayersLearn(t *testing.T) {
	d := smallData(t)
	for _, s := range Setups() {
		for _, n := range []int{2, 3} {
			t.Run(string(s)+"/"+string(rune('0'+n)), func(t *testing.T) {
				t.Parallel()
				cfg := smallConfig(s, 6)
				cfg.Layers, cfg.Hidden = n, 40
				ms, err := Train(context.Background(), cfg, d, nil)
				if err != nil {
					t.Fatal(err)
				}
				last := ms[len(ms)-1]
				t.Logf("%s, %d layers: val %.3f (epoch 0 %.3f)", s, n, last.Val.BatchMean, ms[0].Val.BatchMean)
				// Three layers of 40 binary neurons learn the small task
				// slowly (some setups not in 6 epochs): they must run and
				// report; two must learn.
				if n == 2 && last.Val.BatchMean < 0.3 {
					t.Errorf("after %d epochs val %.3f; want > 0.3 (chance 0.1)", last.Epoch, last.Val.BatchMean)
				}
				want := n
				if s == Backprop {
					want = 0 // no goal, no atoms
				}
				if len(last.Layers) != want {
					t.Fatalf("%d layers' metrics, want %d", len(last.Layers), want)
				}
				sum := 0.0
				for _, l := range last.Layers {
					sum += l.Loss
					if len(l.Atoms) != len(last.HiddenAtoms) {
						t.Errorf("a layer's atoms have %d entries, the hidden atoms %d", len(l.Atoms), len(last.HiddenAtoms))
					}
				}
				if want > 0 && !closeTo(sum, last.HiddenLoss, 1e-12, 1e-12) {
					t.Errorf("layers' losses sum to %v, hidden loss %v", sum, last.HiddenLoss)
				}
				if want > 0 && !slices.Equal(last.Layers[0].Atoms, last.HiddenAtoms) {
					t.Errorf("first layer's atoms %v, hidden atoms %v", last.Layers[0].Atoms, last.HiddenAtoms)
				}
			})
		}
	}
}

// Layers 1 is the one-layer network of Layers 0, with the same fingerprint
// (so that a stored one-layer checkpoint still restores).
func TestOneLayerIsDefault(t *testing.T) {
	d := smallData(t)
	for _, s := range []Setup{ContextLateral, Backprop} {
		a, b := layersConfig(s, 0, 2), layersConfig(s, 1, 2)
		ma, err := Train(context.Background(), a, d, nil)
		if err != nil {
			t.Fatal(err)
		}
		mb, err := Train(context.Background(), b, d, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff, ok := sameMetrics(ma, mb); !ok {
			t.Errorf("%s: Layers 1 differs from Layers 0: %s", s, diff)
		}
		if fa, fb := fingerprint(a.withDefaults()), fingerprint(b.withDefaults()); fa != fb || strings.Contains(fa, "Layers") {
			t.Errorf("%s: fingerprints %s and %s", s, fa, fb)
		}
	}
}

// A goal per layer that repeats the shared goal is the shared-goal run bit
// for bit; a goal per layer that differs in the second layer changes the
// run, but not the first layer's atoms of epoch 0 (no update yet, and
// context-lateral has no feedback from the layer above).
func TestGoalPerLayer(t *testing.T) {
	d := smallData(t)
	shared := layersConfig(ContextLateral, 2, 2)
	per := shared
	per.Goal = slices.Concat(shared.Goal, shared.Goal)
	other := shared
	g2 := slices.Clone(shared.Goal)
	g2[0], g2[7] = 0.5, 0.5 // {F}{C}{L} and {F}
	other.Goal = slices.Concat(shared.Goal, g2)
	run := func(cfg Config) []EpochMetrics {
		ms, err := Train(context.Background(), cfg, d, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	ms, mp, mo := run(shared), run(per), run(other)
	if diff, ok := sameMetrics(ms, mp); !ok {
		t.Errorf("a repeated goal per layer differs from the shared goal: %s", diff)
	}
	if _, ok := sameMetrics(ms, mo); ok {
		t.Error("a different goal for layer 2 changed nothing")
	}
	// Epoch 0 takes no update: the first layer's atoms cannot depend on
	// the second layer's goal then.
	if !slices.Equal(ms[0].Layers[0].Atoms, mo[0].Layers[0].Atoms) {
		t.Error("epoch 0: the first layer's atoms depend on the second layer's goal")
	}
}

// A network of two and three layers stopped after an epoch and restored
// continues bit for bit, for an infomorphic setup with feedback and the
// backprop baseline.
func TestLayersCheckpointResume(t *testing.T) {
	d := smallData(t)
	for _, s := range []Setup{ContextLateralFeedback, Backprop} {
		for _, n := range []int{2, 3} {
			cfg := layersConfig(s, n, 3)
			straight := mustTrainer(t, cfg, d)
			if err := straight.Run(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			first := mustTrainer(t, cfg, d)
			for first.Epoch() < 2 {
				if _, err := first.RunEpoch(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			st, err := first.State()
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Params) != n+1 {
				t.Errorf("%s, %d layers: state of %d parameter vectors, want %d", s, n, len(st.Params), n+1)
			}
			cfg.Threads = 2
			resumed := mustTrainer(t, cfg, d)
			if err := resumed.Restore(st); err != nil {
				t.Fatal(err)
			}
			if err := resumed.Run(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			if diff, ok := sameMetrics(straight.Metrics(), resumed.Metrics()); !ok {
				t.Errorf("%s, %d layers: metrics differ: %s", s, n, diff)
			}
			if !sameParams(straight.Params(), resumed.Params()) {
				t.Errorf("%s, %d layers: weights differ", s, n)
			}
		}
	}
}

func TestLayersValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"negative", func(c *Config) { c.Layers = -1 }, "-1 hidden layers, want 1 to 16"},
		{"huge", func(c *Config) { c.Layers = 1000 }, "1000 hidden layers, want 1 to 16"},
		{"goal of neither length", func(c *Config) { c.Layers, c.Goal = 2, make([]float64, 20) }, "want 19 for 3 sources, or 38 (one goal per layer of 2 layers)"},
		{"a layer's goal not finite", func(c *Config) { c.Layers, c.Goal = 2, make([]float64, 38); c.Goal[20] = math.NaN() }, "goal of hidden layer 2 weight 2 is NaN"},
		{"per-layer length with one layer", func(c *Config) { c.Goal = make([]float64, 38) }, "goal of 38 weights, want 19"},
	} {
		cfg := smallConfig(ContextLateral, 1)
		tc.edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	ok := smallConfig(ContextLateral, 1)
	ok.Layers, ok.Goal = 3, make([]float64, 57)
	if err := ok.Validate(); err != nil {
		t.Errorf("3 layers with a goal per layer: %v", err)
	}
}

// The backprop baseline's gradient through several layers and both steps
// is the loss's gradient: with the hidden units' outputs replaced by their
// firing probabilities (meanField), the loss is a smooth function of every
// parameter, and the surrogate gradient the baseline uses is then its exact
// gradient. Central differences (h = 1e-6: truncation ~1e-12, rounding
// ~1e-10) check every parameter of every layer.
func TestBackpropLayersFiniteDifference(t *testing.T) {
	d := smallData(t)
	for _, n := range []int{1, 2, 3} {
		cfg := Config{Setup: Backprop, Seed: 31, Hidden: 5, Layers: n, BatchSize: 12, LateralFanIn: 3}
		tr := mustTrainer(t, cfg, d)
		m := tr.net.(*backprop)
		m.meanField = true
		idx := []int{0, 5, 9, 14, 20, 33, 41, 52, 60, 77, 80, 99}
		tr.feed(&d.Train, idx, true)
		loss := func() float64 {
			var acc epochAccum
			if _, err := m.trainBatch(&tr.bd, false, &acc); err != nil {
				t.Fatal(err)
			}
			return acc.loss
		}
		loss()
		params := m.params()
		var grads [][]float64
		for _, L := range m.layers {
			grads = append(grads, slices.Clone(L.Grads()))
		}
		grads = append(grads, slices.Clone(m.output.Grads()))
		const h = 1e-6
		checked := 0
		for v, p := range params {
			var mask func(j int) bool // whether parameter j is a masked (absent) weight
			if v < n {
				L := m.layers[v]
				off := L.Neurons()*L.Inputs(0) + L.Neurons() + L.Neurons()*L.Inputs(1) + L.Neurons()
				mk := L.Mask(2)
				mask = func(j int) bool {
					k := j - off
					return mk != nil && k >= 0 && k < len(mk) && mk[k] == 0
				}
			} else {
				mask = func(j int) bool { return j >= m.c*m.h+m.c } // the output's context weights and bias: reset or without gradient
			}
			for j := range p {
				if mask(j) {
					continue
				}
				fd := paramDiff(p, j, h, loss)
				if g := grads[v][j]; !closeTo(g, fd, 1e-5, 1e-8) {
					t.Errorf("%d layers: parameter %d of vector %d: gradient %v, finite difference %v", n, j, v, g, fd)
				}
				checked++
			}
		}
		if checked < 100 {
			t.Errorf("%d layers: only %d parameters checked", n, checked)
		}
	}
}

// A layer above the first learns through the same local path as the first
// (Layer.Learn; no gradient crosses layers): its gradient, on the inputs it
// saw in the network (the first layer's ±1 output, the label, its own
// step-1 output), is checked against central differences of the surrogate
// loss sum_j c_j theta_j, as TestBackwardFiniteDifference checks a lone
// layer.
func TestUpperLayerFiniteDifference(t *testing.T) {
	d := smallData(t)
	cfg := layersConfig(ContextLateral, 2, 1)
	cfg.Hidden, cfg.BatchSize = 6, 9
	tr := mustTrainer(t, cfg, d)
	m := tr.net.(*infomorphic)
	idx := []int{1, 4, 9, 16, 25, 36, 49, 64, 81}
	tr.feed(&d.Train, idx, true)
	var acc epochAccum
	acc.reset(m.atomLens())
	if _, err := m.trainBatch(&tr.bd, false, &acc); err != nil {
		t.Fatal(err)
	}
	n := len(idx)
	l := m.hidden[1]
	if l.Inputs(0) != cfg.Hidden {
		t.Fatalf("layer 2's feedforward source has %d inputs, want the %d neurons below", l.Inputs(0), cfg.Hidden)
	}
	x := [][]float64{slices.Clone(m.y2[0][:n*6]), slices.Clone(tr.bd.label), slices.Clone(m.y1[1][:n*6])}
	for _, v := range x[0] {
		if v != 1 && v != -1 {
			t.Fatalf("layer 2's feedforward input %v, want the ±1 outputs of layer 1", v)
		}
	}
	c := make([]float64, n*l.Neurons())
	for j := range c {
		c[j] = math.Sin(float64(3*j + 1))
	}
	surrogate, grads := surrogateGrads(l, func() { l.Forward(x, n) }, c)
	p := l.Params()
	lat := len(l.W(0)) + len(l.B(0)) + len(l.W(1)) + len(l.B(1))
	for j := range p {
		if k := j - lat; k >= 0 && k < len(l.W(2)) && l.Mask(2)[k] == 0 {
			continue // no self-connection
		}
		if fd := paramDiff(p, j, 1e-6, surrogate); !closeTo(grads[j], fd, 1e-6, 1e-8) {
			t.Errorf("layer 2: dL/dparam[%d] = %v, finite difference %v", j, grads[j], fd)
		}
	}
}

// The minibatch path of a network of several layers allocates nothing, as
// the one-layer path does (TestMinibatchNoAllocations).
func TestLayersNoAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	d := smallData(t)
	for _, s := range []Setup{ContextLateralFeedback, Lateral, Backprop} {
		cfg := smallConfig(s, 1)
		cfg.Threads, cfg.Layers = 2, 3
		tr := mustTrainer(t, cfg, d)
		idx := make([]int, 64)
		for i := range idx {
			idx[i] = i
		}
		rng := rand.NewPCG(1, 2)
		tr.acc.reset(tr.net.atomLens())
		step := func() {
			tr.feed(&d.Train, idx, true)
			if _, err := tr.net.trainBatch(&tr.bd, true, &tr.acc); err != nil {
				t.Fatal(err)
			}
			tr.feed(&d.Train, idx[:40], false)
			if _, err := tr.net.evalBatch(&tr.bd, rng); err != nil {
				t.Fatal(err)
			}
		}
		step()
		if a := testing.AllocsPerRun(5, step); a != 0 {
			t.Errorf("%s, 3 layers: %v allocations per minibatch", s, a)
		}
	}
}
