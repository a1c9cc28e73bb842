package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"goalsearch/internal/pareto"
	"goalsearch/search"
	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/trainer"
	"goalsearch/trainer/goals"
)

// Defaults of an experiment, those of goalsearch search's flags.
const (
	DefaultSampler = "cmaes"
	DefaultTrials  = 20
	// DefaultWorkers is 2 because on the 2-core machines this runs on two
	// one-thread trials finish 1.6x sooner than one two-thread trial
	// (docs/benchmarks.md); a fixed number, not the machine's cores, so the
	// same command defines the same study everywhere.
	DefaultWorkers = 2
	DefaultSeed    = 1
	DefaultDim     = 5
)

// Defaults returns the experiment of every default for a setup: the
// paper's network settings for a network setup (package trainer's
// defaults, epochs setups.PaperEpochs), one epoch of DefaultDim
// coordinates for a synthetic one, and the search defaults (cmaes, 20
// trials, DefaultWorkers workers, seed 1, goal bounds [-1, 1]). Load lays a file over
// it.
func Defaults(setup string) Experiment {
	e := Experiment{
		Objective: Objective{Metric: "val_acc", Direction: string(store.Maximize)},
		Space:     Space{Bounds: []float64{-1, 1}},
		Sampler:   Method{Name: DefaultSampler},
		Pruner:    Method{Name: "none"},
		Budget:    Budget{Trials: DefaultTrials},
		Workers:   DefaultWorkers,
		Seed:      DefaultSeed,
		Network:   setups.NetworkConfig{Setup: setup},
	}
	switch {
	case setups.IsSynthetic(setup):
		e.Network.Epochs = 1
		e.Synthetic.Dim = DefaultDim
	default:
		if full, err := search.FullNetworkConfig(setups.NetworkConfig{Setup: setup, Epochs: setups.PaperEpochs}); err == nil {
			e.Network = full
		}
	}
	return e
}

// Resolved is an experiment with every default filled in, and what it
// defines.
type Resolved struct {
	// Experiment is the resolved experiment: marshalled, it is a file that
	// resolves to the same study.
	Experiment Experiment
	// Study is the study it defines (without CreatedAt and
	// SchemaVersion), Experiment stored in it as JSON.
	Study store.Study
	// Known are the enqueued goals as trials, in order.
	Known []store.NewTrial
	// Time is Budget.Time parsed.
	Time time.Duration
}

