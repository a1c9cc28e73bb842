package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/summary"
	"goalsearch/trainer/goals"
)

// Goal analyses ask of a study's best goal what the paper asked of its
// published one: which weights matter (sensitivity), how few are needed
// (sparsification), which the good goals agree on (agreement), and what the
// neurons trained with it end up doing (their atom profile beside the
// heuristic goal's). Every decision uses validation accuracy only; test
// accuracy is recorded in the evaluation studies and reported, never used
// to choose.

// AnalyzeConfig configures Analyze. The zero value of a field means the
// default stated on it, except Tolerance and Delta, whose 0 is meaningful.
type AnalyzeConfig struct {
	// Study is the searched study whose best goal is analysed.
	Study string
	// Trial, if not nil, names the complete trial whose goal is analysed
	// instead of the best: an analysis started while the search still runs
	// keeps analysing the same goal when it is resumed.
	Trial *int
	// Seeds is the number of fresh seeds every variant is trained with. If
	// Seeds is 0, DefaultAnalyzeSeeds are used.
	Seeds int
	// Epochs per run. If Epochs is 0, the study's.
	Epochs int
	// Tolerance is how far (in validation accuracy) the mean of a sparser
	// goal may fall below the full goal's before sparsification stops.
	Tolerance float64
	// Delta: besides zeroing each weight, the sensitivity analysis trains
	// it at +Delta and -Delta. 0 trains only the zeroed variants.
	Delta float64
	// Round is the step the sparse goal's weights are rounded to. If Round
	// is 0, DefaultRound is used.
	Round float64
	// Top is the number of best trials the agreement is computed over. If
	// Top is 0, DefaultAgreementTop are used.
	Top int
}

// The defaults of AnalyzeConfig (and of goalsearch analyze's flags).
const (
	DefaultAnalyzeSeeds = 3
	// DefaultRound rounds the sparse goal as the paper's 4-term goal
	// opt_1_100_modified rounds opt_1_100_tpe: to multiples of 0.1.
	DefaultRound        = 0.1
	DefaultAgreementTop = 10
)

func (c AnalyzeConfig) withDefaults() AnalyzeConfig {
	if c.Seeds == 0 {
		c.Seeds = DefaultAnalyzeSeeds
	}
	if c.Round == 0 {
		c.Round = DefaultRound
	}
	if c.Top == 0 {
		c.Top = DefaultAgreementTop
	}
	return c
}

// Analysis is what Analyze found; its slices are in deterministic order.
type Analysis struct {
	Study     string             `json:"study"`
	Setup     string             `json:"setup"`
	Hidden    int                `json:"hidden"`
	Epochs    int                `json:"epochs"`
	Seeds     []uint64           `json:"seeds"`
	Tolerance float64            `json:"tolerance"`
	Delta     float64            `json:"delta"`
	Labels    []string           `json:"labels"`
	Best      BestGoal           `json:"best"`
	Reference summary.GoalResult `json:"reference"` // the best goal on the fresh seeds
	// Sensitivity lists every atom in goal order, with its rank.
	Sensitivity []AtomSensitivity `json:"sensitivity,omitempty"`
	// ParamSensitivity lists a joint search's hyperparameters in the
	// search space's order: the best trial's value and the change when it
	// moves to each end of its range (each other choice).
	ParamSensitivity []ParamSensitivity `json:"param_sensitivity,omitempty"`
	Sparsify         *Sparsification    `json:"sparsify,omitempty"`
	Agreement        summary.Agreement  `json:"agreement"`
	Profiles         *Profiles          `json:"profiles,omitempty"`
	// Pareto is the front of a study with a complexity objective, whose
	// picked goal is the one analysed unless a trial was named (set by
	// the caller).
	Pareto *summary.ParetoFront `json:"pareto,omitempty"`
	// Studies names the evaluation studies the analysis wrote to.
	Studies []string `json:"studies"`
	// Stopped says the analysis was interrupted; running it again resumes
	// it, and the parts it had not reached are missing.
	Stopped bool `json:"stopped"`
}

// BestGoal is the analysed goal: the study's best complete trial by value.
type BestGoal struct {
	Trial int       `json:"trial"`
	Value float64   `json:"value"` // the search's validation accuracy
	Gamma []float64 `json:"gamma"`
}

