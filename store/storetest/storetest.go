// Package storetest is the conformance suite of store.Store: every
// backend's tests call Run with a function that opens a new, empty store,
// and so are held to the same contract (ordering, atomic numbering,
// immutability of finished trials, claims, checkpoints, sampler states,
// export and import, errors). Randomized compares a backend with a small
// in-memory model under random operations.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"goalsearch/store"
)

// Opener returns a new, empty store for one test. It registers with t
// whatever cleanup the backend needs (closing the store, checking its
// consistency); the store may already be closed by then.
type Opener func(t *testing.T) store.Store

// Run runs the conformance suite against the backend that open opens,
// each subtest on its own store, in parallel.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateStudy", testCreateStudy},
		{"UnknownStudy", testUnknownStudy},
		{"UnknownTrial", testUnknownTrial},
		{"DeleteStudy", testDeleteStudy},
		{"EnqueueOrder", testEnqueueOrder},
		{"ConcurrentEnqueue", testConcurrentEnqueue},
		{"AmendStudy", testAmendStudy},
		{"ConcurrentClaim", testConcurrentClaim},
		{"Lifecycle", testLifecycle},
		{"FinishedImmutable", testFinishedImmutable},
		{"InvalidResult", testInvalidResult},
		{"StaleClaim", testStaleClaim},
		{"Checkpoints", testCheckpoints},
		{"PauseContinue", testPauseContinue},
		{"RequeueRunning", testRequeueRunning},
		{"LiveTrials", testLiveTrials},
		{"SamplerStates", testSamplerStates},
		{"FloatExactness", testFloatExactness},
		{"ExportImport", testExportImport},
		{"ExportCSV", testExportCSV},
		{"Params", testParams},
		{"Objectives", testObjectives},
		{"Close", testClose},
		{"Cancelled", testCancelled},
		{"Randomized", func(t *testing.T, s store.Store) { Randomized(t, s, RandomOptions{}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// Labels are the five goal coordinates of a two-source lattice, in the
// goal order of package pid.
var Labels = []string{"{1}", "{2}", "{1}{2}", "{12}", "H_res"}

// Study returns a valid study definition named name, over Labels.
func Study(name string) store.Study {
	return store.Study{
		Name:      name,
		Setup:     store.Setup{Name: "lateral", Config: json.RawMessage(`{"epochs":100,"neurons":100}`)},
		Space:     store.SearchSpace{Labels: slices.Clone(Labels), Lower: []float64{-1, -1, -1, -1, -1}, Upper: []float64{1, 1, 1, 1, 1}, Fixed: map[string]float64{"H_res": 0}, UnitNorm: true},
		Objective: store.Objective{Metric: "val_acc", Direction: store.Maximize},
		Sampler:   store.SamplerConfig{Name: "cmaes", Config: json.RawMessage(`{"population":8}`)},
		Seed:      42,
	}
}

var ctx = context.Background()

func gamma(i int) []float64 {
	return []float64{0.1 * float64(i), -0.5, 1.0 / 3, 0, 0}
}

func mustCreate(t *testing.T, s store.Store, name string) store.Study {
	t.Helper()
	st, err := s.CreateStudy(ctx, Study(name))
	if err != nil {
		t.Fatalf("CreateStudy(%q): %v", name, err)
	}
	return st
}

func mustEnqueue(t *testing.T, s store.Store, study string, i int) store.Trial {
	t.Helper()
	tr, err := s.EnqueueTrial(ctx, study, store.NewTrial{Gamma: gamma(i), Seed: uint64(1000 + i)})
	if err != nil {
		t.Fatalf("EnqueueTrial: %v", err)
	}
	return tr
}

func mustStart(t *testing.T, s store.Store, study string, n int) store.Trial {
	t.Helper()
	tr, err := s.StartTrial(ctx, study, n, "w")
	if err != nil {
		t.Fatalf("StartTrial(%d): %v", n, err)
	}
	return tr
}

func mustTrial(t *testing.T, s store.Store, study string, n int) store.Trial {
	t.Helper()
	tr, err := s.Trial(ctx, study, n)
	if err != nil {
		t.Fatalf("Trial(%d): %v", n, err)
	}
	return tr
}

func report(t *testing.T, s store.Store, c store.Claim, epoch int, ckpt []byte) {
	t.Helper()
	if err := s.ReportEpoch(ctx, c, metrics(epoch), ckpt); err != nil {
		t.Fatalf("ReportEpoch(%d): %v", epoch, err)
	}
}

func metrics(epoch int) store.EpochMetrics {
	test := 0.9 + float64(epoch)/1000
	return store.EpochMetrics{Epoch: epoch, TrainLoss: 1 / float64(epoch), TrainAcc: 0.5, ValAcc: 0.8 + float64(epoch)/1000, TestAcc: &test, Seconds: 1.5, Extra: map[string]float64{"goal": -0.25}}
}

func ptr(v float64) *float64 { return &v }

func complete(v float64) store.Result {
	return store.Result{State: store.Complete, Value: &v, Final: map[string]float64{"test_acc": v - 0.01}, Atoms: [][]float64{{0.1, 0.2, 0.3, 0.4}, {0.5, 0.6, 0.7, 0.8}}, WallTime: 90e9}
}

// wantErr fails unless errors.Is(err, want) (or err is nil when want is).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

// same compares two trials by their records: the encoding is canonical and
// exact (NaN included), which reflect.DeepEqual is not.
func same(t *testing.T, what string, got, want store.Trial) {
	t.Helper()
	g, err1 := store.EncodeTrial(got)
	w, err2 := store.EncodeTrial(want)
	if err1 != nil || err2 != nil || !bytes.Equal(g, w) || got.Study != want.Study {
		t.Errorf("%s:\n got %s (%v, study %q)\nwant %s (%v, study %q)", what, g, err1, got.Study, w, err2, want.Study)
	}
}

func sameStudy(t *testing.T, what string, got, want store.Study) {
	t.Helper()
	g, err1 := store.EncodeStudy(got)
	w, err2 := store.EncodeStudy(want)
	if err1 != nil || err2 != nil || !bytes.Equal(g, w) {
		t.Errorf("%s:\n got %s (%v)\nwant %s (%v)", what, g, err1, w, err2)
	}
}

func dumpJSON(t *testing.T, d store.Dump) string {
	t.Helper()
	var b bytes.Buffer
	if err := store.WriteJSON(&b, d); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	return b.String()
}

func testCreateStudy(t *testing.T, s store.Store) {
	def := Study("b")
	def.Setup.Config = json.RawMessage(" { \"epochs\": 100,\n \"neurons\": 100 } ")
	got, err := s.CreateStudy(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt.IsZero() || got.SchemaVersion != store.SchemaVersion || got.Name != "b" {
		t.Errorf("created %+v: want CreatedAt set and SchemaVersion %d", got, store.SchemaVersion)
	}
	if string(got.Setup.Config) != `{"epochs":100,"neurons":100}` {
		t.Errorf("setup config stored as %s, want it compacted", got.Setup.Config)
	}
	read, err := s.Study(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	sameStudy(t, "Study after CreateStudy", read, got)

	// The same definition again returns the stored study, so that a
	// search command can be repeated to resume.
	again, err := s.CreateStudy(ctx, Study("b"))
	if err != nil {
		t.Fatalf("CreateStudy with the same definition: %v", err)
	}
	sameStudy(t, "CreateStudy again", again, got)

	for field, change := range map[string]func(*store.Study){
		"seed":    func(s *store.Study) { s.Seed++ },
		"bounds":  func(s *store.Study) { s.Space.Upper[0] = 0.5 },
		"sampler": func(s *store.Study) { s.Sampler.Config = json.RawMessage(`{"population":9}`) },
		"pruner":  func(s *store.Study) { s.Pruner.Name = "asha" },
		"fixed":   func(s *store.Study) { s.Space.Fixed = nil },
		"setup":   func(s *store.Study) { s.Setup.Name = "context" },
		"metric":  func(s *store.Study) { s.Objective.Direction = store.Minimize },
	} {
		d := Study("b")
		change(&d)
		_, err := s.CreateStudy(ctx, d)
		wantErr(t, "CreateStudy with a different "+field, err, store.ErrStudyExists)
	}

	for what, change := range map[string]func(*store.Study){
		"empty name":      func(s *store.Study) { s.Name = "" },
		"control char":    func(s *store.Study) { s.Name = "a\nb" },
		"long name":       func(s *store.Study) { s.Name = strings.Repeat("x", 129) },
		"no labels":       func(s *store.Study) { s.Space = store.SearchSpace{} },
		"duplicate label": func(s *store.Study) { s.Space.Labels[1] = s.Space.Labels[0] },
		"short bounds":    func(s *store.Study) { s.Space.Lower = s.Space.Lower[:2] },
		"inverted bounds": func(s *store.Study) { s.Space.Lower[0] = 2 },
		"NaN bound":       func(s *store.Study) { s.Space.Upper[0] = math.NaN() },
		"fixed unknown":   func(s *store.Study) { s.Space.Fixed = map[string]float64{"nope": 0} },
		"fixed outside":   func(s *store.Study) { s.Space.Fixed = map[string]float64{"H_res": 3} },
		"bad direction":   func(s *store.Study) { s.Objective.Direction = "up" },
		"no metric":       func(s *store.Study) { s.Objective.Metric = "" },
		"no sampler":      func(s *store.Study) { s.Sampler.Name = "" },
		"bad config":      func(s *store.Study) { s.Sampler.Config = json.RawMessage(`{`) },
		"no setup":        func(s *store.Study) { s.Setup.Name = "" },
	} {
		d := Study("c")
		change(&d)
		_, err := s.CreateStudy(ctx, d)
		wantErr(t, "CreateStudy with "+what, err, store.ErrInvalidStudy)
	}
	if _, err := s.Study(ctx, "c"); !errors.Is(err, store.ErrStudyNotFound) {
		t.Errorf("an invalid study was stored: %v", err)
	}

	mustCreate(t, s, "a")
	mustCreate(t, s, "c")
	all, err := s.Studies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range all {
		names = append(names, st.Name)
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("Studies = %v, want [a b c]", names)
	}
}

func testUnknownStudy(t *testing.T, s store.Store) {
	mustCreate(t, s, "other")
	c := store.Claim{Study: "nope", Number: 0, Attempt: 1}
	errs := map[string]error{}
	_, errs["Study"] = s.Study(ctx, "nope")
	errs["DeleteStudy"] = s.DeleteStudy(ctx, "nope")
	_, errs["EnqueueTrial"] = s.EnqueueTrial(ctx, "nope", store.NewTrial{Gamma: gamma(0)})
	_, errs["StartTrial"] = s.StartTrial(ctx, "nope", 0, "w")
	_, errs["ClaimTrial"] = s.ClaimTrial(ctx, "nope", "w")
	errs["ReportEpoch"] = s.ReportEpoch(ctx, c, metrics(1), nil)
	_, errs["PauseTrial"] = s.PauseTrial(ctx, c)
	_, errs["ContinueTrial"] = s.ContinueTrial(ctx, "nope", 0, 0)
	_, errs["FinishTrial"] = s.FinishTrial(ctx, c, complete(1))
	_, errs["RequeueRunning"] = s.RequeueRunning(ctx, "nope")
	_, errs["Trial"] = s.Trial(ctx, "nope", 0)
	_, errs["Trials"] = s.Trials(ctx, "nope")
	_, errs["Checkpoint"] = s.Checkpoint(ctx, "nope", 0)
	_, errs["PutSamplerState"] = s.PutSamplerState(ctx, "nope", store.SamplerState{Data: json.RawMessage(`{}`)}, nil)
	_, errs["SamplerState"] = s.SamplerState(ctx, "nope", 0)
	_, errs["LatestSamplerState"] = s.LatestSamplerState(ctx, "nope")
	_, errs["SamplerStates"] = s.SamplerStates(ctx, "nope")
	_, errs["Export"] = s.Export(ctx, "nope")
	_, errs["Study(\"\")"] = s.Study(ctx, "")
	for op, err := range errs {
		wantErr(t, op, err, store.ErrStudyNotFound)
		if err != nil && !strings.Contains(err.Error(), "nope") && op != `Study("")` {
			t.Errorf("%s: error %q does not name the study", op, err)
		}
	}
}

func testUnknownTrial(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	mustEnqueue(t, s, "s", 0)
	for _, n := range []int{-1, 1, 1 << 40} {
		c := store.Claim{Study: "s", Number: n, Attempt: 1}
		errs := map[string]error{}
		_, errs["StartTrial"] = s.StartTrial(ctx, "s", n, "w")
		errs["ReportEpoch"] = s.ReportEpoch(ctx, c, metrics(1), nil)
		_, errs["PauseTrial"] = s.PauseTrial(ctx, c)
		_, errs["ContinueTrial"] = s.ContinueTrial(ctx, "s", n, 0)
		_, errs["FinishTrial"] = s.FinishTrial(ctx, c, complete(1))
		_, errs["Trial"] = s.Trial(ctx, "s", n)
		_, errs["Checkpoint"] = s.Checkpoint(ctx, "s", n)
		for op, err := range errs {
			wantErr(t, fmt.Sprintf("%s(%d)", op, n), err, store.ErrTrialNotFound)
		}
	}
	_, err := s.Checkpoint(ctx, "s", 0)
	wantErr(t, "Checkpoint of a trial without one", err, store.ErrCheckpointNotFound)
	_, err = s.SamplerState(ctx, "s", 0)
	wantErr(t, "SamplerState(0)", err, store.ErrSamplerStateNotFound)
	_, err = s.SamplerState(ctx, "s", -1)
	wantErr(t, "SamplerState(-1)", err, store.ErrSamplerStateNotFound)
	_, err = s.LatestSamplerState(ctx, "s")
	wantErr(t, "LatestSamplerState", err, store.ErrSamplerStateNotFound)
}

func testDeleteStudy(t *testing.T, s store.Store) {
	mustCreate(t, s, "keep")
	mustCreate(t, s, "gone")
	for i := 0; i < 3; i++ {
		mustEnqueue(t, s, "gone", i)
	}
	tr := mustStart(t, s, "gone", 0)
	report(t, s, tr.Claim(), 1, []byte("weights"))
	if _, err := s.PutSamplerState(ctx, "gone", store.SamplerState{Generation: 0, Data: json.RawMessage(`{"m":1}`)}, nil); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, "keep", 7)

	if err := s.DeleteStudy(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Study(ctx, "gone")
	wantErr(t, "Study after DeleteStudy", err, store.ErrStudyNotFound)
	wantErr(t, "DeleteStudy twice", s.DeleteStudy(ctx, "gone"), store.ErrStudyNotFound)
	all, _ := s.Studies(ctx)
	if len(all) != 1 || all[0].Name != "keep" {
		t.Errorf("Studies after DeleteStudy = %v", all)
	}
	if ts, _ := s.Trials(ctx, "keep"); len(ts) != 1 {
		t.Errorf("the other study lost its trial: %v", ts)
	}

	// A study created again under the same name starts afresh.
	mustCreate(t, s, "gone")
	if ts, err := s.Trials(ctx, "gone"); err != nil || len(ts) != 0 {
		t.Errorf("recreated study has trials %v (%v)", ts, err)
	}
	if tr := mustEnqueue(t, s, "gone", 0); tr.Number != 0 {
		t.Errorf("recreated study numbers from %d", tr.Number)
	}
	if _, err := s.LatestSamplerState(ctx, "gone"); !errors.Is(err, store.ErrSamplerStateNotFound) {
		t.Errorf("recreated study has a sampler state: %v", err)
	}
	if _, err := s.Checkpoint(ctx, "gone", 0); !errors.Is(err, store.ErrCheckpointNotFound) {
		t.Errorf("recreated study has a checkpoint: %v", err)
	}
}

func testEnqueueOrder(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	// More than 256 trials, so that the order of numbers whose low byte
	// wraps is tested (keys must compare numerically).
	const n = 300
	for i := 0; i < n; i++ {
		tr, err := s.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: gamma(i), Seed: uint64(i), Generation: i / 10, Budget: i % 3})
		if err != nil {
			t.Fatal(err)
		}
		if tr.Number != i || tr.State != store.Queued || tr.Study != "s" || tr.Attempt != 0 || tr.Created.IsZero() {
			t.Fatalf("enqueued %+v, want number %d, queued", tr, i)
		}
	}
	ts, err := s.Trials(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != n {
		t.Fatalf("%d trials, want %d", len(ts), n)
	}
	for i, tr := range ts {
		if tr.Number != i || tr.Seed != uint64(i) || tr.Generation != i/10 || tr.Budget != i%3 || !slices.Equal(tr.Gamma, gamma(i)) {
			t.Fatalf("Trials[%d] = %+v", i, tr)
		}
	}
	same(t, "Trial(257)", mustTrial(t, s, "s", 257), ts[257])

	for what, g := range map[string][]float64{
		"short gamma": {1, 2},
		"long gamma":  {1, 2, 3, 4, 5, 6},
		"NaN gamma":   {math.NaN(), 0, 0, 0, 0},
		"Inf gamma":   {0, math.Inf(-1), 0, 0, 0},
		"no gamma":    nil,
	} {
		_, err := s.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: g})
		wantErr(t, "EnqueueTrial with "+what, err, store.ErrInvalidTrial)
	}
	_, err = s.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: gamma(0), Budget: -1})
	wantErr(t, "EnqueueTrial with a negative budget", err, store.ErrInvalidTrial)
	if ts, _ := s.Trials(ctx, "s"); len(ts) != n {
		t.Errorf("invalid trials were stored: %d trials", len(ts))
	}
	// The caller's gamma is copied.
	g := gamma(1)
	tr, _ := s.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: g})
	g[0] = 99
	if mustTrial(t, s, "s", tr.Number).Gamma[0] == 99 {
		t.Error("the store kept the caller's gamma slice")
	}
}

