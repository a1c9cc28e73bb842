package trainer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"gonum.org/v1/gonum/floats"
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
// The Layers (hidden, output) hold the parameters, their initialisation and the lateral
// mask, exactly as for the infomorphic setups; the passes are this file's
// own, since a Layer back-propagates only its own goal through one step.
// They run on the Layers' kernels: the image through the data set's pixel
// lists, the label and the 0/1 hidden outputs as sparse inputs by their
// rarer value (linear_sparse.go), the activations on the vector kernels,
// all over Config.Threads threads, bit-identical for any number of them.
//
// With several hidden layers (Config.Layers) the network is the infomorphic
// one's shape: each step runs the layers bottom up, layer l+1 reading layer
// l's 0/1 output of the same step as its feedforward input, every layer
// with the label as context and its own lateral input; the output layer
// reads the last. The gradient flows back through every layer and both
// steps (backpropagation through time over the grid of layers and steps):
// layer l's step-2 output feeds layer l+1's step 2 and the output, its
// step-1 output its own step 2 (lateral) and layer l+1's step 1, so backLayer
// goes top down, each layer handing the layer below both gradients.
type backprop struct {
	layers    []*bpLayer // hidden, bottom up
	output    *Layer
	hOpt      []*Adam
	oOpt      *Adam
	act       Schneider
	actI      Activation // act, boxed once
	outAct    Graetz
	h, c      int
	pixels    int
	threads   int
	meanField bool // tests: a hidden unit outputs theta instead of a sample, so that the loss is differentiable

	src  *rand.PCG // training samples of the hidden units
	pool *linPool  // nil for one thread

	// The inputs of the output layer's products: feedforward and label.
	inO, inOC sparseInput
	inOd      denseInput // the feedforward input when it is not 0/1 (meanField)
	liO       linearInput
	backIn    backInputTask
	sampler   sampleTask // 0/1 outputs, drawn as sampleInto draws
	actT      actTask

	// Per-minibatch buffers, sized for the largest batch; per-sample,
	// per-neuron values at [m*neurons + i].
	zeroC         []float64
	rO, cO        []float64 // output sources
	theta, dTheta []float64 // output theta and dtheta/dr
	dOut          [][]float64
	outSrc        [][]float64 // the output activation's arguments
	gR            []float64   // dLoss/dr of the output layer
	row           []float64   // one row of softmax terms
}

// bpLayer is one hidden layer of the backprop baseline and its buffers.
type bpLayer struct {
	*Layer
	in int // feedforward inputs: pixels for the first layer, else the layer below's neurons

	// The inputs of the products: feedforward (the image, shared by the
	// steps, for the first layer; the layer below's step-1 output for the
	// others, whose step-2 input is inF2), label, lateral (step 2; step 1's
	// is 0). The dense ones take inputs that are not 0/1 (the standardised
	// images, and every input in meanField).
	inF, inF2, inC, inL     sparseInput
	inFd, inF2d, inCd, inLd denseInput
	liF, liF2, liC, liL     linearInput // the paths the last forward took

	sF, sF2, sC, sL1, sL2 []float64 // sources (sF2: the step-2 feedforward source of a layer above the first)
	t1, t2                []float64 // theta of the two steps
	d1, d2                [][]float64
	h1, h2                []float64 // sampled 0/1 outputs of the two steps
	src1, src2            [][]float64
	gH                    []float64 // dLoss/dh of step 2's output, then of step 1's
	gExt                  []float64 // dLoss/dh of step 1's output through the layer above's step-1 feedforward input
	gF, gF2, gC, gL       []float64 // dLoss/ds_k, summed over steps (gF2: step 2's feedforward source of a layer above the first)
	gL2                   []float64 // dLoss/ds_L of step 2 alone (step 1's lateral input is 0)
	gbL                   []float64 // scratch for the lateral bias gradient of step 2
	gW2, gB2              []float64 // scratch for the step-2 feedforward gradients of a layer above the first
}

