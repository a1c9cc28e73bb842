package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"goalsearch/experiment"
	"goalsearch/search"
	"goalsearch/setups"
	"goalsearch/trainer"
	"goalsearch/trainer/dataset"
	"goalsearch/trainer/goals"
)

type trainOptions struct {
	Setup      string
	Goal       string
	Hidden     int
	Layers     int
	PerLayer   bool
	Epochs     int
	Seed       uint64
	Data       string
	Threads    int
	Batch      int
	TrainLimit int
	EvalLimit  int
	FanIn      int
	JSON       bool
	// NeuronAtoms keeps every neuron's atoms in the JSON output; they make
	// it about a hundred times larger, so they are left out by default.
	NeuronAtoms bool

	// File is an experiment file whose network is trained (-f); Args are
	// key=value overrides of it. Flags that were given override both.
	File    string
	Args    []string
	changed func(flag string) bool

	// progressTTY says whether ErrOut is a terminal (a live progress bar)
	// or not (one line per epoch). Set by the command from the stream;
	// tests set it directly.
	progressTTY bool
}

func newTrainCmd(s streams) *cobra.Command {
	opts := &trainOptions{}
	cmd := &cobra.Command{
		Use:   "train --setup SETUP [--goal GOAL] [flags]",
		Short: "Train one network on MNIST and report accuracy per epoch",
		Long: `train runs one network of the paper with the reference implementation's
protocol: epoch 0 only evaluates the initial network, every later epoch
trains on minibatches of the training images (shuffled each epoch), then
evaluates on the validation images (20 % of the training set, split by the
seed) and the test images, with the label withheld.

The setups that learn PID goals need --goal: a preset ('goalsearch goals'
lists them; 'naive' is the paper's heuristic), comma-separated weights in
goal order, or a YAML file:

` + setupList(setups.Infomorphic) + `
The baselines take no goal:

` + setupList(setups.Baseline) + `
Accuracies are means of per-minibatch accuracies, as the reference reports
them (--json also has the plain fractions). The training accuracy is measured
with the label given as context. Ctrl-C stops after printing the epochs that
finished.`,
		Example: `  goalsearch train --setup context --goal naive --epochs 3
  goalsearch train -f docs/examples/joint.yaml network.hidden_layer.adam.lr=0.004 --goal context-lateral/naive
  goalsearch train --setup context-lateral --goal opt_1_100_tpe --hidden 100 --threads 2
  goalsearch train --setup context-lateral --goal opt_1_100_tpe --layers 2 --epochs 20
  goalsearch train --setup backprop --train-limit 2000 --eval-limit 1000 --json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			opts.changed = func(f string) bool { return cmd.Flags().Changed(f) }
			opts.progressTTY = isTerminal(s.ErrOut)
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				// After the first Ctrl-C the run winds down; a second one
				// kills the process as usual.
				<-ctx.Done()
				stop()
			}()
			return runTrain(ctx, opts, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Setup, "setup", "", "network: "+setupNames())
	f.StringVarP(&opts.File, "file", "f", "", "an experiment file (docs/experiments.md): train its network, with its first enqueued goal unless --goal is given; flags and KEY=VALUE arguments override it")
	f.StringVar(&opts.Goal, "goal", "", "hidden-layer goal: preset, comma-separated weights, or YAML file")
	f.IntVar(&opts.Hidden, "hidden", trainer.DefaultHidden, "hidden neurons")
	f.IntVar(&opts.Layers, "layers", 1, "hidden layers, stacked (docs/layers.md)")
	f.BoolVar(&opts.PerLayer, "goal-per-layer", false, "with --layers N > 1: --goal gives each hidden layer its own goal (N goals' weights comma-separated, layer 1 first); a preset or a single goal is given to every layer")
	f.IntVar(&opts.Epochs, "epochs", trainer.DefaultEpochs, "training epochs after the initial evaluation (epoch 0)")
	f.Uint64Var(&opts.Seed, "seed", 30, "seed of every random stream (split, weights, sampling, shuffling)")
	f.StringVar(&opts.Data, "data", "", "directory of MNIST IDX files (default: $"+dataset.EnvData+", else the GoMNIST module cache)")
	f.IntVar(&opts.Threads, "threads", runtime.GOMAXPROCS(0), "threads per layer for the PID engine (results do not depend on it)")
	f.IntVar(&opts.Batch, "batch", trainer.DefaultBatchSize, "minibatch size (changes the PID estimates, not only speed)")
	f.IntVar(&opts.TrainLimit, "train-limit", 0, "use only the first N training images (quick runs; 0 = all)")
	f.IntVar(&opts.EvalLimit, "eval-limit", 0, "use only the first N validation and N test images (0 = all)")
	f.IntVar(&opts.FanIn, "lateral-fanin", 0, "connect each hidden neuron's lateral input to only K other neurons, chosen by the seed (0 = all)")
	f.BoolVar(&opts.JSON, "json", false, "print JSON for scripts")
	f.BoolVar(&opts.NeuronAtoms, "neuron-atoms", false, "with --json: include every neuron's mean atoms per epoch")
	return cmd
}

// setupNames lists the network setups, for flags and errors.
func setupNames() string {
	return strings.Join(setups.Names(setups.Infomorphic, setups.Baseline), ", ")
}

// setupList describes the registry's setups of the given kinds for a help
// text: one per line, name and summary, wrapped to 80 columns.
func setupList(kinds ...setups.Kind) string {
	list := setups.Of(kinds...)
	width := 0
	for _, s := range list {
		width = max(width, len(s.Name))
	}
	var b strings.Builder
	for _, s := range list {
		b.WriteString(hangingIndent(fmt.Sprintf("  %-*s  ", width, s.Name), s.Summary, 80))
	}
	return b.String()
}

// wrap fills a paragraph to 80 columns.
func wrap(text string) string { return strings.TrimSuffix(hangingIndent("", text, 80), "\n") }

// hangingIndent writes text after head, wrapped at width columns, every
// line after the first indented as far as head is long.
func hangingIndent(head, text string, width int) string {
	var b strings.Builder
	b.WriteString(head)
	col := len(head)
	for i, w := range strings.Fields(text) {
		if i > 0 && col+1+len(w) > width {
			b.WriteString("\n" + strings.Repeat(" ", len(head)))
			col = len(head)
		} else if i > 0 {
			b.WriteString(" ")
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	b.WriteString("\n")
	return b.String()
}

// trainReport is what the command prints, and its JSON form.
type trainReport struct {
	Setup           string                 `json:"setup"`
	Goal            []float64              `json:"goal,omitempty"`
	GoalLabels      []string               `json:"goal_labels,omitempty"`
	Hidden          int                    `json:"hidden"`
	Layers          int                    `json:"layers,omitempty"` // hidden layers, when more than 1
	Epochs          int                    `json:"epochs"`
	Batch           int                    `json:"batch"`
	Seed            uint64                 `json:"seed"`
	Threads         int                    `json:"threads"`
	Data            trainData              `json:"data"`
	BatchesPerEpoch int                    `json:"batches_per_epoch"`
	Metrics         []trainer.EpochMetrics `json:"metrics"`
	// Interrupted says the run was stopped (Ctrl-C) before its last epoch.
	Interrupted bool `json:"interrupted"`
	// Error is the error that ended the run early, if any.
	Error string `json:"error,omitempty"`
}

type trainData struct {
	Source string `json:"source"`
	Train  int    `json:"train"`
	Val    int    `json:"val"`
	Test   int    `json:"test"`
}

// trainConfig checks the options that do not need the data and turns them
// into a trainer.Config. Every error is a usage error.
func trainConfig(opts *trainOptions) (trainer.Config, []string, error) {
	if opts.File != "" || len(opts.Args) > 0 {
		return trainExperiment(opts)
	}
	if opts.Setup == "" {
		return trainer.Config{}, nil, usagef("--setup is required (%s)", setupNames())
	}
	setup, err := trainer.ParseSetup(opts.Setup)
	if err != nil {
		return trainer.Config{}, nil, usagef("--setup %q: not a setup (%s)", opts.Setup, setupNames())
	}
	if opts.Layers == 0 && (opts.changed == nil || !opts.changed("layers")) {
		opts.Layers = 1 // options built in code, without the flag's default
	}
	cfg := trainer.Config{
		Setup: setup, Seed: opts.Seed, Hidden: opts.Hidden, Epochs: opts.Epochs, BatchSize: opts.Batch,
		TrainLimit: opts.TrainLimit, ValLimit: opts.EvalLimit, TestLimit: opts.EvalLimit, Threads: opts.Threads,
		LateralFanIn: opts.FanIn, Layers: opts.Layers,
	}
	switch {
	case opts.Hidden < 1:
		return cfg, nil, usagef("--hidden %d: want at least 1", opts.Hidden)
	case opts.Layers < 1 || opts.Layers > trainer.MaxLayers:
		return cfg, nil, usagef("--layers %d: want 1 to %d hidden layers", opts.Layers, trainer.MaxLayers)
	case opts.Epochs < 0:
		return cfg, nil, usagef("--epochs %d: want 0 or more", opts.Epochs)
	case opts.Batch < 1:
		return cfg, nil, usagef("--batch %d: want at least 1", opts.Batch)
	case opts.Threads < 1:
		return cfg, nil, usagef("--threads %d: want at least 1", opts.Threads)
	case opts.TrainLimit < 0:
		return cfg, nil, usagef("--train-limit %d: want 0 (all) or a positive number of images", opts.TrainLimit)
	case opts.EvalLimit < 0:
		return cfg, nil, usagef("--eval-limit %d: want 0 (all) or a positive number of images", opts.EvalLimit)
	case opts.FanIn < 0 || opts.FanIn >= opts.Hidden:
		return cfg, nil, usagef("--lateral-fanin %d: want 0 (all) or 1 to %d (fewer than --hidden)", opts.FanIn, opts.Hidden-1)
	}
	if opts.Epochs == 0 {
		cfg.Epochs = -1 // Config's 0 means the default; the flag's 0 means epoch 0 only
	}
	net := setups.NetworkConfig{Setup: string(setup), Layers: opts.Layers, PerLayer: opts.PerLayer}
	if opts.PerLayer && opts.Layers < 2 {
		return cfg, nil, usagef("--goal-per-layer: needs --layers 2 or more (--layers %d)", opts.Layers)
	}
	var labels []string
	if setup.TakesGoal() {
		if strings.TrimSpace(opts.Goal) == "" {
			l, _ := goals.Labels(string(setup))
			return cfg, nil, usagef("--goal is required for setup %s: a preset ('goalsearch goals'), or %d weights in this order: %s", setup, len(l), strings.Join(l, " "))
		}
		if cfg.Goal, err = goals.ParseNetwork(opts.Goal, net); err != nil {
			return cfg, nil, usageError{err}
		}
		labels, _ = goals.NetworkLabels(net)
	} else if opts.PerLayer {
		return cfg, nil, usagef("--goal-per-layer: setup %s is a baseline and takes no goal", setup)
	} else if opts.Goal != "" {
		return cfg, nil, usagef("--goal: setup %s is a baseline and takes no goal", setup)
	}
	return cfg, labels, nil
}

func runTrain(ctx context.Context, opts *trainOptions, s streams) error {
	cfg, labels, err := trainConfig(opts)
	if err != nil {
		return err
	}
	data, err := dataset.Load(opts.Data, nil)
	if err != nil {
		return err
	}
	tr, err := trainer.New(cfg, data)
	if err != nil {
		return err
	}
	defer tr.Close()
	eff := tr.Config()
	rep := trainReport{
		Setup: string(cfg.Setup), Goal: cfg.Goal, GoalLabels: labels, Hidden: eff.Hidden, Layers: layersOver1(eff.NumLayers()),
		Epochs: max(0, cfg.Epochs), Batch: eff.BatchSize, Seed: cfg.Seed, Threads: eff.Threads,
		BatchesPerEpoch: tr.BatchesPerEpoch(),
	}
	rep.Data.Source = data.Source
	rep.Data.Train, rep.Data.Val, rep.Data.Test = tr.Sizes()

	fmt.Fprintf(s.ErrOut, "training %s%s: %s, %d/%d/%d train/val/test images from %s, batch %d, seed %d, %d threads\n",
		rep.Setup, goalSummary(opts.Goal, rep.Goal), hiddenSummary(rep.Hidden, eff.NumLayers()), rep.Data.Train, rep.Data.Val, rep.Data.Test, rep.Data.Source, rep.Batch, rep.Seed, rep.Threads)
	if p, ok := goals.Lookup(strings.TrimSpace(opts.Goal), string(cfg.Setup)); ok && p.Discovered != nil {
		// So that a user re-running a discovered goal can check its published number.
		fmt.Fprintf(s.ErrOut, "%s: %s\n", p.FullName(), p.Discovered.Describe())
	}
	var prog progressReporter
	if opts.progressTTY {
		prog = newBarProgress(s.ErrOut, tr, rep.Epochs)
	} else {
		prog = &lineProgress{w: s.ErrOut, last: rep.Epochs}
	}
	tr.OnProgress(prog.progress)
	runErr := tr.Run(ctx, func(m trainer.EpochMetrics) error {
		prog.epochDone(m)
		return nil
	})
	prog.finish()
	rep.Metrics = tr.Metrics()
	if !opts.NeuronAtoms {
		for i := range rep.Metrics {
			rep.Metrics[i].HiddenNeuronAtoms, rep.Metrics[i].OutputNeuronAtoms = nil, nil
		}
	}
	if runErr != nil {
		rep.Interrupted = errors.Is(runErr, context.Canceled)
		rep.Error = runErr.Error()
		if rep.Interrupted {
			runErr = fmt.Errorf("interrupted after %d of %d epochs (epoch 0 included)", len(rep.Metrics), rep.Epochs+1)
		}
	}
	if opts.JSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if len(rep.Metrics) > 0 {
		if err := printTrain(s.Out, &rep); err != nil {
			return err
		}
	}
	return runErr
}

// layersOver1 is n for the report's layers field, 0 (left out) for one
// layer, so that one-layer reports read as before layers existed.
func layersOver1(n int) int {
	if n == 1 {
		return 0
	}
	return n
}

// hiddenSummary describes the hidden layers for the header line.
func hiddenSummary(hidden, layers int) string {
	if layers == 1 {
		return fmt.Sprintf("%d hidden", hidden)
	}
	return fmt.Sprintf("%d hidden layers of %d", layers, hidden)
}

// goalSummary describes the goal for the header line: the numbers, and the
// preset or file they came from.
func goalSummary(spec string, g []float64) string {
	if g == nil {
		return ""
	}
	parts := make([]string, len(g))
	for i, v := range g {
		parts[i] = fmt.Sprintf("%g", v)
	}
	from := ""
	if !strings.Contains(spec, ",") {
		from = strings.TrimSpace(spec) + ": "
	}
	return " (goal " + from + strings.Join(parts, " ") + ")"
}

func printTrain(w io.Writer, r *trainReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "epoch\tloss\thidden loss\toutput loss\ttrain acc*\tval acc\ttest acc\ttrain s\tval s\ttest s\t")
	for _, m := range r.Metrics {
		fmt.Fprintf(tw, "%d\t%.3f\t%.3f\t%.3f\t%.4f\t%.4f\t%.4f\t%.1f\t%.1f\t%.1f\t\n", m.Epoch, m.TrainLoss, m.HiddenLoss, m.OutputLoss,
			m.TrainAccWithLabel.BatchMean, m.Val.BatchMean, m.Test.BatchMean, m.TrainSeconds, m.ValSeconds, m.TestSeconds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "* with the label as context; accuracies are means of per-batch accuracies, as the reference reports them; epoch 0 takes no update")
	return err
}

// A progressReporter shows a run's progress on the error stream.
type progressReporter interface {
	progress(trainer.Progress) // after every minibatch
	epochDone(trainer.EpochMetrics)
	finish()
}

// lineProgress prints one line per epoch: for logs and pipes.
type lineProgress struct {
	w    io.Writer
	last int
}

func (p *lineProgress) progress(trainer.Progress) {}

func (p *lineProgress) epochDone(m trainer.EpochMetrics) {
	fmt.Fprintf(p.w, "epoch %d/%d: loss %.3f, train acc* %.4f, val acc %.4f, test acc %.4f (%.1f s)\n",
		m.Epoch, p.last, m.TrainLoss, m.TrainAccWithLabel.BatchMean, m.Val.BatchMean, m.Test.BatchMean, m.TrainSeconds+m.ValSeconds+m.TestSeconds)
}

func (p *lineProgress) finish() {}

// barProgress draws one mpb bar per epoch counting every minibatch of the
// epoch (training, validation, test), with the phase, the running training
// accuracy, the validation accuracy (the previous epoch's while running, its
// own once done) and the ETA.
type barProgress struct {
	p        *mpb.Progress
	last     int
	perEpoch int
	bar      *mpb.Bar
	state    *barState
	epoch    int
	lastVal  float64
	hasVal   bool
}

// barState is what one bar's decorator shows; the decorator runs on mpb's
// goroutine, hence the mutex.
type barState struct {
	mu      sync.Mutex
	phase   trainer.Phase
	running float64
	val     float64
	valSet  bool
	done    bool
}

func (st *barState) String() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := fmt.Sprintf("train acc* %.3f", st.running)
	switch {
	case st.done:
		s += fmt.Sprintf("  val acc %.3f", st.val)
	case st.valSet:
		s = fmt.Sprintf("%-5s %s  last val acc %.3f", st.phase, s, st.val)
	default:
		s = fmt.Sprintf("%-5s %s", st.phase, s)
	}
	return s
}

func newBarProgress(w io.Writer, tr *trainer.Trainer, last int) *barProgress {
	_, val, test := tr.Sizes()
	b := tr.Config().BatchSize
	return &barProgress{
		p:        mpb.New(mpb.WithOutput(w), mpb.WithWidth(32)),
		last:     last,
		perEpoch: tr.BatchesPerEpoch() + (val+b-1)/b + (test+b-1)/b,
		epoch:    -1,
	}
}

func (b *barProgress) progress(p trainer.Progress) {
	if p.Epoch != b.epoch {
		b.epoch = p.Epoch
		st := &barState{val: b.lastVal, valSet: b.hasVal}
		b.state = st
		b.bar = b.p.AddBar(int64(b.perEpoch),
			mpb.PrependDecorators(
				decor.Name(fmt.Sprintf("epoch %d/%d", p.Epoch, b.last), decor.WC{C: decor.DSyncSpaceR}),
				decor.CountersNoUnit("%d/%d", decor.WC{C: decor.DSyncSpaceR}),
			),
			mpb.AppendDecorators(
				decor.Any(func(decor.Statistics) string { return st.String() }, decor.WC{C: decor.DSyncSpaceR}),
				decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO), "done"),
			),
		)
	}
	b.state.mu.Lock()
	b.state.phase, b.state.running = p.Phase, p.TrainAcc
	b.state.mu.Unlock()
	b.bar.Increment()
}

func (b *barProgress) epochDone(m trainer.EpochMetrics) {
	b.lastVal, b.hasVal = m.Val.BatchMean, true
	if b.state != nil {
		b.state.mu.Lock()
		b.state.val, b.state.done = m.Val.BatchMean, true
		b.state.mu.Unlock()
	}
}

func (b *barProgress) finish() {
	if b.bar != nil && !b.bar.Completed() {
		b.bar.Abort(false)
	}
	b.p.Wait()
}

// isTerminal reports whether w is a character device (a terminal), without a
// dependency: pipes, files and test buffers are not.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// trainExperiment is trainConfig for -f: the experiment's network, read
// and checked as search reads it, with the flags that were given as
// overrides of it.
func trainExperiment(opts *trainOptions) (trainer.Config, []string, error) {
	changed := func(f string) bool { return opts.changed != nil && opts.changed(f) }
	var ovs []experiment.Override
	set := func(flag, path, value string) {
		if changed(flag) {
			ovs = append(ovs, experiment.Override{Path: path, Value: value, Flag: flag})
		}
	}
	set("setup", "network.setup", strconv.Quote(opts.Setup))
	set("hidden", "network.hidden", strconv.Itoa(opts.Hidden))
	set("epochs", "network.epochs", strconv.Itoa(opts.Epochs))
	set("batch", "network.batch", strconv.Itoa(opts.Batch))
	set("data", "network.data", strconv.Quote(opts.Data))
	set("train-limit", "network.train_limit", strconv.Itoa(opts.TrainLimit))
	set("lateral-fanin", "network.lateral_fanin", strconv.Itoa(opts.FanIn))
	set("layers", "network.layers", strconv.Itoa(opts.Layers))
	set("goal-per-layer", "network.goal_per_layer", strconv.FormatBool(opts.PerLayer))
	for _, a := range opts.Args {
		ov, err := experiment.ParseOverride(a)
		if err != nil {
			return trainer.Config{}, nil, usagef("%v", err)
		}
		ovs = append(ovs, ov)
	}
	var file []byte
	if opts.File != "" {
		b, err := os.ReadFile(opts.File)
		if err != nil {
			return trainer.Config{}, nil, usagef("-f %s: %v", opts.File, err)
		}
		file = b
	}
	e, err := experiment.Load(file, ovs)
	if err != nil {
		return trainer.Config{}, nil, usageError{err}
	}
	n := e.Network
	if n.Setup == "" || setups.IsSynthetic(n.Setup) {
		return trainer.Config{}, nil, usagef("network.setup %q: want a network (%s)", n.Setup, setupNames())
	}
	if err := experiment.CheckNetwork(n); err != nil {
		return trainer.Config{}, nil, usageError{err}
	}
	cfg, err := search.TrainerConfig(n)
	if err != nil {
		return cfg, nil, usageError{err}
	}
	cfg.Seed, cfg.Threads, cfg.ValLimit, cfg.TestLimit = opts.Seed, opts.Threads, opts.EvalLimit, opts.EvalLimit
	opts.Data = n.Data
	if opts.Threads < 1 || opts.EvalLimit < 0 {
		return cfg, nil, usagef("--threads %d, --eval-limit %d: want at least 1 thread and a non-negative limit", opts.Threads, opts.EvalLimit)
	}
	var labels []string
	if cfg.Setup.TakesGoal() {
		spec := opts.Goal
		if spec == "" && len(e.Enqueue) > 0 {
			spec = e.Enqueue[0]
		}
		if spec == "" {
			return cfg, nil, usagef("--goal is required (or enqueue: in the experiment file) for setup %s", cfg.Setup)
		}
		opts.Goal = spec
		if cfg.Goal, err = goals.ParseNetwork(spec, n); err != nil {
			return cfg, nil, usageError{err}
		}
		labels, _ = goals.NetworkLabels(n)
	} else if opts.Goal != "" {
		return cfg, nil, usagef("--goal: setup %s is a baseline and takes no goal", cfg.Setup)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, usageError{err}
	}
	return cfg, labels, nil
}
