package trainer

import (
	"fmt"
	"math"
	"math/rand/v2"

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
// The two Layers hold the parameters, their initialisation and the lateral
// mask, exactly as for the infomorphic setups; the passes are this file's
// own, since a Layer back-propagates only its own goal through one step.
type backprop struct {
	hidden, output *Layer
	hOpt, oOpt     *Adam
	act            Schneider
	outAct         Graetz
	h, c, pixels   int

	src *rand.PCG // training samples of the hidden units

	// Per-minibatch buffers, sized for the largest batch; per-sample,
	// per-neuron values at [m*neurons + i].
	sF, sC, sL1, sL2 []float64 // hidden sources (F and C shared by the steps)
	d1, d2           [3][]float64
	h1, h2           []float64 // sampled 0/1 outputs of the two steps
	zeroH, zeroC     []float64
	rO, cO           []float64 // output sources
	theta, dTheta    []float64 // output theta and dtheta/dr
	gR               []float64 // dLoss/dr of the output layer
	gH               []float64 // dLoss/dh of a step's output
	gF, gC, gL       []float64 // dLoss/ds_k of the hidden layer, summed over steps
	gL2              []float64 // dLoss/ds_L of step 2 alone (step 1's lateral input is 0)
	row              []float64 // one row of softmax terms
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
		h: cfg.Hidden, c: classes, pixels: pixels}
	if m.hOpt, err = NewAdam(*cfg.BackpropAdam, len(hidden.Params())); err == nil {
		m.oOpt, err = NewAdam(*cfg.BackpropAdam, len(output.Params()))
	}
	if err != nil {
		m.close()
		return nil, err
	}
	m.src = rand.NewPCG(deriveSeed(cfg.Seed, tagBackprop, 0), streamSample)
	nh, nc := cfg.BatchSize*cfg.Hidden, cfg.BatchSize*classes
	f := func(n int) []float64 { return make([]float64, n) }
	m.sF, m.sC, m.sL1, m.sL2 = f(nh), f(nh), f(nh), f(nh)
	for k := range m.d1 {
		m.d1[k], m.d2[k] = f(nh), f(nh)
	}
	m.h1, m.h2, m.zeroH = f(nh), f(nh), f(nh)
	m.gH, m.gF, m.gC, m.gL, m.gL2 = f(nh), f(nh), f(nh), f(nh), f(nh)
	m.zeroC, m.rO, m.cO, m.theta, m.dTheta, m.gR = f(nc), f(nc), f(nc), f(nc), f(nc), f(nc)
	m.row = f(classes)
	return m, nil
}

// step runs one hidden step: from the shared sources sF, sC and the lateral
// source sL, it sets out to the sampled 0/1 outputs and d[k] to the
// surrogate gradient d out / d s_k.
func (m *backprop) step(n int, sL []float64, d [3][]float64, out []float64, rng *rand.PCG) {
	size := n * m.h
	sF, sC := m.sF[:size], m.sC[:size]
	for j := range out[:size] {
		// Schneider.Theta's derivatives are sigmoid'(u) du/ds_k: exactly
		// the surrogate gradient of a unit sampled from sigmoid(u).
		t, dr, dc, dl := m.act.Theta(sF[j], sC[j], sL[j])
		d[0][j], d[1][j], d[2][j] = dr, dc, dl
		if float64(rng.Uint64()<<11>>11)/(1<<53) < t { // rand.Rand.Float64

			out[j] = 1
		} else {
			out[j] = 0
		}
	}
}

