package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/store/boltstore"
	"goalsearch/summary"
	"goalsearch/trainer/goals"
)

// The fixture is a store of hand-made studies (no training): a searched
// study with its evaluation, sensitivity and sparsification studies, a group
// of preset and baseline evaluations, and the awkward cases (an empty study,
// one whose trials all failed, a synthetic study without evaluations). Every
// value comes from a seeded PCG stream and every timestamp is fixed, so the
// reports made from it are the same on every run.

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

// fixtureStore writes the fixture to a new store in a temporary directory
// and returns it open, with its path.
func fixtureStore(t testing.TB) (store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fixture.db")
	st, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, d := range fixtureDumps(t) {
		if err := st.Import(context.Background(), d, false); err != nil {
			t.Fatalf("import %s: %v", d.Study.Name, err)
		}
	}
	return st, path
}

func mustLabels(t testing.TB, setup string) []string {
	l, err := goals.Labels(setup)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustPreset(t testing.TB, name string) []float64 {
	p, ok := goals.Lookup(name, "")
	if !ok {
		t.Fatalf("no preset %s", name)
	}
	return p.Gamma
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func ptr(x float64) *float64 { return &x }

func searchStudy(name, setup string, labels []string, hidden, epochs int) store.Study {
	cfg, _ := json.Marshal(setups.NetworkConfig{Setup: setup, Hidden: hidden, Epochs: epochs})
	sp := store.SearchSpace{Labels: labels}
	for range labels {
		sp.Lower = append(sp.Lower, -1)
		sp.Upper = append(sp.Upper, 1)
	}
	if labels[len(labels)-1] == "H_res" && len(labels) == 19 {
		sp.Fixed = map[string]float64{"H_res": 0}
	}
	return store.Study{Name: name, Setup: store.Setup{Name: setup, Config: cfg}, Space: sp,
		Objective: store.Objective{Metric: "val_acc", Direction: store.Maximize},
		Sampler:   store.SamplerConfig{Name: "cmaes", Config: json.RawMessage(`{"population":6}`)},
		Seed:      7, CreatedAt: t0, SchemaVersion: store.SchemaVersion}
}

// atomsFor makes per-neuron mean atoms whose profile depends on the goal:
// each atom leans towards the sign of its weight.
func atomsFor(rng *rand.Rand, gamma []float64, neurons int) [][]float64 {
	out := make([][]float64, neurons)
	for n := range out {
		row := make([]float64, len(gamma))
		for i, g := range gamma {
			row[i] = round4(0.02 + 0.05*g + 0.01*rng.Float64())
		}
		out[n] = row
	}
	return out
}

// run is a complete trial that trained for epochs, reaching val and test
// (test < 0: not evaluated).
func run(rng *rand.Rand, number int, gamma []float64, seed uint64, gen, epochs int, val, test float64, atoms bool) store.Trial {
	tr := store.Trial{Number: number, State: store.Complete, Gamma: gamma, Seed: seed, Generation: gen, Attempt: 1, Worker: "fixture",
		Value: ptr(val), Final: map[string]float64{"val_acc": val}, WallTime: time.Duration(40+number) * time.Second,
		Created: at(number), Started: at(number), Finished: at(number + 1)}
	if test >= 0 {
		tr.Final["test_acc"] = test
		tr.Value = ptr(test)
	}
	for e := 1; e <= epochs; e++ {
		f := float64(e) / float64(epochs)
		m := store.EpochMetrics{Epoch: e, TrainLoss: round4(1.5 - f), TrainAcc: round4(val + 0.01 - 0.2*(1-f)), ValAcc: round4(val - 0.15*(1-f)*(1-f)), Seconds: 1.5}
		if test >= 0 {
			m.TestAcc = ptr(round4(test - 0.15*(1-f)*(1-f)))
		}
		tr.Epochs = append(tr.Epochs, m)
	}
	if atoms {
		tr.Atoms = atomsFor(rng, gamma, 4)
	}
	return tr
}

func failed(number int, gamma []float64, reason string) store.Trial {
	return store.Trial{Number: number, State: store.Failed, Gamma: gamma, Seed: uint64(1000 + number), Attempt: 1, Worker: "fixture",
		Reason: reason, WallTime: 3 * time.Second, Created: at(number), Started: at(number), Finished: at(number + 1),
		Epochs: []store.EpochMetrics{{Epoch: 1, TrainLoss: math.NaN(), TrainAcc: 0.1, ValAcc: 0.1, Seconds: 1}}}
}

// evalDump builds an evaluation study whose goal i reaches val[i] + noise
// on each seed (test a little below).
func evalDump(t testing.TB, rng *rand.Rand, cfg summary.EvalConfig, labels []string, val []float64, atoms bool) store.Dump {
	s, err := summary.EvalStudy(cfg, labels)
	if err != nil {
		t.Fatal(err)
	}
	s.CreatedAt, s.SchemaVersion = at(100), store.SchemaVersion
	d := store.Dump{Study: s}
	n := 0
	for _, seed := range cfg.Seeds {
		for gi, g := range cfg.Goals {
			gamma := g.Gamma
			if gamma == nil {
				gamma = []float64{0}
			}
			v := round4(val[gi] + 0.004*(rng.Float64()-0.5))
			te := round4(v - 0.002 + 0.002*rng.Float64())
			d.Trials = append(d.Trials, run(rng, n, gamma, seed, gi, cfg.Epochs, v, te, atoms && g.Gamma != nil))
			n++
		}
	}
	return d
}

func fixtureDumps(t testing.TB) []store.Dump {
	rng := rand.New(rand.NewPCG(1, 2))
	cl := mustLabels(t, "context-lateral")
	naive := mustPreset(t, "context-lateral/naive")
	target := mustPreset(t, "context-lateral/opt_1_100_modified")

	// The search: trial 0 is the enqueued heuristic goal; trials 1-11 are
	// random goals whose value grows with their likeness to the 4-term
	// goal; two diverge, one is pruned, one is still queued.
	main := store.Dump{Study: searchStudy("ctxlat", "context-lateral", cl, 100, 3)}
	main.Trials = append(main.Trials, run(rng, 0, naive, 500, 0, 3, 0.9312, -1, true))
	for n := 1; n <= 11; n++ {
		g := make([]float64, len(cl))
		dot := 0.0
		for i := range g[:18] {
			g[i] = round4(2*rng.Float64() - 1)
			dot += g[i] * target[i]
		}
		val := round4(0.925 + 0.008*dot + 0.005*rng.Float64())
		switch n {
		case 4:
			main.Trials = append(main.Trials, failed(n, g, "training diverged: trainer: non-finite value in the hidden layer"))
		case 7:
			main.Trials = append(main.Trials, failed(n, g, "training diverged: trainer: non-finite value in the hidden layer"))
		case 9:
			tr := run(rng, n, g, uint64(500+n), 1, 1, val-0.05, -1, false)
			tr.State = store.Pruned
			tr.Final = nil
			main.Trials = append(main.Trials, tr)
		case 11:
			main.Trials = append(main.Trials, store.Trial{Number: n, State: store.Queued, Gamma: g, Seed: 511, Generation: 2, Created: at(n)})
		default:
			main.Trials = append(main.Trials, run(rng, n, g, uint64(500+n), 1+n/6, 3, val, -1, true))
		}
	}
	// The two best complete trials, for the evaluation.
	best, second := -1, -1
	for _, tr := range main.Trials {
		if tr.State != store.Complete {
			continue
		}
		switch {
		case best < 0 || *tr.Value > *main.Trials[best].Value:
			best, second = tr.Number, best
		case second < 0 || *tr.Value > *main.Trials[second].Value:
			second = tr.Number
		}
	}
	bg, sg := main.Trials[best].Gamma, main.Trials[second].Gamma
	seeds := []uint64{101, 102, 103, 104}
	eval := evalDump(t, rng, summary.EvalConfig{Kind: summary.KindEvaluate, Group: "ctxlat", Setup: "context-lateral", Hidden: 100, Epochs: 3, Seeds: seeds,
		Goals: []summary.EvalGoal{
			{Name: fmt.Sprintf("trial %d", best), Gamma: bg, Trial: best},
			{Name: fmt.Sprintf("trial %d", second), Gamma: sg, Trial: second},
			{Name: "context-lateral/naive", Gamma: naive, Trial: -1},
		}}, cl, []float64{0.9421, 0.9398, 0.9305}, true)

	// Sensitivity of the best goal: four weights set to 0, one moved up.
	sens := summary.EvalConfig{Kind: summary.KindSensitivity, Group: "ctxlat", Setup: "context-lateral", Hidden: 100, Epochs: 3, Seeds: seeds[:3],
		Goals: []summary.EvalGoal{{Name: "best", Gamma: bg, Trial: best}}}
	sensVal := []float64{0.9420}
	for k, i := range []int{0, 1, 2, 11} {
		g := append([]float64(nil), bg...)
		g[i] = 0
		sens.Goals = append(sens.Goals, summary.EvalGoal{Name: "best, " + cl[i] + " = 0", Gamma: g, Trial: best, Atom: cl[i], Delta: -bg[i]})
		sensVal = append(sensVal, 0.9420-[]float64{0.0011, 0.0062, 0.0135, -0.0008}[k])
	}
	up := append([]float64(nil), bg...)
	up[1] += 0.1
	sens.Goals = append(sens.Goals, summary.EvalGoal{Name: "best, " + cl[1] + " + 0.1", Gamma: up, Trial: best, Atom: cl[1], Delta: 0.1})
	sensVal = append(sensVal, 0.9417)
	sensDump := evalDump(t, rng, sens, cl, sensVal, false)

	// Sparsification as goalsearch analyze stores it: the dense goal, then
	// one step per weight set to 0, least important first, until a step
	// costs too much (the last, rejected), then the last accepted goal
	// rounded to 0.1.
	spCfg := summary.EvalConfig{Kind: summary.KindSparsify, Group: "ctxlat", Setup: "context-lateral", Hidden: 100, Epochs: 3, Seeds: seeds[:2],
		Note:  "greedy zeroing of the least important weights of the best goal of ctxlat while the mean validation accuracy stays within 0.004 of the full goal's; the last accepted goal rounded to multiples of 0.1",
		Extra: []string{"tolerance=0.004", "round=0.1"},
		Goals: []summary.EvalGoal{{Name: "best", Gamma: bg, Trial: best}}}
	spVal := []float64{0.9420}
	cur := append([]float64(nil), bg...)
	for k, i := range []int{17, 16, 15, 14, 13, 12, 10, 9, 8, 7, 6, 5, 4, 3, 0} {
		cur = append([]float64(nil), cur...)
		cur[i] = 0
		spCfg.Goals = append(spCfg.Goals, summary.EvalGoal{Name: fmt.Sprintf("step %d: %s = 0 (%d terms)", k+1, cl[i], 17-k), Gamma: cur, Trial: best})
		spVal = append(spVal, 0.9420-0.0002*float64(k))
	}
	spVal[len(spVal)-1] = 0.9251
	sparseGoal := make([]float64, len(bg))
	for _, i := range []int{0, 1, 2, 11} {
		sparseGoal[i] = math.Round(bg[i]*10) / 10
	}
	spCfg.Goals = append(spCfg.Goals, summary.EvalGoal{Name: "sparse, 4 terms", Gamma: sparseGoal, Trial: best})
	spVal = append(spVal, 0.9405)
	spDump := evalDump(t, rng, spCfg, cl, spVal, false)

	// Presets and baselines.
	cx := mustLabels(t, "context")
	presetSeeds := []uint64{201, 202, 203}
	ctxRep := evalDump(t, rng, summary.EvalConfig{Kind: summary.KindReproduce, Group: "presets", Setup: "context", Hidden: 100, Epochs: 3, Seeds: presetSeeds,
		Goals: []summary.EvalGoal{
			{Name: "context/naive", Gamma: mustPreset(t, "context/naive"), Trial: -1},
			{Name: "context/opt_1_100", Gamma: mustPreset(t, "context/opt_1_100"), Trial: -1},
		}}, cx, []float64{0.9105, 0.9121}, true)
	clRep := evalDump(t, rng, summary.EvalConfig{Kind: summary.KindReproduce, Group: "presets", Setup: "context-lateral", Hidden: 100, Epochs: 3, Seeds: presetSeeds,
		Goals: []summary.EvalGoal{
			{Name: "context-lateral/naive", Gamma: naive, Trial: -1},
			{Name: "context-lateral/opt_1_100_modified", Gamma: target, Trial: -1},
		}}, cl, []float64{0.9301, 0.9433}, true)
	bp := evalDump(t, rng, summary.EvalConfig{Kind: summary.KindReproduce, Group: "presets", Setup: "backprop", Hidden: 100, Epochs: 3, Seeds: presetSeeds,
		Goals: []summary.EvalGoal{{Name: "backprop", Trial: -1}}}, nil, []float64{0.9611}, false)
	rp := evalDump(t, rng, summary.EvalConfig{Kind: summary.KindReproduce, Group: "presets", Setup: "random-projection", Hidden: 100, Epochs: 3, Seeds: presetSeeds,
		Goals: []summary.EvalGoal{{Name: "random-projection", Trial: -1}}}, nil, []float64{0.8012}, false)

	// The awkward cases.
	empty := store.Dump{Study: searchStudy("empty", "context", cx, 100, 100)}
	bad := store.Dump{Study: searchStudy("allfailed", "lateral", mustLabels(t, "lateral"), 100, 10)}
	for n := 0; n < 3; n++ {
		bad.Trials = append(bad.Trials, failed(n, []float64{1, 0, 0, 0, 0}, []string{"training diverged: trainer: non-finite value in the hidden layer", "out of memory"}[n%2]))
	}
	synCfg, _ := json.Marshal(setups.SyntheticConfig{Dim: 3, Epochs: 2})
	syn := store.Dump{Study: store.Study{Name: "sphere", Setup: store.Setup{Name: "sphere", Config: synCfg},
		Space:     store.SearchSpace{Labels: []string{"x1", "x2", "x3"}, Lower: []float64{-1, -1, -1}, Upper: []float64{1, 1, 1}},
		Objective: store.Objective{Metric: "val_acc", Direction: store.Maximize}, Sampler: store.SamplerConfig{Name: "random"},
		Seed: 3, CreatedAt: t0, SchemaVersion: store.SchemaVersion}}
	for n := 0; n < 5; n++ {
		g := []float64{round4(2*rng.Float64() - 1), round4(2*rng.Float64() - 1), round4(2*rng.Float64() - 1)}
		v := 0.0
		for _, x := range g {
			v -= (x - 0.3) * (x - 0.3)
		}
		syn.Trials = append(syn.Trials, run(rng, n, g, uint64(n), 0, 2, round4(v), -1, false))
	}
	return []store.Dump{main, eval, sensDump, spDump, ctxRep, clRep, bp, rp, empty, bad, syn}
}
