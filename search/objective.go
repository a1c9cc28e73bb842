package search

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"goalsearch/setups"
	"goalsearch/store"
)

// An Objective evaluates trials: it trains a network (or computes a test
// function) with a goal vector, reporting after every epoch. Run is called
// from several goroutines at once, one trial each.
type Objective interface {
	// Epochs is the number of epochs of a full trial.
	Epochs() int
	// Run evaluates spec. It calls report after every epoch, in order,
	// with the epoch's metrics and a checkpoint from which Run could
	// continue; if report returns an error, Run returns it at once. With
	// spec.Checkpoint set, Run continues after that checkpoint's epoch and
	// must then give the same results as a run that never stopped.
	Run(ctx context.Context, spec TrialSpec, report func(EpochReport) error) (Outcome, error)
}

// TrialSpec is one trial's assignment.
type TrialSpec struct {
	Number     int
	Gamma      []float64
	Params     []float64 // the values of the study's hyperparameters (store.Trial.Params)
	Seed       uint64
	Epochs     int    // train up to this epoch
	Checkpoint []byte // nil: start from scratch
}

// EpochReport is what an objective reports after an epoch.
type EpochReport struct {
	Metrics    store.EpochMetrics
	Checkpoint []byte
}

// Outcome is a finished trial's result. Value is the objective (the
// validation accuracy for training setups), to be maximised.
type Outcome struct {
	Value float64
	Final map[string]float64
	Atoms [][]float64
}

// Synthetic objectives: test functions on [-1, 1]^d, for fast tests and
// demonstrations of the search machinery, one per synthetic setup of the
// registry (package setups). Their value is -f(gamma), so that
// every objective is maximised; each "epoch" approaches it from below, so
// that pruners have learning curves to judge.
var syntheticFuncs = map[string]func(x []float64) float64{
	// Sphere with its optimum at 0.3 in every coordinate, inside the box but
	// not at its centre.
	"sphere": func(x []float64) float64 {
		s := 0.0
		for _, v := range x {
			s += (v - 0.3) * (v - 0.3)
		}
		return s
	},
	// Rastrigin on [-5.12, 5.12]^d scaled to [-1, 1]^d, many local optima,
	// with its optimum moved to 0.3 like the sphere's: at the centre of the
	// box, the first point of several samplers, it would be found at once.
	"rastrigin": func(x []float64) float64 {
		s := 10 * float64(len(x))
		for _, v := range x {
			z := 5.12 * (v - 0.3)
			s += z*z - 10*math.Cos(2*math.Pi*z)
		}
		return s
	},
	// Direction: 1 - cos(angle between x and a fixed direction), a stand-in
	// for training with Adam, which hardly changes when the goal is scaled:
	// only the direction of x matters (the unit-norm experiment).
	"direction": func(x []float64) float64 {
		dot, nx, nd := 0.0, 0.0, 0.0
		for i, v := range x {
			d := 0.6 * math.Cos(1.7*float64(i)+0.3)
			dot, nx, nd = dot+v*d, nx+v*v, nd+d*d
		}
		if nx == 0 {
			return 1
		}
		return 1 - dot/math.Sqrt(nx*nd)
	},
	// Rosenbrock on [-2, 2]^d scaled to [-1, 1]^d: a curved valley.
	"rosenbrock": func(x []float64) float64 {
		s := 0.0
		for i := 0; i+1 < len(x); i++ {
			a, b := 2*x[i], 2*x[i+1]
			s += 100*(b-a*a)*(b-a*a) + (1-a)*(1-a)
		}
		return s
	},
}

// Synthetic is the objective of a synthetic setup.
type Synthetic struct {
	Name string
	Cfg  setups.SyntheticConfig
	f    func([]float64) float64
}

// NewSynthetic returns the objective of the synthetic setup name.
func NewSynthetic(name string, cfg setups.SyntheticConfig) (*Synthetic, error) {
	f, ok := syntheticFuncs[name]
	if !ok {
		return nil, fmt.Errorf("no synthetic setup %q (have %s)", name, strings.Join(setups.Names(setups.Synthetic), ", "))
	}
	if cfg.Dim < 1 {
		return nil, fmt.Errorf("synthetic setup %s: --dim %d, want at least 1", name, cfg.Dim)
	}
	if cfg.Epochs == 0 {
		cfg.Epochs = 1
	}
	return &Synthetic{Name: name, Cfg: cfg, f: f}, nil
}

// Epochs is the configured number of epochs.
func (s *Synthetic) Epochs() int { return s.Cfg.Epochs }

type syntheticCheckpoint struct {
	Epoch int `json:"epoch"`
}

// Run computes the function, sleeping Sleep/Epochs per epoch.
func (s *Synthetic) Run(ctx context.Context, spec TrialSpec, report func(EpochReport) error) (Outcome, error) {
	// A synthetic study's hyperparameters are further coordinates of the
	// function, so that mixed searches can be tested without a network.
	fx := s.f(append(slices.Clone(spec.Gamma), spec.Params...))
	noise := 0.0
	if s.Cfg.Noise > 0 {
		noise = s.Cfg.Noise * rand.New(rand.NewPCG(spec.Seed, 0x5eed)).NormFloat64()
	}
	start := 0
	if spec.Checkpoint != nil {
		var c syntheticCheckpoint
		if err := json.Unmarshal(spec.Checkpoint, &c); err != nil {
			return Outcome{}, fmt.Errorf("synthetic checkpoint: %w", err)
		}
		start = c.Epoch
	}
	value := func(epoch int) float64 {
		// Later epochs are better; the last one gives -f + noise.
		return -fx*(1+float64(spec.Epochs-epoch)/float64(spec.Epochs)) + noise
	}
	for e := start + 1; e <= spec.Epochs; e++ {
		if s.Cfg.Sleep > 0 {
			t := time.NewTimer(s.Cfg.Sleep / time.Duration(spec.Epochs))
			select {
			case <-ctx.Done():
				t.Stop()
				return Outcome{}, ctx.Err()
			case <-t.C:
			}
		}
		if s.Cfg.Fail > 0 && fx > s.Cfg.Fail {
			return Outcome{}, fmt.Errorf("diverged: f = %g above %g", fx, s.Cfg.Fail)
		}
		ck, _ := json.Marshal(syntheticCheckpoint{e})
		m := store.EpochMetrics{Epoch: e, ValAcc: value(e), TrainLoss: fx, Seconds: s.Cfg.Sleep.Seconds() / float64(spec.Epochs)}
		if err := report(EpochReport{Metrics: m, Checkpoint: ck}); err != nil {
			return Outcome{}, err
		}
	}
	v := value(spec.Epochs)
	return Outcome{Value: v, Final: map[string]float64{"val_acc": v, "f": fx}}, nil
}
