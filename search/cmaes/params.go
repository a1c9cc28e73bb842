package cmaes

import "math"

// params are the strategy parameters of the tutorial's Table 1. They depend
// only on n and λ, so they are recomputed rather than stored in State.
type params struct {
	lambda, mu int
	// weights are w_1..w_λ: the first μ positive and summing to one, the rest
	// non-positive (active CMA).
	weights []float64
	sumW    float64 // Σ_{j=1}^{λ} w_j, which enters the decay factor of C
	mueff   float64
	cs      float64 // c_σ
	damps   float64 // d_σ
	cc      float64 // c_c
	c1      float64
	cmu     float64 // c_μ
	chiN    float64 // E‖N(0, I)‖
	// eigenGap is the number of evaluations between eigendecompositions, so
	// that their O(n³) cost amortises to O(n²) per sample (tutorial B.2).
	eigenGap float64
	// histLen is 10+⌈30n/λ⌉, the window of the TolFun and EqualFunValues
	// criteria.
	histLen int
	// stagMin is 120+30n/λ, the shortest window of the stagnation criterion.
	stagMin int
}

func newParams(n, lambda int) params {
	nf := float64(n)
	mu := lambda / 2
	wp := make([]float64, lambda)
	for i := range wp {
		wp[i] = math.Log(float64(lambda+1)/2) - math.Log(float64(i+1))
	}
	var sumPos, sumPos2, sumNeg, sumNeg2 float64
	for i, w := range wp {
		if i < mu {
			sumPos += w
			sumPos2 += w * w
		} else {
			sumNeg += w
			sumNeg2 += w * w
		}
	}
	mueff := sumPos * sumPos / sumPos2
	mueffNeg := 0.0
	if sumNeg2 > 0 {
		mueffNeg = sumNeg * sumNeg / sumNeg2
	}

	const alphaCov = 2
	c1 := alphaCov / ((nf+1.3)*(nf+1.3) + mueff)
	cmu := math.Min(1-c1, alphaCov*(0.25+mueff+1/mueff-2)/((nf+2)*(nf+2)+alphaCov*mueff/2))
	cs := (mueff + 2) / (nf + mueff + 5)
	damps := 1 + 2*math.Max(0, math.Sqrt((mueff-1)/(nf+1))-1) + cs
	cc := (4 + mueff/nf) / (nf + 4 + 2*mueff/nf)

	// The negative weights are scaled so that they neither dominate the
	// positive update (α_μ⁻, α_μeff⁻) nor can make C indefinite (α_posdef⁻).
	alphaMuNeg := 1 + c1/cmu
	alphaMueffNeg := 1 + 2*mueffNeg/(mueff+2)
	alphaPosdefNeg := (1 - c1 - cmu) / (nf * cmu)
	negScale := math.Min(alphaMuNeg, math.Min(alphaMueffNeg, alphaPosdefNeg))

	w := make([]float64, lambda)
	var sumW float64
	for i, v := range wp {
		if v >= 0 {
			w[i] = v / sumPos
		} else {
			w[i] = negScale * v / -sumNeg
		}
		sumW += w[i]
	}

	return params{
		lambda:   lambda,
		mu:       mu,
		weights:  w,
		sumW:     sumW,
		mueff:    mueff,
		cs:       cs,
		damps:    damps,
		cc:       cc,
		c1:       c1,
		cmu:      cmu,
		chiN:     math.Sqrt(nf) * (1 - 1/(4*nf) + 1/(21*nf*nf)),
		eigenGap: float64(lambda) / (c1 + cmu) / nf / 10,
		histLen:  10 + int(math.Ceil(30*nf/float64(lambda))),
		stagMin:  120 + int(math.Ceil(30*nf/float64(lambda))),
	}
}
