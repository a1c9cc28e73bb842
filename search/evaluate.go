package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/summary"
	"goalsearch/trainer/dataset"
	"goalsearch/trainer/goals"
)

// Evaluations re-train chosen goals on fresh seeds, with the test set, and
// store the runs as evaluation studies (evalstudy.go). They reuse the search
// driver: an evaluation study's trials are enqueued directly, one per goal
// and seed, and Run works through them with a sampler that proposes nothing,
// so evaluations run in parallel, stop on Ctrl-C and resume from
// checkpoints exactly like searches.

// EvalPlan is what to evaluate in one evaluation study: the study's
// configuration with the goals and seeds wanted, the goal labels, and the
// objective's setup configuration.
type EvalPlan struct {
	Config summary.EvalConfig
	// Labels are the goal labels; nil for a baseline setup.
	Labels []string
	// SetupConfig is the study's Setup.Config: a setups.NetworkConfig (with the
	// source study's data set, training limit and lateral fan-in) or, for a
	// synthetic setup, a setups.SyntheticConfig. Nil means summary.EvalStudy's
	// setups.NetworkConfig{Setup, Hidden, Epochs}.
	SetupConfig json.RawMessage
	// Params are the hyperparameters of a joint search's goals
	// (summary.EvalGoal.Params); nil for goals alone.
	Params []store.Param
}

// evalSeedRoot roots the evaluation seeds ("evaluate" in ASCII).
const evalSeedRoot = 0x6576616c75617465

// EvalSeeds returns n seeds for evaluation runs, skipping any in avoid (the
// trial seeds of the searched study, so that no evaluation repeats a
// search's run). The seeds do not depend on the goal or the study: goal A's
// i-th run and goal B's i-th run share their initial weights, validation
// split and batch order, so comparisons between goals are paired, which
// makes differences of a few tenths of a percent visible with few seeds.
// EvalSeeds(n) is a prefix of EvalSeeds(n+1).
func EvalSeeds(n int, avoid map[uint64]bool) []uint64 {
	out := make([]uint64, 0, n)
	for i := uint64(0); len(out) < n; i++ {
		z := evalSeedRoot + 0x9E3779B97F4A7C15*(i+1)
		z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
		z = (z ^ z>>27) * 0x94D049BB133111EB
		z ^= z >> 31
		if !avoid[z] {
			out = append(out, z)
		}
	}
	return out
}

// TrialSeeds returns the seeds of trials, for EvalSeeds' avoid.
func TrialSeeds(trials []store.Trial) map[uint64]bool {
	m := make(map[uint64]bool, len(trials))
	for _, t := range trials {
		m[t.Seed] = true
	}
	return m
}

// PlanFromStudy returns a plan (without goals or seeds) for evaluating goals
// of the searched study src with kind: group src.Name, src's setup, data
// set, training limit and lateral fan-in, with hidden neurons and epochs
// (0 keeps src's).
func PlanFromStudy(src store.Study, kind string, hidden, epochs int) (EvalPlan, error) {
	if summary.IsEvalStudy(src) {
		return EvalPlan{}, fmt.Errorf("study %s is an evaluation study, not a search", src.Name)
	}
	// A joint search's goals are evaluated with their trials'
	// hyperparameters: the evaluation study has the same ones.
	p := EvalPlan{Config: summary.EvalConfig{Kind: kind, Group: src.Name, Setup: src.Setup.Name}, Labels: slices.Clone(src.Space.Labels),
		Params: slices.Clone(src.Space.Params)}
	if setups.IsSynthetic(src.Setup.Name) {
		var cfg setups.SyntheticConfig
		if err := json.Unmarshal(src.Setup.Config, &cfg); err != nil {
			return p, fmt.Errorf("study %s: setup %s: %w", src.Name, src.Setup.Name, err)
		}
		if epochs > 0 {
			cfg.Epochs = epochs
		}
		cfg.Epochs = max(cfg.Epochs, 1)
		p.Config.Epochs = cfg.Epochs
		p.SetupConfig, _ = json.Marshal(cfg)
		return p, nil
	}
	var cfg setups.NetworkConfig
	if err := json.Unmarshal(src.Setup.Config, &cfg); err != nil {
		return p, fmt.Errorf("study %s: setup %s: %w", src.Name, src.Setup.Name, err)
	}
	if hidden > 0 {
		cfg.Hidden = hidden
	}
	if epochs > 0 {
		cfg.Epochs = epochs
	}
	if cfg.FanIn >= cfg.Hidden {
		cfg.FanIn = 0 // every partner: what a fan-in of at least Hidden-1 means
	}
	p.Config.Hidden, p.Config.Epochs = cfg.Hidden, cfg.Epochs
	p.SetupConfig, _ = json.Marshal(cfg)
	return p, nil
}

