// Package store defines how goalsearch keeps its searches: studies, their
// trials, the sampler's state per generation and the checkpoints of running
// trials, behind the Store interface that each backend implements:
// boltstore, a single file with one writing process (and any number of
// reading ones, see boltstore.OpenReader), and pgstore, PostgreSQL for
// workers on many machines. It depends on nothing but the standard
// library: no training or search code.
//
// # Why it looks like this
//
// A long search must never lose work and must resume exactly after kill -9.
// So every change is one transaction, and a nil error means it is durable;
// a trial's per-epoch metrics and its checkpoint are written together
// (ReportEpoch), so an interrupted trial continues from its last finished
// epoch; a sampler's state is saved together with the trials it proposed
// (PutSamplerState), so a resumed sampler proposes exactly what an
// uninterrupted one would have; and a finished trial never changes again.
//
// Running a trial follows Optuna's ask-and-tell:
//
//	t, _ := s.EnqueueTrial(ctx, study, store.NewTrial{Gamma: g, Seed: seed})
//	t, _ = s.ClaimTrial(ctx, study, worker)          // queued -> running
//	c := t.Claim()
//	for epoch := t.CheckpointEpoch + 1; ...; epoch++ {
//		s.ReportEpoch(ctx, c, metrics, checkpoint)   // metrics + checkpoint
//	}
//	s.FinishTrial(ctx, c, store.Result{State: store.Complete, Value: &v})
//
// and resuming a study after a crash starts with RequeueRunning, which puts
// the trials that were running back in the queue with their checkpoints.
//
// A Claim carries the trial's attempt number as a fencing token: once a
// trial is requeued, its old worker's reports are refused (ErrStaleClaim),
// so no trial is finished twice. The Trial record keeps Worker and
// LeaseExpiry for a backend shared by several processes (pgstore, a
// Leaser), where a lease that expires lets another worker take the trial
// over.
//
// # Contract of every method
//
// Each method states three things, as bbolt's do: how long returned data
// stays valid (always: values are copies the caller owns), who may call it
// concurrently (always: any goroutine), and what is durable when it returns
// (a change is durable on nil error; an error means nothing changed).
// Errors wrap the sentinels of errors.go, to be tested with errors.Is.
//
// Records are encoded as versioned JSON (see codec.go for why); a store or
// file written by a newer schema is refused with ErrNewerSchema. Export and
// import (WriteJSON, ReadJSON, WriteCSV, ExportJSON, ImportJSON) work on a
// Dump taken from one consistent snapshot.
//
// Package storetest holds the conformance suite every backend runs (both
// of them; pgstore's needs a server, see .ci/postgres.sh).
package store
