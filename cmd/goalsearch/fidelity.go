package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"goalsearch/reports"
	"goalsearch/store"
	"goalsearch/summary"
)

type fidelityOptions struct {
	Store    string
	Studies  []string
	Epochs   []int
	Final    int
	MinFinal float64
	SVG      string
	JSON     bool
}

func newFidelityCmd(s streams) *cobra.Command {
	o := &fidelityOptions{}
	cmd := &cobra.Command{
		Use:   "fidelity STUDY...",
		Short: "How well early epochs rank a study's trials as the final epoch does",
		Long: `fidelity measures, over the trials of one or more studies that reached the
final epoch, how well the validation accuracy at each earlier epoch predicts
the final one: the Spearman rank correlation, and the share of the best 10 %
at the final epoch that are also the best 10 % at the early one.

Multi-fidelity pruning (--pruner asha) stops trials at early rungs; a rung
whose correlation with the final epoch is low throws good goals away. Run
some trials to the full budget (for example a random search with presets
enqueued) and use the first epoch whose correlation is at least 0.9 as the
first rung.

--min-final keeps only trials whose final accuracy is at least that value:
goals that never learn (chance accuracy) are easy to rank at any epoch and
inflate the correlation of the rest.`,
		Example: `  goalsearch fidelity fid --final 100
  goalsearch fidelity fid fid-search --final 100 --min-final 0.5 --json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("want at least one STUDY")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Studies = args
			return runFidelity(cmd.Context(), o, s)
		},
	}
	addStoreFlag(cmd, &o.Store)
	f := cmd.Flags()
	f.IntSliceVar(&o.Epochs, "epochs", []int{1, 2, 3, 5, 10, 20, 50}, "early epochs to compare with the final one")
	f.IntVar(&o.Final, "final", 0, "the final epoch (default: the longest curve among the studies' trials)")
	f.Float64Var(&o.MinFinal, "min-final", math.Inf(-1), "keep only trials whose final validation accuracy is at least this")
	f.StringVar(&o.SVG, "svg", "", "also draw the correlations over the epochs into this SVG file")
	f.BoolVar(&o.JSON, "json", false, "print JSON for scripts")
	return cmd
}

func runFidelity(ctx context.Context, o *fidelityOptions, s streams) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if math.IsNaN(o.MinFinal) {
		return usagef("--min-final NaN: want a number")
	}
	if o.Final < 0 {
		return usagef("--final %d: want 0 (the longest curve) or a positive epoch", o.Final)
	}
	for _, e := range o.Epochs {
		if e < 0 {
			return usagef("--epochs %v: want epochs of 0 or more", o.Epochs)
		}
	}
	st, err := openStore(o.Store, true)
	if err != nil {
		return err
	}
	defer st.Close()
	var trials []store.Trial
	for _, name := range o.Studies {
		ts, err := st.Trials(ctx, name)
		if err != nil {
			return err
		}
		trials = append(trials, ts...)
	}
	final := o.Final
	if final == 0 {
		for _, t := range trials {
			final = max(final, t.LastEpoch())
		}
	}
	if final < 1 {
		return fmt.Errorf("fidelity: no trial of %v has finished an epoch", o.Studies)
	}
	var kept []store.Trial
	for _, t := range trials {
		if v, ok := valAt(t, final); ok && v >= o.MinFinal {
			kept = append(kept, t)
		}
	}
	epochs := slices.DeleteFunc(slices.Clone(o.Epochs), func(e int) bool { return e >= final })
	rep, err := summary.MeasureFidelity(kept, epochs, final)
	if err != nil {
		return err
	}
	if o.SVG != "" {
		if err := writeFidelitySVG(o, trials, kept, rep, epochs, final); err != nil {
			return err
		}
	}
	if o.JSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(fidelityJSON(rep))
	}
	fmt.Fprintf(s.Out, "%d trials reached epoch %d\n", rep.Trials, rep.Final)
	tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "epoch\ttrials\tspearman\ttop 10 % overlap")
	for _, g := range rep.Rungs {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\n", g.Epoch, g.Trials, fmtNum(g.Spearman, "%.3f"), overlapText(g))
	}
	tw.Flush()
	if g, ok := rep.FirstAbove(0.9); ok {
		fmt.Fprintf(s.Out, "first epoch ranking as epoch %d does (Spearman >= 0.9): %d\n", rep.Final, g.Epoch)
	} else {
		fmt.Fprintf(s.Out, "no early epoch ranks as epoch %d does (Spearman >= 0.9)\n", rep.Final)
	}
	return nil
}

// writeFidelitySVG plots rep and, when --min-final left trials out, the
// measurement over all trials beside it, since the difference is the point.
func writeFidelitySVG(o *fidelityOptions, trials, kept []store.Trial, rep summary.Fidelity, epochs []int, final int) error {
	series := []reports.FidelitySeries{{Name: "all goals", Fidelity: rep}}
	if len(kept) < len(trials) && !math.IsInf(o.MinFinal, -1) {
		series[0].Name = fmt.Sprintf("final >= %g", o.MinFinal)
		if all, err := summary.MeasureFidelity(trials, epochs, final); err == nil {
			series = append([]reports.FidelitySeries{{Name: "all goals", Fidelity: all}}, series...)
		}
	}
	title := fmt.Sprintf("How early epochs rank %s as epoch %d does", strings.Join(o.Studies, ", "), final)
	svg, err := reports.FidelitySVG(title, series)
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.SVG, svg, 0o644); err != nil {
		return fmt.Errorf("writing --svg: %w", err)
	}
	return nil
}

func valAt(t store.Trial, epoch int) (float64, bool) {
	for _, m := range t.Epochs {
		if m.Epoch == epoch {
			return m.ValAcc, !math.IsNaN(m.ValAcc) && !math.IsInf(m.ValAcc, 0)
		}
	}
	return 0, false
}

func overlapText(g summary.FidelityRung) string {
	if math.IsNaN(g.TopOverlap) {
		return "-"
	}
	return fmt.Sprintf("%.2f (%d of %d)", g.TopOverlap, int(math.Round(g.TopOverlap*float64(g.Top))), g.Top)
}

func fmtNum(v float64, format string) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// fidelityJSON replaces NaN (which encoding/json refuses) by null.
func fidelityJSON(rep summary.Fidelity) any {
	type rung struct {
		Epoch      int      `json:"epoch"`
		Trials     int      `json:"trials"`
		Spearman   *float64 `json:"spearman"`
		TopOverlap *float64 `json:"top_overlap"`
		Top        int      `json:"top"`
	}
	num := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	out := struct {
		Final  int    `json:"final_epoch"`
		Trials int    `json:"trials"`
		Rungs  []rung `json:"rungs"`
	}{Final: rep.Final, Trials: rep.Trials, Rungs: []rung{}}
	for _, g := range rep.Rungs {
		out.Rungs = append(out.Rungs, rung{g.Epoch, g.Trials, num(g.Spearman), num(g.TopOverlap), g.Top})
	}
	return out
}
