package trainer

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"goalsearch/pid"
)

// A MaskKind selects which inputs of a source class a neuron is connected to.
type MaskKind int

const (
	// FullMask connects every neuron to every input.
	FullMask MaskKind = iota
	// NoSelfMask connects neuron i to every input except input i: the
	// lateral input, which must never carry a neuron's own output. The
	// source class must have as many inputs as the layer has neurons.
	NoSelfMask
	// IdentityMask connects neuron i to input i only: the output layer's
	// one-to-one label input. The source class must have as many inputs as
	// the layer has neurons.
	IdentityMask
)

func (k MaskKind) String() string {
	switch k {
	case FullMask:
		return "full"
	case NoSelfMask:
		return "no-self"
	case IdentityMask:
		return "identity"
	}
	return fmt.Sprintf("MaskKind(%d)", int(k))
}

// Mask describes the connections of one source class. Masked weights are 0
// from initialisation on and stay 0: their gradient is multiplied by the mask.
type Mask struct {
	Kind MaskKind
	// FanIn, if positive, keeps for each neuron only FanIn of the inputs
	// Kind allows, chosen uniformly without replacement from the layer's
	// seeded mask stream (sparse lateral connectivity). If FanIn is 0, or
	// at least the number of allowed inputs, all allowed inputs are kept.
	FanIn int
}

// LayerConfig configures a Layer. Source classes are in the order F
// (feedforward), C (context), L (lateral).
type LayerConfig struct {
	// Inputs is the number of inputs of each source class; its length n
	// (2 or 3) must equal Activation.Sources().
	Inputs []int
	// Neurons is the number of neurons.
	Neurons int
	// Masks has one entry per source class. If Masks is nil, every source
	// class is fully connected.
	Masks []Mask
	// Activation maps the sources to theta, e.g. HiddenGraetz or
	// HiddenSchneider.
	Activation Activation
	// Binning bins the sources for the PID estimate.
	Binning Binning
	// Goal is gamma: one weight per PID atom in the lattice's goal order,
	// then one for H_res (5 entries for n = 2, 19 for n = 3). Each neuron
	// maximises gamma · (atoms, H_res). Goal may be nil for a layer that
	// is only evaluated; Learn then panics.
	Goal []float64
	// Seed seeds the layer's random streams: weight initialisation, mask
	// fan-in and output sampling each use their own PCG stream of it.
	Seed uint64
	// Threads is the number of goroutines of the PID engine, and of the
	// matrix products and the activation (linear*.go). Results do not
	// depend on it. If Threads is 0, 1 is used.
	Threads int
}

// PCG stream selectors, so that the three uses of LayerConfig.Seed never
// share or shift each other's numbers.
const (
	streamInit   = 0x696e6974 // "init"
	streamMask   = 0x6d61736b // "mask"
	streamSample = 0x73616d70 // "samp"
)

// Validate reports whether cfg describes a layer NewLayer can build.
func (cfg *LayerConfig) Validate() error {
	if cfg.Activation == nil {
		return errors.New("trainer: layer has no activation")
	}
	n := len(cfg.Inputs)
	if n != cfg.Activation.Sources() {
		return fmt.Errorf("trainer: %d source classes for an activation of %d", n, cfg.Activation.Sources())
	}
	if n < 2 || n > 3 {
		return fmt.Errorf("trainer: %d source classes, want 2 or 3", n)
	}
	if cfg.Neurons < 1 {
		return fmt.Errorf("trainer: %d neurons", cfg.Neurons)
	}
	for k, in := range cfg.Inputs {
		if in < 1 {
			return fmt.Errorf("trainer: source class %d has %d inputs", k+1, in)
		}
	}
	if cfg.Masks != nil {
		if len(cfg.Masks) != n {
			return fmt.Errorf("trainer: %d masks for %d source classes", len(cfg.Masks), n)
		}
		for k, m := range cfg.Masks {
			switch m.Kind {
			case FullMask:
			case NoSelfMask, IdentityMask:
				if cfg.Inputs[k] != cfg.Neurons {
					return fmt.Errorf("trainer: %v mask on source class %d of %d inputs for %d neurons", m.Kind, k+1, cfg.Inputs[k], cfg.Neurons)
				}
			default:
				return fmt.Errorf("trainer: source class %d: unknown mask kind %d", k+1, int(m.Kind))
			}
			if m.FanIn < 0 {
				return fmt.Errorf("trainer: source class %d: fan-in %d", k+1, m.FanIn)
			}
		}
	}
	if err := cfg.Binning.Validate(); err != nil {
		return err
	}
	if cfg.Goal != nil {
		if want := pid.MustLattice(n).GoalLen(); len(cfg.Goal) != want {
			return fmt.Errorf("trainer: goal of %d weights for %d sources, want %d", len(cfg.Goal), n, want)
		}
		for _, g := range cfg.Goal {
			if math.IsNaN(g) || math.IsInf(g, 0) {
				return fmt.Errorf("trainer: goal weight %v", g)
			}
		}
	}
	if cfg.Threads < 0 {
		return fmt.Errorf("trainer: %d threads", cfg.Threads)
	}
	return nil
}

