package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"goalsearch/experiment"
	"goalsearch/store"
	"goalsearch/summary"
)

type exportOptions struct {
	Store, Study, Format, Output string
}

func newExportCmd(s streams) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export STUDY [--format json|csv|optuna-journal] [-o FILE]",
		Short: "Write a study with all its trials as JSON (lossless), CSV (one row per trial) or an Optuna journal",
		Long: `export writes a study with all its trials, from one consistent snapshot (also
while a search runs on the store):

  json            lossless: 'goalsearch import' reads it back, checkpoints included
  csv             one row per trial, for spreadsheets and pandas
  optuna-journal  Optuna's JournalFileStorage log (Optuna 3.1 or later), for
                  optuna-dashboard and optuna.visualization: goal weights as
                  params, the objective as the value, each epoch's validation
                  accuracy as an intermediate value`,
		Example: `  goalsearch export ctxlat -o ctxlat.json
  goalsearch export ctxlat --format optuna-journal -o ctxlat.log && optuna-dashboard ctxlat.log`,
		Args: exactlyOne("one study name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Study = args[0]
			return runExport(cmd.Context(), o, s)
		},
	}
	addStoreFlag(cmd, &o.Store)
	cmd.Flags().StringVar(&o.Format, "format", "json", "json, csv or optuna-journal")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write to this file instead of standard output")
	return cmd
}

func runExport(ctx context.Context, o *exportOptions, s streams) error {
	export, ok := map[string]func(context.Context, store.Store, string, io.Writer) error{
		"json": store.ExportJSON, "csv": store.ExportCSV, "optuna-journal": store.ExportOptunaJournal,
	}[o.Format]
	if !ok {
		return usagef("--format %q: want json, csv or optuna-journal", o.Format)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStore(o.Store, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if o.Output == "" {
		return export(ctx, st, o.Study, s.Out)
	}
	f, err := os.Create(o.Output)
	if err != nil {
		return err
	}
	if err := export(ctx, st, o.Study, f); err != nil {
		f.Close()
		os.Remove(o.Output) // no half-written export left behind
		return err
	}
	return f.Close()
}

type importOptions struct {
	Store, File, Name string
	Replace           bool
	Study             string // a goal file (.yaml) is enqueued into this study
}

func newImportCmd(s streams) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import (FILE.json [--name NEW] [--replace] | GOAL.yaml --study NAME)",
		Short: "Add a study exported as JSON to a store, or a goal file to a study",
		Long: `import adds a study exported with 'goalsearch export' to a store. Given a
goal file instead (.yaml: the reference implementation's Hydra goal config,
whose hidden layer's gamma is the goal, or goalsearch's gamma:/atoms: file),
it enqueues the goal into a study whose sampler has proposed nothing yet,
to be evaluated first, as --enqueue (or enqueue: in an experiment file,
which takes goal files too) does when a study is created.`,
		Example: `  goalsearch import demo.json --name demo-copy
  goalsearch import conf/goals/infomorphic_context_lateral/opt_1_100_tpe.yaml --study fresh`,
		Args: exactlyOne("one JSON export or YAML goal file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			return runImport(cmd.Context(), o, s)
		},
	}
	addStoreFlag(cmd, &o.Store)
	cmd.Flags().StringVar(&o.Name, "name", "", "store the study under this name")
	cmd.Flags().BoolVar(&o.Replace, "replace", false, "replace a study of the same name")
	cmd.Flags().StringVar(&o.Study, "study", "", "a goal file: the study to enqueue it into")
	return cmd
}

func runImport(ctx context.Context, o *importOptions, s streams) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if strings.HasSuffix(o.File, ".yaml") || strings.HasSuffix(o.File, ".yml") {
		return importGoal(ctx, o, s)
	}
	if o.Study != "" {
		return usagef("--study is for goal files (.yaml); an export file names its study (--name renames it)")
	}
	f, err := os.Open(o.File)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := openStore(o.Store, false)
	if err != nil {
		return err
	}
	defer st.Close()
	study, err := store.ImportJSON(ctx, st, f, store.ImportOptions{Name: o.Name, Replace: o.Replace})
	if err != nil {
		return fmt.Errorf("import %s: %w", o.File, err)
	}
	s.Out.Write([]byte("imported study " + study.Name + " into " + o.Store + "\n"))
	return nil
}

// importGoal enqueues a goal file into a study whose sampler has proposed
// nothing yet, so that the goal is evaluated (and, with TPE, learnt from)
// first, exactly as if it had been enqueued when the study was created.
func importGoal(ctx context.Context, o *importOptions, s streams) error {
	if o.Study == "" {
		return usagef("%s is a goal file: --study NAME says which study to enqueue it into", o.File)
	}
	if o.Name != "" || o.Replace {
		return usagef("--name and --replace are for export files")
	}
	st, err := openStore(o.Store, false)
	if err != nil {
		return err
	}
	defer st.Close()
	study, err := st.Study(ctx, o.Study)
	if err != nil {
		return err
	}
	if summary.IsEvalStudy(study) {
		return fmt.Errorf("study %s is an evaluation; enqueue goals into a search study", study.Name)
	}
	if _, err := st.LatestSamplerState(ctx, study.Name); err == nil {
		return fmt.Errorf("study %s: its sampler has proposed goals already, and an enqueued goal must come first; create a new study with enqueue: [%s] (or --enqueue)", study.Name, o.File)
	} else if !errors.Is(err, store.ErrSamplerStateNotFound) {
		return err
	}
	trials, err := st.Trials(ctx, study.Name)
	if err != nil {
		return err
	}
	nt, err := experiment.KnownTrial(study, o.File, len(trials))
	if err != nil {
		return err
	}
	t, err := st.EnqueueTrial(ctx, study.Name, nt)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "enqueued %s into study %s as trial %d\n", o.File, study.Name, t.Number)
	return nil
}
