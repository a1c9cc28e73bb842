package trainer

import "math"

// maskedInput is the input of a source class whose weights are mostly
// masked: the sparse lateral fan-in of a large layer (2000 neurons, each
// connected to 100 others), where the dense and sparse paths would spend 95
// % of their multiply-adds on weights that are 0. Neuron i sees only its
// connected inputs nbr(i) (increasing), and
//
//	s[m, i]  = sum_{j in nbr(i)} w[i, j] x[m, j] + b[i]
//	dw[i, j] = sum_m ds[m, i] x[m, j]   for j in nbr(i); the other entries stay 0
//	db[i]    = sum_m ds[m, i]
//
// Forward transposes x (xT, in × batch) and runs, for each band of samples
// that keeps its part of xT in L2 and each neuron, one axpyRows over the
// rows nbr(i) of xT, in increasing j (with AVX-512, axpyRows32 over xT in
// float32: twice the samples per band for the same bytes, and the same
// bits, since the path holds only inputs float32 represents exactly); backward transposes ds and takes each
// dw[i, j] as dotRows32 of ds's row i and x's column j, which it keeps in
// float32 as well (transposed again by the backward, so never in an
// evaluation): the path is taken only for inputs that float32
// represents exactly (a layer's ±1 or 0/1 outputs), so that halves the
// bytes at no cost in exactness. Threads split the neurons (forward,
// backward) and the transposes; every output is computed by one goroutine
// in a fixed order, so results are bit-identical whatever the number of
// threads.
//
// The weight gradient's masked entries are never written: the caller keeps
// them at 0 (they are when the gradient buffer is first made).
type maskedInput struct {
	in, neurons int
	noff        []int     // neurons+1 offsets into nidx and wn
	nidx        []int32   // connected inputs of each neuron, increasing
	wn          []float64 // their weights, gathered for a forward

	batch   int
	x       []float64
	zero    bool        // x is all 0: s = b and dw = 0 without the products
	have32  bool        // xT32 holds x: the backward made it (an evaluation never needs it)
	nonzero []bool      // per part: the part of x it scanned holds a non-zero
	bw      int         // samples per band
	f32     bool        // the bands are xTb32, not xT (with AVX-512: axpyRows32)
	xT      []float64   // x transposed, band by band: band b is in × bw from b*in*bw
	xTb32   []float32   // the same in float32 (exact), for axpyRows32
	xT32    []float32   // the same in float32 (exact)
	sT      []float64   // neurons × batch: sources, then ds, transposed
	dots    [][]float64 // per part: lane sums of the dot products
	inexact []bool      // per part: an input float32 does not hold

	op         linOp
	s, w, b    []float64
	dw, db, ds []float64
}

// Operations of a maskedInput beyond those of linOp.
const (
	opMaskTransposeX linOp = iota + 100
	opMaskScan
	opMaskTranspose32
	opMaskZeroForward
	opMaskZeroBackward
	opMaskGather
	opMaskForward
	opMaskTransposeS
	opMaskTransposeDS
	opMaskGradient
)

// newMaskedInput returns the masked input of a neurons × in mask, or nil if
// the mask connects more than an eighth of the inputs to some neuron (the
// sparse and dense paths are then as good).
func newMaskedInput(mask []float64, neurons, in int) *maskedInput {
	if mask == nil || in < 64 {
		return nil
	}
	mi := &maskedInput{in: in, neurons: neurons, noff: make([]int, neurons+1), f32: useAVX512}
	for i := 0; i < neurons; i++ {
		mi.noff[i] = len(mi.nidx)
		start := len(mi.nidx)
		for j, v := range mask[i*in : (i+1)*in] {
			if v != 0 {
				mi.nidx = append(mi.nidx, int32(j))
			}
		}
		if len(mi.nidx)-start > in/8 {
			return nil
		}
	}
	mi.noff[neurons] = len(mi.nidx)
	mi.wn = make([]float64, len(mi.nidx))
	return mi
}

