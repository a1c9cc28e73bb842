package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"goalsearch/store"
	"goalsearch/store/pgstore"
	"goalsearch/store/pgstore/pgtest"
	"goalsearch/store/storetest"
)

var ctx = context.Background()

// TestConformance runs the store conformance suite. Leases expire at once
// (Lease < 0), so that RequeueRunning requeues every running trial as the
// suite expects of a store that one process owns; TestLeases checks leases.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return pgtest.Open(t, pgstore.Options{Lease: -1, MaxConns: 8})
	})
}

func TestRandomizedReopen(t *testing.T) {
	s := pgtest.Open(t, pgstore.Options{Lease: -1})
	dsn, schema := pgtest.DSN(t), s.Schema()
	storetest.Randomized(t, s, storetest.RandomOptions{Seed: 3, Steps: 300, Reopen: func(old store.Store) store.Store {
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
		s, err := pgstore.Open(ctx, dsn, &pgstore.Options{Lease: -1, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Check(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}})
}

// TestLeases checks the store.Leaser contract: a start leases, a report or
// heartbeat renews, RequeueRunning takes only expired trials, and the old
// worker's claim is stale once another worker started the trial.
func TestLeases(t *testing.T) {
	const lease = 400 * time.Millisecond
	s := pgtest.Open(t, pgstore.Options{Lease: lease})
	if _, err := s.CreateStudy(ctx, storetest.Study("s")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := s.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: []float64{0, 0, 0, 0, 0}, Seed: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now()
	a, err := s.ClaimTrial(ctx, "s", "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.ClaimTrial(ctx, "s", "b")
	if err != nil {
		t.Fatal(err)
	}
	if a.Number != 0 || b.Number != 1 {
		t.Fatalf("claimed %d and %d, want 0 and 1", a.Number, b.Number)
	}
	// Server and test share a machine: the expiry is about now + lease.
	if d := a.LeaseExpiry.Sub(before); d < lease-100*time.Millisecond || d > lease+2*time.Second {
		t.Errorf("lease expires %v after the claim, want about %v", d, lease)
	}
	if ns, err := s.RequeueRunning(ctx, "s"); err != nil || len(ns) != 0 {
		t.Errorf("RequeueRunning with live leases = %v, %v; want none", ns, err)
	}
	// a keeps its lease alive, b goes silent.
	deadline := time.Now().Add(lease + 300*time.Millisecond)
	for time.Now().Before(deadline) {
		exp, err := s.Heartbeat(ctx, a.Claim())
		if err != nil {
			t.Fatal(err)
		}
		if !exp.After(time.Now()) {
			t.Errorf("Heartbeat returned expiry %v in the past", exp)
		}
		time.Sleep(lease / 4)
	}
	ns, err := s.RequeueRunning(ctx, "s")
	if err != nil || len(ns) != 1 || ns[0] != 1 {
		t.Fatalf("RequeueRunning after b's lease expired = %v, %v; want [1]", ns, err)
	}
	c, err := s.ClaimTrial(ctx, "s", "c")
	if err != nil || c.Number != 1 || c.Attempt != 2 {
		t.Fatalf("re-lease = trial %d attempt %d, %v; want trial 1 attempt 2", c.Number, c.Attempt, err)
	}
	v := 1.0
	if _, err := s.FinishTrial(ctx, b.Claim(), store.Result{State: store.Complete, Value: &v}); !errors.Is(err, store.ErrStaleClaim) {
		t.Errorf("late result of the dead worker: %v, want ErrStaleClaim", err)
	}
	if _, err := s.Heartbeat(ctx, b.Claim()); !errors.Is(err, store.ErrStaleClaim) {
		t.Errorf("heartbeat of the dead worker: %v, want ErrStaleClaim", err)
	}
	if _, err := s.FinishTrial(ctx, c.Claim(), store.Result{State: store.Complete, Value: &v}); err != nil {
		t.Errorf("result of the new worker: %v", err)
	}
	if _, err := s.Heartbeat(ctx, c.Claim()); !errors.Is(err, store.ErrTrialFinished) {
		t.Errorf("heartbeat of a finished trial: %v, want ErrTrialFinished", err)
	}
	tr, _ := s.Trial(ctx, "s", 1)
	if !tr.LeaseExpiry.IsZero() {
		t.Errorf("finished trial keeps lease %v", tr.LeaseExpiry)
	}
}

func TestSchemaVersion(t *testing.T) {
	s := pgtest.Open(t, pgstore.Options{})
	dsn, schema := pgtest.DSN(t), s.Schema()
	// A newer goalsearch bumped the layout: this build must refuse.
	if err := s.SetMetaForTest(ctx, "layout", "99"); err != nil {
		t.Fatal(err)
	}
	_, err := pgstore.Open(ctx, dsn, &pgstore.Options{Schema: schema})
	if !errors.Is(err, store.ErrNewerSchema) {
		t.Errorf("Open of a newer layout: %v, want ErrNewerSchema", err)
	}
	if err := s.SetMetaForTest(ctx, "layout", "1"); err != nil {
		t.Fatal(err)
	}
}

func TestUnavailable(t *testing.T) {
	_, err := pgstore.Open(ctx, "postgres:///nodb?host=/nonexistent-goalsearch-socket&connect_timeout=2", nil)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open of an unreachable server: %v, want ErrUnavailable", err)
	}
}

// TestReaders opens a second connection pool on the study schema as a
// watching process would; PostgreSQL's reader may also write.
func TestReaders(t *testing.T) {
	w := pgtest.Open(t, pgstore.Options{Lease: -1})
	dsn, schema := pgtest.DSN(t), w.Schema()
	storetest.Readers(t, w, func(t *testing.T) store.Store {
		r, err := pgstore.Open(ctx, dsn, &pgstore.Options{Lease: -1, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}, storetest.ReadersOptions{})
}
