package trainer

import (
	"fmt"
	"math"
)

// A BinKind selects how source values are put into bins.
type BinKind int

const (
	// FixedBins divides a fixed range [Lo, Hi] into equal bins.
	FixedBins BinKind = iota
	// AdaptiveBins first divides each source value by the largest |value|
	// of that source for that neuron in the minibatch, then divides [-1, 1]
	// into equal bins.
	AdaptiveBins
)

func (k BinKind) String() string {
	switch k {
	case FixedBins:
		return "fixed"
	case AdaptiveBins:
		return "adaptive"
	}
	return fmt.Sprintf("BinKind(%d)", int(k))
}

// Binning describes how a layer bins its sources (the same way for every
// source class), as the reference's BinningFixedSize and BinningAdaptiveSize
// (symmetric, normalised) do.
//
// A value x, after the adaptive normalisation if any, is clamped into
// [edge[0] + 1e-4, edge[Bins]] and goes to the bin i (0-based) with
// edge[i] < x <= edge[i+1], where edge is Edges(). With adaptive binning a
// source that is 0 for the whole minibatch (which the reference would divide
// by zero) is treated as all 0: every sample goes to the bin of 0.
type Binning struct {
	Kind BinKind
	// Bins is the number of bins per source. If Bins is 0, 20 is used.
	Bins int
	// Lo and Hi bound the range of fixed binning. If both are 0, [-20, 20]
	// is used. Adaptive binning ignores them and always uses [-1, 1].
	Lo, Hi float64
}

// The paper's binnings: fixed 20 bins on [-20, 20] for the trivariate hidden
// layer, adaptive 20 bins for the bivariate hidden layer and the output layer.
var (
	PaperFixedBinning    = Binning{Kind: FixedBins, Bins: 20, Lo: -20, Hi: 20}
	PaperAdaptiveBinning = Binning{Kind: AdaptiveBins, Bins: 20}
)

// binClampOffset is the reference's lower clamp offset: values are clamped to
// edge[0] + 1e-4 so that the lowest value falls in bin 0, not below it.
const binClampOffset = 1e-4

// withDefaults returns b with zero fields replaced by their defaults.
func (b Binning) withDefaults() Binning {
	if b.Bins == 0 {
		b.Bins = 20
	}
	if b.Kind == AdaptiveBins {
		b.Lo, b.Hi = -1, 1
	} else if b.Lo == 0 && b.Hi == 0 {
		b.Lo, b.Hi = -20, 20
	}
	return b
}

// Validate reports whether the binning can be used: a known kind, Bins >= 1
// (after the default) and, for fixed binning, finite Lo + 1e-4 < Hi.
func (b Binning) Validate() error {
	d := b.withDefaults()
	switch {
	case d.Kind != FixedBins && d.Kind != AdaptiveBins:
		return fmt.Errorf("trainer: unknown binning kind %d", int(b.Kind))
	case d.Bins < 1:
		return fmt.Errorf("trainer: %d bins", b.Bins)
	case math.IsNaN(d.Lo) || math.IsInf(d.Lo, 0) || math.IsInf(d.Hi, 0) || !(d.Lo+binClampOffset < d.Hi):
		return fmt.Errorf("trainer: binning range [%v, %v] is empty or not finite", b.Lo, b.Hi)
	}
	return nil
}

// Edges returns the Bins+1 bin edges (for adaptive binning, in normalised
// units on [-1, 1]), computed exactly as torch.linspace(lo, hi, Bins+1,
// dtype=torch.double) computes them on the CPU.
func (b Binning) Edges() []float64 {
	d := b.withDefaults()
	return linspace(d.Lo, d.Hi, d.Bins+1)
}

// linspace reproduces torch.linspace for float64 on the CPU (ATen's
// linspace_kernel, torch 1.13), bit for bit. It matters: adaptive binning puts
// every 0 exactly on the middle edge, and whether that edge is +5.6e-17 or 0
// decides nothing there but does elsewhere (a value that lands exactly on an
// edge goes to the lower bin). The kernel runs in chunks of 4 doubles (one
// AVX2 vector), two chunks per iteration; a chunk starting at index i is
// arange(base, step) with base = start + step*i below the halfway index and
// end - step*(steps-i-1) from it on, i.e. base, base+step, base+2*step,
// base+3*step. The elements after the last full pair of chunks are computed
// one by one from the same two formulas.
func linspace(start, end float64, steps int) []float64 {
	out := make([]float64, steps)
	if steps == 1 {
		out[0] = start
		return out
	}
	step := (end - start) / float64(steps-1)
	halfway := steps / 2
	at := func(i int) float64 {
		// float64() conversions stop the compiler from fusing into an FMA.
		if i < halfway {
			return start + float64(step*float64(i))
		}
		return end - float64(step*float64(steps-i-1))
	}
	const vec = 4
	i := 0
	for ; i <= steps-2*vec; i += vec {
		base := at(i)
		out[i] = base
		out[i+1] = base + step
		out[i+2] = base + float64(2*step)
		out[i+3] = base + float64(3*step)
	}
	for ; i < steps; i++ {
		out[i] = at(i)
	}
	return out
}

// float is the set of floating-point types binning works on.
type float interface{ ~float32 | ~float64 }

