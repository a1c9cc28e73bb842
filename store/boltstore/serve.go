package boltstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"goalsearch/store"
)

// Readers beside a writer.
//
// bbolt cannot share a file between a writing process and reading
// processes: the writer holds an exclusive flock for its lifetime, and even
// without the lock a reader's mmap would be unsafe, because the writer
// reuses the pages freed by its own commits as soon as no read transaction
// *of its own* needs them, and knows nothing of another process's. Taking
// the lock per transaction instead would let a stopped reader (Ctrl-Z in the
// middle of an export) stall the search, and leaves a polling writer to race
// readers for the lock.
//
// So the writer answers readers itself. Open (for writing) listens on a
// Unix socket beside the file, FILE.sock, and serves the store's read
// methods on it as small HTTP/JSON requests, each answered from one read
// transaction of the writer's own: bbolt runs those beside its writes, so
// readers cost the writer a little CPU and never its lock. The records on
// the wire are the store's own codec records (store.EncodeTrial ...) and the
// export file format, which round-trip exactly. A Reader (OpenReader) asks
// the socket when a writer serves one and otherwise opens the file itself,
// read-only and only for the one call, so that a reader never keeps a search
// from starting.
//
// Crash safety: nothing about the socket is on the data path. The socket of
// a writer killed with -9 stays behind; connecting to it is refused, the
// reader then finds the file unlocked and reads it directly, and the next
// writer, once it holds the lock, replaces it.

// maxSocketPath is the longest socket path used beside the file; sun_path
// holds 104 bytes on the BSDs and macOS, 108 on Linux.
const maxSocketPath = 100

// socketPath is where the writer of the store file real (an absolute path
// without symbolic links) serves readers: beside it, or for a deep path in
// the temporary directory under a name derived from the path.
func socketPath(real string) string {
	if p := real + ".sock"; len(p) <= maxSocketPath {
		return p
	}
	h := sha256.Sum256([]byte(real))
	return filepath.Join(os.TempDir(), fmt.Sprintf("goalsearch-%x.sock", h[:8]))
}

// realPath resolves path to the absolute name without symbolic links that
// writer and readers agree on, whatever their working directories.
func realPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// storeHeader carries the reader's resolved file name, so that a server
// answers only for its own file (a hashed socket name could collide, and a
// file may have been replaced since the socket was made).
const storeHeader = "Goalsearch-Store"

// server serves a writer's store to readers.
type server struct {
	s      *Store
	info   fs.FileInfo
	socket string
	srv    *http.Server
	done   chan struct{}
	once   sync.Once
}

// serve starts answering readers of s on its socket. The caller holds the
// file's exclusive lock, so a socket already there is a dead writer's.
func (s *Store) serve() (*server, error) {
	real, err := realPath(s.path)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(real)
	if err != nil {
		return nil, err
	}
	sock := socketPath(real)
	if fi, err := os.Lstat(sock); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket", sock)
		}
		if err := os.Remove(sock); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, err
	}
	// Whoever may read the file may ask its writer (connecting to a socket
	// needs write permission on it).
	if err := os.Chmod(sock, socketMode(info.Mode())); err != nil {
		ln.Close()
		return nil, err
	}
	sv := &server{s: s, info: info, socket: sock, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/{op}", sv.handle)
	sv.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(sv.done)
		sv.srv.Serve(ln)
	}()
	return sv, nil
}

// socketMode gives read-and-write on the socket to each class (user,
// group, other) that may read the file.
func socketMode(m fs.FileMode) fs.FileMode {
	var out fs.FileMode
	for _, r := range []fs.FileMode{0o400, 0o040, 0o004} {
		if m&r != 0 {
			out |= r | r>>1
		}
	}
	return out
}

// close stops serving: open connections are closed, and the socket is
// removed before the caller releases the file lock, so a next writer's
// socket is never removed by this one.
func (sv *server) close() {
	sv.once.Do(func() {
		sv.srv.Close()
		<-sv.done
		os.Remove(sv.socket) // the listener unlinks it already; this covers a failed unlink
	})
}

