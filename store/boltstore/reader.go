package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"goalsearch/store"
)

// A Reader is a read-only store.Store on a store file that works beside the
// process writing it (see serve.go): each call is answered by the writer
// over its socket when one serves the file, and otherwise from the file,
// opened read-only for that call alone. So a Reader never keeps a search
// from opening the file, and sees every change the writer has committed.
//
// Every read is one snapshot (one read transaction, the writer's or its
// own); two calls may see different snapshots, as with any store shared with
// a writer. Changes return store.ErrReadOnly. A Reader is safe for
// concurrent use by any number of goroutines; returned values are copies.
type Reader struct {
	path    string // as given, for messages
	real    string // resolved, for the socket and the writer's check
	timeout time.Duration
	remote  *remote
	closed  atomic.Bool
}

var _ store.Store = (*Reader)(nil)

// errNoServer means no writer answered on the socket: there is none, it
// serves another file, or it is closing. The Reader then reads the file.
var errNoServer = errors.New("boltstore: no writer serves the file")

// OpenReader opens the store in the existing file at path for reading,
// whether or not another process has it open for writing. opts.Timeout is
// how long a call waits while the file is locked by a process that does
// not serve readers (an older goalsearch, or a writer starting up) before
// it returns store.ErrLocked; opts.ReadOnly and opts.Mode are ignored.
// Like Open it returns store.ErrNotStore and store.ErrNewerSchema, and an
// error matching os.ErrNotExist for a missing file. The Reader holds no
// lock between calls; Close releases its idle connections.
func OpenReader(path string, opts *Options) (*Reader, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	timeout := o.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0:
		timeout = 0
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	real, err := realPath(path)
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	r := &Reader{path: path, real: real, timeout: timeout, remote: newRemote(real)}
	// The first call checks what Open checks: that the file is a store this
	// build reads, and that whoever serves it serves this file.
	err = r.do(context.Background(), func(rd reads) error {
		if rm, ok := rd.(*remote); ok {
			return rm.get(context.Background(), "hello", nil, func([]byte) error { return nil })
		}
		return nil
	})
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// reads are the methods of store.Store that change nothing; a Reader
// sends each to the writer or to the file.
type reads interface {
	Study(ctx context.Context, name string) (store.Study, error)
	Studies(ctx context.Context) ([]store.Study, error)
	Trial(ctx context.Context, study string, number int) (store.Trial, error)
	Trials(ctx context.Context, study string) ([]store.Trial, error)
	LiveTrials(ctx context.Context, study string, from int) ([]store.Trial, error)
	Checkpoint(ctx context.Context, study string, number int) (store.Checkpoint, error)
	SamplerState(ctx context.Context, study string, gen int) (store.SamplerState, error)
	LatestSamplerState(ctx context.Context, study string) (store.SamplerState, error)
	SamplerStates(ctx context.Context, study string) ([]store.SamplerState, error)
	Export(ctx context.Context, study string) (store.Dump, error)
}

// retryEvery is how often a call looks again at a file locked by a process
// that does not (yet) serve readers; it is bbolt's own lock retry interval.
const retryEvery = 50 * time.Millisecond

// do runs fn against the writer's socket or, if no writer answers, against
// the file opened read-only for this call.
func (r *Reader) do(ctx context.Context, fn func(reads) error) error {
	if r.closed.Load() {
		return store.ErrClosed
	}
	start := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn(r.remote)
		if !errors.Is(err, errNoServer) {
			return err
		}
		s, err := Open(r.path, &Options{ReadOnly: true, Timeout: -1})
		if err == nil {
			err = fn(s)
			s.Close()
			return err
		}
		if !errors.Is(err, store.ErrLocked) {
			return err
		}
		if time.Since(start) >= r.timeout {
			return fmt.Errorf("%w (no reader socket at %s: the process that has it open does not serve readers, "+
				"e.g. an older goalsearch)", &lockedError{path: r.path, waited: time.Since(start).Round(100 * time.Millisecond)},
				socketPath(r.real))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(retryEvery):
		}
	}
}

