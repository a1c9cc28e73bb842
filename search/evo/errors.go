package evo

import (
	"errors"
	"fmt"

	"goalsearch/search/asktell"
)

// Errors returned by the constructors.
var (
	// ErrConfig is wrapped by every error that reports an invalid
	// configuration or box.
	ErrConfig = errors.New("evo: invalid config")
)

// Errors returned by Ask and Tell; ErrPending, ErrDone and ErrProtocol wrap
// the asktell errors of the same names.
var (
	// ErrPending reports an Ask while points of the last generation are
	// pending.
	ErrPending = fmt.Errorf("evo: %w", asktell.ErrPending)
	// ErrProtocol reports an Ask with n < 1 or a Tell of a point that is not
	// pending.
	ErrProtocol = fmt.Errorf("evo: %w", asktell.ErrProtocol)
	// ErrDone reports that the algorithm proposes no new point: it has run
	// maxIdleGenerations generations in a row without one (its population
	// has collapsed onto points already evaluated).
	ErrDone = fmt.Errorf("evo: %w", asktell.ErrDone)
	// ErrDiverged reports that a replay did not re-visit every told point,
	// so the history was written by a build that generates other points.
	ErrDiverged = errors.New("evo: replay diverged from the history")
)

// Errors returned by Restore.
var (
	// ErrState is wrapped by every error that reports a State that cannot be
	// restored into the Optimizer: another version, algorithm,
	// configuration, box or seed, or an inconsistent history. It wraps
	// asktell.ErrState.
	ErrState = fmt.Errorf("evo: %w", asktell.ErrState)
)