// A Layer is one layer of infomorphic neurons: its parameters, their
// gradients, and the buffers of one minibatch.
//
// The per-minibatch cycle is Forward (sources and theta), then optionally
// Sample (binary outputs) and Learn (PID goals, loss and gradients). Slices
// returned by the accessors are views into the layer: they stay valid for the
// layer's life, and those holding per-minibatch values (Source, Theta, Bins,
// GradTheta, GradSource, Results) are overwritten by the next call that
// computes them. A Layer is not safe for concurrent use.
type Layer struct {
	n       int
	neurons int
	inputs  []int
	act     Activation
	bin     *binner
	goal    []float64
	threads int

	// Parameters and gradients, each one contiguous vector in the order
	// W_1, b_1, W_2, b_2, ... so that an optimiser sees a single slice.
	params, grads []float64
	w, b, gw, gb  [][]float64 // views into params and grads
	masks         [][]float64 // nil for a fully connected source class

	lat    *pid.Lattice
	engine *pid.Layer // created on the first Learn: evaluation never needs it
	res    []*pid.Result

	sampleSrc *rand.PCG

	// Minibatch state. Buffers hold capBatch samples and grow only when a
	// larger batch arrives.
	capBatch int
	batch    int         // samples in the last Forward; 0 before any
	haveGrad bool        // the last Forward computed dtheta/ds_k (dth)
	noSparse bool        // multiply every float input as a dense one (tests compare the paths)
	rawImg   imageSource // ForwardImage's argument
	dense    []denseInput
	sparse   []sparseInput  // mostly-zero inputs and raw images (linear_sparse.go)
	masked   []*maskedInput // per source: the masked-weight path (linear_masked.go), or nil
	in       []linearInput  // in[k] = &dense[k] or &sparse[k]
	pool     *linPool       // matrix-product workers (linear_pool.go); nil for one thread
	actTask  actTask        // the activation over the pool's threads (linear_pool.go)
	binTask  binTask        // the binning over the pool's threads
	gradTask gradTask       // dLoss/ds_k over the pool's threads
	sampler  sampleTask     // sampling over the pool\'s threads (pcg.go)
	s        [][]float64    // sources s_k
	theta    []float64
	dth      [][]float64 // dtheta/ds_k
	bins     [][]int32
	scale    []float64 // adaptive binning: per-neuron max |s_k|
	dG       []float64 // dG_i/dtheta from the PID engine
	gTheta   []float64 // dLoss/dtheta = -dG
	gs       [][]float64
	binView  [][]int32 // this batch's part of bins, handed to the PID engine
}