func testConcurrentEnqueue(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	const workers, each = 8, 12
	numbers := make([][]int, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				tr, err := s.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: gamma(w), Seed: uint64(w)})
				if err != nil {
					t.Error(err)
					return
				}
				numbers[w] = append(numbers[w], tr.Number)
			}
		}()
	}
	wg.Wait()
	var all []int
	for w, ns := range numbers {
		if !slices.IsSorted(ns) {
			t.Errorf("worker %d got numbers out of order: %v", w, ns)
		}
		all = append(all, ns...)
	}
	slices.Sort(all)
	for i, n := range all {
		if n != i {
			t.Fatalf("numbers %v are not 0..%d each once", all, workers*each-1)
		}
	}
	ts, _ := s.Trials(ctx, "s")
	for _, tr := range ts {
		if !slices.Contains(numbers[tr.Seed], tr.Number) {
			t.Errorf("trial %d has the seed of worker %d, which did not enqueue it", tr.Number, tr.Seed)
		}
	}
}

// testAmendStudy: an amendment changes the sampler config and enqueues in
// one step, only against the study as read, and leaves running trials and
// their claims alone; of concurrent amendments from one reading, one wins.
func testAmendStudy(t *testing.T, s store.Store) {
	def := mustCreate(t, s, "s")
	mustEnqueue(t, s, "s", 0)
	mustEnqueue(t, s, "s", 1)
	running := mustStart(t, s, "s", 1)
	before, err := s.Export(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	newCfg := json.RawMessage(`{"population":8,"goals":[1,2]}`)
	add := []store.NewTrial{{Gamma: gamma(2), Seed: 7}, {Gamma: gamma(3), Seed: 8, Budget: 3}}
	for _, tc := range []struct {
		what string
		a    store.Amendment
		want error
	}{
		{"an amendment from an old config", store.Amendment{Was: json.RawMessage(`{"population":9}`), Next: 2, Config: newCfg}, store.ErrStudyChanged},
		{"an amendment from an old trial count", store.Amendment{Was: def.Sampler.Config, Next: 1, Config: newCfg, Enqueue: add}, store.ErrStudyChanged},
		{"a config that is not JSON", store.Amendment{Was: def.Sampler.Config, Next: 2, Config: json.RawMessage(`{`)}, store.ErrInvalidStudy},
		{"a trial of the wrong dimension", store.Amendment{Was: def.Sampler.Config, Next: 2, Config: newCfg, Enqueue: []store.NewTrial{{Gamma: []float64{1}}}}, store.ErrInvalidTrial},
		{"a NaN trial", store.Amendment{Was: def.Sampler.Config, Next: 2, Config: newCfg, Enqueue: []store.NewTrial{{Gamma: []float64{math.NaN(), 0, 0, 0, 0}}}}, store.ErrInvalidTrial},
	} {
		_, err := s.AmendStudy(ctx, "s", tc.a)
		wantErr(t, tc.what, err, tc.want)
	}
	_, err = s.AmendStudy(ctx, "missing", store.Amendment{Next: 0, Config: newCfg})
	wantErr(t, "amending a missing study", err, store.ErrStudyNotFound)
	if after, _ := s.Export(ctx, "s"); dumpJSON(t, after) != dumpJSON(t, before) {
		t.Fatal("a refused amendment changed the study")
	}

	// Whitespace in Was does not matter: configs compare as JSON.
	got, err := s.AmendStudy(ctx, "s", store.Amendment{Was: json.RawMessage(` { "population" : 8 } `), Next: 2, Config: newCfg, Enqueue: add})
	if err != nil {
		t.Fatalf("AmendStudy: %v", err)
	}
	if len(got) != 2 || got[0].Number != 2 || got[1].Number != 3 || got[1].Budget != 3 || got[0].State != store.Queued {
		t.Fatalf("AmendStudy enqueued %+v, want trials 2 and 3 queued", got)
	}
	for _, tr := range got {
		same(t, "an amendment's trial as read", mustTrial(t, s, "s", tr.Number), tr)
	}
	st, err := s.Study(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	want := def
	want.Sampler.Config = store.NormalizeJSON(newCfg)
	sameStudy(t, "the amended study", st, want)
	// The running trial's claim is still good.
	report(t, s, running.Claim(), 1, nil)
	if tr := mustEnqueue(t, s, "s", 4); tr.Number != 4 {
		t.Errorf("after an amendment of 2 trials, the next trial is %d, want 4", tr.Number)
	}

	// Concurrent amendments from one reading: exactly one wins.
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := json.RawMessage(fmt.Sprintf(`{"round":%d}`, i))
			_, errs[i] = s.AmendStudy(ctx, "s", store.Amendment{Was: newCfg, Next: 5, Config: cfg, Enqueue: add[:1]})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrStudyChanged):
			t.Errorf("concurrent amendment: %v, want nil or ErrStudyChanged", err)
		}
	}
	if ts, _ := s.Trials(ctx, "s"); won != 1 || len(ts) != 6 {
		t.Errorf("%d of %d concurrent amendments won and the study has %d trials, want 1 and 6", won, n, len(ts))
	}
}

