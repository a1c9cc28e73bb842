package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"goalsearch/store"
	"goalsearch/summary"

	"github.com/spf13/cobra"
)

type trialsOptions struct {
	Store string
	Study string
	JSON  bool
}

func newTrialsCmd(s streams) *cobra.Command {
	o := &trialsOptions{}
	cmd := &cobra.Command{
		Use:   "trials STUDY",
		Short: "List a study's trials",
		Args:  exactlyOne("one study name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Study = args[0]
			return runTrials(cmd.Context(), o, s)
		},
	}
	addStoreFlag(cmd, &o.Store)
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print every trial with all its fields as JSON (the trial records of an export file)")
	return cmd
}

func runTrials(ctx context.Context, o *trialsOptions, s streams) error {
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStore(o.Store, true)
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
	if o.JSON {
		return store.WriteTrialsJSON(s.Out, trials)
	}
	// The column after the state is the sampler's generation of a search
	// trial, and which goal of an evaluation study a run trains.
	group, index := "gen", func(t store.Trial) int { return t.Generation }
	if summary.IsEvalStudy(study) {
		group, index = "goal", summary.GoalIndex
	}
	w := tabwriter.NewWriter(s.Out, 0, 0, 2, ' ', 0)
	metric := study.Objective.Metric
	for _, ob := range study.Objectives {
		metric += " / " + ob.Metric // the further objectives' values follow the value
	}
	fmt.Fprintf(w, "trial\tstate\t%s\tepochs\t%s\twall\tgoal / reason\n", group, metric)
	for _, t := range trials {
		val := "-"
		if t.Value != nil {
			val = fmt.Sprintf("%.4f", *t.Value)
		}
		for _, v := range t.Values {
			val += fmt.Sprintf(" / %g", v)
		}
		detail := formatGoal(study.Space.Labels, t.Gamma)
		if len(study.Space.Params) > 0 {
			detail += "  |  " + formatParams(study.Space.Params, t.Params)
		}
		if t.Reason != "" {
			detail = t.Reason
		}
		fmt.Fprintf(w, "%d\t%s\t%d\t%d\t%s\t%s\t%s\n", t.Number, t.State, index(t), t.LastEpoch(), val, t.WallTime.Round(1e7), detail)
	}
	return w.Flush()
}