// Path returns the file name the Reader was opened with.
func (r *Reader) Path() string { return r.path }

// Close releases the Reader's connections. Later calls return
// store.ErrClosed; Close may be called again and returns nil.
func (r *Reader) Close() error {
	r.closed.Store(true)
	r.remote.client.CloseIdleConnections()
	return nil
}

func (r *Reader) readOnly(what string) error {
	if r.closed.Load() {
		return store.ErrClosed
	}
	return fmt.Errorf("%w: %s of %s", store.ErrReadOnly, what, r.path)
}

// The reads, each one call of do.

// Study implements store.Store.
func (r *Reader) Study(ctx context.Context, name string) (out store.Study, err error) {
	err = r.do(ctx, func(s reads) (err error) { out, err = s.Study(ctx, name); return })
	return
}

// Studies implements store.Store.
func (r *Reader) Studies(ctx context.Context) (out []store.Study, err error) {
	err = r.do(ctx, func(s reads) (err error) { out, err = s.Studies(ctx); return })
	return
}

// Trial implements store.Store.
func (r *Reader) Trial(ctx context.Context, study string, number int) (out store.Trial, err error) {
	err = r.do(ctx, func(s reads) (err error) { out, err = s.Trial(ctx, study, number); return })
	return
}

// Trials implements store.Store.
func (r *Reader) Trials(ctx context.Context, study string) (out []store.Trial, err error) {
	err = r.do(ctx, func(s reads) (err error) { out, err = s.Trials(ctx, study); return })
	return
}

// LiveTrials implements store.Store.
func (r *Reader) LiveTrials(ctx context.Context, study string, from int) (out []store.Trial, err error) {
	err = r.do(ctx, func(s reads) (err error) { out, err = s.LiveTrials(ctx, study, from); return })
	return
}

// Checkpoint implements store.Store.
func (r *Reader) Checkpoint(ctx context.Context, study string, number int) (out store.Checkpoint, err error) {
	err = r.do(ctx, func(s reads) (err error) { out, err = s.Checkpoint(ctx, study, number); return })
	return
}

// SamplerState implements store.Store.
func (r *Reader) SamplerState(ctx context.Context, study string, gen int) (out store.SamplerState, err error) {
	err = r.do(ctx, func(s reads) (err error) { out, err = s.SamplerState(ctx, study, gen); return })
	return
}

// LatestSamplerState implements store.Store.
func (r *Reader) LatestSamplerState(ctx context.Context, study string) (out store.SamplerState, err error) {
	err = r.do(ctx, func(s reads) (err error) { out, err = s.LatestSamplerState(ctx, study); return })
	return
}

// SamplerStates implements store.Store.
func (r *Reader) SamplerStates(ctx context.Context, study string) (out []store.SamplerState, err error) {
	err = r.do(ctx, func(s reads) (err error) { out, err = s.SamplerStates(ctx, study); return })
	return
}

// Export implements store.Store, from one snapshot.
func (r *Reader) Export(ctx context.Context, study string) (out store.Dump, err error) {
	err = r.do(ctx, func(s reads) (err error) { out, err = s.Export(ctx, study); return })
	return
}

// The changes, all refused.

// CreateStudy returns store.ErrReadOnly.
func (r *Reader) CreateStudy(context.Context, store.Study) (store.Study, error) {
	return store.Study{}, r.readOnly("CreateStudy")
}

// DeleteStudy returns store.ErrReadOnly.
func (r *Reader) DeleteStudy(context.Context, string) error { return r.readOnly("DeleteStudy") }

// AmendStudy returns store.ErrReadOnly.
func (r *Reader) AmendStudy(context.Context, string, store.Amendment) ([]store.Trial, error) {
	return nil, r.readOnly("AmendStudy")
}

// EnqueueTrial returns store.ErrReadOnly.
func (r *Reader) EnqueueTrial(context.Context, string, store.NewTrial) (store.Trial, error) {
	return store.Trial{}, r.readOnly("EnqueueTrial")
}

// StartTrial returns store.ErrReadOnly.
func (r *Reader) StartTrial(context.Context, string, int, string) (store.Trial, error) {
	return store.Trial{}, r.readOnly("StartTrial")
}

