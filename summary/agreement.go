package summary

import (
	"fmt"
	"slices"

	"goalsearch/store"
)

// Agreement says how consistently a set of goals weight each atom: the
// best trials of a search (goalsearch analyze's agreement, the report's
// sign agreement), or the best goals of several searches.
type Agreement struct {
	// Top is the number of goals compared; Trials are their trials, best
	// first.
	Top    int   `json:"top"`
	Trials []int `json:"-"`
	// Atoms has a row per coordinate of the goal, in goal order.
	Atoms []AtomAgreement `json:"atoms"`
	// Kept lists the atoms whose sign every goal shares with the first.
	Kept []string `json:"kept"`
}

// AtomAgreement counts the signs of one weight over the goals compared.
type AtomAgreement struct {
	Atom     string  `json:"atom"`
	Best     float64 `json:"best"` // the first goal's weight
	Mean     float64 `json:"mean"`
	Positive int     `json:"positive"`
	Negative int     `json:"negative"`
	Zero     int     `json:"zero"`
	// Share is the fraction of the goals whose weight has the first goal's
	// sign; Kept says all of them do (and the sign is not 0).
	Share float64 `json:"share"`
	Kept  bool    `json:"kept"`
	// Fixed atoms were not searched; they are never kept.
	Fixed bool `json:"fixed,omitempty"`
	// Majority is +1, -1 or 0 (a tie, or all zero), and MajorityShare the
	// fraction of the goals whose weight has the majority sign: 1 when all
	// agree, 0.5 for an even split (the share of positive weights on a
	// tie).
	Majority      int     `json:"-"`
	MajorityShare float64 `json:"-"`
}

// Signs is the agreement of goals (their trials and weights, the best
// first) on each of labels, of which the coordinates free were searched.
func Signs(labels []string, free []int, trials []int, gammas [][]float64) Agreement {
	a := Agreement{Top: len(gammas), Trials: slices.Clone(trials)}
	if len(gammas) == 0 {
		return a
	}
	n := float64(len(gammas))
	for i, l := range labels {
		aa := AtomAgreement{Atom: l, Best: gammas[0][i], Fixed: !slices.Contains(free, i)}
		same := 0
		for _, g := range gammas {
			v := g[i]
			switch {
			case v > 0:
				aa.Positive++
			case v < 0:
				aa.Negative++
			default:
				aa.Zero++
			}
			aa.Mean += v
			if sign(v) == sign(aa.Best) {
				same++
			}
		}
		aa.Mean /= n
		aa.Share = float64(same) / n
		aa.Kept = !aa.Fixed && same == len(gammas) && sign(aa.Best) != 0
		if aa.Kept {
			a.Kept = append(a.Kept, l)
		}
		switch {
		case aa.Positive > aa.Negative:
			aa.Majority, aa.MajorityShare = 1, float64(aa.Positive)/n
		case aa.Negative > aa.Positive:
			aa.Majority, aa.MajorityShare = -1, float64(aa.Negative)/n
		default:
			aa.MajorityShare = float64(aa.Positive) / n
		}
		a.Atoms = append(a.Atoms, aa)
	}
	return a
}

// AgreementOf is the agreement of the top complete trials of a searched
// study, best first (Ranked).
func AgreementOf(study store.Study, trials []store.Trial, top int) Agreement {
	best := Ranked(trials, study.Objective.Direction != store.Minimize)
	best = best[:min(len(best), top)]
	var numbers []int
	var gammas [][]float64
	for _, t := range best {
		numbers, gammas = append(numbers, t.Number), append(gammas, t.Gamma)
	}
	return Signs(study.Space.Labels, freeCoordinates(study.Space), numbers, gammas)
}

// freeCoordinates are the indices of the searched (not fixed) coordinates.
func freeCoordinates(sp store.SearchSpace) []int {
	var free []int
	for i := range sp.Labels {
		if _, fixed := sp.FixedAt(i); !fixed {
			free = append(free, i)
		}
	}
	return free
}

func sign(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// StudyAgreement is the sign agreement of the best goals of several
// searched studies of one setup (each study's best complete trial).
type StudyAgreement struct {
	Setup   string
	Studies []string    // in the order given; Signs.Trials holds their best trials
	Gammas  [][]float64 // each study's best goal
	Free    []int       // the searched coordinates
	Signs   *Agreement
}

// AgreementAcross compares the best goals of searched studies (nil entries
// are skipped), per setup and search space (same labels and searched
// coordinates): an atom that independent searches weight with the same sign
// is a finding, a sign that flips between them is not.
func AgreementAcross(searches []*SearchSummary) []StudyAgreement {
	var out []StudyAgreement
	key := func(s *SearchSummary) string {
		return fmt.Sprint(s.Setup, s.Labels, s.Free)
	}
	done := map[string]bool{}
	for i := range searches {
		s := searches[i]
		if s == nil || s.Best == nil || s.Synthetic || done[key(s)] {
			continue
		}
		done[key(s)] = true
		a := StudyAgreement{Setup: s.Setup, Free: s.Free}
		var trials []int
		for j := i; j < len(searches); j++ {
			t := searches[j]
			if t != nil && t.Best != nil && !t.Synthetic && key(t) == key(s) {
				a.Studies = append(a.Studies, t.Study)
				a.Gammas = append(a.Gammas, t.Best.Gamma)
				trials = append(trials, t.Best.Trial)
			}
		}
		if len(trials) < 2 {
			continue
		}
		signs := Signs(s.Labels, s.Free, trials, a.Gammas)
		a.Signs = &signs
		out = append(out, a)
	}
	return out
}
