package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"goalsearch/store"
	"goalsearch/store/internal/rules"
)

var (
	bMeta    = []byte("meta")
	bStudies = []byte("studies")
	kFormat  = []byte("format")
	kSchema  = []byte("schema")
	kStudy   = []byte("study")
	bTrials  = []byte("trials")
	bQueued  = []byte("queued")
	bRunning = []byte("running")
	bCkpt    = []byte("ckpt")
	bSampler = []byte("sampler")
)

// subBuckets are created with every study, in this order.
var subBuckets = [][]byte{bTrials, bQueued, bRunning, bCkpt, bSampler}

// key encodes a trial number or generation big-endian, so that bbolt's
// byte order is numeric order.
func key(n int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return b[:]
}

func keyNum(k []byte) (int, bool) {
	if len(k) != 8 {
		return 0, false
	}
	u := binary.BigEndian.Uint64(k)
	if u > math.MaxInt {
		return 0, false
	}
	return int(u), true
}

// studyTx is one study's buckets inside a transaction.
type studyTx struct {
	name                                      string
	b, trials, queued, running, ckpt, sampler *bolt.Bucket
}

func openStudy(tx *bolt.Tx, name string) (*studyTx, error) {
	root := tx.Bucket(bStudies)
	if root == nil {
		return nil, fmt.Errorf("%w: no studies bucket", store.ErrCorrupt)
	}
	b := root.Bucket([]byte(name))
	if b == nil {
		return nil, fmt.Errorf("%w: %q", store.ErrStudyNotFound, name)
	}
	st := &studyTx{name: name, b: b}
	for i, p := range []**bolt.Bucket{&st.trials, &st.queued, &st.running, &st.ckpt, &st.sampler} {
		if *p = b.Bucket(subBuckets[i]); *p == nil {
			return nil, fmt.Errorf("%w: study %q has no %s bucket", store.ErrCorrupt, name, subBuckets[i])
		}
	}
	return st, nil
}

func createStudy(tx *bolt.Tx, s store.Study) (store.Study, error) {
	enc, err := store.EncodeStudy(s)
	if err != nil {
		return store.Study{}, err
	}
	b, err := tx.Bucket(bStudies).CreateBucket([]byte(s.Name))
	if err != nil {
		return store.Study{}, err
	}
	for _, name := range subBuckets {
		if _, err := b.CreateBucket(name); err != nil {
			return store.Study{}, err
		}
	}
	if err := b.Put(kStudy, enc); err != nil {
		return store.Study{}, err
	}
	return store.DecodeStudy(enc)
}

func (st *studyTx) study() (store.Study, error) {
	s, err := store.DecodeStudy(st.b.Get(kStudy))
	if err != nil {
		return store.Study{}, fmt.Errorf("study %q: %w", st.name, err)
	}
	if s.Name != st.name {
		return store.Study{}, fmt.Errorf("%w: study %q is stored under %q", store.ErrCorrupt, s.Name, st.name)
	}
	return s, nil
}

func (st *studyTx) trial(n int) (store.Trial, error) {
	var v []byte
	if n >= 0 {
		v = st.trials.Get(key(n))
	}
	if v == nil {
		return store.Trial{}, fmt.Errorf("%w: study %q has no trial %d", store.ErrTrialNotFound, st.name, n)
	}
	t, err := store.DecodeTrial(v)
	if err != nil {
		return store.Trial{}, fmt.Errorf("study %q: %w", st.name, err)
	}
	if t.Number != n {
		return store.Trial{}, fmt.Errorf("%w: study %q: trial %d is stored under %d", store.ErrCorrupt, st.name, t.Number, n)
	}
	t.Study = st.name
	return t, nil
}

