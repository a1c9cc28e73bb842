package trainer

import (
	"errors"

	"goalsearch/pid"
)

// EpochMetrics is what one epoch reports, following the reference's
// protocol (spec §5 and shared/refbench): the training figures are means
// over the epoch's minibatches as they were trained, the validation and test
// figures come from one pass over each set after the epoch's last update.
//
// All fields but the seconds are deterministic: the same Config, data and
// seed give the same values bit for bit.
type EpochMetrics struct {
	// Epoch is 0 for the initial evaluation, then 1, 2, ...
	Epoch int `json:"epoch"`
	// Updated is false for epoch 0, whose training pass takes no
	// optimiser step.
	Updated bool `json:"updated"`

	// TrainLoss is the reference's train_loss: the mean over the epoch's
	// minibatches of the sum of both layers' losses, each -sum_i G_i over
	// its neurons (in bits). For the backprop baseline it is the mean
	// cross-entropy.
	TrainLoss float64 `json:"train_loss"`
	// HiddenLoss and OutputLoss are the two layers' shares of TrainLoss (0 for
	// the backprop baseline).
	HiddenLoss float64 `json:"hidden_loss"`
	OutputLoss float64 `json:"output_loss"`

	// TrainAccWithLabel is the accuracy on the training minibatches as they
	// were trained, with the label given as context (so it is not a test
	// of the network: the label reaches the hidden layer), before each
	// batch's update.
	TrainAccWithLabel Accuracy `json:"train_acc_with_label"`
	// Val and Test are the accuracies with the label withheld (context
	// zeros), hidden units still sampled. Val.BatchMean is the paper's
	// objective. Test is only reported, never used for a decision.
	Val  Accuracy `json:"val_acc"`
	Test Accuracy `json:"test_acc"`

	// HiddenAtoms and OutputAtoms are the PID atoms and H_res (goal order)
	// averaged over the epoch's training minibatches and over the layer's
	// neurons: what the neurons achieved. Nil for the backprop baseline's
	// hidden and output layers, which have no goal.
	HiddenAtoms []float64 `json:"hidden_atoms_mean"`
	OutputAtoms []float64 `json:"output_atoms_mean"`
	// HiddenNeuronAtoms and OutputNeuronAtoms hold the same per neuron,
	// [neuron][atom], averaged over the epoch's training minibatches: the
	// interpretability reports compare what single neurons achieve.
	HiddenNeuronAtoms [][]float64 `json:"hidden_neuron_atoms,omitempty"`
	OutputNeuronAtoms [][]float64 `json:"output_neuron_atoms,omitempty"`

	// Layers holds each hidden layer's loss and mean atoms, bottom up, in a
	// network of several hidden layers (nil for one, whose figures are
	// HiddenLoss and HiddenAtoms). HiddenLoss is then the sum of the
	// layers' losses, and HiddenAtoms and HiddenNeuronAtoms are the first
	// hidden layer's.
	Layers []LayerMetrics `json:"layers,omitempty"`

	// Wall-clock seconds of the training pass and of the two evaluations.
	TrainSeconds float64 `json:"train_s"`
	ValSeconds   float64 `json:"val_s"`
	TestSeconds  float64 `json:"test_s"`
}

// LayerMetrics is one hidden layer's share of an epoch's training figures,
// means over the epoch's minibatches.
type LayerMetrics struct {
	Loss  float64   `json:"loss"`
	Atoms []float64 `json:"atoms_mean"`
}

// An Observer is called after every epoch with its metrics, and may stop the
// run: if it returns an error, Run stops after that epoch and returns the
// error, except ErrStop, which stops the run with a nil error. The epoch is
// complete when the Observer is called, so a checkpoint taken then (State)
// resumes after it. A search uses it to report progress and to prune.
type Observer func(EpochMetrics) error

// ErrStop is returned by an Observer to end a run early without an error.
var ErrStop = errors.New("trainer: stop requested")

// epochAccum sums an epoch's per-batch training figures.
type epochAccum struct {
	batches                 int
	loss, hidden, output    float64
	acc                     accCounter
	hiddenAtoms, outAtoms   []float64   // sums over batches of per-layer neuron means
	hiddenNeuron, outNeuron []float64   // sums over batches, [neuron*len + atom]
	layerLoss               []float64   // per hidden layer of several: sums over batches
	layerAtoms              [][]float64 // per hidden layer of several: as hiddenAtoms
}

// addLayer adds one batch's loss and decompositions of hidden layer l (of
// several) to a.
func (a *epochAccum) addLayer(l int, loss float64, res []*pid.Result) {
	for len(a.layerLoss) <= l {
		a.layerLoss = append(a.layerLoss, 0)
		a.layerAtoms = append(a.layerAtoms, make([]float64, len(res[0].Atoms)+1))
	}
	a.layerLoss[l] += loss
	addAtoms(a.layerAtoms[l], res)
}

// layers returns the per-layer means over n batches, nil for a network of
// one hidden layer.
func (a *epochAccum) layers(n int) []LayerMetrics {
	var out []LayerMetrics
	for l, loss := range a.layerLoss {
		out = append(out, LayerMetrics{Loss: loss / float64(n), Atoms: meanOf(a.layerAtoms[l], n)})
	}
	return out
}

func (a *epochAccum) reset(hiddenLen, outLen int) {
	*a = epochAccum{hiddenAtoms: resize(a.hiddenAtoms, hiddenLen), outAtoms: resize(a.outAtoms, outLen),
		hiddenNeuron: a.hiddenNeuron[:0], outNeuron: a.outNeuron[:0]}
}

// addNeuronAtoms adds one batch's decompositions to sum, per neuron.
func addNeuronAtoms(sum []float64, res []*pid.Result) []float64 {
	if len(res) == 0 {
		return sum
	}
	l := len(res[0].Atoms) + 1
	if len(sum) != l*len(res) {
		sum = resize(sum, l*len(res))
	}
	for i, r := range res {
		row := sum[i*l : i*l+l]
		for k, v := range r.Atoms {
			row[k] += v
		}
		row[l-1] += r.HRes
	}
	return sum
}

// neuronMeans divides per-neuron sums of l entries by n batches.
func neuronMeans(sum []float64, l, n int) [][]float64 {
	if len(sum) == 0 || l == 0 || n == 0 {
		return nil
	}
	out := make([][]float64, len(sum)/l)
	for i := range out {
		out[i] = make([]float64, l)
		for k := range out[i] {
			out[i][k] = sum[i*l+k] / float64(n)
		}
	}
	return out
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// addAtoms adds the neuron mean of one batch's decompositions to sum.
func addAtoms(sum []float64, res []*pid.Result) {
	inv := 1 / float64(len(res))
	var batch [32]float64 // goal vectors have at most 19 entries for n <= 3
	b := batch[:len(sum)]
	for _, r := range res {
		for k, v := range r.Atoms {
			b[k] += v
		}
		b[len(sum)-1] += r.HRes
	}
	for k := range sum {
		sum[k] += b[k] * inv
	}
}

func meanOf(sum []float64, n int) []float64 {
	if sum == nil || n == 0 {
		return nil
	}
	out := make([]float64, len(sum))
	for k, v := range sum {
		out[k] = v / float64(n)
	}
	return out
}
