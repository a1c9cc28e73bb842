// Package trainer trains layers of infomorphic neurons: binary stochastic
// neurons that each maximise a weighted sum G = gamma · (PID atoms, H_res) of
// the partial information decomposition of their binned inputs and their own
// output (Schneider et al., "What should a neuron aim for?", ICLR 2025).
//
// A Layer has n = 2 or 3 source classes (1 = feedforward F, 2 = context C,
// 3 = lateral L). For a minibatch it computes, per neuron i and sample m,
//
//	s_k[m, i] = sum_j W_k[i, j] x_k[m, j] + b_k[i]          (one affine map per source class)
//	theta     = P(Y = +1) = activation(s_1, ..., s_n)        (Graetz or Schneider)
//	bin_k     = bin of s_k (fixed range or max-normalised)   (Binning)
//
// then hands bins and theta to the PID engine (package pid), which builds each
// neuron's soft histogram, decomposes it and returns dG_i/dtheta. The layer's
// loss is -sum_i G_i; Learn back-propagates it through the activation to the
// weights and biases. Adam, with PyTorch's semantics, updates them.
//
// Numbers follow the published reference implementation (PyTorch,
// Priesemann-Group/Infomorphic_Networks): bin edges are computed exactly as
// torch.linspace computes them, values are clamped and bucketised as
// torch.clamp and torch.bucketize do, the Graetz activation's clamp passes no
// gradient outside its range, and the tests check every intermediate quantity
// against golden values produced by that code (testdata/layer_fixture_*.json).
//
// Memory. A Layer allocates its buffers when it first sees a batch size and
// reuses them; the per-minibatch path (Forward, Learn, Sample, Adam.Step)
// allocates nothing. All matrices are row-major; per-sample, per-neuron values
// use the layout [m*neurons + i].
//
// Numeric type. Everything is float64 for now, for parity with the float64
// golden values. The binning is generic over the float type already, because
// its float32 semantics (clamp in float32, compare in float64) are part of
// the reference's behaviour; a float32 layer would follow the same pattern.
//
// Networks and training. A Trainer (train.go) runs one of the paper's
// networks (Setup: context, lateral, context-lateral,
// context-lateral-feedback, and the random-projection and backprop
// baselines) with the reference's protocol: epoch 0 only evaluates, every
// later epoch trains on shuffled minibatches and then evaluates on the
// validation and test images with the label withheld (see EpochMetrics for
// what is reported and how). Config holds every setting, its zero value
// meaning the paper's; an Observer sees each epoch's metrics and may stop
// the run; State saves a run after any epoch so that Restore continues it
// bit for bit. Config.Layers stacks several hidden layers, each fed by the
// one below and learning its own local goal (one shared goal, or one per
// layer); docs/layers.md describes the wiring. The networks are models
// (model.go) that the Trainer drives one minibatch at a time:
// infomorphic.go for the setups whose layers learn PID goals, backprop.go
// for the backprop baseline.
package trainer
