package trainer

import (
	"fmt"
	"math"
	"strings"

	"goalsearch/pid"
	registry "goalsearch/setups"
)

// A Setup names one of the networks of the paper (spec §5). Every setup has
// a hidden layer of Config.Hidden neurons and an output layer of one neuron
// per class; they differ in what the hidden layer's source classes are, how
// many recurrent steps it runs, and how it learns. The registry (package
// setups) describes each; this package holds their network code.
type Setup string

// The setups the network code refers to by name. The string values are the
// registry's names.
const (
	// Context: bivariate hidden neurons (image, label), Graetz activation,
	// adaptive binning, one step.
	Context Setup = "context"
	// Lateral: bivariate hidden neurons (image, lateral), Graetz activation,
	// adaptive binning, two steps. The label reaches only the output layer.
	Lateral Setup = "lateral"
	// ContextLateral: trivariate hidden neurons (image, label, lateral),
	// Schneider activation, fixed binning on [-20, 20], two steps.
	ContextLateral Setup = "context-lateral"
	// ContextLateralFeedback: as ContextLateral, but the hidden layer's
	// context is the output layer's sampled output of the first step
	// instead of the label.
	ContextLateralFeedback Setup = "context-lateral-feedback"
	// RandomProjection: the baseline whose hidden layer (image, label) keeps
	// its initial weights and fires deterministically (HardGraetz); only
	// the output layer learns.
	RandomProjection Setup = "random-projection"
	// Backprop: the baseline with ContextLateral's architecture trained end
	// to end by gradient descent on a cross-entropy, with a surrogate
	// gradient through the binary hidden units.
	Backprop Setup = "backprop"
)

// Setups lists every network setup in the registry's order (package
// setups): the four infomorphic networks, then the two baselines.
func Setups() []Setup {
	var out []Setup
	for _, s := range registry.Networks() {
		out = append(out, Setup(s.Name))
	}
	return out
}

// setupInfo is what the networks need to know of a setup, read from the
// registry.
type setupInfo struct {
	sources int  // hidden source classes, 2 or 3
	steps   int  // recurrent steps of the hidden layer, 1 or 2
	goal    bool // whether the hidden layer takes a goal vector
	// src lists the hidden layer's source classes in order.
	src []sourceKind
}

// A sourceKind is what feeds one hidden source class.
type sourceKind = registry.SourceKind

const (
	srcImage    = registry.Image    // the standardised image
	srcLabel    = registry.Label    // the label one-hot (zeros when withheld)
	srcLateral  = registry.Lateral  // the hidden layer's own previous output
	srcFeedback = registry.Feedback // the output layer's previous sampled output
)

// setups is the registry's networks by name. (The registry package is
// imported as "registry" in this file because of this map's name, which the
// network code indexes.)
var setups = func() map[Setup]setupInfo {
	m := map[Setup]setupInfo{}
	for _, s := range registry.Networks() {
		info := setupInfo{sources: len(s.Sources), steps: s.Steps, goal: s.TakesGoal()}
		for _, src := range s.Sources {
			info.src = append(info.src, src.Kind)
		}
		m[Setup(s.Name)] = info
	}
	return m
}()

// ParseSetup returns the setup of a name, or an error listing the names.
func ParseSetup(name string) (Setup, error) {
	s := Setup(name)
	if _, ok := setups[s]; !ok {
		return "", fmt.Errorf("trainer: unknown setup %q (setups: %s)", name, strings.Join(registry.Names(registry.Infomorphic, registry.Baseline), ", "))
	}
	return s, nil
}

// TakesGoal reports whether the setup's hidden layer learns a PID goal, i.e.
// whether Config.Goal must be given. The baselines take none.
func (s Setup) TakesGoal() bool { return setups[s].goal }

// HiddenSources is the number of source classes of the setup's hidden layer
// (2 or 3), which fixes the goal's length: 5 or 19 weights.
func (s Setup) HiddenSources() int { return setups[s].sources }

// Steps is the number of recurrent steps the setup's hidden layer runs.
func (s Setup) Steps() int { return setups[s].steps }

// OutputGoal is the output layer's goal in every setup (spec §5): unique F
// -0.2, unique C 0.1, redundancy 1, synergy 0.1, H_res 0.
var OutputGoal = []float64{-0.2, 0.1, 1.0, 0.1, 0}

