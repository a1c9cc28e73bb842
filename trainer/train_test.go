package trainer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"sync"
	"testing"

	"goalsearch/internal/testutil"
	"goalsearch/pid"
	"goalsearch/trainer/dataset"
)

var (
	synthOnce sync.Once
	synth     *dataset.Dataset
)

// smallData is the shared synthetic set of the tests: 640 training images
// (512 train, 128 validation) and 128 test images.
func smallData(t testing.TB) *dataset.Dataset {
	synthOnce.Do(func() { synth = testutil.Images(t, 2560, 256) })
	return synth
}

// naiveGoal returns the paper's heuristic goal for setup (trainer/goals'
// "naive" presets, written out so that this package's tests do not depend
// on that one): redundancy {F}{C} for context, unique {F} for lateral,
// redundancy {F}{C} of the trivariate lattice for context-lateral (used for
// the feedback variant too, which has no preset).
func naiveGoal(s Setup) []float64 {
	switch s {
	case Context:
		return []float64{0, 0, 1, 0, 0}
	case Lateral:
		return []float64{1, 0, 0, 0, 0}
	case ContextLateral, ContextLateralFeedback:
		g := make([]float64, 19)
		g[1] = 1 // {1}{2}
		return g
	}
	return nil
}

// smallConfig is a quick run on smallData: 20 hidden neurons, batches of 64.
func smallConfig(s Setup, epochs int) Config {
	return Config{Setup: s, Goal: naiveGoal(s), Seed: 30, Hidden: 20, Epochs: epochs, BatchSize: 64}
}

func mustTrainer(t testing.TB, cfg Config, d *dataset.Dataset) *Trainer {
	t.Helper()
	tr, err := New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

// Every network learns the synthetic task well above chance (0.1) in a few
// epochs, and its epoch 0 is at about chance.
func TestSetupsLearn(t *testing.T) {
	d := smallData(t)
	for _, s := range Setups() {
		t.Run(string(s), func(t *testing.T) {
			t.Parallel()
			cfg := smallConfig(s, 5)
			ms, err := Train(context.Background(), cfg, d, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 6 {
				t.Fatalf("%d epochs of metrics, want 6", len(ms))
			}
			last := ms[len(ms)-1]
			for _, m := range ms {
				t.Logf("epoch %d: loss %.3f train %.3f val %.3f test %.3f", m.Epoch, m.TrainLoss, m.TrainAccWithLabel.BatchMean, m.Val.BatchMean, m.Test.BatchMean)
			}
			if ms[0].Updated || !last.Updated {
				t.Errorf("updated flags %v ... %v", ms[0].Updated, last.Updated)
			}
			if last.Val.BatchMean < 0.4 || last.Test.BatchMean < 0.4 {
				t.Errorf("after %d epochs val %.3f, test %.3f; want > 0.4 (chance 0.1)", last.Epoch, last.Val.BatchMean, last.Test.BatchMean)
			}
			if ms[0].Val.BatchMean > 0.35 {
				t.Errorf("epoch 0 (no update) val %.3f, want near chance", ms[0].Val.BatchMean)
			}
			hl, ol := 0, 0
			if s != Backprop {
				hl, ol = pid.MustLattice(s.HiddenSources()).GoalLen(), 5
			}
			if s == RandomProjection {
				hl = 5
			}
			if len(last.HiddenAtoms) != hl || len(last.OutputAtoms) != ol {
				t.Errorf("atoms of %d and %d entries, want %d and %d", len(last.HiddenAtoms), len(last.OutputAtoms), hl, ol)
			}
		})
	}
}

// sameMetrics reports the first difference between two metric lists,
// ignoring the wall-clock seconds; floats are compared bit for bit.
func sameMetrics(a, b []EpochMetrics) (string, bool) {
	if len(a) != len(b) {
		return "lengths differ", false
	}
	for i := range a {
		x, y := a[i], b[i]
		x.TrainSeconds, x.ValSeconds, x.TestSeconds = 0, 0, 0
		y.TrainSeconds, y.ValSeconds, y.TestSeconds = 0, 0, 0
		if !reflect.DeepEqual(x, y) {
			return fmt.Sprintf("epoch %d:\n%+v\n%+v", i, x, y), false
		}
	}
	return "", true
}

func sameParams(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) {
				return false
			}
		}
	}
	return true
}