// reserve sizes the buffers for batch samples on threads threads.
func (mi *maskedInput) reserve(batch, threads int) {
	if cap(mi.xT32) < mi.in*batch {
		if mi.f32 {
			mi.xTb32 = make([]float32, mi.in*batch)
		} else {
			mi.xT = make([]float64, mi.in*batch)
		}
		mi.xT32 = make([]float32, mi.in*batch)
	}
	if cap(mi.sT) < mi.neurons*batch {
		mi.sT = make([]float64, mi.neurons*batch)
	}
	if len(mi.dots) < threads {
		mi.dots = make([][]float64, threads)
		mi.inexact = make([]bool, threads)
		mi.nonzero = make([]bool, threads)
	}
	maxFan := 0
	for i := 0; i < mi.neurons; i++ {
		maxFan = max(maxFan, mi.noff[i+1]-mi.noff[i])
	}
	for q := range mi.dots {
		if len(mi.dots[q]) < 8*maxFan {
			mi.dots[q] = make([]float64, 8*maxFan)
		}
	}
}

// set makes x (batch × in) the input, if float32 represents every entry
// exactly, and reports whether it did.
//
// An all-zero x (the lateral input of the first recurrent step, in
// training and in every evaluation) skips the transposes and the products:
// they would compute s = (+0) + b and dw = +0 at the cost of a full product,
// half of this path's work in a large layer. The shortcut writes the same
// bits (TestMaskedZeroInput).
func (mi *maskedInput) set(p *linPool, x []float64, batch int) bool {
	mi.reserve(batch, p.threads())
	mi.x, mi.batch = x[:batch*mi.in], batch
	mi.bw = bandWidth(batch, mi.in)
	if mi.f32 {
		mi.bw = bandWidth(batch, (mi.in+1)/2) // half the bytes per row
	}
	mi.have32 = false
	mi.op = opMaskScan
	parts := partsFor(p, batch*mi.in/4)
	p.run(mi, parts)
	mi.zero = true
	for _, nz := range mi.nonzero[:parts] {
		mi.zero = mi.zero && !nz
	}
	if mi.zero {
		return true
	}
	mi.op = opMaskTransposeX
	parts = partsFor(p, 4*batch*mi.in)
	clear(mi.inexact[:parts])
	p.run(mi, parts)
	for _, bad := range mi.inexact[:parts] {
		if bad {
			return false
		}
	}
	return true
}

func (mi *maskedInput) forward(p *linPool, s, w, b []float64, batch, neurons int) {
	if batch != mi.batch || neurons != mi.neurons {
		panic("trainer: masked input of another shape")
	}
	mi.s, mi.w, mi.b = s, w, b
	if mi.zero {
		mi.op = opMaskZeroForward
		p.run(mi, partsFor(p, batch*neurons/4))
		mi.s, mi.w, mi.b = nil, nil, nil
		return
	}
	mi.op = opMaskGather
	p.run(mi, partsFor(p, 4*len(mi.nidx)))
	mi.op = opMaskForward
	p.run(mi, min(neurons, partsFor(p, batch*len(mi.nidx))))
	mi.op = opMaskTransposeS
	p.run(mi, partsFor(p, 4*batch*neurons))
	mi.s, mi.w, mi.b = nil, nil, nil
}

func (mi *maskedInput) backward(p *linPool, dw, db, ds []float64, batch, neurons int) {
	if batch != mi.batch || neurons != mi.neurons {
		panic("trainer: masked input of another shape")
	}
	mi.dw, mi.db, mi.ds = dw, db, ds
	if mi.zero {
		mi.op = opMaskZeroBackward
		p.run(mi, min(neurons, partsFor(p, batch*neurons/4)))
		mi.dw, mi.db, mi.ds = nil, nil, nil
		return
	}
	if !mi.have32 {
		mi.op = opMaskTranspose32
		p.run(mi, partsFor(p, 4*batch*mi.in))
		mi.have32 = true
	}
	mi.op = opMaskTransposeDS
	p.run(mi, partsFor(p, 4*batch*neurons))
	mi.op = opMaskGradient
	p.run(mi, min(neurons, partsFor(p, batch*len(mi.nidx))))
	mi.dw, mi.db, mi.ds = nil, nil, nil
}