func newBackprop(cfg *Config, pixels, classes int) (*backprop, error) {
	m := &backprop{act: *cfg.Schneider, outAct: OutputGraetz,
		h: cfg.Hidden, c: classes, pixels: pixels, threads: max(1, cfg.Threads)}
	nl := cfg.layers()
	for l := 0; l < nl; l++ {
		in := pixels
		if l > 0 {
			in = cfg.Hidden
		}
		hidden, err := NewLayer(LayerConfig{
			Inputs:     []int{in, classes, cfg.Hidden},
			Neurons:    cfg.Hidden,
			Masks:      []Mask{{}, {}, {Kind: NoSelfMask, FanIn: cfg.LateralFanIn}},
			Activation: *cfg.Schneider,
			Binning:    *cfg.HiddenBinning,
			Seed:       deriveSeed(cfg.Seed, tagHidden, uint64(l)),
		})
		if err != nil {
			m.close()
			if nl > 1 {
				return nil, fmt.Errorf("%w (hidden layer %d)", err, l+1)
			}
			return nil, fmt.Errorf("%w (hidden layer)", err)
		}
		m.layers = append(m.layers, &bpLayer{Layer: hidden, in: in})
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
		m.close()
		return nil, fmt.Errorf("%w (output layer)", err)
	}
	m.output = output
	for _, hl := range m.layers {
		var o *Adam
		if o, err = NewAdam(*cfg.BackpropAdam, len(hl.Params())); err != nil {
			break
		}
		m.hOpt = append(m.hOpt, o)
	}
	if err == nil {
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
	H := cfg.Hidden
	nh, nc := b*H, b*classes
	f := func(n int) []float64 { return make([]float64, n) }
	three := func() [][]float64 { return [][]float64{f(nh), f(nh), f(nh)} }
	for l, L := range m.layers {
		L.sF, L.sC, L.sL1, L.sL2 = f(nh), f(nh), f(nh), f(nh)
		L.t1, L.t2, L.d1, L.d2 = f(nh), f(nh), three(), three()
		L.h1, L.h2 = f(nh), f(nh)
		L.gH, L.gF, L.gC, L.gL, L.gL2 = f(nh), f(nh), f(nh), f(nh), f(nh)
		L.src1, L.src2 = [][]float64{L.sF, L.sC, L.sL1}, [][]float64{L.sF, L.sC, L.sL2}
		L.gbL = f(H)
		// Inputs' buffers: the path (sparse or dense) depends on the data.
		L.inF.reserve(b, L.in, H, sparseLimit(b, L.in))
		L.inC.reserve(b, classes, H, sparseLimit(b, classes))
		L.inL.reserve(b, H, H, sparseLimit(b, H))
		L.inFd.reserve(b, L.in, H, m.threads)
		if l > 0 {
			L.sF2, L.gF2 = f(nh), f(nh)
			L.src2[0] = L.sF2
			L.inF2.reserve(b, H, H, sparseLimit(b, H))
			L.gW2, L.gB2 = f(H*H), f(H)
		}
		if l < len(m.layers)-1 {
			L.gExt = f(nh)
		}
	}
	m.zeroC, m.rO, m.cO, m.theta, m.dTheta, m.gR = f(nc), f(nc), f(nc), f(nc), f(nc), f(nc)
	m.dOut = [][]float64{m.dTheta, f(nc)}
	m.outSrc = [][]float64{m.rO, m.cO}
	m.actI = m.act
	m.row = f(classes)
	for _, in := range []struct {
		sp     *sparseInput
		in, nn int
	}{{&m.inO, m.h, classes}, {&m.inOC, classes, classes}} {
		in.sp.reserve(b, in.in, in.nn, sparseLimit(b, in.in))
	}
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
		dense.reserve(batch, in, neurons, m.threads) // a no-op once sized: only meanField and the images come here
		dense.set(x[:batch*in], in)
		li = dense
	}
	li.forward(m.pool, s[:batch*neurons], w, b, batch, neurons)
	return li
}