// forward runs the network on b with context label, sampling from rng, and
// leaves theta (and dtheta/dr) of the output layer.
func (m *backprop) forward(b *batchData, label []float64, rng *rand.PCG) {
	n, hl, ol := b.n, m.hidden, m.output
	H, C := m.h, m.c
	affine(m.sF, b.x, hl.W(0), hl.B(0), n, m.pixels, H)
	affine(m.sC, label, hl.W(1), hl.B(1), n, C, H)
	affine(m.sL1, m.zeroH, hl.W(2), hl.B(2), n, H, H)
	m.step(n, m.sL1, m.d1, m.h1, rng)
	affine(m.sL2, m.h1, hl.W(2), hl.B(2), n, H, H)
	m.step(n, m.sL2, m.d2, m.h2, rng)
	affine(m.rO, m.h2, ol.W(0), ol.B(0), n, H, C)
	affine(m.cO, label, ol.W(1), ol.B(1), n, C, C)
	for j := range m.theta[:n*C] {
		m.theta[j], m.dTheta[j], _ = m.outAct.Theta(m.rO[j], m.cO[j])
	}
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

	ol, hl := m.output, m.hidden
	size := n * H
	gR := m.gR[:n*C]
	// Output layer: dW_F, db_F from gR; the context has no gradient
	// (K1 = 1: theta does not depend on it).
	affineGrad(ol.GradW(0), ol.GradB(0), gR, m.h2, n, H, C)
	clear(ol.GradW(1))
	clear(ol.GradB(1))
	// Step 2.
	gH := m.gH[:size]
	affineBackInput(gH, gR, ol.W(0), n, H, C)
	gF, gC, gL, gL2 := m.gF[:size], m.gC[:size], m.gL[:size], m.gL2[:size]
	for j, g := range gH {
		gF[j] = g * m.d2[0][j]
		gC[j] = g * m.d2[1][j]
		gL2[j] = g * m.d2[2][j]
	}
	// Step 1, through the lateral weights (masked, so no self-connection).
	affineBackInput(gH, gL2, hl.W(2), n, H, H)
	for j, g := range gH {
		gF[j] += g * m.d1[0][j]
		gC[j] += g * m.d1[1][j]
		gL[j] = gL2[j] + g*m.d1[2][j]
	}
	affineGrad(hl.GradW(0), hl.GradB(0), gF, b.x, n, m.pixels, H)
	affineGrad(hl.GradW(1), hl.GradB(1), gC, b.label, n, C, H)
	// The lateral weights see only step 2's input (step 1's is 0); the
	// lateral bias sees both steps.
	affineGrad(hl.GradW(2), hl.GradB(2), gL2, m.h1, n, H, H)
	clear(hl.GradB(2))
	for s := 0; s < n; s++ {
		floats.Add(hl.GradB(2), gL[s*H:(s+1)*H])
	}
	if mask := hl.Mask(2); mask != nil {
		gw := hl.GradW(2)
		for j, v := range mask {
			gw[j] *= v
		}
	}
	if update {
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

// rawImages is false: the backprop passes are dense, on standardised images.
func (m *backprop) rawImages() bool { return false }

func (m *backprop) params() [][]float64 {
	return [][]float64{m.hidden.Params(), m.output.Params()}
}

func (m *backprop) optimisers() []*Adam { return []*Adam{m.hOpt, m.oOpt} }

func (m *backprop) rngs() []rngState { return []rngState{m.src} }

func (m *backprop) close() {
	m.hidden.Close()
	if m.output != nil {
		m.output.Close()
	}
}

// affine sets s[m*out+i] = sum_j w[i*in+j] x[m*in+j] + b[i] for m < batch,
// i < out.
func affine(s, x, w, b []float64, batch, in, out int) {
	for m := 0; m < batch; m++ {
		xm := x[m*in : (m+1)*in]
		row := s[m*out : (m+1)*out]
		for i := range row {
			row[i] = floats.Dot(xm, w[i*in:(i+1)*in]) + b[i]
		}
	}
}

// affineGrad sets dw[i*in+j] = sum_m g[m*out+i] x[m*in+j] and
// db[i] = sum_m g[m*out+i].
func affineGrad(dw, db, g, x []float64, batch, in, out int) {
	clear(dw[:out*in])
	clear(db[:out])
	for m := 0; m < batch; m++ {
		xm := x[m*in : (m+1)*in]
		row := g[m*out : (m+1)*out]
		floats.Add(db[:out], row)
		for i, gi := range row {
			if gi != 0 {
				floats.AddScaled(dw[i*in:(i+1)*in], gi, xm)
			}
		}
	}
}

// affineBackInput sets dx[m*in+j] = sum_i g[m*out+i] w[i*in+j].
func affineBackInput(dx, g, w []float64, batch, in, out int) {
	clear(dx[:batch*in])
	for m := 0; m < batch; m++ {
		dm := dx[m*in : (m+1)*in]
		for i, gi := range g[m*out : (m+1)*out] {
			if gi != 0 {
				floats.AddScaled(dm, gi, w[i*in:(i+1)*in])
			}
		}
	}
}
