package evo

import (
	"fmt"
	"math"
)

// Bounds selects how a coordinate that an operator moved outside the box is
// brought back.
type Bounds string

const (
	// Reflect mirrors the coordinate at the bound it crossed, repeatedly if
	// the step was longer than the box is wide. It is the default: unlike
	// clipping it keeps the step's length, and it does not pile points onto
	// the faces of the box, where every clipped point of a face has the same
	// coordinate and so adds nothing to the search in that coordinate.
	Reflect Bounds = "reflect"
	// Clip sets the coordinate to the bound it crossed.
	Clip Bounds = "clip"
)

// resolve returns b with the default filled in, or an error.
func (b Bounds) resolve() (Bounds, error) {
	switch b {
	case "":
		return Reflect, nil
	case Reflect, Clip:
		return b, nil
	}
	return "", fmt.Errorf("%w: unknown Bounds %q (want %q or %q)", ErrConfig, string(b), Reflect, Clip)
}

// apply returns x brought into [lo, hi] and whether it was outside.
// A non-finite x, which no operator produces from finite points, goes to the
// centre rather than poisoning the population.
func (b Bounds) apply(x, lo, hi float64) (float64, bool) {
	if lo <= x && x <= hi {
		return x, false
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return lo + (hi-lo)/2, true
	}
	if b == Clip {
		return math.Min(math.Max(x, lo), hi), true
	}
	w := hi - lo
	y := math.Mod(x-lo, 2*w) // in (-2w, 2w)
	if y < 0 {
		y += 2 * w
	}
	if y > w {
		y = 2*w - y
	}
	// Rounding in Mod can leave y a hair outside [0, w].
	return math.Min(math.Max(lo+y, lo), hi), true
}
