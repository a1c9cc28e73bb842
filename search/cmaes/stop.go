package cmaes

import (
	"math"
	"slices"
)

// checkStop returns the first termination criterion of the tutorial's
// Appendix B.3 that the run meets after an update, or "". values are the
// generation's complete values in ascending order, possibly none.
func (o *Optimizer) checkStop(values []float64) StopReason {
	cfg := &o.cfg
	s := &o.s
	p := &o.p
	n := cfg.Dim

	maxD, minD := s.D[0], s.D[0]
	for _, d := range s.D {
		maxD = math.Max(maxD, d)
		minD = math.Min(minD, d)
	}
	if cfg.ConditionCov > 0 && (maxD/minD)*(maxD/minD) > cfg.ConditionCov {
		return StopConditionCov
	}

	if h := s.BestHistory; len(h) >= p.histLen {
		lo, hi := minMax(h[len(h)-p.histLen:])
		if cfg.TolFun > 0 && len(values) > 0 {
			l2, h2 := math.Min(lo, values[0]), math.Max(hi, values[len(values)-1])
			if h2-l2 < cfg.TolFun {
				return StopTolFun
			}
		}
		if cfg.TolHistFun >= 0 && hi-lo <= cfg.TolHistFun {
			return StopTolHistFun
		}
	}

	tolX := cfg.TolX
	if tolX == 0 {
		tolX = defaultTolXFactor * s.RunSigma0
	}
	if tolX > 0 {
		small := true
		for i := range n {
			if s.Sigma*math.Sqrt(s.C[i][i]) >= tolX || s.Sigma*math.Abs(s.PC[i]) >= tolX {
				small = false
				break
			}
		}
		if small {
			return StopTolX
		}
	}

	if cfg.TolXUp > 0 && s.Sigma*maxD > cfg.TolXUp*s.RunSigma0*o.maxScale0 {
		return StopTolXUp
	}

	if f := cfg.NoEffectAxis; f > 0 {
		k := s.RunGeneration % n
		same := true
		for i := range n {
			if s.Mean[i]+f*s.Sigma*s.D[k]*s.B[i][k] != s.Mean[i] {
				same = false
				break
			}
		}
		if same {
			return StopNoEffectAxis
		}
	}

	if f := cfg.NoEffectCoord; f > 0 {
		for i := range n {
			if s.Mean[i]+f*s.Sigma*math.Sqrt(s.C[i][i]) == s.Mean[i] {
				return StopNoEffectCoord
			}
		}
	}

	if !cfg.DisableStagnation && s.RunGeneration >= p.stagMin {
		w := int(math.Ceil(0.2 * float64(s.RunGeneration)))
		w = min(max(w, p.stagMin), maxHistory, len(s.BestHistory))
		k := int(math.Ceil(0.3 * float64(w)))
		if stagnated(s.BestHistory[len(s.BestHistory)-w:], k) &&
			stagnated(s.MedianHistory[len(s.MedianHistory)-w:], k) {
			return StopStagnation
		}
	}
	return ""
}

// stagnated reports whether the median of the last k entries of h is not
// better (smaller) than the median of the first k.
func stagnated(h []float64, k int) bool {
	first := slices.Clone(h[:k])
	last := slices.Clone(h[len(h)-k:])
	slices.Sort(first)
	slices.Sort(last)
	return median(last) >= median(first)
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = v[0], v[0]
	for _, x := range v {
		lo = math.Min(lo, x)
		hi = math.Max(hi, x)
	}
	return lo, hi
}

// maxPopulation bounds λ so that unlimited IPOP restarts cannot overflow.
const maxPopulation = 1 << 24

// restart ends the current run for reason and starts the next one, or marks
// the search done.
func (o *Optimizer) restart(reason StopReason) {
	cfg := &o.cfg
	s := &o.s
	s.StopReason = reason
	if cfg.Restart == NoRestart || (cfg.MaxRestarts >= 0 && s.Restarts >= cfg.MaxRestarts) {
		s.Done = true
		return
	}
	lambdaDef := cfg.Population
	regime := RegimeLarge
	lambda, sigma0, maxEvals := 0, o.sigmaDef, 0
	// BIPOP chooses the regime that has used fewer evaluations; the first
	// run counts as large, so the first restart is a small one.
	if cfg.Restart == BIPOP && s.BudgetSmall < s.BudgetLarge {
		regime = RegimeSmall
		u1, u2 := o.rng.Float64(), o.rng.Float64()
		// Hansen (2009): λ_s = ⌊λ_def (½λ_l/λ_def)^{U²}⌋, σ₀ = σ_def·10^{−2U},
		// with λ_l the population of the next large run, so λ_s lies in
		// [λ_def, λ_l/2] and leans towards λ_def. A small run may use at
		// most half the large regime's budget, so the two regimes'
		// budgets stay comparable.
		lambda = int(math.Floor(float64(lambdaDef) * math.Pow(2, float64(s.LargeRestarts)*u1*u1)))
		sigma0 = o.sigmaDef * math.Pow(10, -2*u2)
		maxEvals = max(s.BudgetLarge/2, lambda)
	} else {
		if s.LargeRestarts+1 >= 62 || lambdaDef<<(s.LargeRestarts+1) > maxPopulation {
			s.Done = true
			return
		}
		s.LargeRestarts++
		lambda = lambdaDef << s.LargeRestarts
	}
	if lambda > maxPopulation {
		s.Done = true
		return
	}
	s.Restarts++
	mean := make([]float64, cfg.Dim)
	if cfg.RestartFromMean {
		copy(mean, cfg.Mean)
	} else {
		for i := range mean {
			mean[i] = s.Lower[i] + (s.Upper[i]-s.Lower[i])*o.rng.Float64()
		}
	}
	o.startRun(regime, lambda, sigma0, mean, maxEvals)
}
