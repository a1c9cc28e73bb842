package search

import (
	"fmt"
	"slices"

	"goalsearch/setups"
	"goalsearch/trainer"
)

// TrainerConfig returns the training configuration that a network setup's
// configuration describes, without goal, seed, epochs or threads (which
// each trial sets). Zero settings stay zero, so that package trainer fills
// in the paper's values.
func TrainerConfig(cfg setups.NetworkConfig) (trainer.Config, error) {
	s, err := trainer.ParseSetup(cfg.Setup)
	if err != nil {
		return trainer.Config{}, err
	}
	tc := trainer.Config{
		Setup: s, Hidden: cfg.Hidden, Epochs: cfg.Epochs, BatchSize: cfg.Batch, ValFraction: cfg.ValFraction,
		TrainLimit: cfg.TrainLimit, LateralFanIn: cfg.FanIn, OutputGoal: cfg.OutputGoal, Layers: cfg.Layers,
	}
	if tc.HiddenBinning, err = binningOf(cfg.HiddenLayer.Binning, "hidden_layer"); err != nil {
		return tc, err
	}
	if tc.OutputBinning, err = binningOf(cfg.OutputLayer.Binning, "output_layer"); err != nil {
		return tc, err
	}
	tc.HiddenAdam = adamOf(cfg.HiddenLayer.Adam)
	tc.OutputAdam = adamOf(cfg.OutputLayer.Adam)
	if a := cfg.HiddenLayer.Activation; a != nil {
		if s.HiddenSources() == 3 {
			if a.K1 != 0 || a.K2 != 0 {
				return tc, fmt.Errorf("network.hidden_layer.activation: k1, k2 are the Graetz activation's; setup %s's trivariate layer takes c1, c2, w1, w2", s)
			}
			tc.Schneider = &trainer.Schneider{C1: a.C1, C2: a.C2, W1: a.W1, W2: a.W2}
		} else {
			if a.C1 != 0 || a.C2 != 0 || a.W1 != 0 || a.W2 != 0 {
				return tc, fmt.Errorf("network.hidden_layer.activation: c1, c2, w1, w2 are the Schneider activation's; setup %s's bivariate layer takes k1, k2", s)
			}
			tc.Graetz = &trainer.Graetz{K1: a.K1, K2: a.K2}
		}
	}
	if a := cfg.OutputLayer.Activation; a != nil {
		return tc, fmt.Errorf("network.output_layer.activation: the output layer's activation is fixed (Graetz, k1 1, k2 2)")
	}
	return tc, nil
}

func binningOf(b *setups.Binning, layer string) (*trainer.Binning, error) {
	if b == nil {
		return nil, nil
	}
	out := &trainer.Binning{Bins: b.Bins, Lo: b.Lower, Hi: b.Upper}
	switch b.Kind {
	case "fixed":
		out.Kind = trainer.FixedBins
	case "adaptive":
		// Adaptive binning always bins [-1, 1]: lower and upper are
		// ignored, so that a search over the kind can keep fixed
		// binning's range.
		out.Kind = trainer.AdaptiveBins
	default:
		return nil, fmt.Errorf("network.%s.binning.kind: %q; want fixed or adaptive", layer, b.Kind)
	}
	return out, nil
}

func adamOf(a *setups.Adam) *trainer.AdamConfig {
	if a == nil {
		return nil
	}
	return &trainer.AdamConfig{LR: a.LR, WeightDecay: a.WeightDecay, Beta1: a.Betas[0], Beta2: a.Betas[1], Eps: a.Eps}
}

