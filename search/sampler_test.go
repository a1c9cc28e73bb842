package search

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"goalsearch/internal/floatbits"
)

// samplerCase is a sampler configuration that the generic tests run.
type samplerCase struct {
	name string // sampler name
	cfg  string // configuration JSON
}

func (c samplerCase) String() string {
	if c.cfg == "" {
		return c.name
	}
	return c.name + " " + c.cfg
}

// samplerCases covers every sampler with its defaults and the settings that
// change its code paths (restarts, models, strategies, bounds, shifts).
var samplerCases = []samplerCase{
	{"cmaes", ""},
	{"cmaes", `{"restart":"bipop","population":6,"sigma0":0.5}`},
	{"tpe", ""},
	{"tpe", `{"n_startup_trials":4,"n_ei_candidates":8,"prior_weight":-1,"no_magic_clip":true,"flat_weights":true}`},
	{"ga", ""},
	{"ga", `{"generational":true,"bounds":"clip","pop_size":10}`},
	{"de", ""},
	{"de", `{"strategy":"rand1","bounds":"clip"}`},
	{"pso", ""},
	{"pso", `{"bounds":"clip","swarm_size":8}`},
	{"random", ""},
	{"sobol", ""},
	{"sobol", `{"randomize":"shift"}`},
	{"sobol", `{"randomize":"xor"}`},
}

// samplerTestBox is a 5-D box with unequal, asymmetric intervals.
var samplerTestBox = Box{
	Lower: []float64{-1, 0, -3, 2, -0.5},
	Upper: []float64{1, 0.5, 3, 2.5, 0.5},
}

func mustNewSampler(t testing.TB, c samplerCase, box Box, seed uint64) Sampler {
	t.Helper()
	s, err := NewSampler(c.name, box, json.RawMessage(c.cfg), seed)
	if err != nil {
		t.Fatalf("NewSampler(%v): %v", c, err)
	}
	return s
}

// samplerShiftedSphere is Σ ((x_i − c_i)/w_i)² with c the point at 30% of
// each interval of box and w its width, so the optimum is inside the box
// but neither at its centre nor on a Sobol point.
func samplerShiftedSphere(box Box) func([]float64) float64 {
	return func(x []float64) float64 {
		var s float64
		for i, v := range x {
			w := box.Upper[i] - box.Lower[i]
			z := (v - box.Lower[i] - 0.3*w) / w
			s += z * z
		}
		return s
	}
}

// stateBytes returns the JSON encoding of s's state.
func stateBytes(t testing.TB, s Sampler) []byte {
	t.Helper()
	st, err := s.State()
	if err != nil {
		t.Fatalf("%s: State: %v", s.Name(), err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatalf("%s: json.Marshal(State): %v", s.Name(), err)
	}
	return b
}

// samplerReload saves s's state through JSON and restores it into a new
// sampler of case c, which it returns.
func samplerReload(t testing.TB, c samplerCase, s Sampler, box Box, seed uint64) Sampler {
	t.Helper()
	b := stateBytes(t, s)
	var st SamplerState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("%v: json.Unmarshal(SamplerState): %v", c, err)
	}
	r := mustNewSampler(t, c, box, seed)
	if err := r.Restore(st); err != nil {
		t.Fatalf("%v: Restore: %v", c, err)
	}
	if b2 := stateBytes(t, r); !bytes.Equal(b, b2) {
		t.Fatalf("%v: restored state differs from the saved one:\n got %s\nwant %s", c, b2, b)
	}
	return r
}

// asker drives a sampler as the driver does: it numbers the points Ask
// returns and tells pending points their results.
type asker struct {
	s   Sampler
	pts [][]float64 // every point asked, by number
}

// ask asks for n points and returns them, or nil and false at ErrDone.
func (a *asker) ask(t testing.TB, n int) ([][]float64, bool) {
	t.Helper()
	xs, err := a.s.Ask(n)
	if errors.Is(err, ErrDone) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("%s: Ask(%d): %v", a.s.Name(), n, err)
	}
	a.pts = append(a.pts, xs...)
	return xs, true
}

// tell tells every pending point, in number order, its value under f
// (NaN: a failure), or the result of res if it is not nil.
func (a *asker) tell(t testing.TB, f func([]float64) float64, res func(k int, x []float64) Result) {
	t.Helper()
	for _, k := range a.s.Pending() {
		var r Result
		if res != nil {
			r = res(k, a.pts[k])
		} else {
			r = Result{Value: f(a.pts[k])}
		}
		if err := a.s.Tell(k, r); err != nil {
			t.Fatalf("%s: Tell(%d): %v", a.s.Name(), k, err)
		}
	}
}

