package evo

import "errors"

// Errors returned by the constructors.
var (
	// ErrConfig is wrapped by every error that reports an invalid
	// configuration or box.
	ErrConfig = errors.New("evo: invalid config")
)

// Errors returned by Ask and Tell.
var (
	// ErrProtocol reports an Ask while a generation is outstanding, or a
	// Tell without one or with the wrong number of values.
	ErrProtocol = errors.New("evo: ask/tell out of turn")
	// ErrDone reports that the algorithm proposes no new point: it has run
	// maxIdleGenerations generations in a row without one (its population
	// has collapsed onto points already evaluated).
	ErrDone = errors.New("evo: search finished")
	// ErrDiverged reports that a replay did not re-visit every told point,
	// so the history was written by a build that generates other points.
	ErrDiverged = errors.New("evo: replay diverged from the history")
)

// Errors returned by Restore.
var (
	// ErrState is wrapped by every error that reports a State that cannot be
	// restored into the Optimizer: another version, algorithm,
	// configuration, box or seed, or an inconsistent history.
	ErrState = errors.New("evo: invalid state")
)
