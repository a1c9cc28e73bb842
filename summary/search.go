package summary

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"goalsearch/setups"
	"goalsearch/store"
)

// Summaries of searched studies: counts, the best trials, the
// optimisation history and learning curves, from the stored trials alone.

// Counts splits a study's trials (or a goal's runs) by state. In JSON
// (goalsearch evaluate --json) Total is "runs" and Unfinished "pending".
type Counts struct {
	Total    int `json:"runs"`
	Complete int `json:"complete"`
	Failed   int `json:"failed"`
	Pruned   int `json:"pruned,omitempty"`
	// Unfinished counts queued, running and paused trials.
	Unfinished int `json:"pending"`
}

// SearchSummary is what the trials of a searched study amount to.
type SearchSummary struct {
	Study   string
	Setup   string
	Sampler string
	Pruner  string // empty: none
	Seed    uint64
	Created time.Time
	// Hidden and Epochs are the trainer setup's; 0 when the setup is not a
	// trainer's (Epochs is set for synthetic setups too).
	Hidden, Epochs int
	// Synthetic is true for a synthetic test function: values are not
	// accuracies.
	Synthetic bool
	// Metric and Maximize are the objective.
	Metric   string
	Maximize bool
	// Labels name the goal's coordinates; Fixed lists the fixed ones with
	// their values, as "label = value".
	Labels []string
	Fixed  []string
	// Free are the indices of the coordinates that were searched.
	Free []int
	// Params describe the hyperparameters searched beside the goal, as
	// "key (type, range)"; nil for a goal-only search.
	Params []string

	Counts   Counts
	WallTime time.Duration // summed over trials

	// Best is the best complete trial; nil if none completed.
	Best *Entry
	// History has one point per finished trial, in trial order.
	History []HistoryPoint
	// Leaderboard holds the best complete trials, best first.
	Leaderboard []Entry
	// Curves are the per-epoch metrics of the leaderboard's first trials.
	Curves []Curve
	// Failures counts the reasons of failed trials, most frequent first.
	Failures []Failure
	// Signs is the sign agreement of the weights across the leaderboard;
	// nil with fewer than three complete trials.
	Signs *Agreement
	// Profile compares the hidden neurons' mean atoms of the best goal
	// and the heuristic goal; nil for setups without atoms.
	Profile *AtomProfile
	// Importance is how much of the values' variation each searched
	// weight and hyperparameter explains on its own; nil with fewer than
	// MinImportanceTrials complete trials.
	Importance *Importance
	// Pareto is the front of a study with a complexity objective, picked
	// with DefaultFrontTolerance (callers with another tolerance call
	// Front); nil for a single objective.
	Pareto *ParetoFront
}

// An Entry is one complete trial on the leaderboard.
type Entry struct {
	Rank  int // 1 for the best
	Trial int
	Value float64
	Gamma []float64
	// Params are the trial's hyperparameters as "key=value", in the
	// search space's order; nil for a goal-only search.
	Params   []string
	Epochs   int
	WallTime time.Duration
	// Eval is the re-training of this goal on fresh seeds, if any
	// evaluation study holds one.
	Eval *EvalRef
}

// EvalRef points at the evaluation of a goal: in which study, and its
// result.
type EvalRef struct {
	Study string
	Val   Sample
	Test  Sample
}

// A HistoryPoint is one finished trial of a search.
type HistoryPoint struct {
	Trial int
	State store.TrialState
	// Value is the trial's value (NaN for a failed trial or a pruned one
	// without a value); BestSoFar the best complete value up to and
	// including this trial, NaN before the first.
	Value, BestSoFar float64
}

// A Curve is a goal's learning curve: metrics by epoch. For an evaluated
// goal the values are means over seeds.
type Curve struct {
	Name   string
	Epochs []int
	Val    []float64
	Train  []float64 // training accuracy (label given as context)
	Test   []float64 // nil when the test set was not evaluated
}

// A Failure is one reason trials failed, and how many did.
type Failure struct {
	Reason string
	Count  int
}

// better reports whether a is better than b for the direction; NaN is
// never better.
func better(a, b float64, maximize bool) bool {
	if math.IsNaN(a) {
		return false
	}
	if math.IsNaN(b) {
		return true
	}
	if maximize {
		return a > b
	}
	return a < b
}

func countTrials(trials []store.Trial) Counts {
	var c Counts
	for _, t := range trials {
		c.Total++
		switch t.State {
		case store.Complete:
			c.Complete++
		case store.Pruned:
			c.Pruned++
		case store.Failed:
			c.Failed++
		default:
			c.Unfinished++
		}
	}
	return c
}

func failures(trials []store.Trial) []Failure {
	m := map[string]int{}
	for _, t := range trials {
		if t.State == store.Failed {
			m[t.Reason]++
		}
	}
	var f []Failure
	for r, n := range m {
		f = append(f, Failure{Reason: r, Count: n})
	}
	slices.SortFunc(f, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})
	return f
}