func (st *studyTx) allTrials() ([]store.Trial, error) {
	var out []store.Trial
	c := st.trials.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n, ok := keyNum(k)
		if !ok {
			return nil, fmt.Errorf("%w: study %q: trial key %x", store.ErrCorrupt, st.name, k)
		}
		t, err := st.trial(n)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// next returns the number of the study's next trial. Trials are never
// deleted one by one, so the last key plus one is never reused.
func (st *studyTx) next() (int, error) {
	k, _ := st.trials.Cursor().Last()
	if k == nil {
		return 0, nil
	}
	n, ok := keyNum(k)
	if !ok || n == math.MaxInt {
		return 0, fmt.Errorf("%w: study %q: trial key %x", store.ErrCorrupt, st.name, k)
	}
	return n + 1, nil
}

func (st *studyTx) index(s store.TrialState) *bolt.Bucket {
	switch s {
	case store.Queued:
		return st.queued
	case store.Running:
		return st.running
	}
	return nil
}

// put writes t, whose state was prev ("" for a new trial), and moves it
// between the state indexes. It returns t as decoded from what was written,
// so callers get exactly what later reads will return.
func (st *studyTx) put(t store.Trial, prev store.TrialState) (store.Trial, error) {
	enc, err := store.EncodeTrial(t)
	if err != nil {
		return store.Trial{}, err
	}
	k := key(t.Number)
	if err := st.trials.Put(k, enc); err != nil {
		return store.Trial{}, err
	}
	if prev != t.State {
		if ix := st.index(prev); ix != nil {
			if err := ix.Delete(k); err != nil {
				return store.Trial{}, err
			}
		}
		if ix := st.index(t.State); ix != nil {
			if err := ix.Put(k, nil); err != nil {
				return store.Trial{}, err
			}
		}
	}
	out, err := store.DecodeTrial(enc)
	out.Study = st.name
	return out, err
}

func (st *studyTx) samplerState(gen int) (store.SamplerState, error) {
	var v []byte
	if gen >= 0 {
		v = st.sampler.Get(key(gen))
	}
	if v == nil {
		return store.SamplerState{}, fmt.Errorf("%w: study %q, generation %d", store.ErrSamplerStateNotFound, st.name, gen)
	}
	return st.decodeSampler(gen, v)
}

func (st *studyTx) decodeSampler(gen int, v []byte) (store.SamplerState, error) {
	s, err := store.DecodeSamplerState(v)
	if err != nil {
		return store.SamplerState{}, fmt.Errorf("study %q: %w", st.name, err)
	}
	if s.Generation != gen {
		return store.SamplerState{}, fmt.Errorf("%w: study %q: sampler state %d is stored under %d", store.ErrCorrupt, st.name, s.Generation, gen)
	}
	return s, nil
}

// CreateStudy implements store.Store: a study that exists with the same
// definition is returned unchanged, a different one is ErrStudyExists.
// Returns a copy; safe for concurrent use; durable (fsync'd) on nil error.
func (s *Store) CreateStudy(ctx context.Context, study store.Study) (store.Study, error) {
	norm, err := rules.NewStudy(study, s.now())
	if err != nil {
		return store.Study{}, err
	}
	var out store.Study
	err = s.update(ctx, func(tx *bolt.Tx) error {
		if st, err := openStudy(tx, norm.Name); err == nil {
			stored, err := st.study()
			if err != nil {
				return err
			}
			if err := rules.SameDefinition(stored, norm); err != nil {
				return err
			}
			out = stored
			return nil
		} else if !errors.Is(err, store.ErrStudyNotFound) {
			return err
		}
		out, err = createStudy(tx, norm)
		return err
	})
	return out, err
}

// Study implements store.Store. Returns a copy; safe for concurrent use;
// reads only.
func (s *Store) Study(ctx context.Context, name string) (store.Study, error) {
	var out store.Study
	err := s.view(ctx, func(tx *bolt.Tx) error {
		st, err := openStudy(tx, name)
		if err == nil {
			out, err = st.study()
		}
		return err
	})
	return out, err
}

// Studies implements store.Store: every study, ordered by name (byte
// order). Returns copies; safe for concurrent use; reads one snapshot.
func (s *Store) Studies(ctx context.Context) ([]store.Study, error) {
	var out []store.Study
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bStudies).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v != nil {
				return fmt.Errorf("%w: value %q among the studies", store.ErrCorrupt, k)
			}
			st, err := openStudy(tx, string(k))
			if err != nil {
				return err
			}
			study, err := st.study()
			if err != nil {
				return err
			}
			out = append(out, study)
		}
		return nil
	})
	return out, err
}

