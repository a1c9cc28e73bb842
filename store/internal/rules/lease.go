package rules

import (
	"time"

	"goalsearch/store"
)

// Lease sets the lease of a running trial held by c to until (see
// store.Leaser): what StartTrial, ReportEpoch and Heartbeat do on a backend
// with leases.
func Lease(t *store.Trial, c store.Claim, until time.Time) error {
	if err := held(*t, c, store.Running); err != nil {
		return err
	}
	t.LeaseExpiry = store.Stamp(until)
	return nil
}

// Expired reports whether t is a running trial whose lease ended at or
// before now. A running trial without a lease (written by a backend
// without leases, then migrated) counts as expired.
func Expired(t store.Trial, now time.Time) bool {
	return t.State == store.Running && !t.LeaseExpiry.After(now)
}
