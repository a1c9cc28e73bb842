package dashboard

import (
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"goalsearch/store"
	"goalsearch/store/boltstore"
)

// bigStore is a bbolt store holding one study of n trials of 10 epochs
// each, all complete but the last two, which run.
func bigStore(b testing.TB, n int) store.Store {
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "big.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	labels := []string{"x1", "x2", "x3", "x4", "x5"}
	d := store.Dump{Study: store.Study{
		Name: "big", Setup: store.Setup{Name: "rastrigin", Config: json.RawMessage(`{"dim":5,"epochs":10}`)},
		Space:     store.SearchSpace{Labels: labels, Lower: []float64{-1, -1, -1, -1, -1}, Upper: []float64{1, 1, 1, 1, 1}},
		Objective: store.Objective{Metric: "val_acc", Direction: store.Maximize}, Sampler: store.SamplerConfig{Name: "random"},
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond), SchemaVersion: store.SchemaVersion,
	}}
	r := rand.New(rand.NewPCG(1, 1))
	now := d.Study.CreatedAt
	for i := range n {
		t := store.Trial{Study: "big", Number: i, State: store.Complete, Gamma: []float64{r.Float64(), r.Float64(), r.Float64(), r.Float64(), r.Float64()},
			Seed: r.Uint64(), Attempt: 1, Worker: "w:1", Created: now, Started: now, Finished: now, WallTime: time.Second}
		for e := 1; e <= 10; e++ {
			t.Epochs = append(t.Epochs, store.EpochMetrics{Epoch: e, ValAcc: r.Float64(), TrainAcc: r.Float64(), TrainLoss: r.Float64(), Seconds: 0.1})
		}
		if i >= n-2 {
			t.State, t.Finished, t.Epochs, t.WallTime = store.Running, time.Time{}, t.Epochs[:4], 0
		} else {
			v := r.Float64()
			t.Value = &v
		}
		d.Trials = append(d.Trials, t)
	}
	if err := st.Import(ctx, d, false); err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkAPI is what one request costs the process that serves it (the
// running search, with --dashboard) on a study of 2000 trials: the page
// asks for /api/trials?from=...&watch=... every second, and for the study's
// summary when a trial starts, finishes or reports.
func BenchmarkAPI(b *testing.B) {
	// A poll of 1 ms refreshes the snapshot on every request, as a page
	// polling every second does.
	h := New(bigStore(b, 2000), Options{Poll: time.Millisecond})
	for _, path := range []string{
		"/api/studies",
		"/api/study?study=big",
		"/api/trials?study=big",
		"/api/trials?study=big&from=2000&watch=1998,1999",
		"/api/importance?study=big",
		"/api/trial?study=big&number=7",
	} {
		b.Run(path, func(b *testing.B) {
			size := 0
			defer cpuPerOp(b)()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1"+path, nil))
				if rec.Code != 200 {
					b.Fatal(rec.Body.String())
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes")
		})
	}
}

// BenchmarkPoll is one poll of a page watching a running study of 2000
// trials, in which a trial reported an epoch: the incremental trials, then
// the summary and the importance, which share the first request's store
// read.
func BenchmarkPoll(b *testing.B) {
	h := New(bigStore(b, 2000), Options{})
	get := func(path string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1"+path, nil))
		if rec.Code != 200 {
			b.Fatal(rec.Body.String())
		}
	}
	get("/api/trials?study=big")
	defer cpuPerOp(b)()
	for b.Loop() {
		b.StopTimer()
		time.Sleep(260 * time.Millisecond) // the snapshot expires, as between two polls
		b.StartTimer()
		get("/api/trials?study=big&from=2000&watch=1998,1999")
		get("/api/study?study=big")
		get("/api/importance?study=big")
	}
}

// cpuPerOp reports the CPU time the process spent per iteration (all its
// threads, the garbage collector's too) when the returned function is
// called: what a request costs a running search that serves it, whatever
// else the machine runs.
func cpuPerOp(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