// Resolve checks every value of e (as Load returns it, defaults filled in)
// and returns the study it defines. Every error names the key path of the
// offending value and what it should be. Nothing is written anywhere.
func Resolve(e Experiment) (Resolved, error) {
	r := Resolved{}
	if e.Network.Setup == "" {
		return r, pathErr("network.setup", "required: one of %s, or a synthetic setup (%s)",
			strings.Join(goals.Setups(), ", "), strings.Join(setups.Names(setups.Synthetic), ", "))
	}
	if e.Objective.Metric == "" {
		e.Objective.Metric = "val_acc"
	}
	if e.Objective.Direction == "" {
		e.Objective.Direction = string(store.Maximize)
	}
	if e.Objective.Metric != "val_acc" {
		return r, pathErr("objective.metric", "%q; the search maximises val_acc (the validation accuracy after the last epoch), the only metric so far", e.Objective.Metric)
	}
	if e.Objective.Direction != string(store.Maximize) {
		return r, pathErr("objective.direction", "%q; val_acc is maximised: want maximize", e.Objective.Direction)
	}
	switch {
	case e.Objective.Complexity == "" && e.Objective.Grid != 0:
		return r, pathErr("objective.grid", "%v without a complexity objective; set objective.complexity (%s) or leave the grid out", e.Objective.Grid, strings.Join(pareto.Complexities, ", "))
	case e.Objective.Complexity == "":
	case !slices.Contains(pareto.Complexities, e.Objective.Complexity):
		return r, pathErr("objective.complexity", "%q; want one of %s", e.Objective.Complexity, strings.Join(pareto.Complexities, ", "))
	case e.Objective.Grid == 0:
		e.Objective.Grid = pareto.DefaultGrid
	case !(e.Objective.Grid > 0) || math.IsInf(e.Objective.Grid, 0):
		return r, pathErr("objective.grid", "%v; want a positive, finite step such as 0.1", e.Objective.Grid)
	}
	if e.Sampler.Name == "" {
		e.Sampler.Name = DefaultSampler
	}
	if e.Pruner.Name == "" {
		e.Pruner.Name = "none"
	}
	if e.Budget.Trials < 0 {
		return r, pathErr("budget.trials", "%d; want a non-negative number of trials", e.Budget.Trials)
	}
	d, err := e.Budget.Duration()
	if err != nil || d < 0 {
		return r, pathErr("budget.time", "%q; want a duration such as 90m or 8h", e.Budget.Time)
	}
	r.Time = d
	if e.Workers < 1 {
		return r, pathErr("workers", "%d; want at least 1", e.Workers)
	}
	b := e.Space.Bounds
	if len(b) != 2 || !(b[0] < b[1]) || math.IsInf(b[0], 0) || math.IsInf(b[1], 0) {
		return r, pathErr("space.bounds", "%v; want [lower, upper] with finite lower < upper", b)
	}

	study := store.Study{
		Name:      e.Study,
		Objective: store.Objective{Metric: e.Objective.Metric, Direction: store.Direction(e.Objective.Direction)},
		Seed:      e.Seed,
	}
	if e.Objective.Complexity != "" {
		study.Objectives = []store.Objective{{Metric: e.Objective.Complexity, Direction: store.Minimize, Grid: e.Objective.Grid}}
	}
	var labels []string
	var epochs int
	var base setups.NetworkConfig // the full network, for the hyperparameters' checks
	if setups.IsSynthetic(e.Network.Setup) {
		if err := checkSyntheticNetwork(e.Network); err != nil {
			return r, err
		}
		cfg, err := e.syntheticConfig()
		if err != nil {
			return r, err
		}
		raw, _ := json.Marshal(cfg)
		study.Setup = store.Setup{Name: e.Network.Setup, Config: raw}
		for i := 1; i <= cfg.Dim; i++ {
			labels = append(labels, fmt.Sprintf("x%d", i))
		}
		epochs = cfg.Epochs
	} else {
		if !e.Synthetic.IsZero() {
			return r, pathErr("synthetic", "only for a synthetic setup (%s); network.setup is %s", strings.Join(setups.Names(setups.Synthetic), ", "), e.Network.Setup)
		}
		if e.Network.Layers == 1 {
			e.Network.Layers = 0 // one layer is stored as 0, as before layers existed
		}
		l, err := goals.NetworkLabels(e.Network)
		if err != nil {
			return r, pathErr("network.setup", "%q; want one of %s, or a synthetic setup (%s)", e.Network.Setup,
				strings.Join(goals.Setups(), ", "), strings.Join(setups.Names(setups.Synthetic), ", "))
		}
		labels = l
		// Zeros are refused before the paper's values fill the layers
		// an experiment built in code may leave out.
		if err := CheckNetwork(e.Network); err != nil {
			return r, err
		}
		full, err := search.FullNetworkConfig(e.Network)
		if err != nil {
			return r, pathErr("network.setup", "%v", err)
		}
		e.Network = full
		if err := CheckNetwork(e.Network); err != nil {
			return r, err
		}
		base = full
		compact, err := search.CompactNetworkConfig(full)
		if err != nil {
			return r, err
		}
		raw, _ := json.Marshal(compact)
		study.Setup = store.Setup{Name: e.Network.Setup, Config: raw}
		epochs = e.Network.Epochs
	}

	space, err := e.space(labels, base)
	if err != nil {
		return r, err
	}
	study.Space = space

	if study.Sampler, err = e.samplerConfig(); err != nil {
		return r, err
	}
	sp, err := search.NewSpace(space)
	if err != nil {
		return r, pathErr("space", "%v", err)
	}
	if _, err := search.NewSampler(e.Sampler.Name, sp.Box(), study.Sampler.Config, e.Seed); err != nil {
		path := "sampler.settings"
		if !slices.Contains(search.Samplers(), e.Sampler.Name) {
			path = "sampler.name"
		} else if strings.Contains(err.Error(), "categorical") {
			path = "sampler.name"
		}
		return r, pathErr(path, "%v", strings.TrimPrefix(err.Error(), "search: "))
	}
	if e.Pruner.Name != "none" {
		raw, err := settingsJSON(e.Pruner.Settings, "pruner.settings")
		if err != nil {
			return r, err
		}
		study.Pruner = store.PrunerConfig{Name: e.Pruner.Name, Config: raw}
	} else if len(e.Pruner.Settings) > 0 {
		return r, pathErr("pruner.settings", "settings without a pruner; set pruner.name (%s)", strings.Join(search.Pruners(), ", "))
	}
	if _, err := search.NewPruner(study.Pruner.Name, study.Pruner.Config, study.Setup.Name, epochs); err != nil {
		path := "pruner.settings"
		if !slices.Contains(search.Pruners(), e.Pruner.Name) {
			path = "pruner.name"
		}
		return r, pathErr(path, "%v", strings.TrimPrefix(err.Error(), "search: "))
	}
	if err := search.CheckObjectives(study); err != nil {
		return r, pathErr("objective", "%v", err)
	}

	for i, spec := range e.Enqueue {
		nt, err := e.known(spec, study, base)
		if err != nil {
			return r, pathErr(fmt.Sprintf("enqueue.%d", i), "%q: %v", spec, err)
		}
		nt.Gamma = sp.Round(nt.Gamma, e.Objective.Grid) // trained as the sampler's goals are
		nt.Seed = search.TrialSeed(study.Seed, 0, i)
		r.Known = append(r.Known, nt)
	}

	raw, err := json.Marshal(e)
	if err != nil {
		return r, err
	}
	study.Experiment = raw
	if study.Name != "" {
		if err := store.ValidateName(study.Name); err != nil {
			return r, pathErr("study", "%v", err)
		}
		if err := study.Validate(); err != nil {
			return r, pathErr("", "%v", err)
		}
	}
	r.Experiment, r.Study = e, study
	return r, nil
}

