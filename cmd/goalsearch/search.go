package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"goalsearch/dashboard"
	"goalsearch/experiment"
	"goalsearch/internal/pareto"
	"goalsearch/search"
	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/trainer"
)

type searchOptions struct {
	Study, Store  string
	Setup         string
	Dim           int
	Sampler       string
	SamplerConfig string
	Objectives    string
	Grid          float64
	Pruner        string
	PrunerConfig  string
	Trials        int
	Epochs        int
	Workers       int
	Threads       int
	Seed          uint64
	Enqueue       []string
	Time          time.Duration
	UnitNorm      bool
	Fix           []string
	Bounds        []float64
	Noise         float64
	Sleep         time.Duration
	Hidden        int
	Layers        int
	PerLayer      bool
	Data          string
	TrainLimit    int
	FanIn         int
	Lease         time.Duration
	JSON          bool
	Dashboard     string
	Token         string
	File          string   // the experiment file, -f
	Args          []string // key=value overrides of the experiment

	changed func(flag string) bool // whether a flag was given
}

// definitionFlags are the flags that define a study; resuming a study needs
// none of them, and giving one that differs from the stored study is an
// error.
var definitionFlags = []string{"setup", "dim", "sampler", "sampler-config", "objectives", "grid", "pruner", "pruner-config", "epochs", "seed",
	"unit-norm", "fix", "bounds", "noise", "sleep", "hidden", "data", "train-limit", "lateral-fanin", "layers", "goal-per-layer"}

