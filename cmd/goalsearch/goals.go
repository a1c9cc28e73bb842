package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"goalsearch/setups"
	"goalsearch/trainer/goals"
)

type goalsOptions struct {
	Name   string
	JSON   bool
	Format string // table, json or hydra
}

func newGoalsCmd(s streams) *cobra.Command {
	opts := &goalsOptions{}
	cmd := &cobra.Command{
		Use:   "goals [PRESET]",
		Short: "List the built-in goal presets, or show one with its atom labels",
		Long: `goals lists the goal vectors published with the paper's reference
implementation, embedded in goalsearch as presets named SETUP/NAME ('naive'
is the paper's heuristic goal for that setup), and the goals goalsearch's own
campaigns discovered (discovered_N, marked *), each with the study and trial
it came from and the accuracy one seed reaches with it. With a preset name it
prints the vector, one weight per atom, in goal order.` + borrowedPresets(),
		Example: `  goalsearch goals
  goalsearch goals context-lateral/opt_1_100_tpe
  goalsearch goals context-lateral/opt_1_100_tpe --format hydra > conf/goals/infomorphic_context_lateral/opt_1_100_tpe.yaml`,
		Args: atMostOne("one preset name"),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			return runGoals(opts, s)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON for scripts")
	cmd.Flags().StringVar(&opts.Format, "format", "table", "table, json, or hydra: the reference implementation's Hydra goal config (conf/goals/<model>/<name>.yaml), which --goal FILE.yaml reads back")
	return cmd
}

type goalJSON struct {
	Name       string           `json:"name"`
	Setup      string           `json:"setup"`
	Labels     []string         `json:"labels"`
	Gamma      []float64        `json:"gamma"`
	Discovered *goals.Discovery `json:"discovered,omitempty"`
}

func runGoals(opts *goalsOptions, s streams) error {
	switch opts.Format {
	case "table", "":
	case "json":
		opts.JSON = true
	case "hydra":
		if opts.Name == "" {
			return usagef("--format hydra writes one goal: give a preset name ('goalsearch goals' lists them)")
		}
		p, ok := goals.Lookup(opts.Name, "")
		if !ok || p.FullName() != opts.Name {
			return usagef("no preset %q; 'goalsearch goals' lists them", opts.Name)
		}
		b, err := goals.Hydra(p.Name, p.Setup, p.Gamma)
		if err != nil {
			return err
		}
		_, err = s.Out.Write(b)
		return err
	default:
		return usagef("--format %q: want table, json or hydra", opts.Format)
	}
	var list []goalJSON
	for _, p := range goals.Presets() {
		if opts.Name != "" && p.FullName() != opts.Name {
			continue
		}
		labels, err := goals.Labels(p.Setup)
		if err != nil {
			return err
		}
		list = append(list, goalJSON{p.FullName(), p.Setup, labels, p.Gamma, p.Discovered})
	}
	if opts.Name != "" && len(list) == 0 {
		return fmt.Errorf("no preset %q; 'goalsearch goals' lists them", opts.Name)
	}
	if opts.JSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	w := tabwriter.NewWriter(s.Out, 0, 0, 2, ' ', 0)
	if opts.Name != "" {
		g := list[0]
		fmt.Fprintf(w, "%s (setup %s)\n", g.Name, g.Setup)
		if g.Discovered != nil {
			fmt.Fprintln(w, wrap(g.Discovered.Describe()))
		}
		for i, l := range g.Labels {
			fmt.Fprintf(w, "%s\t% .4f\n", l, g.Gamma[i])
		}
		return w.Flush()
	}
	fmt.Fprintf(w, "preset\tweights\tlargest weights\n")
	discovered := false
	for _, g := range list {
		mark := ""
		if g.Discovered != nil {
			mark, discovered = " *", true
		}
		fmt.Fprintf(w, "%s%s\t%d\t%s\n", g.Name, mark, len(g.Gamma), largest(g.Labels, g.Gamma, 3))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if discovered {
		_, err := fmt.Fprintln(s.Out, "\n* discovered by a goalsearch campaign; 'goalsearch goals NAME' says where and what it measured")
		return err
	}
	return nil
}

// largest describes the k weights of largest magnitude, the quickest way to
// tell goals apart.
func largest(labels []string, g []float64, k int) string {
	idx := make([]int, len(g))
	for i := range idx {
		idx[i] = i
	}
	for i := 0; i < len(idx); i++ {
		for j := i + 1; j < len(idx); j++ {
			if abs(g[idx[j]]) > abs(g[idx[i]]) {
				idx[i], idx[j] = idx[j], idx[i]
			}
		}
	}
	out := ""
	for _, i := range idx[:min(k, len(idx))] {
		if g[i] == 0 {
			break
		}
		if out != "" {
			out += "  "
		}
		out += fmt.Sprintf("%s %+.2f", labels[i], g[i])
	}
	return out
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// borrowedPresets says, for the help text, which setups use another's
// presets.
func borrowedPresets() string {
	var out string
	for _, s := range setups.Of(setups.Infomorphic) {
		if s.PresetsOf != "" {
			out += "\n\n" + wrap(fmt.Sprintf("Setup %s has no presets of its own and takes those of %s: --goal naive with --setup %s is %s/naive.", s.Name, s.PresetsOf, s.Name, s.PresetsOf))
		}
	}
	return out
}
