package store

import "errors"

// Every error a Store returns wraps one of these values, so callers test
// with errors.Is; the wrapping message names the study, trial or file.

// Opening a store.
var (
	// ErrLocked means another process holds the store open for writing.
	ErrLocked = errors.New("store: locked by another process")
	// ErrNewerSchema means the store was written by a newer goalsearch.
	ErrNewerSchema = errors.New("store: written by a newer goalsearch")
	// ErrNotStore means the file exists but is not a goalsearch store.
	ErrNotStore = errors.New("store: not a goalsearch store")
	// ErrClosed means the store was used after Close.
	ErrClosed = errors.New("store: closed")
	// ErrReadOnly means a change was asked of a store opened read-only.
	ErrReadOnly = errors.New("store: opened read-only")
)

// Studies.
var (
	// ErrStudyNotFound means no study has the given name.
	ErrStudyNotFound = errors.New("store: study not found")
	// ErrStudyExists means a study of that name exists with a different definition (CreateStudy) or at all (Import without Replace).
	ErrStudyExists = errors.New("store: study already exists")
	// ErrStudyChanged means AmendStudy found the study changed since the caller read it (its sampler config or its number of trials).
	ErrStudyChanged = errors.New("store: study changed since it was read")
	// ErrInvalidStudy means a study definition breaks a rule of Study.Validate.
	ErrInvalidStudy = errors.New("store: invalid study")
)

// Trials.
var (
	// ErrTrialNotFound means the study has no trial with the given number.
	ErrTrialNotFound = errors.New("store: trial not found")
	// ErrInvalidTrial means a new trial's gamma, seed, generation or budget is unusable.
	ErrInvalidTrial = errors.New("store: invalid trial")
	// ErrTrialFinished means a change was asked of a complete, pruned or failed trial, which never change.
	ErrTrialFinished = errors.New("store: trial is finished")
	// ErrWrongState means the trial is not in the state the operation needs (e.g. starting a running trial).
	ErrWrongState = errors.New("store: trial is in the wrong state")
	// ErrStaleClaim means the claim's attempt is not the trial's current one: the trial was requeued since.
	ErrStaleClaim = errors.New("store: stale claim")
	// ErrNoQueuedTrial means ClaimTrial found no queued trial.
	ErrNoQueuedTrial = errors.New("store: no queued trial")
	// ErrEpochOrder means a reported epoch is not after the trial's last reported epoch.
	ErrEpochOrder = errors.New("store: epoch out of order")
	// ErrInvalidResult means FinishTrial's result breaks a rule of Result (state, value, reason).
	ErrInvalidResult = errors.New("store: invalid result")
)

// Checkpoints.
var (
	// ErrCheckpointNotFound means the trial has no checkpoint.
	ErrCheckpointNotFound = errors.New("store: checkpoint not found")
)

// Sampler states.
var (
	// ErrSamplerStateNotFound means the study has no sampler state for that generation (or none at all).
	ErrSamplerStateNotFound = errors.New("store: sampler state not found")
	// ErrSamplerStateExists means a different state, or different trials, were saved for that generation.
	ErrSamplerStateExists = errors.New("store: sampler state already exists")
	// ErrInvalidSamplerState means a sampler state has a negative generation or data that is not JSON.
	ErrInvalidSamplerState = errors.New("store: invalid sampler state")
)

// Records, export and import.
var (
	// ErrCorrupt means a stored record or an export file could not be decoded or breaks an invariant.
	ErrCorrupt = errors.New("store: corrupt record")
	// ErrInvalidDump means a study dump given to Import is inconsistent (numbers, references, checkpoints).
	ErrInvalidDump = errors.New("store: invalid study dump")
)

// Networked backends.
var (
	// ErrUnavailable means the store could not be reached (connection refused or lost, server restarting); the change may or may not have happened, and the call may be repeated.
	ErrUnavailable = errors.New("store: unavailable")
)
