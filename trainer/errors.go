package trainer

import "errors"

// Errors returned by training.
var (
	// ErrNonFinite: a source value, a loss, a parameter or an output
	// probability is NaN or infinite: the run has diverged.
	ErrNonFinite = errors.New("trainer: diverged (a value is NaN or infinite)")
)
