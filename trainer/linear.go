package trainer

import (
	"gonum.org/v1/gonum/floats"
)

// A linearInput is the input of one source class for one minibatch and knows
// how to multiply it by the weights. It is an interface so that an input with
// structure can take a faster path: a standardised MNIST image,
// x = (raw - mean)/std with ~80 % of raw pixels 0, gives
// W x = (W raw)/std - (W·1) mean/std, a sparse product over the non-zero
// pixels, and the weight gradient likewise.
type linearInput interface {
	// forward sets s[m*neurons+i] = sum_j w[i*in+j] x[m, j] + b[i] for
	// every sample m < batch and neuron i.
	forward(s, w, b []float64, batch, neurons int)
	// backward sets dw[i*in+j] = sum_m ds[m*neurons+i] x[m, j] and
	// db[i] = sum_m ds[m*neurons+i].
	backward(dw, db, ds []float64, batch, neurons int)
}

// blockBytes bounds the weight rows a dense product keeps hot: a block of
// neurons whose weights fit in about this many bytes is multiplied by every
// sample before moving on, so the weights are read from memory once per
// minibatch rather than once per sample.
const blockBytes = 128 << 10

// denseInput is a dense row-major batch × in input.
type denseInput struct {
	x  []float64
	in int
}

func blockRows(in int) int {
	if in <= 0 {
		return 1
	}
	return max(1, blockBytes/(8*in))
}

func (d *denseInput) forward(s, w, b []float64, batch, neurons int) {
	in := d.in
	bs := blockRows(in)
	for i0 := 0; i0 < neurons; i0 += bs {
		i1 := min(i0+bs, neurons)
		for m := 0; m < batch; m++ {
			xm := d.x[m*in : (m+1)*in]
			row := s[m*neurons : (m+1)*neurons]
			for i := i0; i < i1; i++ {
				row[i] = floats.Dot(xm, w[i*in:(i+1)*in]) + b[i]
			}
		}
	}
}

func (d *denseInput) backward(dw, db, ds []float64, batch, neurons int) {
	in := d.in
	for i := range dw[:neurons*in] {
		dw[i] = 0
	}
	for i := range db[:neurons] {
		db[i] = 0
	}
	for m := 0; m < batch; m++ {
		floats.Add(db[:neurons], ds[m*neurons:(m+1)*neurons])
	}
	bs := blockRows(in)
	for i0 := 0; i0 < neurons; i0 += bs {
		i1 := min(i0+bs, neurons)
		for m := 0; m < batch; m++ {
			xm := d.x[m*in : (m+1)*in]
			row := ds[m*neurons : (m+1)*neurons]
			for i := i0; i < i1; i++ {
				// Many samples pass no gradient (a clamped or saturated
				// theta, a cell the goal ignores): skip them.
				if g := row[i]; g != 0 {
					floats.AddScaled(dw[i*in:(i+1)*in], g, xm)
				}
			}
		}
	}
}