func checkSyntheticNetwork(n setups.NetworkConfig) error {
	zero := setups.NetworkConfig{Setup: n.Setup, Epochs: n.Epochs}
	raw, _ := json.Marshal(n)
	want, _ := json.Marshal(zero)
	if string(raw) != string(want) {
		return pathErr("network", "setup %s is a synthetic function: only network.setup and network.epochs apply (its settings are under synthetic)", n.Setup)
	}
	if n.Epochs < 1 {
		return pathErr("network.epochs", "%d; want at least 1", n.Epochs)
	}
	return nil
}

func (e Experiment) syntheticConfig() (setups.SyntheticConfig, error) {
	cfg := setups.SyntheticConfig{Dim: e.Synthetic.Dim, Epochs: e.Network.Epochs, Noise: e.Synthetic.Noise}
	if cfg.Dim < 1 {
		return cfg, pathErr("synthetic.dim", "%d; want at least 1", cfg.Dim)
	}
	if !(cfg.Noise >= 0) || math.IsInf(cfg.Noise, 0) {
		return cfg, pathErr("synthetic.noise", "%v; want a finite standard deviation >= 0", cfg.Noise)
	}
	if e.Synthetic.Sleep != "" {
		d, err := time.ParseDuration(e.Synthetic.Sleep)
		if err != nil || d < 0 {
			return cfg, pathErr("synthetic.sleep", "%q; want a duration such as 200ms", e.Synthetic.Sleep)
		}
		cfg.Sleep = d
	}
	return cfg, nil
}

