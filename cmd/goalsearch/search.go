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

	"goalsearch/search"
	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/trainer"
	"goalsearch/trainer/goals"
)

type searchOptions struct {
	Study, Store  string
	Setup         string
	Dim           int
	Sampler       string
	SamplerConfig string
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
	Data          string
	TrainLimit    int
	FanIn         int
	Lease         time.Duration
	JSON          bool

	changed func(flag string) bool // whether a flag was given
}

// definitionFlags are the flags that define a study; resuming a study needs
// none of them, and giving one that differs from the stored study is an
// error.
var definitionFlags = []string{"setup", "dim", "sampler", "sampler-config", "pruner", "pruner-config", "epochs", "seed",
	"unit-norm", "fix", "bounds", "noise", "sleep", "hidden", "data", "train-limit", "lateral-fanin"}

func newSearchCmd(s streams) *cobra.Command {
	o := &searchOptions{}
	cmd := &cobra.Command{
		Use:   "search --study NAME --setup SETUP [flags]",
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
Ctrl-C once stops after the running trials' current epoch (they continue
from there next time); twice aborts them.`,
		Example: `  goalsearch search --study demo --setup sphere --dim 5 --sampler cmaes --trials 60 --workers 2
  goalsearch search --study ctxlat --setup context-lateral --sampler cmaes --trials 8 --epochs 2 --workers 2
  goalsearch search --study ctxlat --trials 16     # resume with a larger budget`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.changed = func(f string) bool { return cmd.Flags().Changed(f) }
			return runSearch(cmd.Context(), o, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Study, "study", "", "the study's name (required)")
	addStoreFlag(cmd, &o.Store)
	f.StringVar(&o.Setup, "setup", "", "what each trial trains: a network setup or a synthetic function")
	f.IntVar(&o.Dim, "dim", 5, "number of coordinates of a synthetic setup")
	f.StringVar(&o.Sampler, "sampler", "cmaes", strings.Join(search.Samplers(), ", "))
	f.StringVar(&o.SamplerConfig, "sampler-config", "", "the sampler's settings as JSON")
	f.StringVar(&o.Pruner, "pruner", "none", strings.Join(search.Pruners(), ", ")+" (with a pruner, TPE is asked asynchronously)")
	f.StringVar(&o.PrunerConfig, "pruner-config", "", `the pruner's settings as JSON, e.g. {"min_epochs":2,"eta":3}`)
	f.IntVar(&o.Trials, "trials", 20, "finished trials the study should have (a resumed study goes on to this number)")
	f.IntVar(&o.Epochs, "epochs", 0, fmt.Sprintf("epochs per trial (default: %d for networks, 1 for synthetic setups)", setups.PaperEpochs))
	f.IntVar(&o.Workers, "workers", 1, "trials in flight in this process; also the points per generation of tpe, random and sobol")
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
	f.StringVar(&o.Data, "data", "", "network setups: directory with an IDX data set (default MNIST from the Go module cache)")
	f.IntVar(&o.TrainLimit, "train-limit", 0, "network setups: use only the first N training images (quick runs)")
	f.IntVar(&o.FanIn, "lateral-fanin", 0, "network setups: lateral partners per hidden neuron (0 = all)")
	f.DurationVar(&o.Lease, "lease", 0, "PostgreSQL stores: how long a trial stays leased without a heartbeat (default 1m); the same as the workers'")
	f.BoolVar(&o.JSON, "json", false, "print the summary as JSON")
	return cmd
}

