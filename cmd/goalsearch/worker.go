package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"goalsearch/search"
	"goalsearch/store"
)

type workerOptions struct {
	Store   string
	Study   string
	Trials  int
	Slots   int
	GenSize int
	Threads int
	Time    time.Duration
	Lease   time.Duration
	Poll    time.Duration
	Retry   time.Duration
	Name    string
	JSON    bool
}

func newWorkerCmd(s streams) *cobra.Command {
	o := &workerOptions{}
	cmd := &cobra.Command{
		Use:   "worker --store postgres://... [--study NAME] [flags]",
		Short: "Join a study on a shared PostgreSQL store and run its trials",
		Long: `worker joins a study that lives in a PostgreSQL store and runs its trials,
together with any number of other workers on any machines; start as many as
you like, at any time (e.g. 'srun goalsearch worker ...' under SLURM).

Workers claim queued trials (SELECT ... FOR UPDATE SKIP LOCKED) and renew a
lease on each while they train it. A worker that dies loses its trials when
their lease expires (--lease); another worker continues them from their last
checkpoint, and a late result of the dead one is refused. No process
coordinates the sampler: the worker that finds a generation complete tells
the sampler, asks the next generation and saves both in one transaction, so
the study proposes exactly what a single 'goalsearch search --workers G'
would have, where G is --generation-size (the same for every worker of a
study; with a pruner, proposals depend on timing anyway). --trials is exact:
workers start only trials numbered below it.

Create the study first with 'goalsearch search --store postgres://... --study
NAME --setup ... --trials 0'. Without --study, the worker joins the store's
only study. Ctrl-C once hands the running trials back after their current
epoch; twice aborts them.`,
		Example: `  goalsearch worker --store 'postgres:///goalsearch?host=/run/postgresql' --study demo --trials 200
  srun goalsearch worker --store "$GOALSEARCH_PG" --study demo --trials 200 --slots 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runWorker(cmd.Context(), o, s) },
	}
	f := cmd.Flags()
	addStoreFlag(cmd, &o.Store)
	f.StringVar(&o.Study, "study", "", "the study to join (default: the store's only study)")
	f.IntVar(&o.Trials, "trials", 0, "finished trials the study should have; 0: until the sampler is done")
	f.IntVar(&o.Slots, "slots", 1, "trials this worker runs at once")
	f.IntVar(&o.GenSize, "generation-size", 1, "points per generation of the tpe, random and sobol samplers; the same for all workers")
	// --batch was this flag's name before "batch" came to mean only a
	// minibatch (train --batch); it still works.
	f.IntVar(&o.GenSize, "batch", 1, "")
	f.MarkHidden("batch")
	f.IntVar(&o.Threads, "threads", 0, "threads per trial (default: the cores divided among the slots)")
	f.DurationVar(&o.Time, "time", 0, "stop this worker after this long")
	f.DurationVar(&o.Lease, "lease", 0, "how long a trial stays leased without a heartbeat (default 1m); the same for all workers")
	f.DurationVar(&o.Poll, "poll", 500*time.Millisecond, "how often to look again when no trial is free")
	f.DurationVar(&o.Retry, "retry", 5*time.Minute, "how long to keep retrying while the database is unreachable")
	f.StringVar(&o.Name, "name", "", "this worker's name in the store (default host:pid)")
	f.BoolVar(&o.JSON, "json", false, "print the summary as JSON")
	return cmd
}

func runWorker(ctx context.Context, o *workerOptions, s streams) error {
	if o.Slots < 1 || o.GenSize < 1 || o.Trials < 0 {
		return usagef("--slots %d, --generation-size %d, --trials %d: want at least 1 slot and 1 point per generation, and a non-negative budget", o.Slots, o.GenSize, o.Trials)
	}
	if err := checkWorkerFlags(o); err != nil {
		return err
	}
	if o.Threads == 0 {
		o.Threads = max(1, runtime.NumCPU()/o.Slots)
	}
	if o.Name == "" {
		host, _ := os.Hostname()
		o.Name = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := openStoreLease(o.Store, false, o.Lease)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, ok := st.(store.Leaser); !ok {
		fmt.Fprintf(s.ErrOut, "note: %s is a file, which one process holds at a time: this worker runs alone\n", o.Store)
	}
	study, err := pickStudy(ctx, st, o.Study, o.Store)
	if err != nil {
		return err
	}
	// Evaluation studies (goalsearch evaluate, analyze, reproduce) are run
	// by workers too.
	obj, smp, err := search.ForStudy(study, o.Threads)
	if err != nil {
		return err
	}

	ctx, stop, release := interruptible(ctx, s, "running trials go back to the queue after their current epoch")
	defer release()

	prog := newSearchProgress(s, study, o.Trials)
	sum, err := search.Work(ctx, st, study.Name, obj, smp, search.WorkerOptions{
		Slots: o.Slots, GenerationSize: o.GenSize, Trials: o.Trials, Time: o.Time, Name: o.Name,
		Stop: stop, Observer: prog.observe, Poll: o.Poll, Retry: o.Retry,
	})
	prog.close()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return printSearchSummary(s, &searchOptions{JSON: o.JSON}, study, sum)
}

// pickStudy returns the named study, or the store's only one.
func pickStudy(ctx context.Context, st store.Store, name, where string) (store.Study, error) {
	if name != "" {
		return st.Study(ctx, name)
	}
	all, err := st.Studies(ctx)
	if err != nil {
		return store.Study{}, err
	}
	if len(all) != 1 {
		return store.Study{}, usagef("%s holds %d studies: name one with --study", storeName(where, st), len(all))
	}
	return all[0], nil
}

// runDriver runs a search in this process: on a file, with search.Run; on
// a shared store (PostgreSQL), as a worker with Slots slots and
// generations of Slots points, so that workers started elsewhere may join
// the same study and the study proposes what search.Run would have.
func runDriver(ctx context.Context, st store.Store, study string, obj search.Objective, smp search.Sampler, o search.Options) (search.Summary, error) {
	if _, shared := st.(store.Leaser); !shared {
		return search.Run(ctx, st, study, obj, smp, o)
	}
	return search.Work(ctx, st, study, obj, smp, search.WorkerOptions{
		Slots: o.Slots, GenerationSize: max(o.Slots, 1), Trials: o.Trials, Time: o.Time, Name: o.Name,
		Stop: o.Stop, Observer: o.Observer,
	})
}