// wireErrors names the sentinels a reader needs to tell apart.
var wireErrors = []struct {
	kind string
	err  error
}{
	{"study_not_found", store.ErrStudyNotFound},
	{"trial_not_found", store.ErrTrialNotFound},
	{"checkpoint_not_found", store.ErrCheckpointNotFound},
	{"sampler_state_not_found", store.ErrSamplerStateNotFound},
	{"corrupt", store.ErrCorrupt},
	{"newer_schema", store.ErrNewerSchema},
	{"closed", store.ErrClosed},
}

type wireError struct {
	Error string `json:"error"`
	Kind  string `json:"kind,omitempty"`
}

func (sv *server) handle(w http.ResponseWriter, r *http.Request) {
	if p := r.Header.Get(storeHeader); p == "" || !sv.sameFile(p) {
		writeErr(w, http.StatusMisdirectedRequest, fmt.Errorf("this socket serves %s, not %q", sv.s.path, p))
		return
	}
	q := r.URL.Query()
	op := r.PathValue("op")
	if op == "hello" {
		body, _ := json.Marshal(map[string]any{"path": sv.s.path, "pid": os.Getpid()})
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
		return
	}
	// The answer is built inside one read transaction from the records as
	// stored, copied and not decoded: the reader decodes and checks them,
	// so a poll costs the writer a copy of the bytes, not their parsing.
	buf := answerBufs.Get().(*bytes.Buffer)
	defer func() {
		buf.Reset()
		answerBufs.Put(buf)
	}()
	err := sv.s.view(r.Context(), func(tx *bolt.Tx) error {
		if op == "studies" {
			return rawStudies(tx, buf)
		}
		st, err := openStudy(tx, q.Get("study"))
		if err != nil {
			return err
		}
		switch op {
		case "study":
			buf.Write(st.b.Get(kStudy))
		case "trial":
			return st.rawTrial(buf, q.Get("number"))
		case "trials":
			from := -1
			if q.Has("from") {
				from = max(0, queryInt(q.Get("from")))
			}
			return st.rawTrials(buf, from)
		case "checkpoint":
			return st.rawCheckpoint(buf, q.Get("number"))
		case "sampler-state":
			return st.rawSamplerState(buf, q.Get("generation"))
		case "sampler-states":
			rawArray(buf, st.sampler.Cursor(), nil)
		case "export":
			buf.WriteString(`{"study":`)
			buf.Write(st.b.Get(kStudy))
			buf.WriteString(`,"trials":`)
			rawArray(buf, st.trials.Cursor(), nil)
			buf.WriteString(`,"sampler_states":`)
			rawArray(buf, st.sampler.Cursor(), nil)
			buf.WriteString(`,"checkpoints":[`)
			c := st.ckpt.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if buf.Bytes()[buf.Len()-1] != '[' {
					buf.WriteByte(',')
				}
				n, _ := keyNum(k)
				writeFrame(buf, n, v)
			}
			buf.WriteString("]}")
		default:
			return errUnknownOp
		}
		return nil
	})
	switch {
	case errors.Is(err, errUnknownOp):
		writeErr(w, http.StatusNotFound, fmt.Errorf("no read operation %q", op))
	case err != nil:
		writeErr(w, http.StatusUnprocessableEntity, err)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Write(buf.Bytes())
	}
}

var errUnknownOp = errors.New("unknown operation")

// answerBufs keeps the buffers of answers: a watching reader asks for the
// same large answer every half second, and reusing its buffer spares the
// writer allocating and clearing it each time.
var answerBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// queryInt parses a number of a query; anything else is -1, which no trial
// or generation has, so the answer is "not found" as for a negative number.
func queryInt(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// rawArray writes the values under c as a JSON array, those keep allows
// (all if keep is nil). Sub-buckets (nil values) are skipped.
func rawArray(buf *bytes.Buffer, c *bolt.Cursor, keep func(k, v []byte) bool) {
	buf.WriteByte('[')
	first := true
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil || keep != nil && !keep(k, v) {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.Write(v)
	}
	buf.WriteByte(']')
}

func rawStudies(tx *bolt.Tx, buf *bytes.Buffer) error {
	root := tx.Bucket(bStudies)
	if root == nil {
		return fmt.Errorf("%w: no studies bucket", store.ErrCorrupt)
	}
	buf.WriteByte('[')
	c := root.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		b := root.Bucket(k)
		if b == nil {
			continue
		}
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		buf.Write(b.Get(kStudy))
	}
	buf.WriteByte(']')
	return nil
}

