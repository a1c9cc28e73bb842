package trainer

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// The backprop baseline's passes, written the plain way (dense products,
// one sample and neuron at a time, floats.Dot and AddScaled): the
// reference the kernel-based model must match.

func refAffine(s, x, w, b []float64, batch, in, out int) {
	for m := 0; m < batch; m++ {
		xm := x[m*in : (m+1)*in]
		for i := 0; i < out; i++ {
			s[m*out+i] = floats.Dot(xm, w[i*in:(i+1)*in]) + b[i]
		}
	}
}

func refAffineGrad(dw, db, g, x []float64, batch, in, out int) {
	clear(dw[:out*in])
	clear(db[:out])
	for m := 0; m < batch; m++ {
		xm := x[m*in : (m+1)*in]
		row := g[m*out : (m+1)*out]
		floats.Add(db[:out], row)
		for i, gi := range row {
			floats.AddScaled(dw[i*in:(i+1)*in], gi, xm)
		}
	}
}

func refBackInput(dx, g, w []float64, batch, in, out int) {
	clear(dx[:batch*in])
	for m := 0; m < batch; m++ {
		for i, gi := range g[m*out : (m+1)*out] {
			floats.AddScaled(dx[m*in:(m+1)*in], gi, w[i*in:(i+1)*in])
		}
	}
}

// refBackpropGrads computes the loss and the gradients of one training batch
// (standardised images x, one-hot label, class labels) of m's network,
// sampling from rng as the model does.
func refBackpropGrads(m *backprop, x, label []float64, labels []int, rng *rand.PCG) (loss float64, gh, gout []float64) {
	n, H, C, P := len(labels), m.h, m.c, m.pixels
	hl, ol := m.layers[0].Layer, m.output
	f := func(k int) []float64 { return make([]float64, k) }
	sF, sC, sL1, sL2 := f(n*H), f(n*H), f(n*H), f(n*H)
	refAffine(sF, x, hl.W(0), hl.B(0), n, P, H)
	refAffine(sC, label, hl.W(1), hl.B(1), n, C, H)
	refAffine(sL1, f(n*H), hl.W(2), hl.B(2), n, H, H)
	var d1, d2 [3][]float64
	for k := range d1 {
		d1[k], d2[k] = f(n*H), f(n*H)
	}
	step := func(sL []float64, d [3][]float64, out []float64) {
		for j := range out {
			t, dr, dc, dl := m.act.Theta(sF[j], sC[j], sL[j])
			d[0][j], d[1][j], d[2][j] = dr, dc, dl
			if rand.New(rng).Float64() < t {
				out[j] = 1
			} else {
				out[j] = 0
			}
		}
	}
	h1, h2 := f(n*H), f(n*H)
	step(sL1, d1, h1)
	refAffine(sL2, h1, hl.W(2), hl.B(2), n, H, H)
	step(sL2, d2, h2)
	rO, cO := f(n*C), f(n*C)
	refAffine(rO, h2, ol.W(0), ol.B(0), n, H, C)
	refAffine(cO, label, ol.W(1), ol.B(1), n, C, C)
	gR := f(n * C)
	for s := 0; s < n; s++ {
		th, dth := f(C), f(C)
		for k := range th {
			th[k], dth[k], _ = m.outAct.Theta(rO[s*C+k], cO[s*C+k])
		}
		mx := floats.Max(th)
		sum := 0.0
		for _, v := range th {
			sum += math.Exp(v - mx)
		}
		loss += math.Log(sum) + mx - th[labels[s]]
		for k, v := range th {
			g := math.Exp(v-mx) / sum
			if k == labels[s] {
				g--
			}
			gR[s*C+k] = g / float64(n) * dth[k]
		}
	}
	loss /= float64(n)
	gout = f(len(ol.Params()))
	gw0, gb0 := gout[:C*H], gout[C*H:C*H+C]
	refAffineGrad(gw0, gb0, gR, h2, n, H, C)
	gH, gF, gC, gL, gL2 := f(n*H), f(n*H), f(n*H), f(n*H), f(n*H)
	refBackInput(gH, gR, ol.W(0), n, H, C)
	for j, g := range gH {
		gF[j], gC[j], gL2[j] = g*d2[0][j], g*d2[1][j], g*d2[2][j]
	}
	refBackInput(gH, gL2, hl.W(2), n, H, H)
	for j, g := range gH {
		gF[j] += g * d1[0][j]
		gC[j] += g * d1[1][j]
		gL[j] = gL2[j] + g*d1[2][j]
	}
	gh = f(len(hl.Params()))
	off := 0
	for k, in := range []int{P, C, H} {
		gw, gb := gh[off:off+H*in], gh[off+H*in:off+H*in+H]
		off += H*in + H
		switch k {
		case 0:
			refAffineGrad(gw, gb, gF, x, n, P, H)
		case 1:
			refAffineGrad(gw, gb, gC, label, n, C, H)
		case 2:
			refAffineGrad(gw, gb, gL2, h1, n, H, H)
			clear(gb)
			for s := 0; s < n; s++ {
				floats.Add(gb, gL[s*H:(s+1)*H])
			}
			if mask := hl.Mask(2); mask != nil {
				for j, v := range mask {
					gw[j] *= v
				}
			}
		}
	}
	return loss, gh, gout
}

// TestBackpropMatchesReference: the model's loss and every gradient agree
// with the plain dense computation of the same batch (same samples) to 1e-10
// of each array's scale, for 1 and 3 threads and with and without a sparse
// lateral fan-in.
func TestBackpropMatchesReference(t *testing.T) {
	d := smallData(t)
	for _, tc := range []struct{ threads, fanIn int }{{1, 0}, {3, 0}, {2, 5}} {
		cfg := smallConfig(Backprop, 1)
		cfg.Threads, cfg.LateralFanIn = tc.threads, tc.fanIn
		tr := mustTrainer(t, cfg, d)
		m := tr.net.(*backprop)
		idx := make([]int, 50)
		for i := range idx {
			idx[i] = 3 * i
		}
		tr.feed(&d.Train, idx, true)
		x := make([]float64, len(idx)*d.Pixels())
		labels := make([]int, len(idx))
		d.Batch64(x, labels, &d.Train, idx)
		state, err := m.src.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		ref := rand.NewPCG(0, 0)
		if err := ref.UnmarshalBinary(state); err != nil {
			t.Fatal(err)
		}
		wantLoss, wantH, wantO := refBackpropGrads(m, x, tr.bd.label, labels, ref)
		var acc epochAccum
		if _, err := m.trainBatch(&tr.bd, false, &acc); err != nil {
			t.Fatal(err)
		}
		if !closeTo(acc.loss, wantLoss, 1e-12, 0) {
			t.Errorf("%+v: loss %v, reference %v", tc, acc.loss, wantLoss)
		}
		for _, g := range []struct {
			name      string
			got, want []float64
		}{{"hidden", m.layers[0].Grads(), wantH}, {"output", m.output.Grads(), wantO}} {
			scale := 0.0
			for _, v := range g.want {
				scale = math.Max(scale, math.Abs(v))
			}
			for j := range g.want {
				if !closeTo(g.got[j], g.want[j], 1e-9, 1e-10*scale) {
					t.Fatalf("%+v: %s gradient %d = %v, reference %v (scale %v)", tc, g.name, j, g.got[j], g.want[j], scale)
				}
			}
		}
		tr.Close()
	}
}