// FullNetworkConfig returns cfg with every zero setting replaced by the
// paper's value for its setup (package trainer's defaults), so that every
// setting can be read and set by its key path. Epochs is left as it is.
func FullNetworkConfig(cfg setups.NetworkConfig) (setups.NetworkConfig, error) {
	s, err := trainer.ParseSetup(cfg.Setup)
	if err != nil {
		return cfg, err
	}
	def := paperNetwork(s)
	if cfg.Hidden == 0 {
		cfg.Hidden = def.Hidden
	}
	if cfg.Batch == 0 {
		cfg.Batch = def.Batch
	}
	if cfg.ValFraction == 0 {
		cfg.ValFraction = def.ValFraction
	}
	if cfg.OutputGoal == nil {
		cfg.OutputGoal = slices.Clone(def.OutputGoal)
	}
	cfg.HiddenLayer = fullLayer(cfg.HiddenLayer, def.HiddenLayer)
	cfg.OutputLayer = fullLayer(cfg.OutputLayer, def.OutputLayer)
	return cfg, nil
}

// CompactNetworkConfig returns cfg with every setting that equals the
// paper's value for its setup left out, the form in which a study stores it:
// a study created from an experiment and one created by the flags of
// earlier versions then have the same configuration.
func CompactNetworkConfig(cfg setups.NetworkConfig) (setups.NetworkConfig, error) {
	s, err := trainer.ParseSetup(cfg.Setup)
	if err != nil {
		return cfg, err
	}
	def := paperNetwork(s)
	if cfg.Batch == def.Batch {
		cfg.Batch = 0
	}
	if cfg.ValFraction == def.ValFraction {
		cfg.ValFraction = 0
	}
	if slices.Equal(cfg.OutputGoal, def.OutputGoal) {
		cfg.OutputGoal = nil
	}
	cfg.HiddenLayer = compactLayer(cfg.HiddenLayer, def.HiddenLayer)
	cfg.OutputLayer = compactLayer(cfg.OutputLayer, def.OutputLayer)
	return cfg, nil
}

// paperNetwork is the network configuration of package trainer's defaults.
func paperNetwork(s trainer.Setup) setups.NetworkConfig {
	hb := trainer.PaperAdaptiveBinning
	act := &setups.Activation{K1: trainer.HiddenGraetz.K1, K2: trainer.HiddenGraetz.K2}
	if s.HiddenSources() == 3 {
		hb = trainer.PaperFixedBinning
		sc := trainer.HiddenSchneider
		act = &setups.Activation{C1: sc.C1, C2: sc.C2, W1: sc.W1, W2: sc.W2}
	}
	return setups.NetworkConfig{
		Setup: string(s), Hidden: trainer.DefaultHidden, Batch: trainer.DefaultBatchSize,
		ValFraction: trainer.DefaultValFraction, OutputGoal: slices.Clone(trainer.OutputGoal),
		HiddenLayer: setups.Layer{Binning: binningRec(hb), Adam: adamRec(trainer.HiddenAdam), Activation: act},
		OutputLayer: setups.Layer{Binning: binningRec(trainer.PaperAdaptiveBinning), Adam: adamRec(trainer.OutputAdam)},
	}
}

func binningRec(b trainer.Binning) *setups.Binning {
	r := &setups.Binning{Kind: b.Kind.String(), Bins: b.Bins}
	if b.Kind == trainer.FixedBins {
		r.Lower, r.Upper = b.Lo, b.Hi
	}
	return r
}

// adamRec writes out PyTorch's defaults, which AdamConfig leaves zero.
func adamRec(a trainer.AdamConfig) *setups.Adam {
	return &setups.Adam{LR: a.LR, WeightDecay: a.WeightDecay, Betas: [2]float64{0.9, 0.999}, Eps: 1e-8}
}

func fullLayer(l, def setups.Layer) setups.Layer {
	if l.Binning == nil {
		l.Binning = def.Binning
	}
	if l.Adam == nil {
		l.Adam = def.Adam
	}
	if l.Activation == nil {
		l.Activation = def.Activation
	}
	return l
}

func compactLayer(l, def setups.Layer) setups.Layer {
	if l.Binning != nil && *l.Binning == *def.Binning {
		l.Binning = nil
	}
	if l.Adam != nil && *l.Adam == *def.Adam {
		l.Adam = nil
	}
	if l.Activation != nil && def.Activation != nil && *l.Activation == *def.Activation {
		l.Activation = nil
	}
	return l
}