func newSearchCmd(s streams) *cobra.Command {
	o := &searchOptions{}
	cmd := &cobra.Command{
		Use:   "search (--study NAME --setup SETUP | -f EXPERIMENT.yaml) [KEY=VALUE...] [flags]",
		Short: "Search for goal vectors, or resume a search",
		Long: `search runs a goal search: a sampler proposes goal vectors, each trial trains
the setup's network with one and records its validation accuracy, and every
proposal and result goes into the store at once. Running the same command
again (or just 'goalsearch search --study NAME') resumes the study exactly
where it stopped, after Ctrl-C, kill -9 or a lost machine.

The setups are the networks (MNIST):

` + setupList(setups.Infomorphic) + `
and the synthetic test functions, with --dim D:

` + setupList(setups.Synthetic) + `
An experiment file (-f) describes the whole search, goal weights and
hyperparameters (docs/experiments.md); KEY=VALUE arguments and the flags
override its values, with the same checks. 'goalsearch status NAME
--config' prints a study's experiment.

Ctrl-C once stops after the running trials' current epoch (they continue
from there next time); twice aborts them.`,
		Example: `  goalsearch search -f docs/examples/joint.yaml network.hidden_layer.adam.lr=0.003 sampler.name=tpe
  goalsearch search --study demo --setup sphere --dim 5 --sampler cmaes --trials 60 --workers 2
  goalsearch search --study ctxlat --setup context-lateral --sampler cmaes --trials 8 --epochs 2 --workers 2
  goalsearch search --study ctxlat --trials 16     # resume with a larger budget
  goalsearch search --study deep --setup context-lateral --layers 2 --goal-per-layer --sampler tpe --trials 20`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.changed = func(f string) bool { return cmd.Flags().Changed(f) }
			o.Args = args
			return runSearch(cmd.Context(), o, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Study, "study", "", "the study's name (required, unless the experiment file names it)")
	f.StringVarP(&o.File, "file", "f", "", "an experiment file (YAML, docs/experiments.md); flags and KEY=VALUE arguments override its values")
	addStoreFlag(cmd, &o.Store)
	f.StringVar(&o.Setup, "setup", "", "what each trial trains: a network setup or a synthetic function")
	f.IntVar(&o.Dim, "dim", 5, "number of coordinates of a synthetic setup")
	f.StringVar(&o.Sampler, "sampler", "cmaes", strings.Join(search.Samplers(), ", "))
	f.StringVar(&o.SamplerConfig, "sampler-config", "", "the sampler's settings as JSON")
	f.StringVar(&o.Objectives, "objectives", "accuracy", "accuracy, or accuracy,nonzero or accuracy,l1: a second objective, the goal's complexity, minimised (with --sampler nsga2; docs/pareto.md)")
	f.Float64Var(&o.Grid, "grid", 0, fmt.Sprintf("with a complexity objective: round every goal weight to this step, trained rounded (default %g)", pareto.DefaultGrid))
	f.StringVar(&o.Pruner, "pruner", "none", strings.Join(search.Pruners(), ", ")+" (with a pruner, TPE is asked asynchronously)")
	f.StringVar(&o.PrunerConfig, "pruner-config", "", `the pruner's settings as JSON, e.g. {"min_epochs":2,"eta":3}`)
	f.IntVar(&o.Trials, "trials", 20, "finished trials the study should have (a resumed study goes on to this number)")
	f.IntVar(&o.Epochs, "epochs", 0, fmt.Sprintf("epochs per trial (default: %d for networks, 1 for synthetic setups)", setups.PaperEpochs))
	f.IntVar(&o.Workers, "workers", experiment.DefaultWorkers, "trials in flight in this process; also the points per generation of tpe, gp, random and sobol")
	f.IntVar(&o.Threads, "threads", 0, "threads per trial (default: the cores divided among the workers)")
	f.Uint64Var(&o.Seed, "seed", 1, "the study's seed: proposals and trial seeds derive from it")
	f.StringArrayVar(&o.Enqueue, "enqueue", nil, "a known goal (preset name or comma-separated vector) to evaluate first; repeatable")
	f.DurationVar(&o.Time, "time", 0, "stop this run after this long (e.g. 8h); resume later")
	f.BoolVar(&o.UnitNorm, "unit-norm", false, "search directions only: scale every proposed goal to norm 1")
	f.StringArrayVar(&o.Fix, "fix", nil, "fix an atom, LABEL=VALUE (default for trivariate setups: H_res=0, as in the paper); repeatable")
	f.Float64SliceVar(&o.Bounds, "bounds", []float64{-1, 1}, "lower,upper bound of every searched weight")
	f.Float64Var(&o.Noise, "noise", 0, "synthetic setups: std of noise added to each trial's value")
	f.DurationVar(&o.Sleep, "sleep", 0, "synthetic setups: time each trial takes")
	f.IntVar(&o.Hidden, "hidden", trainer.DefaultHidden, "network setups: hidden neurons")
	f.IntVar(&o.Layers, "layers", 1, "network setups: hidden layers, stacked (docs/layers.md)")
	f.BoolVar(&o.PerLayer, "goal-per-layer", false, "network setups with --layers N > 1: search a goal per hidden layer (N times the weights, labelled h1:..., each layer's H_res fixed at 0) instead of one shared goal")
	f.StringVar(&o.Data, "data", "", "network setups: directory with an IDX data set (default MNIST from the Go module cache)")
	f.IntVar(&o.TrainLimit, "train-limit", 0, "network setups: use only the first N training images (quick runs)")
	f.IntVar(&o.FanIn, "lateral-fanin", 0, "network setups: lateral partners per hidden neuron (0 = all)")
	f.DurationVar(&o.Lease, "lease", 0, "PostgreSQL stores: how long a trial stays leased without a heartbeat (default 1m); the same as the workers'")
	f.BoolVar(&o.JSON, "json", false, "print the summary as JSON")
	f.StringVar(&o.Dashboard, "dashboard", "", "serve the live dashboard of the store at HOST:PORT while the search runs (e.g. 127.0.0.1:8080)")
	f.StringVar(&o.Token, "dashboard-token", "", "a secret every dashboard request must carry; needed beyond loopback (default $"+tokenEnv+")")
	return cmd
}

func runSearch(ctx context.Context, o *searchOptions, s streams) error {
	if o.Threads < 0 || o.Workers < 1 || o.Trials < 0 {
		return usagef("--workers %d, --trials %d, --threads %d: want at least 1 worker, a non-negative budget and threads", o.Workers, o.Trials, o.Threads)
	}
	if err := checkSearchFlags(o); err != nil {
		return err
	}
	if o.Dashboard != "" {
		if o.Token == "" {
			o.Token = os.Getenv(tokenEnv)
		}
		if err := dashboard.CheckAddr(o.Dashboard, o.Token); err != nil {
			return usagef("--dashboard %w%s", err, tokenHint(err, "--dashboard-token"))
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	overrides, err := searchOverrides(o)
	if err != nil {
		return err
	}
	define := o.File != "" || len(o.Args) > 0 || anyChanged(o)
	var res experiment.Resolved
	name := o.Study
	if define {
		if res, err = loadExperiment(o.File, overrides); err != nil {
			return err
		}
		name = res.Study.Name
	}
	if name == "" {
		return usagef("--study is required (or study: in the experiment file)")
	}
	st, err := openStoreLease(o.Store, false, o.Lease)
	if err != nil {
		return err
	}
	defer st.Close()

	study, err := st.Study(ctx, name)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrStudyNotFound) {
		return err
	}
	if !exists && !define {
		return usagef("study %q does not exist yet: --setup is required to create it (or -f FILE)", name)
	}
	// What this run spends: the file's (or the flags') budget, or, when
	// resuming by name, the stored experiment's unless a flag says more.
	trials, limit, workers := o.Trials, o.Time, o.Workers
	known := res.Known
	switch {
	case define:
		study = res.Study
		trials, limit, workers = res.Experiment.Budget.Trials, res.Time, res.Experiment.Workers
	case len(study.Experiment) > 0:
		if e, err := experiment.FromJSON(study.Experiment); err == nil {
			if !o.changed("trials") {
				trials = e.Budget.Trials
			}
			if !o.changed("workers") {
				workers = e.Workers
			}
		}
	}
	if trials == 0 && limit == 0 {
		return usagef("a budget of 0 trials and no time limit would run for ever: give --trials N (or budget.trials), or --time")
	}
	if exists && !define {
		// --study NAME --enqueue G...: the goals the study was created
		// with, as the command that created it gives them again.
		for i, spec := range o.Enqueue {
			nt, err := experiment.KnownTrial(study, spec, i)
			if err != nil {
				return usagef("--enqueue %s: %v", spec, err)
			}
			known = append(known, nt)
		}
	}
	first := 0 // the first of known not in the store yet
	if exists && len(known) > 0 {
		if first, err = enqueuedBefore(ctx, st, study.Name, known); err != nil {
			return err
		}
	}
	threads := o.Threads
	if threads == 0 {
		threads = max(1, runtime.NumCPU()/workers)
	}
	// Build everything the study needs before storing it, so that bad input
	// never leaves a study behind.
	obj, err := search.NewObjective(study.Setup, study.Space.Params, threads)
	if err != nil {
		return err
	}
	space, err := search.NewSpace(study.Space)
	if err != nil {
		return err
	}
	smp, err := search.NewSampler(study.Sampler.Name, space.Box(), study.Sampler.Config, study.Seed)
	if err != nil {
		return configErr("--sampler-config", o.SamplerConfig, err)
	}
	if _, err := search.NewPruner(study.Pruner.Name, study.Pruner.Config, study.Setup.Name, obj.Epochs()); err != nil {
		return configErr("--pruner-config", o.PrunerConfig, err)
	}
	if define {
		if study, err = st.CreateStudy(ctx, study); err != nil {
			return fmt.Errorf("%w (to resume the study, give only --study and budget flags)", err)
		}
	}
	for _, nt := range known[first:] {
		if _, err := st.EnqueueTrial(ctx, study.Name, nt); err != nil {
			return err
		}
	}

	if o.Dashboard != "" {
		// Served from this process, from the store it has open: one
		// process to start, and no socket between the page and the store.
		stopDashboard, err := startDashboard(s, st, o.Store, o.Dashboard, o.Token)
		if err != nil {
			return err
		}
		defer stopDashboard()
	}

	// Ctrl-C once: stop softly; twice: abort.
	ctx, stop, release := interruptible(ctx, s, "running trials stop after their current epoch and resume next time")
	defer release()

	host, _ := os.Hostname()
	prog := newSearchProgress(s, study, trials)
	sum, err := runDriver(ctx, st, study.Name, obj, smp, search.Options{
		Slots: workers, Trials: trials, Time: limit, Stop: stop,
		Name: fmt.Sprintf("%s:%d", host, os.Getpid()), Observer: prog.observe,
	})
	prog.close()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return printSearchSummary(s, o, study, sum)
}

func anyChanged(o *searchOptions) bool {
	for _, f := range definitionFlags {
		if o.changed != nil && o.changed(f) {
			return true
		}
	}
	return false
}

// loadExperiment reads an experiment file (none if path is empty), applies
// the overrides and resolves it: the one path by which files, key=value
// arguments and flags define a study. Errors name the key path, and the
// flag too if one set it.
func loadExperiment(path string, overrides []experiment.Override) (experiment.Resolved, error) {
	var file []byte
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return experiment.Resolved{}, usagef("-f %s: %v", path, err)
		}
		file = b
	}
	e, err := experiment.Load(file, overrides)
	if err == nil {
		var res experiment.Resolved
		if res, err = experiment.Resolve(e); err == nil {
			return res, nil
		}
	}
	var pe *experiment.PathError
	if errors.As(err, &pe) {
		for _, o := range overrides {
			if o.Flag != "" && (pe.Path == o.Path || strings.HasPrefix(pe.Path, o.Path+".")) {
				pe.Path += " (--" + o.Flag + ")"
				break
			}
		}
	}
	switch {
	case path != "":
		return experiment.Resolved{}, fmt.Errorf("%s: %w", path, err)
	case pe != nil && (strings.HasPrefix(pe.Path, "sampler.") || strings.HasPrefix(pe.Path, "pruner.")):
		// The sampler's and pruner's own checks, as before experiments.
		return experiment.Resolved{}, err
	}
	return experiment.Resolved{}, usagef("%v", err)
}

