package trainer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"goalsearch/trainer/dataset"
)

// A Trainer runs the reference's training protocol (spec §5) for one Config
// on one data set:
//
//	epoch 0:      one pass over the training set without updates, then evaluation
//	epoch 1..E:   one pass with an optimiser step per minibatch, then evaluation
//
// where a pass visits the training set in minibatches of BatchSize, shuffled
// anew every epoch, and evaluation is one pass over the validation and one
// over the test set with the label withheld. The validation set is a seeded
// ValFraction of the data set's training images; the test set is the data
// set's test images, only ever reported.
//
// Every random stream comes from Config.Seed, and its state is part of the
// State a checkpoint saves: a run stopped after any epoch and restored
// continues bit for bit as if it had not stopped. Results do not depend on
// Config.Threads or GOMAXPROCS.
//
// A Trainer is not safe for concurrent use. Close releases its goroutines.
type Trainer struct {
	cfg  Config // defaults applied
	data *dataset.Dataset

	train, val, test []int
	batches          *dataset.Batches
	net              model

	epoch   int // epochs completed, the next epoch's number
	metrics []EpochMetrics
	// broken is set when an epoch stopped half way (cancelled or failed):
	// the state is then between two epochs' worth of updates and the run
	// cannot continue until a State is restored.
	broken   error
	progress func(Progress)

	// Minibatch buffers.
	bd      batchData
	raw     []uint8
	nzIdx   [][]uint16 // per sample: views of the data set's pixel lists
	nzVal   [][]uint8
	x       []float64
	label   []float64
	labels  []int
	means   []float64
	acc     epochAccum
	classes int
}

// New prepares a run: it splits the data, builds the network and
// initialises its weights. The data set must not change while the Trainer
// uses it. Errors: an invalid Config, or data too small for the limits and
// split (every set needs at least one image).
func New(cfg Config, data *dataset.Dataset) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if data == nil {
		panic("trainer: New with nil data")
	}
	c := cfg.withDefaults()
	t := &Trainer{cfg: c, data: data, classes: data.NumClasses}
	t.train, t.val = dataset.Split(data.Train.Len(), c.ValFraction, c.Seed)
	t.test = make([]int, data.Test.Len())
	for i := range t.test {
		t.test[i] = i
	}
	t.train = limit(t.train, c.TrainLimit)
	t.val = limit(t.val, c.ValLimit)
	t.test = limit(t.test, c.TestLimit)
	if len(t.train) == 0 || len(t.val) == 0 || len(t.test) == 0 {
		return nil, fmt.Errorf("trainer: %d training, %d validation and %d test images; every set needs at least one", len(t.train), len(t.val), len(t.test))
	}
	if t.classes < 2 {
		return nil, fmt.Errorf("trainer: data set has %d classes, want at least 2", t.classes)
	}
	t.batches = dataset.NewBatches(t.train, c.BatchSize, c.Seed)
	net, err := newModel(&t.cfg, data.Pixels(), t.classes)
	if err != nil {
		return nil, err
	}
	t.net = net
	b := c.BatchSize
	if net.rawImages() {
		if data.Train.NonZero() != nil && data.Test.NonZero() != nil {
			t.nzIdx, t.nzVal = make([][]uint16, b), make([][]uint8, b)
		} else {
			t.raw = make([]uint8, b*data.Pixels())
		}
	} else {
		t.x = make([]float64, b*data.Pixels())
	}
	t.label = make([]float64, b*t.classes)
	t.labels = make([]int, b)
	t.means = make([]float64, t.classes)
	return t, nil
}

func limit(idx []int, n int) []int {
	if n > 0 && n < len(idx) {
		return idx[:n:n]
	}
	return idx
}

// Train runs cfg on data from the start to the last epoch, calling obs (if
// not nil) after every epoch, and returns the metrics of the epochs that
// finished. See Trainer.Run for the errors.
func Train(ctx context.Context, cfg Config, data *dataset.Dataset, obs Observer) ([]EpochMetrics, error) {
	t, err := New(cfg, data)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	err = t.Run(ctx, obs)
	return t.Metrics(), err
}

// Config returns the configuration in use, defaults applied. Its Epochs is
// the number of training epochs, 0 for a run of epoch 0 only (which New
// takes as -1).
func (t *Trainer) Config() Config { return t.cfg.clone() }

// Sizes returns the number of training, validation and test images.
func (t *Trainer) Sizes() (train, val, test int) { return len(t.train), len(t.val), len(t.test) }

// BatchesPerEpoch returns the number of training minibatches per epoch.
func (t *Trainer) BatchesPerEpoch() int { return t.batches.Len() }

// Epoch returns the number of epochs completed, which is the number of the
// next epoch to run (epoch 0 is the first).
func (t *Trainer) Epoch() int { return t.epoch }

// Done reports whether every epoch of the Config has run.
func (t *Trainer) Done() bool { return t.epoch > t.cfg.Epochs }

// Metrics returns a copy of the metrics of the completed epochs.
func (t *Trainer) Metrics() []EpochMetrics {
	out := make([]EpochMetrics, len(t.metrics))
	for i, m := range t.metrics {
		out[i] = m.clone()
	}
	return out
}

