package search

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"math"

	"goalsearch/setups"
)

// A Pruner decides after each epoch of a trial whether to stop it early,
// from the values trials reported (the validation accuracy after each
// epoch, larger is better).
//
// A pruner's state is what it was told: the driver records in it every
// value the store holds when a run starts, and every new one as it comes
// (Record for other trials' reports, Prune for the deciding trial's own),
// so a resumed search prunes from what its store holds. A trial's values
// come in epoch order, and a value for an epoch already recorded is
// ignored (a trial continued from its checkpoint reports the same value
// again). Decisions cost O(log n) for n recorded values, however long the
// study. A Pruner is not safe for concurrent use.
type Pruner interface {
	Name() string
	// Record notes that trial reported value after epoch.
	Record(trial, epoch int, value float64)
	// Prune records trial's value after epoch, as Record does, and reports
	// whether the trial should stop there.
	Prune(trial, epoch int, value float64) bool
}

// Defaults of the pruners, used when a configuration field is 0. They are
// stated once, here; docs/search.md quotes them.
const (
	// DefaultASHAMinEpochs is ASHA's first rung for setups that train a
	// network: the first epoch whose validation accuracy ranks goals as
	// epoch 100 does with a Spearman correlation of at least 0.9
	// (docs/fidelity.md: 0.93 at epoch 10, 0.85 at epoch 5).
	DefaultASHAMinEpochs = 10
	// DefaultASHAMinEpochsSynthetic is ASHA's first rung for synthetic
	// setups, whose "epochs" are a test of the machinery, not a fidelity.
	DefaultASHAMinEpochsSynthetic = 1
	// DefaultASHAEta is ASHA's reduction factor: a trial goes on from a
	// rung if it is in the best 1/η there.
	DefaultASHAEta = 3
	// DefaultMedianStartup is the number of other trials the median
	// pruner needs at an epoch before it prunes there.
	DefaultMedianStartup = 5
	// DefaultMedianWarmup is the number of epochs the median pruner never
	// prunes at.
	DefaultMedianWarmup = 1
)

// Pruners returns the names NewPruner accepts.
func Pruners() []string { return []string{"asha", "median", "none"} }

// NewPruner returns the pruner name ("asha", "median", "none" or "") for
// trials of the given setup and number of epochs, configured by cfg (JSON,
// may be empty; an unknown field is an error, as for samplers). The setup
// chooses ASHA's default first rung.
func NewPruner(name string, cfg json.RawMessage, setup string, epochs int) (Pruner, error) {
	switch name {
	case "", "none":
		if err := decodeStrict(cfg, &struct{}{}); err != nil {
			return nil, fmt.Errorf("pruner none: %w", err)
		}
		return nonePruner{}, nil
	case "asha":
		p := &ASHA{}
		if err := decodeStrict(cfg, p); err != nil {
			return nil, fmt.Errorf("asha pruner: %w", err)
		}
		return p, p.init(setup, epochs)
	case "median":
		p := &Median{}
		if err := decodeStrict(cfg, p); err != nil {
			return nil, fmt.Errorf("median pruner: %w", err)
		}
		return p, p.init()
	}
	return nil, fmt.Errorf("no pruner %q (have asha, median, none)", name)
}

type nonePruner struct{}

func (nonePruner) Name() string                 { return "none" }
func (nonePruner) Record(int, int, float64)     {}
func (nonePruner) Prune(int, int, float64) bool { return false }

// seen tracks, per trial, the last epoch recorded, so that each (trial,
// epoch) is recorded once.
type seen map[int]int

// fresh reports whether (trial, epoch) is new, and marks it.
func (s seen) fresh(trial, epoch int) bool {
	if last, ok := s[trial]; ok && epoch <= last {
		return false
	}
	s[trial] = epoch
	return true
}

// ASHA is asynchronous successive halving (Li et al., "A System for
// Massively Parallel Hyperparameter Tuning", MLSys 2020) in its stopping
// form: rungs sit at MinEpochs·Eta^k epochs; a trial that reaches a rung
// goes on only if its value there is among the best 1/Eta of all values
// reported at that rung so far, its own included (with fewer than Eta
// values at the rung, every trial goes on). Being judged on arrival rather
// than in synchronous brackets keeps every worker busy.
//
// Each rung keeps its values in two heaps, the best ⌊n/Eta⌋ and the rest,
// so a decision costs O(log n).
type ASHA struct {
	// MinEpochs is the first rung; 0 means DefaultASHAMinEpochs, or
	// DefaultASHAMinEpochsSynthetic for a synthetic setup.
	MinEpochs int `json:"min_epochs,omitempty"`
	// Eta is the reduction factor; 0 means DefaultASHAEta.
	Eta int `json:"eta,omitempty"`
	// Rungs, if set, replaces the geometric rungs with these epochs.
	Rungs []int `json:"rungs,omitempty"`

	rungs map[int]*topK
	seen  seen
}

func (a *ASHA) init(setup string, epochs int) error {
	if a.MinEpochs == 0 {
		a.MinEpochs = DefaultASHAMinEpochs
		if setups.IsSynthetic(setup) {
			a.MinEpochs = DefaultASHAMinEpochsSynthetic
		}
	}
	if a.Eta == 0 {
		a.Eta = DefaultASHAEta
	}
	if a.MinEpochs < 1 || a.Eta < 2 {
		return fmt.Errorf("asha pruner: min_epochs %d and eta %d; want >= 1 and >= 2", a.MinEpochs, a.Eta)
	}
	if len(a.Rungs) == 0 {
		for r := a.MinEpochs; r < epochs; r *= a.Eta {
			a.Rungs = append(a.Rungs, r)
		}
	}
	a.rungs, a.seen = map[int]*topK{}, seen{}
	for _, r := range a.Rungs {
		if r < 1 {
			return fmt.Errorf("asha pruner: rung at epoch %d", r)
		}
		a.rungs[r] = &topK{eta: a.Eta}
	}
	return nil
}

