package reports

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/summary"
)

// Options tune what Collect gathers. The zero value (or nil) gives the
// defaults.
type Options struct {
	// Title heads the report. If empty, "goalsearch report: " and the
	// names asked for is used.
	Title string
	// Leaderboard is the number of best trials listed per study, and
	// compared for sign agreement. If 0, 10 is used.
	Leaderboard int
	// Curves is the number of best trials whose learning curves are
	// drawn. If 0, 5 is used.
	Curves int
}

func (o *Options) withDefaults() Options {
	var d Options
	if o != nil {
		d = *o
	}
	if d.Leaderboard <= 0 {
		d.Leaderboard = 10
	}
	if d.Curves <= 0 {
		d.Curves = 5
	}
	return d
}

// DefaultSparseTolerance is how much mean validation accuracy the sparse
// goal of a sparsification may lose against the dense goal, unless the
// study's configuration says otherwise (an Extra entry "tolerance=X").
const DefaultSparseTolerance = 0.005

// Collect reads the named studies, each with its evaluation studies (those
// named NAME/...), into a Report. A name may also be a group of evaluation
// studies without a search of that name, such as "presets", or one
// evaluation study. A name that is neither is an error wrapping
// store.ErrStudyNotFound; an empty study, or one whose trials all failed,
// is reported as such. Collect only reads the store, and sees each study's
// trials as one snapshot (studies are read one after another).
func Collect(ctx context.Context, st store.Store, names []string, opts *Options) (*Report, error) {
	all, err := st.Studies(ctx)
	if err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	c := collector{ctx: ctx, st: st, o: o, trials: map[string][]store.Trial{}}
	var seen []string
	for _, name := range names {
		if slices.Contains(seen, name) {
			continue
		}
		seen = append(seen, name)
		var self *store.Study
		var evals []store.Study
		for i, s := range all {
			switch {
			case s.Name == name:
				self = &all[i]
			case strings.HasPrefix(s.Name, name+"/") && summary.IsEvalStudy(s):
				evals = append(evals, s)
			}
		}
		if self == nil && len(evals) == 0 {
			return nil, fmt.Errorf("%w: no study or group of evaluation studies named %q", store.ErrStudyNotFound, name)
		}
		if self != nil && summary.IsEvalStudy(*self) {
			evals = append([]store.Study{*self}, evals...)
			self = nil
		}
		if err := c.section(name, self, evals); err != nil {
			return nil, err
		}
	}
	if o.Title == "" {
		o.Title = "goalsearch report: " + strings.Join(seen, ", ")
	}
	return c.finish(o.Title)
}

// CollectAll collects every study of the store: each search with its
// evaluation studies, then the groups of evaluation studies that belong to
// no search (such as "presets"), all by name.
func CollectAll(ctx context.Context, st store.Store, opts *Options) (*Report, error) {
	all, err := st.Studies(ctx)
	if err != nil {
		return nil, err
	}
	var names, groups []string
	for _, s := range all {
		if !summary.IsEvalStudy(s) {
			names = append(names, s.Name)
		}
	}
	for _, s := range all {
		if !summary.IsEvalStudy(s) || slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(s.Name, n+"/") }) {
			continue
		}
		g := evalGroup(s)
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	slices.Sort(groups)
	o := opts.withDefaults()
	if o.Title == "" {
		o.Title = "goalsearch report: every study"
	}
	return Collect(ctx, st, append(names, groups...), &o)
}

// evalGroup is the group an evaluation study belongs to: its configured
// group if that prefixes its name, else its name's first element.
func evalGroup(s store.Study) string {
	if cfg, err := summary.ReadEvalConfig(s); err == nil && cfg.Group != "" && strings.HasPrefix(s.Name, cfg.Group+"/") {
		return cfg.Group
	}
	g, _, _ := strings.Cut(s.Name, "/")
	return g
}

type collector struct {
	ctx      context.Context
	st       store.Store
	o        Options
	sections []Section
	trials   map[string][]store.Trial
}

