// Package floatbits compares float64 slices bit for bit: what "the same
// value" means where results must reproduce exactly (a restored sampler's
// bounds, a resumed run's proposals, a goal an estimator has seen).
package floatbits

import "math"

// Equal reports whether a and b have the same length and bit-identical
// elements: -0 differs from 0, and a NaN equals a NaN with the same bits.
func Equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}
