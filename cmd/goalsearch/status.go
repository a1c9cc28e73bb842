package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"goalsearch/experiment"
	"goalsearch/store"
	"goalsearch/summary"
)

type statusOptions struct {
	Store     string
	Study     string
	JSON      bool
	Config    bool // print the study's experiment file
	Tolerance float64
}

func newStatusCmd(s streams) *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [STUDY]",
		Short: "Show the studies in a store, or one study with its best goal",
		Args:  atMostOne("one study name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Study = args[0]
			}
			return runStatus(cmd.Context(), o, s)
		},
	}
	addStoreFlag(cmd, &o.Store)
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print JSON for scripts")
	cmd.Flags().Float64Var(&o.Tolerance, "tolerance", summary.DefaultFrontTolerance, "a study with a complexity objective: pick the sparsest goal of the Pareto front within this of the best validation accuracy")
	cmd.Flags().BoolVar(&o.Config, "config", false, "print the study's experiment as a YAML file that recreates it (search -f FILE study=NEW)")
	return cmd
}

// studyStatus summarises a study from its trials.
type studyStatus struct {
	Name      string             `json:"name"`
	Setup     string             `json:"setup"`
	Sampler   string             `json:"sampler"`
	Pruner    string             `json:"pruner,omitempty"`
	Created   time.Time          `json:"created_at"`
	Counts    map[string]int     `json:"counts"`
	Trials    int                `json:"trials"`
	Best      *int               `json:"best_trial,omitempty"`
	BestValue *float64           `json:"best_value,omitempty"`
	BestGoal  map[string]float64 `json:"best_goal,omitempty"`
	WallTime  float64            `json:"wall_seconds"`
	Workers   []workerStatus     `json:"workers,omitempty"`
	// Pareto is the front of a study with a complexity objective.
	Pareto *summary.ParetoFront `json:"pareto,omitempty"`
	labels []string
	gamma  []float64
}

// workerStatus is a running trial and who runs it; on a shared store
// (PostgreSQL) with the lease the worker holds on it.
type workerStatus struct {
	Worker      string    `json:"worker"`
	Trial       int       `json:"trial"`
	Attempt     int       `json:"attempt"`
	Epoch       int       `json:"epoch"`
	LeaseExpiry time.Time `json:"lease_expiry,omitzero"`
}

func summarise(study store.Study, trials []store.Trial, tolerance float64) studyStatus {
	ss := studyStatus{Name: study.Name, Setup: study.Setup.Name, Sampler: study.Sampler.Name, Pruner: study.Pruner.Name,
		Created: study.CreatedAt, Counts: map[string]int{}, Trials: len(trials), labels: study.Space.Labels}
	for _, t := range trials {
		ss.Counts[string(t.State)]++
		if t.State == store.Running {
			ss.Workers = append(ss.Workers, workerStatus{Worker: t.Worker, Trial: t.Number, Attempt: t.Attempt, Epoch: t.LastEpoch(), LeaseExpiry: t.LeaseExpiry})
		}
		ss.WallTime += t.WallTime.Seconds()
		if t.State == store.Complete && (ss.BestValue == nil || *t.Value > *ss.BestValue) {
			n, v := t.Number, *t.Value
			ss.Best, ss.BestValue, ss.gamma = &n, &v, t.Gamma
		}
	}
	ss.Pareto = summary.Front(study, trials, tolerance)
	if ss.gamma != nil {
		ss.BestGoal = map[string]float64{}
		for i, l := range study.Space.Labels {
			ss.BestGoal[l] = ss.gamma[i]
		}
	}
	return ss
}

