package trainer

// HardGraetz is the random-projection baseline's hidden activation, the
// reference's GraetzActivationHeaviside: the neuron fires deterministically,
//
//	theta = 1 if u > 0, else 0,    u = r * (K1 + (1 - K1) * 2 * sigmoid(K2 * r * c))
//
// where u is the Graetz activation's argument (r = s_1, c = s_2). For
// K1 in [0, 1] the factor after r is positive, so the neuron fires iff
// r > 0: the context cannot change the output.
//
// In the reference the output of such a unit is 1 or 0 (not ±1): its
// surrogate-gradient units return the Heaviside value itself rather than a
// sample mapped to {-1, +1}. The random-projection network feeds those 0/1
// values to the output layer, and so does this package.
//
// The gradient Apply reports is the reference's surrogate, sigmoid'(u)
// du/ds_k; the random projection never uses it, since its hidden weights
// stay at their initialisation.
type HardGraetz struct {
	K1, K2 float64
}

// Sources returns 2.
func (HardGraetz) Sources() int { return 2 }

// Apply implements Activation.
func (a HardGraetz) Apply(theta []float64, grad [][]float64, s [][]float64) {
	checkApply(a.Sources(), theta, grad, s)
	r, c := s[0][:len(theta)], s[1][:len(theta)]
	h := (1 - a.K1) * 2
	for j := range theta {
		g := sigmoid(a.K2 * r[j] * c[j])
		m := a.K1 + h*g
		u := r[j] * m
		switch {
		case u > 0:
			theta[j] = 1
		case u != u:
			theta[j] = u // NaN stays NaN, for the caller to report
		default:
			theta[j] = 0
		}
		if grad != nil {
			su := sigmoid(u)
			dt := su * (1 - su)
			dg := g * (1 - g) * a.K2
			grad[0][j] = dt * (m + r[j]*h*dg*c[j])
			grad[1][j] = dt * (r[j] * h * dg * r[j])
		}
	}
}
