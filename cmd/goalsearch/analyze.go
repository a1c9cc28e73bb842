package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"goalsearch/search"
	"goalsearch/summary"
)

type analyzeOptions struct {
	Store     string
	Study     string
	Seeds     int
	Epochs    int
	Tolerance float64
	Delta     float64
	Round     float64
	Top       int
	Trial     int // -1: the best
	Workers   int
	Threads   int
	JSON      bool
	Front     bool // only the Pareto front, no training
}

func newAnalyzeCmd(s streams) *cobra.Command {
	o := &analyzeOptions{}
	cmd := &cobra.Command{
		Use:   "analyze STUDY [flags]",
		Short: "Analyse a study's best goal: which weights matter, how sparse it can be, what its neurons do",
		Long: `analyze asks of a study's best goal what the paper asked of its published one,
re-training on --seeds fresh seeds (validation accuracy decides everything;
test accuracy is recorded and shown, never used to choose):

  sensitivity      every searched weight set to 0, and changed by ±--delta;
                   atoms ranked by the mean change of validation accuracy
                   when zeroed (paired over the seeds)
  sparsification   the least important weights zeroed one by one while the
                   mean validation accuracy stays within --tolerance of the
                   full goal's; the remaining weights rounded to multiples
                   of --round and the sparse goal trained on its own
  front            for a study with a complexity objective (docs/pareto.md):
                   its Pareto front and the goal picked from it, the
                   sparsest within --tolerance of the best validation
                   accuracy; the picked goal is the one analysed (--front:
                   only this, no training)
  agreement        which atoms keep their sign across the --top best trials
                   of the study (no training)
  neurons          the mean PID atoms of the hidden neurons trained with the
                   best goal, beside those of the setup's heuristic (naive)
                   goal, which is evaluated too if it has not been

The runs go into evaluation studies STUDY/sensitivity/..., STUDY/sparsify/...
and STUDY/evaluate/...; run the command again to resume it. Training costs
about (1 + 3 × searched weights + a few) × seeds runs (a third of that with
--delta 0).`,
		Example: `  goalsearch analyze ctxlat --seeds 3 --workers 2
  goalsearch analyze ctxlat --seeds 10 --delta 0 --tolerance 0.003 --json`,
		Args: exactlyOne("one study name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Study = args[0]
			return runAnalyze(cmd.Context(), o, s)
		},
	}
	f := cmd.Flags()
	addStoreFlag(cmd, &o.Store)
	f.IntVar(&o.Seeds, "seeds", search.DefaultAnalyzeSeeds, "fresh seeds per goal variant")
	f.IntVar(&o.Epochs, "epochs", 0, "epochs per run (default: the study's)")
	f.Float64Var(&o.Tolerance, "tolerance", summary.DefaultSparseTolerance, "sparsification: how far the mean validation accuracy may fall below the full goal's; the Pareto front's pick: how far below the best accuracy")
	f.Float64Var(&o.Delta, "delta", 0.1, "sensitivity: also train every weight changed by ±delta (0: only zeroed)")
	f.Float64Var(&o.Round, "round", search.DefaultRound, "sparsification: round the sparse goal's weights to multiples of this")
	f.IntVar(&o.Top, "top", search.DefaultAgreementTop, "agreement: compare the signs of this many best trials")
	f.IntVar(&o.Trial, "trial", -1, "analyse this complete trial's goal instead of the best one")
	addRunFlags(cmd, &o.Workers, &o.Threads)
	f.BoolVar(&o.JSON, "json", false, "print the analysis as JSON")
	f.BoolVar(&o.Front, "front", false, "a study with a complexity objective: print its Pareto front and the goal picked within --tolerance of the best accuracy, and train nothing")
	return cmd
}