// searchOverrides turns the flags that were given, then the key=value
// arguments, into overrides of the experiment: flags are shorthands for
// key paths.
func searchOverrides(o *searchOptions) ([]experiment.Override, error) {
	changed := func(f string) bool { return o.changed != nil && o.changed(f) }
	var out []experiment.Override
	set := func(flag, path, value string) {
		if changed(flag) {
			out = append(out, experiment.Override{Path: path, Value: value, Flag: flag})
		}
	}
	q := strconv.Quote
	num := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	set("study", "study", q(o.Study))
	set("setup", "network.setup", q(o.Setup))
	set("dim", "synthetic.dim", strconv.Itoa(o.Dim))
	set("sampler", "sampler.name", q(o.Sampler))
	set("sampler-config", "sampler.settings", o.SamplerConfig)
	if changed("objectives") {
		c, err := search.ParseObjectives(o.Objectives)
		if err != nil {
			return nil, usagef("--objectives: %v", err)
		}
		set("objectives", "objective.complexity", q(c))
	}
	if changed("grid") && (!(o.Grid > 0) || math.IsInf(o.Grid, 0)) {
		// 0 is the experiment file's "default"; given as a flag it is a mistake.
		return nil, usagef("--grid %v: want a positive, finite step such as %g (objective.grid)", o.Grid, pareto.DefaultGrid)
	}
	set("grid", "objective.grid", num(o.Grid))
	set("pruner", "pruner.name", q(o.Pruner))
	set("pruner-config", "pruner.settings", o.PrunerConfig)
	set("trials", "budget.trials", strconv.Itoa(o.Trials))
	set("epochs", "network.epochs", strconv.Itoa(o.Epochs))
	set("workers", "workers", strconv.Itoa(o.Workers))
	set("seed", "seed", strconv.FormatUint(o.Seed, 10))
	set("time", "budget.time", q(o.Time.String()))
	set("unit-norm", "space.unit_norm", strconv.FormatBool(o.UnitNorm))
	if len(o.Bounds) != 2 {
		if changed("bounds") {
			return nil, usagef("--bounds %v: want lower,upper with lower < upper", o.Bounds)
		}
	} else {
		set("bounds", "space.bounds", "["+num(o.Bounds[0])+", "+num(o.Bounds[1])+"]")
	}
	set("noise", "synthetic.noise", num(o.Noise))
	set("sleep", "synthetic.sleep", q(o.Sleep.String()))
	set("hidden", "network.hidden", strconv.Itoa(o.Hidden))
	set("data", "network.data", q(o.Data))
	set("train-limit", "network.train_limit", strconv.Itoa(o.TrainLimit))
	set("lateral-fanin", "network.lateral_fanin", strconv.Itoa(o.FanIn))
	set("layers", "network.layers", strconv.Itoa(o.Layers))
	set("goal-per-layer", "network.goal_per_layer", strconv.FormatBool(o.PerLayer))
	for _, f := range o.Fix {
		l, v, ok := strings.Cut(f, "=")
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, usagef("--fix %q: want LABEL=VALUE, e.g. H_res=0", f)
		}
		out = append(out, experiment.Override{Path: "space.entries", Append: true, Flag: "fix",
			Value: fmt.Sprintf("{goal: %s, fixed: %s}", q(strings.TrimSpace(l)), num(x))})
	}
	for _, g := range o.Enqueue {
		out = append(out, experiment.Override{Path: "enqueue", Append: true, Value: q(g), Flag: "enqueue"})
	}
	for _, a := range o.Args {
		ov, err := experiment.ParseOverride(a)
		if err != nil {
			return nil, usagef("%v", err)
		}
		out = append(out, ov)
	}
	return out, nil
}