// PlanForSetup returns a plan (without goals or seeds) for group and kind on
// a trainer setup; base gives the setup, hidden neurons, epochs and data.
func PlanForSetup(group, kind string, base setups.NetworkConfig) (EvalPlan, error) {
	p := EvalPlan{Config: summary.EvalConfig{Kind: kind, Group: group, Setup: base.Setup, Hidden: base.Hidden, Epochs: base.Epochs}}
	if base.Hidden < 1 || base.Epochs < 1 {
		return p, fmt.Errorf("setup %s: %d hidden neurons and %d epochs; want at least 1 of each", base.Setup, base.Hidden, base.Epochs)
	}
	if l, err := goals.NetworkLabels(base); err == nil {
		p.Labels = l
	}
	p.SetupConfig, _ = json.Marshal(base)
	return p, nil
}

// TopGoals returns the goals of the k best complete trials by value (the
// validation accuracy of a search; summary.Ranked), best first, each goal
// once.
func TopGoals(trials []store.Trial, k int) []summary.EvalGoal {
	var out []summary.EvalGoal
	for _, t := range summary.Ranked(trials, true) {
		if len(out) == k {
			break
		}
		dup := false
		for _, g := range out {
			dup = dup || (slices.Equal(g.Gamma, t.Gamma) && slices.Equal(g.Params, t.Params))
		}
		if !dup {
			out = append(out, summary.EvalGoal{Name: fmt.Sprintf("trial %d", t.Number), Gamma: slices.Clone(t.Gamma), Params: slices.Clone(t.Params), Trial: t.Number})
		}
	}
	return out
}

// TrialGoals returns the goals of the trials numbered numbers, in that
// order, each named as TopGoals names it; a pruned trial is allowed (with an
// early-stopping pruner the best goals are mostly pruned at a late rung),
// a trial without a goal or a number the study lacks is an error.
func TrialGoals(trials []store.Trial, numbers []int) ([]summary.EvalGoal, error) {
	byNumber := make(map[int]store.Trial, len(trials))
	for _, t := range trials {
		byNumber[t.Number] = t
	}
	var out []summary.EvalGoal
	for _, n := range numbers {
		t, ok := byNumber[n]
		switch {
		case !ok:
			return nil, fmt.Errorf("no trial %d (the study has %d trials, numbered from 0)", n, len(trials))
		case t.State != store.Complete && t.State != store.Pruned:
			return nil, fmt.Errorf("trial %d is %s; want a complete or pruned trial", n, t.State)
		case len(t.Gamma) == 0:
			return nil, fmt.Errorf("trial %d has no goal", n)
		}
		out = append(out, summary.EvalGoal{Name: fmt.Sprintf("trial %d", t.Number), Gamma: slices.Clone(t.Gamma), Params: slices.Clone(t.Params), Trial: t.Number})
	}
	return out, nil
}

// AppendNewGoals appends to gs the goals of more that it does not hold yet.
func AppendNewGoals(gs []summary.EvalGoal, more ...summary.EvalGoal) []summary.EvalGoal {
	for _, g := range more {
		if !slices.ContainsFunc(gs, func(h summary.EvalGoal) bool { return sameGoal(g, h) }) {
			gs = append(gs, g)
		}
	}
	return gs
}

func sameGoal(a, b summary.EvalGoal) bool {
	return a.Name == b.Name && a.Atom == b.Atom && a.Delta == b.Delta && slices.Equal(a.Gamma, b.Gamma) && slices.Equal(a.Params, b.Params)
}