// CheckNetwork checks a resolved network's values, naming the key path of
// the first bad one.
func CheckNetwork(n setups.NetworkConfig) error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case n.Hidden < 1:
		return pathErr("network.hidden", "%d; want at least 1 hidden neuron", n.Hidden)
	case n.Epochs < 1:
		return pathErr("network.epochs", "%d; want at least 1", n.Epochs)
	case n.Batch < 1:
		return pathErr("network.batch", "%d; want at least 1", n.Batch)
	case !(n.ValFraction > 0 && n.ValFraction < 1):
		return pathErr("network.val_fraction", "%v; want a fraction in (0, 1)", n.ValFraction)
	case n.TrainLimit < 0:
		return pathErr("network.train_limit", "%d; want 0 (all) or a positive number of images", n.TrainLimit)
	case n.FanIn < 0:
		return pathErr("network.lateral_fanin", "%d; want 0 (all) or a positive number of partners", n.FanIn)
	case n.Layers < 0 || n.Layers > trainer.MaxLayers:
		return pathErr("network.layers", "%d; want 1 to %d hidden layers", n.Layers, trainer.MaxLayers)
	case n.PerLayer && n.NumLayers() < 2:
		return pathErr("network.goal_per_layer", "true with %d hidden layer; a goal per layer needs network.layers of 2 or more", n.NumLayers())
	case len(n.OutputGoal) != 5:
		return pathErr("network.output_goal", "%d weights; want 5 (the output layer is bivariate)", len(n.OutputGoal))
	}
	for i, v := range n.OutputGoal {
		if !finite(v) {
			return pathErr(fmt.Sprintf("network.output_goal.%d", i), "%v; want a finite number", v)
		}
	}
	for _, l := range []struct {
		name string
		l    setups.Layer
	}{{"hidden_layer", n.HiddenLayer}, {"output_layer", n.OutputLayer}} {
		p := "network." + l.name
		if b := l.l.Binning; b != nil {
			switch {
			case b.Kind != "fixed" && b.Kind != "adaptive":
				return pathErr(p+".binning.kind", "%q; want fixed or adaptive", b.Kind)
			case b.Bins < 2:
				return pathErr(p+".binning.bins", "%d; want at least 2 bins", b.Bins)
			case b.Kind == "fixed" && (b.Lower != 0 || b.Upper != 0) && !(finite(b.Lower) && finite(b.Upper) && b.Lower+1e-4 < b.Upper):
				return pathErr(p+".binning", "range [%v, %v]; want finite lower < upper for fixed binning", b.Lower, b.Upper)
			}
		}
		if a := l.l.Adam; a != nil {
			switch {
			case !finite(a.LR) || a.LR <= 0:
				return pathErr(p+".adam.lr", "%v; want a learning rate > 0", a.LR)
			case !finite(a.WeightDecay) || a.WeightDecay < 0:
				return pathErr(p+".adam.weight_decay", "%v; want >= 0", a.WeightDecay)
			case !finite(a.Eps) || a.Eps <= 0:
				return pathErr(p+".adam.eps", "%v; want > 0", a.Eps)
			}
			for i, beta := range a.Betas {
				if !finite(beta) || beta < 0 || beta >= 1 {
					return pathErr(fmt.Sprintf("%s.adam.betas.%d", p, i), "%v; want it in [0, 1)", beta)
				}
			}
		}
		if a := l.l.Activation; a != nil {
			for _, v := range []float64{a.K1, a.K2, a.C1, a.C2, a.W1, a.W2} {
				if !finite(v) {
					return pathErr(p+".activation", "%v; want finite constants", v)
				}
			}
		}
	}
	tc, err := search.TrainerConfig(n)
	if err != nil {
		return err
	}
	if tc.Setup.TakesGoal() {
		tc.Goal = make([]float64, len(mustLabels(n)))
	}
	if err := tc.Validate(); err != nil {
		return pathErr("network", "%v", err)
	}
	return nil
}