func testConcurrentClaim(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	const trials, workers = 40, 6
	for i := 0; i < trials; i++ {
		mustEnqueue(t, s, "s", i)
	}
	claimed := make([][]int, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				tr, err := s.ClaimTrial(ctx, "s", fmt.Sprint("worker-", w))
				if errors.Is(err, store.ErrNoQueuedTrial) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				if tr.State != store.Running || tr.Attempt != 1 || tr.Worker != fmt.Sprint("worker-", w) {
					t.Errorf("claimed %+v", tr)
				}
				claimed[w] = append(claimed[w], tr.Number)
			}
		}()
	}
	wg.Wait()
	var all []int
	for _, c := range claimed {
		if !slices.IsSorted(c) {
			t.Errorf("claims out of number order: %v", c)
		}
		all = append(all, c...)
	}
	slices.Sort(all)
	if len(all) != trials || all[0] != 0 || all[trials-1] != trials-1 || len(slices.Compact(all)) != trials {
		t.Errorf("claimed %v, want each of 0..%d once", all, trials-1)
	}
}

func testLifecycle(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	mustEnqueue(t, s, "s", 0)
	mustEnqueue(t, s, "s", 1)
	tr, err := s.ClaimTrial(ctx, "s", "host:1")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Number != 0 || tr.State != store.Running || tr.Attempt != 1 || tr.Worker != "host:1" || tr.Started.IsZero() {
		t.Fatalf("claimed %+v", tr)
	}
	same(t, "Trial after ClaimTrial", mustTrial(t, s, "s", 0), tr)
	_, err = s.StartTrial(ctx, "s", 0, "w")
	wantErr(t, "StartTrial of a running trial", err, store.ErrWrongState)
	tr1 := mustStart(t, s, "s", 1)
	_, err = s.ClaimTrial(ctx, "s", "w")
	wantErr(t, "ClaimTrial with nothing queued", err, store.ErrNoQueuedTrial)
	_, err = s.ContinueTrial(ctx, "s", 1, 0)
	wantErr(t, "ContinueTrial of a running trial", err, store.ErrWrongState)

	c := tr.Claim()
	report(t, s, c, 1, nil)
	report(t, s, c, 2, nil)
	report(t, s, c, 5, nil) // gaps are allowed: a trainer may skip evaluations
	wantErr(t, "epoch 5 again", s.ReportEpoch(ctx, c, metrics(5), nil), store.ErrEpochOrder)
	wantErr(t, "epoch 3 after 5", s.ReportEpoch(ctx, c, metrics(3), nil), store.ErrEpochOrder)
	wantErr(t, "epoch 0", s.ReportEpoch(ctx, tr1.Claim(), metrics(0), nil), store.ErrEpochOrder)
	bad := metrics(6)
	bad.Extra = map[string]float64{"": 1}
	wantErr(t, "metric without a name", s.ReportEpoch(ctx, c, bad, nil), store.ErrInvalidTrial)

	got := mustTrial(t, s, "s", 0)
	if len(got.Epochs) != 3 || got.Epochs[2].Epoch != 5 || got.LastEpoch() != 5 {
		t.Fatalf("epochs %+v, want 1, 2, 5", got.Epochs)
	}
	if m := got.Epochs[1]; m.TrainLoss != 0.5 || *m.TestAcc != 0.9+2.0/1000 || m.Extra["goal"] != -0.25 || m.Seconds != 1.5 {
		t.Errorf("epoch 2 read back as %+v", m)
	}

	fin, err := s.FinishTrial(ctx, c, complete(0.95))
	if err != nil {
		t.Fatal(err)
	}
	if fin.State != store.Complete || *fin.Value != 0.95 || fin.Final["test_acc"] != 0.95-0.01 || len(fin.Atoms) != 2 || fin.Atoms[1][3] != 0.8 ||
		fin.WallTime != 90e9 || fin.Finished.IsZero() || len(fin.Epochs) != 3 {
		t.Errorf("finished %+v", fin)
	}
	same(t, "Trial after FinishTrial", mustTrial(t, s, "s", 0), fin)

	failed, err := s.FinishTrial(ctx, tr1.Claim(), store.Result{State: store.Failed, Reason: "loss is NaN"})
	if err != nil || failed.State != store.Failed || failed.Reason != "loss is NaN" || failed.Value != nil {
		t.Errorf("failed trial %+v, %v", failed, err)
	}
}

