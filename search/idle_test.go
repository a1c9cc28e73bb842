package search

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"goalsearch/setups"
	"goalsearch/store"
)

// idleCost enables TestIdleCost, which takes a few minutes:
// go test ./search -run IdleCost -search.idle -v
var idleCost = flag.Bool("search.idle", false, "measure the slots' idle time with ASHA, asynchronous against generation-synchronous asking (slow)")

// TestIdleCost measures what generation-synchronous asking costs when a
// pruner makes trials differ in length: TPE and CMA-ES on 5-D Rastrigin,
// 27 epochs of 50 ms (ASHA rungs at 1, 3 and 9 epochs), 2 slots, 60
// trials, 3 study seeds; TPE asked asynchronously (the driver's choice with
// a pruner) and generation-synchronously (its choice without one).
// A slot is idle while no trial runs on it (from the driver's events);
// the idle share is the idle slot-time over 2 × the wall time. (The store's
// fsync per epoch is not idle time: it is part of running a trial.)
func TestIdleCost(t *testing.T) {
	if !*idleCost {
		t.Skip("run with -search.idle")
	}
	const epochs, perEpoch, trials, slots = 27, 50 * time.Millisecond, 60, 2
	obj, _ := NewSynthetic("rastrigin", setups.SyntheticConfig{Dim: 5, Epochs: epochs, Sleep: epochs * perEpoch})
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n| sampler | asking | wall (s) | idle slots | pruned | best |\n|---|---|---:|---:|---:|---:|\n")
	for _, c := range []struct {
		sampler string
		sync    bool
	}{{"tpe", false}, {"tpe", true}, {"cmaes", false}} {
		var wall, idle time.Duration
		var pruned int
		var best float64
		for seed := range uint64(3) {
			st := openStore(t, filepath.Join(t.TempDir(), "s.db"))
			study := sphereStudy("i", 5, "asha")
			study.Setup.Name, study.Sampler.Name, study.Seed = "rastrigin", c.sampler, seed
			if _, err := st.CreateStudy(context.Background(), study); err != nil {
				t.Fatal(err)
			}
			sp, _ := NewSpace(study.Space)
			smp, err := NewSampler(c.sampler, sp.Box(), nil, seed)
			if err != nil {
				t.Fatal(err)
			}
			begin := time.Now()
			last, running := begin, 0
			observe := func(e Event) {
				// Called on the driver's goroutine, in order.
				now := time.Now()
				idle += time.Duration(slots-running) * now.Sub(last)
				last, running = now, e.Running
			}
			sum, err := Run(context.Background(), st, "i", obj, smp, Options{Slots: slots, Trials: trials, synchronous: c.sync, Observer: observe})
			if err != nil {
				t.Fatal(err)
			}
			end := time.Now()
			idle += time.Duration(slots-running) * end.Sub(last)
			wall += end.Sub(begin)
			ts, _ := st.Trials(context.Background(), "i")
			for _, tr := range ts {
				if tr.State == store.Pruned {
					pruned++
				}
			}
			best += *sum.Best.Value / 3
		}
		asking := "asynchronous"
		if c.sync || c.sampler == "cmaes" {
			asking = "generations"
		}
		fmt.Fprintf(&sb, "| %s | %s | %.1f | %.0f %% | %.0f %% | %.1f |\n", c.sampler, asking, wall.Seconds()/3,
			100*idle.Seconds()/(slots*wall.Seconds()), 100*float64(pruned)/(3*trials), -best)
	}
	t.Log(sb.String())
}
