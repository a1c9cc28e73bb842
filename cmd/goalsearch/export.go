package main

import (
	"context"
	"fmt"
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
		Use:   "export STUDY [--format json|csv] [-o FILE]",
		Short: "Write a study with all its trials as JSON (lossless) or CSV (one row per trial)",
		Args:  exactlyOne("one study name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Study = args[0]
			return runExport(cmd.Context(), o, s)
		},
	}
	addStoreFlag(cmd, &o.Store)
	cmd.Flags().StringVar(&o.Format, "format", "json", "json or csv")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write to this file instead of standard output")
	return cmd
}

func runExport(ctx context.Context, o *exportOptions, s streams) error {
	if o.Format != "json" && o.Format != "csv" {
		return usagef("--format %q: want json or csv", o.Format)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStore(o.Store, true)
	if err != nil {
		return err
	}
	defer st.Close()
	w := s.Out
	if o.Output != "" {
		f, err := os.Create(o.Output)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if o.Format == "csv" {
		return store.ExportCSV(ctx, st, o.Study, w)
	}
	return store.ExportJSON(ctx, st, o.Study, w)
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