// A run stopped after epoch 1, saved, encoded, decoded and restored into a
// new Trainer continues bit for bit as the uninterrupted run: every metric
// and every weight. The subset leaves a smaller last batch, so the iterator's
// state matters.
func TestCheckpointResume(t *testing.T) {
	d := smallData(t)
	for _, s := range []Setup{Context, ContextLateralFeedback, RandomProjection, Backprop} {
		t.Run(string(s), func(t *testing.T) {
			t.Parallel()
			cfg := smallConfig(s, 3)
			cfg.TrainLimit = 500
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
			enc, err := st.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var dec State
			if err := dec.UnmarshalBinary(enc); err != nil {
				t.Fatal(err)
			}
			cfg.Threads = 2 // may differ on resume
			resumed := mustTrainer(t, cfg, d)
			if err := resumed.Restore(&dec); err != nil {
				t.Fatal(err)
			}
			if resumed.Epoch() != 2 {
				t.Fatalf("resumed at epoch %d, want 2", resumed.Epoch())
			}
			if err := resumed.Run(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			if diff, ok := sameMetrics(straight.Metrics(), resumed.Metrics()); !ok {
				t.Errorf("metrics differ: %s", diff)
			}
			if !sameParams(straight.Params(), resumed.Params()) {
				t.Error("weights differ")
			}
		})
	}
}

// Results are bit-identical whatever the number of PID threads and
// GOMAXPROCS.
func TestDeterministicAcrossThreads(t *testing.T) {
	d := smallData(t)
	for _, s := range []Setup{ContextLateral, Lateral, Backprop} {
		cfg := smallConfig(s, 2)
		cfg.TrainLimit = 600
		cfg.Threads = 1
		prev := runtime.GOMAXPROCS(1)
		one := mustTrainer(t, cfg, d)
		err := one.Run(context.Background(), nil)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Threads = 3
		three := mustTrainer(t, cfg, d)
		if err := three.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		if diff, ok := sameMetrics(one.Metrics(), three.Metrics()); !ok {
			t.Errorf("%s: metrics differ between 1 and 3 threads: %s", s, diff)
		}
		if !sameParams(one.Params(), three.Params()) {
			t.Errorf("%s: weights differ between 1 and 3 threads", s)
		}
	}
}

// Another seed gives another run; the same seed the same one.
func TestSeedMatters(t *testing.T) {
	d := smallData(t)
	cfg := smallConfig(Context, 1)
	cfg.TrainLimit = 300
	a, _ := Train(context.Background(), cfg, d, nil)
	b, _ := Train(context.Background(), cfg, d, nil)
	cfg.Seed = 31
	c, _ := Train(context.Background(), cfg, d, nil)
	if _, ok := sameMetrics(a, b); !ok {
		t.Error("same seed, different metrics")
	}
	if _, ok := sameMetrics(a, c); ok {
		t.Error("seeds 30 and 31 give the same metrics")
	}
}

// Epoch 0 takes no step; the random projection never changes its hidden
// weights; the output layer's context weights stay a (reset) identity.
func TestWhatLearns(t *testing.T) {
	d := smallData(t)
	for _, s := range []Setup{Context, RandomProjection} {
		cfg := smallConfig(s, 2)
		cfg.TrainLimit = 300
		tr := mustTrainer(t, cfg, d)
		// The context weights are reset to the identity before every
		// batch, epoch 0's too; the rest must not move in epoch 0.
		tr.net.(*infomorphic).resetOutputContext()
		init := tr.Params()
		if _, err := tr.RunEpoch(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !sameParams(init, tr.Params()) {
			t.Errorf("%s: epoch 0 changed the weights", s)
		}
		if err := tr.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		after := tr.Params()
		if hiddenSame := sameParams(init[:1], after[:1]); hiddenSame != (s == RandomProjection) {
			t.Errorf("%s: hidden weights unchanged = %v", s, hiddenSame)
		}
		if sameParams(init[1:], after[1:]) {
			t.Errorf("%s: output weights did not learn", s)
		}
		out := tr.net.(*infomorphic).output
		w := out.W(1)
		for i := 0; i < 10; i++ {
			for j := 0; j < 10; j++ {
				if v := w[i*10+j]; (i != j && v != 0) || (i == j && math.Abs(v-1) > 0.05) {
					t.Errorf("%s: output context weight [%d,%d] = %v", s, i, j, v)
				}
			}
		}
	}
}

func TestObserver(t *testing.T) {
	d := smallData(t)
	cfg := smallConfig(Context, 5)
	cfg.TrainLimit = 200

	// ErrStop ends the run without an error after the epoch it saw.
	tr := mustTrainer(t, cfg, d)
	var seen []int
	err := tr.Run(context.Background(), func(m EpochMetrics) error {
		seen = append(seen, m.Epoch)
		if m.Epoch == 1 {
			return ErrStop
		}
		return nil
	})
	if err != nil || !reflect.DeepEqual(seen, []int{0, 1}) || tr.Epoch() != 2 || tr.Done() {
		t.Errorf("ErrStop: err %v, saw %v, at epoch %d", err, seen, tr.Epoch())
	}
	// The run can go on from there.
	if err := tr.Run(context.Background(), nil); err != nil || tr.Epoch() != 6 || !tr.Done() {
		t.Errorf("continued: err %v, at epoch %d", err, tr.Epoch())
	}

	// Another error is returned as is (a pruner's decision, say).
	prune := errors.New("pruned")
	tr = mustTrainer(t, cfg, d)
	if err := tr.Run(context.Background(), func(EpochMetrics) error { return prune }); err != prune || tr.Epoch() != 1 {
		t.Errorf("observer error: got %v at epoch %d", err, tr.Epoch())
	}
}

// A cancelled context abandons the epoch under way; the Trainer then refuses
// to go on or to save, until a State is restored.
func TestCancel(t *testing.T) {
	d := smallData(t)
	cfg := smallConfig(Context, 3)
	cfg.TrainLimit = 300
	tr := mustTrainer(t, cfg, d)
	if _, err := tr.RunEpoch(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := tr.State()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tr.OnProgress(func(p Progress) {
		if p.Phase == Training && p.Done == 2 {
			cancel()
		}
	})
	if err := tr.Run(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	if len(tr.Metrics()) != 1 || tr.Epoch() != 1 {
		t.Errorf("after cancel: %d metrics, epoch %d", len(tr.Metrics()), tr.Epoch())
	}
	if _, err := tr.State(); err == nil {
		t.Error("State after a cancelled epoch")
	}
	if _, err := tr.RunEpoch(context.Background()); err == nil {
		t.Error("RunEpoch after a cancelled epoch")
	}
	tr.OnProgress(nil)
	if err := tr.Restore(st); err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	straight, _ := Train(context.Background(), cfg, d, nil)
	if diff, ok := sameMetrics(straight, tr.Metrics()); !ok {
		t.Errorf("restored run differs: %s", diff)
	}
}

// Progress reports every minibatch of every phase.
func TestProgress(t *testing.T) {
	d := smallData(t)
	cfg := smallConfig(Context, 1)
	cfg.TrainLimit, cfg.ValLimit, cfg.TestLimit = 150, 100, 70
	tr := mustTrainer(t, cfg, d)
	count := map[Phase]int{}
	tr.OnProgress(func(p Progress) {
		count[p.Phase]++
		if p.Done != count[p.Phase] || p.Done > p.Total {
			t.Errorf("%v: done %d of %d at call %d", p.Phase, p.Done, p.Total, count[p.Phase])
		}
	})
	if _, err := tr.RunEpoch(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 150 / 64, 100 / 64, 70 / 64, rounded up.
	if count[Training] != 3 || count[Validating] != 2 || count[Testing] != 2 {
		t.Errorf("progress calls %v", count)
	}
	if n, v, s := tr.Sizes(); n != 150 || v != 100 || s != 70 {
		t.Errorf("sizes %d %d %d", n, v, s)
	}
	m := tr.Metrics()[0]
	if m.Val.Total != 100 || m.Test.Total != 70 || m.TrainAccWithLabel.Total != 150 {
		t.Errorf("totals %d %d %d", m.TrainAccWithLabel.Total, m.Val.Total, m.Test.Total)
	}
}

// Diverged weights are reported as ErrNonFinite, not trained on.
func TestDiverged(t *testing.T) {
	d := smallData(t)
	for _, s := range []Setup{Context, ContextLateral, Backprop} {
		cfg := smallConfig(s, 2)
		cfg.TrainLimit = 200
		tr := mustTrainer(t, cfg, d)
		st, err := tr.State()
		if err != nil {
			t.Fatal(err)
		}
		st.Params[0][3] = math.NaN()
		if err := tr.Restore(st); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.RunEpoch(context.Background()); !errors.Is(err, ErrNonFinite) {
			t.Errorf("%s: NaN weight: %v", s, err)
		}
	}
}

func TestRestoreRefuses(t *testing.T) {
	d := smallData(t)
	cfg := smallConfig(Context, 2)
	cfg.TrainLimit = 200
	tr := mustTrainer(t, cfg, d)
	if _, err := tr.RunEpoch(context.Background()); err != nil {
		t.Fatal(err)
	}
	good, err := tr.State()
	if err != nil {
		t.Fatal(err)
	}
	other := cfg
	other.Goal = []float64{1, 0, 0, 0, 0}
	otherTr := mustTrainer(t, other, d)
	fresh := mustTrainer(t, cfg, d)
	before := fresh.Params()
	cases := map[string]func(s *State){
		"version":     func(s *State) { s.Version = 99 },
		"epoch":       func(s *State) { s.Epoch = 2 },
		"params":      func(s *State) { s.Params[1] = s.Params[1][:3] },
		"adam":        func(s *State) { s.Adam[0].V[0] = -1 },
		"rng":         func(s *State) { s.RNG[0] = []byte("junk") },
		"batches":     func(s *State) { s.Batches = s.Batches[:5] },
		"other goal":  func(s *State) { s.Config = fingerprint(otherTr.cfg) },
		"fewer param": func(s *State) { s.Params = s.Params[:1] },
	}
	for name, spoil := range cases {
		s, _ := tr.State()
		spoil(s)
		if err := fresh.Restore(s); err == nil {
			t.Errorf("%s: restored", name)
		}
	}
	if !sameParams(before, fresh.Params()) || fresh.Epoch() != 0 {
		t.Error("a refused Restore changed the trainer")
	}
	if err := fresh.Restore(good); err != nil || fresh.Epoch() != 1 {
		t.Errorf("good state: %v", err)
	}
	var s State
	if err := s.UnmarshalBinary([]byte("not a state")); !errors.Is(err, ErrBadState) {
		t.Errorf("junk bytes: %v", err)
	}
}

// After the first minibatch, training and evaluating a minibatch allocate
// nothing, for every network.
func TestMinibatchNoAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	d := smallData(t)
	for _, s := range Setups() {
		cfg := smallConfig(s, 1)
		cfg.Threads = 2
		tr := mustTrainer(t, cfg, d)
		idx := make([]int, 64)
		for i := range idx {
			idx[i] = i
		}
		small := idx[:40] // a smaller last batch must not allocate either
		rng := rand.NewPCG(1, 2)
		hl, ol := tr.net.atomLens()
		tr.acc.reset(hl, ol)
		step := func(idx []int) {
			tr.feed(&d.Train, idx, true)
			if _, err := tr.net.trainBatch(&tr.bd, true, &tr.acc); err != nil {
				t.Fatal(err)
			}
			tr.feed(&d.Train, idx, false)
			pred, err := tr.net.evalBatch(&tr.bd, rng)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := CountCorrect(pred, tr.bd.labels, tr.classes, tr.means); err != nil {
				t.Fatal(err)
			}
		}
		step(idx)
		step(small)
		if a := testing.AllocsPerRun(5, func() { step(idx); step(small) }); a != 0 {
			t.Errorf("%s: %v allocations per pair of minibatches", s, a)
		}
	}
}

// BenchmarkTrainEpoch trains one epoch of the paper's context network
// (100 hidden neurons, batches of 1024) on synthetic 28×28 images.
func BenchmarkTrainEpoch(b *testing.B) {
	d := synthData28(b, 6000, 100)
	for _, s := range []Setup{Context, ContextLateral, Backprop} {
		b.Run(string(s), func(b *testing.B) {
			cfg := Config{Setup: s, Goal: naiveGoal(s), Seed: 30, Threads: 2, ValLimit: 1, TestLimit: 1}
			tr := mustTrainer(b, cfg, d)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.RunEpoch(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// synthData28 is a synthetic set at MNIST's size: 28×28, about 80 % zero pixels.
func synthData28(t testing.TB, nTrain, nTest int) *dataset.Dataset {
	rng := rand.New(rand.NewPCG(3, 4))
	set := func(n int) dataset.Set {
		s := dataset.Set{Images: dataset.Images{N: n, Rows: 28, Cols: 28, Pix: make([]uint8, n*784)}, Labels: make([]uint8, n)}
		for i := 0; i < n; i++ {
			c := rng.IntN(10)
			s.Labels[i] = uint8(c)
			for j := 0; j < 784; j++ {
				if (j*7+c*13)%5 == 0 && rng.IntN(10) != 0 {
					s.Pix[i*784+j] = uint8(128 + rng.IntN(128))
				}
			}
		}
		return s
	}
	d, err := dataset.New(set(nTrain), set(nTest), &dataset.Options{NumClasses: 10})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Per-neuron atoms average to the layer's mean atoms; NoTest leaves the test
// set alone and does not change training.
func TestNeuronAtomsAndNoTest(t *testing.T) {
	d := smallData(t)
	cfg := smallConfig(ContextLateral, 2)
	ms, err := Train(context.Background(), cfg, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := ms[len(ms)-1]
	if len(last.HiddenNeuronAtoms) != cfg.Hidden || len(last.OutputNeuronAtoms) != d.NumClasses {
		t.Fatalf("%d hidden and %d output neurons' atoms", len(last.HiddenNeuronAtoms), len(last.OutputNeuronAtoms))
	}
	for k, want := range last.HiddenAtoms {
		s := 0.0
		for _, row := range last.HiddenNeuronAtoms {
			s += row[k]
		}
		if got := s / float64(cfg.Hidden); math.Abs(got-want) > 1e-12 {
			t.Fatalf("atom %d: neuron mean %v, layer mean %v", k, got, want)
		}
	}
	cfg.NoTest = true
	ns, err := Train(context.Background(), cfg, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	nl := ns[len(ns)-1]
	if nl.Test.Total != 0 || nl.Val.BatchMean != last.Val.BatchMean || nl.TrainLoss != last.TrainLoss {
		t.Fatalf("NoTest: test %+v, val %v vs %v", nl.Test, nl.Val.BatchMean, last.Val.BatchMean)
	}
}

// The data set's pixel lists (dataset.NonZero) and the raw images give the
// same run, bit for bit: both list the same pixels in the same order.
func TestImageListsMatchRaw(t *testing.T) {
	d := smallData(t)
	cfg := smallConfig(ContextLateral, 1)
	cfg.TrainLimit = 300
	lists := mustTrainer(t, cfg, d)
	if lists.nzIdx == nil {
		t.Fatal("the trainer does not use the data set's pixel lists")
	}
	raw := mustTrainer(t, cfg, d)
	raw.nzIdx, raw.nzVal = nil, nil
	raw.raw = make([]uint8, raw.cfg.BatchSize*d.Pixels())
	for _, tr := range []*Trainer{lists, raw} {
		if err := tr.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if diff, ok := sameMetrics(lists.Metrics(), raw.Metrics()); !ok {
		t.Errorf("metrics differ: %s", diff)
	}
	if !sameParams(lists.Params(), raw.Params()) {
		t.Error("weights differ")
	}
}

// With a sparse lateral fan-in the hidden layer takes the masked path and
// Adam skips the masked weights; the run is the one Adam over every weight
// gives (equal values: only the sign of a masked zero could differ).
func TestMaskedRunMatchesFullAdam(t *testing.T) {
	d := smallData(t)
	cfg := smallConfig(ContextLateral, 2)
	cfg.Hidden, cfg.TrainLimit, cfg.LateralFanIn, cfg.Threads = 100, 400, 10, 2
	skip := mustTrainer(t, cfg, d)
	full := mustTrainer(t, cfg, d)
	full.net.(*infomorphic).hOpt[0].skipOutside(nil)
	if skip.net.(*infomorphic).hOpt[0].runs == nil {
		t.Fatal("Adam does not skip the masked weights")
	}
	for _, tr := range []*Trainer{skip, full} {
		if err := tr.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := skip.net.(*infomorphic).hidden[0].in[2].(*maskedInput); !ok {
		t.Fatal("the lateral input did not take the masked path")
	}
	if diff, ok := sameMetrics(skip.Metrics(), full.Metrics()); !ok {
		t.Errorf("metrics differ: %s", diff)
	}
	a, b := skip.Params(), full.Params()
	for v := range a {
		for j := range a[v] {
			if a[v][j] != b[v][j] {
				t.Fatalf("parameter %d of vector %d: %v, full Adam %v", j, v, a[v][j], b[v][j])
			}
		}
	}
}
