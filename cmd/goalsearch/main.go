// Command goalsearch searches for the local goals of infomorphic neurons:
// it trains networks whose neurons maximise weighted sums of partial
// information decomposition atoms, and searches the weights.
//
// Each sub-command lives in its own file with an options struct filled by
// flags and a run function, so tests can call the behaviour directly with
// their own streams.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// streams are a command's input and outputs, injected so tests can run
// commands against buffers.
type streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// usageError marks an error in how the command was called: it is printed
// with the usage and exits with code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

func main() {
	os.Exit(run(os.Args[1:], streams{os.Stdin, os.Stdout, os.Stderr}))
}

// run executes the command line and maps errors to exit codes in one place:
// 0 success, 1 a runtime error, 2 a usage error.
func run(args []string, s streams) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	fmt.Fprintf(s.ErrOut, "goalsearch: %v\n", err)
	var u usageError
	if errors.As(err, &u) {
		fmt.Fprintf(s.ErrOut, "\n%s", cmd.UsageString())
		return 2
	}
	return 1
}

func newRootCmd(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "goalsearch",
		Short: "Discover what an infomorphic neuron should aim for",
		Long: `goalsearch trains networks of infomorphic neurons, each maximising a weighted
sum (the goal vector) of partial information decomposition atoms of its
inputs and output, and searches the space of goal vectors.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newPIDCmd(s), newGoalsCmd(s), newTrainCmd(s), newSearchCmd(s), newStatusCmd(s), newTrialsCmd(s), newExportCmd(s), newImportCmd(s), newWorkerCmd(s), newMigrateCmd(s))
	root.AddCommand(newEvaluateCmd(s), newAnalyzeCmd(s), newReproduceCmd(s))
	root.AddCommand(newReportCmd(s), newFidelityCmd(s), newDashboardCmd(s))
	return root
}

// exactlyOne is the Args check of a command that takes one argument: a
// wrong count is a usage error naming what was wanted ("one study name").
func exactlyOne(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usagef("want %s, got %d arguments", what, len(args))
		}
		return nil
	}
}

// atMostOne is the Args check of a command that takes an optional argument.
func atMostOne(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > 1 {
			return usagef("want at most %s, got %d arguments", what, len(args))
		}
		return nil
	}
}