func runAnalyze(ctx context.Context, o *analyzeOptions, s streams) error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	if o.Seeds < 1 || o.Epochs < 0 || !(o.Tolerance >= 0) || !(o.Delta >= 0) || !(o.Round > 0) || !finite(o.Tolerance) || !finite(o.Delta) || !finite(o.Round) || o.Top < 1 || o.Workers < 1 || o.Threads < 0 {
		return usagef("--seeds %d, --epochs %d, --tolerance %v, --delta %v, --round %v, --top %d, --workers %d: want finite positive numbers (tolerance, delta and epochs may be 0)",
			o.Seeds, o.Epochs, o.Tolerance, o.Delta, o.Round, o.Top, o.Workers)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStore(o.Store, o.Front) // --front only reads, beside a running search
	if err != nil {
		return err
	}
	defer st.Close()
	study, err := st.Study(ctx, o.Study)
	if err != nil {
		return err
	}
	trials, err := st.Trials(ctx, o.Study)
	if err != nil {
		return err
	}
	front := summary.Front(study, trials, o.Tolerance)
	if o.Front {
		if front == nil {
			return usagef("--front: study %s has one objective (the accuracy); a front needs --objectives accuracy,nonzero or accuracy,l1", o.Study)
		}
		if o.JSON {
			enc := json.NewEncoder(s.Out)
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				Study  string               `json:"study"`
				Pareto *summary.ParetoFront `json:"pareto"`
			}{o.Study, front})
		}
		return printFront(s.Out, front, study.Space.Labels)
	}
	ctx, stop, done := interruptible(ctx, s, "running runs stop after their current epoch and resume next time")
	defer done()
	ev := newEvaluator(st, o.Workers, o.Threads, stop, s)
	cfg := search.AnalyzeConfig{Study: o.Study, Seeds: o.Seeds, Epochs: o.Epochs,
		Tolerance: o.Tolerance, Delta: o.Delta, Round: o.Round, Top: o.Top}
	if o.Trial >= 0 {
		cfg.Trial = &o.Trial
	} else if front != nil && front.Picked != nil {
		cfg.Trial = &front.Picked.Trial
	}
	a, err := search.Analyze(ctx, ev, cfg)
	if err != nil && (a == nil || !errors.Is(err, context.Canceled)) {
		return err
	}
	if err != nil {
		a.Stopped = true
	}
	a.Pareto = front
	if a.Stopped {
		fmt.Fprintln(s.ErrOut, "stopped; run the same command to resume the analysis")
	}
	if o.JSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}
	return printAnalysis(s.Out, a)
}

