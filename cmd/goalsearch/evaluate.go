package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"goalsearch/experiment"
	"goalsearch/search"
	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/summary"
	"goalsearch/trainer"
	"goalsearch/trainer/goals"
)

type evaluateOptions struct {
	Store      string
	Study      string
	Top        int
	Trials     []int
	Goals      []string
	Setup      string
	Seeds      int
	Hidden     []int
	Epochs     int
	Workers    int
	Threads    int
	Data       string
	TrainLimit int
	Layers     int
	PerLayer   bool
	JSON       bool
}

func newEvaluateCmd(s streams) *cobra.Command {
	o := &evaluateOptions{}
	cmd := &cobra.Command{
		Use:   "evaluate [STUDY] [--top K] [--trial N ...] [--goal GOAL ...] [flags]",
		Short: "Re-train a study's best goals, or presets, on fresh seeds with the test set",
		Long: wrap(`evaluate re-trains goals on fresh seeds with the full epoch budget and records
the validation and the test accuracy of every run: the top K goals of a
searched STUDY (by validation accuracy), its --trial goals (pruned ones
too, for a study whose pruner let few trials finish) and/or the --goal
presets and vectors,
or, without a STUDY, presets on --setup (a baseline setup, `+strings.Join(setups.Names(setups.Baseline), " or ")+`,
needs no goal). The seeds are the same for every goal (paired comparisons)
and differ from the search's.`) + `

The runs are stored as an evaluation study per hidden size, named
GROUP/evaluate/SETUP/hHIDDEN, where GROUP is the STUDY or "presets". Running
the command again resumes it: finished runs are kept, interrupted ones
continue from their checkpoints; more goals or seeds are added to the same
study, and every goal of a study runs on all its seeds. Ctrl-C once stops
after the running epochs; twice aborts them.

The table shows per goal the mean, standard deviation, median and range over
the seeds; only the validation accuracy should choose between goals.`,
		Example: `  goalsearch evaluate ctxlat --top 5 --seeds 10
  goalsearch evaluate ctxlat --top 1 --goal context-lateral/naive --hidden 50,100,500
  goalsearch evaluate discovery-1 --top 0 --trial 93,105 --goal context-lateral/opt_1_100_tpe
  goalsearch evaluate --goal context/naive --setup context --seeds 2 --epochs 1 --hidden 50
  goalsearch evaluate --setup backprop --seeds 3 --epochs 10
  goalsearch evaluate --goal context-lateral/opt_1_100_tpe --layers 2 --seeds 2`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("want at most one study, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Study = args[0]
			}
			return runEvaluate(cmd.Context(), o, s)
		},
	}
	f := cmd.Flags()
	addStoreFlag(cmd, &o.Store)
	f.IntVar(&o.Top, "top", 5, "with a STUDY: evaluate its K best complete goals (0: none)")
	f.IntSliceVar(&o.Trials, "trial", nil, "with a STUDY: evaluate these trials' goals too, by number (complete or pruned); repeatable or comma-separated")
	f.StringArrayVar(&o.Goals, "goal", nil, "a goal to evaluate: preset name or comma-separated weights; repeatable")
	f.StringVar(&o.Setup, "setup", "", "without a STUDY: the setup (default: the setup of the --goal presets)")
	f.IntVar(&o.Seeds, "seeds", 10, "fresh seeds per goal")
	f.IntSliceVar(&o.Hidden, "hidden", nil, fmt.Sprintf("hidden sizes, e.g. 50,100,500 (default: the study's, or %d)", trainer.DefaultHidden))
	f.IntVar(&o.Epochs, "epochs", 0, fmt.Sprintf("epochs per run (default: the study's, or %d)", setups.PaperEpochs))
	addRunFlags(cmd, &o.Workers, &o.Threads)
	f.StringVar(&o.Data, "data", "", "without a STUDY: directory with an IDX data set (default MNIST from the Go module cache)")
	f.IntVar(&o.TrainLimit, "train-limit", 0, "without a STUDY: use only the first N training images (quick runs)")
	f.IntVar(&o.Layers, "layers", 1, "without a STUDY: hidden layers (docs/layers.md); a study's runs have its own")
	f.BoolVar(&o.PerLayer, "goal-per-layer", false, "without a STUDY, with --layers N > 1: each --goal gives every layer its own goal (N goals' weights, layer 1 first), a preset every layer the same")
	f.BoolVar(&o.JSON, "json", false, "print the results as JSON")
	return cmd
}

