package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"goalsearch/trainer"
	"goalsearch/trainer/dataset"
)

// smallMNIST writes a small learnable data set in MNIST's file layout into a
// temporary directory: 8×8 images of 10 classes (each a noisy fixed
// pattern), 600 training and 200 test images.
func smallMNIST(t *testing.T) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	var proto [10][64]bool
	for c := range proto {
		for j := range proto[c] {
			proto[c][j] = rng.IntN(4) == 0
		}
	}
	set := func(n int) dataset.Set {
		s := dataset.Set{Images: dataset.Images{N: n, Rows: 8, Cols: 8, Pix: make([]uint8, n*64)}, Labels: make([]uint8, n)}
		for i := 0; i < n; i++ {
			c := rng.IntN(10)
			s.Labels[i] = uint8(c)
			for j, on := range proto[c] {
				if on != (rng.IntN(10) == 0) {
					s.Pix[i*64+j] = 200
				}
			}
		}
		return s
	}
	d, err := dataset.New(set(600), set(200), &dataset.Options{NumClasses: 10})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := d.WriteDir(dir, false); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTrainFlags(t *testing.T) {
	cases := []struct {
		name string
		opts trainOptions
		ok   func(trainer.Config) bool
		msg  string // usage error expected if not empty
	}{
		{"preset", trainOptions{Setup: "context", Goal: "naive", Hidden: 100, Epochs: 10, Batch: 1024, Threads: 2, Seed: 30},
			func(c trainer.Config) bool {
				return c.Setup == trainer.Context && len(c.Goal) == 5 && c.Goal[2] == 1 && c.Epochs == 10 && c.Seed == 30 && c.Threads == 2
			}, ""},
		{"vector and limits", trainOptions{Setup: "lateral", Goal: "0,0,1,0,0.5", Hidden: 7, Epochs: 3, Batch: 64, Threads: 1, TrainLimit: 100, EvalLimit: 50},
			func(c trainer.Config) bool {
				return c.Goal[4] == 0.5 && c.Hidden == 7 && c.BatchSize == 64 && c.TrainLimit == 100 && c.ValLimit == 50 && c.TestLimit == 50
			}, ""},
		{"epochs 0 means epoch 0 only", trainOptions{Setup: "backprop", Hidden: 1, Epochs: 0, Batch: 1, Threads: 1},
			func(c trainer.Config) bool { return c.Epochs == -1 && c.Goal == nil }, ""},
		{"no setup", trainOptions{Hidden: 1, Batch: 1, Threads: 1}, nil, "--setup is required"},
		{"unknown setup", trainOptions{Setup: "ctx", Hidden: 1, Batch: 1, Threads: 1}, nil, `--setup "ctx": not a setup`},
		{"no goal", trainOptions{Setup: "context-lateral", Hidden: 1, Batch: 1, Threads: 1}, nil, "--goal is required for setup context-lateral: a preset ('goalsearch goals'), or 19 weights in this order: {F}{C}{L}"},
		{"goal for baseline", trainOptions{Setup: "random-projection", Goal: "naive", Hidden: 1, Batch: 1, Threads: 1}, nil, "setup random-projection is a baseline and takes no goal"},
		{"short goal", trainOptions{Setup: "context", Goal: "1,2,3", Hidden: 1, Batch: 1, Threads: 1}, nil, "goal has 3 weights; setup context wants 5 in this order: {F} {C} {F}{C} {FC} H_res"},
		{"NaN goal", trainOptions{Setup: "context", Goal: "0,NaN,0,0,0", Hidden: 1, Batch: 1, Threads: 1}, nil, "goal weight 2 ({C}) is NaN"},
		{"unknown preset", trainOptions{Setup: "lateral", Goal: "best", Hidden: 1, Batch: 1, Threads: 1}, nil, `--goal "best": no such preset for lateral (presets: lateral/naive`},
		{"other setup's preset", trainOptions{Setup: "context", Goal: "context-lateral/naive", Hidden: 1, Batch: 1, Threads: 1}, nil, "is a preset for setup context-lateral, not context"},
		{"hidden", trainOptions{Setup: "backprop", Hidden: 0, Batch: 1, Threads: 1}, nil, "--hidden 0"},
		{"batch", trainOptions{Setup: "backprop", Hidden: 1, Batch: 0, Threads: 1}, nil, "--batch 0"},
		{"threads", trainOptions{Setup: "backprop", Hidden: 1, Batch: 1, Threads: 0}, nil, "--threads 0"},
		{"epochs", trainOptions{Setup: "backprop", Hidden: 1, Batch: 1, Threads: 1, Epochs: -2}, nil, "--epochs -2"},
		{"limit", trainOptions{Setup: "backprop", Hidden: 1, Batch: 1, Threads: 1, EvalLimit: -1}, nil, "--eval-limit"},
		{"fan-in", trainOptions{Setup: "context-lateral", Goal: "naive", Hidden: 50, Batch: 1, Threads: 1, FanIn: 10},
			func(c trainer.Config) bool { return c.LateralFanIn == 10 }, ""},
		{"fan-in too large", trainOptions{Setup: "context-lateral", Goal: "naive", Hidden: 10, Batch: 1, Threads: 1, FanIn: 10}, nil, "--lateral-fanin 10: want 0 (all) or 1 to 9"},
	}
	for _, c := range cases {
		cfg, _, err := trainConfig(&c.opts)
		if c.msg != "" {
			var u usageError
			if err == nil || !strings.Contains(err.Error(), c.msg) || !asUsage(err, &u) {
				t.Errorf("%s: error %v, want a usage error with %q", c.name, err, c.msg)
			}
			continue
		}
		if err != nil || !c.ok(cfg) {
			t.Errorf("%s: %+v, %v", c.name, cfg, err)
		}
	}
}