func TestSamplersList(t *testing.T) {
	want := []string{"cmaes", "de", "ga", "gp", "nsga2", "pso", "random", "sobol", "tpe"}
	if got := Samplers(); !slices.Equal(got, want) {
		t.Errorf("Samplers() = %v, want %v", got, want)
	}
	for _, name := range want {
		for _, cfg := range []string{"", "null", " {} "} {
			s, err := NewSampler(name, samplerTestBox, json.RawMessage(cfg), 1)
			if err != nil {
				t.Errorf("NewSampler(%q, cfg %q): %v", name, cfg, err)
				continue
			}
			if s.Name() != name {
				t.Errorf("NewSampler(%q).Name() = %q", name, s.Name())
			}
		}
	}
}

func TestNewSamplerErrors(t *testing.T) {
	_, err := NewSampler("bayes", samplerTestBox, nil, 1)
	if err == nil || !strings.Contains(err.Error(), "cmaes, de, ga, gp, nsga2, pso, random, sobol, tpe") {
		t.Errorf("unknown sampler: err = %v, want one listing the valid names", err)
	}
	box2 := Box{Lower: []float64{-1, -1}, Upper: []float64{1, 1}}
	for _, tc := range []struct {
		name, cfg string
		box       Box
	}{
		{"cmaes", `{"sigma":0.3}`, box2}, // misspelt field
		{"cmaes", `{"restart":"lpop"}`, box2},
		{"cmaes", `{"population":1}`, box2},
		{"cmaes", `{"mean":[2,0]}`, box2},
		{"cmaes", `{} {}`, box2},     // trailing data
		{"cmaes", `{"dim":3}`, box2}, // the box comes from the study
		{"cmaes", `{"tol_fun":"small"}`, box2},
		{"tpe", `{"n_startup":5}`, box2},
		{"tpe", `{"gamma_fraction":2}`, box2},
		{"tpe", `{"n_ei_candidates":-1}`, box2},
		{"ga", `{"pop_size":2}`, box2},
		{"ga", `{"mutation_rate":1.5}`, box2},
		{"ga", `{"bounds":"wrap"}`, box2},
		{"de", `{"strategy":"best2"}`, box2},
		{"de", `{"f":-1}`, box2},
		{"pso", `{"inertia":1.5}`, box2},
		{"random", `{"seed":3}`, box2},
		{"sobol", `{"randomize":"owen"}`, box2},
		{"sobol", "", Box{Lower: make([]float64, 40), Upper: slices.Repeat([]float64{1}, 40)}},
		{"random", "", Box{}},
		{"random", "", Box{Lower: []float64{0}, Upper: []float64{0}}},
		{"random", "", Box{Lower: []float64{0}, Upper: []float64{math.Inf(1)}}},
		{"random", "", Box{Lower: []float64{0, 0}, Upper: []float64{1}}},
		{"random", "", Box{Lower: []float64{math.NaN()}, Upper: []float64{1}}},
	} {
		if _, err := NewSampler(tc.name, tc.box, json.RawMessage(tc.cfg), 1); err == nil {
			t.Errorf("NewSampler(%q, %v, %s) succeeded, want an error", tc.name, tc.box, tc.cfg)
		}
	}
}