// Config configures a training run. The zero value of every field but Setup,
// Goal and Seed means the paper's setting, stated on the field, so that
// Config{Setup: Context, Goal: g, Seed: 30} is the paper's run.
type Config struct {
	// Setup selects the network. Required.
	Setup Setup

	// Goal is the hidden layer's goal vector gamma in the lattice's goal
	// order, H_res last (5 weights for a bivariate hidden layer, 19 for a
	// trivariate one), shared by every hidden layer; or, with several
	// Layers, one such vector per layer concatenated in layer order (a
	// goal per layer, Layers × 5 or × 19 weights). Required if
	// Setup.TakesGoal(), must be nil otherwise. It is copied.
	Goal []float64

	// Seed seeds every random stream of the run: the validation split, the
	// weight initialisation, the lateral fan-in, the sampling of binary
	// outputs, the shuffling of training batches and of evaluation batches.
	// Each use draws from its own stream derived from Seed.
	Seed uint64

	// Hidden is the number of hidden neurons (of each hidden layer). If
	// Hidden is 0, DefaultHidden (100) is used.
	Hidden int

	// Layers is the number of hidden layers, stacked: layer 1 reads the
	// image, layer l+1 reads layer l's output as its feedforward source,
	// and the output layer reads the last. Every hidden layer has the
	// setup's sources otherwise (the label as context, its own lateral
	// input; in context-lateral-feedback the context is the layer above's
	// output of the first step, the output layer's for the last) and
	// learns its own local goal: no gradient crosses layers, except in the
	// backprop baseline, which is trained end to end. If Layers is 0, 1 is
	// used (the paper's networks). It is left out of the configuration's
	// JSON when 1, so that one-layer runs keep their fingerprint.
	Layers int `json:",omitempty"`

	// Epochs is the number of training epochs. Run runs Epochs + 1 epochs:
	// epoch 0 only evaluates the initial network (no update), as the
	// reference does, then epochs 1..Epochs train. If Epochs is 0,
	// DefaultEpochs is used; a negative Epochs means 0 (only epoch 0).
	Epochs int

	// BatchSize is the minibatch size for training and evaluation. If
	// BatchSize is 0, 1024 is used. The PID estimates depend on it: it is a
	// model setting, not only a speed setting.
	BatchSize int

	// ValFraction is the fraction of the training images held out for
	// validation (rounded up, as the reference does). If ValFraction is 0,
	// 0.2 is used.
	ValFraction float64

	// TrainLimit, ValLimit and TestLimit, if positive, keep only the first
	// that many indices (in ascending order) of the training, validation
	// and test sets: for quick runs and tests. 0 keeps all.
	TrainLimit, ValLimit, TestLimit int

	// HiddenBinning bins the hidden layer's sources. If nil, the paper's
	// binning of the setup is used: adaptive 20 bins for a bivariate hidden
	// layer, fixed 20 bins on [-20, 20] for a trivariate one.
	HiddenBinning *Binning
	// OutputBinning bins the output layer's sources. If nil, adaptive 20
	// bins.
	OutputBinning *Binning

	// Graetz is the activation of a bivariate hidden layer (and, as
	// HardGraetz, of the random projection). If nil, HiddenGraetz (K1 0.9,
	// K2 2).
	Graetz *Graetz
	// Schneider is the activation of a trivariate hidden layer. If nil,
	// HiddenSchneider (C1 = C2 = 0.1, W1 = W2 = 2).
	Schneider *Schneider

	// HiddenAdam and OutputAdam are the optimisers of the two layers. If
	// nil, HiddenAdam (lr 0.002, weight decay 3.5e-4) and OutputAdam (lr
	// 0.003, weight decay 1.5e-4). The backprop baseline uses one optimiser
	// for both layers: BackpropAdam, if nil lr 0.001 without weight decay.
	HiddenAdam, OutputAdam, BackpropAdam *AdamConfig

	// OutputGoal is the output layer's goal. If nil, the package variable
	// OutputGoal.
	OutputGoal []float64

	// LateralFanIn, if positive, connects each hidden neuron to only that
	// many other hidden neurons (chosen at random) in its lateral source.
	// 0 connects it to all others (the paper's 100 of 100).
	LateralFanIn int

	// NoTest skips the test set's evaluation, leaving EpochMetrics.Test
	// zero: a goal search must never look at the test set.
	NoTest bool

	// Threads is the number of goroutines the PID engine uses per layer.
	// If Threads is 0, 1 is used. Results do not depend on it.
	Threads int
}

