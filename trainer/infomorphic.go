package trainer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"goalsearch/pid"
)

// infomorphic is every setup whose layers learn PID goals: context,
// lateral, context-lateral, context-lateral-feedback, and the random
// projection, whose hidden layers are frozen but still decomposed for the
// metrics.
//
// One minibatch (spec §5): the hidden layers run one or two steps, each
// step bottom-up (layer 1 reads the image, layer l+1 layer l's output of
// the same step), sampling their ±1 outputs after each (the lateral input
// of the first step is 0; the image's source is computed once and reused in
// the second step, as is the label's); the output layer (F = last hidden
// layer's output, C = label one-hot through fixed identity weights) then
// gives the prediction theta. With two steps the goals see only the
// second. With feedback (context-lateral-feedback) a hidden layer's context
// in the second step is the first step's sampled output of the layer above
// (the output layer's for the last hidden layer), 0 in the first. The
// layers learn independently: no gradient crosses from one to another or
// from one step to the next. With one hidden layer this is exactly the
// paper's network.
type infomorphic struct {
	setup   Setup
	info    setupInfo
	hidden  []*Layer // bottom up
	output  *Layer
	hOpt    []*Adam
	oOpt    *Adam
	frozen  bool // random projection: hidden weights stay at initialisation
	hard    bool // random projection: hidden output is theta itself, 0 or 1
	h, c    int  // hidden neurons per layer, classes
	evalRNG *rand.PCG

	// Per-minibatch buffers, sized for the largest batch.
	zerosH, zerosC []float64   // lateral input of step 1 (and a hidden layer's feedback); withheld label
	y1, y2         [][]float64 // per hidden layer: outputs of steps 1 and 2
	o1             []float64   // output layer's sampled output of step 1 (feedback)
	hArgs, oArgs   [][]float64
}

