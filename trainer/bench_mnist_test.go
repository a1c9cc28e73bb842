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
// (GOMAXPROCS and the trainer's threads both set). It reports the seconds
// of the training pass and of the evaluation, and training samples per
// second. The reference measured 2.2 s (context) and 15.5 s
// (context-lateral) per training epoch plus 0.5 s and 4 s of evaluation on
// this kind of machine (shared/refbench).
func BenchmarkMNISTEpoch(b *testing.B) {
	d, err := dataset.LoadMNIST(nil)
	if err != nil {
		b.Skip("MNIST not in the module cache: ", err)
	}
	for _, s := range []Setup{Context, ContextLateral, Backprop} {
		for _, threads := range []int{1, 2} {
			b.Run(string(s)+"/cores="+strconv.Itoa(threads), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
				cfg := Config{Setup: s, Goal: naiveGoal(s), Seed: 30, Threads: threads, Epochs: 100}
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
			})
		}
	}
}