// forward runs the network on b with context label, sampling from rng, and
// leaves theta (and dtheta/dr) of the output layer, and in each layer the
// input paths its products took, for the backward pass.
func (m *backprop) forward(b *batchData, label []float64, rng *rand.PCG) {
	n, H, C := b.n, m.h, m.c
	size := n * H
	for l, L := range m.layers {
		switch {
		case l > 0:
			L.liF = m.input(&L.inF, &L.inFd, L.sF, m.layers[l-1].h1, L.W(0), L.B(0), n, H, H)
		case b.img.idx != nil:
			L.inF.setImage(m.pool, &b.img, m.pixels, n, H)
			L.inF.forward(m.pool, L.sF[:size], L.W(0), L.B(0), n, H)
			L.liF = &L.inF
		default:
			L.liF = m.input(&L.inF, &L.inFd, L.sF, b.x, L.W(0), L.B(0), n, m.pixels, H)
		}
		L.liC = m.input(&L.inC, &L.inCd, L.sC, label, L.W(1), L.B(1), n, C, H)
		// Step 1: the lateral input is 0, its source the bias.
		bL := L.B(2)
		for s := 0; s < n; s++ {
			copy(L.sL1[s*H:(s+1)*H], bL)
		}
		m.activate(m.actI, L.t1[:size], L.d1, L.src1, n, H)
		m.hiddenOut(L.h1[:size], L.t1[:size], rng)
	}
	for l, L := range m.layers {
		if l > 0 {
			L.liF2 = m.input(&L.inF2, &L.inF2d, L.sF2, m.layers[l-1].h2, L.W(0), L.B(0), n, H, H)
		}
		L.liL = m.input(&L.inL, &L.inLd, L.sL2, L.h1, L.W(2), L.B(2), n, H, H)
		m.activate(m.actI, L.t2[:size], L.d2, L.src2, n, H)
		m.hiddenOut(L.h2[:size], L.t2[:size], rng)
	}
	top := m.layers[len(m.layers)-1]
	m.liO = m.input(&m.inO, &m.inOd, m.rO, top.h2, m.output.W(0), m.output.B(0), n, H, C)
	m.input(&m.inOC, nil, m.cO, label, m.output.W(1), m.output.B(1), n, C, C)
	nc := n * C
	m.outAct.Apply(m.theta[:nc], m.dOut, m.outSrc)
}

// hiddenOut sets h to 0/1 samples of theta, or to theta in meanField.
func (m *backprop) hiddenOut(h, theta []float64, rng *rand.PCG) {
	if m.meanField {
		copy(h, theta)
		return
	}
	m.sampler.sample(m.pool, h, theta, rng, true)
}

func (m *backprop) trainBatch(b *batchData, update bool, acc *epochAccum) ([]float64, error) {
	n, H, C := b.n, m.h, m.c
	w := m.output.W(1) // the fixed identity context weights, as in infomorphic
	for i := 0; i < C; i++ {
		w[i*C+i] = 1
	}
	m.forward(b, b.label, m.src)
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

	ol := m.output
	size := n * H
	gR := m.gR[:n*C]
	// Output layer: dW_F, db_F from gR; the context has no gradient
	// (K1 = 1: theta does not depend on it).
	m.liO.backward(m.pool, ol.GradW(0), ol.GradB(0), gR, n, C)
	clear(ol.GradW(1))
	clear(ol.GradB(1))
	top := len(m.layers) - 1
	m.backIn.run2(m.pool, m.layers[top].gH[:size], gR, ol.W(0), n, H, C)
	for l := top; l >= 0; l-- {
		m.backLayer(l, n)
	}
	if update {
		for l, L := range m.layers {
			m.hOpt[l].pool = m.pool
			m.hOpt[l].Step(L.Params(), L.Grads())
		}
		m.oOpt.Step(ol.Params(), ol.Grads())
	}
	return theta, nil
}