// NewLayer builds a layer and initialises its parameters as PyTorch's
// nn.Linear does: weights and biases of source class k uniform in
// [-1/sqrt(Inputs[k]), 1/sqrt(Inputs[k])), then the mask applied. It returns
// an error if cfg does not validate.
func NewLayer(cfg LayerConfig) (*Layer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := len(cfg.Inputs)
	l := &Layer{
		n:       n,
		neurons: cfg.Neurons,
		inputs:  append([]int(nil), cfg.Inputs...),
		act:     cfg.Activation,
		bin:     newBinner(cfg.Binning),
		threads: max(1, cfg.Threads),
		lat:     pid.MustLattice(n),
	}
	if cfg.Goal != nil {
		l.goal = append([]float64(nil), cfg.Goal...)
	}
	size := 0
	for _, in := range l.inputs {
		size += l.neurons*in + l.neurons
	}
	l.params = make([]float64, size)
	l.grads = make([]float64, size)
	l.w, l.b = make([][]float64, n), make([][]float64, n)
	l.gw, l.gb = make([][]float64, n), make([][]float64, n)
	off := 0
	for k, in := range l.inputs {
		nw := l.neurons * in
		l.w[k], l.gw[k] = l.params[off:off+nw:off+nw], l.grads[off:off+nw:off+nw]
		off += nw
		l.b[k], l.gb[k] = l.params[off:off+l.neurons:off+l.neurons], l.grads[off:off+l.neurons:off+l.neurons]
		off += l.neurons
	}

	initRNG := rand.New(rand.NewPCG(cfg.Seed, streamInit))
	for k, in := range l.inputs {
		// nn.Linear: kaiming_uniform_(a=sqrt(5)) gives the bound
		// 1/sqrt(fan_in) for the weights, and the bias uses the same.
		bound := 1 / math.Sqrt(float64(in))
		for j := range l.w[k] {
			l.w[k][j] = -bound + 2*bound*initRNG.Float64()
		}
		for j := range l.b[k] {
			l.b[k][j] = -bound + 2*bound*initRNG.Float64()
		}
	}
	l.masks = make([][]float64, n)
	if cfg.Masks != nil {
		maskRNG := rand.New(rand.NewPCG(cfg.Seed, streamMask))
		for k, m := range cfg.Masks {
			l.masks[k] = buildMask(m, l.neurons, l.inputs[k], maskRNG)
			if l.masks[k] != nil {
				for j, v := range l.masks[k] {
					l.w[k][j] *= v
				}
			}
		}
	}
	l.masked = make([]*maskedInput, n)
	for k := range l.masked {
		l.masked[k] = newMaskedInput(l.masks[k], l.neurons, l.inputs[k])
	}
	l.res = make([]*pid.Result, l.neurons)
	for i := range l.res {
		l.res[i] = l.lat.NewResult()
	}
	l.sampleSrc = rand.NewPCG(cfg.Seed, streamSample)
	l.dense = make([]denseInput, n)
	l.sparse = make([]sparseInput, n)
	l.in = make([]linearInput, n)
	return l, nil
}

// buildMask returns the neurons × in 0/1 mask of m, or nil if every input is
// connected.
func buildMask(m Mask, neurons, in int, rng *rand.Rand) []float64 {
	allowed := func(i, j int) bool {
		switch m.Kind {
		case NoSelfMask:
			return i != j
		case IdentityMask:
			return i == j
		}
		return true
	}
	mask := make([]float64, neurons*in)
	full := true
	idx := make([]int, 0, in)
	for i := 0; i < neurons; i++ {
		idx = idx[:0]
		for j := 0; j < in; j++ {
			if allowed(i, j) {
				idx = append(idx, j)
			}
		}
		keep := len(idx)
		if m.FanIn > 0 && m.FanIn < keep {
			// Partial Fisher–Yates: the first FanIn entries become a
			// uniform sample without replacement.
			for a := 0; a < m.FanIn; a++ {
				c := a + rng.IntN(len(idx)-a)
				idx[a], idx[c] = idx[c], idx[a]
			}
			keep = m.FanIn
		}
		if keep < in {
			full = false
		}
		for _, j := range idx[:keep] {
			mask[i*in+j] = 1
		}
	}
	if full {
		return nil
	}
	return mask
}

// Sources is the number of source classes n.
func (l *Layer) Sources() int { return l.n }

// Neurons is the number of neurons.
func (l *Layer) Neurons() int { return l.neurons }

// Inputs is the number of inputs of source class k (0-based).
func (l *Layer) Inputs(k int) int { return l.inputs[k] }

// Lattice is the PID lattice of the layer's n sources.
func (l *Layer) Lattice() *pid.Lattice { return l.lat }

// Goal returns the layer's goal vector (nil if it has none). The caller must
// not modify it.
func (l *Layer) Goal() []float64 { return l.goal }

// Params is the parameter vector W_1, b_1, ..., W_n, b_n (each W_k Neurons ×
// Inputs(k), row-major). An optimiser updates it in place; a checkpoint may
// overwrite it, and must keep masked weights at 0.
func (l *Layer) Params() []float64 { return l.params }

