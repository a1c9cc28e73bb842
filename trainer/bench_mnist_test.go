package trainer

import (
	"context"
	"runtime"
	"strconv"
	"testing"

	"goalsearch/trainer/dataset"
)

// BenchmarkMNISTEpoch is the speed target: one full epoch on real
// MNIST (48k training images, then the 12k validation and 10k test
// evaluations), 100 hidden neurons, batch 1024, on 1 and 2 cores
// (GOMAXPROCS and the trainer's threads both set), and the paper's large
// network (2000 hidden neurons, lateral fan-in 100) on 2 cores. It reports the seconds
// of the training pass and of the evaluation, training samples per second,
// for the 100-neuron networks the reference's training time over ours
// (ref_x; the reference on this kind of machine, shared/refbench: 2.2 s
// per training epoch for context, 15.5 s for context-lateral, 3.3 s for
// backprop, all with their naive goals), and for the large network the
// process's peak resident memory so far (peak_MB: it runs last and is the
// largest, so the peak is its own).
func BenchmarkMNISTEpoch(b *testing.B) {
	refTrain := map[Setup]float64{Context: 2.2, ContextLateral: 15.5, Backprop: 3.3}
	d, err := dataset.LoadMNIST(nil)
	if err != nil {
		b.Skip("MNIST not in the module cache: ", err)
	}
	type run struct {
		setup         Setup
		hidden, fanIn int
		threads       int
	}
	var runs []run
	for _, s := range []Setup{Context, ContextLateral, Backprop} {
		for _, threads := range []int{1, 2} {
			runs = append(runs, run{s, 0, 0, threads})
		}
	}
	// The paper's large network: 2000 hidden neurons, lateral fan-in 100.
	runs = append(runs, run{ContextLateral, 2000, 100, 2})
	for _, r := range runs {
		name := string(r.setup)
		if r.hidden > 0 {
			name += "/hidden=" + strconv.Itoa(r.hidden) + "/fanin=" + strconv.Itoa(r.fanIn)
		}
		threads := r.threads
		{
			b.Run(name+"/cores="+strconv.Itoa(threads), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
				cfg := Config{Setup: r.setup, Goal: naiveGoal(r.setup), Seed: 30, Threads: threads, Epochs: 100,
					Hidden: r.hidden, LateralFanIn: r.fanIn}
				tr := mustTrainer(b, cfg, d)
				// Epoch 0 only evaluates; run it first so every timed
				// epoch trains.
				if _, err := tr.RunEpoch(context.Background()); err != nil {
					b.Fatal(err)
				}
				var train, eval float64
				n := 0
				for b.Loop() {
					m, err := tr.RunEpoch(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					train += m.TrainSeconds
					eval += m.ValSeconds + m.TestSeconds
					n++
				}
				trainN, _, _ := tr.Sizes()
				b.ReportMetric(train/float64(n), "train_s/epoch")
				b.ReportMetric(eval/float64(n), "eval_s/epoch")
				b.ReportMetric(float64(trainN)*float64(n)/train, "samples/s")
				if r.hidden == 0 {
					b.ReportMetric(refTrain[r.setup]/(train/float64(n)), "ref_x")
				} else {
					if mb, ok := peakRSSMB(); ok {
						b.ReportMetric(mb, "peak_MB")
					}
				}
			})
		}
	}
}