// TestSamplerProtocol checks that calls out of turn fail with ErrProtocol
// and change nothing, and that population samplers wait for their
// generation (ErrPending) while TPE proposes with points pending.
func TestSamplerProtocol(t *testing.T) {
	f := samplerShiftedSphere(samplerTestBox)
	for _, c := range samplerCases {
		s := mustNewSampler(t, c, samplerTestBox, 3)
		before := stateBytes(t, s)
		expectProtocol := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, ErrProtocol) {
				t.Errorf("%v: %s = %v, want ErrProtocol", c, what, err)
			}
			if after := stateBytes(t, s); !bytes.Equal(before, after) {
				t.Errorf("%v: failed %s changed the state", c, what)
			}
		}
		expectProtocol("Tell before Ask", s.Tell(0, Result{Value: 1}))
		_, err := s.Ask(0)
		expectProtocol("Ask(0)", err)
		xs, err := s.Ask(4)
		if err != nil || len(xs) == 0 {
			t.Fatalf("%v: Ask(4) = %d points, %v", c, len(xs), err)
		}
		learns := c.name != "random" && c.name != "sobol"
		if (!learns || c.name == "tpe") && len(xs) != 4 {
			t.Errorf("%v: Ask(4) returned %d points, want 4", c, len(xs))
		}
		pend := s.Pending()
		if learns && len(pend) != len(xs) || !learns && pend != nil {
			t.Errorf("%v: %d points asked, pending %v", c, len(xs), pend)
		}
		before = stateBytes(t, s)
		expectProtocol("Tell of a point not asked", s.Tell(len(xs), Result{Value: 1}))
		expectProtocol("Tell of a negative number", s.Tell(-1, Result{Value: 1}))
		if !learns {
			expectProtocol("Tell of a sampler that learns nothing", s.Tell(0, Result{Value: 1}))
			continue
		}
		_, err = s.Ask(4)
		if c.name == "tpe" {
			// TPE proposes while points are pending (a constant liar).
			if err != nil {
				t.Errorf("%v: Ask with points pending: %v", c, err)
			}
			before = stateBytes(t, s)
		} else if !errors.Is(err, ErrPending) {
			t.Errorf("%v: Ask with the generation pending = %v, want ErrPending", c, err)
		}
		k := s.Pending()[0]
		if err := s.Tell(k, Result{Value: f(xs[0])}); err != nil {
			t.Fatalf("%v: Tell: %v", c, err)
		}
		before = stateBytes(t, s)
		expectProtocol("second Tell", s.Tell(k, Result{Value: f(xs[0])}))
	}
}

// samplerRun asks and tells gens generations of f on a sampler of case c.
// If reload is not nil, it saves the state through JSON and restores it
// into a new sampler whenever reload says so (after Asks and after Tells).
// The worker count of each Ask and the failures (NaN) and pruned results
// come from a PCG of their own, so two runs are driven identically.
// samplerRun returns every proposed point.
func samplerRun(t *testing.T, c samplerCase, box Box, seed uint64, f func([]float64) float64, gens int, reload func() bool) [][]float64 {
	t.Helper()
	a := &asker{s: mustNewSampler(t, c, box, seed)}
	drv := rand.New(rand.NewPCG(seed, 77))
	res := func(k int, x []float64) Result {
		r := Result{Value: f(x)}
		switch drv.IntN(10) {
		case 0:
			r.Value = math.NaN()
		case 1:
			r.Pruned, r.Step = true, 1+drv.IntN(3)
		}
		return r
	}
	for range gens {
		if reload != nil && reload() {
			a.s = samplerReload(t, c, a.s, box, seed)
		}
		if _, ok := a.ask(t, 1+drv.IntN(6)); !ok {
			break
		}
		if reload != nil && reload() {
			a.s = samplerReload(t, c, a.s, box, seed)
		}
		a.tell(t, f, res)
	}
	return a.pts
}

// TestSamplerResumeExact interrupts every sampler at random moments,
// restores its state through JSON into a new sampler, and checks that the
// proposals are bit-identical to those of an uninterrupted run.
func TestSamplerResumeExact(t *testing.T) {
	f := samplerShiftedSphere(samplerTestBox)
	for k, c := range samplerCases {
		const gens = 25
		want := samplerRun(t, c, samplerTestBox, uint64(k), f, gens, nil)
		interrupt := rand.New(rand.NewPCG(uint64(k), 5))
		reloads := 0
		got := samplerRun(t, c, samplerTestBox, uint64(k), f, gens, func() bool {
			if interrupt.IntN(3) == 0 {
				reloads++
				return true
			}
			return false
		})
		if len(got) != len(want) {
			t.Fatalf("%v: %d points with %d restores, want %d", c, len(got), reloads, len(want))
		}
		for i := range want {
			if !floatbits.Equal(got[i], want[i]) {
				t.Fatalf("%v: point %d after %d restores is %v, want %v", c, i, reloads, got[i], want[i])
			}
		}
		if len(want) < gens {
			t.Errorf("%v: only %d points in %d generations", c, len(want), gens)
		}
	}
}