// Grads is dLoss/dParams from the last Learn, laid out as Params.
func (l *Layer) Grads() []float64 { return l.grads }

// W is the weight matrix of source class k (Neurons × Inputs(k), row-major),
// a view into Params.
func (l *Layer) W(k int) []float64 { return l.w[k] }

// B is the bias of source class k, a view into Params.
func (l *Layer) B(k int) []float64 { return l.b[k] }

// GradW is dLoss/dW_k from the last Learn, a view into Grads.
func (l *Layer) GradW(k int) []float64 { return l.gw[k] }

// GradB is dLoss/db_k from the last Learn, a view into Grads.
func (l *Layer) GradB(k int) []float64 { return l.gb[k] }

// Mask is the 0/1 connection mask of source class k (Neurons × Inputs(k)),
// or nil if the class is fully connected. The caller must not modify it.
func (l *Layer) Mask(k int) []float64 { return l.masks[k] }

// Batch is the number of samples of the last Forward (0 before any).
func (l *Layer) Batch() int { return l.batch }

// Source is s_k of the last Forward, batch × neurons.
func (l *Layer) Source(k int) []float64 { return l.s[k][:l.batch*l.neurons] }

// Theta is P(Y = +1) of the last Forward, batch × neurons.
func (l *Layer) Theta() []float64 { return l.theta[:l.batch*l.neurons] }

// Bins is the bin of source class k of the last Learn, batch × neurons.
func (l *Layer) Bins(k int) []int32 { return l.bins[k][:l.batch*l.neurons] }

// Results holds each neuron's decomposition from the last Learn.
func (l *Layer) Results() []*pid.Result { return l.res }

// GradTheta is dLoss/dtheta from the last Learn, batch × neurons.
func (l *Layer) GradTheta() []float64 { return l.gTheta[:l.batch*l.neurons] }

// GradSource is dLoss/ds_k from the last Learn, batch × neurons.
func (l *Layer) GradSource(k int) []float64 { return l.gs[k][:l.batch*l.neurons] }

// ensure sizes the minibatch buffers for batch samples; it allocates only
// when batch exceeds every batch seen before.
func (l *Layer) ensure(batch int) {
	if batch <= l.capBatch {
		return
	}
	size := batch * l.neurons
	alloc := func() [][]float64 {
		out := make([][]float64, l.n)
		for k := range out {
			out[k] = make([]float64, size)
		}
		return out
	}
	// Old values need not be kept: Forward reuses a source (nil input) only
	// with the same batch, which never grows the buffers.
	l.s = alloc()
	l.dth = alloc()
	l.gs = alloc()
	l.theta = make([]float64, size)
	l.dG = make([]float64, size)
	l.gTheta = make([]float64, size)
	l.bins = make([][]int32, l.n)
	for k := range l.bins {
		l.bins[k] = make([]int32, size)
	}
	if l.scale == nil {
		l.scale = make([]float64, l.neurons)
	}
	// Whether an input is multiplied as a dense or a sparse one depends on
	// the data, and may change from one batch to the next: size both now.
	for k, in := range l.inputs {
		if mi := l.masked[k]; mi != nil {
			// The other paths are only for inputs float32 cannot hold,
			// which a layer's outputs never are: size them if needed.
			mi.reserve(batch, l.threads)
			continue
		}
		l.dense[k].reserve(batch, in, l.neurons, l.threads)
		l.sparse[k].reserve(batch, in, l.neurons, sparseLimit(batch, in))
	}
	l.capBatch = batch
}

// Forward computes the sources and theta of a minibatch of batch samples.
// x has one entry per source class: x[k] holds batch × Inputs(k) values,
// row-major. A nil x[k] reuses source k from the previous Forward unchanged
// (the feedforward input of the second recurrent step), which requires the
// same batch. Forward keeps x until the next Forward, and Learn reads it: the
// caller must not modify it in between. Shape mismatches panic.
func (l *Layer) Forward(x [][]float64, batch int) {
	l.forward(x, batch, nil, true)
}