func runSearch(ctx context.Context, o *searchOptions, s streams) error {
	if o.Study == "" {
		return usagef("--study is required")
	}
	if o.Workers < 1 || o.Trials < 1 {
		return usagef("--workers %d, --trials %d: want at least 1 worker and a budget of at least 1 trial (stop a run early with --time or Ctrl-C)", o.Workers, o.Trials)
	}
	if err := checkSearchFlags(o); err != nil {
		return err
	}
	if o.Threads == 0 {
		o.Threads = max(1, runtime.NumCPU()/o.Workers)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStoreLease(o.Store, false, o.Lease)
	if err != nil {
		return err
	}
	defer st.Close()

	study, err := st.Study(ctx, o.Study)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrStudyNotFound) {
		return err
	}
	if !exists && o.Setup == "" {
		return usagef("study %q does not exist yet: --setup is required to create it", o.Study)
	}
	var known [][]float64
	if !exists || anyChanged(o) {
		def, err := defineStudy(o)
		if err != nil {
			return err
		}
		study = def
	}
	if known, err = parseKnown(study, o.Enqueue); err != nil {
		return err
	}
	first := 0 // the first of known not in the store yet
	if exists && len(known) > 0 {
		if first, err = enqueuedBefore(ctx, st, study.Name, known); err != nil {
			return err
		}
	}
	// Build everything the study needs before storing it, so that bad flags
	// never leave a study behind.
	obj, err := search.NewObjective(study.Setup, o.Threads)
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
	if !exists || anyChanged(o) {
		if study, err = st.CreateStudy(ctx, study); err != nil {
			return fmt.Errorf("%w (to resume the study, give only --study and budget flags)", err)
		}
	}
	for i := first; i < len(known); i++ {
		if _, err := st.EnqueueTrial(ctx, study.Name, store.NewTrial{Gamma: known[i], Seed: search.TrialSeed(study.Seed, 0, i)}); err != nil {
			return err
		}
	}

	// Ctrl-C once: stop softly; twice: abort.
	ctx, stop, release := interruptible(ctx, s, "running trials stop after their current epoch and resume next time")
	defer release()

	host, _ := os.Hostname()
	prog := newSearchProgress(s, study, o.Trials)
	sum, err := runDriver(ctx, st, study.Name, obj, smp, search.Options{
		Slots: o.Workers, Trials: o.Trials, Time: o.Time, Stop: stop,
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

// defineStudy builds the study definition from the flags.
func defineStudy(o *searchOptions) (store.Study, error) {
	def := store.Study{
		Name:      o.Study,
		Objective: store.Objective{Metric: "val_acc", Direction: store.Maximize},
		Sampler:   store.SamplerConfig{Name: o.Sampler, Config: rawJSON(o.SamplerConfig)},
		Seed:      o.Seed,
	}
	if o.Pruner != "none" {
		def.Pruner = store.PrunerConfig{Name: o.Pruner, Config: rawJSON(o.PrunerConfig)}
	} else if o.PrunerConfig != "" {
		return def, usagef("--pruner-config %s: the none pruner takes no settings (give --pruner %s)", o.PrunerConfig, strings.Join(search.Pruners(), " or "))
	}
	if len(o.Bounds) != 2 || !(o.Bounds[0] < o.Bounds[1]) {
		return def, usagef("--bounds %v: want lower,upper with lower < upper", o.Bounds)
	}
	var labels []string
	switch {
	case setups.IsSynthetic(o.Setup):
		epochs := max(o.Epochs, 1)
		cfg := setups.SyntheticConfig{Dim: o.Dim, Epochs: epochs, Noise: o.Noise, Sleep: o.Sleep}
		if o.Dim < 1 {
			return def, usagef("--dim %d: want at least 1", o.Dim)
		}
		b, _ := json.Marshal(cfg)
		def.Setup = store.Setup{Name: o.Setup, Config: b}
		for i := 1; i <= o.Dim; i++ {
			labels = append(labels, fmt.Sprintf("x%d", i))
		}
	default:
		l, err := goals.Labels(o.Setup)
		if err != nil {
			return def, usagef("--setup %q: want one of %s, or a synthetic setup (%s)", o.Setup, strings.Join(goals.Setups(), ", "), strings.Join(setups.Names(setups.Synthetic), ", "))
		}
		labels = l
		epochs := o.Epochs
		if epochs == 0 {
			epochs = setups.PaperEpochs
		}
		cfg := setups.NetworkConfig{Setup: o.Setup, Hidden: o.Hidden, Epochs: epochs, Data: o.Data, TrainLimit: o.TrainLimit, FanIn: o.FanIn}
		b, _ := json.Marshal(cfg)
		def.Setup = store.Setup{Name: o.Setup, Config: b}
	}
	def.Space = store.SearchSpace{Labels: labels, UnitNorm: o.UnitNorm}
	for range labels {
		def.Space.Lower = append(def.Space.Lower, o.Bounds[0])
		def.Space.Upper = append(def.Space.Upper, o.Bounds[1])
	}
	fix := o.Fix
	if fix == nil && !setups.IsSynthetic(o.Setup) && len(labels) == 19 {
		fix = []string{"H_res=0"} // the paper's trivariate search
	}
	for _, f := range fix {
		l, v, ok := strings.Cut(f, "=")
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return def, usagef("--fix %q: want LABEL=VALUE, e.g. H_res=0", f)
		}
		found := false
		for _, lab := range labels {
			found = found || lab == strings.TrimSpace(l)
		}
		if !found {
			return def, usagef("--fix %q: no atom %q; the atoms are %s", f, l, strings.Join(labels, " "))
		}
		if def.Space.Fixed == nil {
			def.Space.Fixed = map[string]float64{}
		}
		def.Space.Fixed[strings.TrimSpace(l)] = x
	}
	return def, nil
}

func rawJSON(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// parseKnown parses the --enqueue goals, which a new study evaluates first
// (generation 0; the sampler does not learn from them).
// enqueuedBefore checks --enqueue against an existing study, so that the
// command that created a study also resumes it: the goals enqueued then
// (generation 0, trials 0, 1, ...) must be the first of known. It returns
// how many of known are in the store already; the rest are enqueued if
// the study was interrupted while its goals were being enqueued, before
// any sampler proposal.
func enqueuedBefore(ctx context.Context, st store.Store, study string, known [][]float64) (int, error) {
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
		if n >= len(known) || !slices.Equal(t.Gamma, known[n]) {
			return 0, usagef("--enqueue: study %q was created with other enqueued goals (trial %d is %v); to resume it, give the same --enqueue goals or none", study, t.Number, t.Gamma)
		}
		n++
	}
	if n < len(known) && proposed {
		return 0, usagef("--enqueue: study %q has %d enqueued goals and sampler proposals already; more goals can only be enqueued when a study is created", study, n)
	}
	return n, nil
}

func parseKnown(study store.Study, specs []string) ([][]float64, error) {
	var out [][]float64
	for _, spec := range specs {
		var g []float64
		var err error
		if setups.IsSynthetic(study.Setup.Name) {
			g, err = parseVector(spec, study.Space.Dim())
		} else {
			g, err = goals.Parse(spec, study.Setup.Name)
		}
		if err != nil {
			return nil, usagef("--enqueue %s: %v", spec, err)
		}
		out = append(out, g)
	}
	return out, nil
}

func parseVector(spec string, dim int) ([]float64, error) {
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
	}
	return nil
}

func formatGoal(labels []string, g []float64) string {
	parts := make([]string, len(g))
	for i := range g {
		parts[i] = fmt.Sprintf("%s %+.3f", labels[i], g[i])
	}
	return strings.Join(parts, "  ")
}
