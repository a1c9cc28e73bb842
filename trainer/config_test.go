package trainer

import (
	"context"
	"math"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{Setup: Context, Goal: []float64{0, 0, 1, 0, 0}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		edit func(c *Config)
		msg  string
	}{
		{"unknown setup", func(c *Config) { c.Setup = "nope" }, `unknown setup "nope"`},
		{"no goal", func(c *Config) { c.Goal = nil }, "setup context needs a goal of 5 weights"},
		{"short goal", func(c *Config) { c.Goal = []float64{1, 2} }, "goal of 2 weights, want 5"},
		{"trivariate goal", func(c *Config) { c.Setup = ContextLateral }, "goal of 5 weights, want 19"},
		{"NaN goal", func(c *Config) { c.Goal = []float64{0, math.NaN(), 0, 0, 0} }, "goal weight 2 is NaN"},
		{"goal for baseline", func(c *Config) { c.Setup = RandomProjection }, "setup random-projection takes no goal"},
		{"hidden", func(c *Config) { c.Hidden = -1 }, "-1 hidden neurons"},
		{"batch", func(c *Config) { c.BatchSize = -5 }, "batch size -5"},
		{"val fraction", func(c *Config) { c.ValFraction = 1 }, "validation fraction 1"},
		{"limit", func(c *Config) { c.TestLimit = -1 }, "negative limit"},
		{"fan-in", func(c *Config) { c.LateralFanIn = -1 }, "lateral fan-in -1"},
		{"threads", func(c *Config) { c.Threads = -1 }, "-1 threads"},
		{"output goal", func(c *Config) { c.OutputGoal = []float64{1} }, "output goal of 1 weights"},
		{"binning", func(c *Config) { c.HiddenBinning = &Binning{Kind: FixedBins, Lo: 1, Hi: 1} }, "hidden binning"},
		{"adam", func(c *Config) { c.OutputAdam = &AdamConfig{LR: -1} }, "output optimiser"},
		{"activation", func(c *Config) { c.Graetz = &Graetz{K1: math.Inf(1)} }, "activation constant"},
	}
	for _, b := range bad {
		c := ok
		b.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("%s: %v, want %q", b.name, err, b.msg)
		}
		if _, err := New(c, smallData(t)); err == nil {
			t.Errorf("%s: New accepted it", b.name)
		}
	}
}

// Zero fields take the paper's values; the run keeps its own copies.
func TestConfigDefaults(t *testing.T) {
	g := []float64{0, 0, 1, 0, 0}
	d := Config{Setup: Context, Goal: g}.withDefaults()
	if d.Hidden != 100 || d.Epochs != 10 || d.BatchSize != 1024 || d.ValFraction != 0.2 || d.Threads != 1 {
		t.Errorf("defaults %+v", d)
	}
	if *d.HiddenBinning != PaperAdaptiveBinning || *d.OutputBinning != PaperAdaptiveBinning ||
		*d.Graetz != HiddenGraetz || *d.HiddenAdam != HiddenAdam || *d.OutputAdam != OutputAdam {
		t.Errorf("defaults %+v", d)
	}
	if tri := (Config{Setup: ContextLateral}).withDefaults(); *tri.HiddenBinning != PaperFixedBinning || *tri.Schneider != HiddenSchneider {
		t.Errorf("trivariate defaults %+v", tri)
	}
	g[2] = 5
	if d.Goal[2] != 1 {
		t.Error("the config shares the caller's goal")
	}
	if (Config{Setup: Context, Epochs: -1}).withDefaults().Epochs != 0 {
		t.Error("negative epochs")
	}
}

func TestParseSetup(t *testing.T) {
	for _, s := range Setups() {
		if got, err := ParseSetup(string(s)); err != nil || got != s {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	if _, err := ParseSetup("contxt"); err == nil || !strings.Contains(err.Error(), "context-lateral-feedback") {
		t.Errorf("unknown setup: %v", err)
	}
	if Context.TakesGoal() != true || Backprop.TakesGoal() || RandomProjection.TakesGoal() {
		t.Error("TakesGoal")
	}
	if ContextLateral.HiddenSources() != 3 || Lateral.Steps() != 2 || Context.Steps() != 1 {
		t.Error("setup facts")
	}
}

// Only epoch 0 with Epochs < 0; Epochs 0 is the default 10.
func TestEpochCount(t *testing.T) {
	cfg := smallConfig(Context, -1)
	cfg.TrainLimit, cfg.ValLimit, cfg.TestLimit = 64, 64, 64
	ms, err := Train(context.Background(), cfg, smallData(t), nil)
	if err != nil || len(ms) != 1 || ms[0].Updated {
		t.Errorf("%d epochs, %v", len(ms), err)
	}
}

// The lateral fan-in keeps that many partners per neuron, never itself.
func TestLateralFanIn(t *testing.T) {
	cfg := smallConfig(ContextLateral, 1)
	cfg.LateralFanIn = 4
	tr := mustTrainer(t, cfg, smallData(t))
	mask := tr.net.(*infomorphic).hidden[0].Mask(2)
	h := cfg.Hidden
	for i := 0; i < h; i++ {
		n := 0
		for j := 0; j < h; j++ {
			n += int(mask[i*h+j])
		}
		if n != 4 || mask[i*h+i] != 0 {
			t.Errorf("neuron %d: %d partners, self %v", i, n, mask[i*h+i])
		}
	}
}