func (c *collector) load(name string) ([]store.Trial, error) {
	if t, ok := c.trials[name]; ok {
		return t, nil
	}
	t, err := c.st.Trials(c.ctx, name)
	if err != nil {
		return nil, err
	}
	c.trials[name] = t
	return t, nil
}

func (c *collector) section(name string, self *store.Study, evals []store.Study) error {
	sec := Section{Name: name}
	if self != nil {
		trials, err := c.load(self.Name)
		if err != nil {
			return err
		}
		sec.Search = summariseSearch(*self, trials, c.o)
	}
	for _, s := range evals {
		trials, err := c.load(s.Name)
		if err != nil {
			return err
		}
		sec.Evals = append(sec.Evals, summariseEval(s, trials))
	}
	c.sections = append(c.sections, sec)
	return nil
}

// finish links searches with their evaluations and builds the comparison,
// once every section is read.
func (c *collector) finish(title string) (*Report, error) {
	r := &Report{Title: title, Sections: c.sections}
	var evals []*EvalSummary
	for i := range r.Sections {
		for j := range r.Sections[i].Evals {
			e := &r.Sections[i].Evals[j]
			if !slices.ContainsFunc(evals, func(x *EvalSummary) bool { return x.Study == e.Study }) {
				evals = append(evals, e)
			}
		}
	}
	for i := range r.Sections {
		sec := &r.Sections[i]
		if s := sec.Search; s != nil {
			linkEvals(s, sec.Evals)
			s.Profile = atomProfile(s, c.trials[s.Study], sec.Evals, evals)
		}
		sec.Notes = sectionNotes(sec)
	}
	r.Comparison = compare(evals)
	r.Agreement = agreementAcross(r.Sections)
	return r, nil
}

// agreementAcross compares the best goals of the report's searched studies,
// per setup and search space (same labels and searched coordinates): an
// atom that independent searches weight with the same sign is a finding, a
// sign that flips between them is not.
func agreementAcross(secs []Section) []StudyAgreement {
	var out []StudyAgreement
	key := func(s *SearchSummary) string {
		return fmt.Sprint(s.Setup, s.Labels, s.Free)
	}
	done := map[string]bool{}
	for i := range secs {
		s := secs[i].Search
		if s == nil || s.Best == nil || s.Synthetic || done[key(s)] {
			continue
		}
		done[key(s)] = true
		a := StudyAgreement{Setup: s.Setup, Free: s.Free}
		var best []Entry
		for j := i; j < len(secs); j++ {
			t := secs[j].Search
			if t != nil && t.Best != nil && !t.Synthetic && key(t) == key(s) {
				a.Studies = append(a.Studies, t.Study)
				a.Gammas = append(a.Gammas, t.Best.Gamma)
				best = append(best, *t.Best)
			}
		}
		if len(best) < 2 {
			continue
		}
		a.Signs = signAgreement(best, s.Labels, s.Free)
		out = append(out, a)
	}
	return out
}

func sectionNotes(sec *Section) []string {
	var n []string
	if sec.Search != nil && sec.Search.Counts.Complete > 0 && len(sec.Evals) == 0 {
		n = append(n, "No evaluation studies: no goal of this search was re-trained on fresh seeds, so there is no test accuracy and no analysis. "+
			"`goalsearch evaluate "+sec.Name+"` and `goalsearch analyze "+sec.Name+"` make them.")
	}
	if sec.Search != nil && len(sec.Evals) > 0 {
		kinds := map[string]bool{}
		for _, e := range sec.Evals {
			kinds[e.Kind] = true
		}
		if !kinds[summary.KindSensitivity] && !kinds[summary.KindSparsify] {
			n = append(n, "No sensitivity or sparsification analysis of the best goal (`goalsearch analyze "+sec.Name+"` makes them).")
		}
	}
	return n
}

// better reports whether a is better than b for the direction; NaN is
// never better.
func better(a, b float64, maximize bool) bool {
	if math.IsNaN(a) {
		return false
	}
	if math.IsNaN(b) {
		return true
	}
	if maximize {
		return a > b
	}
	return a < b
}