// DeleteStudy implements store.Store. Safe for concurrent use; durable on
// nil error. bbolt reuses the freed pages but does not shrink the file.
func (s *Store) DeleteStudy(ctx context.Context, name string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		err := tx.Bucket(bStudies).DeleteBucket([]byte(name))
		if errors.Is(err, berrors.ErrBucketNotFound) || errors.Is(err, berrors.ErrBucketNameRequired) {
			return fmt.Errorf("%w: %q", store.ErrStudyNotFound, name)
		}
		return err
	})
}

// EnqueueTrial implements store.Store: the next number is taken and the
// trial written in one transaction. Returns a copy; safe for concurrent
// use; durable on nil error.
func (s *Store) EnqueueTrial(ctx context.Context, study string, nt store.NewTrial) (store.Trial, error) {
	var out store.Trial
	err := s.update(ctx, func(tx *bolt.Tx) error {
		st, def, err := s.studyAndDef(tx, study)
		if err != nil {
			return err
		}
		n, err := st.next()
		if err != nil {
			return err
		}
		t, err := rules.NewTrial(def, n, nt, s.now())
		if err != nil {
			return err
		}
		out, err = st.put(t, "")
		return err
	})
	return out, err
}

func (s *Store) studyAndDef(tx *bolt.Tx, study string) (*studyTx, store.Study, error) {
	st, err := openStudy(tx, study)
	if err != nil {
		return nil, store.Study{}, err
	}
	def, err := st.study()
	return st, def, err
}