// ClaimTrial returns store.ErrReadOnly.
func (r *Reader) ClaimTrial(context.Context, string, string) (store.Trial, error) {
	return store.Trial{}, r.readOnly("ClaimTrial")
}

// ReportEpoch returns store.ErrReadOnly.
func (r *Reader) ReportEpoch(context.Context, store.Claim, store.EpochMetrics, []byte) error {
	return r.readOnly("ReportEpoch")
}

// PauseTrial returns store.ErrReadOnly.
func (r *Reader) PauseTrial(context.Context, store.Claim) (store.Trial, error) {
	return store.Trial{}, r.readOnly("PauseTrial")
}

// ContinueTrial returns store.ErrReadOnly.
func (r *Reader) ContinueTrial(context.Context, string, int, int) (store.Trial, error) {
	return store.Trial{}, r.readOnly("ContinueTrial")
}

// FinishTrial returns store.ErrReadOnly.
func (r *Reader) FinishTrial(context.Context, store.Claim, store.Result) (store.Trial, error) {
	return store.Trial{}, r.readOnly("FinishTrial")
}

// RequeueRunning returns store.ErrReadOnly.
func (r *Reader) RequeueRunning(context.Context, string) ([]int, error) {
	return nil, r.readOnly("RequeueRunning")
}

// PutSamplerState returns store.ErrReadOnly.
func (r *Reader) PutSamplerState(context.Context, string, store.SamplerState, []store.NewTrial) ([]store.Trial, error) {
	return nil, r.readOnly("PutSamplerState")
}

// Import returns store.ErrReadOnly.
func (r *Reader) Import(context.Context, store.Dump, bool) error { return r.readOnly("Import") }

// remote asks a writer's socket.
type remote struct {
	real   string
	client *http.Client
}

// answerTimeout bounds the wait for a writer that accepted a connection but
// does not answer (stopped with Ctrl-Z, say): the file is locked, so reading
// it instead is no way out, and a clear error beats a hang.
const answerTimeout = 30 * time.Second

func newRemote(real string) *remote {
	sock := socketPath(real)
	var d net.Dialer
	return &remote{real: real, client: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", sock)
		},
		ResponseHeaderTimeout: answerTimeout,
		MaxIdleConnsPerHost:   4,
	}}}
}

// get asks the writer for op with the query q and hands the answer's body
// to decode. A writer that is not there, serves another file or is closing
// is errNoServer.
func (rm *remote) get(ctx context.Context, op string, q url.Values, decode func([]byte) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://store/v1/"+op+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set(storeHeader, rm.real)
	resp, err := rm.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("store: the process writing %s did not answer within %v: %w", rm.real, answerTimeout, err)
		}
		return errNoServer
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errNoServer // the writer went away mid-answer: read again
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return decode(body)
	case http.StatusMisdirectedRequest:
		return errNoServer
	}
	var we wireError
	if err := json.Unmarshal(body, &we); err != nil || we.Error == "" {
		return fmt.Errorf("store: the process writing %s answered %s", rm.real, resp.Status)
	}
	switch we.Kind {
	case "closed":
		return errNoServer
	case "canceled":
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return context.Canceled
	}
	for _, e := range wireErrors {
		if e.kind == we.Kind {
			return &remoteError{msg: we.Error, sentinel: e.err}
		}
	}
	return errors.New(we.Error)
}

// remoteError is an error the writer returned, matching the same sentinel
// with errors.Is as it did there.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

func studyQuery(study string, more ...string) url.Values {
	q := url.Values{"study": {study}}
	for i := 0; i+1 < len(more); i += 2 {
		q.Set(more[i], more[i+1])
	}
	return q
}

