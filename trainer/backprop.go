package trainer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
)

// backprop is the paper's backprop baseline (the reference's
// GlobalBackpropModel): ContextLateral's architecture, trained end to end on
// a cross-entropy, with the reference's particular choices (spec §5):
//
//   - hidden units output 0 or 1 (not ±1), sampled with probability
//     sigmoid(u) where u is the Schneider activation's argument, and pass
//     the surrogate gradient sigmoid'(u) du/ds_k;
//   - the hidden layer runs two steps (lateral input 0, then the first
//     step's 0/1 output) and gradients flow through both, the image and
//     label sources being shared by the steps;
//   - the output layer (Graetz K1 = 1, clamped) gives theta, and the loss is
//     torch.nn.CrossEntropyLoss applied to theta as if it were the logits:
//     mean over the batch of logsumexp(theta) - theta[label], which cannot
//     fall below about 1.46;
//   - one Adam (lr 0.001, no weight decay) over all parameters. It is kept
//     as one Adam per layer: Adam is elementwise and both take the same
//     steps, so this is the same optimiser.
//
// The two Layers hold the parameters, their initialisation and the lateral
// mask, exactly as for the infomorphic setups; the passes are this file's
// own, since a Layer back-propagates only its own goal through one step.
// They run on the Layers' kernels: the image through the data set's pixel
// lists, the label and the 0/1 hidden outputs as sparse inputs by their
// rarer value (linear_sparse.go), the activations on the vector kernels,
// all over Config.Threads threads, bit-identical for any number of them.
type backprop struct {
	hidden, output *Layer
	hOpt, oOpt     *Adam
	act            Schneider
	actI           Activation // act, boxed once
	outAct         Graetz
	h, c, pixels   int
	threads        int

	src  *rand.PCG // training samples of the hidden units
	pool *linPool  // nil for one thread

	// The inputs of the products: image, label, lateral (step 2; step 1's
	// is 0), output layer's feedforward and label.
	inF, inC, inL, inO, inOC sparseInput
	inFd                     denseInput // standardised images without pixel lists
	backIn                   backInputTask
	sampler                  sampleTask // 0/1 outputs, drawn as sampleInto draws
	actT                     actTask

	// Per-minibatch buffers, sized for the largest batch; per-sample,
	// per-neuron values at [m*neurons + i].
	sF, sC, sL1, sL2 []float64 // hidden sources (F and C shared by the steps)
	t1, t2           []float64 // hidden theta of the two steps
	d1, d2           [][]float64
	h1, h2           []float64 // sampled 0/1 outputs of the two steps
	zeroC            []float64
	rO, cO           []float64 // output sources
	theta, dTheta    []float64 // output theta and dtheta/dr
	dOut             [][]float64
	srcs, outSrc     [][]float64 // the activations' arguments
	gR               []float64   // dLoss/dr of the output layer
	gH               []float64   // dLoss/dh of a step's output
	gF, gC, gL       []float64   // dLoss/ds_k of the hidden layer, summed over steps
	gL2              []float64   // dLoss/ds_L of step 2 alone (step 1's lateral input is 0)
	gbL              []float64   // scratch for the lateral bias gradient of step 2
	row              []float64   // one row of softmax terms
}

