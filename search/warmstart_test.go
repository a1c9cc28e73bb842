package search

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"goalsearch/search/tpe"
	"goalsearch/setups"
	"goalsearch/store"
)

// warmGoals are enqueued into the warm-start tests' studies; the first is
// the sphere's optimum (0.3 everywhere), the third lies outside the box in
// one coordinate and is clipped into it.
var warmGoals = [][]float64{{0.3, 0.3, 0.3}, {-0.5, 0.1, 0.9}, {1.5, 0, 0}}

// checkWarmStart asserts that the study's last TPE state holds the
// enqueued goals as its first points, told the negated values of their
// trials, so that TPE learnt from them.
func checkWarmStart(t *testing.T, st store.Store, name string) {
	t.Helper()
	ctx := context.Background()
	latest, err := st.LatestSamplerState(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		State tpe.State `json:"state"`
	}
	if err := json.Unmarshal(latest.Data, &data); err != nil {
		t.Fatal(err)
	}
	pts := data.State.Points
	if len(pts) < len(warmGoals)+1 {
		t.Fatalf("TPE holds %d points; want the %d enqueued goals and its own", len(pts), len(warmGoals))
	}
	for i, g := range warmGoals {
		tr, err := st.Trial(ctx, name, i)
		if err != nil {
			t.Fatal(err)
		}
		want := []float64{min(g[0], 1), g[1], g[2]} // clipped into [-1, 1]
		for j := range want {
			if pts[i].X[j] != want[j] {
				t.Errorf("point %d = %v, want enqueued goal %v", i, pts[i].X, want)
				break
			}
		}
		if tr.Generation != 0 || tr.State != store.Complete {
			t.Fatalf("trial %d: generation %d, %s; want an enqueued, complete trial", i, tr.Generation, tr.State)
		}
		if !pts[i].Told || pts[i].Value != -*tr.Value {
			t.Errorf("point %d: told %v value %v; want told -%v (trial %d's value)", i, pts[i].Told, pts[i].Value, *tr.Value, i)
		}
	}
}

func warmStudy(t *testing.T, st store.Store, name string) store.Study {
	t.Helper()
	ctx := context.Background()
	s := sphereStudy(name, 3, "")
	s.Sampler.Name = "tpe"
	s.Sampler.Config = json.RawMessage(`{"n_startup_trials":4}`)
	if _, err := st.CreateStudy(ctx, s); err != nil {
		t.Fatal(err)
	}
	for i, g := range warmGoals {
		if _, err := st.EnqueueTrial(ctx, name, store.NewTrial{Gamma: g, Seed: TrialSeed(s.Seed, 0, i)}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestWarmStartDriver: a TPE study's enqueued goals are its first points,
// told like its own; with 4 start-up trials and 3 enqueued, only one point
// is drawn uniformly before the model proposes.
func TestWarmStartDriver(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "w.db"))
	s := warmStudy(t, st, "w")
	obj, _ := NewSynthetic("sphere", setups.SyntheticConfig{Dim: 3})
	sp, _ := NewSpace(s.Space)
	smp, err := NewSampler("tpe", sp.Box(), s.Sampler.Config, s.Seed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), st, "w", obj, smp, Options{Slots: 2, Trials: 12}); err != nil {
		t.Fatal(err)
	}
	checkWarmStart(t, st, "w")
}

// TestWarmStartWorker: workers of a shared store warm-start the sampler in
// the same way.
func TestWarmStartWorker(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "w.db"))
	s := warmStudy(t, st, "w")
	obj, _ := NewSynthetic("sphere", setups.SyntheticConfig{Dim: 3})
	sp, _ := NewSpace(s.Space)
	smp, err := NewSampler("tpe", sp.Box(), s.Sampler.Config, s.Seed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Work(context.Background(), st, "w", obj, smp, WorkerOptions{Trials: 12, GenerationSize: 1, Name: "w1", Poll: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	checkWarmStart(t, st, "w")
}

// A sampler without a warm start (CMA-ES) is not told enqueued goals, as
// before: its first point numbers are its own.
func TestNoWarmStartForCMAES(t *testing.T) {
	sp, _ := NewSpace(sphereStudy("c", 3, "").Space)
	smp, err := NewSampler("cmaes", sp.Box(), nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if warmStarterOf(smp) != nil {
		t.Error("cmaes has a warm start; its generations would count enqueued goals")
	}
	tp, _ := NewSampler("tpe", sp.Box(), nil, 1)
	if warmStarterOf(tp) == nil {
		t.Error("tpe has no warm start")
	}
}
