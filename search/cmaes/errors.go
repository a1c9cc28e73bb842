package cmaes

import (
	"errors"
	"fmt"

	"goalsearch/search/asktell"
)

// Errors returned by New and Restore.
var (
	// ErrConfig is wrapped by every error that reports an invalid Config.
	ErrConfig = errors.New("cmaes: invalid config")
	// ErrState is wrapped by every error that reports a State that cannot be
	// restored under the Optimizer's Config.
	ErrState = fmt.Errorf("cmaes: %w", asktell.ErrState)
	// ErrVersion reports a State written by an incompatible version of this
	// package; it wraps ErrState.
	ErrVersion = fmt.Errorf("%w: unsupported version", ErrState)
)

// Errors returned by Ask and Tell; each wraps the asktell error of the same
// name.
var (
	// ErrPending reports that every point of the generation has been asked;
	// more become available once all of them are told.
	ErrPending = fmt.Errorf("cmaes: %w", asktell.ErrPending)
	// ErrDone reports that the last run has ended and no restart is left.
	ErrDone = fmt.Errorf("cmaes: %w", asktell.ErrDone)
	// ErrProtocol reports an Ask with n < 1 or a Tell of a point that is not
	// pending (never asked, told before, or of an earlier generation).
	ErrProtocol = fmt.Errorf("cmaes: %w", asktell.ErrProtocol)
)
