package trainer

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The dot-product kernels and the portable loop agree bit for bit, and the
// lane sums add up to the dot product.
func TestDotRows32Kernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 5, 8, 9, 64, 100, 1024, 1031} {
		for _, k := range []int{1, 3, 4, 5, 9} {
			stride := n + rng.IntN(3)
			nrows := 12
			rows := make([]float32, nrows*stride+n)
			for j := range rows {
				rows[j] = float32(2*rng.IntN(2) - 1)
			}
			a := make([]float64, n)
			for j := range a {
				a[j] = rng.NormFloat64()
			}
			idx := make([]int32, k)
			for q := range idx {
				idx[q] = int32(rng.IntN(nrows))
			}
			want := make([]float64, 8*k)
			dotRows32Go(want, a, rows, stride, idx)
			kernels := []struct {
				name string
				ok   bool
				f    func(*float64, *float64, *float32, int, *int32, int, int)
			}{{"AVX-512", useAVX512, dotRows32AVX512}, {"AVX2", useAVX2, dotRows32AVX2}}
			for _, kern := range kernels {
				if !kern.ok || n < 8 {
					continue
				}
				got := make([]float64, 8*k)
				kern.f(&got[0], &a[0], &rows[0], stride, &idx[0], k, n&^7)
				for i := range want {
					if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
						t.Fatalf("%s n=%d k=%d: lane sum %d = %v, portable %v", kern.name, n, k, i, got[i], want[i])
					}
				}
			}
			for q, j := range idx {
				sum, naive := 0.0, 0.0
				for _, v := range want[8*q : 8*q+8] {
					sum += v
				}
				for e := 0; e < n; e++ {
					p := a[e] * float64(rows[int(j)*stride+e])
					naive += p
					if e >= n&^7 {
						sum += p
					}
				}
				if !closeTo(sum, naive, 1e-12, 1e-12) {
					t.Fatalf("n=%d: lane sums give %v, dot %v", n, sum, naive)
				}
			}
		}
	}
}

// fanInConfig is hiddenConfig with a lateral fan-in of 10 of 100: sparse
// enough for the masked path.
func fanInConfig(threads int) LayerConfig {
	c := hiddenConfig(threads)
	c.Masks = []Mask{{}, {}, {Kind: NoSelfMask, FanIn: 10}}
	return c
}

// The masked path gives the dense path's sources and gradients, to 1e-12
// of their scale, and the masked weights' gradients stay exactly 0.
func TestMaskedMatchesDense(t *testing.T) {
	const batch = 203 // not a multiple of 8: the dot products' tails
	rng := rand.New(rand.NewPCG(7, 8))
	raw, labels := syntheticImages(batch, 784, 12)
	x := [][]float64{standardise(raw, 33.3184, 78.5675), oneHot(labels, 10), make([]float64, batch*100)}
	for j := range x[2] {
		x[2][j] = float64(2*rng.IntN(2) - 1)
	}
	gTheta := make([]float64, batch*100)
	for j := range gTheta {
		gTheta[j] = rng.NormFloat64()
	}
	masked, dense := mustLayer(t, fanInConfig(2)), mustLayer(t, fanInConfig(1))
	dense.noSparse = true
	for _, l := range []*Layer{masked, dense} {
		l.Forward(x, batch)
		copy(l.gTheta, gTheta)
		l.backward()
	}
	if _, ok := masked.in[2].(*maskedInput); !ok {
		t.Fatalf("lateral input is %T, want masked", masked.in[2])
	}
	if _, ok := dense.in[2].(*denseInput); !ok {
		t.Fatalf("reference lateral input is %T, want dense", dense.in[2])
	}
	check := func(what string, got, want []float64) {
		scale := 0.0
		for _, v := range want {
			scale = math.Max(scale, math.Abs(v))
		}
		for j := range want {
			if !closeTo(got[j], want[j], 1e-12, 1e-12*scale) {
				t.Fatalf("%s[%d] = %v, dense %v", what, j, got[j], want[j])
			}
		}
	}
	check("source", masked.Source(2), dense.Source(2))
	check("theta", masked.Theta(), dense.Theta())
	check("dW", masked.GradW(2), dense.GradW(2))
	check("db", masked.GradB(2), dense.GradB(2))
	for j, v := range masked.Mask(2) {
		if v == 0 && masked.GradW(2)[j] != 0 {
			t.Fatalf("masked weight %d has gradient %v", j, masked.GradW(2)[j])
		}
	}
	// An input float32 cannot hold takes the other paths.
	x[2][5] = 0.1
	masked.Forward(x, batch)
	if _, ok := masked.in[2].(*maskedInput); ok {
		t.Error("an input of 0.1 took the masked path")
	}
}

