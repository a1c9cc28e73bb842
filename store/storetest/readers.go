package storetest

import (
	"fmt"
	"sync"
	"testing"

	"goalsearch/store"
)

// ReadersOptions says what a backend's reader is.
type ReadersOptions struct {
	// RefusesChanges says that the reader returns store.ErrReadOnly for
	// every change (bbolt's Reader); a PostgreSQL reader is an ordinary
	// connection and may change the store.
	RefusesChanges bool
}

// Readers checks a reader beside a writer: w is a new, empty store and
// openReader opens a second handle on the same store, as a process that
// only watches a running search does. The reader must see each change the
// writer made once the writer's call returned, answer every read as the
// writer does (the same records, the same errors), read consistent
// snapshots while the writer works, and after its Close return
// store.ErrClosed without disturbing the writer.
func Readers(t *testing.T, w store.Store, openReader func(t *testing.T) store.Store, opts ReadersOptions) {
	r := openReader(t)
	if ss, err := r.Studies(ctx); err != nil || len(ss) != 0 {
		t.Fatalf("reader's Studies of an empty store = %v, %v", ss, err)
	}
	richStudy(t, w, "a")
	sameStudy(t, "reader's Study", got(r.Study(ctx, "a"))(t, "Study"), got(w.Study(ctx, "a"))(t, "writer Study"))
	if ss, err := r.Studies(ctx); err != nil || len(ss) != 1 || ss[0].Name != "a" {
		t.Errorf("reader's Studies = %v, %v; want [a]", ss, err)
	}
	wt := got(w.Trials(ctx, "a"))(t, "writer Trials")
	rt := got(r.Trials(ctx, "a"))(t, "reader Trials")
	if len(rt) != len(wt) {
		t.Fatalf("reader sees %d trials, the writer %d", len(rt), len(wt))
	}
	for i := range wt {
		same(t, "reader's Trials", rt[i], wt[i])
		same(t, "reader's Trial", got(r.Trial(ctx, "a", wt[i].Number))(t, "reader Trial"), wt[i])
	}
	wl := got(w.LiveTrials(ctx, "a", 5))(t, "writer LiveTrials")
	rl := got(r.LiveTrials(ctx, "a", 5))(t, "reader LiveTrials")
	if len(rl) != len(wl) {
		t.Errorf("reader's LiveTrials has %d trials, the writer's %d", len(rl), len(wl))
	}
	wc := got(w.Checkpoint(ctx, "a", 1))(t, "writer Checkpoint")
	if rc := got(r.Checkpoint(ctx, "a", 1))(t, "reader Checkpoint"); rc.Epoch != wc.Epoch || string(rc.Data) != string(wc.Data) {
		t.Errorf("reader's checkpoint %d %q, the writer's %d %q", rc.Epoch, rc.Data, wc.Epoch, wc.Data)
	}
	if ls, err := r.LatestSamplerState(ctx, "a"); err != nil || ls.Generation != 1 {
		t.Errorf("reader's LatestSamplerState = generation %d, %v; want 1", ls.Generation, err)
	}
	if s0, err := r.SamplerState(ctx, "a", 0); err != nil || string(s0.Data) != `{"rng":"AAEC","sigma":0.1}` {
		t.Errorf("reader's SamplerState(0) = %s, %v", s0.Data, err)
	}
	if ss, err := r.SamplerStates(ctx, "a"); err != nil || len(ss) != 2 {
		t.Errorf("reader's SamplerStates: %d, %v; want 2", len(ss), err)
	}
	if got, want := dumpJSON(t, got(r.Export(ctx, "a"))(t, "reader Export")), dumpJSON(t, got(w.Export(ctx, "a"))(t, "writer Export")); got != want {
		t.Errorf("reader's export differs from the writer's:\n%s\n%s", got, want)
	}

	_, err := r.Study(ctx, "missing")
	wantErr(t, "reader's Study of a missing study", err, store.ErrStudyNotFound)
	_, err = r.Trials(ctx, "missing")
	wantErr(t, "reader's Trials of a missing study", err, store.ErrStudyNotFound)
	_, err = r.Trial(ctx, "a", 99)
	wantErr(t, "reader's Trial of a missing trial", err, store.ErrTrialNotFound)
	_, err = r.Checkpoint(ctx, "a", 0)
	wantErr(t, "reader's Checkpoint of a trial without one", err, store.ErrCheckpointNotFound)
	_, err = r.SamplerState(ctx, "a", 7)
	wantErr(t, "reader's SamplerState of a missing generation", err, store.ErrSamplerStateNotFound)

	if opts.RefusesChanges {
		_, err = r.EnqueueTrial(ctx, "a", store.NewTrial{Gamma: gamma(0)})
		wantErr(t, "reader's EnqueueTrial", err, store.ErrReadOnly)
		_, err = r.CreateStudy(ctx, Study("b"))
		wantErr(t, "reader's CreateStudy", err, store.ErrReadOnly)
		wantErr(t, "reader's DeleteStudy", r.DeleteStudy(ctx, "a"), store.ErrReadOnly)
		if n := len(got(w.Trials(ctx, "a"))(t, "writer Trials")); n != len(wt) {
			t.Errorf("the writer has %d trials after the reader's refused changes, want %d", n, len(wt))
		}
	}

	// While the writer finishes trials, the reader sees their number grow
	// and never a finished trial without its value.
	mustCreate(t, w, "live")
	const n = 20
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			if _, err := w.EnqueueTrial(ctx, "live", store.NewTrial{Gamma: gamma(i), Seed: uint64(i)}); err != nil {
				t.Error(err)
				return
			}
			tr, err := w.ClaimTrial(ctx, "live", "w")
			if err == nil {
				err = w.ReportEpoch(ctx, tr.Claim(), metrics(1), []byte("c"))
			}
			if err == nil {
				_, err = w.FinishTrial(ctx, tr.Claim(), complete(0.5))
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var problem error
	for done, last := 0, 0; done < n && problem == nil && !t.Failed(); last = done {
		ts, err := r.LiveTrials(ctx, "live", 0)
		if err != nil {
			problem = fmt.Errorf("reader's LiveTrials while the writer writes: %v", err)
			break
		}
		done = 0
		for _, tr := range ts {
			if tr.State == store.Complete {
				done++
				if tr.Value == nil || tr.Finished.IsZero() {
					problem = fmt.Errorf("reader saw trial %d complete without its value or time", tr.Number)
				}
			}
		}
		if done < last {
			problem = fmt.Errorf("reader saw %d complete trials after %d", done, last)
		}
	}
	wg.Wait() // before failing: the writer's goroutine reports to t
	if problem != nil {
		t.Fatal(problem)
	}

	if err := r.Close(); err != nil {
		t.Errorf("reader's Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("reader's second Close: %v", err)
	}
	_, err = r.Trials(ctx, "a")
	wantErr(t, "reader's Trials after Close", err, store.ErrClosed)
	if _, err := w.EnqueueTrial(ctx, "a", store.NewTrial{Gamma: gamma(0)}); err != nil {
		t.Errorf("writer after the reader's Close: %v", err)
	}
	// A reader opened now sees what the writer wrote last.
	r2 := openReader(t)
	defer r2.Close()
	if a, b := len(got(r2.Trials(ctx, "a"))(t, "reader Trials")), len(wt)+1; a != b {
		t.Errorf("a new reader sees %d trials, want %d", a, b)
	}
}

// got returns a function that fails t on err and otherwise returns v,
// so that got(s.Trials(ctx, study))(t, "Trials") reads as one expression.
func got[T any](v T, err error) func(t *testing.T, what string) T {
	return func(t *testing.T, what string) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}
