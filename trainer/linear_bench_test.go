package trainer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"goalsearch/pid"
	"goalsearch/trainer/dataset"
)

// Real MNIST for the tests and benchmarks of the image path, loaded once.
var mnistOnce struct {
	once sync.Once
	d    *dataset.Dataset
	err  error
}

// mnistBatch returns the first batch training images of real MNIST (raw
// bytes, row-major), their labels and the standardisation constants. If
// MNIST is not in the module cache (and $CI is unset) it returns a synthetic
// MNIST-like batch instead and real = false.
func mnistBatch(tb testing.TB, batch int) (raw []uint8, labels []int, mean, std float64, real bool) {
	tb.Helper()
	mnistOnce.once.Do(func() { mnistOnce.d, mnistOnce.err = dataset.LoadMNIST(nil) })
	d, err := mnistOnce.d, mnistOnce.err
	if err != nil {
		if !errors.Is(err, dataset.ErrNotFound) || os.Getenv("CI") != "" {
			tb.Fatal(err)
		}
		raw, labels = syntheticImages(batch, 784, 1)
		return raw, labels, 33.3184, 78.5675, false
	}
	p := d.Pixels()
	raw = make([]uint8, batch*p)
	labels = make([]int, batch)
	for m := 0; m < batch; m++ {
		copy(raw[m*p:], d.Train.Image(m))
		labels[m] = int(d.Train.Labels[m])
	}
	return raw, labels, d.Mean(), d.Std(), true
}

// syntheticImages returns batch random MNIST-like images of pixels pixels
// (a square side): a blob of strokes around the centre, ~80 % zeros, with
// MNIST's mix of saturated (255) and intermediate values, and random labels.
func syntheticImages(batch, pixels int, seed uint64) ([]uint8, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	side := 1
	for side*side < pixels {
		side++
	}
	raw := make([]uint8, batch*pixels)
	labels := make([]int, batch)
	for m := 0; m < batch; m++ {
		labels[m] = rng.IntN(10)
		img := raw[m*pixels : (m+1)*pixels]
		for j := range img {
			r, c := j/side, j%side
			dr, dc := float64(r)-float64(side-1)/2, float64(c)-float64(side-1)/2
			if dr*dr+dc*dc > float64(side*side)/9 {
				continue // outside the central disc (~35 % of the area)
			}
			switch u := rng.Float64(); {
			case u < 0.45:
			case u < 0.75:
				img[j] = 255
			default:
				img[j] = uint8(1 + rng.IntN(254))
			}
		}
	}
	return raw, labels
}

// standardise returns (raw - mean)/std as float64, as dataset.Standardize64.
func standardise(raw []uint8, mean, std float64) []float64 {
	x := make([]float64, len(raw))
	for j, v := range raw {
		x[j] = (float64(v) - mean) / std
	}
	return x
}

// oneHot returns the batch × classes one-hot encoding of labels.
func oneHot(labels []int, classes int) []float64 {
	x := make([]float64, len(labels)*classes)
	for m, c := range labels {
		x[m*classes+c] = 1
	}
	return x
}

// hiddenConfig is the paper's context-lateral hidden layer: 784 image
// inputs, 10 label inputs, 100 lateral inputs, 100 neurons.
func hiddenConfig(threads int) LayerConfig {
	return LayerConfig{
		Inputs:     []int{784, 10, 100},
		Neurons:    100,
		Masks:      []Mask{{}, {}, {Kind: NoSelfMask}},
		Activation: HiddenSchneider,
		Binning:    PaperFixedBinning,
		Goal:       make([]float64, pid.MustLattice(3).GoalLen()),
		Seed:       5,
		Threads:    threads,
	}
}

// A hiddenStep is the linear algebra of one training minibatch of the
// context-lateral hidden layer, without the PID: step 1 (image, label,
// lateral 0), sampling, step 2 (image reused, label, lateral = step 1's
// output), and the backward pass of a fixed dLoss/dtheta.
type hiddenStep struct {
	l                 *Layer
	raw               []uint8
	x, label, zeros   []float64
	out, gTheta       []float64
	mean, std         float64
	batch             int
	sparse            bool
	step1, step2, eva [][]float64
}

func newHiddenStep(tb testing.TB, threads, batch int, sparse bool) *hiddenStep {
	raw, labels, mean, std, _ := mnistBatch(tb, batch)
	l := mustLayer(tb, hiddenConfig(threads))
	h := &hiddenStep{l: l, raw: raw, mean: mean, std: std, batch: batch, sparse: sparse}
	h.label = oneHot(labels, 10)
	h.zeros = make([]float64, batch*100)
	h.out = make([]float64, batch*100)
	h.gTheta = make([]float64, batch*100)
	rng := rand.New(rand.NewPCG(3, 3))
	for j := range h.gTheta {
		h.gTheta[j] = rng.NormFloat64() / float64(batch)
	}
	if !sparse {
		h.x = standardise(raw, mean, std)
	}
	h.step1 = [][]float64{h.x, h.label, h.zeros}
	h.step2 = [][]float64{nil, h.label, h.out}
	return h
}