func mustLabels(n setups.NetworkConfig) []string {
	l, _ := goals.NetworkLabels(n)
	return l
}

// space resolves e.Space: every goal weight within the default bounds
// unless an entry bounds or fixes it (H_res fixed at 0 in a trivariate
// setup, as in the paper, unless an entry names it), then the
// hyperparameters. base is the full network (zero for synthetic setups).
func (e *Experiment) space(labels []string, base setups.NetworkConfig) (store.SearchSpace, error) {
	sp := store.SearchSpace{Labels: labels, UnitNorm: e.Space.UnitNorm}
	for range labels {
		sp.Lower = append(sp.Lower, e.Space.Bounds[0])
		sp.Upper = append(sp.Upper, e.Space.Bounds[1])
	}
	synthetic := setups.IsSynthetic(e.Network.Setup)
	// The paper's trivariate search fixed H_res = 0; that is the default
	// unless an entry fixes a goal weight (as --fix did) or names H_res.
	named, fixes := map[string]bool{}, false
	for _, en := range e.Space.Entries {
		named[en.Goal] = true
		fixes = fixes || (en.Goal != "" && en.Fixed != nil)
	}
	if !synthetic && !fixes {
		// Every layer's H_res, in a goal per layer.
		if l, err := goals.Labels(e.Network.Setup); err == nil && len(l) == 19 {
			for _, x := range labels {
				if (x == "H_res" || strings.HasSuffix(x, ":H_res")) && !named[x] {
					zero := 0.0
					e.Space.Entries = append(e.Space.Entries, Entry{Goal: x, Fixed: &zero})
				}
			}
		}
	}
	seen := map[string]bool{}
	for i := range e.Space.Entries {
		en := &e.Space.Entries[i]
		path := fmt.Sprintf("space.entries.%d", i)
		switch {
		case en.Goal != "" && en.Param != "":
			return sp, pathErr(path, "both goal and param; an entry is one goal weight or one hyperparameter")
		case en.Goal == "" && en.Param == "":
			return sp, pathErr(path, "want goal: ATOM or param: KEY.PATH")
		}
		key := en.Goal + en.Param
		if seen[key] {
			return sp, pathErr(path, "%s is given twice", key)
		}
		seen[key] = true
		if en.Goal != "" {
			if err := goalEntry(&sp, en, path); err != nil {
				return sp, err
			}
			continue
		}
		p, err := paramEntry(en, path, synthetic, base)
		if err != nil {
			return sp, err
		}
		sp.Params = append(sp.Params, p)
	}
	if err := sp.Validate(); err != nil {
		return sp, pathErr("space", "%v", err)
	}
	return sp, nil
}

func goalEntry(sp *store.SearchSpace, en *Entry, path string) error {
	i := slices.Index(sp.Labels, en.Goal)
	if i < 0 {
		return pathErr(path+".goal", "no atom %q; the atoms are %s", en.Goal, strings.Join(sp.Labels, " "))
	}
	if en.Type != "" && en.Type != "float" {
		return pathErr(path+".type", "%q; a goal weight is a float", en.Type)
	}
	if en.Choices != nil {
		return pathErr(path+".choices", "a goal weight has no choices")
	}
	if en.Lower != nil {
		sp.Lower[i] = *en.Lower
	}
	if en.Upper != nil {
		sp.Upper[i] = *en.Upper
	}
	if lo, hi := sp.Lower[i], sp.Upper[i]; !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return pathErr(path, "bounds [%v, %v] of %s; want finite lower < upper", lo, hi, en.Goal)
	}
	if en.Fixed != nil {
		v := *en.Fixed
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return pathErr(path+".fixed", "%v; want a finite number", v)
		}
		// A fixed weight outside the default bounds widens them: it is
		// not searched, so its bounds only have to hold it.
		sp.Lower[i], sp.Upper[i] = math.Min(sp.Lower[i], v), math.Max(sp.Upper[i], v)
		if sp.Fixed == nil {
			sp.Fixed = map[string]float64{}
		}
		sp.Fixed[en.Goal] = v
	}
	return nil
}

