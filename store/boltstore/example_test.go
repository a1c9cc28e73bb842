package boltstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"goalsearch/store"
	"goalsearch/store/boltstore"
)

// A search driver's use of the store: resume (requeue what a killed run
// left running), claim a trial, train it from its checkpoint with a report
// per epoch, finish it, and export the study.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "goalsearch")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	s, err := boltstore.Open(filepath.Join(dir, "goalsearch.db"), nil)
	if err != nil {
		panic(err) // store.ErrLocked if another goalsearch has the file open
	}
	defer s.Close()

	_, err = s.CreateStudy(ctx, store.Study{
		Name:  "demo",
		Setup: store.Setup{Name: "context"},
		Space: store.SearchSpace{
			Labels: []string{"{1}", "{2}", "{1}{2}", "{12}", "H_res"},
			Lower:  []float64{-1, -1, -1, -1, -1},
			Upper:  []float64{1, 1, 1, 1, 1},
		},
		Objective: store.Objective{Metric: "val_acc", Direction: store.Maximize},
		Sampler:   store.SamplerConfig{Name: "random"},
		Seed:      1,
	})
	if err != nil {
		panic(err)
	}
	if _, err := s.RequeueRunning(ctx, "demo"); err != nil {
		panic(err)
	}
	if _, err := s.EnqueueTrial(ctx, "demo", store.NewTrial{Gamma: []float64{0, 0, 1, 0, 0}, Seed: 7}); err != nil {
		panic(err)
	}

	t, err := s.ClaimTrial(ctx, "demo", "worker-1")
	if err != nil {
		panic(err)
	}
	// A resumed trial would start after t.CheckpointEpoch, from the
	// weights in s.Checkpoint.
	for epoch := t.CheckpointEpoch + 1; epoch <= 3; epoch++ {
		m := store.EpochMetrics{Epoch: epoch, ValAcc: 0.9 + float64(epoch)/100}
		if err := s.ReportEpoch(ctx, t.Claim(), m, []byte("weights, moments, rng")); err != nil {
			panic(err)
		}
	}
	v := 0.93
	t, err = s.FinishTrial(ctx, t.Claim(), store.Result{State: store.Complete, Value: &v})
	if err != nil {
		panic(err)
	}
	fmt.Println("trial", t.Number, t.State, "after", t.LastEpoch(), "epochs")

	if err := store.ExportCSV(ctx, s, "demo", os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// trial 0 complete after 3 epochs
	// number,state,generation,seed,value,{1},{2},{1}{2},{12},H_res,epochs,wall_seconds,reason
	// 0,complete,0,7,0.93,0,0,1,0,0,3,0,
}
