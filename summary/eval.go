package summary

import (
	"cmp"
	"slices"
	"time"

	"goalsearch/setups"
	"goalsearch/store"
)

// Summaries of evaluation studies (evalstudy.go): every goal's runs over
// their seeds.

// EvalSummary is what an evaluation study holds, goal by goal.
type EvalSummary struct {
	Study   string
	Kind    string
	Group   string
	Setup   string
	Hidden  int
	Epochs  int
	Seeds   []uint64
	Labels  []string
	Note    string
	Extra   []string
	Created time.Time
	// Synthetic is true for a synthetic test function.
	Synthetic bool
	Counts    Counts
	// Goals are the evaluated goals in the study's order.
	Goals []GoalResult
	// Failures counts the reasons of failed runs, most frequent first.
	Failures []Failure
	// Sensitivity and Sparsify are the analyses of the kinds of those
	// names; nil otherwise.
	Sensitivity *Sensitivity
	Sparsify    *Sparsification
	// Err says why the study could not be read as an evaluation; the
	// other fields are then empty.
	Err string
}

// A GoalResult is one goal of an evaluation study over its seeds.
//
// Its JSON form is what goalsearch evaluate --json prints per goal; the
// fields marked "-" are for reports and the dashboard.
type GoalResult struct {
	// Index is the goal's place in EvalConfig.Goals (GoalIndex of its
	// trials).
	Index int      `json:"index"`
	Goal  EvalGoal `json:"goal"`
	// Counts split the goal's runs by state.
	Counts
	// Heuristic is true when the goal is its setup's heuristic goal.
	Heuristic bool `json:"-"`
	// Val and Test are the final validation and test accuracies of the
	// complete runs, in seed order; ValBySeed and TestBySeed the same by
	// seed, for paired comparisons.
	Val        Sample             `json:"val_acc"`
	Test       Sample             `json:"test_acc"`
	ValBySeed  map[uint64]float64 `json:"-"`
	TestBySeed map[uint64]float64 `json:"-"`
	// Curve is the mean learning curve over the complete runs.
	Curve Curve `json:"-"`
	// Atoms is the mean PID atom profile of the hidden neurons (goal
	// order, H_res last): per run the mean over neurons of the last
	// epoch's atoms, then the mean over complete runs. Nil when no run has
	// atoms (baselines without a goal).
	Atoms []float64 `json:"atoms,omitempty"`
}

// Eval summarises an evaluation study from its trials; a study that cannot
// be read as one has Err set and nothing else but its counts.
func Eval(study store.Study, trials []store.Trial) EvalSummary {
	e := EvalSummary{Study: study.Name, Created: study.CreatedAt, Labels: slices.Clone(study.Space.Labels),
		Counts: countTrials(trials), Failures: failures(trials), Synthetic: setups.IsSynthetic(study.Setup.Name)}
	cfg, err := ReadEvalConfig(study)
	if err != nil {
		e.Err = err.Error()
		return e
	}
	e.Kind, e.Group, e.Setup, e.Hidden, e.Epochs = cfg.Kind, cfg.Group, cfg.Setup, cfg.Hidden, cfg.Epochs
	e.Seeds, e.Note, e.Extra = slices.Clone(cfg.Seeds), cfg.Note, slices.Clone(cfg.Extra)
	seedIndex := func(s uint64) int {
		if i := slices.Index(cfg.Seeds, s); i >= 0 {
			return i
		}
		return len(cfg.Seeds)
	}
	byGoal := make([][]store.Trial, len(cfg.Goals))
	for _, t := range trials {
		if i := GoalIndex(t); i >= 0 && i < len(cfg.Goals) {
			byGoal[i] = append(byGoal[i], t)
		}
	}
	for i, g := range cfg.Goals {
		runs := byGoal[i]
		slices.SortStableFunc(runs, func(a, b store.Trial) int {
			return cmp.Or(cmp.Compare(seedIndex(a.Seed), seedIndex(b.Seed)), cmp.Compare(a.Seed, b.Seed), cmp.Compare(a.Number, b.Number))
		})
		g.Gamma = slices.Clone(g.Gamma)
		gr := GoalResult{Index: i, Goal: g, Heuristic: g.Gamma != nil && isHeuristic(cfg.Setup, g.Gamma), Counts: countTrials(runs),
			ValBySeed: map[uint64]float64{}, TestBySeed: map[uint64]float64{}}
		var vals, tests []float64
		var complete []store.Trial
		for _, t := range runs {
			if t.State != store.Complete {
				continue
			}
			complete = append(complete, t)
			if v, ok := t.Final["val_acc"]; ok {
				vals = append(vals, v)
				gr.ValBySeed[t.Seed] = v
			}
			if v, ok := t.Final["test_acc"]; ok {
				tests = append(tests, v)
				gr.TestBySeed[t.Seed] = v
			}
		}
		gr.Val, gr.Test = NewSample(vals), NewSample(tests)
		gr.Curve = meanCurve(g.Name, complete)
		gr.Atoms = meanAtoms(complete)
		e.Goals = append(e.Goals, gr)
	}
	switch e.Kind {
	case KindSensitivity:
		e.Sensitivity = sensitivity(e)
	case KindSparsify:
		e.Sparsify = sparsification(e)
	}
	return e
}

// meanCurve averages the runs' per-epoch metrics, epoch by epoch, over the
// runs that reached the epoch (non-finite values left out).
func meanCurve(name string, runs []store.Trial) Curve {
	c := Curve{Name: name}
	var epochs []int
	for _, t := range runs {
		for _, m := range t.Epochs {
			if !slices.Contains(epochs, m.Epoch) {
				epochs = append(epochs, m.Epoch)
			}
		}
	}
	slices.Sort(epochs)
	hasTest := false
	for _, ep := range epochs {
		var v, tr, te []float64
		for _, t := range runs {
			for _, m := range t.Epochs {
				if m.Epoch != ep {
					continue
				}
				v, tr = append(v, m.ValAcc), append(tr, m.TrainAcc)
				if m.TestAcc != nil {
					te = append(te, *m.TestAcc)
					hasTest = true
				}
			}
		}
		c.Epochs = append(c.Epochs, ep)
		c.Val = append(c.Val, NewSample(v).Mean)
		c.Train = append(c.Train, NewSample(tr).Mean)
		c.Test = append(c.Test, NewSample(te).Mean)
	}
	if !hasTest {
		c.Test = nil
	}
	return c
}

func meanAtoms(runs []store.Trial) []float64 {
	var sum []float64
	n := 0
	for _, t := range runs {
		m := neuronMean(t.Atoms)
		if m == nil || (sum != nil && len(m) != len(sum)) {
			continue
		}
		if sum == nil {
			sum = make([]float64, len(m))
		}
		for k, x := range m {
			sum[k] += x
		}
		n++
	}
	for k := range sum {
		sum[k] /= float64(n)
	}
	return sum
}

// neuronMean averages per-neuron atom rows; nil for none.
func neuronMean(atoms [][]float64) []float64 {
	if len(atoms) == 0 || len(atoms[0]) == 0 {
		return nil
	}
	m := make([]float64, len(atoms[0]))
	for _, row := range atoms {
		if len(row) != len(m) {
			return nil
		}
		for k, x := range row {
			m[k] += x
		}
	}
	for k := range m {
		m[k] /= float64(len(atoms))
	}
	return m
}