// addRunFlags adds the flags of every command that trains with the driver.
func addRunFlags(cmd *cobra.Command, workers, threads *int) {
	cmd.Flags().IntVar(workers, "workers", experiment.DefaultWorkers, "runs in flight")
	cmd.Flags().IntVar(threads, "threads", 0, "threads per run (default: the cores divided among the workers)")
}

// evalJSON is one evaluation study's result, as printed.
type evalJSON struct {
	Study   string               `json:"study"`
	Setup   string               `json:"setup"`
	Hidden  int                  `json:"hidden"`
	Epochs  int                  `json:"epochs"`
	Seeds   int                  `json:"seeds"`
	Goals   []summary.GoalResult `json:"goals"`
	Stopped bool                 `json:"stopped"`
	labels  []string
}

func runEvaluate(ctx context.Context, o *evaluateOptions, s streams) error {
	if o.Seeds < 1 || o.Top < 0 || o.Epochs < 0 || o.Workers < 1 || o.Threads < 0 {
		return usagef("--seeds %d, --top %d, --epochs %d, --workers %d, --threads %d: want at least 1 seed and worker, and no negative number",
			o.Seeds, o.Top, o.Epochs, o.Workers, o.Threads)
	}
	for _, h := range o.Hidden {
		if h < 1 {
			return usagef("--hidden %d: want at least 1", h)
		}
	}
	if o.TrainLimit < 0 {
		return usagef("--train-limit %d: want 0 (all) or a positive number of images", o.TrainLimit)
	}
	if o.Layers < 1 || o.Layers > trainer.MaxLayers {
		return usagef("--layers %d: want 1 to %d hidden layers", o.Layers, trainer.MaxLayers)
	}
	if o.PerLayer && o.Layers < 2 {
		return usagef("--goal-per-layer: needs --layers 2 or more (--layers %d)", o.Layers)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStore(o.Store, false)
	if err != nil {
		return err
	}
	defer st.Close()
	plans, err := evaluatePlans(ctx, st, o)
	if err != nil {
		return err
	}

	ctx, stop, done := interruptible(ctx, s, "running runs stop after their current epoch and resume next time")
	defer done()
	ev := newEvaluator(st, o.Workers, o.Threads, stop, s)
	var out []evalJSON
	for _, p := range plans {
		res, err := ev.Evaluate(ctx, p)
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		if err != nil {
			break
		}
		out = append(out, evalResult(res, p.Labels))
		if res.Summary.Stopped {
			break
		}
	}
	return printEvals(s, out, o.JSON)
}

// evaluatePlans turns the options into one plan per hidden size.
func evaluatePlans(ctx context.Context, st store.Store, o *evaluateOptions) ([]search.EvalPlan, error) {
	hidden := o.Hidden
	if o.Study == "" && len(o.Trials) > 0 {
		return nil, usagef("--trial %v: trials are a STUDY's; give the study", o.Trials)
	}
	if o.Study == "" {
		return presetPlans(o)
	}
	if o.Data != "" || o.TrainLimit != 0 {
		return nil, usagef("--data and --train-limit apply without a STUDY; a study's runs use its own data")
	}
	if o.Layers != 1 || o.PerLayer {
		return nil, usagef("--layers and --goal-per-layer apply without a STUDY; a study's runs have its own layers")
	}
	src, err := st.Study(ctx, o.Study)
	if err != nil {
		return nil, err
	}
	if summary.IsEvalStudy(src) {
		return nil, usagef("%s is an evaluation study; give the searched study", src.Name)
	}
	if o.Setup != "" && o.Setup != src.Setup.Name {
		return nil, usagef("--setup %s: study %s trains %s", o.Setup, src.Name, src.Setup.Name)
	}
	if setups.IsSynthetic(src.Setup.Name) && len(hidden) > 0 {
		return nil, usagef("--hidden: study %s is synthetic and has no hidden neurons", src.Name)
	}
	trials, err := st.Trials(ctx, src.Name)
	if err != nil {
		return nil, err
	}
	gs := search.TopGoals(trials, o.Top)
	picked, err := search.TrialGoals(trials, o.Trials)
	if err != nil {
		return nil, usagef("--trial: study %s: %v", src.Name, err)
	}
	gs = search.AppendNewGoals(gs, picked...)
	// The study's network says how its goals are laid out (a goal per
	// layer or not); a synthetic study's configuration is not a network's.
	net := setups.NetworkConfig{Setup: src.Setup.Name}
	if !setups.IsSynthetic(src.Setup.Name) {
		if err := json.Unmarshal(src.Setup.Config, &net); err != nil {
			return nil, fmt.Errorf("study %s: setup %s: %w", src.Name, src.Setup.Name, err)
		}
	}
	extra, err := parseEvalGoals(net, src.Space.Dim(), o.Goals)
	if err != nil {
		return nil, err
	}
	gs = append(gs, extra...)
	if len(gs) == 0 {
		return nil, usagef("nothing to evaluate: study %s has no complete trial and no --goal was given", src.Name)
	}
	if len(hidden) == 0 {
		hidden = []int{0}
	}
	var plans []search.EvalPlan
	for _, h := range hidden {
		p, err := search.PlanFromStudy(src, summary.KindEvaluate, h, o.Epochs)
		if err != nil {
			return nil, err
		}
		p.Config.Seeds = search.EvalSeeds(o.Seeds, search.TrialSeeds(trials))
		p.Config.Goals = gs
		plans = append(plans, p)
	}
	return plans, nil
}

// presetPlans are the plans of an evaluation without a study: group
// summary.PresetsGroup.
func presetPlans(o *evaluateOptions) ([]search.EvalPlan, error) {
	setup := o.Setup
	if setup == "" {
		// The setup of the presets named in full (context/naive).
		for _, g := range o.Goals {
			p, ok := goals.Lookup(strings.TrimSpace(g), "")
			switch {
			case !ok:
			case setup == "":
				setup = p.Setup
			case setup != p.Setup:
				return nil, usagef("--goal presets of setups %s and %s: give --setup, or evaluate them separately", setup, p.Setup)
			}
		}
		if setup == "" {
			return nil, usagef("give a STUDY, or --setup (%s), or --goal with a preset named SETUP/NAME", setupNames())
		}
	}
	ts, err := trainer.ParseSetup(setup)
	if err != nil {
		return nil, usagef("--setup %q: not a setup (%s)", setup, setupNames())
	}
	layers := o.Layers
	if layers == 1 {
		layers = 0 // one layer is stored as 0, as before layers existed
	}
	net := setups.NetworkConfig{Setup: setup, Layers: layers, PerLayer: o.PerLayer}
	var gs []summary.EvalGoal
	if ts.TakesGoal() {
		if len(o.Goals) == 0 {
			return nil, usagef("--goal is required for setup %s without a STUDY (e.g. --goal %s/naive)", setup, setup)
		}
		if gs, err = parseEvalGoals(net, 0, o.Goals); err != nil {
			return nil, err
		}
	} else {
		if len(o.Goals) > 0 {
			return nil, usagef("--goal: setup %s is a baseline and takes no goal", setup)
		}
		if o.PerLayer {
			return nil, usagef("--goal-per-layer: setup %s is a baseline and takes no goal", setup)
		}
		gs = []summary.EvalGoal{{Name: setup, Trial: -1}}
	}
	hidden := o.Hidden
	if len(hidden) == 0 {
		hidden = []int{trainer.DefaultHidden}
	}
	epochs := o.Epochs
	if epochs == 0 {
		epochs = setups.PaperEpochs
	}
	// Networks of several layers are evaluated in studies of their own
	// group, so that they never join the one-layer presets' studies.
	group := summary.PresetsGroup
	if layers > 1 {
		group += fmt.Sprintf("-%dlayers", layers)
		if o.PerLayer {
			group += "-per-layer"
		}
	}
	var plans []search.EvalPlan
	for _, h := range hidden {
		net.Hidden, net.Epochs, net.Data, net.TrainLimit = h, epochs, o.Data, o.TrainLimit
		p, err := search.PlanForSetup(group, summary.KindEvaluate, net)
		if err != nil {
			return nil, usageError{err}
		}
		p.Config.Seeds = search.EvalSeeds(o.Seeds, nil)
		p.Config.Goals = gs
		plans = append(plans, p)
	}
	return plans, nil
}

// parseEvalGoals parses --goal values for a setup: presets keep their full
// name, vectors are named by what was typed.
func parseEvalGoals(net setups.NetworkConfig, dim int, specs []string) ([]summary.EvalGoal, error) {
	setup := net.Setup
	var out []summary.EvalGoal
	for _, spec := range specs {
		spec = strings.TrimSpace(spec)
		name := spec
		var g []float64
		var err error
		if setups.IsSynthetic(setup) {
			g, err = experiment.ParseVector(spec, dim)
		} else {
			g, err = goals.ParseNetwork(spec, net)
			if p, ok := goals.Lookup(spec, setup); ok {
				name = p.FullName()
			}
		}
		if err != nil {
			return nil, usagef("--goal %s: %v", spec, err)
		}
		out = append(out, summary.EvalGoal{Name: name, Gamma: g, Trial: -1})
	}
	return out, nil
}

// newEvaluator returns an evaluator that reports progress on ErrOut: a
// line when a study starts and one per finished run.
func newEvaluator(st store.Store, workers, threads int, stop chan struct{}, s streams) *search.Evaluator {
	if threads == 0 {
		threads = max(1, runtime.NumCPU()/workers)
	}
	host, _ := os.Hostname()
	p := &evalProgress{w: s.ErrOut}
	return &search.Evaluator{
		Store:    st,
		Threads:  threads,
		Options:  search.Options{Slots: workers, Stop: stop, Name: fmt.Sprintf("%s:%d", host, os.Getpid()), Observer: p.observe},
		Starting: p.starting,
	}
}

// evalProgress prints an evaluation's progress on standard error. Starting
// and the observer run one after the other (the observer on the driver's
// goroutine while Run runs), never at once.
type evalProgress struct {
	w     io.Writer
	study string
	cfg   summary.EvalConfig
	total int
}

func (p *evalProgress) starting(study store.Study, trials, finished int) {
	p.study, p.total = study.Name, trials
	p.cfg, _ = summary.ReadEvalConfig(study)
	fmt.Fprintf(p.w, "%s: %s of %s, %d done\n", study.Name, plural(trials, "run"), plural(p.cfg.Epochs, "epoch"), finished)
}

func (p *evalProgress) observe(e search.Event) {
	if e.Kind != search.TrialFinished {
		return
	}
	t := e.Trial
	name := fmt.Sprintf("goal %d", summary.GoalIndex(t))
	if i := summary.GoalIndex(t); i >= 0 && i < len(p.cfg.Goals) {
		name = p.cfg.Goals[i].Name
	}
	seed := 0
	for i, sd := range p.cfg.Seeds {
		if sd == t.Seed {
			seed = i + 1
		}
	}
	res := string(t.State) + ": " + t.Reason
	if t.State == store.Complete {
		res = fmt.Sprintf("val %.4f test %.4f", t.Final["val_acc"], t.Final["test_acc"])
	}
	fmt.Fprintf(p.w, "  [%d/%d] %s, seed %d: %s (%s)\n", e.Finished, p.total, name, seed, res, t.WallTime.Round(1e8))
}

func evalResult(res search.EvalResult, labels []string) evalJSON {
	cfg, _ := summary.ReadEvalConfig(res.Study)
	r := evalJSON{Study: res.Study.Name, Setup: cfg.Setup, Hidden: cfg.Hidden, Epochs: cfg.Epochs, Seeds: len(cfg.Seeds),
		Stopped: res.Summary.Stopped, labels: labels}
	for _, i := range res.Goals {
		r.Goals = append(r.Goals, res.Eval.Goals[i])
	}
	return r
}

func printEvals(s streams, out []evalJSON, asJSON bool) error {
	stopped := len(out) > 0 && out[len(out)-1].Stopped
	if stopped {
		fmt.Fprintln(s.ErrOut, "stopped; run the same command to resume")
	}
	if asJSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if out == nil {
			out = []evalJSON{}
		}
		return enc.Encode(out)
	}
	for i, r := range out {
		if i > 0 {
			fmt.Fprintln(s.Out)
		}
		fmt.Fprintf(s.Out, "%s (%s, %s)\n", r.Study, plural(r.Seeds, "seed"), plural(r.Epochs, "epoch"))
		if err := printGoalTable(s.Out, r.Goals); err != nil {
			return err
		}
	}
	return nil
}

// printGoalTable prints the statistics of goals over their seeds.
func printGoalTable(w io.Writer, gs []summary.GoalResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "goal\truns\tval mean\tstd\tmedian\tmin-max\ttest mean\tstd\tmedian\tmin-max")
	for _, g := range gs {
		runs := fmt.Sprintf("%d/%d", g.Complete, g.Total)
		if g.Failed > 0 {
			runs += fmt.Sprintf(" (%d failed)", g.Failed)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Goal.Name, runs, statCols(g.Val), statCols(g.Test))
	}
	return tw.Flush()
}

func statCols(st summary.Sample) string {
	if st.N == 0 {
		return "-\t-\t-\t-"
	}
	return fmt.Sprintf("%.4f\t%.4f\t%.4f\t%.4f-%.4f", st.Mean, std(st), st.Median, st.Min, st.Max)
}

// std is a sample's standard deviation as tables print it: 0 for a single
// value, as in the JSON output.
func std(s summary.Sample) float64 {
	if s.N < 2 {
		return 0
	}
	return s.Std
}

// plural writes n and a noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
