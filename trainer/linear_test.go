package trainer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

type axpyKernel struct {
	name string
	f    func(acc, rows []float64, stride int, idx []int32, val []float64)
}

// axpyKernelsTested lists axpyRows as dispatched and every vector kernel
// this machine can run, each completed by the portable loop where it stops.
func axpyKernelsTested() []axpyKernel {
	ks := []axpyKernel{{"axpyRows", axpyRows}}
	if useAVX2 {
		ks = append(ks, axpyKernel{"AVX2", func(acc, rows []float64, stride int, idx []int32, val []float64) {
			if len(idx) == 0 {
				return
			}
			done := axpyRowsAVX2(acc, rows, stride, idx, val)
			axpyRowsGo(acc[done:], rows[done:], stride, idx, val)
		}})
	}
	if useAVX512 {
		ks = append(ks, axpyKernel{"AVX-512", func(acc, rows []float64, stride int, idx []int32, val []float64) {
			if len(idx) > 0 && len(acc) > 0 {
				axpyRowsAVX512(acc, rows, stride, idx, val)
			}
		}})
	}
	return ks
}

// The vectorised kernels and the portable loop agree bit for bit, for every
// width (chunks of 1-15 AVX2 registers plus a scalar tail, or 1-30 AVX-512
// registers with a masked last one) and stride.
func TestAxpyRowsKernel(t *testing.T) {
	if !useAVX2 {
		t.Log("no AVX2 on this machine: checking the portable loop only")
	} else if !useAVX512 {
		t.Log("no AVX-512 on this machine: checking AVX2 and the portable loop")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 3, 4, 5, 7, 8, 9, 12, 16, 31, 48, 60, 61, 64, 100, 121, 239, 240, 241, 481, 784} {
		for _, k := range []int{0, 1, 2, 7, 150} {
			stride := n + rng.IntN(5)
			nrows := 1 + rng.IntN(40)
			rows := make([]float64, (nrows-1)*stride+n)
			for j := range rows {
				rows[j] = rng.NormFloat64()
			}
			idx, val, acc := randomTerms(rng, k, nrows, n)
			want := append([]float64(nil), acc...)
			axpyRowsGo(want, rows, stride, idx, val)
			// Naive two-rounding sum: the FMA result must be close to it.
			naive := append([]float64(nil), acc...)
			for q, j := range idx {
				for i := range naive {
					naive[i] += val[q] * rows[int(j)*stride+i]
				}
			}
			init := append([]float64(nil), acc...)
			for _, kern := range axpyKernelsTested() {
				copy(acc, init)
				kern.f(acc, rows, stride, idx, val)
				for i := range acc {
					if math.Float64bits(acc[i]) != math.Float64bits(want[i]) {
						t.Fatalf("%s n=%d k=%d: acc[%d] = %v, portable loop %v", kern.name, n, k, i, acc[i], want[i])
					}
					if !closeTo(acc[i], naive[i], 1e-9, 1e-9) {
						t.Fatalf("%s n=%d k=%d: acc[%d] = %v, naive sum %v", kern.name, n, k, i, acc[i], naive[i])
					}
				}
			}
		}
	}
}

// refForward is s = x W^T + b computed naively, with scale[m*N+i] the sum of
// the absolute values of the terms (the scale of the rounding error).
func refForward(w, b, x []float64, batch, in, neurons int) (s, scale []float64) {
	s, scale = make([]float64, batch*neurons), make([]float64, batch*neurons)
	for m := 0; m < batch; m++ {
		for i := 0; i < neurons; i++ {
			sum, abs := b[i], math.Abs(b[i])
			for j := 0; j < in; j++ {
				sum += w[i*in+j] * x[m*in+j]
				abs += math.Abs(w[i*in+j] * x[m*in+j])
			}
			s[m*neurons+i], scale[m*neurons+i] = sum, abs
		}
	}
	return s, scale
}