func (mi *maskedInput) run(part, parts int) {
	B, N, in := mi.batch, mi.neurons, mi.in
	switch mi.op {
	case opMaskScan:
		j0, j1 := split(len(mi.x), part, parts)
		nz := false
		for _, v := range mi.x[j0:j1] {
			if v != 0 {
				nz = true
				break
			}
		}
		mi.nonzero[part] = nz

	case opMaskZeroForward:
		// What the products give for x = 0: a sum that starts at +0 and
		// adds only ±0 is +0, then the bias is added.
		m0, m1 := split(B, part, parts)
		for m := m0; m < m1; m++ {
			row := mi.s[m*N : (m+1)*N]
			for i, b := range mi.b[:N] {
				v := 0.0
				v += b
				row[i] = v
			}
		}

	case opMaskZeroBackward:
		// db as the products sum it (increasing m), dw of the connected
		// weights +0, as the dot products give for x = 0.
		i0, i1 := split(N, part, parts)
		db := mi.db[i0:i1]
		clear(db)
		for m := 0; m < B; m++ {
			for i, v := range mi.ds[m*N+i0 : m*N+i1] {
				db[i] += v
			}
		}
		for i := i0; i < i1; i++ {
			dw := mi.dw[i*in : (i+1)*in]
			for _, j := range mi.nidx[mi.noff[i]:mi.noff[i+1]] {
				dw[j] = 0
			}
		}

	case opMaskTransposeX:
		// Bands of samples [m0, m0+bw), each stored contiguously so that
		// the forward's rows of a band lie in few pages.
		j0, j1 := split(in, part, parts)
		bw, inexact := mi.bw, false
		for m0 := 0; m0 < B; m0 += bw {
			w := min(bw, B-m0)
			for jb := j0; jb < j1; jb += 8 {
				je := min(jb+8, j1)
				for m := m0; m < m0+w; m++ {
					xm := mi.x[m*in : (m+1)*in]
					if mi.f32 {
						band := mi.xTb32[m0*in:]
						for j := jb; j < je; j++ {
							v := xm[j]
							band[j*w+m-m0] = float32(v)
							inexact = inexact || float64(float32(v)) != v
						}
						continue
					}
					band := mi.xT[m0*in:]
					for j := jb; j < je; j++ {
						v := xm[j]
						band[j*w+m-m0] = v
						inexact = inexact || float64(float32(v)) != v
					}
				}
			}
		}
		mi.inexact[part] = inexact

	case opMaskTranspose32:
		j0, j1 := split(in, part, parts)
		transpose32(mi.xT32, mi.x, B, in, j0, j1)

	case opMaskGather:
		i0, i1 := split(N, part, parts)
		for i := i0; i < i1; i++ {
			w := mi.w[i*in : (i+1)*in]
			for k := mi.noff[i]; k < mi.noff[i+1]; k++ {
				mi.wn[k] = w[mi.nidx[k]]
			}
		}

	case opMaskForward:
		i0, i1 := split(N, part, parts)
		clear(mi.sT[i0*B : i1*B])
		for m0 := 0; m0 < B; m0 += mi.bw {
			m1 := min(m0+mi.bw, B)
			for i := i0; i < i1; i++ {
				k0, k1 := mi.noff[i], mi.noff[i+1]
				if mi.f32 {
					axpyRows32(mi.sT[i*B+m0:i*B+m1], mi.xTb32[m0*in:m1*in], m1-m0, mi.nidx[k0:k1], mi.wn[k0:k1])
				} else {
					axpyRows(mi.sT[i*B+m0:i*B+m1], mi.xT[m0*in:m1*in], m1-m0, mi.nidx[k0:k1], mi.wn[k0:k1])
				}
			}
		}
		for i := i0; i < i1; i++ {
			row, b := mi.sT[i*B:(i+1)*B], mi.b[i]
			for m := range row {
				row[m] += b
			}
		}

	case opMaskTransposeS:
		m0, m1 := split(B, part, parts)
		transpose(mi.s, mi.sT, N, B, m0, m1)

	case opMaskTransposeDS:
		i0, i1 := split(N, part, parts)
		transpose(mi.sT, mi.ds, B, N, i0, i1)

	case opMaskGradient:
		i0, i1 := split(N, part, parts)
		dots := mi.dots[part]
		for i := i0; i < i1; i++ {
			ds := mi.sT[i*B : (i+1)*B]
			sum := 0.0
			for _, v := range ds {
				sum += v
			}
			mi.db[i] = sum
			k0, k1 := mi.noff[i], mi.noff[i+1]
			nb := mi.nidx[k0:k1]
			d := dots[:8*len(nb)]
			dotRows32(d, ds, mi.xT32, B, nb)
			dw := mi.dw[i*in : (i+1)*in]
			n8 := B &^ 7
			for k, j := range nb {
				p := d[8*k : 8*k+8]
				v := ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]))
				r := mi.xT32[int(j)*B : (int(j)+1)*B]
				for e := n8; e < B; e++ {
					v = math.FMA(ds[e], float64(r[e]), v)
				}
				dw[j] = v
			}
		}

	default:
		panic("trainer: maskedInput: bad op")
	}
}

