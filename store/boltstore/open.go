// Package boltstore is the single-file store.Store backend, on bbolt.
//
// One process at a time opens a store for writing: bbolt takes an exclusive
// flock on the file, and a second process gets store.ErrLocked after
// Options.Timeout (2 s by default) with a message naming the file. Because
// of that lock the process that has the store open knows that no other
// process runs trials of it, which is what makes RequeueRunning safe on
// resume.
//
// Any number of processes read the file beside its writer through
// OpenReader: the writer answers them on a Unix socket beside the file
// (FILE.sock), from its own read transactions, and when no process writes
// the file a Reader reads it directly, one call at a time. serve.go says why
// it is done so.
//
// Every change is one bbolt read-write transaction; bbolt's NoSync stays
// false, so when a method returns nil its change has been written and
// fsync'd, and survives kill -9 or a power cut. Reads are bbolt read
// transactions and run in parallel with each other and with one writer.
//
// bbolt panics on a damaged file (a page of the wrong type, a fault past
// the end of a truncated file); Open and every method turn those panics
// into store.ErrCorrupt naming the file, and a damaged file is never
// written to.
//
// Layout (all keys of numbered things are 8-byte big-endian, so cursors
// visit them in numeric order):
//
//	meta/format              "goalsearch"
//	meta/schema              decimal store.SchemaVersion of the file
//	studies/<name>/study     study record (store.EncodeStudy)
//	studies/<name>/trials/<n>    trial record (store.EncodeTrial)
//	studies/<name>/queued/<n>    empty: index of queued trials
//	studies/<name>/running/<n>   empty: index of running trials
//	studies/<name>/ckpt/<n>      checkpoint frame (see checkpoint.go)
//	studies/<name>/sampler/<g>   sampler state record (store.EncodeSamplerState)
package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"goalsearch/store"
)

// DefaultTimeout is how long Open waits for another process's lock.
const DefaultTimeout = 2 * time.Second

// formatName marks a bbolt file as a goalsearch store.
const formatName = "goalsearch"

// Options configures Open. A nil *Options means the defaults.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process before it returns store.ErrLocked. If Timeout is 0,
	// DefaultTimeout is used; a negative Timeout tries once.
	Timeout time.Duration

	// ReadOnly opens an existing store for reading only, under a shared
	// lock held until Close: several read-only processes may open it at
	// once, but not while a writer has it, and no writer can open it
	// meanwhile. Changes return store.ErrReadOnly. To read beside a
	// running search, use OpenReader instead.
	ReadOnly bool

	// Mode is the permission of a newly created file; 0 means 0o644.
	Mode os.FileMode
}

// Store is a store.Store in one bbolt file. It is safe for concurrent use
// by any number of goroutines.
type Store struct {
	db       *bolt.DB
	path     string
	readOnly bool
	now      func() time.Time

	// srv answers readers in other processes (nil if read-only, or if the
	// socket could not be made: serveErr says why).
	srv      *server
	serveErr error
}

var _ store.Store = (*Store)(nil)

// lockedError says which file is locked and how long Open waited; it
// matches store.ErrLocked with errors.Is.
type lockedError struct {
	path   string
	waited time.Duration
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("store: %s is locked by another process (waited %v)", e.path, e.waited)
}

func (e *lockedError) Unwrap() error { return store.ErrLocked }

// Open opens the store in the file at path, creating it unless
// opts.ReadOnly. It returns store.ErrLocked if another process holds the
// file after opts.Timeout, store.ErrNewerSchema if a newer goalsearch wrote
// it, and store.ErrNotStore if the file is something else. The returned
// Store holds the file (and its lock) until Close; it may be used from any
// goroutine. A new file's layout is durable when Open returns.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	timeout := o.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0:
		// bbolt waits forever on 0; 1ns makes it give up after one try.
		timeout = time.Nanosecond
	}
	mode := o.Mode
	if mode == 0 {
		mode = 0o644
	}
	if err := preflight(path); err != nil {
		return nil, err
	}
	start := time.Now()
	db, err := openBolt(path, mode, &bolt.Options{Timeout: timeout, ReadOnly: o.ReadOnly})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, &lockedError{path: path, waited: time.Since(start).Round(100 * time.Millisecond)}
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum),
		// bbolt has no error value for a file shorter than two pages.
		err != nil && strings.HasPrefix(err.Error(), "file size too small"):
		return nil, fmt.Errorf("%w: %s (%v)", store.ErrNotStore, path, err)
	case err != nil && strings.Contains(err.Error(), "file size too small"):
		return nil, fmt.Errorf("%w: %s is shorter than two pages (%v)", store.ErrNotStore, path, err)
	case err != nil && !errors.Is(err, store.ErrCorrupt):
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	case err != nil:
		return nil, err
	}
	s := &Store{db: db, path: path, readOnly: o.ReadOnly, now: time.Now}
	if err := s.initMeta(); err != nil {
		db.Close()
		return nil, err
	}
	if !o.ReadOnly {
		// Without the socket the store works as before, only readers in
		// other processes get ErrLocked; so a failure here is reported by
		// ReaderSocket, not by Open.
		s.srv, s.serveErr = s.serve()
	}
	return s, nil
}

