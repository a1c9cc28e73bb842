package trainer

import (
	"encoding"
	"math"
	"math/rand/v2"
)

// A model is one network of spec §5 with its optimisers: the part of a run
// that differs between setups. The Trainer owns the data, the batching, the
// metrics and the checkpoints, and drives a model one minibatch at a time.
//
// It is the extension point for new networks: the infomorphic setups share
// one implementation (infomorphic.go), the backprop baseline has its own
// (backprop.go), and newModel picks one by Setup.
type model interface {
	// trainBatch runs one training minibatch with the label as context,
	// adds its losses and atoms to acc and, if update, takes one optimiser
	// step. It returns the output layer's probabilities of the batch before
	// the step (batch × classes), valid until the next call.
	trainBatch(b *batchData, update bool, acc *epochAccum) ([]float64, error)
	// evalBatch runs the network with the label withheld (context zeros),
	// sampling binary units from rng, and returns the output layer's
	// probabilities (batch × classes), valid until the next call.
	evalBatch(b *batchData, rng *rand.PCG) ([]float64, error)
	// atomLens is the length of the hidden and output layers' atom
	// vectors in the metrics, 0 for a layer that reports none.
	atomLens() (hidden, output int)
	// params lists the parameter vectors, in a fixed order. They are views:
	// a checkpoint copies them out and back in.
	params() [][]float64
	// optimisers lists the optimisers, in a fixed order.
	optimisers() []*Adam
	// rngs lists the random streams that training advances, in a fixed
	// order, for checkpoints.
	rngs() []rngState
	// rawImages reports whether the model reads the minibatch's raw
	// images (batchData.raw) rather than the standardised ones (x).
	rawImages() bool
	// close releases goroutines (the PID engines).
	close()
}

// An rngState is a random stream whose state a checkpoint saves.
type rngState interface {
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// layerSampler exposes a Layer's sampling stream as an rngState.
type layerSampler struct{ l *Layer }

func (s layerSampler) MarshalBinary() ([]byte, error) { return s.l.SamplerState() }
func (s layerSampler) UnmarshalBinary(b []byte) error { return s.l.SetSamplerState(b) }

// batchData is one minibatch as the Trainer hands it to a model.
type batchData struct {
	n int // samples
	// The images, filled by Trainer.feed, the single place that turns
	// dataset rows into layer input: for a model whose rawImages is true,
	// img holds the images with the data set's standardisation constants,
	// as lists of non-zero pixels if the data set has them, else as raw
	// pixels (n × pixels), and x is nil; otherwise x holds the
	// standardised images, n × pixels, and img is empty.
	img imageSource
	x   []float64
	// label is the one-hot label, n × classes (training only).
	label []float64
	// labels is the class of each sample.
	labels []int
}

// newModel builds the network of cfg.Setup for images of pixels inputs and
// classes classes.
func newModel(cfg *Config, pixels, classes int) (model, error) {
	if cfg.Setup == Backprop {
		return newBackprop(cfg, pixels, classes)
	}
	return newInfomorphic(cfg, pixels, classes)
}

// sampleInto sets dst[j] = +1 with probability theta[j], else -1: it draws
// u uniform in [0, 1) from src exactly as rand.Rand.Float64 does (the low 53
// bits of a Uint64, over 2^53) and sets +1 iff u < theta[j], so it
// reproduces rand.New(src).Float64() < theta[j] draw for draw (a NaN theta
// gives -1). It calls the PCG directly and takes the sign from the sign bit
// of m - theta·2^53 (exact: a power-of-two scaling and a subtraction whose
// sign IEEE arithmetic gets right, +0 when equal) rather than from a branch
// that a theta near 1/2 mispredicts half the time: 2.6 ns a draw instead of
// 11.
func sampleInto(dst, theta []float64, src *rand.PCG) {
	dst = dst[:len(theta)]
	for j, t := range theta {
		d := float64(src.Uint64()<<11>>11) - float64(t*(1<<53))
		y := math.Float64frombits(0xBFF0000000000000 ^ math.Float64bits(d)&(1<<63)) // -1, or +1 if d < 0
		if t != t {
			y = -1
		}
		dst[j] = y
	}
}
