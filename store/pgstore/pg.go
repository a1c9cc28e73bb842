package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"goalsearch/store"
	"goalsearch/store/internal/rules"
)

// clock returns the server's current time, the one clock that all workers
// share; leases and timestamps use it.
func clock(ctx context.Context, tx pgx.Tx) (time.Time, error) {
	var now time.Time
	err := tx.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&now)
	return now, err
}

// studyDef reads a study's definition; lock says FOR UPDATE, which is how
// trial numbering and sampler states are serialised per study.
func studyDef(ctx context.Context, tx pgx.Tx, name string, lock bool) (store.Study, int, error) {
	q := `SELECT rec, next_trial FROM studies WHERE name = $1`
	if lock {
		q += ` FOR UPDATE`
	}
	var rec []byte
	var next int
	err := tx.QueryRow(ctx, q, name).Scan(&rec, &next)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Study{}, 0, fmt.Errorf("%w: %q", store.ErrStudyNotFound, name)
	}
	if err != nil {
		return store.Study{}, 0, err
	}
	s, err := store.DecodeStudy(rec)
	if err != nil {
		return store.Study{}, 0, fmt.Errorf("study %q: %w", name, err)
	}
	if s.Name != name {
		return store.Study{}, 0, fmt.Errorf("%w: study %q is stored under %q", store.ErrCorrupt, s.Name, name)
	}
	return s, next, nil
}

func studyExists(ctx context.Context, tx pgx.Tx, name string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM studies WHERE name = $1`, name).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %q", store.ErrStudyNotFound, name)
	}
	return err
}

func decodeTrial(study string, n int, rec []byte) (store.Trial, error) {
	t, err := store.DecodeTrial(rec)
	if err != nil {
		return store.Trial{}, fmt.Errorf("study %q: %w", study, err)
	}
	if t.Number != n {
		return store.Trial{}, fmt.Errorf("%w: study %q: trial %d is stored under %d", store.ErrCorrupt, study, t.Number, n)
	}
	t.Study = study
	return t, nil
}

// trial reads one trial, FOR UPDATE if lock.
func trial(ctx context.Context, tx pgx.Tx, study string, n int, lock bool) (store.Trial, error) {
	q := `SELECT rec FROM trials WHERE study = $1 AND number = $2`
	if lock {
		q += ` FOR UPDATE`
	}
	var rec []byte
	err := tx.QueryRow(ctx, q, study, n).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := studyExists(ctx, tx, study); err != nil {
			return store.Trial{}, err
		}
		return store.Trial{}, fmt.Errorf("%w: study %q has no trial %d", store.ErrTrialNotFound, study, n)
	}
	if err != nil {
		return store.Trial{}, err
	}
	return decodeTrial(study, n, rec)
}

func allTrials(ctx context.Context, tx pgx.Tx, study string) ([]store.Trial, error) {
	return numbered(ctx, tx, func(n int, rec []byte) (store.Trial, error) { return decodeTrial(study, n, rec) },
		`SELECT number, rec FROM trials WHERE study = $1 ORDER BY number`, study)
}

// numbered runs a query of (number, record) rows and decodes each. The rows
// are closed on every path: an open result set keeps the transaction's
// connection busy, failing its next statement.
func numbered[T any](ctx context.Context, tx pgx.Tx, decode func(n int, rec []byte) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var n int
		var rec []byte
		if err := rows.Scan(&n, &rec); err != nil {
			return nil, err
		}
		v, err := decode(n, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// put writes t (insert if fresh) with its index columns, and returns it as
// decoded from what was written, so callers get exactly what later reads
// return.
func put(ctx context.Context, tx pgx.Tx, t store.Trial, fresh bool) (store.Trial, error) {
	enc, err := store.EncodeTrial(t)
	if err != nil {
		return store.Trial{}, err
	}
	var lease *time.Time
	if !t.LeaseExpiry.IsZero() {
		lease = &t.LeaseExpiry
	}
	if fresh {
		_, err = tx.Exec(ctx, `INSERT INTO trials (study, number, state, attempt, worker, lease_expiry, rec) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			t.Study, t.Number, string(t.State), t.Attempt, t.Worker, lease, enc)
	} else {
		_, err = tx.Exec(ctx, `UPDATE trials SET state = $3, attempt = $4, worker = $5, lease_expiry = $6, rec = $7 WHERE study = $1 AND number = $2`,
			t.Study, t.Number, string(t.State), t.Attempt, t.Worker, lease, enc)
	}
	if err != nil {
		return store.Trial{}, err
	}
	return decodeTrial(t.Study, t.Number, enc)
}