func paramEntry(en *Entry, path string, synthetic bool, base setups.NetworkConfig) (store.Param, error) {
	p := store.Param{Key: en.Param}
	if en.Type == "" {
		en.Type = string(store.Float)
	}
	p.Type = store.ParamType(en.Type)
	if en.Fixed != nil {
		return p, pathErr(path+".fixed", "a hyperparameter is fixed by setting it: write %s: %v instead", en.Param, *en.Fixed)
	}
	if synthetic {
		if !strings.HasPrefix(en.Param, "synthetic.") || strings.Count(en.Param, ".") != 1 {
			return p, pathErr(path+".param", "%q; a synthetic setup's hyperparameters are further coordinates named synthetic.NAME", en.Param)
		}
	} else if !strings.HasPrefix(en.Param, "network.") {
		return p, pathErr(path+".param", "%q; want the key path of a network setting, e.g. network.hidden_layer.adam.lr", en.Param)
	}
	switch p.Type {
	case store.Float, store.LogFloat, store.Int:
		if en.Choices != nil {
			return p, pathErr(path+".choices", "choices belong to a categorical hyperparameter, not a %s", p.Type)
		}
		if en.Lower == nil || en.Upper == nil {
			return p, pathErr(path, "a %s hyperparameter needs lower and upper", p.Type)
		}
		p.Lower, p.Upper = *en.Lower, *en.Upper
		if !(p.Lower < p.Upper) || math.IsInf(p.Lower, 0) || math.IsInf(p.Upper, 0) {
			return p, pathErr(path, "bounds [%v, %v]; want finite lower < upper", p.Lower, p.Upper)
		}
		if p.Type == store.LogFloat && p.Lower <= 0 {
			return p, pathErr(path+".lower", "%v; a log-float range needs lower > 0", p.Lower)
		}
		if p.Type == store.Int && (p.Lower != math.Trunc(p.Lower) || p.Upper != math.Trunc(p.Upper)) {
			return p, pathErr(path, "bounds [%v, %v]; an int range needs integer bounds", p.Lower, p.Upper)
		}
	case store.Categorical:
		if en.Lower != nil || en.Upper != nil {
			return p, pathErr(path, "a categorical hyperparameter has choices, not lower and upper")
		}
		if len(en.Choices) == 0 {
			return p, pathErr(path+".choices", "empty; want at least one choice")
		}
		for k, c := range en.Choices {
			raw, err := json.Marshal(c)
			if err != nil {
				return p, pathErr(fmt.Sprintf("%s.choices.%d", path, k), "%v", err)
			}
			p.Choices = append(p.Choices, raw)
		}
	default:
		return p, pathErr(path+".type", "%q; want float, log-float, int or categorical", en.Type)
	}
	if synthetic {
		if p.Type == store.Categorical {
			for k, c := range p.Choices {
				var x float64
				if json.Unmarshal(c, &x) != nil {
					return p, pathErr(fmt.Sprintf("%s.choices.%d", path, k), "a synthetic setup's choices are numbers")
				}
			}
		}
		return p, nil
	}
	// Every value of the range must be a valid setting: the bounds (or
	// each choice) are tried on the network.
	var vals []float64
	switch p.Type {
	case store.Categorical:
		for k := range p.Choices {
			vals = append(vals, float64(k))
		}
	default:
		vals = []float64{p.Lower, p.Upper}
	}
	for k, v := range vals {
		cfg, err := search.ApplyParams(base, []store.Param{p}, []float64{v})
		if err == nil {
			err = CheckNetwork(cfg)
		}
		if err != nil {
			which := "lower"
			switch {
			case p.Type == store.Categorical:
				which = "choices." + strconv.Itoa(k)
			case k == 1:
				which = "upper"
			}
			return p, pathErr(path+"."+which, "%s", err)
		}
	}
	return p, nil
}