type searchSummaryJSON struct {
	Study       string             `json:"study"`
	Finished    int                `json:"finished"`
	Complete    int                `json:"complete"`
	Pruned      int                `json:"pruned"`
	Failed      int                `json:"failed"`
	Stopped     bool               `json:"stopped"`
	SamplerDone bool               `json:"sampler_done"`
	Best        *int               `json:"best_trial,omitempty"`
	BestValue   *float64           `json:"best_value,omitempty"`
	BestGoal    map[string]float64 `json:"best_goal,omitempty"`
	BestParams  map[string]any     `json:"best_params,omitempty"`
}

func printSearchSummary(s streams, o *searchOptions, study store.Study, sum search.Summary) error {
	out := searchSummaryJSON{Study: study.Name, Finished: sum.Finished, Complete: sum.Complete, Pruned: sum.Pruned,
		Failed: sum.Failed, Stopped: sum.Stopped, SamplerDone: sum.SamplerDone}
	if sum.Best != nil {
		out.Best, out.BestValue = &sum.Best.Number, sum.Best.Value
		out.BestGoal = map[string]float64{}
		for i, l := range study.Space.Labels {
			out.BestGoal[l] = sum.Best.Gamma[i]
		}
		for i, p := range study.Space.Params {
			if out.BestParams == nil {
				out.BestParams = map[string]any{}
			}
			v, _ := search.ParamJSON(p, sum.Best.Params[i])
			out.BestParams[p.Key] = json.RawMessage(v)
		}
	}
	if o.JSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	state := "budget spent"
	switch {
	case sum.Stopped:
		state = "stopped; run the same command to resume"
	case sum.SamplerDone:
		state = "the sampler has nothing more to propose"
	}
	fmt.Fprintf(s.Out, "study %s: %d trials finished (%d complete, %d pruned, %d failed); %s\n",
		study.Name, sum.Finished, sum.Complete, sum.Pruned, sum.Failed, state)
	if sum.Best != nil {
		fmt.Fprintf(s.Out, "best: trial %d, %s %.4f\n  goal: %s\n", sum.Best.Number, study.Objective.Metric, *sum.Best.Value,
			formatGoal(study.Space.Labels, sum.Best.Gamma))
		if len(study.Space.Params) > 0 {
			fmt.Fprintf(s.Out, "  hyperparameters: %s\n", formatParams(study.Space.Params, sum.Best.Params))
		}
	}
	return nil
}