func newBackprop(cfg *Config, pixels, classes int) (*backprop, error) {
	hidden, err := NewLayer(LayerConfig{
		Inputs:     []int{pixels, classes, cfg.Hidden},
		Neurons:    cfg.Hidden,
		Masks:      []Mask{{}, {}, {Kind: NoSelfMask, FanIn: cfg.LateralFanIn}},
		Activation: *cfg.Schneider,
		Binning:    *cfg.HiddenBinning,
		Seed:       deriveSeed(cfg.Seed, tagHidden, 0),
	})
	if err != nil {
		return nil, fmt.Errorf("%w (hidden layer)", err)
	}
	output, err := NewLayer(LayerConfig{
		Inputs:     []int{cfg.Hidden, classes},
		Neurons:    classes,
		Masks:      []Mask{{}, {Kind: IdentityMask}},
		Activation: OutputGraetz,
		Binning:    *cfg.OutputBinning,
		Seed:       deriveSeed(cfg.Seed, tagOutput, 0),
	})
	if err != nil {
		hidden.Close()
		return nil, fmt.Errorf("%w (output layer)", err)
	}
	m := &backprop{hidden: hidden, output: output, act: *cfg.Schneider, outAct: OutputGraetz,
		h: cfg.Hidden, c: classes, pixels: pixels, threads: max(1, cfg.Threads)}
	if m.hOpt, err = NewAdam(*cfg.BackpropAdam, len(hidden.Params())); err == nil {
		m.oOpt, err = NewAdam(*cfg.BackpropAdam, len(output.Params()))
	}
	if err != nil {
		m.close()
		return nil, err
	}
	m.src = rand.NewPCG(deriveSeed(cfg.Seed, tagBackprop, 0), streamSample)
	if m.threads > 1 {
		m.pool = newLinPool(m.threads)
		runtime.AddCleanup(m, func(p *linPool) { p.stop() }, m.pool)
	}
	b := cfg.BatchSize
	nh, nc := b*cfg.Hidden, b*classes
	f := func(n int) []float64 { return make([]float64, n) }
	three := func() [][]float64 { return [][]float64{f(nh), f(nh), f(nh)} }
	m.sF, m.sC, m.sL1, m.sL2 = f(nh), f(nh), f(nh), f(nh)
	m.t1, m.t2, m.d1, m.d2 = f(nh), f(nh), three(), three()
	m.h1, m.h2 = f(nh), f(nh)
	m.gH, m.gF, m.gC, m.gL, m.gL2 = f(nh), f(nh), f(nh), f(nh), f(nh)
	m.zeroC, m.rO, m.cO, m.theta, m.dTheta, m.gR = f(nc), f(nc), f(nc), f(nc), f(nc), f(nc)
	m.dOut = [][]float64{m.dTheta, f(nc)}
	m.srcs, m.outSrc = [][]float64{m.sF, m.sC, m.sL1}, [][]float64{m.rO, m.cO}
	m.actI = m.act
	m.gbL = f(cfg.Hidden)
	m.row = f(classes)
	// Inputs' buffers: the path (sparse or dense) depends on the data.
	for _, in := range []struct {
		sp     *sparseInput
		in, nn int
	}{{&m.inF, pixels, m.h}, {&m.inC, classes, m.h}, {&m.inL, m.h, m.h}, {&m.inO, m.h, classes}, {&m.inOC, classes, classes}} {
		in.sp.reserve(b, in.in, in.nn, sparseLimit(b, in.in))
	}
	m.inFd.reserve(b, pixels, m.h, m.threads)
	m.backIn.reserve(b, max(m.h, classes), m.threads)
	return m, nil
}

// activate sets theta and the derivatives d of the first size values of the
// sources s, over the pool's threads.
func (m *backprop) activate(a Activation, theta []float64, d, s [][]float64, batch, neurons int) {
	t := &m.actT
	parts := max(1, min(m.pool.threads(), batch*neurons/4096))
	if len(t.views) < 2*len(s)*parts {
		t.views = make([][]float64, 2*len(s)*m.pool.threads())
	}
	t.act, t.theta, t.dth, t.s, t.batch, t.nn = a, theta, d, s, batch, neurons
	m.pool.run(t, parts)
	t.theta, t.dth, t.s = nil, nil, nil
}

// input multiplies x (batch × in, or nil for all zeros) by w into s through
// sp, as a sparse input if it is mostly one value per column, else through
// dense if given.
func (m *backprop) input(sp *sparseInput, dense *denseInput, s, x, w, b []float64, batch, in, neurons int) linearInput {
	var li linearInput = sp
	if !sp.setDense(x[:batch*in], in, batch, neurons, sparseLimit(batch, in)) {
		if dense == nil {
			panic("trainer: backprop input is not sparse")
		}
		dense.set(x[:batch*in], in)
		li = dense
	}
	li.forward(m.pool, s[:batch*neurons], w, b, batch, neurons)
	return li
}