// CreateStudy implements store.Store: a study that exists with the same
// definition is returned unchanged, a different one is ErrStudyExists.
// Returns a copy; safe for concurrent use (also across processes: the
// insert is ON CONFLICT DO NOTHING); durable on nil error.
func (s *Store) CreateStudy(ctx context.Context, study store.Study) (store.Study, error) {
	var out store.Study
	err := s.tx(ctx, pgx.ReadCommitted, func(tx pgx.Tx) error {
		now, err := clock(ctx, tx)
		if err != nil {
			return err
		}
		norm, err := rules.NewStudy(study, now)
		if err != nil {
			return err
		}
		enc, err := store.EncodeStudy(norm)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO studies (name, rec) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, norm.Name, enc); err != nil {
			return err
		}
		stored, _, err := studyDef(ctx, tx, norm.Name, false)
		if err != nil {
			return err
		}
		if err := rules.SameDefinition(stored, norm); err != nil {
			return err
		}
		out = stored
		return nil
	})
	return out, err
}

// Study implements store.Store. Returns a copy; safe for concurrent use;
// reads only.
func (s *Store) Study(ctx context.Context, name string) (store.Study, error) {
	var out store.Study
	err := s.view(ctx, func(tx pgx.Tx) error {
		var err error
		out, _, err = studyDef(ctx, tx, name, false)
		return err
	})
	return out, err
}

// Studies implements store.Store: every study, ordered by name (byte
// order). Returns copies; safe for concurrent use; reads one snapshot.
func (s *Store) Studies(ctx context.Context) ([]store.Study, error) {
	var out []store.Study
	err := s.view(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT name, rec FROM studies ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var rec []byte
			if err := rows.Scan(&name, &rec); err != nil {
				return err
			}
			st, err := store.DecodeStudy(rec)
			if err != nil {
				return fmt.Errorf("study %q: %w", name, err)
			}
			out = append(out, st)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteStudy implements store.Store; trials, checkpoints and sampler
// states go with the study (ON DELETE CASCADE). Safe for concurrent use;
// durable on nil error.
func (s *Store) DeleteStudy(ctx context.Context, name string) error {
	return s.tx(ctx, pgx.ReadCommitted, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM studies WHERE name = $1`, name)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("%w: %q", store.ErrStudyNotFound, name)
		}
		return err
	})
}

// EnqueueTrial implements store.Store: the study row is locked, so the
// next number is taken and the trial written atomically. Returns a copy;
// safe for concurrent use; durable on nil error.
func (s *Store) EnqueueTrial(ctx context.Context, study string, nt store.NewTrial) (store.Trial, error) {
	var out store.Trial
	err := s.tx(ctx, pgx.ReadCommitted, func(tx pgx.Tx) error {
		def, next, err := studyDef(ctx, tx, study, true)
		if err != nil {
			return err
		}
		now, err := clock(ctx, tx)
		if err != nil {
			return err
		}
		t, err := rules.NewTrial(def, next, nt, now)
		if err != nil {
			return err
		}
		if out, err = put(ctx, tx, t, true); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE studies SET next_trial = $2 WHERE name = $1`, study, next+1)
		return err
	})
	return out, err
}

