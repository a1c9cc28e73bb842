package summary

import "fmt"

// SignAgreement says how consistently the best goals weight each atom.
type SignAgreement struct {
	// Trials are the trials compared (the leaderboard).
	Trials []int
	Rows   []SignRow
}

// A SignRow is one searched coordinate of the goal.
type SignRow struct {
	Atom                     string
	Positive, Negative, Zero int
	Mean                     float64
	// Agreement is the share of the compared trials whose weight has the
	// majority sign: 1 when all agree, 0.5 for an even split.
	Agreement float64
	// Majority is +1, -1 or 0 (a tie, or all zero).
	Majority int
}

func signAgreement(lb []Entry, labels []string, free []int) *SignAgreement {
	sa := &SignAgreement{}
	for _, e := range lb {
		sa.Trials = append(sa.Trials, e.Trial)
	}
	for _, i := range free {
		r := SignRow{Atom: labels[i]}
		for _, e := range lb {
			w := e.Gamma[i]
			switch {
			case w > 0:
				r.Positive++
			case w < 0:
				r.Negative++
			default:
				r.Zero++
			}
			r.Mean += w
		}
		n := float64(len(lb))
		r.Mean /= n
		switch {
		case r.Positive > r.Negative:
			r.Majority, r.Agreement = 1, float64(r.Positive)/n
		case r.Negative > r.Positive:
			r.Majority, r.Agreement = -1, float64(r.Negative)/n
		default:
			r.Agreement = float64(r.Positive) / n
		}
		sa.Rows = append(sa.Rows, r)
	}
	return sa
}

// StudyAgreement is the sign agreement of the best goals of several
// searched studies of one setup (each study's best complete trial).
type StudyAgreement struct {
	Setup   string
	Studies []string    // in report order; Signs.Trials holds their best trials
	Gammas  [][]float64 // each study's best goal
	Free    []int       // the searched coordinates: Signs.Rows[k] is Free[k]
	Signs   *SignAgreement
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
		var best []Entry
		for j := i; j < len(searches); j++ {
			t := searches[j]
			if t != nil && t.Best != nil && !t.Synthetic && key(t) == key(s) {
				a.Studies = append(a.Studies, t.Study)
				a.Gammas = append(a.Gammas, t.Best.Gamma)
				best = append(best, *t.Best)
			}
		}
		if len(best) < 2 {
			continue
		}
		a.Signs = signAgreement(best, s.Labels, s.Free)
		out = append(out, a)
	}
	return out
}
