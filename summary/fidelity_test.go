package summary

import (
	"math"
	"testing"

	"goalsearch/store"
)

func TestSpearman(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name string
		x, y []float64
		want float64 // closed form: Pearson correlation of the ranks, worked by hand
	}{
		{"identical order", []float64{0.1, 0.5, 0.3, 0.9}, []float64{1, 5, 3, 9}, 1},
		{"reversed", []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		// ranks y = 1, 2, 3.5, 5, 3.5: r = 8 / sqrt(10 * 9.5)
		{"ties take mean ranks", []float64{1, 2, 3, 4, 5}, []float64{5, 6, 7, 8, 7}, 8 / math.Sqrt(95)},
		// monotone but not linear: ranks agree exactly
		{"monotone transform", []float64{1, 2, 3, 4, 5}, []float64{1, 8, 27, 64, 125}, 1},
		{"two pairs", []float64{1, 2}, []float64{1, 2}, nan},
		{"constant", []float64{1, 1, 1}, []float64{1, 2, 3}, nan},
	} {
		got := Spearman(c.x, c.y)
		if math.IsNaN(c.want) {
			if !math.IsNaN(got) {
				t.Errorf("%s: Spearman = %v, want NaN", c.name, got)
			}
			continue
		}
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: Spearman = %.15g, want %.15g", c.name, got, c.want)
		}
	}
}

func TestRanksTies(t *testing.T) {
	got := Ranks([]float64{3, 1, 3, 2, 3})
	want := []float64{4, 1, 4, 2, 4} // the three 3s span ranks 3, 4, 5
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Ranks = %v, want %v", got, want)
		}
	}
}

func TestTopOverlap(t *testing.T) {
	early := []float64{0.9, 0.8, 0.1, 0.7, 0.2}
	late := []float64{0.1, 0.9, 0.8, 0.7, 0.2}
	// top 2 late: positions 1, 2; top 2 early: 0, 1 -> one shared
	if got := TopOverlap(early, late, 2); got != 0.5 {
		t.Errorf("TopOverlap k=2 = %v, want 0.5", got)
	}
	if got := TopOverlap(early, late, 5); got != 1 {
		t.Errorf("TopOverlap k=n = %v, want 1", got)
	}
	if got := TopOverlap(early, late, 0); !math.IsNaN(got) {
		t.Errorf("TopOverlap k=0 = %v, want NaN", got)
	}
}

func fidTrial(vals ...float64) store.Trial {
	t := store.Trial{State: store.Complete}
	for e, v := range vals {
		t.Epochs = append(t.Epochs, store.EpochMetrics{Epoch: e, ValAcc: v})
	}
	return t
}

func TestMeasureFidelity(t *testing.T) {
	trials := []store.Trial{
		fidTrial(0.1, 0.5, 0.6, 0.90),
		fidTrial(0.1, 0.6, 0.7, 0.80),
		fidTrial(0.1, 0.7, 0.8, 0.85),
		fidTrial(0.1, 0.2, 0.3, 0.95),
		fidTrial(0.1, 0.9),                   // never reached epoch 3: left out
		fidTrial(0.1, math.NaN(), 0.1, 0.10), // no value at epoch 1: left out of that rung only
	}
	rep, err := MeasureFidelity(trials, []int{2, 1, 2}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Final != 3 || rep.Trials != 5 || len(rep.Rungs) != 2 {
		t.Fatalf("report = %+v, want final 3, 5 trials, rungs for epochs 1 and 2", rep)
	}
	r1, r2 := rep.Rungs[0], rep.Rungs[1]
	if r1.Epoch != 1 || r1.Trials != 4 || r2.Epoch != 2 || r2.Trials != 5 {
		t.Fatalf("rungs = %+v", rep.Rungs)
	}
	// Closed form at epoch 1:
	// x = .5 .6 .7 .2, y = .90 .80 .85 .95 → ranks x 2 3 4 1, y 3 1 2 4:
	// d = -1 2 2 -3, sum d² = 18, r = 1 - 6·18/(4·15) = -0.8.
	if math.Abs(r1.Spearman-(-0.8)) > 1e-12 {
		t.Errorf("epoch 1 Spearman = %v, want -0.8", r1.Spearman)
	}
	if r1.Top != 1 || r1.TopOverlap != 0 {
		t.Errorf("epoch 1 top = %d overlap %v, want 1 and 0 (best at epoch 1 is third at the end)", r1.Top, r1.TopOverlap)
	}
	if _, ok := rep.FirstAbove(0.9); ok {
		t.Errorf("FirstAbove(0.9) found a rung in %+v", rep.Rungs)
	}
	if g, ok := rep.FirstAbove(-0.85); !ok || g.Epoch != 1 {
		t.Errorf("FirstAbove(-0.85) = %+v, %v; want epoch 1", g, ok)
	}
}

func TestMeasureFidelityErrors(t *testing.T) {
	trials := []store.Trial{fidTrial(0.1, 0.5, 0.6)}
	for _, c := range []struct {
		name   string
		epochs []int
		final  int
	}{
		{"final 0", []int{0}, 0},
		{"epoch at final", []int{2}, 2},
		{"negative epoch", []int{-1}, 2},
		{"nobody reached final", []int{1}, 5},
	} {
		if _, err := MeasureFidelity(trials, c.epochs, c.final); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
