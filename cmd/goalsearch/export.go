package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"goalsearch/store"
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
}

func newImportCmd(s streams) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE.json [--name NEW] [--replace]",
		Short: "Add a study exported as JSON to a store",
		Args:  exactlyOne("one JSON file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			return runImport(cmd.Context(), o, s)
		},
	}
	addStoreFlag(cmd, &o.Store)
	cmd.Flags().StringVar(&o.Name, "name", "", "store the study under this name")
	cmd.Flags().BoolVar(&o.Replace, "replace", false, "replace a study of the same name")
	return cmd
}

func runImport(ctx context.Context, o *importOptions, s streams) error {
	if ctx == nil {
		ctx = context.Background()
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
