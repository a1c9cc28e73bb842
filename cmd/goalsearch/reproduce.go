package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"goalsearch/search"
	"goalsearch/setups"
)

type reproduceOptions struct {
	Store      string
	Hidden     []int
	Seeds      int
	Epochs     int
	Workers    int
	Threads    int
	Data       string
	TrainLimit int
	JSON       bool
}

func newReproduceCmd(s streams) *cobra.Command {
	o := &reproduceOptions{}
	cmd := &cobra.Command{
		Use:   "reproduce [--hidden 100] [--seeds 2] [--epochs 5] [flags]",
		Short: "Run the paper's MNIST comparison: every setup's heuristic and optimised goals and the baselines",
		Long: `reproduce trains what the paper's MNIST figure compares, for every hidden
size: every setup with its heuristic (naive) and published optimised goals,
and the baselines; every run records validation and test accuracy:

` + reproduceList() + "\n" + wrap(`The runs are stored as evaluation studies presets/reproduce/SETUP/hHIDDEN;
reports show them beside the paper's published values. The defaults are
small enough for a laptop (the paper: `+fmt.Sprintf("%d epochs, %d seeds, hidden sizes %d to %d", setups.PaperEpochs, setups.PaperSeeds, setups.PaperHiddenSizes[0], setups.PaperHiddenSizes[len(setups.PaperHiddenSizes)-1])+`).
Run the command again to resume; more seeds are added to the same
studies.`),
		Example: `  goalsearch reproduce
  goalsearch reproduce --hidden 50,100,500 --seeds 3 --epochs 10 --workers 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReproduce(cmd.Context(), o, s)
		},
	}
	f := cmd.Flags()
	addStoreFlag(cmd, &o.Store)
	f.IntSliceVar(&o.Hidden, "hidden", []int{100}, "hidden sizes, e.g. 50,100,500")
	f.IntVar(&o.Seeds, "seeds", 2, "seeds per goal")
	f.IntVar(&o.Epochs, "epochs", 5, fmt.Sprintf("epochs per run (the paper: %d)", setups.PaperEpochs))
	addRunFlags(cmd, &o.Workers, &o.Threads)
	f.StringVar(&o.Data, "data", "", "directory with an IDX data set (default MNIST from the Go module cache)")
	f.IntVar(&o.TrainLimit, "train-limit", 0, "use only the first N training images (quick runs)")
	f.BoolVar(&o.JSON, "json", false, "print the results as JSON")
	return cmd
}

func runReproduce(ctx context.Context, o *reproduceOptions, s streams) error {
	if o.Seeds < 1 || o.Epochs < 1 || o.Workers < 1 || len(o.Hidden) == 0 {
		return usagef("--seeds %d, --epochs %d, --workers %d, --hidden %v: want at least 1 of each", o.Seeds, o.Epochs, o.Workers, o.Hidden)
	}
	if o.Threads < 0 || o.TrainLimit < 0 {
		return usagef("--threads %d, --train-limit %d: want 0 (the default) or more", o.Threads, o.TrainLimit)
	}
	for _, h := range o.Hidden {
		if h < 1 {
			return usagef("--hidden %d: want at least 1", h)
		}
	}
	plans, err := search.ReproducePlans(o.Hidden, o.Seeds, setups.NetworkConfig{Epochs: o.Epochs, Data: o.Data, TrainLimit: o.TrainLimit})
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStore(o.Store, false)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, stop, done := interruptible(ctx, s, "running runs stop after their current epoch and resume next time")
	defer done()
	ev := newEvaluator(st, o.Workers, o.Threads, stop, s)
	var out []evalJSON
	for _, p := range plans {
		res, err := ev.Evaluate(ctx, p)
		if errors.Is(err, context.Canceled) {
			break
		}
		if err != nil {
			return err
		}
		out = append(out, evalResult(res, p.Labels))
		if res.Summary.Stopped {
			break
		}
	}
	return printEvals(s, out, o.JSON)
}

// reproduceList says for the help text what reproduce trains each network
// setup with.
func reproduceList() string {
	list := setups.Networks()
	width := 0
	for _, s := range list {
		width = max(width, len(s.Name))
	}
	var b strings.Builder
	for _, s := range list {
		what := "the baseline, without a goal"
		if s.TakesGoal() {
			what = strings.Join(s.Reproduce, ", ")
			if s.PresetsOf != "" {
				what += " (" + s.PresetsOf + "'s goals, as the paper did)"
			}
		}
		b.WriteString(hangingIndent(fmt.Sprintf("  %-*s  ", width, s.Name), what, 80))
	}
	return b.String()
}