// openBolt is bolt.Open, with bbolt's panics on a damaged file turned into
// ErrCorrupt; the file it opened (and its lock) is then closed.
func openBolt(path string, mode os.FileMode, o *bolt.Options) (db *bolt.DB, err error) {
	var file *os.File
	o.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		file = f
		return f, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if !fromBolt(r) {
				panic(r)
			}
			if file != nil {
				file.Close()
			}
			db, err = nil, damaged(path, r)
		}
	}()
	return bolt.Open(path, mode, o)
}

// damaged is the error of a damaged file.
func damaged(path string, why any) error {
	return fmt.Errorf("%w: %s is damaged (%v); restore it from a backup or an export", store.ErrCorrupt, path, why)
}

// fromBolt reports whether the panic being recovered, with value r, was
// raised in bbolt or is a memory fault (reading a mapped page past the end
// of a truncated file). Other panics are goalsearch's own bugs and go on.
func fromBolt(r any) bool {
	if e, ok := r.(runtime.Error); ok && strings.Contains(e.Error(), "fault") {
		return true
	}
	pc := make([]uintptr, 64)
	frames := runtime.CallersFrames(pc[:runtime.Callers(3, pc)])
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, "go.etcd.io/bbolt.") {
			return true
		}
		if !more {
			return false
		}
	}
}

// recoverDamage, deferred by a method, turns a bbolt panic into ErrCorrupt
// in *err.
func (s *Store) recoverDamage(err *error) {
	if r := recover(); r != nil {
		if !fromBolt(r) {
			panic(r)
		}
		*err = damaged(s.path, r)
	}
}

// initMeta checks the file's format and schema, writing them into a new
// file, so that a newer or foreign file is refused before any record is
// read.
func (s *Store) initMeta() (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.recoverDamage(&err)
	fresh := false
	err = s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil {
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty || s.readOnly {
				return fmt.Errorf("%w: %s has no goalsearch metadata", store.ErrNotStore, s.path)
			}
			fresh = true
			return nil
		}
		if f := meta.Get(kFormat); string(f) != formatName {
			return fmt.Errorf("%w: %s has format %.40q", store.ErrNotStore, s.path, f)
		}
		v, err := strconv.Atoi(string(meta.Get(kSchema)))
		switch {
		case err != nil || v < 1:
			return fmt.Errorf("%w: %s has schema version %.20q", store.ErrNotStore, s.path, meta.Get(kSchema))
		case v > store.SchemaVersion:
			return fmt.Errorf("%w (%s has schema version %d, this build reads up to %d): upgrade goalsearch to open it",
				store.ErrNewerSchema, s.path, v, store.SchemaVersion)
		}
		// Older schemas would be migrated here; version 1 is the first.
		if tx.Bucket(bStudies) == nil {
			// Every method relies on this bucket; no other process can
			// remove it while we hold the lock.
			return fmt.Errorf("%w: %s has no studies bucket", store.ErrNotStore, s.path)
		}
		return nil
	})
	if err != nil || !fresh {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bStudies); err != nil {
			return err
		}
		if err := meta.Put(kFormat, []byte(formatName)); err != nil {
			return err
		}
		return meta.Put(kSchema, []byte(strconv.Itoa(store.SchemaVersion)))
	})
}

// Path returns the file name the store was opened with. Safe to call at any
// time, also after Close.
func (s *Store) Path() string { return s.path }

// ReaderSocket returns the Unix socket on which the store answers readers
// in other processes (see OpenReader), or why it does not: it is read-only,
// or the socket could not be made. Safe to call at any time.
func (s *Store) ReaderSocket() (string, error) {
	switch {
	case s.readOnly:
		return "", errors.New("store: a read-only store does not serve readers")
	case s.srv == nil:
		return "", fmt.Errorf("store: %s does not serve readers: %w", s.path, s.serveErr)
	}
	return s.srv.socket, nil
}

// Close stops answering readers, then releases the file and its lock once
// transactions in progress end. Later calls return store.ErrClosed; Close
// itself may be called again.
func (s *Store) Close() error {
	if s.srv != nil {
		s.srv.close()
	}
	return s.db.Close()
}

// view runs fn in a read transaction, mapping bbolt's errors to the
// store's.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.recoverDamage(&err)
	return mapErr(s.db.View(fn))
}

// update runs fn in a read-write transaction, committed (and fsync'd) if
// fn returns nil and rolled back otherwise.
// bbolt's Update rolls back when fn panics, before recoverDamage sees it.
func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.recoverDamage(&err)
	return mapErr(s.db.Update(fn))
}

func mapErr(err error) error {
	switch {
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return store.ErrClosed
	case errors.Is(err, berrors.ErrDatabaseReadOnly):
		return store.ErrReadOnly
	}
	return err
}