func (e Experiment) samplerConfig() (store.SamplerConfig, error) {
	raw, err := settingsJSON(e.Sampler.Settings, "sampler.settings")
	return store.SamplerConfig{Name: e.Sampler.Name, Config: raw}, err
}

func settingsJSON(m map[string]any, path string) (json.RawMessage, error) {
	if len(m) == 0 {
		return nil, nil
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, pathErr(path, "%v", err)
	}
	return raw, nil
}

// known parses an enqueued goal; its hyperparameters take the network's
// values (for a synthetic setup, the middle of their ranges).
func (e Experiment) known(spec string, study store.Study, base setups.NetworkConfig) (store.NewTrial, error) {
	var g []float64
	var err error
	if setups.IsSynthetic(study.Setup.Name) {
		g, err = ParseVector(spec, study.Space.Dim())
	} else {
		g, err = goals.ParseNetwork(spec, base)
	}
	if err != nil {
		return store.NewTrial{}, err
	}
	nt := store.NewTrial{Gamma: g}
	for _, p := range study.Space.Params {
		v, err := currentValue(p, base, setups.IsSynthetic(study.Setup.Name))
		if err != nil {
			return nt, err
		}
		nt.Params = append(nt.Params, v)
	}
	return nt, nil
}

// currentValue is the network's value of a hyperparameter, as a trial
// records it.
func currentValue(p store.Param, base setups.NetworkConfig, synthetic bool) (float64, error) {
	if synthetic {
		switch p.Type {
		case store.Categorical:
			return 0, nil
		case store.LogFloat:
			return math.Sqrt(p.Lower * p.Upper), nil
		case store.Int:
			return math.Round((p.Lower + p.Upper) / 2), nil
		}
		return (p.Lower + p.Upper) / 2, nil
	}
	raw, _ := json.Marshal(base)
	var doc any
	_ = json.Unmarshal(raw, &doc)
	cur := doc
	for _, part := range strings.Split(strings.TrimPrefix(p.Key, "network."), ".") {
		switch n := cur.(type) {
		case map[string]any:
			cur = n[part]
		case []any:
			k, _ := strconv.Atoi(part)
			if k >= 0 && k < len(n) {
				cur = n[k]
			} else {
				cur = nil
			}
		default:
			cur = nil
		}
	}
	if cur == nil {
		cur = 0.0 // a setting left out (omitempty) is zero
	}
	if p.Type == store.Categorical {
		v, _ := json.Marshal(cur)
		for k, c := range p.Choices {
			if string(store.NormalizeJSON(c)) == string(v) {
				return float64(k), nil
			}
		}
		return 0, fmt.Errorf("an enqueued goal keeps the network's %s = %s, which is not one of the choices", p.Key, v)
	}
	x, ok := cur.(float64)
	if !ok {
		return 0, fmt.Errorf("%s is not a number", p.Key)
	}
	if x < p.Lower || x > p.Upper {
		return 0, fmt.Errorf("an enqueued goal keeps the network's %s = %v, outside [%v, %v]", p.Key, x, p.Lower, p.Upper)
	}
	return x, nil
}

// ParseVector reads a goal written as dim comma-separated finite numbers.
func ParseVector(spec string, dim int) ([]float64, error) {
	parts := strings.Split(spec, ",")
	if len(parts) != dim {
		return nil, fmt.Errorf("%d numbers, want %d", len(parts), dim)
	}
	g := make([]float64, dim)
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("weight %d %q is not a finite number", i+1, p)
		}
		g[i] = v
	}
	return g, nil
}