func (st *studyTx) rawTrial(buf *bytes.Buffer, number string) error {
	n := queryInt(number)
	var v []byte
	if n >= 0 {
		v = st.trials.Get(key(n))
	}
	if v == nil {
		return fmt.Errorf("%w: study %q has no trial %s", store.ErrTrialNotFound, st.name, number)
	}
	buf.Write(v)
	return nil
}

// rawTrials writes every trial, or with from >= 0 those LiveTrials
// returns: every trial numbered from or higher, and below it the
// unfinished ones, found in the state indexes (queued, running) or, for
// paused trials, which have none, by their state alone.
func (st *studyTx) rawTrials(buf *bytes.Buffer, from int) error {
	var bad error
	keep := func(k, v []byte) bool {
		n, ok := keyNum(k)
		switch {
		case !ok:
			bad = fmt.Errorf("%w: study %q: trial key %x", store.ErrCorrupt, st.name, k)
			return false
		case from < 0 || n >= from:
			return true
		case st.queued.Get(k) != nil || st.running.Get(k) != nil:
			return true
		}
		var head struct {
			State store.TrialState `json:"state"`
		}
		if err := json.Unmarshal(v, &head); err != nil {
			bad = fmt.Errorf("%w: study %q: trial %d: %v", store.ErrCorrupt, st.name, n, err)
			return false
		}
		return head.State == store.Paused
	}
	rawArray(buf, st.trials.Cursor(), keep)
	return bad
}

func (st *studyTx) rawCheckpoint(buf *bytes.Buffer, number string) error {
	n := queryInt(number)
	if n < 0 || st.trials.Get(key(n)) == nil {
		return fmt.Errorf("%w: study %q has no trial %s", store.ErrTrialNotFound, st.name, number)
	}
	v := st.ckpt.Get(key(n))
	if v == nil {
		return fmt.Errorf("%w: study %q, trial %d", store.ErrCheckpointNotFound, st.name, n)
	}
	writeFrame(buf, n, v)
	return nil
}

// writeFrame writes a checkpoint as stored (see checkpoint.go), so the
// reader checks its CRC.
func writeFrame(buf *bytes.Buffer, trial int, frame []byte) {
	fmt.Fprintf(buf, `{"trial":%d,"frame":"`, trial)
	enc := base64.NewEncoder(base64.StdEncoding, buf)
	enc.Write(frame)
	enc.Close()
	buf.WriteString(`"}`)
}

func (st *studyTx) rawSamplerState(buf *bytes.Buffer, gen string) error {
	var v []byte
	if gen == "latest" {
		if _, v = st.sampler.Cursor().Last(); v == nil {
			return fmt.Errorf("%w: study %q has none", store.ErrSamplerStateNotFound, st.name)
		}
	} else if n := queryInt(gen); n >= 0 {
		v = st.sampler.Get(key(n))
	}
	if v == nil {
		return fmt.Errorf("%w: study %q, generation %s", store.ErrSamplerStateNotFound, st.name, gen)
	}
	buf.Write(v)
	return nil
}

// wireFrame is a checkpoint on the wire.
type wireFrame struct {
	Trial int    `json:"trial"`
	Frame []byte `json:"frame"`
}

// wireDump is an export on the wire: the stored records.
type wireDump struct {
	Study         json.RawMessage   `json:"study"`
	Trials        []json.RawMessage `json:"trials"`
	SamplerStates []json.RawMessage `json:"sampler_states"`
	Checkpoints   []wireFrame       `json:"checkpoints"`
}

func (sv *server) sameFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && os.SameFile(fi, sv.info)
}

func encodeList[T any](xs []T, enc func(T) ([]byte, error)) ([]byte, error) {
	list := make([]json.RawMessage, len(xs))
	for i, x := range xs {
		b, err := enc(x)
		if err != nil {
			return nil, err
		}
		list[i] = b
	}
	return json.Marshal(list)
}

func writeErr(w http.ResponseWriter, code int, err error) {
	we := wireError{Error: err.Error()}
	for _, e := range wireErrors {
		if errors.Is(err, e.err) {
			we.Kind = e.kind
			break
		}
	}
	if errors.Is(err, context.Canceled) {
		we.Kind = "canceled"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(we)
}