func countTrials(trials []store.Trial) Counts {
	var c Counts
	for _, t := range trials {
		c.Total++
		switch t.State {
		case store.Complete:
			c.Complete++
		case store.Pruned:
			c.Pruned++
		case store.Failed:
			c.Failed++
		default:
			c.Unfinished++
		}
	}
	return c
}

func failures(trials []store.Trial) []Failure {
	m := map[string]int{}
	for _, t := range trials {
		if t.State == store.Failed {
			m[t.Reason]++
		}
	}
	var f []Failure
	for r, n := range m {
		f = append(f, Failure{Reason: r, Count: n})
	}
	slices.SortFunc(f, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})
	return f
}

func summariseSearch(study store.Study, trials []store.Trial, o Options) *SearchSummary {
	s := &SearchSummary{
		Study: study.Name, Setup: study.Setup.Name, Sampler: study.Sampler.Name, Pruner: study.Pruner.Name,
		Seed: study.Seed, Created: study.CreatedAt, Synthetic: setups.IsSynthetic(study.Setup.Name),
		Metric: study.Objective.Metric, Maximize: study.Objective.Direction != store.Minimize,
		Labels: slices.Clone(study.Space.Labels), Counts: countTrials(trials), Failures: failures(trials),
	}
	if s.Synthetic {
		var cfg setups.SyntheticConfig
		if json.Unmarshal(study.Setup.Config, &cfg) == nil {
			s.Epochs = max(cfg.Epochs, 1)
		}
	} else {
		var cfg setups.NetworkConfig
		if json.Unmarshal(study.Setup.Config, &cfg) == nil {
			s.Hidden, s.Epochs = cfg.Hidden, cfg.Epochs
		}
	}
	for i, l := range s.Labels {
		if v, ok := study.Space.FixedAt(i); ok {
			s.Fixed = append(s.Fixed, l+" = "+strconv.FormatFloat(v, 'g', -1, 64))
		} else {
			s.Free = append(s.Free, i)
		}
	}

	best := math.NaN()
	var complete []store.Trial
	for _, t := range trials {
		s.WallTime += t.WallTime
		if !t.State.Finished() {
			continue
		}
		v := math.NaN()
		if t.Value != nil && t.State != store.Failed {
			v = *t.Value
		}
		if t.State == store.Complete {
			complete = append(complete, t)
			if better(v, best, s.Maximize) {
				best = v
			}
		}
		s.History = append(s.History, HistoryPoint{Trial: t.Number, State: t.State, Value: v, BestSoFar: best})
	}
	slices.SortStableFunc(complete, func(a, b store.Trial) int {
		switch {
		case better(*a.Value, *b.Value, s.Maximize):
			return -1
		case better(*b.Value, *a.Value, s.Maximize):
			return 1
		}
		return cmp.Compare(a.Number, b.Number)
	})
	for i, t := range complete[:min(len(complete), o.Leaderboard)] {
		s.Leaderboard = append(s.Leaderboard, Entry{
			Rank: i + 1, Trial: t.Number, Value: *t.Value, Gamma: slices.Clone(t.Gamma), Epochs: t.LastEpoch(), WallTime: t.WallTime,
		})
		if i < o.Curves {
			s.Curves = append(s.Curves, trialCurve(t))
		}
	}
	if len(s.Leaderboard) > 0 {
		b := s.Leaderboard[0]
		s.Best = &b
	}
	if len(s.Leaderboard) >= 3 {
		s.Signs = signAgreement(s.Leaderboard, s.Labels, s.Free)
	}
	return s
}

func trialCurve(t store.Trial) Curve {
	c := Curve{Name: "trial " + strconv.Itoa(t.Number)}
	hasTest := false
	for _, m := range t.Epochs {
		c.Epochs = append(c.Epochs, m.Epoch)
		c.Val = append(c.Val, m.ValAcc)
		c.Train = append(c.Train, m.TrainAcc)
		test := math.NaN()
		if m.TestAcc != nil {
			test, hasTest = *m.TestAcc, true
		}
		c.Test = append(c.Test, test)
	}
	if !hasTest {
		c.Test = nil
	}
	return c
}

