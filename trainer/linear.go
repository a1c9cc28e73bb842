package trainer

// A linearInput is the input of one source class for one minibatch and knows
// how to multiply it by the weights. It is an interface so that an input with
// structure can take a faster path: a standardised MNIST image,
// x = (raw - mean)/std with ~80 % of raw pixels 0, gives
// W x = (W raw)/std - (W·1) mean/std, a sparse product over the non-zero
// pixels, and the weight gradient likewise (see sparseInput).
//
// Both methods may split the work over the pool's threads (p may be nil: one
// thread). Each output element is computed by one goroutine, in an order
// fixed by the data alone, so results are bit-identical whatever the number
// of threads.
type linearInput interface {
	// forward sets s[m*neurons+i] = sum_j w[i*in+j] x[m, j] + b[i] for
	// every sample m < batch and neuron i.
	forward(p *linPool, s, w, b []float64, batch, neurons int)
	// backward sets dw[i*in+j] = sum_m ds[m*neurons+i] x[m, j] and
	// db[i] = sum_m ds[m*neurons+i].
	backward(p *linPool, dw, db, ds []float64, batch, neurons int)
}

// minPartWork is the number of multiply-adds below which a product is not
// worth handing to another goroutine (waking one costs a few microseconds).
const minPartWork = 1 << 15

// partsFor returns how many parts a product of work multiply-adds is split
// into on p: one per thread, fewer for a small product.
func partsFor(p *linPool, work int) int {
	return max(1, min(p.threads(), work/minPartWork))
}

// denseInput is a dense row-major batch × in input.
//
// Forward transposes the weights (wt, in × neurons) and splits the samples
// into contiguous blocks, one per thread: s[m, :] = sum_j x[m, j] wt[j, :] + b,
// one axpyRows per sample. Backward splits the neurons: a thread owns rows of
// dw and entries of db, lists the samples whose gradient ds[m, i] is not 0
// (a clamped or saturated theta, a cell the goal ignores, pass none) and
// sums dw[i, :] = sum_m ds[m, i] x[m, :] over them in increasing m, one
// axpyRows per neuron.
type denseInput struct {
	x  []float64
	in int

	wt   []float64  // in × neurons: w transposed
	iota []int32    // 0, 1, ..., in-1
	cols []denseCol // per part: one neuron's non-zero gradients

	// The product in progress, for run.
	op             linOp
	s, w, b        []float64
	dw, db, ds     []float64
	batch, neurons int
}

type denseCol struct {
	idx []int32
	val []float64
}

type linOp int

const (
	opForward linOp = iota
	opTranspose
	opList
	opBackward
	opGradient
)

// reserve sizes d's buffers for a product of batch samples of in inputs and
// neurons outputs on up to threads threads, so that a later product of that
// size allocates nothing.
func (d *denseInput) reserve(batch, in, neurons, threads int) {
	if cap(d.wt) < in*neurons {
		d.wt = make([]float64, in*neurons)
	}
	if len(d.cols) < threads {
		d.cols = make([]denseCol, threads)
	}
	for q := range d.cols {
		if c := &d.cols[q]; cap(c.idx) < batch {
			c.idx, c.val = make([]int32, batch), make([]float64, batch)
		}
	}
}

// set makes d the input x of batch × in values, keeping d's buffers.
func (d *denseInput) set(x []float64, in int) {
	d.x, d.in = x, in
	if len(d.iota) < in {
		d.iota = make([]int32, in)
		for j := range d.iota {
			d.iota[j] = int32(j)
		}
	}
}

func (d *denseInput) forward(p *linPool, s, w, b []float64, batch, neurons int) {
	if cap(d.wt) < d.in*neurons {
		d.wt = make([]float64, d.in*neurons)
	}
	d.s, d.w, d.b, d.batch, d.neurons = s, w, b, batch, neurons
	d.op = opTranspose
	p.run(d, partsFor(p, 4*d.in*neurons))
	d.op = opForward
	p.run(d, partsFor(p, batch*neurons*d.in))
	d.s, d.w, d.b = nil, nil, nil
}

func (d *denseInput) backward(p *linPool, dw, db, ds []float64, batch, neurons int) {
	parts := min(neurons, partsFor(p, batch*neurons*d.in))
	if len(d.cols) < parts {
		d.cols = make([]denseCol, p.threads())
	}
	for q := range d.cols[:parts] {
		if c := &d.cols[q]; cap(c.idx) < batch {
			c.idx, c.val = make([]int32, batch), make([]float64, batch)
		}
	}
	d.dw, d.db, d.ds, d.batch, d.neurons = dw, db, ds, batch, neurons
	d.op = opBackward
	p.run(d, parts)
	d.dw, d.db, d.ds = nil, nil, nil
}

func (d *denseInput) run(part, parts int) {
	in, N := d.in, d.neurons
	switch d.op {
	case opTranspose:
		j0, j1 := split(in, part, parts)
		transpose(d.wt, d.w, N, in, j0, j1)

	case opForward:
		m0, m1 := split(d.batch, part, parts)
		wt := d.wt[:in*N]
		clear(d.s[m0*N : m1*N])
		bw := bandWidth(N, in)
		for c0 := 0; c0 < N; c0 += bw {
			c1 := min(c0+bw, N)
			for m := m0; m < m1; m++ {
				axpyRows(d.s[m*N+c0:m*N+c1], wt[c0:], N, d.iota[:in], d.x[m*in:(m+1)*in])
			}
		}
		for m := m0; m < m1; m++ {
			row := d.s[m*N : (m+1)*N]
			for i, b := range d.b[:N] {
				row[i] += b
			}
		}

	case opBackward:
		i0, i1 := split(N, part, parts)
		col := &d.cols[part]
		x := d.x[:d.batch*in]
		for i := i0; i < i1; i++ {
			n, sum := 0, 0.0
			for m := 0; m < d.batch; m++ {
				g := d.ds[m*N+i]
				sum += g
				if g != 0 {
					col.idx[n], col.val[n] = int32(m), g
					n++
				}
			}
			d.db[i] = sum
			row := d.dw[i*in : (i+1)*in]
			clear(row)
			bw := bandWidth(in, d.batch)
			for c0 := 0; c0 < in; c0 += bw {
				axpyRows(row[c0:min(c0+bw, in)], x[c0:], in, col.idx[:n], col.val[:n])
			}
		}

	default:
		panic("trainer: denseInput: bad op")
	}
}

// transpose sets rows [j0, j1) of wt (in × neurons) from w (neurons × in).
func transpose(wt, w []float64, neurons, in, j0, j1 int) {
	// Eight columns of w at a time share its cache lines.
	for jb := j0; jb < j1; jb += 8 {
		je := min(jb+8, j1)
		for i := 0; i < neurons; i++ {
			wi := w[i*in : (i+1)*in]
			for j := jb; j < je; j++ {
				wt[j*neurons+i] = wi[j]
			}
		}
	}
}