// forward runs the network on b with context label, sampling from rng, and
// leaves theta (and dtheta/dr) of the output layer. It returns the image
// and label inputs, for the backward pass.
func (m *backprop) forward(b *batchData, label []float64, rng *rand.PCG) (inF, inC linearInput) {
	n, hl, ol := b.n, m.hidden, m.output
	H, C := m.h, m.c
	size := n * H
	if b.img.idx != nil {
		m.inF.setImage(m.pool, &b.img, m.pixels, n, H)
		m.inF.forward(m.pool, m.sF[:size], hl.W(0), hl.B(0), n, H)
		inF = &m.inF
	} else {
		inF = m.input(&m.inF, &m.inFd, m.sF, b.x, hl.W(0), hl.B(0), n, m.pixels, H)
	}
	inC = m.input(&m.inC, nil, m.sC, label, hl.W(1), hl.B(1), n, C, H)
	// Step 1: the lateral input is 0, its source the bias.
	bL := hl.B(2)
	for s := 0; s < n; s++ {
		copy(m.sL1[s*H:(s+1)*H], bL)
	}
	src := m.srcs
	src[2] = m.sL1
	m.activate(m.actI, m.t1[:size], m.d1, src, n, H)
	m.sampler.sample(m.pool, m.h1[:size], m.t1[:size], rng, true)
	m.input(&m.inL, nil, m.sL2, m.h1, hl.W(2), bL, n, H, H)
	src[2] = m.sL2
	m.activate(m.actI, m.t2[:size], m.d2, src, n, H)
	m.sampler.sample(m.pool, m.h2[:size], m.t2[:size], rng, true)
	m.input(&m.inO, nil, m.rO, m.h2, ol.W(0), ol.B(0), n, H, C)
	m.input(&m.inOC, nil, m.cO, label, ol.W(1), ol.B(1), n, C, C)
	nc := n * C
	m.outAct.Apply(m.theta[:nc], m.dOut, m.outSrc)
	return inF, inC
}

func (m *backprop) trainBatch(b *batchData, update bool, acc *epochAccum) ([]float64, error) {
	n, H, C := b.n, m.h, m.c
	w := m.output.W(1) // the fixed identity context weights, as in infomorphic
	for i := 0; i < C; i++ {
		w[i*C+i] = 1
	}
	inF, inC := m.forward(b, b.label, m.src)
	theta := m.theta[:n*C]

	// Cross-entropy on theta as logits, and dLoss/dr of the output layer.
	var loss float64
	inv := 1 / float64(n)
	for s := 0; s < n; s++ {
		th := theta[s*C : (s+1)*C]
		mx := th[0]
		for _, v := range th {
			mx = max(mx, v)
		}
		var sum float64
		for k, v := range th {
			m.row[k] = math.Exp(v - mx)
			sum += m.row[k]
		}
		y := b.labels[s]
		loss += math.Log(sum) + mx - th[y]
		for k := range th {
			g := m.row[k] / sum
			if k == y {
				g--
			}
			m.gR[s*C+k] = g * inv * m.dTheta[s*C+k]
		}
	}
	loss *= inv
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return nil, fmt.Errorf("%w (cross-entropy %v)", ErrNonFinite, loss)
	}
	acc.loss += loss

	ol, hl := m.output, m.hidden
	size := n * H
	gR := m.gR[:n*C]
	// Output layer: dW_F, db_F from gR; the context has no gradient
	// (K1 = 1: theta does not depend on it).
	m.inO.backward(m.pool, ol.GradW(0), ol.GradB(0), gR, n, C)
	clear(ol.GradW(1))
	clear(ol.GradB(1))
	// Step 2.
	gH := m.gH[:size]
	m.backIn.run2(m.pool, gH, gR, ol.W(0), n, H, C)
	gF, gC, gL, gL2 := m.gF[:size], m.gC[:size], m.gL[:size], m.gL2[:size]
	for j, g := range gH {
		gF[j] = g * m.d2[0][j]
		gC[j] = g * m.d2[1][j]
		gL2[j] = g * m.d2[2][j]
	}
	// Step 1, through the lateral weights (masked, so no self-connection).
	m.backIn.run2(m.pool, gH, gL2, hl.W(2), n, H, H)
	for j, g := range gH {
		gF[j] += g * m.d1[0][j]
		gC[j] += g * m.d1[1][j]
		gL[j] = gL2[j] + g*m.d1[2][j]
	}
	inF.backward(m.pool, hl.GradW(0), hl.GradB(0), gF, n, H)
	inC.backward(m.pool, hl.GradW(1), hl.GradB(1), gC, n, H)
	// The lateral weights see only step 2's input (step 1's is 0); the
	// lateral bias sees both steps.
	m.inL.backward(m.pool, hl.GradW(2), m.gbL, gL2, n, H)
	gb := hl.GradB(2)
	clear(gb)
	for s := 0; s < n; s++ {
		for i, v := range gL[s*H : (s+1)*H] {
			gb[i] += v
		}
	}
	if mask := hl.Mask(2); mask != nil {
		gw := hl.GradW(2)
		for j, v := range mask {
			gw[j] *= v
		}
	}
	if update {
		m.hOpt.pool = m.pool
		m.hOpt.Step(hl.Params(), hl.Grads())
		m.oOpt.Step(ol.Params(), ol.Grads())
	}
	return theta, nil
}

