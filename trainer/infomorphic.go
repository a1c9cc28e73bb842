package trainer

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"goalsearch/pid"
)

// infomorphic is every setup whose layers learn PID goals: context,
// lateral, context-lateral, context-lateral-feedback, and the random
// projection, whose hidden layer is frozen but still decomposed for the
// metrics.
//
// One minibatch (spec §5): the hidden layer runs one or two steps, sampling
// its ±1 output after each (the lateral input of the first step is 0; the
// image's source is computed once and reused in the second step); the
// output layer (F = hidden output, C = label one-hot through fixed identity
// weights) then gives the prediction theta. With two steps the goals see
// only the second. The layers learn independently: no gradient crosses from
// one to the other or from one step to the next.
type infomorphic struct {
	setup   Setup
	info    setupInfo
	hidden  *Layer
	output  *Layer
	hOpt    *Adam
	oOpt    *Adam
	frozen  bool // random projection: hidden weights stay at initialisation
	hard    bool // random projection: hidden output is theta itself, 0 or 1
	h, c    int  // hidden neurons, classes
	evalRNG *rand.PCG

	// Per-minibatch buffers, sized for the largest batch.
	zerosH, zerosC []float64 // lateral input of step 1; withheld label
	y1, y2         []float64 // hidden outputs of steps 1 and 2
	o1             []float64 // output layer's sampled output of step 1 (feedback)
	hArgs, oArgs   [][]float64
}

func newInfomorphic(cfg *Config, pixels, classes int) (*infomorphic, error) {
	info := setups[cfg.Setup]
	m := &infomorphic{
		setup:  cfg.Setup,
		info:   info,
		frozen: cfg.Setup == RandomProjection,
		hard:   cfg.Setup == RandomProjection,
		h:      cfg.Hidden,
		c:      classes,
	}
	hc := LayerConfig{
		Neurons: cfg.Hidden,
		Binning: *cfg.HiddenBinning,
		Goal:    cfg.Goal,
		Seed:    deriveSeed(cfg.Seed, tagHidden, 0),
		Threads: cfg.Threads,
	}
	for _, s := range info.src {
		in, mask := 0, Mask{}
		switch s {
		case srcImage:
			in = pixels
		case srcLabel, srcFeedback:
			in = classes
		case srcLateral:
			in, mask = cfg.Hidden, Mask{Kind: NoSelfMask, FanIn: cfg.LateralFanIn}
		}
		hc.Inputs = append(hc.Inputs, in)
		hc.Masks = append(hc.Masks, mask)
	}
	switch {
	case m.hard:
		hc.Activation = HardGraetz(*cfg.Graetz)
		// A zero goal: the layer is decomposed for the metrics, as the
		// reference does with its all-zero gamma, but never learns.
		hc.Goal = make([]float64, pid.MustLattice(2).GoalLen())
	case info.sources == 2:
		hc.Activation = *cfg.Graetz
	default:
		hc.Activation = *cfg.Schneider
	}
	var err error
	if m.hidden, err = NewLayer(hc); err != nil {
		return nil, fmt.Errorf("%w (hidden layer)", err)
	}
	m.output, err = NewLayer(LayerConfig{
		Inputs:     []int{cfg.Hidden, classes},
		Neurons:    classes,
		Masks:      []Mask{{}, {Kind: IdentityMask}},
		Activation: OutputGraetz,
		Binning:    *cfg.OutputBinning,
		Goal:       cfg.OutputGoal,
		Seed:       deriveSeed(cfg.Seed, tagOutput, 0),
		Threads:    cfg.Threads,
	})
	if err != nil {
		m.hidden.Close()
		return nil, fmt.Errorf("%w (output layer)", err)
	}
	if m.hOpt, err = NewAdam(*cfg.HiddenAdam, len(m.hidden.Params())); err == nil {
		m.oOpt, err = NewAdam(*cfg.OutputAdam, len(m.output.Params()))
	}
	if err == nil {
		m.hOpt.skipOutside(m.hidden.activeRuns())
	}
	if err != nil {
		m.close()
		return nil, err
	}
	b := cfg.BatchSize
	m.zerosH = make([]float64, b*m.h)
	m.zerosC = make([]float64, b*classes)
	m.y1 = make([]float64, b*m.h)
	m.y2 = make([]float64, b*m.h)
	m.o1 = make([]float64, b*classes)
	m.hArgs = make([][]float64, info.sources)
	m.oArgs = make([][]float64, 2)
	return m, nil
}

// resetOutputContext sets the output layer's context weights to the
// identity, as the reference does before every training minibatch: they are
// "fixed", but its optimiser moves them (weight decay and the goal's
// gradient on the diagonal) and only this reset undoes it. The context bias
// is not reset: it is trained. The off-diagonal weights are masked and stay
// 0 on their own.
func (m *infomorphic) resetOutputContext() {
	w := m.output.W(1)
	for i := 0; i < m.c; i++ {
		w[i*m.c+i] = 1
	}
}

// draw samples the ±1 outputs of l's last Forward into dst: from the
// layer's own stream in training, from the evaluation stream otherwise.
func (m *infomorphic) draw(l *Layer, dst []float64) {
	if m.evalRNG == nil {
		l.Sample(dst)
		return
	}
	l.sampleFrom(dst, m.evalRNG)
}

