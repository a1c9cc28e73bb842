package boltstore

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"goalsearch/store"
	"goalsearch/store/storetest"
)

var ctx = context.Background()

// openTemp opens a new store in a temporary directory. When the test ends
// it closes the store (if the test did not), opens the file again, which
// checks that everything was persisted in a readable form, and runs Check
// (bbolt's page check, then record and index consistency).
func openTemp(t *testing.T) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "goalsearch.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { checkFile(t, s) })
	return s
}

func checkFile(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	again, err := Open(s.Path(), &Options{ReadOnly: true})
	if err != nil {
		t.Errorf("reopening %s: %v", s.Path(), err)
		return
	}
	defer again.Close()
	if err := again.Check(ctx); err != nil {
		t.Errorf("consistency check: %v", err)
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// TestRandomizedReopen runs the randomized model test with the store
// closed and reopened from its file now and then.
func TestRandomizedReopen(t *testing.T) {
	for seed := uint64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			s := openTemp(t)
			storetest.Randomized(t, s, storetest.RandomOptions{Seed: seed, Steps: 500, Reopen: func(old store.Store) store.Store {
				if err := old.Close(); err != nil {
					t.Fatal(err)
				}
				s, err := Open(old.(*Store).Path(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Check(ctx); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}})
		})
	}
}

func TestLockInProcess(t *testing.T) {
	s := openTemp(t)
	start := time.Now()
	_, err := Open(s.Path(), &Options{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("second Open gave up after %v, want about 200ms", d)
	}
	if !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("error %q does not name the file and the lock", err)
	}
	_, err = Open(s.Path(), &Options{Timeout: -1})
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("Open with a negative timeout: %v, want ErrLocked", err)
	}
	_, err = Open(s.Path(), &Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("read-only Open of a store open for writing: %v, want ErrLocked", err)
	}
}

const lockChildEnv = "GOALSEARCH_STORE_LOCK_CHILD"

// TestLockTwoProcesses holds a store open while a second process (this test
// binary, re-executed) opens it with the default timeout: the second must
// fail with ErrLocked, naming the file, within about 2 s.
func TestLockTwoProcesses(t *testing.T) {
	if os.Getenv(lockChildEnv) != "" {
		t.Skip("in the child process")
	}
	t.Parallel()
	s := openTemp(t)
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockChild$", "-test.v")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+s.Path())
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "child got ErrLocked") {
		t.Fatalf("child did not report ErrLocked:\n%s", out)
	}
	// Up to 2.5 s in the child (see TestLockChild), plus its start.
	if elapsed > 6*time.Second {
		t.Errorf("child took %v", elapsed)
	}
	t.Logf("child, in %v:\n%s", elapsed.Round(time.Millisecond), out)
}

// TestLockChild is the second process of TestLockTwoProcesses.
func TestLockChild(t *testing.T) {
	path := os.Getenv(lockChildEnv)
	if path == "" {
		t.Skip("only run as the child of TestLockTwoProcesses")
	}
	start := time.Now()
	s, err := Open(path, nil)
	elapsed := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatal("child opened a store that another process holds")
	}
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("child: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if elapsed < DefaultTimeout-100*time.Millisecond || elapsed > 2500*time.Millisecond {
		t.Errorf("child waited %v, want about %v and at most 2.5s", elapsed, DefaultTimeout)
	}
	fmt.Printf("child got ErrLocked after %v: %v\n", elapsed.Round(time.Millisecond), err)
}

func TestReadOnly(t *testing.T) {
	s := openTemp(t)
	if _, err := s.CreateStudy(ctx, storetest.Study("s")); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	s.Close()
	r1, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	r2, err := Open(path, &Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("second reader: %v", err)
	}
	defer r2.Close()
	if _, err := r2.Study(ctx, "s"); err != nil {
		t.Errorf("reading a read-only store: %v", err)
	}
	_, err = r1.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: []float64{0, 0, 0, 0, 0}})
	if !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("EnqueueTrial on a read-only store: %v, want ErrReadOnly", err)
	}
	_, err = Open(path, &Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("opening for writing while read: %v, want ErrLocked", err)
	}
	_, err = Open(filepath.Join(t.TempDir(), "missing.db"), &Options{ReadOnly: true})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only Open of a missing file: %v, want ErrNotExist", err)
	}
}