// ParamSensitivity is how the validation accuracy changes when one
// hyperparameter of the best trial changes, the goal kept.
type ParamSensitivity struct {
	Key      string         `json:"key"`
	Value    string         `json:"value"` // the best trial's
	Variants []ParamVariant `json:"variants"`
}

// ParamVariant is one changed value, compared with the best trial's seed
// by seed.
type ParamVariant struct {
	Value  string         `json:"value"`
	Change summary.Change `json:"change"`
}

// paramVariants are the values a hyperparameter's sensitivity tries: the
// ends of its range, or every other choice, leaving out the value itself.
func paramVariants(p store.Param, v float64) []float64 {
	var out []float64
	if p.Type == store.Categorical {
		for c := range p.Choices {
			if float64(c) != v {
				out = append(out, float64(c))
			}
		}
		return out
	}
	for _, x := range []float64{p.Lower, p.Upper} {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// AtomSensitivity is how the validation accuracy changes when one weight
// of the best goal changes.
type AtomSensitivity struct {
	Atom   string  `json:"atom"`
	Weight float64 `json:"weight"`
	// Fixed atoms were not searched (H_res = 0 of a trivariate search):
	// they are neither varied nor ranked.
	Fixed bool `json:"fixed,omitempty"`
	// Rank orders the free atoms by how much zeroing them costs
	// (summary.ZeroCost): 1 matters most. Atoms whose weight is already 0
	// cost nothing.
	Rank int `json:"rank,omitempty"`
	// Zero, Plus and Minus are the variants with the weight set to 0,
	// increased by Delta and decreased by Delta, compared with the best
	// goal seed by seed; nil if not trained.
	Zero  *summary.Change `json:"zero,omitempty"`
	Plus  *summary.Change `json:"plus,omitempty"`
	Minus *summary.Change `json:"minus,omitempty"`
}

// Sparsification is the greedy path from the best goal to a sparse one.
type Sparsification struct {
	Tolerance float64        `json:"tolerance"`
	Round     float64        `json:"round"`
	Reference float64        `json:"reference"` // the full goal's mean validation accuracy; 0 without any
	Steps     []SparsifyStep `json:"steps"`
	// Greedy is the last accepted goal; Sparse is Greedy rounded, with
	// Terms non-zero weights, and its own result.
	Greedy      []float64           `json:"greedy,omitempty"`
	SparseGamma []float64           `json:"sparse_gamma,omitempty"`
	Terms       int                 `json:"terms"`
	Sparse      *summary.GoalResult `json:"sparse,omitempty"`
	SparseDiff  float64             `json:"sparse_diff"` // paired validation change against the full goal
}

// SparsifyStep is one greedy candidate: the accepted goal so far with one
// more weight zeroed.
type SparsifyStep struct {
	Atom     string  `json:"atom"`
	Goal     int     `json:"goal"`  // index in the evaluation study
	Terms    int     `json:"terms"` // non-zero weights of the candidate
	N        int     `json:"n"`
	ValMean  float64 `json:"val_mean"`
	Diff     float64 `json:"diff"` // paired change against the full goal
	TestMean float64 `json:"test_mean"`
	Accepted bool    `json:"accepted"`
}

// Profiles compares what the hidden neurons do under the best goal and
// under the setup's heuristic (naive) goal: the mean atoms (bits) of the
// hidden neurons after the last epoch.
type Profiles struct {
	Labels []string     `json:"labels"`
	Best   GoalProfile  `json:"best"`
	Naive  *GoalProfile `json:"naive,omitempty"`
}

// GoalProfile is one goal's mean atom profile and its results.
type GoalProfile struct {
	Name  string             `json:"name"`
	Study string             `json:"study"` // the evaluation study it comes from
	Gamma []float64          `json:"gamma"`
	Atoms []float64          `json:"atoms,omitempty"`
	Stats summary.GoalResult `json:"stats"`
}

// Analyze analyses the best goal of a searched study. It trains, in this
// order and each as an evaluation study of the study's group, resuming
// whatever an earlier call left:
//
//  1. sensitivity (summary.KindSensitivity): the best goal ("best", goal 0) and,
//     for every searched (not fixed) atom, the best goal with that weight
//     set to 0 (if it is not 0) and changed by ±Delta, on Seeds fresh
//     seeds; atoms are ranked by the paired mean change of validation
//     accuracy when zeroed;
//  2. the setup's heuristic goal (naive preset) in the group's summary.KindEvaluate
//     study, unless it or the presets' evaluate study already holds it
//     with the same epochs and setup;
//  3. sparsification (summary.KindSparsify): "best" again as goal 0 (so that the
//     study stands alone), then greedily, from the least important atom
//     (by the ranking), the accepted goal with one more weight zeroed; a
//     candidate is accepted while its paired mean validation accuracy is
//     at least the full goal's minus Tolerance, and the path stops at the
//     first candidate that is not. The last accepted goal's weights are
//     then rounded to the nearest multiple of Round (the paper's 4-term
//     goal is its optimised goal rounded so) and the rounded goal, "sparse,
//     K terms", is trained for its own result.
//
// The agreement needs no training. If the Evaluator's Stop is closed, the
// analysis returns what it has with Stopped set.
func Analyze(ctx context.Context, ev *Evaluator, cfg AnalyzeConfig) (*Analysis, error) {
	cfg = cfg.withDefaults()
	if cfg.Seeds < 1 || cfg.Tolerance < 0 || cfg.Delta < 0 || cfg.Round < 0 || cfg.Top < 1 {
		return nil, fmt.Errorf("analyze: %d seeds, tolerance %v, delta %v, round %v, top %d; want positive numbers", cfg.Seeds, cfg.Tolerance, cfg.Delta, cfg.Round, cfg.Top)
	}
	st := ev.Store
	src, err := st.Study(ctx, cfg.Study)
	if err != nil {
		return nil, err
	}
	trials, err := st.Trials(ctx, src.Name)
	if err != nil {
		return nil, err
	}
	top := TopGoals(trials, 1)
	if cfg.Trial != nil {
		i := slices.IndexFunc(trials, func(t store.Trial) bool { return t.Number == *cfg.Trial })
		if i < 0 || trials[i].State != store.Complete || trials[i].Value == nil {
			return nil, fmt.Errorf("study %s has no complete trial %d to analyse", src.Name, *cfg.Trial)
		}
		t := trials[i]
		top = []summary.EvalGoal{{Name: fmt.Sprintf("trial %d", t.Number), Gamma: slices.Clone(t.Gamma), Params: slices.Clone(t.Params), Trial: t.Number}}
	}
	if len(top) == 0 {
		return nil, fmt.Errorf("study %s has no complete trial to analyse", src.Name)
	}
	plan, err := PlanFromStudy(src, summary.KindSensitivity, 0, cfg.Epochs)
	if err != nil {
		return nil, err
	}
	best := top[0]
	bt := trials[slices.IndexFunc(trials, func(t store.Trial) bool { return t.Number == best.Trial })]
	a := &Analysis{
		Study: src.Name, Setup: src.Setup.Name, Hidden: plan.Config.Hidden, Epochs: plan.Config.Epochs,
		Seeds: EvalSeeds(cfg.Seeds, TrialSeeds(trials)), Tolerance: cfg.Tolerance, Delta: cfg.Delta,
		Labels: plan.Labels, Best: BestGoal{Trial: best.Trial, Value: *bt.Value, Gamma: best.Gamma},
		Agreement: summary.AgreementOf(src, trials, cfg.Top),
	}
	plan.Config.Seeds = a.Seeds

	// 1. Sensitivity.
	// Every variant keeps the best trial's hyperparameters (nil for a
	// goal-only search), but the hyperparameter variants below.
	bp := best.Params
	ref := summary.EvalGoal{Name: "best", Gamma: best.Gamma, Params: bp, Trial: best.Trial}
	plan.Config.Goals = []summary.EvalGoal{ref}
	type variant struct {
		atom int
		kind byte // '0', '+', '-'
	}
	var vars []variant
	for i, l := range a.Labels {
		if _, fixed := src.Space.FixedAt(i); fixed {
			continue
		}
		w := best.Gamma[i]
		if w != 0 {
			plan.Config.Goals = append(plan.Config.Goals, summary.EvalGoal{Name: summary.ZeroedName(ref.Name, l), Gamma: with(best.Gamma, i, 0), Params: bp, Trial: best.Trial, Atom: l, Delta: -w})
			vars = append(vars, variant{i, '0'})
		}
		if cfg.Delta > 0 {
			plan.Config.Goals = append(plan.Config.Goals,
				summary.EvalGoal{Name: summary.MovedName(ref.Name, l, cfg.Delta), Gamma: with(best.Gamma, i, w+cfg.Delta), Params: bp, Trial: best.Trial, Atom: l, Delta: cfg.Delta},
				summary.EvalGoal{Name: summary.MovedName(ref.Name, l, -cfg.Delta), Gamma: with(best.Gamma, i, w-cfg.Delta), Params: bp, Trial: best.Trial, Atom: l, Delta: -cfg.Delta})
			vars = append(vars, variant{i, '+'}, variant{i, '-'})
		}
	}
	// Each hyperparameter of a joint search moved to the ends of its range
	// (a categorical one to each other choice), the goal kept.
	type pvariant struct{ param, goal int }
	var pvars []pvariant
	for k, p := range src.Space.Params {
		for _, v := range paramVariants(p, bp[k]) {
			vals := slices.Clone(bp)
			vals[k] = v
			plan.Config.Goals = append(plan.Config.Goals, summary.EvalGoal{
				Name: fmt.Sprintf("%s, %s = %s", ref.Name, p.Key, store.ParamText(p, v)), Gamma: best.Gamma, Params: vals,
				Trial: best.Trial, Atom: p.Key, Delta: v - bp[k]})
			pvars = append(pvars, pvariant{k, len(plan.Config.Goals) - 1})
		}
	}
	plan.Config.Note = fmt.Sprintf("best goal of %s (trial %d); every searched weight set to 0 and changed by ±%v", src.Name, best.Trial, cfg.Delta)
	res, err := ev.Evaluate(ctx, plan)
	if err != nil {
		return a, err
	}
	a.Studies = append(a.Studies, res.Study.Name)
	refStats := res.Eval.Goals[res.Goals[0]]
	a.Reference = refStats
	if res.Summary.Stopped {
		a.Stopped = true
		return a, nil
	}
	if refStats.Complete == 0 {
		return a, fmt.Errorf("the best goal of %s failed on every seed in %s", src.Name, res.Study.Name)
	}
	for i, l := range a.Labels {
		as := AtomSensitivity{Atom: l, Weight: best.Gamma[i]}
		_, as.Fixed = src.Space.FixedAt(i)
		a.Sensitivity = append(a.Sensitivity, as)
	}
	for k, p := range src.Space.Params {
		a.ParamSensitivity = append(a.ParamSensitivity, ParamSensitivity{Key: p.Key, Value: store.ParamText(p, bp[k])})
	}
	for _, v := range pvars {
		c := summary.Paired(refStats, res.Eval.Goals[res.Goals[v.goal]])
		g := plan.Config.Goals[v.goal]
		ps := &a.ParamSensitivity[v.param]
		ps.Variants = append(ps.Variants, ParamVariant{Value: store.ParamText(src.Space.Params[v.param], g.Params[v.param]), Change: c})
	}
	for k, v := range vars {
		c := summary.Paired(refStats, res.Eval.Goals[res.Goals[k+1]])
		as := &a.Sensitivity[v.atom]
		switch v.kind {
		case '0':
			as.Zero = &c
		case '+':
			as.Plus = &c
		default:
			as.Minus = &c
		}
	}
	rankAtoms(a.Sensitivity)

	// 2. The heuristic goal's neurons, beside the best goal's.
	a.Profiles = &Profiles{Labels: a.Labels, Best: GoalProfile{Name: ref.Name, Study: res.Study.Name, Gamma: best.Gamma, Atoms: refStats.Atoms, Stats: refStats}}
	if naive, name, ok := naiveGoal(src.Setup); ok {
		p, stopped, err := naiveProfile(ctx, ev, plan, naive, name)
		if err != nil {
			return a, err
		}
		a.Profiles.Naive = p
		if p != nil && !slices.Contains(a.Studies, p.Study) {
			a.Studies = append(a.Studies, p.Study)
		}
		if stopped {
			a.Stopped = true
			return a, nil
		}
	}

	// 3. Sparsification.
	sp, stopped, err := sparsify(ctx, ev, plan, cfg, a)
	a.Sparsify = sp
	if sp != nil {
		name := summary.EvalStudyName(plan.Config.Group, summary.KindSparsify, plan.Config.Setup, plan.Config.Hidden)
		a.Studies = append(a.Studies, name)
	}
	a.Stopped = stopped
	return a, err
}

// with returns a copy of g with g[i] = v.
func with(g []float64, i int, v float64) []float64 {
	c := slices.Clone(g)
	c[i] = v
	return c
}

// rankAtoms ranks the free atoms by the cost of zeroing them
// (summary.ZeroCost), largest first; atoms already at 0 cost 0, and a
// variant that failed on every seed costs +Inf (zeroing the weight breaks
// training). Ties keep goal order.
func rankAtoms(as []AtomSensitivity) {
	costs := make([]float64, len(as))
	free := make([]bool, len(as))
	for i, a := range as {
		costs[i], _ = summary.ZeroCost(a.Weight, a.Zero)
		free[i] = !a.Fixed
	}
	for i, r := range summary.Rank(costs, free) {
		as[i].Rank = r
	}
}

// naiveGoal returns the heuristic goal of a study's setup and its preset's
// name, laid out as the study's goals are (given to every layer of a goal
// per layer, docs/layers.md).
func naiveGoal(setup store.Setup) ([]float64, string, bool) {
	p, ok := goals.Heuristic(setup.Name)
	if !ok {
		return nil, "", false
	}
	net := setups.NetworkConfig{Setup: setup.Name}
	_ = json.Unmarshal(setup.Config, &net) // a study without a network configuration has one layer
	g, err := goals.ParseNetwork(p.FullName(), net)
	return g, p.FullName(), err == nil
}

// naiveProfile finds the heuristic goal's runs in the group's or the
// presets' evaluate study (same setup configuration and epochs), or trains
// it in the group's.
func naiveProfile(ctx context.Context, ev *Evaluator, base EvalPlan, gamma []float64, name string) (*GoalProfile, bool, error) {
	plan := base
	plan.Config.Kind = summary.KindEvaluate
	plan.Config.Note, plan.Config.Extra = "", nil
	for _, group := range []string{base.Config.Group, summary.PresetsGroup} {
		sname := summary.EvalStudyName(group, summary.KindEvaluate, base.Config.Setup, base.Config.Hidden)
		s, err := ev.Store.Study(ctx, sname)
		if errors.Is(err, store.ErrStudyNotFound) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		cfg, err := summary.ReadEvalConfig(s)
		if err != nil || cfg.Epochs != base.Config.Epochs || !jsonEqual(s.Setup.Config, base.SetupConfig) {
			continue
		}
		trials, err := ev.Store.Trials(ctx, sname)
		if err != nil {
			return nil, false, err
		}
		sum := summary.Eval(s, trials)
		if sum.Err != "" {
			return nil, false, errors.New(sum.Err)
		}
		for _, gs := range sum.Goals {
			if slices.Equal(gs.Goal.Gamma, gamma) && gs.Goal.Atom == "" && gs.Complete > 0 && gs.Unfinished == 0 {
				return &GoalProfile{Name: gs.Goal.Name, Study: sname, Gamma: gamma, Atoms: gs.Atoms, Stats: gs}, false, nil
			}
		}
	}
	// With the best trial's hyperparameters in a joint search: the
	// heuristic goal under the same settings.
	var params []float64
	if len(base.Config.Goals) > 0 {
		params = base.Config.Goals[0].Params
	}
	plan.Config.Goals = []summary.EvalGoal{{Name: name, Gamma: gamma, Params: params, Trial: -1}}
	res, err := ev.Evaluate(ctx, plan)
	if err != nil {
		return nil, false, err
	}
	gs := res.Eval.Goals[res.Goals[0]]
	return &GoalProfile{Name: gs.Goal.Name, Study: res.Study.Name, Gamma: gamma, Atoms: gs.Atoms, Stats: gs}, res.Summary.Stopped, nil
}

// sparsify runs the greedy path; see Analyze. Every step is decided from
// stored results, so a resumed analysis walks the same path and trains
// only what is missing.
func sparsify(ctx context.Context, ev *Evaluator, base EvalPlan, cfg AnalyzeConfig, a *Analysis) (*Sparsification, bool, error) {
	plan := base
	plan.Config.Kind = summary.KindSparsify
	plan.Config.Note = fmt.Sprintf("greedy zeroing of the least important weights of the best goal of %s (trial %d) while the mean validation accuracy stays within %v of the full goal's; the last accepted goal rounded to multiples of %v",
		a.Study, a.Best.Trial, cfg.Tolerance, cfg.Round)
	plan.Config.Extra = []string{summary.ExtraEntry(summary.ExtraTolerance, cfg.Tolerance), summary.ExtraEntry(summary.ExtraRound, cfg.Round)}
	bp := base.Config.Goals[0].Params // the best trial's hyperparameters
	ref := summary.EvalGoal{Name: "best", Gamma: a.Best.Gamma, Params: bp, Trial: a.Best.Trial}

	// The order: free atoms with a non-zero weight, least important first.
	var order []int
	for i, s := range a.Sensitivity {
		if !s.Fixed && s.Weight != 0 {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return a.Sensitivity[order[i]].Rank > a.Sensitivity[order[j]].Rank })

	sp := &Sparsification{Tolerance: cfg.Tolerance, Round: cfg.Round}
	cur := slices.Clone(a.Best.Gamma)
	var refStats summary.GoalResult
	for k, i := range order {
		cand := with(cur, i, 0)
		atom := a.Labels[i]
		g := summary.EvalGoal{Name: summary.StepName(k+1, atom, terms(cand)), Gamma: cand, Params: bp, Trial: a.Best.Trial}
		plan.Config.Goals = []summary.EvalGoal{ref, g}
		res, err := ev.Evaluate(ctx, plan)
		if err != nil {
			return sp, false, err
		}
		refStats = res.Eval.Goals[res.Goals[0]]
		if refStats.Val.N > 0 {
			sp.Reference = refStats.Val.Mean
		}
		if res.Summary.Stopped {
			return sp, true, nil
		}
		c := summary.Paired(refStats, res.Eval.Goals[res.Goals[1]])
		step := SparsifyStep{Atom: atom, Goal: c.Goal, Terms: terms(cand), N: c.N, ValMean: c.ValMean, Diff: c.Diff, TestMean: c.TestMean}
		step.Accepted = c.N > 0 && c.Diff >= -cfg.Tolerance
		sp.Steps = append(sp.Steps, step)
		if !step.Accepted {
			break
		}
		cur = cand
	}
	sp.Greedy = cur
	sp.SparseGamma = roundGoal(cur, cfg.Round)
	sp.Terms = terms(sp.SparseGamma)
	sparse := summary.EvalGoal{Name: summary.SparseName(sp.Terms), Gamma: sp.SparseGamma, Params: bp, Trial: a.Best.Trial}
	plan.Config.Goals = []summary.EvalGoal{ref, sparse}
	res, err := ev.Evaluate(ctx, plan)
	if err != nil {
		return sp, false, err
	}
	refStats = res.Eval.Goals[res.Goals[0]]
	if refStats.Val.N > 0 {
		sp.Reference = refStats.Val.Mean
	}
	gs := res.Eval.Goals[res.Goals[1]]
	sp.Sparse = &gs
	sp.SparseDiff = summary.Paired(refStats, gs).Diff
	return sp, res.Summary.Stopped, nil
}

// terms counts the non-zero weights.
func terms(g []float64) int {
	n := 0
	for _, v := range g {
		if v != 0 {
			n++
		}
	}
	return n
}

// roundGoal rounds every weight to the nearest multiple of step, as the
// shortest decimal (0.30000000000000004 becomes 0.3), without -0.
func roundGoal(g []float64, step float64) []float64 {
	out := make([]float64, len(g))
	for i, v := range g {
		r := math.Round(v/step) * step
		out[i], _ = strconv.ParseFloat(strconv.FormatFloat(r, 'f', 9, 64), 64)
		if out[i] == 0 {
			out[i] = 0
		}
	}
	return out
}