// finishedTrial returns a finished trial in state st.
func finishedTrial(t *testing.T, s store.Store, study string, i int, st store.TrialState) store.Trial {
	t.Helper()
	tr := mustEnqueue(t, s, study, i)
	tr = mustStart(t, s, study, tr.Number)
	report(t, s, tr.Claim(), 1, []byte("w1"))
	r := store.Result{State: st, Reason: "diverged"}
	if st != store.Failed {
		r = complete(0.5)
		r.State = st
	}
	fin, err := s.FinishTrial(ctx, tr.Claim(), r)
	if err != nil {
		t.Fatal(err)
	}
	return fin
}

// testLiveTrials: LiveTrials returns the unfinished trials and those
// numbered from or higher, in number order, each as Trial returns it.
func testLiveTrials(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	finishedTrial(t, s, "s", 0, store.Complete) // 0
	mustEnqueue(t, s, "s", 1)                   // 1: queued
	running := mustEnqueue(t, s, "s", 2)        // 2: running
	mustStart(t, s, "s", running.Number)
	paused := mustEnqueue(t, s, "s", 3) // 3: paused
	paused = mustStart(t, s, "s", paused.Number)
	report(t, s, paused.Claim(), 1, []byte("w1"))
	if _, err := s.PauseTrial(ctx, paused.Claim()); err != nil {
		t.Fatal(err)
	}
	finishedTrial(t, s, "s", 4, store.Pruned) // 4
	finishedTrial(t, s, "s", 5, store.Failed) // 5
	mustEnqueue(t, s, "s", 6)                 // 6: queued
	for _, tc := range []struct {
		from int
		want []int
	}{
		{-3, []int{0, 1, 2, 3, 4, 5, 6}},
		{0, []int{0, 1, 2, 3, 4, 5, 6}},
		{1, []int{1, 2, 3, 4, 5, 6}},
		{5, []int{1, 2, 3, 5, 6}},
		{6, []int{1, 2, 3, 6}},
		{7, []int{1, 2, 3, 6}},
		{100, []int{1, 2, 3, 6}},
	} {
		got, err := s.LiveTrials(ctx, "s", tc.from)
		if err != nil {
			t.Fatalf("LiveTrials(%d): %v", tc.from, err)
		}
		var nums []int
		for _, tr := range got {
			nums = append(nums, tr.Number)
			same(t, fmt.Sprintf("LiveTrials(%d) trial %d", tc.from, tr.Number), tr, mustTrial(t, s, "s", tr.Number))
		}
		if !slices.Equal(nums, tc.want) {
			t.Errorf("LiveTrials(%d) = trials %v, want %v", tc.from, nums, tc.want)
		}
	}
	_, err := s.LiveTrials(ctx, "nope", 0)
	wantErr(t, "LiveTrials of an unknown study", err, store.ErrStudyNotFound)
}

func testFinishedImmutable(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	for i, st := range []store.TrialState{store.Complete, store.Pruned, store.Failed} {
		fin := finishedTrial(t, s, "s", i, st)
		c := fin.Claim()
		errs := map[string]error{}
		_, errs["StartTrial"] = s.StartTrial(ctx, "s", fin.Number, "w")
		errs["ReportEpoch"] = s.ReportEpoch(ctx, c, metrics(2), []byte("w2"))
		_, errs["PauseTrial"] = s.PauseTrial(ctx, c)
		_, errs["ContinueTrial"] = s.ContinueTrial(ctx, "s", fin.Number, 10)
		_, errs["FinishTrial"] = s.FinishTrial(ctx, c, complete(1))
		_, errs["FinishTrial(failed)"] = s.FinishTrial(ctx, c, store.Result{State: store.Failed, Reason: "x"})
		for op, err := range errs {
			wantErr(t, fmt.Sprintf("%s of a %s trial", op, st), err, store.ErrTrialFinished)
		}
		if ns, err := s.RequeueRunning(ctx, "s"); err != nil || len(ns) != 0 {
			t.Errorf("RequeueRunning = %v, %v; want no trial", ns, err)
		}
		same(t, fmt.Sprintf("%s trial after attempted changes", st), mustTrial(t, s, "s", fin.Number), fin)
		if _, err := s.Checkpoint(ctx, "s", fin.Number); !errors.Is(err, store.ErrCheckpointNotFound) {
			t.Errorf("%s trial kept its checkpoint: %v", st, err)
		}
	}
}

func testInvalidResult(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	mustEnqueue(t, s, "s", 0)
	tr := mustStart(t, s, "s", 0)
	report(t, s, tr.Claim(), 1, []byte("w"))
	before := mustTrial(t, s, "s", 0)
	for what, r := range map[string]store.Result{
		"state running":         {State: store.Running, Value: ptr(1)},
		"state queued":          {State: store.Queued},
		"no state":              {},
		"complete, no value":    {State: store.Complete},
		"complete, NaN value":   {State: store.Complete, Value: ptr(math.NaN())},
		"failed, no reason":     {State: store.Failed},
		"failed with a value":   {State: store.Failed, Reason: "x", Value: ptr(1)},
		"negative wall time":    {State: store.Pruned, WallTime: -1},
		"ragged atoms":          {State: store.Pruned, Atoms: [][]float64{{1, 2}, {3}}},
		"unnamed final metric":  {State: store.Complete, Value: ptr(1), Final: map[string]float64{"": 1}},
		"unknown state 'done'":  {State: "done", Value: ptr(1)},
		"pruned, ragged atoms2": {State: store.Pruned, Atoms: [][]float64{{1}, {}}},
	} {
		_, err := s.FinishTrial(ctx, tr.Claim(), r)
		wantErr(t, "FinishTrial with "+what, err, store.ErrInvalidResult)
	}
	same(t, "trial after invalid results", mustTrial(t, s, "s", 0), before)
	if ck, err := s.Checkpoint(ctx, "s", 0); err != nil || string(ck.Data) != "w" {
		t.Errorf("checkpoint after invalid results: %v, %v", ck, err)
	}
	// Infinite values are results too (a minimised loss may be +Inf).
	if _, err := s.FinishTrial(ctx, tr.Claim(), store.Result{State: store.Complete, Value: ptr(math.Inf(1))}); err != nil {
		t.Errorf("FinishTrial with an infinite value: %v", err)
	}
}