func signAgreement(lb []Entry, labels []string, free []int) *SignAgreement {
	sa := &SignAgreement{}
	for _, e := range lb {
		sa.Trials = append(sa.Trials, e.Trial)
	}
	for _, i := range free {
		r := SignRow{Atom: labels[i]}
		for _, e := range lb {
			w := e.Gamma[i]
			switch {
			case w > 0:
				r.Positive++
			case w < 0:
				r.Negative++
			default:
				r.Zero++
			}
			r.Mean += w
		}
		n := float64(len(lb))
		r.Mean /= n
		switch {
		case r.Positive > r.Negative:
			r.Majority, r.Agreement = 1, float64(r.Positive)/n
		case r.Negative > r.Positive:
			r.Majority, r.Agreement = -1, float64(r.Negative)/n
		default:
			r.Agreement = float64(r.Positive) / n
		}
		sa.Rows = append(sa.Rows, r)
	}
	return sa
}

// linkEvals attaches to each leaderboard entry the evaluation of its goal:
// from an evaluate study of the same setup, preferring the search's hidden
// size and epochs, then by study name.
func linkEvals(s *SearchSummary, evals []EvalSummary) {
	var cands []*EvalSummary
	for i := range evals {
		if e := &evals[i]; e.Kind == summary.KindEvaluate && e.Setup == s.Setup && e.Err == "" {
			cands = append(cands, e)
		}
	}
	slices.SortStableFunc(cands, func(a, b *EvalSummary) int {
		sa := a.Hidden == s.Hidden && a.Epochs == s.Epochs
		sb := b.Hidden == s.Hidden && b.Epochs == s.Epochs
		switch {
		case sa && !sb:
			return -1
		case sb && !sa:
			return 1
		}
		return 0 // evals are in name order already
	})
	for i := range s.Leaderboard {
		en := &s.Leaderboard[i]
	find:
		for _, e := range cands {
			for _, g := range e.Goals {
				if g.Trial == en.Trial && slices.Equal(g.Gamma, en.Gamma) && g.Runs.Complete > 0 {
					en.Eval = &EvalRef{Study: e.Study, Val: g.Val, Test: g.Test}
					break find
				}
			}
		}
	}
	if s.Best != nil && len(s.Leaderboard) > 0 {
		s.Best.Eval = s.Leaderboard[0].Eval
	}
}