func (h *hiddenStep) forward1() {
	if h.sparse {
		h.l.ForwardImage(h.raw, h.mean, h.std, h.step1, h.batch)
	} else {
		h.l.Forward(h.step1, h.batch)
	}
}

func (h *hiddenStep) train() {
	h.forward1()
	h.l.Sample(h.out)
	h.l.Forward(h.step2, h.batch)
	copy(h.l.gTheta, h.gTheta)
	h.l.backward()
}

// BenchmarkHiddenStep is the linear algebra of one training minibatch of
// the context-lateral hidden layer (784+10+100 → 100, batch 1024) on real
// MNIST (synthetic MNIST-like images if the module is absent): two forward
// passes and one backward pass, no PID. image=dense feeds standardised
// float64 images through Forward; image=sparse feeds the raw bytes through
// ForwardImage.
func BenchmarkHiddenStep(b *testing.B) {
	for _, sparse := range []bool{false, true} {
		for _, threads := range []int{1, 2} {
			name := fmt.Sprintf("image=%s/threads=%d", map[bool]string{false: "dense", true: "sparse"}[sparse], threads)
			b.Run(name, func(b *testing.B) {
				h := newHiddenStep(b, threads, 1024, sparse)
				h.train()
				b.ReportAllocs()
				for b.Loop() {
					h.train()
				}
			})
		}
	}
}

// BenchmarkHiddenEval is the linear algebra of one evaluation minibatch of
// the hidden layer: two forward passes with the label withheld (context 0).
func BenchmarkHiddenEval(b *testing.B) {
	for _, sparse := range []bool{false, true} {
		for _, threads := range []int{1, 2} {
			name := fmt.Sprintf("image=%s/threads=%d", map[bool]string{false: "dense", true: "sparse"}[sparse], threads)
			b.Run(name, func(b *testing.B) {
				h := newHiddenStep(b, threads, 1024, sparse)
				h.step1[1], h.step2[1] = h.zeros[:1024*10], h.zeros[:1024*10]
				eval := func() {
					h.forward1()
					h.l.Sample(h.out)
					h.l.Forward(h.step2, h.batch)
				}
				eval() // sizes the buffers
				b.ReportAllocs()
				for b.Loop() {
					eval()
				}
			})
		}
	}
}

// BenchmarkImageProduct is the image source alone: W_1 x + b_1 and its
// weight gradient for 1024 MNIST images and 100 neurons.
func BenchmarkImageProduct(b *testing.B) {
	for _, sparse := range []bool{false, true} {
		for _, threads := range []int{1, 2} {
			for _, dir := range []string{"forward", "backward"} {
				name := fmt.Sprintf("image=%s/%s/threads=%d", map[bool]string{false: "dense", true: "sparse"}[sparse], dir, threads)
				b.Run(name, func(b *testing.B) {
					h := newHiddenStep(b, threads, 1024, sparse)
					h.train()
					l := h.l
					in := l.in[0]
					p := l.linPool()
					size := h.batch * l.neurons
					b.ReportAllocs()
					for b.Loop() {
						if dir == "forward" {
							in.forward(p, l.s[0][:size], l.w[0], l.b[0], h.batch, l.neurons)
						} else {
							in.backward(p, l.gw[0], l.gb[0], h.gTheta, h.batch, l.neurons)
						}
					}
				})
			}
		}
	}
}

// BenchmarkLateralProduct is the ±1 lateral source alone (100 → 100, batch
// 1024): forward and weight gradient. The input is listed by its rarer
// sign (a sparse input with background ±1).
func BenchmarkLateralProduct(b *testing.B) {
	for _, threads := range []int{1, 2} {
		for _, dir := range []string{"forward", "backward"} {
			b.Run(fmt.Sprintf("%s/threads=%d", dir, threads), func(b *testing.B) {
				h := newHiddenStep(b, threads, 1024, true)
				h.train()
				l := h.l
				in := l.in[2]
				if sp, ok := in.(*sparseInput); !ok || sp.x0 == 0 {
					b.Fatalf("lateral input is %T, want sparse with background ±1", in)
				}
				p := l.linPool()
				size := h.batch * l.neurons
				b.ReportAllocs()
				for b.Loop() {
					if dir == "forward" {
						in.forward(p, l.s[2][:size], l.w[2], l.b[2], h.batch, l.neurons)
					} else {
						in.backward(p, l.gw[2], l.gb[2], h.gTheta, h.batch, l.neurons)
					}
				}
			})
		}
	}
}
