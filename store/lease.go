package store

import (
	"context"
	"time"
)

// A Leaser is a Store shared by worker processes on several machines
// (pgstore): a running trial is leased to its worker until LeaseExpiry, and
// a trial whose lease expired is taken to belong to a dead worker.
//
//   - StartTrial and ClaimTrial set LeaseExpiry to now + Lease();
//     ReportEpoch and Heartbeat renew it. "Now" is the backend's clock
//     (for pgstore the database server's), so the workers' clocks need not
//     agree.
//   - RequeueRunning requeues only the running trials whose lease expired,
//     so it is safe to call while other workers run trials; their attempts
//     are then fenced off as always (ErrStaleClaim), so a late result from a
//     dead worker is refused.
//
// A worker must renew its lease (Heartbeat) well within Lease() while it
// trains an epoch; the search package renews every third of it.
type Leaser interface {
	Store

	// Lease is how long a start, report or heartbeat keeps a running trial
	// leased. Safe to call at any time.
	Lease() time.Duration

	// Heartbeat renews the lease of the running trial c names and returns
	// the new expiry. Errors: ErrStaleClaim (the trial was requeued since
	// and maybe taken by another worker: stop training it),
	// ErrTrialFinished, ErrWrongState.
	// Concurrency-safe; durable on nil error.
	Heartbeat(ctx context.Context, c Claim) (time.Time, error)
}