// atomProfile finds the mean atom profiles of the best goal and of the
// heuristic goal: from evaluations on fresh seeds where there are some,
// else from the search's own runs.
func atomProfile(s *SearchSummary, trials []store.Trial, own []EvalSummary, all []*EvalSummary) *AtomProfile {
	if s.Synthetic || s.Best == nil {
		return nil
	}
	p := &AtomProfile{Labels: s.Labels}
	// The best goal: its evaluation, else its search run.
	for _, e := range own {
		if p.Best != nil || e.Kind != summary.KindEvaluate || e.Setup != s.Setup {
			continue
		}
		for _, g := range e.Goals {
			if g.Trial == s.Best.Trial && g.Atoms != nil && len(g.Atoms) == len(s.Labels) {
				p.Best, p.BestFrom = g.Atoms, fmt.Sprintf("trial %d, mean over %d runs of %s", s.Best.Trial, g.Runs.Complete, e.Study)
				break
			}
		}
	}
	if p.Best == nil {
		for _, t := range trials {
			if t.Number == s.Best.Trial {
				if m := neuronMean(t.Atoms); len(m) == len(s.Labels) {
					p.Best, p.BestFrom = m, fmt.Sprintf("trial %d, its search run", t.Number)
				}
			}
		}
	}
	if p.Best == nil {
		return nil
	}
	// The heuristic goal: an evaluation of the same setup (same hidden
	// size first), else a search trial that ran it (an enqueued preset).
	var cands []*EvalSummary
	for _, e := range all {
		if e.Setup == s.Setup && e.Err == "" {
			cands = append(cands, e)
		}
	}
	slices.SortStableFunc(cands, func(a, b *EvalSummary) int {
		return cmp.Compare(abs(a.Hidden-s.Hidden), abs(b.Hidden-s.Hidden))
	})
	for _, e := range cands {
		if p.Heuristic != nil {
			break
		}
		for _, g := range e.Goals {
			if g.Heuristic && g.Atoms != nil && len(g.Atoms) == len(s.Labels) {
				p.Heuristic, p.HeuristicFrom = g.Atoms, fmt.Sprintf("%s, mean over %d runs of %s", g.Name, g.Runs.Complete, e.Study)
				break
			}
		}
	}
	if p.Heuristic == nil {
		for _, t := range trials {
			if t.State == store.Complete && isHeuristic(s.Setup, t.Gamma) {
				if m := neuronMean(t.Atoms); len(m) == len(s.Labels) {
					p.Heuristic, p.HeuristicFrom = m, fmt.Sprintf("trial %d of the search (the heuristic goal, enqueued)", t.Number)
					break
				}
			}
		}
	}
	return p
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// neuronMean averages per-neuron atom rows; nil for none.
func neuronMean(atoms [][]float64) []float64 {
	if len(atoms) == 0 || len(atoms[0]) == 0 {
		return nil
	}
	m := make([]float64, len(atoms[0]))
	for _, row := range atoms {
		if len(row) != len(m) {
			return nil
		}
		for k, x := range row {
			m[k] += x
		}
	}
	for k := range m {
		m[k] /= float64(len(atoms))
	}
	return m
}

func summariseEval(study store.Study, trials []store.Trial) EvalSummary {
	e := EvalSummary{Study: study.Name, Created: study.CreatedAt, Labels: slices.Clone(study.Space.Labels),
		Counts: countTrials(trials), Failures: failures(trials), Synthetic: setups.IsSynthetic(study.Setup.Name)}
	cfg, err := summary.ReadEvalConfig(study)
	if err != nil {
		e.Err = err.Error()
		return e
	}
	e.Kind, e.Group, e.Setup, e.Hidden, e.Epochs = cfg.Kind, cfg.Group, cfg.Setup, cfg.Hidden, cfg.Epochs
	e.Seeds, e.Note, e.Extra = slices.Clone(cfg.Seeds), cfg.Note, slices.Clone(cfg.Extra)
	seedIndex := func(s uint64) int {
		if i := slices.Index(cfg.Seeds, s); i >= 0 {
			return i
		}
		return len(cfg.Seeds)
	}
	byGoal := make([][]store.Trial, len(cfg.Goals))
	for _, t := range trials {
		if t.Generation >= 0 && t.Generation < len(cfg.Goals) {
			byGoal[t.Generation] = append(byGoal[t.Generation], t)
		}
	}
	for i, g := range cfg.Goals {
		runs := byGoal[i]
		slices.SortStableFunc(runs, func(a, b store.Trial) int {
			return cmp.Or(cmp.Compare(seedIndex(a.Seed), seedIndex(b.Seed)), cmp.Compare(a.Seed, b.Seed), cmp.Compare(a.Number, b.Number))
		})
		gr := GoalResult{Index: i, Name: g.Name, Gamma: slices.Clone(g.Gamma), Trial: g.Trial, Atom: g.Atom, Delta: g.Delta,
			Heuristic: g.Gamma != nil && isHeuristic(cfg.Setup, g.Gamma), Runs: countTrials(runs),
			ValBySeed: map[uint64]float64{}, TestBySeed: map[uint64]float64{}}
		var vals, tests []float64
		var complete []store.Trial
		for _, t := range runs {
			if t.State != store.Complete {
				continue
			}
			complete = append(complete, t)
			if v, ok := t.Final["val_acc"]; ok {
				vals = append(vals, v)
				gr.ValBySeed[t.Seed] = v
			}
			if v, ok := t.Final["test_acc"]; ok {
				tests = append(tests, v)
				gr.TestBySeed[t.Seed] = v
			}
		}
		gr.Val, gr.Test = summary.NewSample(vals), summary.NewSample(tests)
		gr.Curve = meanCurve(g.Name, complete)
		gr.Atoms = meanAtoms(complete)
		e.Goals = append(e.Goals, gr)
	}
	switch e.Kind {
	case summary.KindSensitivity:
		e.Sensitivity = sensitivity(e)
	case summary.KindSparsify:
		e.Sparsify = sparsification(e)
	}
	return e
}

// meanCurve averages the runs' per-epoch metrics, epoch by epoch, over the
// runs that reached the epoch (non-finite values left out).
func meanCurve(name string, runs []store.Trial) Curve {
	c := Curve{Name: name}
	var epochs []int
	for _, t := range runs {
		for _, m := range t.Epochs {
			if !slices.Contains(epochs, m.Epoch) {
				epochs = append(epochs, m.Epoch)
			}
		}
	}
	slices.Sort(epochs)
	hasTest := false
	for _, ep := range epochs {
		var v, tr, te []float64
		for _, t := range runs {
			for _, m := range t.Epochs {
				if m.Epoch != ep {
					continue
				}
				v, tr = append(v, m.ValAcc), append(tr, m.TrainAcc)
				if m.TestAcc != nil {
					te = append(te, *m.TestAcc)
					hasTest = true
				}
			}
		}
		c.Epochs = append(c.Epochs, ep)
		c.Val = append(c.Val, summary.NewSample(v).Mean)
		c.Train = append(c.Train, summary.NewSample(tr).Mean)
		c.Test = append(c.Test, summary.NewSample(te).Mean)
	}
	if !hasTest {
		c.Test = nil
	}
	return c
}

func meanAtoms(runs []store.Trial) []float64 {
	var sum []float64
	n := 0
	for _, t := range runs {
		m := neuronMean(t.Atoms)
		if m == nil || (sum != nil && len(m) != len(sum)) {
			continue
		}
		if sum == nil {
			sum = make([]float64, len(m))
		}
		for k, x := range m {
			sum[k] += x
		}
		n++
	}
	for k := range sum {
		sum[k] /= float64(n)
	}
	return sum
}

// sensitivity reads a sensitivity study: the unchanged goal (the first
// without Atom) and, per weight, the goal with it set to 0 ("..., ATOM = 0")
// and moved by ±delta ("..., ATOM + 0.1", "..., ATOM - 0.1").
func sensitivity(e EvalSummary) *Sensitivity {
	bi := slices.IndexFunc(e.Goals, func(g GoalResult) bool { return g.Atom == "" && g.Gamma != nil })
	if bi < 0 {
		return nil
	}
	base := e.Goals[bi]
	s := &Sensitivity{Baseline: base.Name, Gamma: base.Gamma, Val: base.Val, Test: base.Test, PaperBaseline: math.NaN()}
	setup, _ := setups.Lookup(e.Setup)
	paper := setup.Sensitivity
	if paper != nil {
		s.PaperBaseline = paper.Baseline
	}
	rows := map[string]*SensitivityRow{}
	for _, g := range e.Goals {
		i := slices.Index(e.Labels, g.Atom)
		if g.Atom == "" || i < 0 || len(g.Gamma) != len(e.Labels) || len(base.Gamma) != len(e.Labels) {
			continue
		}
		r, ok := rows[g.Atom]
		if !ok {
			r = &SensitivityRow{Atom: g.Atom, Weight: base.Gamma[i], Paper: math.NaN()}
			if paper != nil {
				if v, ok := paper.Zeroed[g.Atom]; ok {
					r.Paper = v
				}
			}
			rows[g.Atom] = r
		}
		v := &Variant{Goal: g.Name, Delta: g.Delta, Val: g.Val, Test: g.Test, DeltaVal: g.Val.Mean - base.Val.Mean}
		v.Compare = comparePaired(g.ValBySeed, base.ValBySeed, g.Val.Values, base.Val.Values)
		switch {
		case strings.HasSuffix(strings.TrimSpace(g.Name), "= 0") || (g.Gamma[i] == 0 && g.Delta == -base.Gamma[i] && g.Delta != 0):
			r.Zero = v
		case g.Delta > 0:
			r.Plus = v
		case g.Delta < 0:
			r.Minus = v
		}
	}
	for _, l := range e.Labels {
		if r, ok := rows[l]; ok {
			s.Rows = append(s.Rows, *r)
		}
	}
	// Most harmful first; weights without a zeroed run keep label order
	// at the end.
	slices.SortStableFunc(s.Rows, func(a, b SensitivityRow) int {
		switch {
		case a.Zero == nil || math.IsNaN(a.Zero.DeltaVal):
			if b.Zero == nil || math.IsNaN(b.Zero.DeltaVal) {
				return 0
			}
			return 1
		case b.Zero == nil || math.IsNaN(b.Zero.DeltaVal):
			return -1
		}
		return cmp.Compare(a.Zero.DeltaVal, b.Zero.DeltaVal)
	})
	for i := range s.Rows {
		if s.Rows[i].Zero != nil && !math.IsNaN(s.Rows[i].Zero.DeltaVal) {
			s.Rows[i].Rank = i + 1
		}
	}
	return s
}

// sparsification reads a sparsify study: its goals in order are the path
// from the dense goal to the sparsest (goalsearch analyze stores "best",
// then "step k: ATOM = 0 (N terms)" for every step it tried, then the last
// accepted step rounded, "sparse, K terms"). The sparse goal is the one the
// configuration names ("sparse=NAME" in Extra), else the last goal named
// "sparse...", else the sparsest whose mean validation accuracy is within
// the tolerance ("tolerance=X" in Extra, default DefaultSparseTolerance) of
// the dense goal's.
func sparsification(e EvalSummary) *Sparsification {
	sp := &Sparsification{Chosen: -1}
	var prev []float64
	for _, g := range e.Goals {
		if g.Gamma == nil {
			continue
		}
		st := SparseStep{Goal: g.Name, Gamma: g.Gamma, Val: g.Val, Test: g.Test}
		for i, w := range g.Gamma {
			if w != 0 {
				st.Terms++
			} else if i < len(prev) && prev[i] != 0 && i < len(e.Labels) {
				st.Zeroed = append(st.Zeroed, e.Labels[i])
			}
		}
		sp.Steps = append(sp.Steps, st)
		prev = g.Gamma
	}
	if len(sp.Steps) == 0 {
		return sp
	}
	tol := DefaultSparseTolerance
	for _, x := range e.Extra {
		k, v, _ := strings.Cut(x, "=")
		switch strings.TrimSpace(k) {
		case "sparse":
			if i := slices.IndexFunc(sp.Steps, func(s SparseStep) bool { return s.Goal == strings.TrimSpace(v) }); i >= 0 {
				sp.Chosen, sp.Rule = i, "chosen by the analysis"
			}
		case "tolerance":
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 {
				tol = f
			}
		}
	}
	if sp.Chosen >= 0 {
		return sp
	}
	for i, st := range sp.Steps {
		if i > 0 && strings.HasPrefix(st.Goal, "sparse") {
			sp.Chosen, sp.Rule = i, fmt.Sprintf("the analysis's sparse goal: the last step within %.2f pp of the dense goal's validation accuracy, rounded", 100*tol)
		}
	}
	if sp.Chosen >= 0 {
		return sp
	}
	dense := sp.Steps[0].Val.Mean
	if math.IsNaN(dense) {
		return sp
	}
	for i, s := range sp.Steps {
		if math.IsNaN(s.Val.Mean) || s.Val.Mean < dense-tol {
			continue
		}
		if c := sp.Chosen; c < 0 || s.Terms < sp.Steps[c].Terms || (s.Terms == sp.Steps[c].Terms && s.Val.Mean > sp.Steps[c].Val.Mean) {
			sp.Chosen = i
		}
	}
	sp.Rule = fmt.Sprintf("the sparsest goal whose mean validation accuracy is at most %.2f pp below the dense goal's", 100*tol)
	return sp
}

// setupRank orders setups in comparisons as the registry (and the paper)
// does: the infomorphic setups, then the baselines, then any other.
func setupRank(s string) int {
	order := setups.Names(setups.Infomorphic, setups.Baseline)
	if i := slices.Index(order, s); i >= 0 {
		return i
	}
	return len(order)
}

// compare builds the comparison groups from the evaluate and reproduce
// studies: every goal with at least one complete run.
func compare(evals []*EvalSummary) []ComparisonGroup {
	type key struct{ hidden, epochs int }
	groups := map[key]*ComparisonGroup{}
	var keys []key
	type meta struct {
		rank, goal int
		heur       bool
	}
	metas := map[key][]meta{}
	for _, e := range evals {
		if e.Err != "" || e.Synthetic || (e.Kind != summary.KindEvaluate && e.Kind != summary.KindReproduce) {
			continue
		}
		k := key{e.Hidden, e.Epochs}
		g, ok := groups[k]
		if !ok {
			g = &ComparisonGroup{Hidden: e.Hidden, Epochs: e.Epochs, Best: -1}
			groups[k] = g
			keys = append(keys, k)
		}
		for _, gr := range e.Goals {
			if gr.Runs.Complete == 0 {
				continue
			}
			row := ComparisonRow{Study: e.Study, Setup: e.Setup, Goal: gr.Name, Val: gr.Val, Test: gr.Test, Paper: math.NaN()}
			if gr.Gamma == nil {
				row.Kind = "baseline"
			} else {
				row.Kind = goalKind(e.Setup, gr.Name, gr.Gamma)
			}
			if pr, v, text, ok := paperFor(e.Setup, gr.Name, gr.Gamma, e.Hidden); ok {
				row.Paper, row.PaperText, row.PaperRow = v, text, pr.Label
			}
			g.Rows = append(g.Rows, row)
			metas[k] = append(metas[k], meta{rank: setupRank(e.Setup), goal: gr.Index, heur: gr.Heuristic})
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.hidden, b.hidden), cmp.Compare(a.epochs, b.epochs)) })
	var out []ComparisonGroup
	for _, k := range keys {
		g, ms := groups[k], metas[k]
		idx := make([]int, len(g.Rows))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			ra, rb := g.Rows[a], g.Rows[b]
			ha, hb := 1, 1
			if ms[a].heur {
				ha = 0
			}
			if ms[b].heur {
				hb = 0
			}
			return cmp.Or(cmp.Compare(ms[a].rank, ms[b].rank), cmp.Compare(ra.Setup, rb.Setup), cmp.Compare(ha, hb),
				cmp.Compare(ra.Study, rb.Study), cmp.Compare(ms[a].goal, ms[b].goal))
		})
		rows := make([]ComparisonRow, len(idx))
		for i, j := range idx {
			rows[i] = g.Rows[j]
		}
		g.Rows = rows
		for i := range g.Rows {
			r := &g.Rows[i]
			if r.Kind == "heuristic" || r.Kind == "baseline" {
				continue
			}
			// The heuristic of the same setup, from the same study if it
			// has one.
			ref := -1
			for j, h := range g.Rows {
				if h.Kind == "heuristic" && h.Setup == r.Setup && (ref < 0 || (h.Study == r.Study && g.Rows[ref].Study != r.Study)) {
					ref = j
				}
			}
			if ref < 0 {
				continue
			}
			h := g.Rows[ref]
			r.VsHeuristic = &Difference{Reference: h.Study + ": " + h.Goal, Delta: r.Test.Mean - h.Test.Mean,
				Welch: summary.WelchT(r.Test.Values, h.Test.Values), MannWhitney: summary.MannWhitneyU(r.Test.Values, h.Test.Values)}
		}
		for i, r := range g.Rows {
			if !math.IsNaN(r.Test.Mean) && (g.Best < 0 || r.Test.Mean > g.Rows[g.Best].Test.Mean) {
				g.Best = i
			}
		}
		out = append(out, *g)
	}
	return out
}

// comparePaired tests a against b: paired by seed (summary.PairedT) when at least
// two seeds have both, since evaluation runs of different goals on one seed
// share initial weights and data order; else unpaired (summary.WelchT).
func comparePaired(a, b map[uint64]float64, av, bv []float64) summary.TestResult {
	var x, y []float64
	seeds := slices.Sorted(maps.Keys(a))
	for _, s := range seeds {
		if w, ok := b[s]; ok {
			x, y = append(x, a[s]), append(y, w)
		}
	}
	if len(x) >= 2 && len(x) == len(av) && len(y) == len(bv) {
		return summary.PairedT(x, y)
	}
	return summary.WelchT(av, bv)
}