// A binner bins values for one Binning. It is immutable after newBinner.
type binner struct {
	adaptive bool
	nbins    int
	edges    []float64 // nbins+1 edges, as torch.linspace computes them
	lo, hi   float64   // clamp bounds: edges[0]+1e-4 (a float64 sum, as in torch) and edges[nbins]
	invWidth float64   // nbins / (edges[nbins] - edges[0]), for the first guess
}

func newBinner(b Binning) *binner {
	if err := b.Validate(); err != nil {
		panic(err.Error())
	}
	d := b.withDefaults()
	e := linspace(d.Lo, d.Hi, d.Bins+1)
	return &binner{
		adaptive: d.Kind == AdaptiveBins,
		nbins:    d.Bins,
		edges:    e,
		lo:       e[0] + binClampOffset,
		hi:       e[d.Bins],
		invWidth: float64(d.Bins) / (e[d.Bins] - e[0]),
	}
}

// binOf returns the bin of x. As torch.clamp on a tensor of type F does, the
// clamp runs in F's precision (bounds rounded to F); as torch.bucketize with
// float64 edges does, the comparison with the edges runs in float64. ok is
// false if x is NaN.
func binOf[F float](b *binner, x F) (bin int32, ok bool) {
	if x != x {
		return 0, false
	}
	if lo := F(b.lo); x < lo {
		x = lo
	} else if hi := F(b.hi); x > hi {
		x = hi
	}
	v := float64(x)
	// A first guess from the uniform width, then the exact edge rule, so
	// that the result depends only on the edges (a guess off by one ulp
	// near an edge is corrected by the comparisons).
	g := min(int((v-b.edges[0])*b.invWidth), b.nbins-1) // >= 0: v >= lo >= edges[0]
	for g > 0 && v <= b.edges[g] {
		g--
	}
	for g < b.nbins-1 && v > b.edges[g+1] {
		g++
	}
	return int32(g), true
}

// binSlice sets dst[j] to binOf(b, s[j]) for every j < len(s), and reports
// false if some s[j] is NaN. It is binOf's loop with the binner's fields
// held in registers and no call per value, which is most of the cost of
// binning.
func binSlice[F float](b *binner, dst []int32, s []F) bool {
	lo, hi := F(b.lo), F(b.hi)
	edges := b.edges[:b.nbins+1]
	e0, inv, last := edges[0], b.invWidth, b.nbins-1
	dst = dst[:len(s)]
	for j, x := range s {
		if x != x {
			return false
		}
		if x < lo {
			x = lo
		} else if x > hi {
			x = hi
		}
		v := float64(x)
		g := min(int((v-e0)*inv), last)
		for g > 0 && v <= edges[g] {
			g--
		}
		for g < last && v > edges[g+1] {
			g++
		}
		dst[j] = int32(g)
	}
	return true
}

// binLayer sets dst[m*neurons+i] to the bin of s[m*neurons+i] for a
// minibatch of batch samples. For adaptive binning, scale (neurons entries,
// caller-owned) receives the largest |s| of each neuron. It returns
// ErrNonFinite if a value is NaN or, with adaptive binning, infinite.
func binLayer[F float](b *binner, dst []int32, s []F, scale []F, batch, neurons int) error {
	n := batch * neurons
	if len(dst) < n || len(s) < n || (b.adaptive && len(scale) < neurons) {
		panic(fmt.Sprintf("trainer: binning %d×%d values into %d bins from %d values", batch, neurons, len(dst), len(s)))
	}
	return binPart(b, dst, s, scale, batch, neurons, 0, 1)
}

// binPart is part `part` of `parts` of binLayer, whose arguments it does not
// check: fixed binning splits the values, adaptive binning the neurons (each
// part scales and bins its own). Every bin depends only on its value and
// its neuron's scale, so the parts may run concurrently and in any number.
func binPart[F float](b *binner, dst []int32, s []F, scale []F, batch, neurons, part, parts int) error {
	if !b.adaptive {
		j0, j1 := split(batch*neurons, part, parts)
		if !binSlice(b, dst[j0:j1], s[j0:j1]) {
			return ErrNonFinite
		}
		return nil
	}
	i0, i1 := split(neurons, part, parts)
	scale = scale[i0:i1]
	clear(scale)
	for m := 0; m < batch; m++ {
		for i, x := range s[m*neurons+i0 : m*neurons+i1] {
			if x < 0 {
				x = -x
			}
			// "!(x <= scale)" rather than "x > scale" so that a NaN
			// becomes the scale and is reported below.
			if !(x <= scale[i]) {
				scale[i] = x
			}
		}
	}
	for _, sc := range scale {
		if sc != sc || math.IsInf(float64(sc), 0) {
			return ErrNonFinite
		}
	}
	for m := 0; m < batch; m++ {
		row := s[m*neurons+i0 : m*neurons+i1]
		out := dst[m*neurons+i0 : m*neurons+i1]
		for i, x := range row {
			var v F // a source that is 0 for the whole batch stays 0
			if sc := scale[i]; sc != 0 {
				v = x / sc
			}
			bin, _ := binOf(b, v) // v is finite: |x| <= sc, sc finite
			out[i] = bin
		}
	}
	return nil
}