// Search summarises a searched study from its trials, with the leaderboard
// best complete trials and the learning curves of the first curves of them.
func Search(study store.Study, trials []store.Trial, leaderboard, curves int) *SearchSummary {
	s := &SearchSummary{
		Study: study.Name, Setup: study.Setup.Name, Sampler: study.Sampler.Name, Pruner: study.Pruner.Name,
		Seed: study.Seed, Created: study.CreatedAt, Synthetic: setups.IsSynthetic(study.Setup.Name),
		Metric: study.Objective.Metric, Maximize: study.Objective.Direction != store.Minimize,
		Labels: slices.Clone(study.Space.Labels), Counts: countTrials(trials), Failures: failures(trials),
	}
	if s.Synthetic {
		var cfg setups.SyntheticConfig
		if json.Unmarshal(study.Setup.Config, &cfg) == nil {
			s.Epochs = max(cfg.Epochs, 1)
		}
	} else {
		var cfg setups.NetworkConfig
		if json.Unmarshal(study.Setup.Config, &cfg) == nil {
			s.Hidden, s.Epochs = cfg.Hidden, cfg.Epochs
		}
	}
	for i, l := range s.Labels {
		if v, ok := study.Space.FixedAt(i); ok {
			s.Fixed = append(s.Fixed, l+" = "+strconv.FormatFloat(v, 'g', -1, 64))
		} else {
			s.Free = append(s.Free, i)
		}
	}

	for _, p := range study.Space.Params {
		r := fmt.Sprintf("[%s, %s]", strconv.FormatFloat(p.Lower, 'g', -1, 64), strconv.FormatFloat(p.Upper, 'g', -1, 64))
		if p.Type == store.Categorical {
			var cs []string
			for i := range p.Choices {
				cs = append(cs, store.ParamText(p, float64(i)))
			}
			r = "{" + strings.Join(cs, ", ") + "}"
		}
		s.Params = append(s.Params, fmt.Sprintf("%s (%s, %s)", p.Key, p.Type, r))
	}

	best := math.NaN()
	for _, t := range trials {
		s.WallTime += t.WallTime
		if !t.State.Finished() {
			continue
		}
		v := math.NaN()
		if t.Value != nil && t.State != store.Failed {
			v = *t.Value
		}
		if t.State == store.Complete && better(v, best, s.Maximize) {
			best = v
		}
		s.History = append(s.History, HistoryPoint{Trial: t.Number, State: t.State, Value: v, BestSoFar: best})
	}
	complete := Ranked(trials, s.Maximize)
	for i, t := range complete[:min(len(complete), leaderboard)] {
		s.Leaderboard = append(s.Leaderboard, Entry{
			Rank: i + 1, Trial: t.Number, Value: *t.Value, Gamma: slices.Clone(t.Gamma), Epochs: t.LastEpoch(), WallTime: t.WallTime,
			Params: paramTexts(study.Space.Params, t.Params),
		})
		if i < curves {
			s.Curves = append(s.Curves, trialCurve(t))
		}
	}
	if len(s.Leaderboard) > 0 {
		b := s.Leaderboard[0]
		s.Best = &b
	}
	if len(s.Leaderboard) >= 3 {
		var numbers []int
		var gammas [][]float64
		for _, e := range s.Leaderboard {
			numbers, gammas = append(numbers, e.Trial), append(gammas, e.Gamma)
		}
		signs := Signs(s.Labels, s.Free, numbers, gammas)
		s.Signs = &signs
	}
	if imp := StudyImportance(study, trials); len(imp.Rows) > 0 {
		s.Importance = &imp
	}
	s.Pareto = Front(study, trials, DefaultFrontTolerance)
	return s
}

// Ranked returns the complete trials, best first by value (the larger if
// maximize), ties in trial order: the order of a study's leaderboard, of
// the goals goalsearch evaluate re-trains and of the one it analyses.
func Ranked(trials []store.Trial, maximize bool) []store.Trial {
	var c []store.Trial
	for _, t := range trials {
		if t.State == store.Complete && t.Value != nil {
			c = append(c, t)
		}
	}
	slices.SortStableFunc(c, func(a, b store.Trial) int {
		switch {
		case better(*a.Value, *b.Value, maximize):
			return -1
		case better(*b.Value, *a.Value, maximize):
			return 1
		}
		return cmp.Compare(a.Number, b.Number)
	})
	return c
}

func trialCurve(t store.Trial) Curve {
	c := Curve{Name: "trial " + strconv.Itoa(t.Number)}
	hasTest := false
	for _, m := range t.Epochs {
		c.Epochs = append(c.Epochs, m.Epoch)
		c.Val = append(c.Val, m.ValAcc)
		c.Train = append(c.Train, m.TrainAcc)
		test := math.NaN()
		if m.TestAcc != nil {
			test, hasTest = *m.TestAcc, true
		}
		c.Test = append(c.Test, test)
	}
	if !hasTest {
		c.Test = nil
	}
	return c
}

// paramTexts writes a trial's hyperparameters as "key=value".
func paramTexts(ps []store.Param, vals []float64) []string {
	var out []string
	for i, p := range ps {
		if i < len(vals) {
			out = append(out, p.Key+"="+store.ParamText(p, vals[i]))
		}
	}
	return out
}
