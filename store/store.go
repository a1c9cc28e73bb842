package store

import "context"

// Store is the persistent record of studies. Every method that changes the
// store does so in a single transaction: it either happens entirely or not
// at all, and a nil error means it is durable (for the bbolt backend:
// written and fsync'd). Unless a method says otherwise:
//
//   - Lifetime: returned values are copies that the caller owns; they stay
//     valid after later calls and after Close, and changing them does not
//     change the store.
//   - Concurrency: any goroutine may call any method at any time; changes
//     are serialised, reads see a consistent snapshot.
//   - Durability: a method that returns an error changed nothing.
//
// Methods check ctx before they start and a networked backend also while
// it waits; a cancelled call changed nothing.
type Store interface {
	// CreateStudy validates s, stores it and returns it as stored (with
	// CreatedAt and SchemaVersion set). If a study of that name exists with
	// the same definition, it returns the stored one unchanged, so a
	// search can be restarted with the same command; with a different
	// definition it returns ErrStudyExists naming the first difference.
	// Returns a copy; concurrency-safe; durable on nil error.
	CreateStudy(ctx context.Context, s Study) (Study, error)

	// Study returns the named study or ErrStudyNotFound.
	// Returns a copy; concurrency-safe; reads only.
	Study(ctx context.Context, name string) (Study, error)

	// Studies returns every study, ordered by name.
	// Returns copies; concurrency-safe; reads only.
	Studies(ctx context.Context) ([]Study, error)

	// DeleteStudy removes a study with its trials, sampler states and
	// checkpoints, or returns ErrStudyNotFound.
	// Concurrency-safe; durable on nil error.
	DeleteStudy(ctx context.Context, name string) error

	// AmendStudy replaces the study's Sampler.Config with a.Config and
	// enqueues a.Enqueue (numbered from a.Next on), in one transaction,
	// provided the study is still as the caller read it: Sampler.Config
	// equal to a.Was as JSON and a.Next the next trial number. Otherwise it returns
	// ErrStudyChanged and changes nothing: the caller reads the study
	// again and retries. Nothing else of the definition changes and no
	// trial is touched, so workers may run the study meanwhile (this is
	// how an evaluation study gains goals and seeds while workers run it).
	// Returns copies; concurrency-safe (of concurrent amendments from one
	// reading, one succeeds); durable on nil error.
	AmendStudy(ctx context.Context, study string, a Amendment) ([]Trial, error)

	// EnqueueTrial adds a queued trial with the next number, which is
	// assigned atomically: concurrent calls get distinct, consecutive
	// numbers. The gamma must have the search space's dimension and finite
	// entries (ErrInvalidTrial); bounds are the sampler's business.
	// Returns a copy; concurrency-safe; durable on nil error.
	EnqueueTrial(ctx context.Context, study string, t NewTrial) (Trial, error)

	// StartTrial moves queued trial number to running, increments its
	// Attempt and records worker. It returns ErrWrongState unless the trial
	// is queued (ErrTrialFinished if it is finished). The returned trial's
	// Claim is needed to report on it.
	// Returns a copy; concurrency-safe (exactly one of several concurrent
	// starts of one trial succeeds); durable on nil error.
	StartTrial(ctx context.Context, study string, number int, worker string) (Trial, error)

	// ClaimTrial starts the lowest-numbered queued trial as StartTrial
	// does, or returns ErrNoQueuedTrial.
	// Returns a copy; concurrency-safe (concurrent claims get distinct
	// trials); durable on nil error.
	ClaimTrial(ctx context.Context, study string, worker string) (Trial, error)

	// ReportEpoch appends m to the running trial c names and, if ckpt is
	// not empty, replaces its checkpoint with ckpt for epoch m.Epoch, in
	// the same transaction, so the metrics never run ahead of or behind a
	// checkpoint that was saved with them. m.Epoch must be at least 1 and
	// greater than the last reported epoch (ErrEpochOrder). Errors:
	// ErrTrialFinished, ErrWrongState, ErrStaleClaim.
	// ckpt is not retained; concurrency-safe; durable on nil error.
	ReportEpoch(ctx context.Context, c Claim, m EpochMetrics, ckpt []byte) error

	// PauseTrial moves the running trial c names to paused, keeping its
	// checkpoint, so that a pruner can promote it later (ContinueTrial) or
	// finish it. Epochs after the checkpoint are dropped.
	// Returns a copy; concurrency-safe; durable on nil error.
	PauseTrial(ctx context.Context, c Claim) (Trial, error)

	// ContinueTrial moves paused trial number back to queued with the
	// given budget (epochs to train to; 0 keeps the current budget).
	// Returns a copy; concurrency-safe; durable on nil error.
	ContinueTrial(ctx context.Context, study string, number int, budget int) (Trial, error)

	// FinishTrial ends the running or paused trial c names with r and
	// deletes its checkpoint. From then on the trial never changes: every
	// later change returns ErrTrialFinished. Errors: ErrInvalidResult,
	// ErrWrongState, ErrStaleClaim.
	// Returns a copy; concurrency-safe; durable on nil error.
	FinishTrial(ctx context.Context, c Claim, r Result) (Trial, error)

	// RequeueRunning moves every running trial of the study back to
	// queued, keeping checkpoints and dropping epochs after them, and
	// returns their numbers in order. Call it when resuming a study, while
	// no worker runs any of its trials: an in-process backend knows that
	// no other process does (the file lock), a networked one will requeue
	// only trials whose lease expired. Old claims become stale.
	// Returns a new slice; concurrency-safe; durable on nil error.
	RequeueRunning(ctx context.Context, study string) ([]int, error)

	// Trial returns trial number of the study, or ErrTrialNotFound.
	// Returns a copy; concurrency-safe; reads only.
	Trial(ctx context.Context, study string, number int) (Trial, error)

	// Trials returns every trial of the study in number order.
	// Returns copies; concurrency-safe; reads one snapshot.
	Trials(ctx context.Context, study string) ([]Trial, error)

	// LiveTrials returns, in number order, every trial of the study that
	// is not finished (queued, running or paused) and every trial numbered
	// from or higher, whatever its state. A reader that knows the trials
	// below from keeps its view of a study current with it at a cost that
	// does not grow with the study: finished trials never change, and a
	// trial it knew unfinished that is missing from the answer has
	// finished since (read it with Trial). A negative from counts as 0.
	// (pgstore answers from its state index; bbolt reads every trial.)
	// Returns copies; concurrency-safe; reads one snapshot.
	LiveTrials(ctx context.Context, study string, from int) ([]Trial, error)

	// Checkpoint returns the trial's checkpoint, ErrCheckpointNotFound if
	// it has none, or ErrTrialNotFound.
	// Returns a copy (Data is the caller's); concurrency-safe; reads only.
	Checkpoint(ctx context.Context, study string, number int) (Checkpoint, error)

	// PutSamplerState saves the sampler's state for st.Generation and, in
	// the same transaction, enqueues the trials it proposed (with their
	// Generation set to st.Generation), returning them. So a generation is
	// either saved with all its trials or not at all. A generation is saved
	// once: saving the same Version and Data with the same trials again
	// returns the trials saved the first time (so a resumed driver can
	// repeat the call), anything else returns ErrSamplerStateExists.
	// Returns copies; concurrency-safe; durable on nil error.
	PutSamplerState(ctx context.Context, study string, st SamplerState, enqueue []NewTrial) ([]Trial, error)

	// SamplerState returns the state saved for generation gen, or
	// ErrSamplerStateNotFound.
	// Returns a copy; concurrency-safe; reads only.
	SamplerState(ctx context.Context, study string, gen int) (SamplerState, error)

	// LatestSamplerState returns the state of the highest generation, or
	// ErrSamplerStateNotFound if none was saved.
	// Returns a copy; concurrency-safe; reads only.
	LatestSamplerState(ctx context.Context, study string) (SamplerState, error)

	// SamplerStates returns every saved state in generation order.
	// Returns copies; concurrency-safe; reads one snapshot.
	SamplerStates(ctx context.Context, study string) ([]SamplerState, error)

	// Export returns the whole study from one consistent snapshot.
	// Returns copies; concurrency-safe; reads only.
	Export(ctx context.Context, study string) (Dump, error)

	// Import writes d as a study in one transaction, keeping numbers,
	// states, timestamps and checkpoints. If the study exists it returns
	// ErrStudyExists unless replace is true, in which case the old study
	// is deleted in the same transaction. An inconsistent dump returns
	// ErrInvalidDump or ErrInvalidStudy.
	// d is not retained; concurrency-safe; durable on nil error.
	Import(ctx context.Context, d Dump, replace bool) error

	// Close releases the store (for bbolt, the file and its lock) after
	// transactions in progress end. Later calls return ErrClosed; Close
	// itself may be called again and returns nil.
	Close() error
}