// AmendStudy implements store.Store: the study row is locked (FOR UPDATE)
// while the check, the new definition and the trials are written, so it is
// serialised with enqueues and other amendments. Returns copies; safe for
// concurrent use; durable on nil error.
func (s *Store) AmendStudy(ctx context.Context, study string, a store.Amendment) ([]store.Trial, error) {
	var out []store.Trial
	err := s.tx(ctx, pgx.ReadCommitted, func(tx pgx.Tx) error {
		out = nil // a retried transaction starts again
		def, next, err := studyDef(ctx, tx, study, true)
		if err != nil {
			return err
		}
		amended, err := rules.Amend(def, next, a)
		if err != nil {
			return err
		}
		enc, err := store.EncodeStudy(amended)
		if err != nil {
			return err
		}
		now, err := clock(ctx, tx)
		if err != nil {
			return err
		}
		for i, nt := range a.Enqueue {
			t, err := rules.NewTrial(amended, next+i, nt, now)
			if err != nil {
				return err
			}
			if t, err = put(ctx, tx, t, true); err != nil {
				return err
			}
			out = append(out, t)
		}
		_, err = tx.Exec(ctx, `UPDATE studies SET rec = $2, next_trial = $3 WHERE name = $1`, study, enc, next+len(a.Enqueue))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// start starts trial t (locked by the caller) and leases it.
func (s *Store) start(ctx context.Context, tx pgx.Tx, t store.Trial, worker string) (store.Trial, error) {
	now, err := clock(ctx, tx)
	if err != nil {
		return store.Trial{}, err
	}
	if err := rules.Start(&t, worker, now); err != nil {
		return store.Trial{}, err
	}
	if err := rules.Lease(&t, t.Claim(), now.Add(s.lease)); err != nil {
		return store.Trial{}, err
	}
	return put(ctx, tx, t, false)
}

// StartTrial implements store.Store and leases the trial to worker for
// Lease(). Returns a copy; safe for concurrent use (the row is locked);
// durable on nil error.
func (s *Store) StartTrial(ctx context.Context, study string, number int, worker string) (store.Trial, error) {
	var out store.Trial
	err := s.tx(ctx, pgx.ReadCommitted, func(tx pgx.Tx) error {
		t, err := trial(ctx, tx, study, number, true)
		if err != nil {
			return err
		}
		out, err = s.start(ctx, tx, t, worker)
		return err
	})
	return out, err
}

// ClaimTrial implements store.Store with SELECT ... FOR UPDATE SKIP
// LOCKED, so that concurrent workers take distinct trials without waiting
// for each other, and leases the trial to worker for Lease(). Returns a
// copy; safe for concurrent use; durable on nil error.
func (s *Store) ClaimTrial(ctx context.Context, study string, worker string) (store.Trial, error) {
	var out store.Trial
	err := s.tx(ctx, pgx.ReadCommitted, func(tx pgx.Tx) error {
		var n int
		var rec []byte
		err := tx.QueryRow(ctx, `SELECT number, rec FROM trials WHERE study = $1 AND state = 'queued' ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED`, study).Scan(&n, &rec)
		if errors.Is(err, pgx.ErrNoRows) {
			if err := studyExists(ctx, tx, study); err != nil {
				return err
			}
			return fmt.Errorf("%w in study %q", store.ErrNoQueuedTrial, study)
		}
		if err != nil {
			return err
		}
		t, err := decodeTrial(study, n, rec)
		if err != nil {
			return err
		}
		out, err = s.start(ctx, tx, t, worker)
		if errors.Is(err, store.ErrWrongState) || errors.Is(err, store.ErrTrialFinished) {
			return fmt.Errorf("%w: study %q: state column says trial %d is queued: %v", store.ErrCorrupt, study, n, err)
		}
		return err
	})
	return out, err
}

// change runs fn on the locked trial and writes the result, in one
// transaction; fn gets the server time.
func (s *Store) change(ctx context.Context, study string, number int, fn func(tx pgx.Tx, t *store.Trial, now time.Time) error) (store.Trial, error) {
	var out store.Trial
	err := s.tx(ctx, pgx.ReadCommitted, func(tx pgx.Tx) error {
		t, err := trial(ctx, tx, study, number, true)
		if err != nil {
			return err
		}
		now, err := clock(ctx, tx)
		if err != nil {
			return err
		}
		if err := fn(tx, &t, now); err != nil {
			return err
		}
		out, err = put(ctx, tx, t, false)
		return err
	})
	return out, err
}

// ReportEpoch implements store.Store: metrics and checkpoint are written in
// one transaction, and the trial's lease is renewed. ckpt is not retained.
// Safe for concurrent use; durable on nil error.
func (s *Store) ReportEpoch(ctx context.Context, c store.Claim, m store.EpochMetrics, ckpt []byte) error {
	_, err := s.change(ctx, c.Study, c.Number, func(tx pgx.Tx, t *store.Trial, now time.Time) error {
		if err := rules.Report(t, c, m, len(ckpt) > 0); err != nil {
			return err
		}
		if err := rules.Lease(t, c, now.Add(s.lease)); err != nil {
			return err
		}
		if len(ckpt) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO checkpoints (study, number, epoch, data) VALUES ($1, $2, $3, $4)
			ON CONFLICT (study, number) DO UPDATE SET epoch = excluded.epoch, data = excluded.data`, c.Study, c.Number, m.Epoch, ckpt)
		return err
	})
	return err
}

// Heartbeat implements store.Leaser: it renews the lease of the running
// trial c names. Safe for concurrent use; durable on nil error.
func (s *Store) Heartbeat(ctx context.Context, c store.Claim) (time.Time, error) {
	t, err := s.change(ctx, c.Study, c.Number, func(_ pgx.Tx, t *store.Trial, now time.Time) error {
		return rules.Lease(t, c, now.Add(s.lease))
	})
	return t.LeaseExpiry, err
}

// PauseTrial implements store.Store; a paused trial holds no lease.
// Returns a copy; safe for concurrent use; durable on nil error.
func (s *Store) PauseTrial(ctx context.Context, c store.Claim) (store.Trial, error) {
	return s.change(ctx, c.Study, c.Number, func(_ pgx.Tx, t *store.Trial, _ time.Time) error {
		if err := rules.Pause(t, c); err != nil {
			return err
		}
		t.LeaseExpiry = time.Time{}
		return nil
	})
}

// ContinueTrial implements store.Store. Returns a copy; safe for
// concurrent use; durable on nil error.
func (s *Store) ContinueTrial(ctx context.Context, study string, number int, budget int) (store.Trial, error) {
	return s.change(ctx, study, number, func(_ pgx.Tx, t *store.Trial, _ time.Time) error {
		return rules.Continue(t, budget)
	})
}

// FinishTrial implements store.Store: the result is written and the
// checkpoint deleted in one transaction. A worker whose lease expired may
// still finish its trial as long as nobody started it again (its attempt
// is still current). Returns a copy; safe for concurrent use; durable on
// nil error.
func (s *Store) FinishTrial(ctx context.Context, c store.Claim, r store.Result) (store.Trial, error) {
	return s.change(ctx, c.Study, c.Number, func(tx pgx.Tx, t *store.Trial, now time.Time) error {
		if err := rules.Finish(t, c, r, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM checkpoints WHERE study = $1 AND number = $2`, c.Study, c.Number)
		return err
	})
}

// RequeueRunning implements store.Store for a shared database: it requeues
// only the running trials whose lease expired (store.Leaser), skipping
// rows that another transaction holds, so any worker may call it at any
// time. With a negative Options.Lease every running trial has expired.
// Returns a new slice; safe for concurrent use; durable on nil error.
func (s *Store) RequeueRunning(ctx context.Context, study string) ([]int, error) {
	var out []int
	err := s.tx(ctx, pgx.ReadCommitted, func(tx pgx.Tx) error {
		out = nil
		if err := studyExists(ctx, tx, study); err != nil {
			return err
		}
		ts, err := numbered(ctx, tx, func(n int, rec []byte) (store.Trial, error) { return decodeTrial(study, n, rec) },
			`SELECT number, rec FROM trials WHERE study = $1 AND state = 'running'
			AND (lease_expiry IS NULL OR lease_expiry <= clock_timestamp()) ORDER BY number FOR UPDATE SKIP LOCKED`, study)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if err := rules.Requeue(&t); err != nil {
				return fmt.Errorf("%w: study %q: state column says trial %d is running: %v", store.ErrCorrupt, study, t.Number, err)
			}
			if _, err := put(ctx, tx, t, false); err != nil {
				return err
			}
			out = append(out, t.Number)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Trial implements store.Store. Returns a copy; safe for concurrent use;
// reads only.
func (s *Store) Trial(ctx context.Context, study string, number int) (store.Trial, error) {
	var out store.Trial
	err := s.view(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = trial(ctx, tx, study, number, false)
		return err
	})
	return out, err
}

// Trials implements store.Store. Returns copies; safe for concurrent use;
// reads one snapshot.
func (s *Store) Trials(ctx context.Context, study string) ([]store.Trial, error) {
	var out []store.Trial
	err := s.view(ctx, func(tx pgx.Tx) error {
		if err := studyExists(ctx, tx, study); err != nil {
			return err
		}
		var err error
		out, err = allTrials(ctx, tx, study)
		return err
	})
	return out, err
}

// LiveTrials implements store.Store from the state index (the unfinished
// trials) and the primary key (those numbered from or higher). Returns
// copies; safe for concurrent use; reads one snapshot.
func (s *Store) LiveTrials(ctx context.Context, study string, from int) ([]store.Trial, error) {
	var out []store.Trial
	err := s.view(ctx, func(tx pgx.Tx) error {
		if err := studyExists(ctx, tx, study); err != nil {
			return err
		}
		var err error
		out, err = numbered(ctx, tx, func(n int, rec []byte) (store.Trial, error) { return decodeTrial(study, n, rec) },
			`SELECT number, rec FROM trials WHERE study = $1 AND (state IN ('queued', 'running', 'paused') OR number >= $2)
			 ORDER BY number`, study, max(from, 0))
		return err
	})
	return out, err
}

// Checkpoint implements store.Store. Data is a copy the caller owns; safe
// for concurrent use; reads only.
func (s *Store) Checkpoint(ctx context.Context, study string, number int) (store.Checkpoint, error) {
	var out store.Checkpoint
	err := s.view(ctx, func(tx pgx.Tx) error {
		if _, err := trial(ctx, tx, study, number, false); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT epoch, data FROM checkpoints WHERE study = $1 AND number = $2`, study, number).Scan(&out.Epoch, &out.Data)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: study %q, trial %d", store.ErrCheckpointNotFound, study, number)
		}
		out.Trial = number
		return err
	})
	return out, err
}

func allCheckpoints(ctx context.Context, tx pgx.Tx, study string) ([]store.Checkpoint, error) {
	rows, err := tx.Query(ctx, `SELECT number, epoch, data FROM checkpoints WHERE study = $1 ORDER BY number`, study)
	if err != nil {
		return nil, err
	}
	var out []store.Checkpoint
	for rows.Next() {
		var c store.Checkpoint
		if err := rows.Scan(&c.Trial, &c.Epoch, &c.Data); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func decodeSampler(study string, gen int, rec []byte) (store.SamplerState, error) {
	st, err := store.DecodeSamplerState(rec)
	if err != nil {
		return store.SamplerState{}, fmt.Errorf("study %q: %w", study, err)
	}
	if st.Generation != gen {
		return store.SamplerState{}, fmt.Errorf("%w: study %q: sampler state %d is stored under %d", store.ErrCorrupt, study, st.Generation, gen)
	}
	return st, nil
}

func samplerStates(ctx context.Context, tx pgx.Tx, study, where string, args ...any) ([]store.SamplerState, error) {
	return numbered(ctx, tx, func(gen int, rec []byte) (store.SamplerState, error) { return decodeSampler(study, gen, rec) },
		`SELECT generation, rec FROM sampler_states WHERE study = $1 `+where, append([]any{study}, args...)...)
}

// PutSamplerState implements store.Store: the study row is locked, so the
// state and the trials it proposed are written in one transaction, and two
// workers that save the same generation at once are serialised (the second
// gets the first one's trials back if it saved the same). Returns copies;
// safe for concurrent use; durable on nil error.
func (s *Store) PutSamplerState(ctx context.Context, study string, state store.SamplerState, enqueue []store.NewTrial) ([]store.Trial, error) {
	if _, err := rules.PrepareSamplerState(state, time.Now()); err != nil {
		return nil, err
	}
	var out []store.Trial
	err := s.tx(ctx, pgx.ReadCommitted, func(tx pgx.Tx) error {
		out = nil
		def, next, err := studyDef(ctx, tx, study, true)
		if err != nil {
			return err
		}
		now, err := clock(ctx, tx)
		if err != nil {
			return err
		}
		prepared, err := rules.PrepareSamplerState(state, now)
		if err != nil {
			return err
		}
		old, err := samplerStates(ctx, tx, study, `AND generation = $2`, prepared.Generation)
		if err != nil {
			return err
		}
		if len(old) > 0 {
			for _, n := range old[0].Trials {
				t, err := trial(ctx, tx, study, n, false)
				if err != nil {
					return err
				}
				out = append(out, t)
			}
			return rules.SameSamplerState(old[0], out, prepared, enqueue)
		}
		rec := prepared
		for i, nt := range enqueue {
			nt.Generation = prepared.Generation
			t, err := rules.NewTrial(def, next+i, nt, now)
			if err != nil {
				return err
			}
			if t, err = put(ctx, tx, t, true); err != nil {
				return err
			}
			out = append(out, t)
			rec.Trials = append(rec.Trials, t.Number)
		}
		enc, err := store.EncodeSamplerState(rec)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sampler_states (study, generation, rec) VALUES ($1, $2, $3)`, study, prepared.Generation, enc); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE studies SET next_trial = $2 WHERE name = $1`, study, next+len(enqueue))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SamplerState implements store.Store. Returns a copy; safe for
// concurrent use; reads only.
func (s *Store) SamplerState(ctx context.Context, study string, gen int) (store.SamplerState, error) {
	var out store.SamplerState
	err := s.view(ctx, func(tx pgx.Tx) error {
		if err := studyExists(ctx, tx, study); err != nil {
			return err
		}
		sts, err := samplerStates(ctx, tx, study, `AND generation = $2`, gen)
		if err != nil {
			return err
		}
		if len(sts) == 0 {
			return fmt.Errorf("%w: study %q, generation %d", store.ErrSamplerStateNotFound, study, gen)
		}
		out = sts[0]
		return nil
	})
	return out, err
}

// LatestSamplerState implements store.Store. Returns a copy; safe for
// concurrent use; reads only.
func (s *Store) LatestSamplerState(ctx context.Context, study string) (store.SamplerState, error) {
	var out store.SamplerState
	err := s.view(ctx, func(tx pgx.Tx) error {
		if err := studyExists(ctx, tx, study); err != nil {
			return err
		}
		sts, err := samplerStates(ctx, tx, study, `ORDER BY generation DESC LIMIT 1`)
		if err != nil {
			return err
		}
		if len(sts) == 0 {
			return fmt.Errorf("%w: study %q has none", store.ErrSamplerStateNotFound, study)
		}
		out = sts[0]
		return nil
	})
	return out, err
}

// SamplerStates implements store.Store. Returns copies; safe for
// concurrent use; reads one snapshot.
func (s *Store) SamplerStates(ctx context.Context, study string) ([]store.SamplerState, error) {
	var out []store.SamplerState
	err := s.view(ctx, func(tx pgx.Tx) error {
		if err := studyExists(ctx, tx, study); err != nil {
			return err
		}
		var err error
		out, err = samplerStates(ctx, tx, study, `ORDER BY generation`)
		return err
	})
	return out, err
}

// Export implements store.Store, from one REPEATABLE READ snapshot.
// Returns copies; safe for concurrent use; reads only.
func (s *Store) Export(ctx context.Context, study string) (store.Dump, error) {
	var d store.Dump
	err := s.view(ctx, func(tx pgx.Tx) error {
		var err error
		if d.Study, _, err = studyDef(ctx, tx, study, false); err != nil {
			return err
		}
		if d.Trials, err = allTrials(ctx, tx, study); err != nil {
			return err
		}
		if d.SamplerStates, err = samplerStates(ctx, tx, study, `ORDER BY generation`); err != nil {
			return err
		}
		d.Checkpoints, err = allCheckpoints(ctx, tx, study)
		return err
	})
	return d, err
}

// Import implements store.Store, in one transaction (replacing a study
// deletes the old one in the same transaction). Leases of running trials
// are kept as they were. d is not retained; safe for concurrent use;
// durable on nil error.
func (s *Store) Import(ctx context.Context, d store.Dump, replace bool) error {
	if err := rules.ValidateDump(d); err != nil {
		return err
	}
	enc, err := store.EncodeStudy(d.Study)
	if err != nil {
		return err
	}
	name := d.Study.Name
	next := 0
	if len(d.Trials) > 0 {
		next = d.Trials[len(d.Trials)-1].Number + 1
	}
	err = s.tx(ctx, pgx.ReadCommitted, func(tx pgx.Tx) error {
		if replace {
			if _, err := tx.Exec(ctx, `DELETE FROM studies WHERE name = $1`, name); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO studies (name, next_trial, rec) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, name, next, enc)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %q", store.ErrStudyExists, name)
		}
		for _, t := range d.Trials {
			t.Study = name
			if _, err := put(ctx, tx, t, true); err != nil {
				return err
			}
		}
		for _, ss := range d.SamplerStates {
			enc, err := store.EncodeSamplerState(ss)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO sampler_states (study, generation, rec) VALUES ($1, $2, $3)`, name, ss.Generation, enc); err != nil {
				return err
			}
		}
		for _, c := range d.Checkpoints {
			if _, err := tx.Exec(ctx, `INSERT INTO checkpoints (study, number, epoch, data) VALUES ($1, $2, $3, $4)`, name, c.Trial, c.Epoch, c.Data); err != nil {
				return err
			}
		}
		return nil
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		// A concurrent Import of the same name won.
		return fmt.Errorf("%w: %q", store.ErrStudyExists, name)
	}
	return err
}