// refBackward is dw = ds^T x and db = sum_m ds naively, with their scales.
func refBackward(ds, x []float64, batch, in, neurons int) (dw, dwScale, db, dbScale []float64) {
	dw, dwScale = make([]float64, neurons*in), make([]float64, neurons*in)
	db, dbScale = make([]float64, neurons), make([]float64, neurons)
	for m := 0; m < batch; m++ {
		for i := 0; i < neurons; i++ {
			g := ds[m*neurons+i]
			db[i] += g
			dbScale[i] += math.Abs(g)
			for j := 0; j < in; j++ {
				dw[i*in+j] += g * x[m*in+j]
				dwScale[i*in+j] += math.Abs(g * x[m*in+j])
			}
		}
	}
	return dw, dwScale, db, dbScale
}

// checkClose fails unless |got - want| <= tol * scale elementwise.
func checkClose(t *testing.T, what string, got, want, scale []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, at := 0.0, -1
	for j := range want {
		d := math.Abs(got[j] - want[j])
		if d > tol*scale[j] && !(d == 0) {
			t.Fatalf("%s[%d] = %v, want %v (difference %.3g, scale %.3g)", what, j, got[j], want[j], d, scale[j])
		}
		if scale[j] > 0 && d/scale[j] > worst {
			worst, at = d/scale[j], j
		}
	}
	t.Logf("%s: worst relative difference %.3g at %d", what, worst, at)
}

// randomImages returns batch random raw images of in pixels, about
// zeroFrac of them 0, the rest uniform in 1..255.
func randomImages(rng *rand.Rand, batch, in int, zeroFrac float64) []uint8 {
	raw := make([]uint8, batch*in)
	for j := range raw {
		if rng.Float64() >= zeroFrac {
			raw[j] = uint8(1 + rng.IntN(255))
		}
	}
	return raw
}

// imageCase is one comparison of ForwardImage (and the backward pass after
// it) against Forward on the standardised images and the naive products.
func imageCase(t *testing.T, cfg LayerConfig, raw []uint8, mean, std float64, batch int) {
	t.Helper()
	sparse := mustLayer(t, cfg)
	dense := mustLayer(t, cfg)
	dense.noSparse = true
	in := cfg.Inputs[0]
	x := standardise(raw[:batch*in], mean, std)
	others := randInputs(sparse, batch, 9)
	others[0] = nil
	sparse.ForwardImage(raw, mean, std, others, batch)
	if _, ok := sparse.in[0].(*sparseInput); !ok {
		t.Fatalf("ForwardImage: source 1 is %T", sparse.in[0])
	}
	dx := append([][]float64{x}, others[1:]...)
	dense.Forward(dx, batch)
	if _, ok := dense.in[0].(*denseInput); !ok {
		t.Fatalf("Forward of standardised images: source 1 is %T", dense.in[0])
	}
	want, scale := refForward(sparse.W(0), sparse.B(0), x, batch, in, cfg.Neurons)
	checkClose(t, "image s_1 vs naive", sparse.Source(0), want, scale, 1e-12)
	checkClose(t, "dense s_1 vs naive", dense.Source(0), want, scale, 1e-12)
	checkClose(t, "image s_1 vs dense", sparse.Source(0), dense.Source(0), scale, 1e-12)

	rng := rand.New(rand.NewPCG(4, 4))
	g := make([]float64, batch*cfg.Neurons)
	for j := range g {
		g[j] = rng.NormFloat64()
		if rng.IntN(4) == 0 {
			g[j] = 0 // samples that pass no gradient
		}
	}
	for _, l := range []*Layer{sparse, dense} {
		copy(l.gTheta, g)
		l.backward()
	}
	ds := sparse.GradSource(0)
	wantW, scaleW, wantB, scaleB := refBackward(ds, x, batch, in, cfg.Neurons)
	if m := sparse.Mask(0); m != nil {
		for j, v := range m {
			wantW[j] *= v
		}
	}
	checkClose(t, "image dW_1 vs naive", sparse.GradW(0), wantW, scaleW, 1e-12)
	checkClose(t, "image db_1 vs naive", sparse.GradB(0), wantB, scaleB, 1e-12)
	checkClose(t, "image dW_1 vs dense", sparse.GradW(0), dense.GradW(0), scaleW, 1e-12)
	checkClose(t, "image db_1 vs dense", sparse.GradB(0), dense.GradB(0), scaleB, 1e-12)
}

// wideConfig is hiddenConfig with 300 neurons, wide enough for the products
// to go in column bands (bandWidth).
func wideConfig() LayerConfig {
	c := hiddenConfig(2)
	c.Inputs, c.Neurons = []int{784, 10, 300}, 300
	return c
}