// backLayer back-propagates through hidden layer l (top down: the layers
// above have passed theirs) from dLoss/dh of its step-2 output (gH) and of
// its step-1 output through the layer above (gExt), into its gradients, and
// for a layer above the first on into the layer below's gH and gExt.
func (m *backprop) backLayer(l, n int) {
	H := m.h
	size := n * H
	L := m.layers[l]
	gH := L.gH[:size]
	gF, gC, gL, gL2 := L.gF[:size], L.gC[:size], L.gL[:size], L.gL2[:size]
	// Step 2. The first layer's feedforward source is shared by the steps,
	// so its gradients are summed in gF; a layer above has its own step-2
	// source, with its own input.
	gF2 := gF
	if l > 0 {
		gF2 = L.gF2[:size]
	}
	for j, g := range gH {
		gF2[j] = g * L.d2[0][j]
		gC[j] = g * L.d2[1][j]
		gL2[j] = g * L.d2[2][j]
	}
	// Step 1, through the lateral weights (masked, so no self-connection),
	// and through the layer above's step-1 feedforward input.
	m.backIn.run2(m.pool, gH, gL2, L.W(2), n, H, H)
	if l < len(m.layers)-1 {
		for j, g := range L.gExt[:size] {
			gH[j] += g
		}
	}
	if l > 0 {
		for j, g := range gH {
			gF[j] = g * L.d1[0][j]
		}
	} else {
		for j, g := range gH {
			gF[j] += g * L.d1[0][j]
		}
	}
	for j, g := range gH {
		gC[j] += g * L.d1[1][j]
		gL[j] = gL2[j] + g*L.d1[2][j]
	}
	if l > 0 {
		below := m.layers[l-1]
		m.backIn.run2(m.pool, below.gH[:size], gF2, L.W(0), n, H, H)
		m.backIn.run2(m.pool, below.gExt[:size], gF, L.W(0), n, H, H)
	}
	L.liF.backward(m.pool, L.GradW(0), L.GradB(0), gF, n, H)
	if l > 0 {
		L.liF2.backward(m.pool, L.gW2, L.gB2, gF2, n, H)
		floats.Add(L.GradW(0), L.gW2)
		floats.Add(L.GradB(0), L.gB2)
	}
	L.liC.backward(m.pool, L.GradW(1), L.GradB(1), gC, n, H)
	// The lateral weights see only step 2's input (step 1's is 0); the
	// lateral bias sees both steps.
	L.liL.backward(m.pool, L.GradW(2), L.gbL, gL2, n, H)
	gb := L.GradB(2)
	clear(gb)
	for s := 0; s < n; s++ {
		for i, v := range gL[s*H : (s+1)*H] {
			gb[i] += v
		}
	}
	if mask := L.Mask(2); mask != nil {
		gw := L.GradW(2)
		for j, v := range mask {
			gw[j] *= v
		}
	}
}

func (m *backprop) evalBatch(b *batchData, rng *rand.PCG) ([]float64, error) {
	m.forward(b, m.zeroC[:b.n*m.c], rng)
	return m.theta[:b.n*m.c], nil
}

func (m *backprop) atomLens() (int, int) { return 0, 0 }

// rawImages is true: the hidden layer multiplies the data set's pixel lists
// (the standardised images if it has none).
func (m *backprop) rawImages() bool { return true }

// params and optimisers list the hidden layers bottom up, then the output
// layer, as the infomorphic networks do.
func (m *backprop) params() [][]float64 {
	var out [][]float64
	for _, L := range m.layers {
		out = append(out, L.Params())
	}
	return append(out, m.output.Params())
}

func (m *backprop) optimisers() []*Adam { return append(slices.Clone(m.hOpt), m.oOpt) }

func (m *backprop) rngs() []rngState { return []rngState{m.src} }

func (m *backprop) close() {
	m.pool.stop()
	for _, L := range m.layers {
		L.Close()
	}
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
