package search

import (
	"encoding/json"
	"fmt"
	"sort"
)

// A Pruner decides after each epoch of a trial whether to stop it early.
// It sees only the values trials reported (the validation accuracy after
// each epoch, larger is better): curves[n][e-1] is trial n's value after
// epoch e, for every trial of the study that reported it, the deciding one
// included. Pruners keep no state of their own, so a resumed search prunes
// from what its store holds.
type Pruner interface {
	Name() string
	Prune(trial, epoch int, curves map[int][]float64) bool
}

// NewPruner returns the pruner name ("asha", "median", "none" or "") for
// trials of the given number of epochs, configured by cfg (JSON, may be
// empty).
func NewPruner(name string, cfg json.RawMessage, epochs int) (Pruner, error) {
	switch name {
	case "", "none":
		return nonePruner{}, nil
	case "asha":
		p := &ASHA{}
		if err := decodeConfig(cfg, p); err != nil {
			return nil, fmt.Errorf("asha pruner: %w", err)
		}
		return p, p.init(epochs)
	case "median":
		p := &Median{}
		if err := decodeConfig(cfg, p); err != nil {
			return nil, fmt.Errorf("median pruner: %w", err)
		}
		if p.Startup == 0 {
			p.Startup = 5
		}
		if p.Warmup == 0 {
			p.Warmup = 1
		}
		return p, nil
	}
	return nil, fmt.Errorf("no pruner %q (have asha, median, none)", name)
}

func decodeConfig(cfg json.RawMessage, v any) error {
	if len(cfg) == 0 || string(cfg) == "null" {
		return nil
	}
	return json.Unmarshal(cfg, v)
}

type nonePruner struct{}

func (nonePruner) Name() string                           { return "none" }
func (nonePruner) Prune(int, int, map[int][]float64) bool { return false }

// ASHA is asynchronous successive halving (Li et al., "A System for Massively
// Parallel Hyperparameter Tuning", MLSys 2020) in its stopping form: rungs
// sit at MinEpochs·Eta^k epochs; a trial that reaches a rung goes on only if
// its value there is among the best 1/Eta of all values reported at that
// rung so far. Being judged on arrival rather than in synchronous brackets
// keeps every worker busy.
type ASHA struct {
	// MinEpochs is the first rung; 0 means 1.
	MinEpochs int `json:"min_epochs,omitempty"`
	// Eta is the reduction factor; 0 means 3.
	Eta int `json:"eta,omitempty"`
	// Rungs, if set, replaces the geometric rungs with these epochs.
	Rungs []int `json:"rungs,omitempty"`
	rung  map[int]bool
}

func (a *ASHA) init(epochs int) error {
	if a.MinEpochs == 0 {
		a.MinEpochs = 1
	}
	if a.Eta == 0 {
		a.Eta = 3
	}
	if a.MinEpochs < 1 || a.Eta < 2 {
		return fmt.Errorf("asha pruner: min_epochs %d and eta %d; want >= 1 and >= 2", a.MinEpochs, a.Eta)
	}
	a.rung = map[int]bool{}
	if len(a.Rungs) == 0 {
		for r := a.MinEpochs; r < epochs; r *= a.Eta {
			a.Rungs = append(a.Rungs, r)
		}
	}
	for _, r := range a.Rungs {
		if r < 1 {
			return fmt.Errorf("asha pruner: rung at epoch %d", r)
		}
		a.rung[r] = true
	}
	return nil
}

func (a *ASHA) Name() string { return "asha" }

func (a *ASHA) Prune(trial, epoch int, curves map[int][]float64) bool {
	if !a.rung[epoch] {
		return false
	}
	mine := curves[trial][epoch-1]
	var vals []float64
	for _, c := range curves {
		if len(c) >= epoch {
			vals = append(vals, c[epoch-1])
		}
	}
	keep := len(vals) / a.Eta
	if keep == 0 {
		// Too few trials at this rung to judge: promote.
		return false
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(vals)))
	return !(mine >= vals[keep-1])
}

// Median stops a trial whose value after an epoch is below the median of
// the other trials' values after that epoch, once Startup other trials have
// reached it and after Warmup epochs (Optuna's MedianPruner rule).
type Median struct {
	Startup int `json:"startup,omitempty"` // other trials needed at the epoch; 0 means 5
	Warmup  int `json:"warmup,omitempty"`  // epochs never pruned; 0 means 1
}

func (m *Median) Name() string { return "median" }

func (m *Median) Prune(trial, epoch int, curves map[int][]float64) bool {
	if epoch <= m.Warmup {
		return false
	}
	mine := curves[trial][epoch-1]
	var vals []float64
	for n, c := range curves {
		if n != trial && len(c) >= epoch {
			vals = append(vals, c[epoch-1])
		}
	}
	if len(vals) < m.Startup {
		return false
	}
	sort.Float64s(vals)
	med := vals[len(vals)/2]
	if len(vals)%2 == 0 {
		med = (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
	}
	return mine < med
}
