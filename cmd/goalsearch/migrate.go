package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

type migrateOptions struct {
	From, To string
	Studies  []string
	Replace  bool
}

func newMigrateCmd(s streams) *cobra.Command {
	o := &migrateOptions{}
	cmd := &cobra.Command{
		Use:   "migrate --from STORE --to STORE [--study NAME]...",
		Short: "Copy studies between stores (a bbolt file and PostgreSQL, either way)",
		Long: `migrate copies studies, losslessly, from one store to another: every trial
with its epochs, leases and timestamps, every sampler state and every
checkpoint, each study from one consistent snapshot and in one transaction.
Either store may be a bbolt file or a postgres:// database; the source is
only read. Running trials are copied as running: on a PostgreSQL store they
are re-leased when their lease expires, on a file when the next search
resumes the study. Stop the search first for a copy that nothing changes
after.`,
		Example: `  goalsearch migrate --from goalsearch.db --to 'postgres:///goalsearch?host=/run/postgresql'
  goalsearch migrate --from 'postgres:///goalsearch?host=/run/postgresql' --to back.db --study demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runMigrate(cmd.Context(), o, s) },
	}
	f := cmd.Flags()
	f.StringVar(&o.From, "from", "", "the store to copy from (required)")
	f.StringVar(&o.To, "to", "", "the store to copy to (required; a file is created)")
	f.StringArrayVar(&o.Studies, "study", nil, "a study to copy (default: all); repeatable")
	f.BoolVar(&o.Replace, "replace", false, "replace studies of the same name in the destination")
	return cmd
}

func runMigrate(ctx context.Context, o *migrateOptions, s streams) error {
	if o.From == "" || o.To == "" {
		return usagef("--from and --to are required")
	}
	if o.From == o.To {
		return usagef("--from and --to name the same store")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	src, err := openStore(o.From, true)
	if err != nil {
		return err
	}
	defer src.Close()
	// Every named study must exist before the destination is opened
	// (which creates a file).
	for _, name := range o.Studies {
		if _, err := src.Study(ctx, name); err != nil {
			return fmt.Errorf("--study %s: %w", name, err)
		}
	}
	dst, err := openStore(o.To, false)
	if err != nil {
		return err
	}
	defer dst.Close()
	names := o.Studies
	if len(names) == 0 {
		all, err := src.Studies(ctx)
		if err != nil {
			return err
		}
		for _, st := range all {
			names = append(names, st.Name)
		}
	}
	for _, name := range names {
		d, err := src.Export(ctx, name)
		if err != nil {
			return err
		}
		if err := dst.Import(ctx, d, o.Replace); err != nil {
			return fmt.Errorf("copying study %s: %w (pass --replace to overwrite it)", name, err)
		}
		fmt.Fprintf(s.Out, "copied study %s: %d trials, %d sampler states, %d checkpoints\n",
			name, len(d.Trials), len(d.SamplerStates), len(d.Checkpoints))
	}
	if len(names) == 0 {
		fmt.Fprintf(s.Out, "no studies in %s\n", storeName(o.From, src))
	}
	return nil
}