// TestSamplerRestoreRejects checks that states of another version, sampler,
// configuration, box or seed, and malformed ones, are rejected with
// ErrState and leave the sampler unchanged.
func TestSamplerRestoreRejects(t *testing.T) {
	f := samplerShiftedSphere(samplerTestBox)
	otherBox := Box{Lower: slices.Clone(samplerTestBox.Lower), Upper: slices.Clone(samplerTestBox.Upper)}
	otherBox.Upper[2] = 4
	for k, c := range samplerCases {
		// A state with some history and a generation outstanding.
		a := &asker{s: mustNewSampler(t, c, samplerTestBox, 11)}
		for range 3 {
			a.ask(t, 3)
			a.tell(t, f, nil)
		}
		a.ask(t, 3)
		s := a.s
		good, err := s.State()
		if err != nil {
			t.Fatal(err)
		}
		other := samplerCases[(k+2)%len(samplerCases)] // another sampler
		otherCfg := map[string]string{
			"cmaes":  `{"sigma0":0.25}`,
			"tpe":    `{"gamma_max":20}`,
			"ga":     `{"tournament":3}`,
			"de":     `{"f":0.7}`,
			"pso":    `{"c":1.5}`,
			"random": `null`, // random has no settings to differ in
			"sobol":  `{"randomize":"xor"}`,
		}[c.name]
		if c.name == "sobol" && strings.Contains(c.cfg, "xor") {
			otherCfg = `{"randomize":"shift"}`
		}
		for _, tc := range []struct {
			what string
			into samplerCase
			box  Box
			seed uint64
			st   SamplerState
		}{
			{"version+1", c, samplerTestBox, 11, SamplerState{Version: good.Version + 1, Data: good.Data}},
			{"version 0", c, samplerTestBox, 11, SamplerState{Data: good.Data}},
			{"other seed", c, samplerTestBox, 12, good},
			{"other box", c, otherBox, 11, good},
			{"other config", samplerCase{c.name, otherCfg}, samplerTestBox, 11, good},
			{"other sampler", other, samplerTestBox, 11, good},
			{"garbage", c, samplerTestBox, 11, SamplerState{Version: good.Version, Data: json.RawMessage(`{"x":1}`)}},
			{"not JSON", c, samplerTestBox, 11, SamplerState{Version: good.Version, Data: json.RawMessage(`{`)}},
		} {
			if tc.what == "other config" && c.name == "random" {
				continue
			}
			if tc.what == "other sampler" && other.name == c.name {
				continue
			}
			r := mustNewSampler(t, tc.into, tc.box, tc.seed)
			before := stateBytes(t, r)
			if err := r.Restore(tc.st); !errors.Is(err, ErrState) {
				t.Errorf("%v: Restore(%s) = %v, want ErrState", c, tc.what, err)
			}
			if after := stateBytes(t, r); !bytes.Equal(before, after) {
				t.Errorf("%v: failed Restore(%s) changed the sampler", c, tc.what)
			}
		}
		// The unedited state restores, with the same points pending.
		r := samplerReload(t, c, s, samplerTestBox, 11)
		if !slices.Equal(r.Pending(), s.Pending()) {
			t.Errorf("%v: pending %v after restoring, want %v", c, r.Pending(), s.Pending())
		}
	}
}

// TestSamplerInBox drives every sampler towards a corner of the box (the
// objective decreases along every coordinate), so that operators step
// outside and must be brought back, and checks every point.
func TestSamplerInBox(t *testing.T) {
	corner := func(x []float64) float64 {
		var s float64
		for i, v := range x {
			s += (v - samplerTestBox.Lower[i]) * float64(i+1)
		}
		return s
	}
	for k, c := range samplerCases {
		pts := samplerRun(t, c, samplerTestBox, uint64(k), corner, 30, nil)
		for _, x := range pts {
			if len(x) != samplerTestBox.Dim() {
				t.Fatalf("%v: point of length %d", c, len(x))
			}
			for i, v := range x {
				if !(samplerTestBox.Lower[i] <= v && v <= samplerTestBox.Upper[i]) {
					t.Fatalf("%v: coordinate %d = %v outside [%v, %v]", c, i, v, samplerTestBox.Lower[i], samplerTestBox.Upper[i])
				}
			}
		}
	}
}

