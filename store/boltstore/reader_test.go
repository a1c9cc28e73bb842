package boltstore

import (
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"goalsearch/store"
	"goalsearch/store/storetest"
)

func openReader(t *testing.T, path string) *Reader {
	t.Helper()
	r, err := OpenReader(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestReaders runs the conformance suite's reader test with the reader
// asking the writer over its socket (the same process stands in for two:
// the socket does not know).
func TestReaders(t *testing.T) {
	w := openTemp(t)
	if _, err := w.ReaderSocket(); err != nil {
		t.Fatal(err)
	}
	storetest.Readers(t, w, func(t *testing.T) store.Store { return openReader(t, w.Path()) }, storetest.ReadersOptions{RefusesChanges: true})
}

// TestReaderWithoutWriter: with no writer a Reader reads the file itself,
// holds no lock between calls (a writer opens the file beside it), and
// switches to the writer's socket and back as the writer comes and goes.
func TestReaderWithoutWriter(t *testing.T) {
	w := openTemp(t)
	if _, err := w.CreateStudy(ctx, storetest.Study("s")); err != nil {
		t.Fatal(err)
	}
	path := w.Path()
	w.Close()
	if _, err := os.Stat(path + ".sock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket outlived its writer's Close: %v", err)
	}
	r := openReader(t, path)
	if _, err := r.Study(ctx, "s"); err != nil {
		t.Fatalf("reading the file directly: %v", err)
	}
	w2, err := Open(path, &Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("a writer beside an open Reader: %v", err)
	}
	if _, err := w2.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: []float64{0, 0, 0, 0, 0}}); err != nil {
		t.Fatal(err)
	}
	if ts, err := r.Trials(ctx, "s"); err != nil || len(ts) != 1 {
		t.Errorf("Trials through the writer = %d trials, %v; want 1", len(ts), err)
	}
	w2.Close()
	if ts, err := r.Trials(ctx, "s"); err != nil || len(ts) != 1 {
		t.Errorf("Trials after the writer closed = %d trials, %v; want 1", len(ts), err)
	}
	// Changes are refused, whether a writer runs or not.
	if _, err := r.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: []float64{0, 0, 0, 0, 0}}); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("EnqueueTrial on a Reader: %v, want ErrReadOnly", err)
	}
	if _, err := OpenReader(filepath.Join(t.TempDir(), "missing.db"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenReader of a missing file: %v, want ErrNotExist", err)
	}
	text := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(text, []byte(strings.Repeat("not a store\n", 500)), 0o644)
	if _, err := OpenReader(text, nil); !errors.Is(err, store.ErrNotStore) {
		t.Errorf("OpenReader of a text file: %v, want ErrNotStore", err)
	}
}

// TestReaderStaleSocket: the socket of a writer killed with -9 stays
// behind. A Reader reads the file past it, and the next writer replaces it.
func TestReaderStaleSocket(t *testing.T) {
	w := openTemp(t)
	if _, err := w.CreateStudy(ctx, storetest.Study("s")); err != nil {
		t.Fatal(err)
	}
	path := w.Path()
	w.Close()
	ln, err := net.Listen("unix", path+".sock")
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(path + ".sock"); err != nil {
		t.Fatalf("no stale socket to test with: %v", err)
	}
	r := openReader(t, path)
	if _, err := r.Study(ctx, "s"); err != nil {
		t.Fatalf("reading past a stale socket: %v", err)
	}
	w2, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if sock, err := w2.ReaderSocket(); err != nil || sock != path+".sock" {
		t.Fatalf("the next writer serves on %q, %v; want %s", sock, err, path+".sock")
	}
	if _, err := w2.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: []float64{0, 0, 0, 0, 0}}); err != nil {
		t.Fatal(err)
	}
	if ts, err := r.Trials(ctx, "s"); err != nil || len(ts) != 1 {
		t.Errorf("Trials through the new writer = %d trials, %v; want 1", len(ts), err)
	}
}