func printAnalysis(w io.Writer, a *search.Analysis) error {
	hidden := ""
	if a.Hidden > 0 {
		hidden = fmt.Sprintf("%d hidden, ", a.Hidden)
	}
	fmt.Fprintf(w, "analysis of study %s (%s, %s%s, %s)\n", a.Study, a.Setup, hidden, plural(a.Epochs, "epoch"), plural(len(a.Seeds), "fresh seed"))
	if a.Pareto != nil {
		if err := printFront(w, a.Pareto, a.Labels); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	which := "best goal"
	if a.Pareto != nil && a.Pareto.Picked != nil && a.Pareto.Picked.Trial == a.Best.Trial {
		which = "picked goal"
	}
	fmt.Fprintf(w, "%s: trial %d, search validation accuracy %.4f\n  %s\n", which, a.Best.Trial, a.Best.Value, formatGoal(a.Labels, a.Best.Gamma))
	if r := a.Reference; r.Val.N > 0 {
		fmt.Fprintf(w, "  on the fresh seeds: val %s, test %s\n", meanStd(r.Val), meanStd(r.Test))
	}

	if len(a.Sensitivity) > 0 {
		fmt.Fprintf(w, "\nsensitivity: mean change of validation accuracy (paired over the seeds); rank 1 matters most\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "rank\tatom\tweight\tset to 0\t+%v\t-%v\n", a.Delta, a.Delta)
		for _, s := range ranked(a.Sensitivity) {
			rank := fmt.Sprint(s.Rank)
			if s.Fixed {
				rank = "fixed"
			}
			fmt.Fprintf(tw, "%s\t%s\t% .3f\t%s\t%s\t%s\n", rank, s.Atom, s.Weight, change(s.Zero), change(s.Plus), change(s.Minus))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if len(a.ParamSensitivity) > 0 {
		fmt.Fprintf(w, "\nhyperparameters: mean change of validation accuracy (paired over the seeds) when one moves to the end of its range (another choice), the goal kept\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "hyperparameter	best trial's	changed to	change")
		for _, ps := range a.ParamSensitivity {
			for i, v := range ps.Variants {
				key, val := ps.Key, ps.Value
				if i > 0 {
					key, val = "", ""
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", key, val, v.Value, change(&v.Change))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if sp := a.Sparsify; sp != nil {
		fmt.Fprintf(w, "\nsparsification: zero the least important weights while the mean validation accuracy stays within %v of the full goal's (%.4f)\n", sp.Tolerance, sp.Reference)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "step\tzeroed\tterms\tval mean\tchange\ttest mean\tkept")
		for i, st := range sp.Steps {
			kept := "yes"
			if !st.Accepted {
				kept = "no: stop"
			}
			fmt.Fprintf(tw, "%d\t%s\t%d\t%.4f\t%+.4f\t%.4f\t%s\n", i+1, st.Atom, st.Terms, st.ValMean, st.Diff, st.TestMean, kept)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if sp.Sparse != nil {
			fmt.Fprintf(w, "sparse goal (rounded to multiples of %v), %d terms: %s\n", sp.Round, sp.Terms, formatTerms(a.Labels, sp.SparseGamma))
			fmt.Fprintf(w, "  val %s (change %+.4f), test %s\n", meanStd(sp.Sparse.Val), sp.SparseDiff, meanStd(sp.Sparse.Test))
		}
	}

	if ag := a.Agreement; ag.Top > 0 {
		fmt.Fprintf(w, "\nagreement over the %d best trials of the study: atoms that keep their sign: %s\n", ag.Top, orNone(ag.Kept))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "atom\tbest\tmean\t+\t-\t0\tsame sign as best")
		for _, x := range ag.Atoms {
			share := fmt.Sprintf("%.0f%%", 100*x.Share)
			switch {
			case x.Fixed:
				share = "fixed"
			case x.Kept:
				share += " (kept)"
			}
			fmt.Fprintf(tw, "%s\t% .3f\t% .3f\t%d\t%d\t%d\t%s\n", x.Atom, x.Best, x.Mean, x.Positive, x.Negative, x.Zero, share)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if p := a.Profiles; p != nil && p.Best.Atoms != nil {
		fmt.Fprintf(w, "\nwhat the neurons do: mean PID atoms of the hidden neurons (bits, last epoch, mean over neurons and seeds)\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		head := "atom\tbest goal\tbest: atoms"
		if p.Naive != nil {
			head += "\t" + p.Naive.Name + " goal\tnaive: atoms"
		}
		fmt.Fprintln(tw, head)
		for i, l := range p.Labels {
			line := fmt.Sprintf("%s\t% .3f\t% .4f", l, p.Best.Gamma[i], at(p.Best.Atoms, i))
			if p.Naive != nil {
				line += fmt.Sprintf("\t% .3f\t% .4f", p.Naive.Gamma[i], at(p.Naive.Atoms, i))
			}
			fmt.Fprintln(tw, line)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if p.Naive != nil {
			fmt.Fprintf(w, "best: val %s, test %s; %s: val %s, test %s (from %s)\n", meanStd(p.Best.Stats.Val), meanStd(p.Best.Stats.Test),
				p.Naive.Name, meanStd(p.Naive.Stats.Val), meanStd(p.Naive.Stats.Test), p.Naive.Study)
		}
	}
	fmt.Fprintf(w, "\nevaluation studies: %s\n", strings.Join(a.Studies, ", "))
	return nil
}

// ranked orders the sensitivity rows by rank, fixed atoms last.
func ranked(as []search.AtomSensitivity) []search.AtomSensitivity {
	out := make([]search.AtomSensitivity, 0, len(as))
	for r := 1; r <= len(as); r++ {
		for _, s := range as {
			if !s.Fixed && s.Rank == r {
				out = append(out, s)
			}
		}
	}
	for _, s := range as {
		if s.Fixed {
			out = append(out, s)
		}
	}
	return out
}

func change(c *summary.Change) string {
	switch {
	case c == nil:
		return "-"
	case c.N == 0:
		return fmt.Sprintf("failed (%d)", c.Failed)
	}
	return fmt.Sprintf("%+.4f", c.Diff)
}

func meanStd(s summary.Sample) string {
	if s.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.4f ± %.4f (n=%d)", s.Mean, std(s), s.N)
}

func at(x []float64, i int) float64 {
	if i < len(x) {
		return x[i]
	}
	return 0
}

// formatTerms prints the non-zero weights of a goal.
func formatTerms(labels []string, g []float64) string {
	var parts []string
	for i, v := range g {
		if v != 0 {
			parts = append(parts, fmt.Sprintf("%s %+g", labels[i], v))
		}
	}
	return orNone(parts)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
