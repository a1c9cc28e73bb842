package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"goalsearch/pid"
	"goalsearch/pid/csvdata"
)

type pidOptions struct {
	File    string
	Sources []string
	Target  string
	Bins    int
	JSON    bool
}

func newPIDCmd(s streams) *cobra.Command {
	opts := &pidOptions{}
	cmd := &cobra.Command{
		Use:   "pid FILE.csv --sources A,B[,C[,D]] --target Y",
		Short: "Decompose the information that columns of a CSV file carry about a target",
		Long: `pid computes the I^sx partial information decomposition of a discrete target
column by 2 to 4 source columns of a CSV file with a header row: how much
information about the target each source carries uniquely, redundantly with
others, or only synergistically with others, in bits.

Integer and text columns are used as they are; other numeric columns are cut
into --bins equal-width bins between their minimum and maximum. The target
must be integers or labels (any number of distinct values).`,
		Example: `  goalsearch pid docs/examples/xor.csv --sources a,b --target y
  goalsearch pid data.csv --sources F,C,L --target out --bins 10 --json`,
		Args: exactlyOne("one CSV file"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File = args[0]
			return runPID(opts, s)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Sources, "sources", nil, "2 to 4 source columns, comma-separated")
	cmd.Flags().StringVar(&opts.Target, "target", "", "the target column (discrete)")
	cmd.Flags().IntVar(&opts.Bins, "bins", 20, "equal-width bins for each continuous source")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON for scripts")
	return cmd
}

// pidReport is what the command prints, and its JSON form.
type pidReport struct {
	File     string           `json:"file"`
	Samples  int              `json:"samples"`
	Sources  []csvdata.Column `json:"sources"`
	Target   csvdata.Column   `json:"target"`
	Atoms    []pidAtom        `json:"atoms"`
	SumAtoms float64          `json:"sum_atoms_bits"`
	MI       float64          `json:"mutual_information_bits"`
	HT       float64          `json:"target_entropy_bits"`
	HRes     float64          `json:"residual_entropy_bits"`
}

type pidAtom struct {
	Label string  `json:"label"` // by source number, {1}{23}
	Named string  `json:"named"` // by column name
	Bits  float64 `json:"bits"`
}

func runPID(opts *pidOptions, s streams) error {
	if len(opts.Sources) < pid.MinSources || len(opts.Sources) > pid.MaxSources {
		return usagef("--sources: %d columns given, want %d to %d", len(opts.Sources), pid.MinSources, pid.MaxSources)
	}
	if opts.Target == "" {
		return usagef("--target: a target column is required")
	}
	if opts.Bins < 1 {
		return usagef("--bins %d: want at least 1", opts.Bins)
	}
	f, err := os.Open(opts.File)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := csvdata.Read(f, opts.File, opts.Sources, opts.Target, opts.Bins)
	if err != nil {
		return err
	}
	lat := pid.MustLattice(len(opts.Sources))
	res := lat.NewResult()
	if err := pid.NewEstimator(lat).Counts(res, data.Bins, data.Targets, data.Target.Bins, nil); err != nil {
		return err
	}
	rep := pidReport{
		File: opts.File, Samples: len(data.Targets), Sources: data.Sources, Target: data.Target,
		MI: res.Icap[lat.Top()], HT: res.HT, HRes: res.HRes,
	}
	named := lat.Labels(opts.Sources)
	for i, l := range lat.Labels(nil)[:lat.NumAtoms()] {
		rep.Atoms = append(rep.Atoms, pidAtom{l, named[i], res.Atoms[i]})
		rep.SumAtoms += res.Atoms[i]
	}
	if opts.JSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printPID(s, &rep)
}

func printPID(s streams, r *pidReport) error {
	w := tabwriter.NewWriter(s.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "%s: %d samples\n", r.File, r.Samples)
	for i, c := range append(append([]csvdata.Column(nil), r.Sources...), r.Target) {
		role := fmt.Sprintf("source %d", i+1)
		if i == len(r.Sources) {
			role = "target"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", role, c.Name, describeColumn(c))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "atom\tsources\tbits\n")
	for _, a := range r.Atoms {
		fmt.Fprintf(w, "%s\t%s\t%.6f\n", a.Label, a.Named, a.Bits)
	}
	fmt.Fprintf(w, "sum of atoms\t= I(T;S)\t%.6f\n", r.SumAtoms)
	fmt.Fprintf(w, "H(T)\t\t%.6f\n", r.HT)
	fmt.Fprintf(w, "H_res\t= H(T) - I(T;S)\t%.6f\n", r.HRes)
	return w.Flush()
}

func describeColumn(c csvdata.Column) string {
	switch c.Kind {
	case csvdata.Continuous:
		return fmt.Sprintf("continuous, %d equal-width bins on [%g, %g]", c.Bins, c.Min, c.Max)
	default:
		vals := c.Values
		more := ""
		if len(vals) > 6 {
			vals, more = vals[:6], ", ..."
		}
		return fmt.Sprintf("%s, %d values (%s%s)", c.Kind, c.Bins, strings.Join(vals, ", "), more)
	}
}