// forward is Forward, with source class 1 taken from images instead if img
// is not nil (see ForwardImage, image.go). Without grad it computes
// theta alone, not dtheta/ds_k: enough for a pass that only samples or
// predicts (the first recurrent step, evaluation), which Learn must not
// follow.
func (l *Layer) forward(x [][]float64, batch int, img *imageSource, grad bool) {
	if len(x) != l.n {
		panic(fmt.Sprintf("trainer: %d inputs for %d source classes", len(x), l.n))
	}
	if batch < 1 {
		panic(fmt.Sprintf("trainer: batch of %d", batch))
	}
	for k, xk := range x {
		if xk == nil {
			if k == 0 && img != nil {
				continue
			}
			if l.in[k] == nil || batch != l.batch {
				panic(fmt.Sprintf("trainer: source %d reused without a previous Forward of batch %d", k+1, batch))
			}
			continue
		}
		if k == 0 && img != nil {
			panic("trainer: ForwardImage given both raw images and x[0]")
		}
		if len(xk) < batch*l.inputs[k] {
			panic(fmt.Sprintf("trainer: input %d has %d values, want %d×%d", k+1, len(xk), batch, l.inputs[k]))
		}
	}
	l.ensure(batch)
	size := batch * l.neurons
	p := l.linPool()
	for k, xk := range x {
		in := l.inputs[k]
		switch {
		case k == 0 && img != nil:
			l.sparse[k].setImage(p, img, in, batch, l.neurons)
			l.in[k] = &l.sparse[k]
		case xk == nil:
			continue
		case l.masked[k] != nil && !l.noSparse && l.masked[k].set(p, xk, batch):
			l.in[k] = l.masked[k]
		case !l.noSparse && l.sparse[k].setDense(xk[:batch*in], in, batch, l.neurons, sparseLimit(batch, in)):
			l.in[k] = &l.sparse[k]
		default:
			l.dense[k].set(xk[:batch*in], in)
			l.in[k] = &l.dense[k]
		}
		l.in[k].forward(p, l.s[k][:size], l.w[k], l.b[k], batch, l.neurons)
	}
	l.activate(p, batch, grad)
	l.batch = batch
	l.haveGrad = grad
}

// Sample draws the binary outputs of the last Forward: dst[j] = +1 with
// probability Theta()[j], else -1. dst must hold batch × neurons values. The
// draws come from the layer's sampling stream (see SamplerState).
func (l *Layer) Sample(dst []float64) {
	size := l.batch * l.neurons
	if l.batch == 0 || len(dst) < size {
		panic(fmt.Sprintf("trainer: sampling %d outputs into %d values", size, len(dst)))
	}
	l.sampler.sample(l.pool, dst, l.theta[:size], l.sampleSrc, false)
}

// sampleFrom is Sample drawing from src instead of the layer's stream, over
// the layer's threads.
func (l *Layer) sampleFrom(dst []float64, src *rand.PCG) {
	l.sampler.sample(l.pool, dst, l.theta[:l.batch*l.neurons], src, false)
}

// SamplerState returns the state of the sampling stream, for a checkpoint.
func (l *Layer) SamplerState() ([]byte, error) { return l.sampleSrc.MarshalBinary() }

// SetSamplerState restores a state returned by SamplerState.
func (l *Layer) SetSamplerState(state []byte) error { return l.sampleSrc.UnmarshalBinary(state) }

// binSources bins every source of the last Forward, over the pool's
// threads.
func (l *Layer) binSources() error {
	size := l.batch * l.neurons
	parts := max(1, min(l.pool.threads(), size/8192, l.neurons))
	t := &l.binTask
	if len(t.errs) < parts {
		t.errs = make([]error, l.pool.threads())
	}
	for k := 0; k < l.n; k++ {
		t.b, t.dst, t.s, t.scale, t.batch, t.neurons = l.bin, l.bins[k][:size], l.s[k][:size], l.scale, l.batch, l.neurons
		l.pool.run(t, parts)
		t.dst, t.s = nil, nil
		for _, err := range t.errs[:parts] {
			if err != nil {
				clear(t.errs)
				return fmt.Errorf("%w (source class %d)", err, k+1)
			}
		}
	}
	return nil
}

// binTask bins one source class in parts (see binPart).
type binTask struct {
	b              *binner
	dst            []int32
	s, scale       []float64
	batch, neurons int
	errs           []error // per part
}

func (t *binTask) run(part, parts int) {
	t.errs[part] = binPart(t.b, t.dst, t.s, t.scale, t.batch, t.neurons, part, parts)
}