// ForwardImage equals Forward on the standardised images, and both equal the
// naive products, to 1e-12 of the scale of the sums.
// axpyRows32 over float32 rows gives axpyRows's bits over the same values
// held in float64, for every width (the AVX-512 chunks and the masked last
// register) and term count.
func TestAxpyRows32Kernel(t *testing.T) {
	if !useAVX512 {
		t.Log("no AVX-512 on this machine: checking the portable loop only")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 3, 7, 8, 9, 16, 31, 64, 100, 119, 120, 121, 240, 241, 1024} {
		for _, k := range []int{0, 1, 2, 7, 100} {
			stride := n + rng.IntN(5)
			nrows := 1 + rng.IntN(40)
			rows32 := make([]float32, (nrows-1)*stride+n)
			rows := make([]float64, len(rows32))
			for j := range rows32 {
				rows32[j] = float32(rng.NormFloat64())
				rows[j] = float64(rows32[j])
			}
			idx, val, acc := randomTerms(rng, k, nrows, n)
			want := append([]float64(nil), acc...)
			axpyRowsGo(want, rows, stride, idx, val)
			axpyRows32(acc, rows32, stride, idx, val)
			for i := range acc {
				if math.Float64bits(acc[i]) != math.Float64bits(want[i]) {
					t.Fatalf("n=%d k=%d: acc[%d] = %v, float64 rows %v", n, k, i, acc[i], want[i])
				}
			}
		}
	}
}

func TestForwardImageRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, tc := range []struct {
		cfg       LayerConfig
		batch     int
		zeroFrac  float64
		mean, std float64
	}{
		{triConfig(), 13, 0.8, 33.3, 78.6},
		{triConfig(), 5, 0, 120, 3},
		{triConfig(), 4, 1, 33.3, 78.6},
		{biConfig(), 40, 0.5, -7, 0.25},
		{hiddenConfig(1), 70, 0.81, 33.3184, 78.5675},
		{hiddenConfig(2), 300, 0.81, 33.3184, 78.5675},
		{wideConfig(), 200, 0.81, 33.3184, 78.5675}, // column bands
	} {
		t.Run(fmt.Sprintf("%d-%d-%v", tc.cfg.Inputs[0], tc.batch, tc.zeroFrac), func(t *testing.T) {
			raw := randomImages(rng, tc.batch, tc.cfg.Inputs[0], tc.zeroFrac)
			imageCase(t, tc.cfg, raw, tc.mean, tc.std, tc.batch)
		})
	}
}

// The same on a real MNIST batch (synthetic MNIST-like images if the module
// is not in the cache).
func TestForwardImageMNIST(t *testing.T) {
	raw, _, mean, std, real := mnistBatch(t, 512)
	if !real {
		t.Log("MNIST not in the module cache: synthetic images")
	}
	zeros := 0
	for _, v := range raw {
		if v == 0 {
			zeros++
		}
	}
	t.Logf("%.1f %% zero pixels", 100*float64(zeros)/float64(len(raw)))
	cfg := hiddenConfig(2)
	imageCase(t, cfg, raw, mean, std, 512)
}

// The image path's gradient is the derivative of its forward pass.
func TestForwardImageFiniteDifference(t *testing.T) {
	cfg := triConfig()
	l := mustLayer(t, cfg)
	const batch = 6
	rng := rand.New(rand.NewPCG(21, 0))
	raw := randomImages(rng, batch, cfg.Inputs[0], 0.6)
	const mean, std = 40, 70
	x := randInputs(l, batch, 22)
	x[0] = nil
	c := make([]float64, batch*l.Neurons())
	for j := range c {
		c[j] = rng.NormFloat64()
	}
	surrogate, grads := surrogateGrads(l, func() { l.ForwardImage(raw, mean, std, x, batch) }, c)
	p := l.Params()
	for j := range len(l.W(0)) + len(l.B(0)) {
		fd := paramDiff(p, j, 1e-6, surrogate)
		if !closeTo(grads[j], fd, 1e-6, 1e-8) {
			t.Errorf("dL/dparam[%d] = %v, finite difference %v", j, grads[j], fd)
		}
	}
}