func newInfomorphic(cfg *Config, pixels, classes int) (*infomorphic, error) {
	info := setups[cfg.Setup]
	nl := cfg.layers()
	m := &infomorphic{
		setup:  cfg.Setup,
		info:   info,
		frozen: cfg.Setup == RandomProjection,
		hard:   cfg.Setup == RandomProjection,
		h:      cfg.Hidden,
		c:      classes,
	}
	goalLen := pid.MustLattice(info.sources).GoalLen()
	for l := 0; l < nl; l++ {
		hc := LayerConfig{
			Neurons: cfg.Hidden,
			Binning: *cfg.HiddenBinning,
			Goal:    cfg.layerGoal(l, goalLen),
			Seed:    deriveSeed(cfg.Seed, tagHidden, uint64(l)),
			Threads: cfg.Threads,
		}
		for _, s := range info.src {
			in, mask := 0, Mask{}
			switch s {
			case srcImage:
				in = pixels
				if l > 0 {
					in = cfg.Hidden // the layer below's output
				}
			case srcLabel:
				in = classes
			case srcFeedback:
				in = classes
				if l < nl-1 {
					in = cfg.Hidden // the hidden layer above's output
				}
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
		hl, err := NewLayer(hc)
		if err != nil {
			m.close()
			if nl > 1 {
				return nil, fmt.Errorf("%w (hidden layer %d)", err, l+1)
			}
			return nil, fmt.Errorf("%w (hidden layer)", err)
		}
		m.hidden = append(m.hidden, hl)
	}
	var err error
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
		m.close()
		return nil, fmt.Errorf("%w (output layer)", err)
	}
	for _, hl := range m.hidden {
		var o *Adam
		if o, err = NewAdam(*cfg.HiddenAdam, len(hl.Params())); err != nil {
			break
		}
		o.skipOutside(hl.activeRuns())
		m.hOpt = append(m.hOpt, o)
	}
	if err == nil {
		m.oOpt, err = NewAdam(*cfg.OutputAdam, len(m.output.Params()))
	}
	if err != nil {
		m.close()
		return nil, err
	}
	b := cfg.BatchSize
	m.zerosH = make([]float64, b*m.h)
	m.zerosC = make([]float64, b*classes)
	for range m.hidden {
		m.y1 = append(m.y1, make([]float64, b*m.h))
		m.y2 = append(m.y2, make([]float64, b*m.h))
	}
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

// hiddenOut sets y to hidden layer hl's output of its last Forward.
func (m *infomorphic) hiddenOut(hl *Layer, y []float64) {
	if m.hard {
		copy(y, hl.Theta()) // deterministic 0/1, see HardGraetz
		return
	}
	m.draw(hl, y)
}

// forward runs the network on b with context label (the one-hot label, or
// zeros when it is withheld), leaving the prediction in output.Theta(). With
// learn, the steps the layers learn from (the hidden layers' last, the
// output layer's) keep their gradients for Learn; the others, and every step
// of an evaluation, compute theta alone.
func (m *infomorphic) forward(b *batchData, label []float64, learn bool) {
	n, nl := b.n, len(m.hidden)
	zh, zc := m.zerosH[:n*m.h], m.zerosC[:n*m.c]
	args := m.hArgs
	last := m.info.steps == 1
	for l, hl := range m.hidden {
		for k, s := range m.info.src {
			switch s {
			case srcImage:
				args[k] = b.x
				if l > 0 {
					args[k] = m.y1[l-1][:n*m.h]
				}
			case srcLabel:
				args[k] = label
			case srcLateral:
				args[k] = zh
			case srcFeedback:
				args[k] = zc
				if l < nl-1 {
					args[k] = zh
				}
			}
		}
		if l == 0 && (b.img.raw != nil || b.img.idx != nil) {
			args[0] = nil // the image comes from b.img
			hl.forwardImage(&b.img, args, n, learn && last)
		} else {
			hl.forward(args, n, nil, learn && last)
		}
		m.hiddenOut(hl, m.y1[l][:n*m.h])
	}
	y := m.y1[nl-1][:n*m.h]
	if m.info.steps == 2 {
		o1 := m.o1[:n*m.c]
		if m.setup == ContextLateralFeedback {
			m.outputForward(y, label, n, false)
			m.draw(m.output, o1)
		}
		for l, hl := range m.hidden {
			for k, s := range m.info.src {
				switch s {
				case srcImage:
					args[k] = nil // unchanged: reuse the first step's source
					if l > 0 {
						args[k] = m.y2[l-1][:n*m.h]
					}
				case srcLabel:
					args[k] = nil // unchanged
				case srcLateral:
					args[k] = m.y1[l][:n*m.h]
				case srcFeedback:
					args[k] = o1
					if l < nl-1 {
						args[k] = m.y1[l+1][:n*m.h]
					}
				}
			}
			hl.forward(args, n, nil, learn)
			m.hiddenOut(hl, m.y2[l][:n*m.h])
		}
		y = m.y2[nl-1][:n*m.h]
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
	var hsum float64 // the hidden layers' losses (one layer: exactly its loss)
	for l, hl := range m.hidden {
		loss, err := hl.Learn()
		if err != nil {
			return nil, diverged(m.hiddenName(l), err)
		}
		hsum += loss
		if len(m.hidden) > 1 {
			acc.addLayer(l, loss, hl.Results())
		}
	}
	ol, err := m.output.Learn()
	if err != nil {
		return nil, diverged("output", err)
	}
	acc.hidden += hsum
	acc.output += ol
	acc.loss += hsum + ol // in this order, as before layers existed: the sums are bit-identical
	// The first hidden layer's atoms are the hidden atoms of the metrics:
	// the one layer of the paper's networks, the one that sees the image.
	addAtoms(acc.hiddenAtoms, m.hidden[0].Results())
	addAtoms(acc.outAtoms, m.output.Results())
	acc.hiddenNeuron = addNeuronAtoms(acc.hiddenNeuron, m.hidden[0].Results())
	acc.outNeuron = addNeuronAtoms(acc.outNeuron, m.output.Results())
	if update {
		if !m.frozen {
			for l, hl := range m.hidden {
				m.hOpt[l].pool = hl.pool // Step over the layer's threads
				m.hOpt[l].Step(hl.Params(), hl.Grads())
			}
		}
		m.oOpt.Step(m.output.Params(), m.output.Grads())
	}
	return m.output.Theta(), nil
}

// hiddenName names hidden layer l in errors: "hidden" in a one-layer
// network, as before layers existed.
func (m *infomorphic) hiddenName(l int) string {
	if len(m.hidden) == 1 {
		return "hidden"
	}
	return fmt.Sprintf("hidden %d", l+1)
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
	return m.hidden[0].Lattice().GoalLen(), m.output.Lattice().GoalLen()
}

// params, optimisers and rngs list the hidden layers bottom up, then the
// output layer: for one hidden layer, the order checkpoints have always had.
func (m *infomorphic) params() [][]float64 {
	var out [][]float64
	for _, hl := range m.hidden {
		out = append(out, hl.Params())
	}
	return append(out, m.output.Params())
}

func (m *infomorphic) optimisers() []*Adam { return append(slices.Clone(m.hOpt), m.oOpt) }

func (m *infomorphic) rngs() []rngState {
	var out []rngState
	for _, hl := range m.hidden {
		out = append(out, layerSampler{hl})
	}
	return append(out, layerSampler{m.output})
}

func (m *infomorphic) close() {
	for _, hl := range m.hidden {
		hl.Close()
	}
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
