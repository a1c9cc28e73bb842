package tpe

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"goalsearch/search/asktell"
)

// TPE learns which choice of a categorical coordinate is good: on a
// function whose value is 1 lower for choice 2 of 4, its later proposals
// pick choice 2 far more often than the quarter of a uniform draw, and
// every proposal of that coordinate is a choice's centre.
func TestChoicesAreLearnt(t *testing.T) {
	lower, upper := []float64{-1, -1, 0}, []float64{1, 1, 4}
	o, err := NewWithChoices(lower, upper, []int{0, 0, 4}, Config{StartupTrials: 8}, 5)
	if err != nil {
		t.Fatal(err)
	}
	f := func(x []float64) float64 {
		v := x[0]*x[0] + x[1]*x[1]
		if math.Floor(x[2]) != 2 {
			v++
		}
		return v
	}
	late := 0
	for k := range 60 {
		xs, err := o.Ask(1)
		if err != nil {
			t.Fatal(err)
		}
		x := xs[0]
		if c := x[2] - 0.5; c != math.Floor(c) || c < 0 || c > 3 {
			t.Fatalf("point %d: categorical coordinate %v is not a choice's centre", k, x[2])
		}
		if k >= 30 && math.Floor(x[2]) == 2 {
			late++
		}
		if err := o.Tell(k, asktell.Result{Value: f(x)}); err != nil {
			t.Fatal(err)
		}
	}
	// Uniform choices would give about 7.5 of 30 (seed 5 gives 18).
	if late < 15 {
		t.Fatalf("choice 2 in %d of the last 30 proposals, want at least 15", late)
	}
	// The state carries the choices and restores only into the same box.
	st := o.State()
	b, _ := json.Marshal(st)
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	plain, _ := New(lower, upper, Config{StartupTrials: 8}, 5)
	if err := plain.Restore(back); !errors.Is(err, ErrState) {
		t.Fatalf("restoring a state with choices into a continuous box: %v", err)
	}
	again, _ := NewWithChoices(lower, upper, []int{0, 0, 4}, Config{StartupTrials: 8}, 5)
	if err := again.Restore(back); err != nil {
		t.Fatal(err)
	}
	x1, _ := o.Ask(1)
	x2, _ := again.Ask(1)
	for j := range x1[0] {
		if math.Float64bits(x1[0][j]) != math.Float64bits(x2[0][j]) {
			t.Fatalf("restored optimiser proposes %v, the original %v", x2[0], x1[0])
		}
	}
}

func TestChoicesNeedTheirInterval(t *testing.T) {
	if _, err := NewWithChoices([]float64{0}, []float64{3}, []int{4}, Config{}, 1); !errors.Is(err, ErrConfig) {
		t.Fatalf("4 choices on [0, 3]: %v", err)
	}
}
