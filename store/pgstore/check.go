package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"goalsearch/store"
)

// Check verifies the whole database from one snapshot: every record
// decodes and validates, is stored under its own key, and agrees with its
// index columns, the study's next trial number, the checkpoints and the
// sampler states. Tests run it after each test; a "doctor" command can run
// it. Safe for concurrent use; reads only.
func (s *Store) Check(ctx context.Context) error {
	return s.view(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT name FROM studies ORDER BY name`)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, name := range names {
			if err := checkStudy(ctx, tx, name); err != nil {
				return err
			}
		}
		return nil
	})
}

func checkStudy(ctx context.Context, tx pgx.Tx, name string) error {
	_, next, err := studyDef(ctx, tx, name, false)
	if err != nil {
		return err
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: study %q: %s", store.ErrCorrupt, name, fmt.Sprintf(format, a...))
	}
	rows, err := tx.Query(ctx, `SELECT number, state, attempt, worker, lease_expiry, rec FROM trials WHERE study = $1 ORDER BY number`, name)
	if err != nil {
		return err
	}
	byNum := map[int]store.Trial{}
	for rows.Next() {
		var n, attempt int
		var state, worker string
		var lease *time.Time
		var rec []byte
		if err := rows.Scan(&n, &state, &attempt, &worker, &lease, &rec); err != nil {
			return err
		}
		t, err := decodeTrial(name, n, rec)
		if err != nil {
			rows.Close()
			return err
		}
		if err := t.Validate(); err != nil {
			rows.Close()
			return bad("%v", err)
		}
		if string(t.State) != state || t.Attempt != attempt || t.Worker != worker || (lease == nil) != t.LeaseExpiry.IsZero() {
			rows.Close()
			return bad("trial %d: columns (%s, %d, %q) disagree with its record", n, state, attempt, worker)
		}
		if n >= next {
			rows.Close()
			return bad("trial %d at or after the next number %d", n, next)
		}
		byNum[n] = t
	}
	if err := rows.Err(); err != nil {
		return err
	}
	cks, err := allCheckpoints(ctx, tx, name)
	if err != nil {
		return err
	}
	has := map[int]bool{}
	for _, c := range cks {
		has[c.Trial] = true
		if byNum[c.Trial].CheckpointEpoch != c.Epoch {
			return bad("checkpoint of trial %d is of epoch %d, the trial says %d", c.Trial, c.Epoch, byNum[c.Trial].CheckpointEpoch)
		}
	}
	for n, t := range byNum {
		if (t.CheckpointEpoch > 0) != has[n] {
			return bad("trial %d has checkpoint epoch %d but the checkpoint is missing or extra", n, t.CheckpointEpoch)
		}
	}
	sts, err := samplerStates(ctx, tx, name, `ORDER BY generation`)
	if err != nil {
		return err
	}
	for _, ss := range sts {
		for _, n := range ss.Trials {
			if _, ok := byNum[n]; !ok {
				return bad("sampler state %d lists missing trial %d", ss.Generation, n)
			}
		}
	}
	return nil
}