// formatParams writes a trial's hyperparameters by key path.
func formatParams(ps []store.Param, vals []float64) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		v := "?"
		if i < len(vals) {
			v = store.ParamText(p, vals[i])
		}
		parts[i] = p.Key + "=" + v
	}
	return strings.Join(parts, " ")
}

func formatGoal(labels []string, g []float64) string {
	parts := make([]string, len(g))
	for i := range g {
		parts[i] = fmt.Sprintf("%s %+.3f", labels[i], g[i])
	}
	return strings.Join(parts, "  ")
}

// enqueuedBefore checks --enqueue against an existing study, so that the
// command that created a study also resumes it: the goals enqueued then
// (generation 0, trials 0, 1, ...) must be the first of known. It returns
// how many of known are in the store already; the rest are enqueued if
// the study was interrupted while its goals were being enqueued, before
// any sampler proposal.
func enqueuedBefore(ctx context.Context, st store.Store, study string, known []store.NewTrial) (int, error) {
	trials, err := st.Trials(ctx, study)
	if err != nil {
		return 0, err
	}
	n, proposed := 0, false
	for _, t := range trials {
		if t.Generation != 0 {
			proposed = true
			continue
		}
		if n >= len(known) || !slices.Equal(t.Gamma, known[n].Gamma) {
			return 0, usagef("--enqueue: study %q was created with other enqueued goals (trial %d is %v); to resume it, give the same --enqueue goals or none", study, t.Number, t.Gamma)
		}
		n++
	}
	if n < len(known) && proposed {
		return 0, usagef("--enqueue: study %q has %d enqueued goals and sampler proposals already; more goals can only be enqueued when a study is created", study, n)
	}
	return n, nil
}
