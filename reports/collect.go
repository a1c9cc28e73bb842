package reports

import (
	"context"
	"fmt"
	"slices"
	"strings"

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
	// compared for sign agreement. If 0, DefaultLeaderboard is used.
	Leaderboard int
	// Curves is the number of best trials whose learning curves are
	// drawn. If 0, DefaultCurves is used.
	Curves int
	// Against names a goal that every evaluated goal is compared with,
	// seed by seed (a preset such as context-lateral/opt_1_100_modified);
	// "" for none.
	Against string
	// Tolerance is how far below the best validation accuracy the goal
	// picked from a multi-objective study's Pareto front may be. If 0,
	// summary.DefaultFrontTolerance is used.
	Tolerance float64
}

// The defaults of Options.
const (
	DefaultLeaderboard = 10
	DefaultCurves      = 5
)

func (o *Options) withDefaults() Options {
	var d Options
	if o != nil {
		d = *o
	}
	if d.Leaderboard <= 0 {
		d.Leaderboard = DefaultLeaderboard
	}
	if d.Curves <= 0 {
		d.Curves = DefaultCurves
	}
	if d.Tolerance <= 0 {
		d.Tolerance = summary.DefaultFrontTolerance
	}
	return d
}

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
		sec.Search = summary.Search(*self, trials, c.o.Leaderboard, c.o.Curves)
		sec.Search.Pareto = summary.Front(*self, trials, c.o.Tolerance)
	}
	for _, s := range evals {
		trials, err := c.load(s.Name)
		if err != nil {
			return err
		}
		sec.Evals = append(sec.Evals, summary.Eval(s, trials))
	}
	c.sections = append(c.sections, sec)
	return nil
}

// finish links searches with their evaluations and builds the comparison,
// once every section is read.
func (c *collector) finish(title string) (*Report, error) {
	r := &Report{Title: title, Sections: c.sections}
	var evals []*summary.EvalSummary
	for i := range r.Sections {
		for j := range r.Sections[i].Evals {
			e := &r.Sections[i].Evals[j]
			if !slices.ContainsFunc(evals, func(x *summary.EvalSummary) bool { return x.Study == e.Study }) {
				evals = append(evals, e)
			}
		}
	}
	for i := range r.Sections {
		sec := &r.Sections[i]
		if s := sec.Search; s != nil {
			summary.LinkEvals(s, sec.Evals)
			s.Profile = summary.Profile(s, c.trials[s.Study], sec.Evals, evals)
		}
		sec.Notes = sectionNotes(sec)
	}
	r.Comparison = summary.Compare(evals, c.o.Against)
	if a := c.o.Against; a != "" {
		var names []string
		found := false
		for _, g := range r.Comparison {
			for _, row := range g.Rows {
				found = found || row.Is(a)
				names = append(names, row.Goal)
			}
		}
		if !found {
			return nil, fmt.Errorf("--against %q: no evaluated goal of that name in these studies (they have: %s)", a, strings.Join(slices.Compact(slices.Sorted(slices.Values(names))), ", "))
		}
	}
	var searches []*summary.SearchSummary
	for _, sec := range r.Sections {
		searches = append(searches, sec.Search)
	}
	r.Agreement = summary.AgreementAcross(searches)
	return r, nil
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