// An all-zero input takes the masked path's shortcut, which writes exactly
// the bits the products give (here the dense path's: every sum starts at +0
// and adds ±0 before the bias).
func TestMaskedZeroInput(t *testing.T) {
	const batch = 203
	rng := rand.New(rand.NewPCG(9, 10))
	raw, labels := syntheticImages(batch, 784, 13)
	x := [][]float64{standardise(raw, 33.3184, 78.5675), oneHot(labels, 10), make([]float64, batch*100)}
	gTheta := make([]float64, batch*100)
	for j := range gTheta {
		gTheta[j] = rng.NormFloat64()
	}
	masked, dense := mustLayer(t, fanInConfig(2)), mustLayer(t, fanInConfig(1))
	dense.noSparse = true
	for _, l := range []*Layer{masked, dense} {
		l.Forward(x, batch)
		copy(l.gTheta, gTheta)
		l.backward()
	}
	mi, ok := masked.in[2].(*maskedInput)
	if !ok || !mi.zero {
		t.Fatalf("zero lateral input is %T (zero shortcut %v), want masked", masked.in[2], ok && mi.zero)
	}
	same := func(what string, got, want []float64) {
		for j := range want {
			if math.Float64bits(got[j]) != math.Float64bits(want[j]) {
				t.Fatalf("%s[%d] = %v, dense %v", what, j, got[j], want[j])
			}
		}
	}
	same("source", masked.Source(2), dense.Source(2))
	same("theta", masked.Theta(), dense.Theta())
	same("dW", masked.GradW(2), dense.GradW(2))
	same("db", masked.GradB(2), dense.GradB(2))
	// A single non-zero entry turns the shortcut off.
	x[2][batch*100-1] = 1
	masked.Forward(x, batch)
	if mi, ok := masked.in[2].(*maskedInput); !ok || mi.zero {
		t.Fatal("a non-zero lateral input took the zero shortcut")
	}
}

// The masked path gives the same bits on 1 and 3 threads, and with float32
// bands (axpyRows32) as with float64 ones.
func TestMaskedBitIdentical(t *testing.T) {
	const batch = 203
	rng := rand.New(rand.NewPCG(11, 12))
	raw, labels := syntheticImages(batch, 784, 14)
	x := [][]float64{standardise(raw, 33.3184, 78.5675), oneHot(labels, 10), make([]float64, batch*100)}
	for j := range x[2] {
		x[2][j] = float64(2*rng.IntN(2) - 1)
	}
	gTheta := make([]float64, batch*100)
	for j := range gTheta {
		gTheta[j] = rng.NormFloat64()
	}
	var ref *Layer
	for _, threads := range []int{1, 3} {
		for _, f32 := range []bool{false, true} {
			l := mustLayer(t, fanInConfig(threads))
			l.masked[2].f32 = f32 // before the first Forward sizes the bands
			l.Forward(x, batch)
			copy(l.gTheta, gTheta)
			l.backward()
			if _, ok := l.in[2].(*maskedInput); !ok {
				t.Fatalf("lateral input is %T, want masked", l.in[2])
			}
			if ref == nil {
				ref = l
				continue
			}
			for _, c := range []struct {
				what      string
				got, want []float64
			}{{"source", l.Source(2), ref.Source(2)}, {"dW", l.GradW(2), ref.GradW(2)}, {"db", l.GradB(2), ref.GradB(2)}} {
				for j := range c.want {
					if math.Float64bits(c.got[j]) != math.Float64bits(c.want[j]) {
						t.Fatalf("threads %d, float32 bands %v: %s[%d] = %v, want %v", threads, f32, c.what, j, c.got[j], c.want[j])
					}
				}
			}
		}
	}
}