// PrepareEval makes the plan's evaluation study hold the plan's goals and
// seeds and enqueues every goal×seed trial it lacks. A new study is created;
// an existing one keeps its goals, seeds and trials and gains those of the
// plan that it lacks (goals are the same when name, gamma, atom and delta
// are), so that evaluating more goals or seeds later adds to the same
// study, and every goal runs on every seed of the study. It returns the
// study as stored and the index in its summary.EvalConfig.Goals of each of the
// plan's goals.
//
// The epochs and the setup configuration of an existing study cannot
// change (its runs would not be comparable); that is an error naming them.
// The new goals and seeds and their trials are written in one step
// (Store.AmendStudy) against the study as read, which touches no trial, so
// a study may grow while workers run it; of processes growing it at once,
// each adds what the others did not.
func PrepareEval(ctx context.Context, st store.Store, plan EvalPlan) (store.Study, []int, error) {
	// A goal or seed asked for twice is evaluated once.
	asked, seeds := plan.Config.Goals, plan.Config.Seeds
	plan.Config.Goals, plan.Config.Seeds = nil, nil
	for _, s := range seeds {
		if !slices.Contains(plan.Config.Seeds, s) {
			plan.Config.Seeds = append(plan.Config.Seeds, s)
		}
	}
	for _, g := range asked {
		if !slices.ContainsFunc(plan.Config.Goals, func(h summary.EvalGoal) bool { return sameGoal(g, h) }) {
			plan.Config.Goals = append(plan.Config.Goals, g)
		}
	}
	want, err := summary.EvalStudy(plan.Config, plan.Labels)
	if err != nil {
		return store.Study{}, nil, err
	}
	if plan.SetupConfig != nil {
		want.Setup.Config = plan.SetupConfig
	}
	want.Space.Params = plan.Params
	for _, g := range plan.Config.Goals {
		if len(g.Params) != len(plan.Params) {
			return store.Study{}, nil, fmt.Errorf("goal %s has %d hyperparameter values; the evaluation has %d hyperparameters", g.Name, len(g.Params), len(plan.Params))
		}
	}
	var stored store.Study
	// Each round reads the study and its trials and amends them; a round
	// fails only if another process changed the study in between, and
	// then the next one sees its change.
	const rounds = 20
	for round := 1; ; round++ {
		stored, err = st.Study(ctx, want.Name)
		if errors.Is(err, store.ErrStudyNotFound) {
			// Its trials are enqueued as an existing study's are. If
			// another process created it first with other goals, the
			// next round grows that one.
			stored, err = st.CreateStudy(ctx, want)
			if errors.Is(err, store.ErrStudyExists) && round < rounds {
				continue
			}
		}
		if err != nil {
			return stored, nil, err
		}
		err = growEval(ctx, st, stored, want, plan.Config)
		if !errors.Is(err, store.ErrStudyChanged) || round == rounds {
			break
		}
	}
	if err != nil {
		return stored, nil, err
	}
	if stored, err = st.Study(ctx, want.Name); err != nil {
		return stored, nil, err
	}
	cfg, err := summary.ReadEvalConfig(stored)
	if err != nil {
		return stored, nil, err
	}
	idx := make([]int, len(asked))
	for i, g := range asked {
		idx[i] = slices.IndexFunc(cfg.Goals, func(h summary.EvalGoal) bool { return sameGoal(g, h) })
	}
	return stored, idx, nil
}