func (a *ASHA) Name() string { return "asha" }

func (a *ASHA) Record(trial, epoch int, value float64) {
	if !a.seen.fresh(trial, epoch) {
		return
	}
	if r := a.rungs[epoch]; r != nil {
		r.add(orWorst(value))
	}
}

func (a *ASHA) Prune(trial, epoch int, value float64) bool {
	a.Record(trial, epoch, value)
	r := a.rungs[epoch]
	if r == nil {
		return false
	}
	t, ok := r.threshold()
	return ok && orWorst(value) < t
}

// Median stops a trial whose value after an epoch is below the median of
// the other trials' values after that epoch, once Startup other trials
// have reached it and after Warmup epochs (Optuna's MedianPruner rule).
// Each epoch keeps its values in two heaps around the median, so a
// decision costs O(log n).
type Median struct {
	Startup int `json:"startup,omitempty"` // other trials needed at the epoch; 0 means DefaultMedianStartup
	Warmup  int `json:"warmup,omitempty"`  // epochs never pruned; 0 means DefaultMedianWarmup

	epochs map[int]*medianHeap
	seen   seen
}

func (m *Median) init() error {
	if m.Startup == 0 {
		m.Startup = DefaultMedianStartup
	}
	if m.Warmup == 0 {
		m.Warmup = DefaultMedianWarmup
	}
	if m.Startup < 1 || m.Warmup < 0 {
		return fmt.Errorf("median pruner: startup %d and warmup %d; want >= 1 and >= 0", m.Startup, m.Warmup)
	}
	m.epochs, m.seen = map[int]*medianHeap{}, seen{}
	return nil
}

func (m *Median) Name() string { return "median" }

func (m *Median) Record(trial, epoch int, value float64) {
	if !m.seen.fresh(trial, epoch) {
		return
	}
	h := m.epochs[epoch]
	if h == nil {
		h = &medianHeap{}
		m.epochs[epoch] = h
	}
	h.add(orWorst(value))
}

func (m *Median) Prune(trial, epoch int, value float64) bool {
	// Judged against the others, before its own value joins them; a value
	// already recorded (a repeated report) is not judged again.
	if last, ok := m.seen[trial]; ok && epoch <= last {
		return false
	}
	prune := false
	if h := m.epochs[epoch]; epoch > m.Warmup && h != nil && h.len() >= m.Startup {
		prune = orWorst(value) < h.median()
	}
	m.Record(trial, epoch, value)
	return prune
}

// orWorst maps NaN, which cannot be ordered, to −Inf: a diverged value is
// the worst.
func orWorst(v float64) float64 {
	if math.IsNaN(v) {
		return math.Inf(-1)
	}
	return v
}

// topK holds values split into the best ⌊n/eta⌋ (a min-heap) and the rest
// (a max-heap).
type topK struct {
	eta  int
	best minHeap
	rest maxHeap
}

// threshold returns the worst of the best ⌊n/eta⌋ values, if there are
// any.
func (t *topK) threshold() (float64, bool) {
	if t.best.Len() == 0 {
		return 0, false
	}
	return t.best.s[0], true
}

func (t *topK) add(v float64) {
	if t.best.Len() > 0 && v > t.best.s[0] {
		heap.Push(&t.best, v)
	} else {
		heap.Push(&t.rest, v)
	}
	k := (t.best.Len() + t.rest.Len()) / t.eta
	for t.best.Len() > k {
		heap.Push(&t.rest, heap.Pop(&t.best))
	}
	for t.best.Len() < k {
		heap.Push(&t.best, heap.Pop(&t.rest))
	}
}

// medianHeap holds values split at the median: the lower half in a
// max-heap, the upper half (one more if odd) in a min-heap.
type medianHeap struct {
	lower maxHeap
	upper minHeap
}

func (h *medianHeap) len() int { return h.lower.Len() + h.upper.Len() }

func (h *medianHeap) add(v float64) {
	if h.upper.Len() > 0 && v >= h.upper.s[0] {
		heap.Push(&h.upper, v)
	} else {
		heap.Push(&h.lower, v)
	}
	for h.lower.Len() > h.upper.Len() {
		heap.Push(&h.upper, heap.Pop(&h.lower))
	}
	for h.upper.Len() > h.lower.Len()+1 {
		heap.Push(&h.lower, heap.Pop(&h.upper))
	}
}

// median is the middle value, or the mean of the two middle values.
func (h *medianHeap) median() float64 {
	if h.upper.Len() > h.lower.Len() {
		return h.upper.s[0]
	}
	return (h.lower.s[0] + h.upper.s[0]) / 2
}

type minHeap struct{ s []float64 }

func (h minHeap) Len() int           { return len(h.s) }
func (h minHeap) Less(i, j int) bool { return h.s[i] < h.s[j] }
func (h minHeap) Swap(i, j int)      { h.s[i], h.s[j] = h.s[j], h.s[i] }
func (h *minHeap) Push(x any)        { h.s = append(h.s, x.(float64)) }
func (h *minHeap) Pop() any {
	v := h.s[len(h.s)-1]
	h.s = h.s[:len(h.s)-1]
	return v
}

type maxHeap struct{ minHeap }

func (h maxHeap) Less(i, j int) bool { return h.s[i] > h.s[j] }