// rawUpdate changes a closed store's file with bbolt directly.
func rawUpdate(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "goalsearch.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put(kSchema, []byte(strconv.Itoa(store.SchemaVersion+1)))
	})
	for _, ro := range []bool{false, true} {
		_, err = Open(path, &Options{ReadOnly: ro})
		if !errors.Is(err, store.ErrNewerSchema) {
			t.Fatalf("Open (read-only %t) of a newer store: %v, want ErrNewerSchema", ro, err)
		}
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "upgrade goalsearch") {
			t.Errorf("error %q should name the file and say to upgrade", msg)
		}
	}
}

func TestNotStore(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "results.csv")
	if err := os.WriteFile(text, []byte(strings.Repeat("number,state\n0,complete\n", 400)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(text, nil); !errors.Is(err, store.ErrNotStore) || !strings.Contains(err.Error(), text) {
		t.Errorf("Open of a CSV file: %v, want ErrNotStore naming it", err)
	}

	other := filepath.Join(dir, "other.db")
	rawUpdate(t, other, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("etcd")); return err })
	if _, err := Open(other, nil); !errors.Is(err, store.ErrNotStore) {
		t.Errorf("Open of another program's bbolt file: %v, want ErrNotStore", err)
	}

	wrong := filepath.Join(dir, "wrong.db")
	rawUpdate(t, wrong, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bMeta)
		if err == nil {
			err = b.Put(kFormat, []byte("optuna"))
		}
		return err
	})
	if _, err := Open(wrong, nil); !errors.Is(err, store.ErrNotStore) {
		t.Errorf("Open of a file of another format: %v, want ErrNotStore", err)
	}
}

// corrupt writes value under a study's sub-bucket key with bbolt directly.
func corrupt(t *testing.T, s *Store, bucket []byte, k, value []byte) {
	t.Helper()
	s.Close()
	rawUpdate(t, s.Path(), func(tx *bolt.Tx) error {
		return tx.Bucket(bStudies).Bucket([]byte("s")).Bucket(bucket).Put(k, value)
	})
}

func TestDamagedRecords(t *testing.T) {
	setup := func(t *testing.T) *Store {
		path := filepath.Join(t.TempDir(), "goalsearch.db")
		s, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.CreateStudy(ctx, storetest.Study("s"))
		s.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: []float64{0, 0, 0, 0, 0}})
		tr, _ := s.ClaimTrial(ctx, "s", "w")
		if err := s.ReportEpoch(ctx, tr.Claim(), store.EpochMetrics{Epoch: 1}, []byte("weights")); err != nil {
			t.Fatal(err)
		}
		return s
	}
	reopen := func(t *testing.T, s *Store) *Store {
		s2, err := Open(s.Path(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s2.Close() })
		return s2
	}
	t.Run("garbage trial", func(t *testing.T) {
		s := setup(t)
		corrupt(t, s, bTrials, key(0), []byte(`{"v":1,"number":0,"state":"running","gamma":[0]`))
		s = reopen(t, s)
		if _, err := s.Trial(ctx, "s", 0); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("Trial of a garbage record: %v, want ErrCorrupt", err)
		}
		if err := s.Check(ctx); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("Check: %v, want ErrCorrupt", err)
		}
	})
	t.Run("newer trial", func(t *testing.T) {
		s := setup(t)
		corrupt(t, s, bTrials, key(0), []byte(`{"v":2,"number":0,"state":"running","future":true}`))
		s = reopen(t, s)
		_, err := s.Trial(ctx, "s", 0)
		if !errors.Is(err, store.ErrNewerSchema) || !strings.Contains(err.Error(), "upgrade goalsearch") {
			t.Errorf("Trial of a newer record: %v, want ErrNewerSchema", err)
		}
	})
	t.Run("trial under the wrong key", func(t *testing.T) {
		s := setup(t)
		s2 := reopen(t, s)
		tr, _ := s2.Trial(ctx, "s", 0)
		s2.Close()
		enc, _ := store.EncodeTrial(tr)
		corrupt(t, s, bTrials, key(1), enc)
		s = reopen(t, s)
		if _, err := s.Trial(ctx, "s", 1); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("Trial stored under another number: %v, want ErrCorrupt", err)
		}
	})
	t.Run("flipped checkpoint byte", func(t *testing.T) {
		s := setup(t)
		frame := encodeCheckpoint(1, []byte("weights"))
		frame[len(frame)-1] ^= 1
		corrupt(t, s, bCkpt, key(0), frame)
		s = reopen(t, s)
		if _, err := s.Checkpoint(ctx, "s", 0); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("Checkpoint with a flipped byte: %v, want ErrCorrupt", err)
		}
	})
	t.Run("index out of step", func(t *testing.T) {
		s := setup(t)
		corrupt(t, s, bQueued, key(0), nil)
		s = reopen(t, s)
		if err := s.Check(ctx); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("Check with a running trial in the queued index: %v, want ErrCorrupt", err)
		}
		if _, err := s.ClaimTrial(ctx, "s", "w"); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("ClaimTrial of a running trial listed as queued: %v, want ErrCorrupt", err)
		}
	})
}