func testStaleClaim(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	mustEnqueue(t, s, "s", 0)
	old := mustStart(t, s, "s", 0).Claim()
	report(t, s, old, 1, []byte("a"))
	if ns, err := s.RequeueRunning(ctx, "s"); err != nil || !slices.Equal(ns, []int{0}) {
		t.Fatalf("RequeueRunning = %v, %v", ns, err)
	}
	wantErr(t, "report on a requeued trial", s.ReportEpoch(ctx, old, metrics(2), nil), store.ErrWrongState)
	tr, err := s.ClaimTrial(ctx, "s", "new")
	if err != nil || tr.Attempt != 2 || tr.Worker != "new" {
		t.Fatalf("claim after requeue: %+v, %v", tr, err)
	}
	wantErr(t, "report with the old claim", s.ReportEpoch(ctx, old, metrics(2), nil), store.ErrStaleClaim)
	_, err = s.PauseTrial(ctx, old)
	wantErr(t, "pause with the old claim", err, store.ErrStaleClaim)
	_, err = s.FinishTrial(ctx, old, complete(1))
	wantErr(t, "finish with the old claim", err, store.ErrStaleClaim)
	future := tr.Claim()
	future.Attempt++
	wantErr(t, "report with a future claim", s.ReportEpoch(ctx, future, metrics(2), nil), store.ErrStaleClaim)
	report(t, s, tr.Claim(), 2, nil)
	if _, err := s.FinishTrial(ctx, tr.Claim(), complete(1)); err != nil {
		t.Fatal(err)
	}
}

func testCheckpoints(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	mustEnqueue(t, s, "s", 0)
	tr := mustStart(t, s, "s", 0)
	c := tr.Claim()
	_, err := s.Checkpoint(ctx, "s", 0)
	wantErr(t, "Checkpoint before any", err, store.ErrCheckpointNotFound)

	check := func(epoch int, data []byte) {
		t.Helper()
		ck, err := s.Checkpoint(ctx, "s", 0)
		if err != nil || ck.Trial != 0 || ck.Epoch != epoch || !bytes.Equal(ck.Data, data) {
			t.Fatalf("Checkpoint = trial %d epoch %d, %d bytes, %v; want epoch %d, %d bytes", ck.Trial, ck.Epoch, len(ck.Data), err, epoch, len(data))
		}
		if got := mustTrial(t, s, "s", 0).CheckpointEpoch; got != epoch {
			t.Fatalf("CheckpointEpoch = %d, want %d", got, epoch)
		}
	}
	a := []byte("weights after epoch 1")
	report(t, s, c, 1, a)
	check(1, a)
	report(t, s, c, 2, nil) // without a checkpoint the old one stays
	check(1, a)
	report(t, s, c, 3, []byte{}) // empty means none too
	check(1, a)

	// A large checkpoint, changed by the caller after the call.
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	want := bytes.Clone(big)
	report(t, s, c, 4, big)
	big[0]++
	check(4, want)
	ck, _ := s.Checkpoint(ctx, "s", 0)
	ck.Data[1]++
	check(4, want)

	report(t, s, c, 5, nil)
	// The worker dies; on resume the trial goes back to the queue, keeps
	// its checkpoint and forgets epoch 5, which will be trained again.
	if ns, err := s.RequeueRunning(ctx, "s"); err != nil || !slices.Equal(ns, []int{0}) {
		t.Fatalf("RequeueRunning = %v, %v", ns, err)
	}
	tr = mustTrial(t, s, "s", 0)
	if tr.State != store.Queued || tr.LastEpoch() != 4 || len(tr.Epochs) != 4 {
		t.Fatalf("after requeue: state %s, epochs %+v; want queued, epochs 1-4", tr.State, tr.Epochs)
	}
	check(4, want)
	tr, _ = s.ClaimTrial(ctx, "s", "w2")
	report(t, s, tr.Claim(), 5, []byte("e5"))
	check(5, []byte("e5"))
	if _, err := s.FinishTrial(ctx, tr.Claim(), complete(0.9)); err != nil {
		t.Fatal(err)
	}
	_, err = s.Checkpoint(ctx, "s", 0)
	wantErr(t, "Checkpoint after FinishTrial", err, store.ErrCheckpointNotFound)
	if got := mustTrial(t, s, "s", 0); got.CheckpointEpoch != 0 || got.LastEpoch() != 5 {
		t.Errorf("finished trial: checkpoint epoch %d, last epoch %d", got.CheckpointEpoch, got.LastEpoch())
	}

	// Requeued without any checkpoint, a trial starts again from scratch.
	mustEnqueue(t, s, "s", 1)
	tr = mustStart(t, s, "s", 1)
	report(t, s, tr.Claim(), 1, nil)
	s.RequeueRunning(ctx, "s")
	if got := mustTrial(t, s, "s", 1); got.Epochs != nil || got.CheckpointEpoch != 0 {
		t.Errorf("requeued without checkpoint: epochs %+v", got.Epochs)
	}
}

func testPauseContinue(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	mustEnqueue(t, s, "s", 0)
	tr := mustStart(t, s, "s", 0)
	report(t, s, tr.Claim(), 1, []byte("rung 1"))
	report(t, s, tr.Claim(), 2, nil)
	p, err := s.PauseTrial(ctx, tr.Claim())
	if err != nil {
		t.Fatal(err)
	}
	if p.State != store.Paused || p.LastEpoch() != 1 || p.CheckpointEpoch != 1 {
		t.Errorf("paused: %+v; want epochs up to the checkpoint", p)
	}
	same(t, "Trial after PauseTrial", mustTrial(t, s, "s", 0), p)
	_, err = s.ClaimTrial(ctx, "s", "w")
	wantErr(t, "ClaimTrial with only a paused trial", err, store.ErrNoQueuedTrial)
	_, err = s.StartTrial(ctx, "s", 0, "w")
	wantErr(t, "StartTrial of a paused trial", err, store.ErrWrongState)
	wantErr(t, "ReportEpoch on a paused trial", s.ReportEpoch(ctx, tr.Claim(), metrics(2), nil), store.ErrWrongState)
	_, err = s.PauseTrial(ctx, tr.Claim())
	wantErr(t, "PauseTrial twice", err, store.ErrWrongState)
	_, err = s.ContinueTrial(ctx, "s", 0, -1)
	wantErr(t, "ContinueTrial with a negative budget", err, store.ErrInvalidTrial)

	q, err := s.ContinueTrial(ctx, "s", 0, 9)
	if err != nil || q.State != store.Queued || q.Budget != 9 {
		t.Fatalf("continued: %+v, %v", q, err)
	}
	_, err = s.ContinueTrial(ctx, "s", 0, 9)
	wantErr(t, "ContinueTrial of a queued trial", err, store.ErrWrongState)
	tr, _ = s.ClaimTrial(ctx, "s", "w")
	if tr.Number != 0 || tr.Attempt != 2 {
		t.Fatalf("claimed %+v", tr)
	}
	report(t, s, tr.Claim(), 2, []byte("rung 2"))
	if _, err := s.PauseTrial(ctx, tr.Claim()); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.ContinueTrial(ctx, "s", 0, 0); q.Budget != 9 {
		t.Errorf("ContinueTrial with budget 0 changed the budget to %d", q.Budget)
	}
	tr, _ = s.ClaimTrial(ctx, "s", "w")
	s.PauseTrial(ctx, tr.Claim())
	// A paused trial that is never promoted is finished as pruned.
	fin, err := s.FinishTrial(ctx, tr.Claim(), store.Result{State: store.Pruned, Value: ptr(0.5)})
	if err != nil || fin.State != store.Pruned || fin.CheckpointEpoch != 0 || fin.LastEpoch() != 2 {
		t.Fatalf("finish of a paused trial: %+v, %v", fin, err)
	}
	_, err = s.Checkpoint(ctx, "s", 0)
	wantErr(t, "Checkpoint of a pruned trial", err, store.ErrCheckpointNotFound)
}

