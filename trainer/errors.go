package trainer

import "errors"

// Errors returned by Layer.Learn.
var (
	// ErrNonFinite: a source value, or with adaptive binning the largest
	// |value| of a source, is NaN or infinite. The weights have diverged.
	ErrNonFinite = errors.New("trainer: source value is NaN or infinite")
)