// Learn computes every neuron's PID and goal G_i on the last Forward, and the
// gradient of the layer's loss -sum_i G_i with respect to the parameters
// into Grads. It returns the loss. Errors come from the data: ErrNonFinite
// for a NaN or infinite source, the PID engine's error for a NaN theta
// (diverged weights either way); Grads are then undefined. Learn panics if the layer has no goal or no Forward preceded it.
func (l *Layer) Learn() (loss float64, err error) {
	if l.goal == nil {
		panic("trainer: Learn on a layer without a goal")
	}
	if l.batch == 0 {
		panic("trainer: Learn before Forward")
	}
	if !l.haveGrad {
		panic("trainer: Learn after a Forward without gradients")
	}
	if err := l.binSources(); err != nil {
		return 0, err
	}
	if l.engine == nil {
		l.engine = pid.NewLayer(l.lat, l.threads)
	}
	size := l.batch * l.neurons
	// The bin buffers are sized for the largest batch seen; the engine
	// wants exactly this batch's (the last batch of an epoch is smaller).
	if len(l.binView) != len(l.bins) {
		l.binView = make([][]int32, len(l.bins))
	}
	for k := range l.bins {
		l.binView[k] = l.bins[k][:size]
	}
	if err := l.engine.Compute(l.res, l.binView, l.theta[:size], l.batch, l.neurons, l.goal, l.dG[:size]); err != nil {
		return 0, err
	}
	for _, r := range l.res {
		loss -= r.G
	}
	l.gradTask.fromDG = true
	l.backward()
	l.gradTask.fromDG = false
	return loss, nil
}

// backward propagates dLoss/dtheta (gTheta) of the last Forward through the
// activation to the sources and on to the weights and biases.
func (l *Layer) backward() {
	size := l.batch * l.neurons
	t := &l.gradTask
	t.l = l
	l.pool.run(t, max(1, min(l.pool.threads(), size/16384)))
	t.l = nil
	for k := 0; k < l.n; k++ {
		l.in[k].backward(l.pool, l.gw[k], l.gb[k], l.gs[k][:size], l.batch, l.neurons)
		if _, ok := l.in[k].(*maskedInput); ok {
			continue // writes only the connected weights' gradients
		}
		if m := l.masks[k]; m != nil {
			for j, v := range m {
				l.gw[k][j] *= v
			}
		}
	}
}

// activeRuns returns the index ranges of Params that are not masked weights
// of a masked-path source (pairs of start, end), or nil if the layer has no
// such source.
func (l *Layer) activeRuns() []int {
	has := false
	for _, mi := range l.masked {
		has = has || mi != nil
	}
	if !has {
		return nil
	}
	var runs []int
	add := func(j0, j1 int) {
		if n := len(runs); n > 0 && runs[n-1] == j0 {
			runs[n-1] = j1
			return
		}
		runs = append(runs, j0, j1)
	}
	off := 0
	for k, in := range l.inputs {
		nw := l.neurons * in
		if l.masked[k] == nil {
			add(off, off+nw)
		} else {
			for j, v := range l.masks[k] {
				if v != 0 {
					add(off+j, off+j+1)
				}
			}
		}
		add(off+nw, off+nw+l.neurons) // the bias
		off += nw + l.neurons
	}
	return runs
}

// gradTask sets, over parts of the batch, dLoss/ds_k = dLoss/dtheta ·
// dtheta/ds_k for every source, and first dLoss/dtheta = -dG if fromDG.
type gradTask struct {
	l      *Layer
	fromDG bool
}

func (t *gradTask) run(part, parts int) {
	l := t.l
	j0, j1 := split(l.batch*l.neurons, part, parts)
	g := l.gTheta[j0:j1]
	if t.fromDG {
		for j, v := range l.dG[j0:j1] {
			g[j] = -v
		}
	}
	for k := 0; k < l.n; k++ {
		gs, dth := l.gs[k][j0:j1], l.dth[k][j0:j1]
		for j, v := range g {
			gs[j] = v * dth[j]
		}
	}
}

// Close stops the PID engine's goroutines and the matrix-product workers.
// The layer must not be used afterwards.
func (l *Layer) Close() {
	l.pool.stop()
	if l.engine != nil {
		l.engine.Close()
		l.engine = nil
	}
}