func TestCheckpointFrame(t *testing.T) {
	for _, data := range [][]byte{{0}, []byte("weights"), make([]byte, 70000)} {
		ck, err := decodeCheckpoint(3, encodeCheckpoint(12, data))
		if err != nil || ck.Trial != 3 || ck.Epoch != 12 || string(ck.Data) != string(data) {
			t.Errorf("round trip of %d bytes: %+v, %v", len(data), ck.Epoch, err)
		}
	}
	frame := encodeCheckpoint(1, []byte("x"))
	frame[0] = ckptVersion + 1
	if _, err := decodeCheckpoint(0, frame); !errors.Is(err, store.ErrNewerSchema) {
		t.Errorf("newer frame: %v, want ErrNewerSchema", err)
	}
}

func FuzzDecodeCheckpoint(f *testing.F) {
	f.Add(encodeCheckpoint(1, []byte("weights")))
	f.Add(encodeCheckpoint(100, make([]byte, 40)))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ck, err := decodeCheckpoint(0, b)
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) && !errors.Is(err, store.ErrNewerSchema) {
				t.Fatalf("error %v is neither ErrCorrupt nor ErrNewerSchema", err)
			}
			return
		}
		if again := encodeCheckpoint(ck.Epoch, ck.Data); string(again) != string(b) {
			t.Fatalf("decoded frame does not re-encode to itself")
		}
	})
}

