package summary

import (
	"cmp"
	"fmt"
	"slices"

	"goalsearch/store"
)

// AtomProfile is the mean PID atom profile of the hidden neurons (mean over
// neurons of each neuron's mean atoms in the last epoch, then over runs).
type AtomProfile struct {
	Labels []string
	// Best is the best goal's profile and BestFrom where it comes from;
	// Heuristic and HeuristicFrom the same for the setup's heuristic
	// goal, nil if no run of it is in the store.
	Best, Heuristic         []float64
	BestFrom, HeuristicFrom string
}

// LinkEvals attaches to each leaderboard entry the evaluation of its goal:
// from an evaluate study of the same setup, preferring the search's hidden
// size and epochs, then by study name.
func LinkEvals(s *SearchSummary, evals []EvalSummary) {
	var cands []*EvalSummary
	for i := range evals {
		if e := &evals[i]; e.Kind == KindEvaluate && e.Setup == s.Setup && e.Err == "" {
			cands = append(cands, e)
		}
	}
	slices.SortStableFunc(cands, func(a, b *EvalSummary) int {
		sa := a.Hidden == s.Hidden && a.Epochs == s.Epochs
		sb := b.Hidden == s.Hidden && b.Epochs == s.Epochs
		switch {
		case sa && !sb:
			return -1
		case sb && !sa:
			return 1
		}
		return 0 // evals are in name order already
	})
	for i := range s.Leaderboard {
		en := &s.Leaderboard[i]
	find:
		for _, e := range cands {
			for _, g := range e.Goals {
				if g.Goal.Trial == en.Trial && slices.Equal(g.Goal.Gamma, en.Gamma) && g.Counts.Complete > 0 {
					en.Eval = &EvalRef{Study: e.Study, Val: g.Val, Test: g.Test}
					break find
				}
			}
		}
	}
	if s.Best != nil && len(s.Leaderboard) > 0 {
		s.Best.Eval = s.Leaderboard[0].Eval
	}
}

// Profile finds the mean atom profiles of the best goal and of the
// heuristic goal: from evaluations on fresh seeds where there are some,
// else from the search's own runs.
func Profile(s *SearchSummary, trials []store.Trial, own []EvalSummary, all []*EvalSummary) *AtomProfile {
	if s.Synthetic || s.Best == nil {
		return nil
	}
	p := &AtomProfile{Labels: s.Labels}
	// The best goal: its evaluation, else its search run.
	for _, e := range own {
		if p.Best != nil || e.Kind != KindEvaluate || e.Setup != s.Setup {
			continue
		}
		for _, g := range e.Goals {
			if g.Goal.Trial == s.Best.Trial && g.Atoms != nil && len(g.Atoms) == len(s.Labels) {
				p.Best, p.BestFrom = g.Atoms, fmt.Sprintf("trial %d, mean over %d runs of %s", s.Best.Trial, g.Counts.Complete, e.Study)
				break
			}
		}
	}
	if p.Best == nil {
		for _, t := range trials {
			if t.Number == s.Best.Trial {
				if m := neuronMean(t.Atoms); len(m) == len(s.Labels) {
					p.Best, p.BestFrom = m, fmt.Sprintf("trial %d, its search run", t.Number)
				}
			}
		}
	}
	if p.Best == nil {
		return nil
	}
	// The heuristic goal: an evaluation of the same setup (same hidden
	// size first), else a search trial that ran it (an enqueued preset).
	var cands []*EvalSummary
	for _, e := range all {
		if e.Setup == s.Setup && e.Err == "" {
			cands = append(cands, e)
		}
	}
	slices.SortStableFunc(cands, func(a, b *EvalSummary) int {
		return cmp.Compare(abs(a.Hidden-s.Hidden), abs(b.Hidden-s.Hidden))
	})
	for _, e := range cands {
		if p.Heuristic != nil {
			break
		}
		for _, g := range e.Goals {
			if g.Heuristic && g.Atoms != nil && len(g.Atoms) == len(s.Labels) {
				p.Heuristic, p.HeuristicFrom = g.Atoms, fmt.Sprintf("%s, mean over %d runs of %s", g.Goal.Name, g.Counts.Complete, e.Study)
				break
			}
		}
	}
	if p.Heuristic == nil {
		for _, t := range trials {
			if t.State == store.Complete && isHeuristic(s.Setup, t.Gamma) {
				if m := neuronMean(t.Atoms); len(m) == len(s.Labels) {
					p.Heuristic, p.HeuristicFrom = m, fmt.Sprintf("trial %d of the search (the heuristic goal, enqueued)", t.Number)
					break
				}
			}
		}
	}
	return p
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
