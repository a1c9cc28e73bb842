package cmaes

import (
	"errors"
	"fmt"
)

// Errors returned by New and Restore.
var (
	// ErrConfig is wrapped by every error that reports an invalid Config.
	ErrConfig = errors.New("cmaes: invalid config")
	// ErrState is wrapped by every error that reports a State that cannot be
	// restored under the Optimizer's Config.
	ErrState = errors.New("cmaes: invalid state")
	// ErrVersion reports a State written by an incompatible version of this
	// package; it wraps ErrState.
	ErrVersion = fmt.Errorf("%w: unsupported version", ErrState)
)

// Errors returned by Ask.
var (
	// ErrGenerationFull reports that every point of the current generation has
	// been asked; more points become available once all of them are told.
	ErrGenerationFull = errors.New("cmaes: every point of the generation has been asked")
	// ErrDone reports that the last run has ended and no restart is left.
	ErrDone = errors.New("cmaes: search finished")
)

// Errors returned by Tell and Fail.
var (
	// ErrUnknownCandidate reports an ID that is not an asked point of the
	// current generation (for example one from before a restart).
	ErrUnknownCandidate = errors.New("cmaes: unknown candidate")
	// ErrAlreadyTold reports a second Tell or Fail for the same ID.
	ErrAlreadyTold = errors.New("cmaes: candidate already told")
)