// A mostly-zero dense input (one-hot label, all-zero lateral input) takes
// the sparse path and still equals the naive product.
func TestForwardSparseDense(t *testing.T) {
	cfg := hiddenConfig(1)
	l := mustLayer(t, cfg)
	const batch = 200
	raw, labels := syntheticImages(batch, 784, 3)
	x := [][]float64{standardise(raw, 33, 78), oneHot(labels, 10), make([]float64, batch*100)}
	x[2][5*100+7] = -1.5 // one non-zero lateral entry
	l.Forward(x, batch)
	for k, want := range []string{"*trainer.denseInput", "*trainer.sparseInput", "*trainer.sparseInput"} {
		if got := fmt.Sprintf("%T", l.in[k]); got != want {
			t.Errorf("source %d: %s, want %s", k+1, got, want)
		}
	}
	g := make([]float64, batch*cfg.Neurons)
	rng := rand.New(rand.NewPCG(5, 5))
	for j := range g {
		g[j] = rng.NormFloat64()
	}
	copy(l.gTheta, g)
	l.backward()
	for k := 0; k < 3; k++ {
		in := cfg.Inputs[k]
		want, scale := refForward(l.W(k), l.B(k), x[k], batch, in, cfg.Neurons)
		checkClose(t, fmt.Sprintf("s_%d", k+1), l.Source(k), want, scale, 1e-12)
		wantW, scaleW, wantB, scaleB := refBackward(l.GradSource(k), x[k], batch, in, cfg.Neurons)
		if m := l.Mask(k); m != nil {
			for j, v := range m {
				wantW[j] *= v
			}
		}
		checkClose(t, fmt.Sprintf("dW_%d", k+1), l.GradW(k), wantW, scaleW, 1e-12)
		checkClose(t, fmt.Sprintf("db_%d", k+1), l.GradB(k), wantB, scaleB, 1e-12)
	}
}

// stepState runs one training step of a layer (two recurrent steps, the PID
// and the backward pass) and returns everything it computed.
func stepState(t *testing.T, cfg LayerConfig, raw []uint8, x [][]float64, batch int, image bool) []float64 {
	t.Helper()
	l := mustLayer(t, cfg)
	first := append([][]float64(nil), x...)
	if image {
		first[0] = nil
		l.ForwardImage(raw, 33.3184, 78.5675, first, batch)
	} else {
		l.Forward(first, batch)
	}
	var out []float64
	for k := 0; k < l.Sources(); k++ {
		out = append(out, l.Source(k)...)
	}
	out = append(out, l.Theta()...)
	y := make([]float64, batch*l.Neurons())
	l.Sample(y)
	second := make([][]float64, len(x))
	second[1] = x[1]
	if len(x) == 3 {
		second[2] = y
	}
	l.Forward(second, batch)
	loss, err := l.Learn()
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < l.Sources(); k++ {
		out = append(out, l.Source(k)...)
		out = append(out, l.GradSource(k)...)
	}
	out = append(out, l.Theta()...)
	out = append(out, l.Grads()...)
	return append(out, loss)
}