func (m EpochMetrics) clone() EpochMetrics {
	m.HiddenAtoms = cloneFloats(m.HiddenAtoms)
	m.OutputAtoms = cloneFloats(m.OutputAtoms)
	if m.Layers != nil {
		m.Layers = slices.Clone(m.Layers)
		for i := range m.Layers {
			m.Layers[i].Atoms = cloneFloats(m.Layers[i].Atoms)
		}
	}
	return m
}

func cloneFloats(s []float64) []float64 {
	if s == nil {
		return nil
	}
	return append([]float64(nil), s...)
}

// Params returns a copy of the network's parameter vectors, in a fixed
// order: the hidden layers' bottom up, then the output layer's, each laid
// out as Layer.Params.
func (t *Trainer) Params() [][]float64 {
	var out [][]float64
	for _, p := range t.net.params() {
		out = append(out, cloneFloats(p))
	}
	return out
}

// A Phase is a part of an epoch.
type Phase int

// The phases of an epoch, in order.
const (
	Training Phase = iota
	Validating
	Testing
)

func (p Phase) String() string {
	switch p {
	case Training:
		return "train"
	case Validating:
		return "val"
	case Testing:
		return "test"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// Progress says how far an epoch has got, for progress bars.
type Progress struct {
	Epoch int
	Phase Phase
	// Done of Total minibatches of the phase have run.
	Done, Total int
	// TrainAcc and Loss are the running means over the epoch's training
	// minibatches so far (TrainAcc with the label as context).
	TrainAcc, Loss float64
}

// OnProgress sets a function called after every minibatch, from the
// goroutine running the epoch; nil removes it. It must be quick.
func (t *Trainer) OnProgress(f func(Progress)) { t.progress = f }

// Run runs the remaining epochs, calling obs (if not nil) after each; see
// Observer for how it stops the run. It returns:
//
//   - nil when the last epoch has run or obs returned ErrStop;
//   - obs's error;
//   - ctx's error if ctx is cancelled; the epoch under way is abandoned
//     (checked between minibatches), the completed ones keep their metrics;
//   - an error matching ErrNonFinite if the weights diverged.
//
// After an abandoned or failed epoch the Trainer cannot run on (its state
// is half way through an epoch) until Restore.
func (t *Trainer) Run(ctx context.Context, obs Observer) error {
	for !t.Done() {
		m, err := t.RunEpoch(ctx)
		if err != nil {
			return err
		}
		if obs != nil {
			if err := obs(m.clone()); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
		}
	}
	return nil
}

// RunEpoch runs the next epoch (even beyond Config.Epochs) and returns its
// metrics. Errors are those of Run.
func (t *Trainer) RunEpoch(ctx context.Context) (EpochMetrics, error) {
	if t.broken != nil {
		return EpochMetrics{}, fmt.Errorf("trainer: an earlier epoch stopped half way (%w); restore a State to go on", t.broken)
	}
	m, err := t.runEpoch(ctx)
	if err != nil {
		t.broken = err
		return EpochMetrics{}, err
	}
	t.metrics = append(t.metrics, m)
	t.epoch++
	return m.clone(), nil
}

func (t *Trainer) runEpoch(ctx context.Context) (EpochMetrics, error) {
	epoch := t.epoch
	m := EpochMetrics{Epoch: epoch, Updated: epoch > 0}
	start := time.Now()
	hl, ol := t.net.atomLens()
	t.acc.reset(hl, ol)
	total := t.batches.Len()
	for {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		idx := t.batches.Next()
		if idx == nil {
			break
		}
		t.feed(&t.data.Train, idx, true)
		pred, err := t.net.trainBatch(&t.bd, m.Updated, &t.acc)
		if err != nil {
			return m, fmt.Errorf("trainer: epoch %d, training batch %d: %w", epoch, t.acc.batches+1, err)
		}
		correct, err := CountCorrect(pred, t.bd.labels, t.classes, t.means)
		if err != nil {
			return m, fmt.Errorf("trainer: epoch %d, training batch %d: %w", epoch, t.acc.batches+1, err)
		}
		t.acc.acc.add(correct, t.bd.n)
		t.acc.batches++
		if t.progress != nil {
			t.progress(Progress{Epoch: epoch, Phase: Training, Done: t.acc.batches, Total: total,
				TrainAcc: t.acc.acc.sumBatchAcc / float64(t.acc.batches), Loss: t.acc.loss / float64(t.acc.batches)})
		}
	}
	if err := t.checkParams(); err != nil {
		return m, fmt.Errorf("trainer: epoch %d: %w", epoch, err)
	}
	nb := float64(t.acc.batches)
	m.TrainLoss = t.acc.loss / nb
	m.HiddenLoss = t.acc.hidden / nb
	m.OutputLoss = t.acc.output / nb
	m.Layers = t.acc.layers(t.acc.batches)
	m.TrainAccWithLabel = t.acc.acc.result()
	if hl > 0 {
		m.HiddenAtoms = meanOf(t.acc.hiddenAtoms, t.acc.batches)
		m.HiddenNeuronAtoms = neuronMeans(t.acc.hiddenNeuron, hl, t.acc.batches)
	}
	if ol > 0 {
		m.OutputAtoms = meanOf(t.acc.outAtoms, t.acc.batches)
		m.OutputNeuronAtoms = neuronMeans(t.acc.outNeuron, ol, t.acc.batches)
	}
	if math.IsNaN(m.TrainLoss) || math.IsInf(m.TrainLoss, 0) {
		return m, fmt.Errorf("trainer: epoch %d: %w (loss %v)", epoch, ErrNonFinite, m.TrainLoss)
	}
	m.TrainSeconds = time.Since(start).Seconds()

	var err error
	start = time.Now()
	if m.Val, err = t.evaluate(ctx, Validating, &t.data.Train, t.val, tagVal, epoch); err != nil {
		return m, err
	}
	m.ValSeconds = time.Since(start).Seconds()
	if t.cfg.NoTest {
		return m, nil
	}
	start = time.Now()
	if m.Test, err = t.evaluate(ctx, Testing, &t.data.Test, t.test, tagTest, epoch); err != nil {
		return m, err
	}
	m.TestSeconds = time.Since(start).Seconds()
	return m, nil
}

// feed loads the images idx of set into the minibatch buffers, with the
// one-hot label if withLabel. It is the one place where dataset rows become
// layer input.
func (t *Trainer) feed(set *dataset.Set, idx []int, withLabel bool) {
	n, p, c := len(idx), t.data.Pixels(), t.classes
	t.bd.n = n
	t.bd.labels = t.labels[:n]
	t.bd.img, t.bd.x = imageSource{mean: t.data.Mean(), std: t.data.Std()}, nil
	switch {
	case t.nzIdx != nil:
		nz := set.NonZero()
		for r, i := range idx {
			t.nzIdx[r], t.nzVal[r] = nz.Image(i)
			t.bd.labels[r] = int(set.Labels[i])
		}
		t.bd.img.idx, t.bd.img.val = t.nzIdx[:n], t.nzVal[:n]
	case t.raw != nil:
		t.bd.img.raw = t.raw[:n*p]
		for r, i := range idx {
			copy(t.bd.img.raw[r*p:(r+1)*p], set.Image(i))
			t.bd.labels[r] = int(set.Labels[i])
		}
	default:
		t.bd.img, t.bd.x = imageSource{}, t.x[:n*p]
		t.data.Batch64(t.bd.x, t.bd.labels, set, idx)
	}
	t.bd.label = nil
	if withLabel {
		l := t.label[:n*c]
		clear(l)
		for m, y := range t.bd.labels {
			l[m*c+y] = 1
		}
		t.bd.label = l
	}
}

// evaluate runs one pass over the images idx of set with the label withheld.
// As in the reference, the pass is in minibatches of BatchSize in a shuffled
// order (which matters: the inversion of output neurons is decided per
// minibatch), and the hidden units are sampled. The order and the samples
// come from a stream derived from the seed, the set and the epoch, so an
// evaluation neither depends on nor changes any other random stream.
func (t *Trainer) evaluate(ctx context.Context, phase Phase, set *dataset.Set, idx []int, tag uint64, epoch int) (Accuracy, error) {
	seed := deriveSeed(t.cfg.Seed, tag, uint64(epoch))
	it := dataset.NewBatches(idx, t.cfg.BatchSize, seed)
	rng := rand.NewPCG(seed, streamSample)
	var acc accCounter
	total := it.Len()
	for b := it.Next(); b != nil; b = it.Next() {
		if err := ctx.Err(); err != nil {
			return Accuracy{}, err
		}
		t.feed(set, b, false)
		pred, err := t.net.evalBatch(&t.bd, rng)
		if err == nil {
			var correct int
			if correct, err = CountCorrect(pred, t.bd.labels, t.classes, t.means); err == nil {
				acc.add(correct, t.bd.n)
			}
		}
		if err != nil {
			return Accuracy{}, fmt.Errorf("trainer: epoch %d, %v batch %d: %w", epoch, phase, acc.batches+1, err)
		}
		if t.progress != nil {
			t.progress(Progress{Epoch: epoch, Phase: phase, Done: acc.batches, Total: total,
				TrainAcc: t.acc.acc.sumBatchAcc / float64(max(1, t.acc.batches)), Loss: t.acc.loss / float64(max(1, t.acc.batches))})
		}
	}
	return acc.result(), nil
}

// checkParams reports diverged parameters, which the next minibatch would
// report only after an evaluation had silently sampled from them.
func (t *Trainer) checkParams() error {
	for i, p := range t.net.params() {
		for j, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%w (parameter %d of vector %d is %v)", ErrNonFinite, j, i, v)
			}
		}
	}
	return nil
}

// Close stops the PID engines' goroutines. The Trainer must not be used
// afterwards.
func (t *Trainer) Close() {
	if t.net != nil {
		t.net.close()
		t.net = nil
	}
}