// transpose32 sets rows [j0, j1) of xt (in × batch, float32) from x (batch
// × in), and reports whether some value was not exactly a float32.
// (set has checked that every value is.)
func transpose32(xt []float32, x []float64, batch, in, j0, j1 int) (inexact bool) {
	for jb := j0; jb < j1; jb += 8 {
		je := min(jb+8, j1)
		for m := 0; m < batch; m++ {
			xm := x[m*in : (m+1)*in]
			for j := jb; j < je; j++ {
				v := float32(xm[j])
				if float64(v) != xm[j] {
					inexact = true
				}
				xt[j*batch+m] = v
			}
		}
	}
	return inexact
}

// dotRows32 sets dst[8t+l], for each row t of idx (rows[idx[t]*stride:],
// float32), to the sum over e = l, l+8, ... < len(a)&^7 of
// a[e]*float64(row[e]), one FMA per term in increasing e: the eight lane
// sums of a dot product, which the caller adds up in a fixed order (and
// finishes with the last len(a)%8 terms). The AVX-512 and AVX2 kernels do
// exactly these operations, so the sums are the same bits on every path.
func dotRows32(dst, a []float64, rows []float32, stride int, idx []int32) {
	n8 := len(a) &^ 7
	if len(idx) == 0 {
		return
	}
	if len(dst) < 8*len(idx) {
		panic("trainer: dotRows32: short dst")
	}
	for _, j := range idx {
		if int(j) < 0 || int(j)*stride+n8 > len(rows) {
			panic("trainer: dotRows32: row out of range")
		}
	}
	switch {
	case n8 == 0:
		clear(dst[:8*len(idx)])
	case useAVX512:
		dotRows32AVX512(&dst[0], &a[0], &rows[0], stride, &idx[0], len(idx), n8)
	case useAVX2:
		dotRows32AVX2(&dst[0], &a[0], &rows[0], stride, &idx[0], len(idx), n8)
	default:
		dotRows32Go(dst, a, rows, stride, idx)
	}
}

// dotRows32Go is dotRows32 in portable Go.
func dotRows32Go(dst, a []float64, rows []float32, stride int, idx []int32) {
	n8 := len(a) &^ 7
	for t, j := range idx {
		var p [8]float64
		r := rows[int(j)*stride:][:n8]
		for e := 0; e < n8; e += 8 {
			for l := range p {
				p[l] = math.FMA(a[e+l], float64(r[e+l]), p[l])
			}
		}
		copy(dst[8*t:8*t+8], p[:])
	}
}