// Every product, and so a whole training step, is bit-identical whatever the
// number of threads.
func TestThreadsBitIdentical(t *testing.T) {
	const batch = 333
	raw, labels := syntheticImages(batch, 784, 11)
	hidden := hiddenConfig(1)
	hidden.Goal = []float64{0.33, 1, -1, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0}
	output := LayerConfig{
		Inputs:     []int{100, 10},
		Neurons:    10,
		Masks:      []Mask{{}, {Kind: IdentityMask}},
		Activation: OutputGraetz,
		Binning:    PaperAdaptiveBinning,
		Goal:       []float64{-0.2, 0.1, 1, 0.1, 0},
		Seed:       8,
	}
	rng := rand.New(rand.NewPCG(2, 9))
	hiddenOut := make([]float64, batch*100)
	for j := range hiddenOut {
		hiddenOut[j] = float64(2*rng.IntN(2) - 1)
	}
	wide := hidden
	wide.Inputs, wide.Neurons = []int{784, 10, 300}, 300
	wideOut := make([]float64, batch*300)
	for j := range wideOut {
		wideOut[j] = float64(2*rng.IntN(2) - 1)
	}
	if bandWidth(300, 784) == 300 || bandWidth(300, batch) == 300 {
		t.Fatal("the wide case does not use column bands")
	}
	for _, tc := range []struct {
		name  string
		cfg   LayerConfig
		x     [][]float64
		image bool
	}{
		{"hidden/image", hidden, [][]float64{nil, oneHot(labels, 10), make([]float64, batch*100)}, true},
		{"hidden/dense", hidden, [][]float64{standardise(raw, 33.3184, 78.5675), oneHot(labels, 10), make([]float64, batch*100)}, false},
		{"hidden/withheld-label", hidden, [][]float64{nil, make([]float64, batch*10), make([]float64, batch*100)}, true},
		{"output", output, [][]float64{hiddenOut, oneHot(labels, 10)}, false},
		// 300 neurons: the image and lateral products go in column bands.
		{"wide/image", wide, [][]float64{nil, oneHot(labels, 10), wideOut}, true},
		{"wide/dense", wide, [][]float64{standardise(raw, 33.3184, 78.5675), oneHot(labels, 10), wideOut}, false},
		{"fan-in/image", fanInConfig(1), [][]float64{nil, oneHot(labels, 10), hiddenOut}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []float64
			for _, threads := range []int{1, 2, 3} {
				cfg := tc.cfg
				cfg.Threads = threads
				got := stepState(t, cfg, raw, tc.x, batch, tc.image)
				if want == nil {
					want = got
					continue
				}
				for j := range want {
					if math.Float64bits(got[j]) != math.Float64bits(want[j]) {
						t.Fatalf("threads=%d: value %d = %v, threads=1 gave %v", threads, j, got[j], want[j])
					}
				}
			}
		})
	}
}

// The image path allocates nothing per minibatch, with one thread or more.
func TestForwardImageNoAllocations(t *testing.T) {
	for _, threads := range []int{1, 2} {
		h := newHiddenStep(t, threads, 256, true)
		h.train()
		smaller := [][]float64{nil, h.label[:100*10], h.zeros[:100*100]}
		allocs := testing.AllocsPerRun(10, func() {
			h.train()
			if err := h.l.binSources(); err != nil {
				t.Fatal(err)
			}
			h.l.ForwardImage(h.raw, h.mean, h.std, smaller, 100)
		})
		if allocs != 0 {
			t.Errorf("threads=%d: %v allocations per minibatch, want 0", threads, allocs)
		}
	}
}

func TestForwardImagePanics(t *testing.T) {
	l := mustLayer(t, triConfig())
	x := randInputs(l, 4, 1)
	raw := make([]uint8, 4*12)
	for name, f := range map[string]func(){
		"x[0] given":  func() { l.ForwardImage(raw, 0, 1, x, 4) },
		"short raw":   func() { l.ForwardImage(raw[:47], 0, 1, [][]float64{nil, x[1], x[2]}, 4) },
		"zero std":    func() { l.ForwardImage(raw, 0, 0, [][]float64{nil, x[1], x[2]}, 4) },
		"NaN mean":    func() { l.ForwardImage(raw, math.NaN(), 1, [][]float64{nil, x[1], x[2]}, 4) },
		"input count": func() { l.ForwardImage(raw, 0, 1, [][]float64{nil, x[1]}, 4) },
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
	// A later Forward reuses the image source.
	l.ForwardImage(raw, 0, 1, [][]float64{nil, x[1], x[2]}, 4)
	before := append([]float64(nil), l.Source(0)...)
	l.Forward([][]float64{nil, x[1], x[2]}, 4)
	for j, v := range l.Source(0) {
		if v != before[j] {
			t.Fatalf("reused image source changed at %d", j)
		}
	}
}

// randomTerms draws k terms of an axpyRows call over nrows rows (values
// spread over many orders of magnitude, so that rounding differences would
// show) and an accumulator of n random elements.
func randomTerms(rng *rand.Rand, k, nrows, n int) (idx []int32, val, acc []float64) {
	idx = make([]int32, k)
	val = make([]float64, k)
	for q := range idx {
		idx[q] = int32(rng.IntN(nrows))
		val[q] = rng.NormFloat64() * math.Exp(4*rng.NormFloat64())
	}
	acc = make([]float64, n)
	for i := range acc {
		acc[i] = rng.NormFloat64()
	}
	return idx, val, acc
}