func (m *backprop) evalBatch(b *batchData, rng *rand.PCG) ([]float64, error) {
	m.forward(b, m.zeroC[:b.n*m.c], rng)
	return m.theta[:b.n*m.c], nil
}

func (m *backprop) atomLens() (int, int) { return 0, 0 }

// rawImages is true: the hidden layer multiplies the data set's pixel lists
// (the standardised images if it has none).
func (m *backprop) rawImages() bool { return true }

func (m *backprop) params() [][]float64 {
	return [][]float64{m.hidden.Params(), m.output.Params()}
}

func (m *backprop) optimisers() []*Adam { return []*Adam{m.hOpt, m.oOpt} }

func (m *backprop) rngs() []rngState { return []rngState{m.src} }

func (m *backprop) close() {
	m.pool.stop()
	m.hidden.Close()
	if m.output != nil {
		m.output.Close()
	}
}

// backInputTask is the gradient with respect to a product's input,
//
//	dx[m*in+j] = sum_i g[m*neurons+i] w[i*in+j]   (i in increasing order, terms with g = 0 skipped)
//
// one axpyRows per sample over the rows of w, the samples split over the
// pool's threads: every dx entry is summed by one goroutine in a fixed
// order, so the result does not depend on the number of threads.
type backInputTask struct {
	dx, g, w           []float64
	batch, in, neurons int
	idx                [][]int32 // per part: the neurons with g != 0
	val                [][]float64
}

func (t *backInputTask) reserve(batch, neurons, threads int) {
	t.idx, t.val = make([][]int32, threads), make([][]float64, threads)
	for q := range t.idx {
		t.idx[q], t.val[q] = make([]int32, neurons), make([]float64, neurons)
	}
}

// run2 computes dx from g and w over p's threads.
func (t *backInputTask) run2(p *linPool, dx, g, w []float64, batch, in, neurons int) {
	if len(t.idx) < p.threads() || len(t.idx[0]) < neurons {
		panic("trainer: backInputTask not reserved")
	}
	t.dx, t.g, t.w, t.batch, t.in, t.neurons = dx, g, w, batch, in, neurons
	p.run(t, partsFor(p, batch*in*neurons))
	t.dx, t.g, t.w = nil, nil, nil
}

func (t *backInputTask) run(part, parts int) {
	m0, m1 := split(t.batch, part, parts)
	in, N := t.in, t.neurons
	idx, val := t.idx[part][:N], t.val[part][:N]
	for m := m0; m < m1; m++ {
		k := 0
		for i, v := range t.g[m*N : (m+1)*N] {
			if v != 0 {
				idx[k], val[k] = int32(i), v
				k++
			}
		}
		row := t.dx[m*in : (m+1)*in]
		clear(row)
		axpyRows(row, t.w, in, idx[:k], val[:k])
	}
}