// AmendStudy implements store.Store: the check, the new definition and the
// trials are one write transaction. Returns copies; safe for concurrent use;
// durable on nil error.
func (s *Store) AmendStudy(ctx context.Context, study string, a store.Amendment) ([]store.Trial, error) {
	var out []store.Trial
	err := s.update(ctx, func(tx *bolt.Tx) error {
		st, def, err := s.studyAndDef(tx, study)
		if err != nil {
			return err
		}
		n, err := st.next()
		if err != nil {
			return err
		}
		amended, err := rules.Amend(def, n, a)
		if err != nil {
			return err
		}
		enc, err := store.EncodeStudy(amended)
		if err != nil {
			return err
		}
		if err := st.b.Put(kStudy, enc); err != nil {
			return err
		}
		now := s.now()
		for i, nt := range a.Enqueue {
			t, err := rules.NewTrial(amended, n+i, nt, now)
			if err != nil {
				return err
			}
			if t, err = st.put(t, ""); err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// StartTrial implements store.Store. Returns a copy; safe for concurrent
// use; durable on nil error.
func (s *Store) StartTrial(ctx context.Context, study string, number int, worker string) (store.Trial, error) {
	var out store.Trial
	err := s.update(ctx, func(tx *bolt.Tx) error {
		st, err := openStudy(tx, study)
		if err != nil {
			return err
		}
		out, err = s.start(st, number, worker)
		return err
	})
	return out, err
}

func (s *Store) start(st *studyTx, number int, worker string) (store.Trial, error) {
	t, err := st.trial(number)
	if err != nil {
		return store.Trial{}, err
	}
	prev := t.State
	if err := rules.Start(&t, worker, s.now()); err != nil {
		return store.Trial{}, err
	}
	return st.put(t, prev)
}

// ClaimTrial implements store.Store, taking the lowest number from the
// queued index. Returns a copy; safe for concurrent use; durable on nil
// error.
func (s *Store) ClaimTrial(ctx context.Context, study string, worker string) (store.Trial, error) {
	var out store.Trial
	err := s.update(ctx, func(tx *bolt.Tx) error {
		st, err := openStudy(tx, study)
		if err != nil {
			return err
		}
		k, _ := st.queued.Cursor().First()
		if k == nil {
			return fmt.Errorf("%w in study %q", store.ErrNoQueuedTrial, study)
		}
		n, ok := keyNum(k)
		if !ok {
			return fmt.Errorf("%w: study %q: queued key %x", store.ErrCorrupt, study, k)
		}
		out, err = s.start(st, n, worker)
		if errors.Is(err, store.ErrWrongState) || errors.Is(err, store.ErrTrialFinished) || errors.Is(err, store.ErrTrialNotFound) {
			return fmt.Errorf("%w: study %q: queued index lists trial %d: %v", store.ErrCorrupt, study, n, err)
		}
		return err
	})
	return out, err
}

// change runs fn on trial c.Number and writes the result, in one
// transaction.
func (s *Store) change(ctx context.Context, study string, number int, fn func(st *studyTx, t *store.Trial) error) (store.Trial, error) {
	var out store.Trial
	err := s.update(ctx, func(tx *bolt.Tx) error {
		st, err := openStudy(tx, study)
		if err != nil {
			return err
		}
		t, err := st.trial(number)
		if err != nil {
			return err
		}
		prev := t.State
		if err := fn(st, &t); err != nil {
			return err
		}
		out, err = st.put(t, prev)
		return err
	})
	return out, err
}

// ReportEpoch implements store.Store: metrics and checkpoint are written in
// one transaction. ckpt is copied into the file and not retained. Safe for
// concurrent use; durable on nil error.
func (s *Store) ReportEpoch(ctx context.Context, c store.Claim, m store.EpochMetrics, ckpt []byte) error {
	_, err := s.change(ctx, c.Study, c.Number, func(st *studyTx, t *store.Trial) error {
		if err := rules.Report(t, c, m, len(ckpt) > 0); err != nil {
			return err
		}
		if len(ckpt) == 0 {
			return nil
		}
		return st.ckpt.Put(key(t.Number), encodeCheckpoint(m.Epoch, ckpt))
	})
	return err
}

// PauseTrial implements store.Store. Returns a copy; safe for concurrent
// use; durable on nil error.
func (s *Store) PauseTrial(ctx context.Context, c store.Claim) (store.Trial, error) {
	return s.change(ctx, c.Study, c.Number, func(_ *studyTx, t *store.Trial) error {
		return rules.Pause(t, c)
	})
}

// ContinueTrial implements store.Store. Returns a copy; safe for
// concurrent use; durable on nil error.
func (s *Store) ContinueTrial(ctx context.Context, study string, number int, budget int) (store.Trial, error) {
	return s.change(ctx, study, number, func(_ *studyTx, t *store.Trial) error {
		return rules.Continue(t, budget)
	})
}

// FinishTrial implements store.Store: the result is written and the
// checkpoint deleted in one transaction. Returns a copy; safe for
// concurrent use; durable on nil error.
func (s *Store) FinishTrial(ctx context.Context, c store.Claim, r store.Result) (store.Trial, error) {
	return s.change(ctx, c.Study, c.Number, func(st *studyTx, t *store.Trial) error {
		if err := rules.Finish(t, c, r, s.now()); err != nil {
			return err
		}
		return st.ckpt.Delete(key(t.Number))
	})
}

// RequeueRunning implements store.Store. While this process has the file
// open no other process can, so every running trial is orphaned unless this
// process itself still runs it: call it before starting workers. Returns a
// new slice; safe for concurrent use; durable on nil error.
func (s *Store) RequeueRunning(ctx context.Context, study string) ([]int, error) {
	var out []int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		st, err := openStudy(tx, study)
		if err != nil {
			return err
		}
		// Collect first: bbolt cursors must not iterate a bucket that the
		// loop changes.
		c := st.running.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n, ok := keyNum(k)
			if !ok {
				return fmt.Errorf("%w: study %q: running key %x", store.ErrCorrupt, study, k)
			}
			out = append(out, n)
		}
		for _, n := range out {
			t, err := st.trial(n)
			if err != nil {
				return err
			}
			prev := t.State
			if err := rules.Requeue(&t); err != nil {
				return fmt.Errorf("%w: study %q: running index lists trial %d: %v", store.ErrCorrupt, study, n, err)
			}
			if _, err := st.put(t, prev); err != nil {
				return err
			}
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
	err := s.view(ctx, func(tx *bolt.Tx) error {
		st, err := openStudy(tx, study)
		if err == nil {
			out, err = st.trial(number)
		}
		return err
	})
	return out, err
}

// Trials implements store.Store. Returns copies; safe for concurrent use;
// reads one snapshot.
func (s *Store) Trials(ctx context.Context, study string) ([]store.Trial, error) {
	var out []store.Trial
	err := s.view(ctx, func(tx *bolt.Tx) error {
		st, err := openStudy(tx, study)
		if err == nil {
			out, err = st.allTrials()
		}
		return err
	})
	return out, err
}

// LiveTrials implements store.Store: it reads every trial and keeps the
// unfinished ones and those numbered from or higher. Returns copies; safe
// for concurrent use; reads one snapshot.
func (s *Store) LiveTrials(ctx context.Context, study string, from int) ([]store.Trial, error) {
	var out []store.Trial
	err := s.view(ctx, func(tx *bolt.Tx) error {
		st, err := openStudy(tx, study)
		if err != nil {
			return err
		}
		all, err := st.allTrials()
		for _, t := range all {
			if t.Number >= from || !t.State.Finished() {
				out = append(out, t)
			}
		}
		return err
	})
	return out, err
}

// Checkpoint implements store.Store. Data is a copy the caller owns; safe
// for concurrent use; reads only.
func (s *Store) Checkpoint(ctx context.Context, study string, number int) (store.Checkpoint, error) {
	var out store.Checkpoint
	err := s.view(ctx, func(tx *bolt.Tx) error {
		st, err := openStudy(tx, study)
		if err != nil {
			return err
		}
		if number < 0 || st.trials.Get(key(number)) == nil {
			return fmt.Errorf("%w: study %q has no trial %d", store.ErrTrialNotFound, study, number)
		}
		v := st.ckpt.Get(key(number))
		if v == nil {
			return fmt.Errorf("%w: study %q, trial %d", store.ErrCheckpointNotFound, study, number)
		}
		out, err = decodeCheckpoint(number, v)
		return err
	})
	return out, err
}

// PutSamplerState implements store.Store: the state and the trials it
// proposed are written in one transaction. Returns copies; safe for
// concurrent use; durable on nil error.
func (s *Store) PutSamplerState(ctx context.Context, study string, state store.SamplerState, enqueue []store.NewTrial) ([]store.Trial, error) {
	now := s.now()
	prepared, err := rules.PrepareSamplerState(state, now)
	if err != nil {
		return nil, err
	}
	var out []store.Trial
	err = s.update(ctx, func(tx *bolt.Tx) error {
		st, def, err := s.studyAndDef(tx, study)
		if err != nil {
			return err
		}
		k := key(prepared.Generation)
		if v := st.sampler.Get(k); v != nil {
			stored, err := st.decodeSampler(prepared.Generation, v)
			if err != nil {
				return err
			}
			for _, n := range stored.Trials {
				t, err := st.trial(n)
				if err != nil {
					return err
				}
				out = append(out, t)
			}
			return rules.SameSamplerState(stored, out, prepared, enqueue)
		}
		n, err := st.next()
		if err != nil {
			return err
		}
		rec := prepared
		for i, nt := range enqueue {
			nt.Generation = prepared.Generation
			t, err := rules.NewTrial(def, n+i, nt, now)
			if err != nil {
				return err
			}
			if t, err = st.put(t, ""); err != nil {
				return err
			}
			out = append(out, t)
			rec.Trials = append(rec.Trials, t.Number)
		}
		enc, err := store.EncodeSamplerState(rec)
		if err != nil {
			return err
		}
		return st.sampler.Put(k, enc)
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
	err := s.view(ctx, func(tx *bolt.Tx) error {
		st, err := openStudy(tx, study)
		if err == nil {
			out, err = st.samplerState(gen)
		}
		return err
	})
	return out, err
}

// LatestSamplerState implements store.Store. Returns a copy; safe for
// concurrent use; reads only.
func (s *Store) LatestSamplerState(ctx context.Context, study string) (store.SamplerState, error) {
	var out store.SamplerState
	err := s.view(ctx, func(tx *bolt.Tx) error {
		st, err := openStudy(tx, study)
		if err != nil {
			return err
		}
		k, v := st.sampler.Cursor().Last()
		if k == nil {
			return fmt.Errorf("%w: study %q has none", store.ErrSamplerStateNotFound, study)
		}
		gen, ok := keyNum(k)
		if !ok {
			return fmt.Errorf("%w: study %q: sampler key %x", store.ErrCorrupt, study, k)
		}
		out, err = st.decodeSampler(gen, v)
		return err
	})
	return out, err
}

// SamplerStates implements store.Store. Returns copies; safe for
// concurrent use; reads one snapshot.
func (s *Store) SamplerStates(ctx context.Context, study string) ([]store.SamplerState, error) {
	var out []store.SamplerState
	err := s.view(ctx, func(tx *bolt.Tx) error {
		st, err := openStudy(tx, study)
		if err == nil {
			out, err = st.allSamplerStates()
		}
		return err
	})
	return out, err
}

func (st *studyTx) allSamplerStates() ([]store.SamplerState, error) {
	var out []store.SamplerState
	c := st.sampler.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		gen, ok := keyNum(k)
		if !ok {
			return nil, fmt.Errorf("%w: study %q: sampler key %x", store.ErrCorrupt, st.name, k)
		}
		s, err := st.decodeSampler(gen, v)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (st *studyTx) allCheckpoints() ([]store.Checkpoint, error) {
	var out []store.Checkpoint
	c := st.ckpt.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		n, ok := keyNum(k)
		if !ok {
			return nil, fmt.Errorf("%w: study %q: checkpoint key %x", store.ErrCorrupt, st.name, k)
		}
		ck, err := decodeCheckpoint(n, v)
		if err != nil {
			return nil, fmt.Errorf("study %q: %w", st.name, err)
		}
		out = append(out, ck)
	}
	return out, nil
}

// Export implements store.Store, from one read transaction. Returns
// copies; safe for concurrent use; reads only.
func (s *Store) Export(ctx context.Context, study string) (store.Dump, error) {
	var d store.Dump
	err := s.view(ctx, func(tx *bolt.Tx) error {
		st, def, err := s.studyAndDef(tx, study)
		if err != nil {
			return err
		}
		d.Study = def
		if d.Trials, err = st.allTrials(); err != nil {
			return err
		}
		if d.SamplerStates, err = st.allSamplerStates(); err != nil {
			return err
		}
		d.Checkpoints, err = st.allCheckpoints()
		return err
	})
	return d, err
}

// Import implements store.Store, in one transaction (replacing a study
// deletes the old one in the same transaction). d is not retained; safe for
// concurrent use; durable on nil error.
func (s *Store) Import(ctx context.Context, d store.Dump, replace bool) error {
	if err := rules.ValidateDump(d); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		name := []byte(d.Study.Name)
		root := tx.Bucket(bStudies)
		if root.Bucket(name) != nil {
			if !replace {
				return fmt.Errorf("%w: %q", store.ErrStudyExists, d.Study.Name)
			}
			if err := root.DeleteBucket(name); err != nil {
				return err
			}
		}
		if _, err := createStudy(tx, d.Study); err != nil {
			return err
		}
		st, err := openStudy(tx, d.Study.Name)
		if err != nil {
			return err
		}
		for _, t := range d.Trials {
			t.Study = d.Study.Name
			if _, err := st.put(t, ""); err != nil {
				return err
			}
		}
		for _, ss := range d.SamplerStates {
			enc, err := store.EncodeSamplerState(ss)
			if err != nil {
				return err
			}
			if err := st.sampler.Put(key(ss.Generation), enc); err != nil {
				return err
			}
		}
		for _, c := range d.Checkpoints {
			if err := st.ckpt.Put(key(c.Trial), encodeCheckpoint(c.Epoch, c.Data)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Check verifies the whole file: bbolt's page-level consistency check, then
// that every record decodes, is stored under its own key, and agrees with
// the state indexes, checkpoints and sampler states. It is what tests run
// after each test, and what a "doctor" command can run. Safe for concurrent
// use; reads one snapshot.
func (s *Store) Check(ctx context.Context) error {
	return s.view(ctx, func(tx *bolt.Tx) error {
		// bbolt checks in a goroutine of its own, where a fault on a
		// damaged page cannot be recovered: read every key and value
		// here first, where it can (see recoverDamage).
		var sum byte
		if err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			x, err := walk(b, tx.Size(), 1)
			sum ^= touch(name) ^ x
			return err
		}); err != nil {
			return fmt.Errorf("%w: %s: %w", store.ErrCorrupt, s.path, err)
		}
		sink.Store(uint32(sum))
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("%w: %s: bbolt check: %w", store.ErrCorrupt, s.path, errors.Join(errs...))
		}
		c := tx.Bucket(bStudies).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if err := checkStudy(tx, string(k)); err != nil {
				return err
			}
		}
		return nil
	})
}

// maxDepth is the deepest nesting of buckets in the layout
// (studies/<name>/<index>), with room to spare; a damaged page can make a
// bucket its own ancestor.
const maxDepth = 8

// walk reads every key and value of b (at nesting depth) and its nested
// buckets, returning their bytes' xor, or an error for what no sound file
// holds: records larger than the file, buckets nested too deep.
func walk(b *bolt.Bucket, size int64, depth int) (byte, error) {
	if depth > maxDepth {
		return 0, fmt.Errorf("buckets nested more than %d deep", maxDepth)
	}
	var sum byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if int64(len(k))+int64(len(v)) > size {
			return 0, fmt.Errorf("a record of %d bytes in a file of %d", len(k)+len(v), size)
		}
		sum ^= touch(k)
		if v == nil {
			if nb := b.Bucket(k); nb != nil {
				x, err := walk(nb, size, depth+1)
				if err != nil {
					return 0, err
				}
				sum ^= x
			}
			continue
		}
		sum ^= touch(v)
	}
	return sum, nil
}

// sink keeps walk's reads from being optimised away.
var sink atomic.Uint32

func touch(b []byte) byte {
	var sum byte
	for _, x := range b {
		sum ^= x
	}
	return sum
}

func checkStudy(tx *bolt.Tx, name string) error {
	st, err := openStudy(tx, name)
	if err != nil {
		return err
	}
	if _, err := st.study(); err != nil {
		return err
	}
	trials, err := st.allTrials()
	if err != nil {
		return err
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: study %q: %s", store.ErrCorrupt, name, fmt.Sprintf(format, a...))
	}
	byNum := make(map[int]store.Trial, len(trials))
	for _, t := range trials {
		byNum[t.Number] = t
		for _, s := range []store.TrialState{store.Queued, store.Running} {
			if in := st.index(s).Get(key(t.Number)) != nil; in != (t.State == s) {
				return bad("trial %d is %s but the %s index says %v", t.Number, t.State, s, in)
			}
		}
		if (st.ckpt.Get(key(t.Number)) != nil) != (t.CheckpointEpoch > 0) {
			return bad("trial %d has checkpoint epoch %d but the checkpoint is missing or extra", t.Number, t.CheckpointEpoch)
		}
	}
	for _, s := range []store.TrialState{store.Queued, store.Running} {
		c := st.index(s).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n, ok := keyNum(k)
			if t, found := byNum[n]; !ok || !found || t.State != s {
				return bad("%s index lists %x", s, k)
			}
		}
	}
	ckpts, err := st.allCheckpoints()
	if err != nil {
		return err
	}
	for _, c := range ckpts {
		if byNum[c.Trial].CheckpointEpoch != c.Epoch {
			return bad("checkpoint of trial %d is of epoch %d, the trial says %d", c.Trial, c.Epoch, byNum[c.Trial].CheckpointEpoch)
		}
	}
	states, err := st.allSamplerStates()
	if err != nil {
		return err
	}
	for _, ss := range states {
		for _, n := range ss.Trials {
			if _, ok := byNum[n]; !ok {
				return bad("sampler state %d lists missing trial %d", ss.Generation, n)
			}
		}
	}
	return nil
}
