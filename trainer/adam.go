package trainer

import (
	"fmt"
	"math"
)

// AdamConfig configures Adam (Kingma and Ba, "Adam: A method for stochastic
// optimization", ICLR 2015) with the semantics of torch.optim.Adam: the
// weight decay is an L2 penalty added to the gradient before the moments are
// updated (not decoupled as in AdamW), both moments are bias-corrected, and
// Eps is added to the square root of the corrected second moment.
type AdamConfig struct {
	// LR is the learning rate. If LR is 0, PyTorch's default 0.001 is used.
	LR float64
	// Beta1 and Beta2 are the decay rates of the first and second moment.
	// If 0, the defaults 0.9 and 0.999 are used.
	Beta1, Beta2 float64
	// Eps keeps the step finite. If Eps is 0, 1e-8 is used.
	Eps float64
	// WeightDecay is the L2 penalty: WeightDecay * param is added to the
	// gradient. 0 means none.
	WeightDecay float64
}

// The paper's per-layer settings (hidden and output layers).
var (
	HiddenAdam = AdamConfig{LR: 0.002, WeightDecay: 3.5e-4}
	OutputAdam = AdamConfig{LR: 0.003, WeightDecay: 1.5e-4}
)

func (c AdamConfig) withDefaults() AdamConfig {
	if c.LR == 0 {
		c.LR = 1e-3
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	return c
}

// Validate reports whether the settings (after defaults) are usable:
// LR > 0, 0 <= Beta1, Beta2 < 1, Eps > 0, WeightDecay >= 0, all finite.
func (c AdamConfig) Validate() error {
	d := c.withDefaults()
	ok := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case !ok(d.LR) || d.LR <= 0:
		return fmt.Errorf("trainer: Adam learning rate %v", c.LR)
	case !ok(d.Beta1) || d.Beta1 < 0 || d.Beta1 >= 1, !ok(d.Beta2) || d.Beta2 < 0 || d.Beta2 >= 1:
		return fmt.Errorf("trainer: Adam betas %v, %v", c.Beta1, c.Beta2)
	case !ok(d.Eps) || d.Eps <= 0:
		return fmt.Errorf("trainer: Adam eps %v", c.Eps)
	case !ok(d.WeightDecay) || d.WeightDecay < 0:
		return fmt.Errorf("trainer: Adam weight decay %v", c.WeightDecay)
	}
	return nil
}

// Adam updates one parameter vector (a layer's Params). It is not safe for
// concurrent use.
type Adam struct {
	cfg  AdamConfig // with defaults applied
	step int
	m, v []float64
	runs []int    // if not nil, the index ranges Step updates (skipOutside)
	pool *linPool // threads for Step (nil: the caller's goroutine)
	task adamTask
}

// NewAdam returns an optimiser for a vector of size parameters. It returns an
// error if cfg does not validate.
func NewAdam(cfg AdamConfig, size int) (*Adam, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if size < 0 {
		panic(fmt.Sprintf("trainer: Adam for %d parameters", size))
	}
	return &Adam{cfg: cfg.withDefaults(), m: make([]float64, size), v: make([]float64, size)}, nil
}

// Config returns the settings in use, defaults applied.
func (a *Adam) Config() AdamConfig { return a.cfg }

// Step applies one update to params from grads, in place, as
// torch.optim.Adam.step (torch 1.13, single-tensor path) computes it:
//
//	t += 1
//	g  = grad + wd * param
//	m  = beta1 * m + (1 - beta1) * g
//	v  = beta2 * v + (1 - beta2) * g * g
//	param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
// grads is not modified. Both slices must have the optimiser's size.
func (a *Adam) Step(params, grads []float64) {
	if len(params) != len(a.m) || len(grads) != len(a.m) {
		panic(fmt.Sprintf("trainer: Adam of %d parameters given %d parameters and %d gradients", len(a.m), len(params), len(grads)))
	}
	a.step++
	c := a.cfg
	step := float64(a.step)
	stepSize := c.LR / (1 - math.Pow(c.Beta1, step))
	bc2Sqrt := math.Sqrt(1 - math.Pow(c.Beta2, step))
	grads = grads[:len(params)]
	t := &a.task
	t.a, t.params, t.grads, t.stepSize, t.bc2Sqrt = a, params, grads, stepSize, bc2Sqrt
	a.pool.run(t, max(1, min(a.pool.threads(), len(params)/32768)))
	t.a, t.params, t.grads = nil, nil, nil
}

// adamTask is one Step over parts of the parameters: Adam is elementwise,
// so the split changes nothing.
type adamTask struct {
	a                 *Adam
	params, grads     []float64
	stepSize, bc2Sqrt float64
}

func (t *adamTask) run(part, parts int) {
	a := t.a
	j0, j1 := split(len(t.params), part, parts)
	if a.runs == nil {
		a.update(t.params[j0:j1], t.grads[j0:j1], a.m[j0:j1], a.v[j0:j1], t.stepSize, t.bc2Sqrt)
		return
	}
	for r := 0; r < len(a.runs); r += 2 {
		r0, r1 := max(a.runs[r], j0), min(a.runs[r+1], j1)
		if r0 < r1 {
			a.update(t.params[r0:r1], t.grads[r0:r1], a.m[r0:r1], a.v[r0:r1], t.stepSize, t.bc2Sqrt)
		}
	}
}

// skipOutside makes Step update only the parameters in runs (pairs of
// start, end indices, increasing): a layer's masked weights, which are 0
// with a zero gradient and zero moments, and which Adam would leave 0 (up
// to the sign of zero). A layer of 2000 neurons with a lateral fan-in of
// 100 has 3.8 million of them.
func (a *Adam) skipOutside(runs []int) { a.runs = runs }

func (a *Adam) update(params, grads, m, v []float64, stepSize, bc2Sqrt float64) {
	c := a.cfg
	grads, m, v = grads[:len(params)], m[:len(params)], v[:len(params)]
	for j, p := range params {
		g := grads[j]
		if c.WeightDecay != 0 {
			g += c.WeightDecay * p
		}
		m[j] = m[j]*c.Beta1 + (1-c.Beta1)*g
		v[j] = v[j]*c.Beta2 + (1-c.Beta2)*g*g
		denom := math.Sqrt(v[j])/bc2Sqrt + c.Eps
		params[j] = p + (-stepSize)*m[j]/denom
	}
}

// AdamState is the optimiser's state, for checkpoints: the number of steps
// taken and the first and second moment of every parameter.
type AdamState struct {
	Step int
	M, V []float64
}

// State returns a copy of the state.
func (a *Adam) State() AdamState {
	return AdamState{Step: a.step, M: append([]float64(nil), a.m...), V: append([]float64(nil), a.v...)}
}

// SetState restores a state returned by State (it copies the slices). It
// returns an error if the state does not fit this optimiser (another size, a
// negative step count, a negative or NaN second moment).
func (a *Adam) SetState(s AdamState) error {
	if len(s.M) != len(a.m) || len(s.V) != len(a.v) {
		return fmt.Errorf("trainer: Adam state of %d and %d moments for %d parameters", len(s.M), len(s.V), len(a.m))
	}
	if s.Step < 0 {
		return fmt.Errorf("trainer: Adam state at step %d", s.Step)
	}
	for _, x := range s.V {
		if !(x >= 0) {
			return fmt.Errorf("trainer: Adam state has second moment %v", x)
		}
	}
	a.step = s.Step
	copy(a.m, s.M)
	copy(a.v, s.V)
	return nil
}