// TestReaderOfSilentWriter: a process that locks the file without serving
// readers (an older goalsearch; here bbolt itself) leaves a Reader with
// ErrLocked after its timeout, and a message that says why.
func TestReaderOfSilentWriter(t *testing.T) {
	w := openTemp(t)
	path := w.Path()
	w.Close()
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	_, err = OpenReader(path, &Options{Timeout: 300 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "does not serve readers") {
		t.Errorf("OpenReader of a file locked by a silent writer: %v, want ErrLocked saying it does not serve readers", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("gave up after %v, want about 300ms", d)
	}
}

// TestReaderLongPath: a path too long for a socket beside it is served from
// the temporary directory under a name both sides derive from the path.
func TestReaderLongPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := Open(filepath.Join(dir, "goalsearch.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sock, err := w.ReaderSocket()
	if err != nil || !strings.HasPrefix(sock, os.TempDir()) {
		t.Fatalf("ReaderSocket = %q, %v; want one in %s", sock, err, os.TempDir())
	}
	if _, err := w.CreateStudy(ctx, storetest.Study("s")); err != nil {
		t.Fatal(err)
	}
	r := openReader(t, filepath.Join(dir, "goalsearch.db"))
	if _, err := r.Study(ctx, "s"); err != nil {
		t.Errorf("reading beside a writer with a long path: %v", err)
	}
}

// BenchmarkServePoll measures what one poll of a watching reader costs the
// writer: the Study and Trials answers that 'goalsearch status STUDY' asks
// for, on a study of 300 finished trials of 3 epochs with 100 neurons'
// atoms each, served as the socket serves them. docs/search.md quotes it.
func BenchmarkServePoll(b *testing.B) {
	w, err := Open(filepath.Join(b.TempDir(), "goalsearch.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	if _, err := w.CreateStudy(ctx, storetest.Study("s")); err != nil {
		b.Fatal(err)
	}
	atoms := make([][]float64, 100)
	for i := range atoms {
		atoms[i] = []float64{0.1, 0.2, 0.3, 0.4, 0.5}
	}
	for i := 0; i < 300; i++ {
		if _, err := w.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: []float64{0.1, 0.2, 0.3, 0.4, 0}, Seed: uint64(i)}); err != nil {
			b.Fatal(err)
		}
		tr, err := w.ClaimTrial(ctx, "s", "w")
		if err != nil {
			b.Fatal(err)
		}
		for e := 1; e <= 3; e++ {
			if err := w.ReportEpoch(ctx, tr.Claim(), store.EpochMetrics{Epoch: e, TrainLoss: 0.3, TrainAcc: 0.9, ValAcc: 0.9, Seconds: 10}, nil); err != nil {
				b.Fatal(err)
			}
		}
		v := 0.9
		if _, err := w.FinishTrial(ctx, tr.Claim(), store.Result{State: store.Complete, Value: &v, Atoms: atoms, WallTime: 30 * time.Second}); err != nil {
			b.Fatal(err)
		}
	}
	real, _ := realPath(w.Path())
	ask := func(op string) int {
		req := httptest.NewRequest("GET", "/v1/"+op+"?study=s", nil)
		req.SetPathValue("op", op)
		req.Header.Set(storeHeader, real)
		rec := httptest.NewRecorder()
		w.srv.handle(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%s: %d %s", op, rec.Code, rec.Body)
		}
		return rec.Body.Len()
	}
	b.ReportAllocs()
	size, polls := 0, 0
	cpu0 := cpuTime(b)
	for b.Loop() {
		size = ask("study") + ask("trials")
		polls++
	}
	// CPU time, not wall time, is what the writer gives up on a busy
	// machine.
	b.ReportMetric(float64(cpuTime(b)-cpu0)/1e6/float64(polls), "cpu-ms/poll")
	b.ReportMetric(float64(size), "bytes/poll")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