func runStatus(ctx context.Context, o *statusOptions, s streams) error {
	if !(o.Tolerance >= 0) || math.IsInf(o.Tolerance, 0) {
		return usagef("--tolerance %v: want a finite distance in validation accuracy, 0 or more, such as %v", o.Tolerance, summary.DefaultFrontTolerance)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStore(o.Store, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if o.Config {
		return printStudyConfig(ctx, st, o.Study, s)
	}
	var studies []store.Study
	if o.Study != "" {
		one, err := st.Study(ctx, o.Study)
		if err != nil {
			return err
		}
		studies = []store.Study{one}
	} else if studies, err = st.Studies(ctx); err != nil {
		return err
	}
	var out []studyStatus
	for _, study := range studies {
		trials, err := st.Trials(ctx, study.Name)
		if err != nil {
			return err
		}
		out = append(out, summarise(study, trials, o.Tolerance))
	}
	if o.JSON {
		if out == nil {
			out = []studyStatus{} // a list for scripts, even when empty
		}
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(out) == 0 {
		fmt.Fprintf(s.Out, "no studies in %s\n", storeName(o.Store, st))
		return nil
	}
	w := tabwriter.NewWriter(s.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "study\tsetup\tsampler\ttrials\tcomplete\tpruned\tfailed\tqueued\tbest\tvalue\twall h")
	for _, ss := range out {
		best, val := "-", "-"
		if ss.Best != nil {
			best, val = fmt.Sprintf("#%d", *ss.Best), fmt.Sprintf("%.4f", *ss.BestValue)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%.2f\n", ss.Name, ss.Setup, ss.Sampler, ss.Trials,
			ss.Counts["complete"], ss.Counts["pruned"], ss.Counts["failed"], ss.Counts["queued"]+ss.Counts["running"]+ss.Counts["paused"], best, val, ss.WallTime/3600)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if o.Study != "" && len(out[0].Workers) > 0 {
		fmt.Fprintln(s.Out, "\nrunning:")
		w := tabwriter.NewWriter(s.Out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "  worker\ttrial\tattempt\tepoch\tlease")
		now := time.Now()
		for _, ws := range out[0].Workers {
			lease := "-"
			switch {
			case ws.LeaseExpiry.IsZero():
			case ws.LeaseExpiry.After(now):
				lease = fmt.Sprintf("%s (in %v)", ws.LeaseExpiry.Local().Format("15:04:05"), ws.LeaseExpiry.Sub(now).Round(time.Second))
			default:
				lease = fmt.Sprintf("expired %v ago: the worker is gone, another will take the trial", now.Sub(ws.LeaseExpiry).Round(time.Second))
			}
			fmt.Fprintf(w, "  %s\t#%d\t%d\t%d\t%s\n", ws.Worker, ws.Trial, ws.Attempt, ws.Epoch, lease)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if o.Study != "" && out[0].Pareto != nil {
		fmt.Fprintln(s.Out)
		if err := printFront(s.Out, out[0].Pareto, out[0].labels); err != nil {
			return err
		}
	}
	if o.Study != "" && out[0].gamma != nil {
		fmt.Fprintf(s.Out, "\nbest goal (trial %d):\n", *out[0].Best)
		w := tabwriter.NewWriter(s.Out, 0, 0, 2, ' ', 0)
		for i, l := range out[0].labels {
			fmt.Fprintf(w, "  %s\t% .4f\n", l, out[0].gamma[i])
		}
		return w.Flush()
	}
	return nil
}

// printFront prints a study's Pareto front as a table, sparsest first, and
// the goal picked from it: what status and analyze show.
func printFront(w io.Writer, f *summary.ParetoFront, labels []string) error {
	fmt.Fprintf(w, "Pareto front: validation accuracy against %s, %d of %d complete trials\n", f.ComplexityName(), len(f.Points), f.Complete)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  trial\t"+f.Complexity+"\tval_acc\tgoal")
	for _, p := range f.Points {
		mark := ""
		if f.Picked != nil && p.Trial == f.Picked.Trial {
			mark = "  <- picked"
		}
		fmt.Fprintf(tw, "  #%d\t%s\t%.4f\t%s%s\n", p.Trial, f.FormatComplexity(p.Complexity), p.Accuracy, summary.Terms(labels, p.Gamma), mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if p := f.Picked; p != nil {
		fmt.Fprintf(w, "picked: trial %d, the sparsest goal within %v of the best validation accuracy (%.4f): %s %s, val_acc %.4f\n",
			p.Trial, f.Tolerance, f.BestAccuracy, f.FormatComplexity(p.Complexity), f.Complexity, p.Accuracy)
	}
	return nil
}

// printStudyConfig prints a study's experiment as YAML.
func printStudyConfig(ctx context.Context, st store.Store, name string, s streams) error {
	if name == "" {
		return usagef("--config needs a study name")
	}
	study, err := st.Study(ctx, name)
	if err != nil {
		return err
	}
	trials, err := st.Trials(ctx, name)
	if err != nil {
		return err
	}
	finished := 0
	for _, t := range trials {
		if t.State.Finished() {
			finished++
		}
	}
	e, err := experiment.OfStudy(study, finished)
	if err != nil {
		return err
	}
	b, err := experiment.Marshal(e)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "# study %s, created %s; run again under a new name with\n#   goalsearch search -f FILE study=NEW\n",
		study.Name, study.CreatedAt.Format(time.RFC3339))
	_, err = s.Out.Write(b)
	return err
}