func decodeList[T any](body []byte, dec func([]byte) (T, error)) ([]T, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("%w: a writer's answer: %v", store.ErrCorrupt, err)
	}
	var out []T
	for _, b := range raw {
		x, err := dec(b)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func (rm *remote) Study(ctx context.Context, name string) (out store.Study, err error) {
	err = rm.get(ctx, "study", studyQuery(name), func(b []byte) (err error) { out, err = store.DecodeStudy(b); return })
	return
}

func (rm *remote) Studies(ctx context.Context) (out []store.Study, err error) {
	err = rm.get(ctx, "studies", nil, func(b []byte) (err error) { out, err = decodeList(b, store.DecodeStudy); return })
	return
}

func (rm *remote) Trial(ctx context.Context, study string, number int) (out store.Trial, err error) {
	err = rm.get(ctx, "trial", studyQuery(study, "number", strconv.Itoa(number)), func(b []byte) (err error) {
		if out, err = store.DecodeTrial(b); err == nil && out.Number != number {
			err = fmt.Errorf("%w: study %q: trial %d is stored under %d", store.ErrCorrupt, study, out.Number, number)
		}
		out.Study = study
		return
	})
	return
}

func (rm *remote) trials(ctx context.Context, q url.Values) (out []store.Trial, err error) {
	err = rm.get(ctx, "trials", q, func(b []byte) (err error) {
		out, err = decodeList(b, store.DecodeTrial)
		for i := range out {
			out[i].Study = q.Get("study")
		}
		return
	})
	return
}

func (rm *remote) Trials(ctx context.Context, study string) ([]store.Trial, error) {
	return rm.trials(ctx, studyQuery(study))
}

func (rm *remote) LiveTrials(ctx context.Context, study string, from int) ([]store.Trial, error) {
	return rm.trials(ctx, studyQuery(study, "from", strconv.Itoa(from)))
}

func (rm *remote) Checkpoint(ctx context.Context, study string, number int) (out store.Checkpoint, err error) {
	err = rm.get(ctx, "checkpoint", studyQuery(study, "number", strconv.Itoa(number)), func(b []byte) error {
		var f wireFrame
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("%w: a writer's checkpoint: %v", store.ErrCorrupt, err)
		}
		out, err = decodeCheckpoint(f.Trial, f.Frame)
		return err
	})
	return
}

func (rm *remote) SamplerState(ctx context.Context, study string, gen int) (out store.SamplerState, err error) {
	err = rm.get(ctx, "sampler-state", studyQuery(study, "generation", strconv.Itoa(gen)), func(b []byte) (err error) {
		out, err = store.DecodeSamplerState(b)
		return
	})
	return
}

func (rm *remote) LatestSamplerState(ctx context.Context, study string) (out store.SamplerState, err error) {
	err = rm.get(ctx, "sampler-state", studyQuery(study, "generation", "latest"), func(b []byte) (err error) {
		out, err = store.DecodeSamplerState(b)
		return
	})
	return
}

func (rm *remote) SamplerStates(ctx context.Context, study string) (out []store.SamplerState, err error) {
	err = rm.get(ctx, "sampler-states", studyQuery(study), func(b []byte) (err error) {
		out, err = decodeList(b, store.DecodeSamplerState)
		return
	})
	return
}

func (rm *remote) Export(ctx context.Context, study string) (out store.Dump, err error) {
	err = rm.get(ctx, "export", studyQuery(study), func(b []byte) error {
		var wd wireDump
		if err := json.Unmarshal(b, &wd); err != nil {
			return fmt.Errorf("%w: a writer's export: %v", store.ErrCorrupt, err)
		}
		var d store.Dump
		var err error
		if d.Study, err = store.DecodeStudy(wd.Study); err != nil {
			return err
		}
		for _, raw := range wd.Trials {
			t, err := store.DecodeTrial(raw)
			if err != nil {
				return err
			}
			t.Study = study
			d.Trials = append(d.Trials, t)
		}
		for _, raw := range wd.SamplerStates {
			s, err := store.DecodeSamplerState(raw)
			if err != nil {
				return err
			}
			d.SamplerStates = append(d.SamplerStates, s)
		}
		for _, f := range wd.Checkpoints {
			c, err := decodeCheckpoint(f.Trial, f.Frame)
			if err != nil {
				return err
			}
			d.Checkpoints = append(d.Checkpoints, c)
		}
		out = d
		return nil
	})
	return
}