// MaxLayers is the most hidden layers a network may have: a bound against
// typing errors (--layers 1000), far beyond what MNIST could use.
const MaxLayers = 16

// layers is the number of hidden layers, Layers with its default applied.
func (cfg *Config) layers() int { return max(1, cfg.Layers) }

// NumLayers is the number of hidden layers of the run, at least 1.
func (cfg Config) NumLayers() int { return cfg.layers() }

// layerGoal returns hidden layer l's goal (0-based): the shared goal, or
// layer l's part of a goal per layer.
func (cfg *Config) layerGoal(l, goalLen int) []float64 {
	if cfg.Goal == nil || len(cfg.Goal) == goalLen {
		return cfg.Goal
	}
	return cfg.Goal[l*goalLen : (l+1)*goalLen]
}

// The defaults of Config: the paper's hidden size, batch size and
// validation split, and the epochs of a quick run. The paper trains for
// setups.PaperEpochs, which searched and evaluated trials default to; a
// Config without Epochs (and goalsearch train without --epochs) is a look
// at a setup, not its result.
const (
	DefaultHidden      = 100
	DefaultEpochs      = 10
	DefaultBatchSize   = 1024
	DefaultValFraction = 0.2
)

// withDefaults returns cfg with every zero field replaced by its default
// and every slice and pointer copied, so that the caller's later changes
// cannot reach a running trainer.
func (cfg Config) withDefaults() Config {
	if cfg.Hidden == 0 {
		cfg.Hidden = DefaultHidden
	}
	if cfg.Layers == 1 {
		cfg.Layers = 0 // see Layers: one layer is stored as 0
	}
	if cfg.Epochs == 0 {
		cfg.Epochs = DefaultEpochs
	} else if cfg.Epochs < 0 {
		cfg.Epochs = 0
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.ValFraction == 0 {
		cfg.ValFraction = DefaultValFraction
	}
	info := setups[cfg.Setup]
	if cfg.HiddenBinning == nil {
		b := PaperAdaptiveBinning
		if info.sources == 3 {
			b = PaperFixedBinning
		}
		cfg.HiddenBinning = &b
	}
	if cfg.Threads == 0 {
		cfg.Threads = 1
	}
	if cfg.OutputGoal == nil {
		cfg.OutputGoal = OutputGoal
	}
	return cfg.clone()
}

// clone returns cfg with every pointer and slice field copied, nil pointers
// set to their defaults.
func (cfg Config) clone() Config {
	cfg.HiddenBinning = copyOr(cfg.HiddenBinning, Binning{})
	cfg.OutputBinning = copyOr(cfg.OutputBinning, PaperAdaptiveBinning)
	cfg.Graetz = copyOr(cfg.Graetz, HiddenGraetz)
	cfg.Schneider = copyOr(cfg.Schneider, HiddenSchneider)
	cfg.HiddenAdam = copyOr(cfg.HiddenAdam, HiddenAdam)
	cfg.OutputAdam = copyOr(cfg.OutputAdam, OutputAdam)
	cfg.BackpropAdam = copyOr(cfg.BackpropAdam, BackpropAdam)
	cfg.OutputGoal = cloneFloats(cfg.OutputGoal)
	cfg.Goal = cloneFloats(cfg.Goal)
	return cfg
}

// BackpropAdam is the backprop baseline's optimiser: PyTorch's default Adam,
// lr 0.001, no weight decay.
var BackpropAdam = AdamConfig{LR: 0.001}

func copyOr[T any](p *T, def T) *T {
	if p != nil {
		def = *p
	}
	return &def
}

// Validate reports whether cfg describes a run New can start. Errors name
// the offending field; a goal of the wrong length says how many weights the
// setup wants.
func (cfg *Config) Validate() error {
	info, ok := setups[cfg.Setup]
	if !ok {
		_, err := ParseSetup(string(cfg.Setup))
		return err
	}
	d := cfg.withDefaults()
	switch {
	case info.goal && cfg.Goal == nil:
		return fmt.Errorf("trainer: setup %s needs a goal of %d weights", cfg.Setup, pid.MustLattice(info.sources).GoalLen())
	case !info.goal && cfg.Goal != nil:
		return fmt.Errorf("trainer: setup %s takes no goal", cfg.Setup)
	case d.Hidden < 1:
		return fmt.Errorf("trainer: %d hidden neurons", cfg.Hidden)
	case cfg.Layers < 0 || cfg.Layers > MaxLayers:
		return fmt.Errorf("trainer: %d hidden layers, want 1 to %d", cfg.Layers, MaxLayers)
	case d.BatchSize < 1:
		return fmt.Errorf("trainer: batch size %d", cfg.BatchSize)
	case !(d.ValFraction > 0 && d.ValFraction < 1):
		return fmt.Errorf("trainer: validation fraction %v, want it in (0, 1)", cfg.ValFraction)
	case cfg.TrainLimit < 0 || cfg.ValLimit < 0 || cfg.TestLimit < 0:
		return fmt.Errorf("trainer: negative limit (train %d, validation %d, test %d)", cfg.TrainLimit, cfg.ValLimit, cfg.TestLimit)
	case cfg.LateralFanIn < 0:
		return fmt.Errorf("trainer: lateral fan-in %d", cfg.LateralFanIn)
	case cfg.Threads < 0:
		return fmt.Errorf("trainer: %d threads", cfg.Threads)
	}
	if info.goal {
		g, per := cfg.Goal, pid.MustLattice(info.sources).GoalLen()
		if n := d.layers(); n > 1 && len(g) == n*per {
			for l := 0; l < n; l++ {
				if err := checkGoal(fmt.Sprintf("goal of hidden layer %d", l+1), g[l*per:(l+1)*per], info.sources); err != nil {
					return err
				}
			}
		} else if err := checkGoal("goal", g, info.sources); err != nil {
			if n > 1 {
				return fmt.Errorf("%w, or %d (one goal per layer of %d layers)", err, n*per, n)
			}
			return err
		}
	}
	if err := checkGoal("output goal", d.OutputGoal, 2); err != nil {
		return err
	}
	for _, b := range []struct {
		name string
		b    *Binning
	}{{"hidden", d.HiddenBinning}, {"output", d.OutputBinning}} {
		if err := b.b.Validate(); err != nil {
			return fmt.Errorf("%w (%s binning)", err, b.name)
		}
	}
	for _, a := range []struct {
		name string
		a    *AdamConfig
	}{{"hidden", d.HiddenAdam}, {"output", d.OutputAdam}, {"backprop", d.BackpropAdam}} {
		if err := a.a.Validate(); err != nil {
			return fmt.Errorf("%w (%s optimiser)", err, a.name)
		}
	}
	for _, v := range []float64{d.Graetz.K1, d.Graetz.K2, d.Schneider.C1, d.Schneider.C2, d.Schneider.W1, d.Schneider.W2} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("trainer: activation constant %v", v)
		}
	}
	return nil
}

func checkGoal(name string, g []float64, sources int) error {
	if want := pid.MustLattice(sources).GoalLen(); len(g) != want {
		return fmt.Errorf("trainer: %s of %d weights, want %d for %d sources", name, len(g), want, sources)
	}
	for i, v := range g {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("trainer: %s weight %d is %v", name, i+1, v)
		}
	}
	return nil
}

// Seed derivation. Each random stream of a run gets its own 64-bit seed,
// derived from Config.Seed and a tag by SplitMix64's finaliser (Steele,
// Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA
// 2014), so that streams never share or shift each other's numbers and
// seeds 30 and 31 give unrelated runs.
const (
	tagHidden   = 0x68696464656e // "hidden"
	tagOutput   = 0x6f7574707574 // "output"
	tagVal      = 0x76616c       // "val"
	tagTest     = 0x74657374     // "test"
	tagBackprop = 0x6270         // "bp"
)

func deriveSeed(seed, tag uint64, index uint64) uint64 {
	z := seed ^ mix64(tag+0x9e3779b97f4a7c15*(index+1))
	return mix64(z)
}

func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