func asUsage(err error, u *usageError) bool {
	v, ok := err.(usageError)
	if ok {
		*u = v
	}
	return ok
}

// Flags reach the options through cobra, and usage errors exit with 2.
func TestTrainCommandLine(t *testing.T) {
	code, out, errs := runCmd(t, "train", "--setup", "context", "--goal", "1,2")
	if code != 2 || out != "" || !strings.Contains(errs, "wants 5 in this order: {F} {C} {F}{C} {FC} H_res") || !strings.Contains(errs, "Usage:") {
		t.Errorf("bad goal: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, _, errs = runCmd(t, "train", "--setup", "backprop", "--goal", "naive")
	if code != 2 || !strings.Contains(errs, "takes no goal") {
		t.Errorf("goal for backprop: exit %d, %q", code, errs)
	}
	code, _, errs = runCmd(t, "train", "--setup", "backprop", "--data", t.TempDir()+"/none")
	if code != 1 || strings.Contains(errs, "Usage:") || !strings.Contains(errs, "data directory") {
		t.Errorf("missing data: exit %d, %q", code, errs)
	}
}

func TestTrainJSON(t *testing.T) {
	dir := smallMNIST(t)
	code, out, errs := runCmd(t, "train", "--setup", "context", "--goal", "naive", "--hidden", "10", "--epochs", "2",
		"--batch", "100", "--data", dir, "--threads", "2", "--train-limit", "300", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkJSONConventions(t, "train --json", out)
	var rep trainReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Setup != "context" || rep.Hidden != 10 || rep.Batch != 100 || rep.Seed != 30 || rep.Epochs != 2 || rep.Interrupted || rep.Error != "" {
		t.Errorf("report %+v", rep)
	}
	if rep.Data.Train != 300 || rep.Data.Val != 120 || rep.Data.Test != 200 || rep.BatchesPerEpoch != 3 {
		t.Errorf("data %+v, %d batches", rep.Data, rep.BatchesPerEpoch)
	}
	if len(rep.GoalLabels) != 5 || rep.GoalLabels[2] != "{F}{C}" || rep.Goal[2] != 1 {
		t.Errorf("goal %v %v", rep.Goal, rep.GoalLabels)
	}
	if len(rep.Metrics) != 3 || rep.Metrics[0].Updated || !rep.Metrics[2].Updated || rep.Metrics[2].Val.Total != 120 || len(rep.Metrics[1].HiddenAtoms) != 5 {
		t.Errorf("metrics %+v", rep.Metrics)
	}
	// Progress goes to stderr, one line per epoch when it is not a terminal.
	if !strings.Contains(errs, "training context (goal naive: 0 0 1 0 0)") || strings.Count(errs, "\nepoch ") != 3 || !strings.Contains(errs, "epoch 2/2: loss ") {
		t.Errorf("stderr:\n%s", errs)
	}
	// The same seed gives the same numbers.
	_, out2, _ := runCmd(t, "train", "--setup", "context", "--goal", "naive", "--hidden", "10", "--epochs", "2",
		"--batch", "100", "--data", dir, "--threads", "1", "--train-limit", "300", "--json")
	var rep2 trainReport
	json.Unmarshal([]byte(out2), &rep2)
	for i := range rep.Metrics {
		a, b := rep.Metrics[i], rep2.Metrics[i]
		if a.TrainLoss != b.TrainLoss || a.Val != b.Val || a.Test != b.Test {
			t.Errorf("epoch %d differs with 1 thread: %+v vs %+v", i, a, b)
		}
	}
}

func TestTrainTable(t *testing.T) {
	dir := smallMNIST(t)
	code, out, errs := runCmd(t, "train", "--setup", "random-projection", "--hidden", "10", "--epochs", "1",
		"--batch", "100", "--data", dir, "--eval-limit", "50")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "epoch") || !strings.Contains(lines[0], "val acc") ||
		!strings.HasPrefix(strings.TrimSpace(lines[1]), "0 ") || !strings.HasPrefix(strings.TrimSpace(lines[2]), "1 ") ||
		!strings.HasPrefix(lines[3], "* with the label as context") {
		t.Errorf("table:\n%s", out)
	}
}

// cancelOn cancels a context when a line containing match is written.
type cancelOn struct {
	match  string
	cancel context.CancelFunc
	w      strings.Builder
}

func (c *cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.match) {
		c.cancel()
	}
	return c.w.Write(p)
}

// Ctrl-C (a cancelled context) stops after the epochs that finished, which
// are still printed; the run ends with an error (exit 1).
func TestTrainInterrupted(t *testing.T) {
	dir := smallMNIST(t)
	for _, asJSON := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		errw := &cancelOn{match: "epoch 0/3", cancel: cancel}
		var out strings.Builder
		opts := &trainOptions{Setup: "lateral", Goal: "naive", Hidden: 8, Epochs: 3, Seed: 1, Data: dir, Threads: 1, Batch: 100, JSON: asJSON}
		err := runTrain(ctx, opts, streams{strings.NewReader(""), &out, errw})
		cancel()
		if err == nil || !strings.Contains(err.Error(), "interrupted after 1 of 4 epochs") {
			t.Errorf("json %v: error %v", asJSON, err)
		}
		if asJSON {
			var rep trainReport
			if e := json.Unmarshal([]byte(out.String()), &rep); e != nil || !rep.Interrupted || len(rep.Metrics) != 1 {
				t.Errorf("json report %+v (%v)", rep, e)
			}
		} else if !strings.Contains(out.String(), "train acc*") || strings.Count(out.String(), "\n") != 3 {
			t.Errorf("table after interrupt:\n%s", out.String())
		}
	}
}

// The progress bar (for terminals) counts every minibatch and does not
// disturb the report.
func TestTrainProgressBar(t *testing.T) {
	dir := smallMNIST(t)
	var out strings.Builder
	opts := &trainOptions{Setup: "context", Goal: "naive", Hidden: 8, Epochs: 1, Seed: 1, Data: dir, Threads: 1, Batch: 100, progressTTY: true}
	if err := runTrain(context.Background(), opts, streams{strings.NewReader(""), &out, io.Discard}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "\n") != 4 {
		t.Errorf("table:\n%s", out.String())
	}
}