// growEval adds the goals and seeds of cfg to the stored evaluation study
// and enqueues every goal×seed trial it lacks, in one Store.AmendStudy
// against the study and trials as read now.
func growEval(ctx context.Context, st store.Store, stored, want store.Study, cfg summary.EvalConfig) error {
	old, err := summary.ReadEvalConfig(stored)
	if err != nil {
		return err
	}
	switch {
	case old.Epochs != cfg.Epochs:
		return fmt.Errorf("%w: evaluation study %s holds runs of %d epochs, not %d (give --epochs %d, or delete the study)",
			store.ErrStudyExists, stored.Name, old.Epochs, cfg.Epochs, old.Epochs)
	case stored.Setup.Name != want.Setup.Name || !jsonEqual(stored.Setup.Config, want.Setup.Config):
		return fmt.Errorf("%w: evaluation study %s was trained with setup %s %s, not %s",
			store.ErrStudyExists, stored.Name, stored.Setup.Name, stored.Setup.Config, want.Setup.Config)
	case len(stored.Space.Params) != len(want.Space.Params):
		return fmt.Errorf("%w: evaluation study %s has %d hyperparameters, not %d", store.ErrStudyExists, stored.Name, len(stored.Space.Params), len(want.Space.Params))
	case !slices.Equal(stored.Space.Labels, want.Space.Labels):
		return fmt.Errorf("%w: evaluation study %s has goal labels %v, not %v", store.ErrStudyExists, stored.Name, stored.Space.Labels, want.Space.Labels)
	}
	// The trials are read after the study: a trial enqueued by an
	// amendment in between is then seen, and an amendment after the
	// reading makes this one fail (its Next is old), never duplicate it.
	trials, err := st.Trials(ctx, stored.Name)
	if err != nil {
		return err
	}
	next := 0
	if len(trials) > 0 {
		next = trials[len(trials)-1].Number + 1
	}
	merged := old
	merged.Seeds = slices.Clone(old.Seeds)
	for _, s := range cfg.Seeds {
		if !slices.Contains(merged.Seeds, s) {
			merged.Seeds = append(merged.Seeds, s)
		}
	}
	merged.Goals = slices.Clone(old.Goals)
	for _, g := range cfg.Goals {
		if !slices.ContainsFunc(merged.Goals, func(h summary.EvalGoal) bool { return sameGoal(g, h) }) {
			merged.Goals = append(merged.Goals, g)
		}
	}
	if cfg.Note != "" {
		merged.Note = cfg.Note
	}
	for _, e := range cfg.Extra {
		if !slices.Contains(merged.Extra, e) {
			merged.Extra = append(merged.Extra, e)
		}
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	type key struct {
		goal int
		seed uint64
	}
	have := map[key]bool{}
	for _, t := range trials {
		have[key{summary.GoalIndex(t), t.Seed}] = true
	}
	// Seed by seed, so that a run stopped early has results for every goal.
	var enqueue []store.NewTrial
	for _, seed := range merged.Seeds {
		for gi, g := range merged.Goals {
			if have[key{gi, seed}] {
				continue
			}
			gamma := g.Gamma
			if gamma == nil {
				gamma = []float64{0} // a baseline's one-label space
			}
			nt := summary.NewEvalTrial(gi, gamma, seed)
			nt.Params = slices.Clone(g.Params)
			enqueue = append(enqueue, nt)
		}
	}
	if len(enqueue) == 0 && jsonEqual(b, stored.Sampler.Config) {
		return nil
	}
	_, err = st.AmendStudy(ctx, stored.Name, store.Amendment{Was: stored.Sampler.Config, Next: next, Config: b, Enqueue: enqueue})
	return err
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// An Evaluator runs evaluation studies with the search driver.
type Evaluator struct {
	Store store.Store
	// Options are the driver's options for every study run: Slots,
	// Name, Stop and Observer. Trials is ignored (every enqueued trial
	// runs); Time applies to each study's run separately.
	Options Options
	// Threads is the number of threads one trial may use.
	Threads int
	// Data, if set, is the data set of every trainer setup, instead of the
	// one each setup names (tests use small synthetic ones).
	Data *dataset.Dataset
	// Objective, if set, replaces NewEvalObjective (tests use objectives
	// whose answers they know).
	Objective func(store.Setup) (Objective, error)
	// Starting, if set, is called before a study's trials run, with the
	// number of its trials and how many of them are finished.
	Starting func(study store.Study, trials, finished int)

	data map[string]*dataset.Dataset // loaded data sets by directory
}

// EvalResult is what Evaluate did.
type EvalResult struct {
	Study store.Study
	// Goals are the index of each of the plan's goals in the study.
	Goals   []int
	Summary Summary
	// Eval summarises the study: Eval.Goals[Goals[i]] is the plan's goal i.
	Eval summary.EvalSummary
}

// Stopped reports whether the Evaluator's Stop channel is closed.
func (e *Evaluator) Stopped() bool {
	if e.Options.Stop == nil {
		return false
	}
	select {
	case <-e.Options.Stop:
		return true
	default:
		return false
	}
}

// Evaluate prepares the plan's study (PrepareEval) and runs every trial it
// has not finished. When Stop is closed it returns with Summary.Stopped set,
// the study resumable; so it does, without training, if Stop was closed
// before. A study that does not exist yet is created only once its
// objective (and data set) loaded, so bad data leave no study behind.
func (e *Evaluator) Evaluate(ctx context.Context, plan EvalPlan) (EvalResult, error) {
	var r EvalResult
	if want, err := summary.EvalStudy(plan.Config, plan.Labels); err == nil {
		if plan.SetupConfig != nil {
			want.Setup.Config = plan.SetupConfig
		}
		if _, err := e.Store.Study(ctx, want.Name); errors.Is(err, store.ErrStudyNotFound) && !e.Stopped() {
			if _, err := e.objective(want.Setup, plan.Params); err != nil {
				return r, err
			}
		}
	}
	study, idx, err := PrepareEval(ctx, e.Store, plan)
	if err != nil {
		return r, err
	}
	r.Study, r.Goals = study, idx
	trials, err := e.Store.Trials(ctx, study.Name)
	if err != nil {
		return r, err
	}
	finished := 0
	for _, t := range trials {
		if t.State.Finished() {
			finished++
		}
	}
	switch {
	case finished == len(trials):
		// Nothing to train: do not even load the data.
		r.Summary.SamplerDone = true
	case e.Stopped():
		r.Summary.Stopped = true
	default:
		obj, err := e.objective(study.Setup, study.Space.Params)
		if err != nil {
			return r, err
		}
		if e.Starting != nil {
			e.Starting(study, len(trials), finished)
		}
		opts := e.Options
		opts.Trials = 0
		if r.Summary, err = Run(ctx, e.Store, study.Name, obj, doneSampler{}, opts); err != nil {
			return r, err
		}
		if trials, err = e.Store.Trials(ctx, study.Name); err != nil {
			return r, err
		}
	}
	r.Eval = summary.Eval(study, trials)
	if r.Eval.Err != "" {
		return r, errors.New(r.Eval.Err)
	}
	return r, nil
}

func (e *Evaluator) objective(setup store.Setup, params []store.Param) (Objective, error) {
	if e.Objective != nil {
		return e.Objective(setup)
	}
	if setups.IsSynthetic(setup.Name) || e.Data != nil {
		return NewEvalObjective(setup, params, e.Threads, e.Data)
	}
	var cfg setups.NetworkConfig
	if err := json.Unmarshal(setup.Config, &cfg); err != nil {
		return nil, fmt.Errorf("setup %s: %w", setup.Name, err)
	}
	data, ok := e.data[cfg.Data]
	if !ok {
		var err error
		if data, err = dataset.Load(cfg.Data, nil); err != nil {
			return nil, err
		}
		if e.data == nil {
			e.data = map[string]*dataset.Dataset{}
		}
		e.data[cfg.Data] = data
	}
	return NewEvalObjective(setup, params, e.Threads, data)
}

// NewEvalSampler returns the sampler of an evaluation study, for running
// one with Run or Work: it proposes nothing, and the run ends when the
// enqueued trials are done.
func NewEvalSampler() Sampler { return doneSampler{} }

// doneSampler proposes nothing: an evaluation study's trials are all
// enqueued before the driver runs, and the driver stops when they are done.
// No point of it is ever pending, so the driver never waits to tell it one.
type doneSampler struct{}

func (doneSampler) Name() string                 { return summary.EvalSampler }
func (doneSampler) Ask(int) ([][]float64, error) { return nil, ErrDone }
func (doneSampler) Tell(int, Result) error       { return ErrProtocol }
func (doneSampler) Pending() []int               { return nil }
func (doneSampler) State() (SamplerState, error) {
	return SamplerState{Version: 1, Data: []byte("{}")}, nil
}
func (doneSampler) Restore(SamplerState) error { return nil }