// hiddenOut sets y to the hidden layer's output of its last Forward.
func (m *infomorphic) hiddenOut(y []float64) {
	if m.hard {
		copy(y, m.hidden.Theta()) // deterministic 0/1, see HardGraetz
		return
	}
	m.draw(m.hidden, y)
}

// forward runs the network on b with context label (the one-hot label, or
// zeros when it is withheld), leaving the prediction in output.Theta(). With
// learn, the steps the layers learn from (the hidden layer's last, the
// output layer's) keep their gradients for Learn; the others, and every step
// of an evaluation, compute theta alone.
func (m *infomorphic) forward(b *batchData, label []float64, learn bool) {
	n := b.n
	zh, zc := m.zerosH[:n*m.h], m.zerosC[:n*m.c]
	args := m.hArgs
	for k, s := range m.info.src {
		switch s {
		case srcImage:
			args[k] = b.x
		case srcLabel:
			args[k] = label
		case srcLateral:
			args[k] = zh
		case srcFeedback:
			args[k] = zc
		}
	}
	last := m.info.steps == 1
	if b.img.raw != nil || b.img.idx != nil {
		args[0] = nil // the image comes from b.img
		m.hidden.forwardImage(&b.img, args, n, learn && last)
	} else {
		m.hidden.forward(args, n, nil, learn && last)
	}
	y := m.y1[:n*m.h]
	m.hiddenOut(y)
	if m.info.steps == 2 {
		o1 := m.o1[:n*m.c]
		if m.setup == ContextLateralFeedback {
			m.outputForward(y, label, n, false)
			m.draw(m.output, o1)
		}
		for k, s := range m.info.src {
			switch s {
			case srcImage, srcLabel:
				args[k] = nil // unchanged: reuse the first step's source
			case srcLateral:
				args[k] = y
			case srcFeedback:
				args[k] = o1
			}
		}
		m.hidden.forward(args, n, nil, learn)
		y = m.y2[:n*m.h]
		m.hiddenOut(y)
	}
	m.outputForward(y, label, n, learn)
}

func (m *infomorphic) outputForward(y, label []float64, n int, learn bool) {
	m.oArgs[0], m.oArgs[1] = y, label
	m.output.forward(m.oArgs, n, nil, learn)
}

func (m *infomorphic) trainBatch(b *batchData, update bool, acc *epochAccum) ([]float64, error) {
	m.resetOutputContext()
	m.evalRNG = nil
	m.forward(b, b.label, true)
	hl, err := m.hidden.Learn()
	if err != nil {
		return nil, diverged("hidden", err)
	}
	ol, err := m.output.Learn()
	if err != nil {
		return nil, diverged("output", err)
	}
	acc.hidden += hl
	acc.output += ol
	acc.loss += hl + ol
	addAtoms(acc.hiddenAtoms, m.hidden.Results())
	addAtoms(acc.outAtoms, m.output.Results())
	acc.hiddenNeuron = addNeuronAtoms(acc.hiddenNeuron, m.hidden.Results())
	acc.outNeuron = addNeuronAtoms(acc.outNeuron, m.output.Results())
	if update {
		if !m.frozen {
			m.hOpt.pool = m.hidden.pool // Step over the layer's threads
			m.hOpt.Step(m.hidden.Params(), m.hidden.Grads())
		}
		m.oOpt.Step(m.output.Params(), m.output.Grads())
	}
	return m.output.Theta(), nil
}

func (m *infomorphic) evalBatch(b *batchData, rng *rand.PCG) ([]float64, error) {
	m.evalRNG = rng
	m.forward(b, m.zerosC[:b.n*m.c], false)
	m.evalRNG = nil
	return m.output.Theta(), nil
}

// rawImages is true: the hidden layer multiplies the raw pixels, skipping
// MNIST's ~81 % of zero pixels (Layer.ForwardImage), which gives the
// standardised product up to rounding. Set it to false to feed standardised
// images through Layer.Forward instead.
func (m *infomorphic) rawImages() bool { return useRawImages }

// useRawImages selects the hidden layer's image path; see rawImages.
const useRawImages = true

func (m *infomorphic) atomLens() (int, int) {
	return m.hidden.Lattice().GoalLen(), m.output.Lattice().GoalLen()
}

func (m *infomorphic) params() [][]float64 {
	return [][]float64{m.hidden.Params(), m.output.Params()}
}

func (m *infomorphic) optimisers() []*Adam { return []*Adam{m.hOpt, m.oOpt} }

func (m *infomorphic) rngs() []rngState {
	return []rngState{layerSampler{m.hidden}, layerSampler{m.output}}
}

func (m *infomorphic) close() {
	m.hidden.Close()
	if m.output != nil {
		m.output.Close()
	}
}

// diverged wraps a layer's Learn error. A NaN theta, which the PID engine
// reports as a bad probability, means diverged weights just as a NaN source
// does, so both match ErrNonFinite.
func diverged(layer string, err error) error {
	if errors.Is(err, pid.ErrProbability) && !errors.Is(err, ErrNonFinite) {
		return fmt.Errorf("%s layer: %w: %w", layer, ErrNonFinite, err)
	}
	return fmt.Errorf("%s layer: %w", layer, err)
}