func testRequeueRunning(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	mustCreate(t, s, "other")
	for i := 0; i < 6; i++ {
		mustEnqueue(t, s, "s", i)
	}
	mustEnqueue(t, s, "other", 0)
	mustStart(t, s, "other", 0)
	for _, n := range []int{4, 1, 2, 3} {
		mustStart(t, s, "s", n)
	}
	tr3 := mustTrial(t, s, "s", 3)
	if _, err := s.FinishTrial(ctx, tr3.Claim(), complete(1)); err != nil {
		t.Fatal(err)
	}
	tr2 := mustTrial(t, s, "s", 2)
	if _, err := s.PauseTrial(ctx, tr2.Claim()); err != nil {
		t.Fatal(err)
	}
	ns, err := s.RequeueRunning(ctx, "s")
	if err != nil || !slices.Equal(ns, []int{1, 4}) {
		t.Fatalf("RequeueRunning = %v, %v; want [1 4]", ns, err)
	}
	want := []store.TrialState{store.Queued, store.Queued, store.Paused, store.Complete, store.Queued, store.Queued}
	ts, _ := s.Trials(ctx, "s")
	for i, tr := range ts {
		if tr.State != want[i] {
			t.Errorf("trial %d is %s, want %s", i, tr.State, want[i])
		}
	}
	if tr := mustTrial(t, s, "other", 0); tr.State != store.Running {
		t.Errorf("RequeueRunning changed another study's trial to %s", tr.State)
	}
	if ns, err := s.RequeueRunning(ctx, "s"); err != nil || ns != nil {
		t.Errorf("second RequeueRunning = %v, %v; want nil", ns, err)
	}
}

func newTrials(gen, k int) []store.NewTrial {
	var out []store.NewTrial
	for i := 0; i < k; i++ {
		out = append(out, store.NewTrial{Gamma: gamma(gen*10 + i), Seed: uint64(gen*100 + i), Generation: 99})
	}
	return out
}

