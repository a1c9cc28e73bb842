package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"goalsearch/reports"
	"goalsearch/summary"
)

type reportOptions struct {
	Store     string
	Studies   []string
	All       bool
	Output    string
	Format    string
	Title     string
	Top       int
	Against   string
	Tolerance float64
}

func newReportCmd(s streams) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report STUDY... [-o report.html] [--format html|md]",
		Short: "Write a report of studies and their evaluations as one offline HTML file, or Markdown with SVG plots",
		Long: `report writes what a set of studies found, for a person to read: per study a
summary, the optimisation history, the leaderboard of goals (a heatmap over
the atoms), learning curves, and the analyses (sign agreement of the best
goals, the hidden neurons' atom profile, sensitivity and sparsification of the
best goal); then a comparison of every evaluated goal, preset and baseline
with mean ± std over seeds, tests against the heuristic goal, and the paper's
published values.

A STUDY includes its evaluation studies (STUDY/...). A name may also be a
group of evaluation studies alone, such as "presets" (goalsearch reproduce);
--all reports every study in the store.

The HTML file is self-contained (inline SVG, no scripts, fonts or styles
from anywhere else). --format md writes Markdown with the same tables and
the plots as SVG files in a directory beside it (report_files/ for
report.md).`,
		Example: `  goalsearch report ctxlat -o ctxlat.html
  goalsearch report ctxlat presets --format md -o ctxlat.md
  goalsearch report --all -o everything.html`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 && !o.All {
				return usagef("name at least one study (or a group such as presets), or give --all")
			}
			if len(args) > 0 && o.All {
				return usagef("give study names or --all, not both")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Studies = args
			return runReport(cmd.Context(), o, s)
		},
	}
	addStoreFlag(cmd, &o.Store)
	cmd.Flags().BoolVar(&o.All, "all", false, "report every study in the store")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "the report file (default report.html, or report.md with --format md; - for standard output, HTML only)")
	cmd.Flags().StringVar(&o.Format, "format", "", "html or md (default: from the -o file's extension, else html)")
	cmd.Flags().StringVar(&o.Title, "title", "", "the report's title (default: goalsearch report: and the names)")
	cmd.Flags().IntVar(&o.Top, "top", reports.DefaultLeaderboard, "best trials per study on the leaderboard")
	cmd.Flags().Float64Var(&o.Tolerance, "tolerance", summary.DefaultFrontTolerance, "a study with a complexity objective: pick the sparsest goal of its Pareto front within this of the best validation accuracy")
	cmd.Flags().StringVar(&o.Against, "against", "", "compare every evaluated goal with this one seed by seed, e.g. context-lateral/opt_1_100_modified (a preset, or a goal as the evaluation names it)")
	return cmd
}

// reportFormat settles the format and the output file from the flags.
func reportFormat(o *reportOptions) (format, output string, err error) {
	format = strings.ToLower(o.Format)
	switch format {
	case "":
		format = "html"
		if ext := strings.ToLower(filepath.Ext(o.Output)); ext == ".md" || ext == ".markdown" {
			format = "md"
		}
	case "markdown":
		format = "md"
	case "html", "md":
	default:
		return "", "", usagef("--format %q: want html or md", o.Format)
	}
	output = o.Output
	switch {
	case output == "":
		output = "report." + format
	case output == "-" && format == "md":
		return "", "", usagef("-o -: a Markdown report needs a file, for its plots are written beside it")
	}
	return format, output, nil
}

func runReport(ctx context.Context, o *reportOptions, s streams) error {
	format, output, err := reportFormat(o)
	if err != nil {
		return err
	}
	if o.Top < 1 {
		return usagef("--top %d: want at least 1", o.Top)
	}
	if !(o.Tolerance > 0) || math.IsInf(o.Tolerance, 0) {
		return usagef("--tolerance %v: want a positive, finite distance in validation accuracy such as %v", o.Tolerance, summary.DefaultFrontTolerance)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStore(o.Store, true)
	if err != nil {
		return err
	}
	opts := &reports.Options{Title: o.Title, Leaderboard: o.Top, Against: o.Against, Tolerance: o.Tolerance}
	var r *reports.Report
	if o.All {
		r, err = reports.CollectAll(ctx, st, opts)
	} else {
		r, err = reports.Collect(ctx, st, o.Studies, opts)
	}
	// Everything is read: let a search have the store back before writing.
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}

	var buf bytes.Buffer
	if format == "html" {
		if err := reports.WriteHTML(&buf, r); err != nil {
			return err
		}
		if output == "-" {
			_, err := s.Out.Write(buf.Bytes())
			return err
		}
		if err := writeFileAtomic(output, buf.Bytes()); err != nil {
			return err
		}
		n := fmt.Sprintf("%d sections", len(r.Sections))
		if len(r.Sections) == 1 {
			n = "1 section"
		}
		fmt.Fprintf(s.ErrOut, "wrote %s (%s)\n", output, n)
		return nil
	}
	dir := strings.TrimSuffix(filepath.Base(output), filepath.Ext(output)) + "_files"
	figs, err := reports.WriteMarkdown(&buf, r, dir)
	if err != nil {
		return err
	}
	full := filepath.Join(filepath.Dir(output), dir)
	if err := os.MkdirAll(full, 0o755); err != nil {
		return err
	}
	for _, f := range figs {
		if err := writeFileAtomic(filepath.Join(full, f.Name), f.SVG); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(output, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(s.ErrOut, "wrote %s and %d plots in %s\n", output, len(figs), full)
	return nil
}

// writeFileAtomic writes a file through a temporary one and a rename, so a
// reader never sees half a report.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