// TestSamplerFailures checks that failed evaluations (NaN) are treated as
// worse than any value. Every evaluation with x₀ > 0.3 fails, and the
// optimum of the sphere lies at x₀ = −0.5, away from that region: a sampler
// that ranks failures worst leaves the region (random sampling stays in it
// 35% of the time), one that took NaN for good would crowd into it. Samplers
// that do not learn only have to survive.
func TestSamplerFailures(t *testing.T) {
	box := Box{Lower: []float64{-1, -1, -1, -1}, Upper: []float64{1, 1, 1, 1}}
	f := func(x []float64) float64 {
		if x[0] > 0.3 {
			return math.NaN()
		}
		var s float64
		for i, v := range x {
			c := 0.2
			if i == 0 {
				c = -0.5
			}
			s += (v - c) * (v - c)
		}
		return s
	}
	for _, c := range samplerCases {
		a := &asker{s: mustNewSampler(t, c, box, 5)}
		var failed []bool
		for len(failed) < 400 {
			xs, _ := a.ask(t, 4)
			for _, x := range xs {
				failed = append(failed, math.IsNaN(f(x)))
			}
			a.tell(t, f, nil)
		}
		stateBytes(t, a.s) // the state still encodes
		if c.name == "random" || c.name == "sobol" {
			continue
		}
		rate := func(b []bool) float64 {
			n := 0
			for _, v := range b {
				if v {
					n++
				}
			}
			return float64(n) / float64(len(b))
		}
		early, late := rate(failed[:100]), rate(failed[300:400])
		t.Logf("%v: failure rate %.2f first 100, %.2f in 300–400", c, early, late)
		if !(late < 0.2) {
			t.Errorf("%v: failure rate %.2f in evaluations 300–400 (%.2f in the first 100), want < 0.2", c, late, early)
		}
	}
}

// TestSamplersAllFail tells nothing but failures: no sampler may error,
// stall or write a state that does not restore.
func TestSamplersAllFail(t *testing.T) {
	nan := func([]float64) float64 { return math.NaN() }
	for k, c := range samplerCases {
		pts := samplerRun(t, c, samplerTestBox, uint64(k), nan, 12, func() bool { return true })
		if len(pts) < 12 {
			t.Errorf("%v: %d points in 12 generations of failures", c, len(pts))
		}
	}
}

// TestSamplersBeatRandom checks that every learning sampler finds a better
// point of a 10-D sphere in 300 evaluations than uniform random sampling,
// by a margin that a sampler that ignored its values could not reach.
func TestSamplersBeatRandom(t *testing.T) {
	box := Box{Lower: make([]float64, 10), Upper: make([]float64, 10)}
	for i := range box.Lower {
		box.Lower[i], box.Upper[i] = -1, 1
	}
	f := samplerShiftedSphere(box)
	const budget, seeds = 300, 3
	mean := func(c samplerCase) float64 {
		var sum float64
		for seed := range uint64(seeds) {
			sum += samplerBest(t, c, box, seed, f, budget)
		}
		return sum / seeds
	}
	random := mean(samplerCase{"random", ""})
	for _, name := range []string{"cmaes", "tpe", "ga", "de", "pso"} {
		got := mean(samplerCase{name, ""})
		t.Logf("%s: mean best %.4f, random %.4f", name, got, random)
		if !(got < random/4) {
			t.Errorf("%s: mean best %.4g after %d evaluations, want < random's %.4g / 4", name, got, budget, random)
		}
	}
}

// samplerBest returns the best value of f among the first budget points a
// sampler of case c proposes, asking for 8 workers.
func samplerBest(t testing.TB, c samplerCase, box Box, seed uint64, f func([]float64) float64, budget int) float64 {
	t.Helper()
	return samplerBests(t, c, box, seed, f, []int{budget}, 8)[0]
}

// TestIndependentSamplersAskAgain drives random and sobol as the driver
// does, asking again and again without telling (no point is ever pending),
// with restores in between: the points must be those of an uninterrupted
// run and never repeat.
func TestIndependentSamplersAskAgain(t *testing.T) {
	for k, c := range samplerCases {
		if c.name != "random" && c.name != "sobol" {
			continue
		}
		ask := func(reload bool) [][]float64 {
			s := mustNewSampler(t, c, samplerTestBox, uint64(k))
			var all [][]float64
			for g := range 20 {
				if reload && g%3 == 1 {
					s = samplerReload(t, c, s, samplerTestBox, uint64(k))
				}
				xs, err := s.Ask(1 + g%4)
				if err != nil {
					t.Fatalf("%v: Ask: %v", c, err)
				}
				if p := s.Pending(); p != nil {
					t.Fatalf("%v: pending %v", c, p)
				}
				all = append(all, xs...)
			}
			return all
		}
		want, got := ask(false), ask(true)
		seen := map[string]bool{}
		for i := range want {
			if !floatbits.Equal(got[i], want[i]) {
				t.Fatalf("%v: point %d is %v after restores, want %v", c, i, got[i], want[i])
			}
			b, err := json.Marshal(want[i])
			if err != nil {
				t.Fatal(err)
			}
			key := string(b)
			if seen[key] {
				t.Errorf("%v: point %d repeats an earlier one", c, i)
			}
			seen[key] = true
		}
	}
}