func testSamplerStates(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	if all, err := s.SamplerStates(ctx, "s"); err != nil || len(all) != 0 {
		t.Errorf("SamplerStates of a new study = %v, %v", all, err)
	}
	mustEnqueue(t, s, "s", 0) // numbers continue after trials enqueued alone
	st0 := store.SamplerState{Generation: 0, Version: 1, Data: json.RawMessage(`{"mean": [0.5, -0.25], "sigma": 0.3, "note": "<&>"}`)}
	ts, err := s.PutSamplerState(ctx, "s", st0, newTrials(0, 3))
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 3 {
		t.Fatalf("PutSamplerState returned %d trials", len(ts))
	}
	for i, tr := range ts {
		if tr.Number != i+1 || tr.Generation != 0 || tr.State != store.Queued || tr.Seed != uint64(i) {
			t.Errorf("trial %d of generation 0: %+v", i, tr)
		}
		same(t, "trial of generation 0", mustTrial(t, s, "s", tr.Number), tr)
	}
	got, err := s.SamplerState(ctx, "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Generation != 0 || got.Version != 1 || string(got.Data) != `{"mean":[0.5,-0.25],"sigma":0.3,"note":"<&>"}` ||
		!slices.Equal(got.Trials, []int{1, 2, 3}) || got.CreatedAt.IsZero() {
		t.Errorf("SamplerState(0) = %+v %s", got, got.Data)
	}

	// Repeating the save (a resumed driver) returns the same trials and
	// enqueues nothing, even with the trials moved on.
	mustStart(t, s, "s", 2)
	again, err := s.PutSamplerState(ctx, "s", store.SamplerState{Generation: 0, Version: 1, Data: json.RawMessage(`{"mean":[0.5,-0.25],"sigma":0.3,"note":"<&>"}`)}, newTrials(0, 3))
	if err != nil {
		t.Fatalf("repeated PutSamplerState: %v", err)
	}
	if len(again) != 3 || again[1].Number != 2 || again[1].State != store.Running {
		t.Errorf("repeated PutSamplerState returned %+v", again)
	}
	if all, _ := s.Trials(ctx, "s"); len(all) != 4 {
		t.Errorf("repeated PutSamplerState enqueued again: %d trials", len(all))
	}
	for what, put := range map[string]func() error{
		"different data": func() error {
			_, err := s.PutSamplerState(ctx, "s", store.SamplerState{Generation: 0, Version: 1, Data: json.RawMessage(`{}`)}, newTrials(0, 3))
			return err
		},
		"different version": func() error {
			_, err := s.PutSamplerState(ctx, "s", store.SamplerState{Generation: 0, Version: 2, Data: st0.Data}, newTrials(0, 3))
			return err
		},
		"fewer trials": func() error {
			_, err := s.PutSamplerState(ctx, "s", st0, newTrials(0, 2))
			return err
		},
		"other trials": func() error {
			_, err := s.PutSamplerState(ctx, "s", st0, newTrials(1, 3))
			return err
		},
	} {
		wantErr(t, "PutSamplerState with "+what, put(), store.ErrSamplerStateExists)
	}

	if _, err := s.PutSamplerState(ctx, "s", store.SamplerState{Generation: 5, Data: json.RawMessage(`[5]`)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSamplerState(ctx, "s", store.SamplerState{Generation: 1, Data: json.RawMessage(`[1]`)}, newTrials(1, 1)); err != nil {
		t.Fatal(err)
	}
	latest, err := s.LatestSamplerState(ctx, "s")
	if err != nil || latest.Generation != 5 || string(latest.Data) != `[5]` || latest.Trials != nil {
		t.Errorf("LatestSamplerState = %+v, %v", latest, err)
	}
	all, err := s.SamplerStates(ctx, "s")
	if err != nil || len(all) != 3 || all[0].Generation != 0 || all[1].Generation != 1 || all[2].Generation != 5 {
		t.Errorf("SamplerStates = %+v, %v", all, err)
	}
	_, err = s.SamplerState(ctx, "s", 3)
	wantErr(t, "SamplerState(3)", err, store.ErrSamplerStateNotFound)

	for what, st := range map[string]store.SamplerState{
		"negative generation": {Generation: -1, Data: json.RawMessage(`{}`)},
		"negative version":    {Generation: 7, Version: -1, Data: json.RawMessage(`{}`)},
		"bad JSON":            {Generation: 7, Data: json.RawMessage(`{"a":`)},
		"no data":             {Generation: 7},
	} {
		_, err := s.PutSamplerState(ctx, "s", st, nil)
		wantErr(t, "PutSamplerState with "+what, err, store.ErrInvalidSamplerState)
	}
	// A generation whose trials are invalid is not saved at all.
	bad := newTrials(7, 3)
	bad[2].Gamma = []float64{1}
	_, err = s.PutSamplerState(ctx, "s", store.SamplerState{Generation: 7, Data: json.RawMessage(`{}`)}, bad)
	wantErr(t, "PutSamplerState with an invalid trial", err, store.ErrInvalidTrial)
	_, err = s.SamplerState(ctx, "s", 7)
	wantErr(t, "generation saved despite an invalid trial", err, store.ErrSamplerStateNotFound)
	if ts, _ := s.Trials(ctx, "s"); len(ts) != 5 {
		t.Errorf("%d trials after a failed PutSamplerState, want 5", len(ts))
	}
}

// awkward are float64 values that a careless encoding would change.
var awkward = []float64{0.1, 1.0 / 3, math.Copysign(0, -1), 5e-324, math.MaxFloat64, -math.SmallestNonzeroFloat64, 1e21, 1e-7,
	0.9540437557611278, -0.45393914646691425, 2.5e-310, 123456789012345680}

func testFloatExactness(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	var trials []store.Trial
	for i := 0; i+5 <= len(awkward); i++ {
		tr, err := s.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: awkward[i : i+5], Seed: math.MaxUint64 - uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		trials = append(trials, tr)
	}
	tr := mustStart(t, s, "s", 0)
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 5e-324}
	for e, v := range special {
		m := store.EpochMetrics{Epoch: e + 1, TrainLoss: v, TrainAcc: v, ValAcc: v, TestAcc: ptr(v), Seconds: v, Extra: map[string]float64{"x": v}}
		if err := s.ReportEpoch(ctx, tr.Claim(), m, nil); err != nil {
			t.Fatalf("ReportEpoch with %v: %v", v, err)
		}
	}
	r := store.Result{State: store.Pruned, Value: ptr(math.Inf(-1)), Final: map[string]float64{"nan": math.NaN(), "tiny": 5e-324}, Atoms: [][]float64{special, awkward[:5]}}
	if _, err := s.FinishTrial(ctx, tr.Claim(), r); err != nil {
		t.Fatal(err)
	}
	bits := func(x float64) uint64 {
		if math.IsNaN(x) {
			return 0x7ff8000000000001 // any NaN
		}
		return math.Float64bits(x)
	}
	eq := func(what string, got, want float64) {
		if bits(got) != bits(want) {
			t.Errorf("%s = %v (%#x), want %v (%#x)", what, got, math.Float64bits(got), want, math.Float64bits(want))
		}
	}
	check := func(s store.Store, study string) {
		got, err := s.Trials(ctx, study)
		if err != nil {
			t.Fatal(err)
		}
		for i, tr := range trials {
			for j := range tr.Gamma {
				eq(fmt.Sprintf("trial %d gamma[%d]", i, j), got[i].Gamma[j], awkward[i+j])
			}
			if got[i].Seed != math.MaxUint64-uint64(i) {
				t.Errorf("trial %d seed %d", i, got[i].Seed)
			}
		}
		f := got[0]
		for e, v := range special {
			m := f.Epochs[e]
			for name, x := range map[string]float64{"loss": m.TrainLoss, "train": m.TrainAcc, "val": m.ValAcc, "test": *m.TestAcc, "seconds": m.Seconds, "extra": m.Extra["x"]} {
				eq(fmt.Sprintf("epoch %d %s", e+1, name), x, v)
			}
		}
		eq("value", *f.Value, math.Inf(-1))
		eq("final nan", f.Final["nan"], math.NaN())
		eq("final tiny", f.Final["tiny"], 5e-324)
		for i, row := range r.Atoms {
			for j, v := range row {
				eq(fmt.Sprintf("atoms[%d][%d]", i, j), f.Atoms[i][j], v)
			}
		}
	}
	check(s, "s")

	var buf bytes.Buffer
	if err := store.ExportJSON(ctx, s, "s", &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ImportJSON(ctx, s, &buf, store.ImportOptions{Name: "copy"}); err != nil {
		t.Fatal(err)
	}
	check(s, "copy")
}

// richStudy fills a study with a trial in every state, checkpoints and
// sampler states.
func richStudy(t *testing.T, s store.Store, name string) {
	t.Helper()
	def := Study(name)
	def.Pruner = store.PrunerConfig{Name: "asha", Config: json.RawMessage(`{"eta":3}`)}
	if _, err := s.CreateStudy(ctx, def); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSamplerState(ctx, name, store.SamplerState{Generation: 0, Version: 3, Data: json.RawMessage(`{"rng":"AAEC","sigma":0.1}`)}, newTrials(0, 4)); err != nil {
		t.Fatal(err)
	}
	finishedTrial(t, s, name, 10, store.Complete)
	finishedTrial(t, s, name, 11, store.Pruned)
	finishedTrial(t, s, name, 12, store.Failed)
	// 0 stays queued; 1 runs with a checkpoint; 2 is paused; 3 was
	// requeued with a checkpoint.
	for _, n := range []int{1, 2, 3} {
		tr := mustStart(t, s, name, n)
		report(t, s, tr.Claim(), 1, []byte(fmt.Sprint("ckpt ", n)))
		report(t, s, tr.Claim(), 2, nil)
	}
	tr2 := mustTrial(t, s, name, 2)
	if _, err := s.PauseTrial(ctx, tr2.Claim()); err != nil {
		t.Fatal(err)
	}
	tr3 := mustTrial(t, s, name, 3)
	if _, err := s.FinishTrial(ctx, tr3.Claim(), store.Result{State: store.Failed, Reason: "out of memory"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSamplerState(ctx, name, store.SamplerState{Generation: 1, Data: json.RawMessage(`{"sigma":0.05}`)}, newTrials(1, 2)); err != nil {
		t.Fatal(err)
	}
}

func renamed(d store.Dump, name string) store.Dump {
	d.Study.Name = name
	d.Trials = slices.Clone(d.Trials)
	for i := range d.Trials {
		d.Trials[i].Study = name
	}
	return d
}

func testExportImport(t *testing.T, s store.Store) {
	richStudy(t, s, "orig")
	d, err := s.Export(ctx, "orig")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Trials) != 9 || len(d.SamplerStates) != 2 || len(d.Checkpoints) != 2 {
		t.Fatalf("Export: %d trials, %d sampler states, %d checkpoints; want 9, 2, 2", len(d.Trials), len(d.SamplerStates), len(d.Checkpoints))
	}
	orig := dumpJSON(t, d)

	// Through the file format and back, and into the store under a new
	// name: nothing changes but the name.
	read, err := store.ReadJSON(strings.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	if got := dumpJSON(t, read); got != orig {
		t.Errorf("WriteJSON(ReadJSON(x)) != x:\n%s\nvs\n%s", got, orig)
	}
	imp, err := store.ImportJSON(ctx, s, strings.NewReader(orig), store.ImportOptions{Name: "copy"})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Name != "copy" {
		t.Errorf("imported as %q", imp.Name)
	}
	back, err := s.Export(ctx, "copy")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dumpJSON(t, back), dumpJSON(t, renamed(d, "copy")); got != want {
		t.Errorf("export of the imported study differs:\n%s\nwant\n%s", got, want)
	}
	for i, tr := range back.Trials {
		if tr.Study != "copy" {
			t.Errorf("imported trial %d belongs to %q", i, tr.Study)
		}
	}

	// The imported study carries on: numbering, claims and checkpoints.
	if tr := mustEnqueue(t, s, "copy", 0); tr.Number != 9 {
		t.Errorf("next number after import = %d, want 9", tr.Number)
	}
	if ck, err := s.Checkpoint(ctx, "copy", 1); err != nil || string(ck.Data) != "ckpt 1" || ck.Epoch != 1 {
		t.Errorf("imported checkpoint: %+v, %v", ck, err)
	}
	if tr, err := s.ClaimTrial(ctx, "copy", "w"); err != nil || tr.Number != 0 {
		t.Errorf("claim after import: %+v, %v", tr, err)
	}
	if ns, err := s.RequeueRunning(ctx, "copy"); err != nil || !slices.Equal(ns, []int{0, 1}) {
		t.Errorf("RequeueRunning after import = %v, %v; want [0 1]", ns, err)
	}

	_, err = store.ImportJSON(ctx, s, strings.NewReader(orig), store.ImportOptions{})
	wantErr(t, "import over an existing study", err, store.ErrStudyExists)
	if _, err := store.ImportJSON(ctx, s, strings.NewReader(orig), store.ImportOptions{Name: "copy", Replace: true}); err != nil {
		t.Fatalf("import with Replace: %v", err)
	}
	back, _ = s.Export(ctx, "copy")
	if got, want := dumpJSON(t, back), dumpJSON(t, renamed(d, "copy")); got != want {
		t.Errorf("replaced study differs from the export")
	}

	// Inconsistent dumps change nothing.
	for what, change := range map[string]func(*store.Dump){
		"duplicate trial": func(d *store.Dump) { d.Trials[1] = d.Trials[0] },
		"missing checkpoint": func(d *store.Dump) {
			d.Checkpoints = d.Checkpoints[1:]
		},
		"checkpoint of another epoch": func(d *store.Dump) {
			d.Checkpoints = slices.Clone(d.Checkpoints)
			d.Checkpoints[0].Epoch = 2
		},
		"sampler state lists a missing trial": func(d *store.Dump) {
			d.SamplerStates = slices.Clone(d.SamplerStates)
			d.SamplerStates[0].Trials = []int{100}
		},
		"trial of the wrong dimension": func(d *store.Dump) {
			d.Trials[4].Gamma = []float64{1}
		},
		"no creation time": func(d *store.Dump) { d.Study.CreatedAt = time.Time{} },
	} {
		bad, _ := store.ReadJSON(strings.NewReader(orig))
		bad = renamed(bad, "bad")
		change(&bad)
		err := s.Import(ctx, bad, true)
		wantErr(t, "Import with "+what, err, store.ErrInvalidDump)
		if _, err := s.Study(ctx, "bad"); !errors.Is(err, store.ErrStudyNotFound) {
			t.Errorf("Import with %s stored the study", what)
		}
	}
	bad, _ := store.ReadJSON(strings.NewReader(orig))
	bad.Study.Space.Labels = nil
	wantErr(t, "Import of an invalid study", s.Import(ctx, bad, true), store.ErrInvalidStudy)

	for what, text := range map[string]string{
		"empty":           "",
		"not JSON":        "trials,state\n1,complete\n",
		"other JSON":      `{"name": "x"}`,
		"truncated":       orig[:len(orig)/2],
		"unknown field":   strings.Replace(orig, `"trials": [`, `"extra": 1, "trials": [`, 1),
		"NaN in gamma":    strings.Replace(orig, `"gamma": [`, `"gamma": ["NaN", `, 1),
		"bad state":       strings.Replace(orig, `"state": "queued"`, `"state": "sleeping"`, 1),
		"trailing data":   orig + "{}",
		"version 0 trial": strings.Replace(orig, `"v": 1,`+"\n      \"number\"", `"v": 0,`+"\n      \"number\"", 1),
	} {
		_, err := store.ReadJSON(strings.NewReader(text))
		wantErr(t, "ReadJSON of "+what, err, store.ErrCorrupt)
	}
	newer := strings.Replace(orig, `"v": 1`, `"v": 99`, 1)
	_, err = store.ReadJSON(strings.NewReader(newer))
	wantErr(t, "ReadJSON of a newer export", err, store.ErrNewerSchema)
	if err != nil && !strings.Contains(err.Error(), "upgrade goalsearch") {
		t.Errorf("newer export error %q does not say to upgrade", err)
	}
}

func testExportCSV(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	mustEnqueue(t, s, "s", 0)
	tr := mustStart(t, s, "s", 0)
	report(t, s, tr.Claim(), 1, nil)
	if _, err := s.FinishTrial(ctx, tr.Claim(), complete(0.1)); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, "s", 3)
	tr = mustStart(t, s, "s", 1)
	if _, err := s.FinishTrial(ctx, tr.Claim(), store.Result{State: store.Failed, Reason: "bad, \"quoted\"", WallTime: 1500e6}); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, "s", 2)
	var buf bytes.Buffer
	if err := store.ExportCSV(ctx, s, "s", &buf); err != nil {
		t.Fatal(err)
	}
	want := `number,state,generation,seed,value,{1},{2},{1}{2},{12},H_res,epochs,wall_seconds,final_test_acc,reason
0,complete,0,1000,0.1,0,-0.5,0.3333333333333333,0,0,1,90,0.09000000000000001,
1,failed,0,1003,,0.30000000000000004,-0.5,0.3333333333333333,0,0,0,1.5,,"bad, ""quoted"""
2,queued,0,1002,,0.2,-0.5,0.3333333333333333,0,0,0,0,,
`
	if buf.String() != want {
		t.Errorf("CSV:\n%s\nwant\n%s", buf.String(), want)
	}
}

func testClose(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err := s.Study(ctx, "s")
	wantErr(t, "Study after Close", err, store.ErrClosed)
	_, err = s.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: gamma(0)})
	wantErr(t, "EnqueueTrial after Close", err, store.ErrClosed)
	_, err = s.CreateStudy(ctx, Study("t"))
	wantErr(t, "CreateStudy after Close", err, store.ErrClosed)
}

func testCancelled(t *testing.T, s store.Store) {
	mustCreate(t, s, "s")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.EnqueueTrial(cctx, "s", store.NewTrial{Gamma: gamma(0)})
	wantErr(t, "EnqueueTrial with a cancelled context", err, context.Canceled)
	_, err = s.CreateStudy(cctx, Study("t"))
	wantErr(t, "CreateStudy with a cancelled context", err, context.Canceled)
	_, err = s.Trials(cctx, "s")
	wantErr(t, "Trials with a cancelled context", err, context.Canceled)
	if ts, _ := s.Trials(ctx, "s"); len(ts) != 0 {
		t.Errorf("a cancelled EnqueueTrial stored a trial")
	}
	if _, err := s.Study(ctx, "t"); !errors.Is(err, store.ErrStudyNotFound) {
		t.Errorf("a cancelled CreateStudy stored a study")
	}
}

// testObjectives: a multi-objective study keeps its further objectives
// (with their grid) and each finished trial its Values, through Study,
// Trial, Trials, Export and Import; a study re-created with other
// objectives is ErrStudyExists; a NaN further value, or values on a failed
// trial, are refused.
func testObjectives(t *testing.T, s store.Store) {
	def := Study("multi")
	def.Objectives = []store.Objective{{Metric: "nonzero", Direction: store.Minimize, Grid: 0.1}}
	if _, err := s.CreateStudy(ctx, def); err != nil {
		t.Fatal(err)
	}
	got, err := s.Study(ctx, "multi")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Objectives) != 1 || got.Objectives[0] != def.Objectives[0] {
		t.Fatalf("Objectives read back as %+v, want %+v", got.Objectives, def.Objectives)
	}
	other := def
	other.Objectives = []store.Objective{{Metric: "l1", Direction: store.Minimize, Grid: 0.1}}
	_, err = s.CreateStudy(ctx, other)
	wantErr(t, "re-creating with another objective", err, store.ErrStudyExists)
	single := def
	single.Objectives = nil
	_, err = s.CreateStudy(ctx, single)
	wantErr(t, "re-creating with a single objective", err, store.ErrStudyExists)

	tr := mustEnqueue(t, s, "multi", 1)
	tr = mustStart(t, s, "multi", tr.Number)
	bad := complete(0.9)
	bad.Values = []float64{math.NaN()}
	_, err = s.FinishTrial(ctx, tr.Claim(), bad)
	wantErr(t, "a NaN further value", err, store.ErrInvalidResult)
	failed := store.Result{State: store.Failed, Reason: "diverged", Values: []float64{3}}
	_, err = s.FinishTrial(ctx, tr.Claim(), failed)
	wantErr(t, "values on a failure", err, store.ErrInvalidResult)
	r := complete(0.9)
	r.Values = []float64{4}
	fin, err := s.FinishTrial(ctx, tr.Claim(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(fin.Values) != 1 || fin.Values[0] != 4 {
		t.Fatalf("FinishTrial: Values %v, want [4]", fin.Values)
	}
	same(t, "Trial after FinishTrial", mustTrial(t, s, "multi", fin.Number), fin)
	ts, err := s.Trials(ctx, "multi")
	if err != nil || len(ts) != 1 {
		t.Fatalf("Trials: %v, %v", ts, err)
	}
	same(t, "Trials after FinishTrial", ts[0], fin)

	var b bytes.Buffer
	if err := store.ExportJSON(ctx, s, "multi", &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"values"`) || !strings.Contains(b.String(), `"objectives"`) {
		t.Fatalf("export lacks the values or objectives:\n%s", b.String())
	}
	imp, err := store.ImportJSON(ctx, s, &b, store.ImportOptions{Name: "multi-copy"})
	if err != nil {
		t.Fatal(err)
	}
	sameStudy(t, "imported study", imp, renamedStudy(got, "multi-copy"))
	back := mustTrial(t, s, "multi-copy", fin.Number)
	if len(back.Values) != 1 || back.Values[0] != 4 {
		t.Fatalf("imported trial: Values %v, want [4]", back.Values)
	}

	// A single-objective study's records carry neither field, so stores
	// and exports written before they existed read the same.
	mustCreate(t, s, "single")
	st := finishedTrial(t, s, "single", 2, store.Complete)
	if st.Values != nil {
		t.Fatalf("single-objective trial has Values %v", st.Values)
	}
	b.Reset()
	if err := store.ExportJSON(ctx, s, "single", &b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `"values"`) || strings.Contains(b.String(), `"objectives"`) {
		t.Fatalf("single-objective export has values or objectives:\n%s", b.String())
	}
}

func renamedStudy(s store.Study, name string) store.Study {
	s.Name = name
	return s
}