// TestStudyConfigKeptOpaque checks that configurations come back as the
// JSON they were (compacted), with HTML characters unescaped.
func TestStudyConfigKeptOpaque(t *testing.T) {
	s := openTemp(t)
	def := storetest.Study("s")
	def.Sampler.Config = json.RawMessage(`{"note": "a<b && c>d", "x": 1e-7}`)
	got, err := s.CreateStudy(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"note":"a<b && c>d","x":1e-7}`; string(got.Sampler.Config) != want {
		t.Errorf("config = %s, want %s", got.Sampler.Config, want)
	}
}

const crashChildEnv = "GOALSEARCH_STORE_CRASH_CHILD"

// TestKillNine runs a search loop in a second process and kills it with
// SIGKILL, then checks that the file is consistent, that every change the
// child was told had succeeded is there, and that the interrupted trial
// resumes from its checkpoint. "mid-write" kills the child while it writes
// as fast as it can, at an unknown point; "idle" kills it at a known point
// (after epoch 2 of trial 9), so that the resume is always exercised.
func TestKillNine(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("in the child process")
	}
	for _, mode := range []string{"mid-write", "idle"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			killNine(t, mode)
		})
	}
}

func killNine(t *testing.T, mode string) {
	path := filepath.Join(t.TempDir(), "goalsearch.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+mode+":"+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// acked[n] is the last epoch of trial n the child saw committed, with
	// -1 for "finished".
	acked := map[int]int{}
	lines := bufio.NewScanner(out)
	const killAfter = 38 // acknowledgements: trial 9, epoch 2
	count := 0
	for count < killAfter && lines.Scan() {
		var n, e int
		if _, err := fmt.Sscanf(lines.Text(), "ack %d %d", &n, &e); err == nil {
			acked[n] = e
			count++
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	cmd.Wait()
	if count < killAfter {
		t.Fatalf("child stopped after %d acknowledgements", count)
	}

	s, err := Open(path, &Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("reopening after kill -9: %v", err)
	}
	t.Cleanup(func() { checkFile(t, s) })
	if err := s.Check(ctx); err != nil {
		t.Fatalf("after kill -9: %v", err)
	}
	ts, err := s.Trials(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	for n, e := range acked {
		if n >= len(ts) {
			t.Fatalf("acknowledged trial %d is missing", n)
		}
		tr := ts[n]
		switch {
		case e == -1 && tr.State != store.Complete:
			t.Errorf("trial %d was acknowledged complete, is %s", n, tr.State)
		case e > 0 && !tr.State.Finished() && (tr.LastEpoch() < e || tr.CheckpointEpoch < e):
			t.Errorf("trial %d: epoch %d acknowledged, store has epoch %d, checkpoint %d", n, e, tr.LastEpoch(), tr.CheckpointEpoch)
		}
	}
	ns, err := s.RequeueRunning(ctx, "crash")
	if err != nil || len(ns) > 1 || mode == "idle" && (len(ns) != 1 || ns[0] != 9) {
		t.Fatalf("RequeueRunning after the crash = %v, %v; want at most one trial (trial 9 when idle)", ns, err)
	}
	t.Logf("killed after %d trials; requeued %v", len(ts), ns)
	if len(ns) == 0 {
		return // killed between a finish and the next claim
	}
	tr, err := s.ClaimTrial(ctx, "crash", "resumed")
	if err != nil || tr.Number != ns[0] || tr.Attempt != 2 {
		t.Fatalf("claim after the crash: %+v, %v", tr, err)
	}
	ck, err := s.Checkpoint(ctx, "crash", tr.Number)
	if tr.CheckpointEpoch > 0 && (err != nil || ck.Epoch != tr.LastEpoch() || string(ck.Data) != fmt.Sprintf("weights %d %d", tr.Number, ck.Epoch)) {
		t.Fatalf("checkpoint of the interrupted trial: epoch %d %q, %v; last epoch %d", ck.Epoch, ck.Data, err, tr.LastEpoch())
	}
	if mode == "idle" && tr.CheckpointEpoch != 2 {
		t.Fatalf("interrupted trial resumes after epoch %d, want 2", tr.CheckpointEpoch)
	}
	for e := tr.CheckpointEpoch + 1; e <= 3; e++ {
		if err := s.ReportEpoch(ctx, tr.Claim(), store.EpochMetrics{Epoch: e}, []byte("w")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.FinishTrial(ctx, tr.Claim(), store.Result{State: store.Complete, Value: new(float64)}); err != nil {
		t.Fatal(err)
	}
}

// TestCrashChild is the process TestKillNine kills: it runs trials of three
// epochs, printing "ack N E" after epoch E of trial N is committed and
// "ack N -1" after trial N is finished. In mode "idle" it stops after epoch
// 2 of trial 9 and waits to be killed.
func TestCrashChild(t *testing.T) {
	mode, path, ok := strings.Cut(os.Getenv(crashChildEnv), ":")
	if !ok {
		t.Skip("only run as the child of TestKillNine")
	}
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateStudy(ctx, storetest.Study("crash")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if _, err := s.EnqueueTrial(ctx, "crash", store.NewTrial{Gamma: []float64{float64(i), 0, 0, 0, 0}}); err != nil {
			t.Fatal(err)
		}
		tr, err := s.ClaimTrial(ctx, "crash", "child")
		if err != nil {
			t.Fatal(err)
		}
		for e := 1; e <= 3; e++ {
			err := s.ReportEpoch(ctx, tr.Claim(), store.EpochMetrics{Epoch: e, ValAcc: 0.5}, fmt.Appendf(nil, "weights %d %d", tr.Number, e))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Printf("ack %d %d\n", tr.Number, e)
			if mode == "idle" && tr.Number == 9 && e == 2 {
				time.Sleep(time.Minute)
			}
		}
		if _, err := s.FinishTrial(ctx, tr.Claim(), store.Result{State: store.Complete, Value: new(float64)}); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("ack %d -1\n", tr.Number)
	}
	t.Fatal("child was not killed")
}
