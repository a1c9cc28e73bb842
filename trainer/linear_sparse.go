package trainer

import (
	"encoding/binary"
	"math"
)

// sparseInput is a batch × in input most of whose entries in each column j
// equal a background value x0_j, stored as per-sample lists of the other
// entries:
//
//	x[m, j] = x0_j + val[k]  if j = idx[k] for some off[m] <= k < off[m+1],
//	x[m, j] = x0_j           otherwise.
//
// Three kinds use it. A raw 8-bit image standardised as x = (raw - mean)/std
// lists its non-zero pixels with val = raw/std and has x0_j = x0 = -mean/std
// for every pixel (setImage). A dense float64 input that is mostly 0 (a
// one-hot label, the all-zero lateral input of the first recurrent step, a
// withheld label) lists its non-zero entries with x0_j = 0; a ±1 input (a
// layer's sampled output: the lateral input, the output layer's feedforward
// input) lists in each column the entries of the column's rarer sign, with
// x0_j the commoner one and val = ±2 (setDense). Then
//
//	s[m, i]  = sum_k w[i, idx[k]] val[k] + base[i]
//	base[i]  = b[i] + x0 sum_j w[i, j]      (one background for all columns)
//	base[i]  = b[i] + sum_j w[i, j] x0_j    (per column; w x0_j is exact, x0_j in {0, ±1})
//	dw[i, j] = sum_{m, k: idx[k] = j} ds[m, i] val[k] + x0_j db[i],   db[i] = sum_m ds[m, i]
//
// which cost a multiply-add per listed entry and neuron rather than per
// entry and neuron. Both products run on axpyRows over transposed matrices
// (in × neurons): forward sums s[m, :] = sum_k val[k] wt[idx[k], :] over
// sample m's list, backward first turns the per-sample lists into per-input
// lists (sample, value) and sums gt[j, :] = sum val ds[m, :] over input j's
// list, then transposes gt into dw.
//
// Threads. Forward splits the samples into blocks of about equal numbers of
// listed entries; each s[m, i] sums its entries in increasing j. Backward
// splits the inputs j into ranges of about equal numbers of listed entries;
// each gradient entry sums over the samples in increasing m. Results are
// therefore bit-identical whatever the number of threads.
type sparseInput struct {
	in, batch int
	x0        float64   // the background of every column, unless perCol
	perCol    bool      // the backgrounds are x0col
	x0col     []float64 // in: per-column backgrounds
	colAbs    []float64 // in: scratch for setDense
	off       []int     // batch+1 offsets into idx and val
	idx       []int32   // listed input indices, increasing within a sample
	val       []float64 // listed values minus x0
	lut       [256]float64

	wt   []float64 // in × neurons: w transposed (forward)
	base []float64 // neurons: b[i] + the background's product
	gt   []float64 // in × neurons: dw transposed (backward)

	// The lists by input (backward): input j's entries are
	// colIdx[cnt[j]:cnt[j+1]] (samples, increasing) and colVal likewise.
	cnt    []int // in+1: entries with an index < j
	pos    []int // in: fill cursor
	colIdx []int32
	colVal []float64

	// The product in progress, for run.
	op         linOp
	img        *imageSource
	neurons    int
	s, w, b    []float64
	dw, db, ds []float64
}

// reserve sizes the lists for up to limit entries and the transposed
// matrices for neurons; it allocates only when they grow.
func (sp *sparseInput) reserve(batch, in, neurons, limit int) {
	if cap(sp.off) < batch+1 {
		sp.off = make([]int, batch+1)
	}
	if cap(sp.idx) < limit+in {
		sp.idx = make([]int32, limit+in) // setDense writes up to in entries ahead
		sp.val = make([]float64, limit+in)
		sp.colIdx = make([]int32, limit+in)
		sp.colVal = make([]float64, limit+in)
	}
	if cap(sp.wt) < in*neurons {
		sp.wt = make([]float64, in*neurons)
		sp.gt = make([]float64, in*neurons)
	}
	if cap(sp.cnt) < in+1 {
		sp.cnt = make([]int, in+1)
		sp.pos = make([]int, in)
		sp.x0col = make([]float64, in)
		sp.colAbs = make([]float64, in)
	}
	if cap(sp.base) < neurons {
		sp.base = make([]float64, neurons)
	}
	sp.off = sp.off[:batch+1]
	sp.idx, sp.val = sp.idx[:cap(sp.idx)], sp.val[:cap(sp.val)]
	sp.in, sp.batch = in, batch
}

// setImage lists the non-zero pixels of batch raw images of in pixels each
// (row-major), standardised as (raw - mean)/std.
func (sp *sparseInput) setImage(p *linPool, img *imageSource, in, batch, neurons int) {
	sp.x0, sp.perCol = -img.mean/img.std, false
	for v := range sp.lut {
		sp.lut[v] = float64(v) / img.std
	}
	if img.idx != nil {
		n := 0
		for _, idx := range img.idx[:batch] {
			n += len(idx)
		}
		sp.reserve(batch, in, neurons, n)
		n = 0
		for m, idx := range img.idx[:batch] {
			sp.off[m] = n
			n += len(idx)
		}
		sp.off[batch] = n
		sp.img = img
		sp.op = opList
		p.run(sp, partsFor(p, 8*n))
		sp.img = nil
		return
	}
	raw := img.raw
	sp.reserve(batch, in, neurons, batch*in)
	n := 0
	idx, val := sp.idx, sp.val
	for m := 0; m < batch; m++ {
		sp.off[m] = n
		row := raw[m*in : (m+1)*in]
		j := 0
		// Skip zero runs eight pixels at a time: MNIST is ~81 % zeros,
		// mostly in long runs around the digit.
		for ; j+8 <= len(row); j += 8 {
			if binary.LittleEndian.Uint64(row[j:]) == 0 {
				continue
			}
			for q, v := range row[j : j+8] {
				if v != 0 {
					idx[n], val[n] = int32(j+q), sp.lut[v]
					n++
				}
			}
		}
		for ; j < len(row); j++ {
			if v := row[j]; v != 0 {
				idx[n], val[n] = int32(j), sp.lut[v]
				n++
			}
		}
	}
	sp.off[batch] = n
}

// setDense lists the entries of a dense batch × in input that differ from
// their column's background x0_j, if there are at most limit of them and
// every listed value is exactly x0_j + (x - x0_j), and reports whether it
// did. x0_j is the commonest of 0, +1 and -1 in the column (ties: 0, then
// +1): 0 for a one-hot label or a zero input, the commoner sign for the ±1
// outputs of a layer, which then cost a multiply-add per entry of the rarer
// sign of each column (at most half of them) instead of one per entry.
func (sp *sparseInput) setDense(x []float64, in, batch, neurons, limit int) bool {
	x = x[:batch*in]
	sp.reserve(batch, in, neurons, limit)
	// Column sums of x and |x|: for entries in {0, ±1} they count the +1s
	// (as (a+s)/2) and the -1s ((a-s)/2), exactly. Other values only make
	// the background a worse choice; the exactness test below keeps the
	// result right whatever it is.
	x0col, abs := sp.x0col[:in], sp.colAbs[:in]
	clear(x0col)
	clear(abs)
	for m := 0; m < batch; m++ {
		for j, v := range x[m*in : (m+1)*in] {
			x0col[j] += v
			abs[j] += math.Abs(v)
		}
	}
	sp.perCol = false
	for j, sum := range x0col {
		pos, neg := (abs[j]+sum)/2, (abs[j]-sum)/2
		zero := float64(batch) - abs[j]
		x0 := 0.0
		switch {
		case zero >= pos && zero >= neg:
		case pos >= neg:
			x0 = 1
		default:
			x0 = -1
		}
		x0col[j] = x0
		sp.perCol = sp.perCol || x0 != x0col[0]
	}
	sp.x0 = x0col[0]
	// Every entry is written at n and n advances past the listed ones only:
	// no branch on data that is half one sign, half the other. idx and val
	// have room for limit + in entries.
	n, inexact := 0, false
	idx, val := sp.idx[:limit+in], sp.val[:limit+in]
	for m := 0; m < batch; m++ {
		sp.off[m] = n
		row := x[m*in : (m+1)*in]
		for j, v := range row {
			x0 := x0col[j]
			d := v - x0
			idx[n], val[n] = int32(j), d
			if x0+d != v { // never for an unlisted entry: d is ±0 there
				inexact = true
			}
			if v != x0 {
				n++
			}
		}
		if n > limit || inexact {
			return false
		}
	}
	sp.off[batch] = n
	return true
}

// nnz is the number of listed entries.
func (sp *sparseInput) nnz() int { return sp.off[sp.batch] }

func (sp *sparseInput) forward(p *linPool, s, w, b []float64, batch, neurons int) {
	if batch != sp.batch {
		panic("trainer: sparse input of another batch size")
	}
	sp.s, sp.w, sp.b, sp.neurons = s, w, b, neurons
	work := neurons * sp.in
	sp.op = opTranspose
	p.run(sp, partsFor(p, 4*work))
	sp.op = opForward
	p.run(sp, partsFor(p, neurons*sp.nnz()+batch*neurons))
	sp.s, sp.w, sp.b = nil, nil, nil
}

func (sp *sparseInput) backward(p *linPool, dw, db, ds []float64, batch, neurons int) {
	if batch != sp.batch {
		panic("trainer: sparse input of another batch size")
	}
	sp.dw, sp.db, sp.ds, sp.neurons = dw, db, ds, neurons
	parts := partsFor(p, neurons*sp.nnz()+sp.in*neurons)
	cnt := sp.cnt[:sp.in+1]
	clear(cnt)
	for _, j := range sp.idx[:sp.nnz()] {
		cnt[j+1]++
	}
	for j := 1; j <= sp.in; j++ {
		cnt[j] += cnt[j-1]
	}
	sp.op = opBackward
	p.run(sp, parts)
	sp.op = opGradient
	p.run(sp, min(neurons, partsFor(p, 2*neurons*(sp.in+batch))))
	sp.dw, sp.db, sp.ds = nil, nil, nil
}

func (sp *sparseInput) run(part, parts int) {
	N, in := sp.neurons, sp.in
	switch sp.op {
	case opTranspose:
		// wt rows [j0, j1) and base entries [i0, i1).
		j0, j1 := split(in, part, parts)
		if sp.nnz() > 0 {
			transpose(sp.wt, sp.w, N, in, j0, j1)
		}
		i0, i1 := split(N, part, parts)
		for i := i0; i < i1; i++ {
			sum := 0.0
			switch {
			case sp.perCol:
				for j, v := range sp.w[i*in : (i+1)*in] {
					sum += v * sp.x0col[j]
				}
				sp.base[i] = sp.b[i] + sum
			case sp.x0 == 0:
				sp.base[i] = sp.b[i]
			default:
				for _, v := range sp.w[i*in : (i+1)*in] {
					sum += v
				}
				sp.base[i] = sp.b[i] + float64(sp.x0*sum) // float64: never fused, on any platform
			}
		}

	case opList:
		// Samples [m0, m1) of the pixel lists.
		m0, m1 := split(sp.batch, part, parts)
		for m := m0; m < m1; m++ {
			n := sp.off[m]
			idx, val := sp.idx[n:n+len(sp.img.idx[m])], sp.val[n:n+len(sp.img.idx[m])]
			for q, j := range sp.img.idx[m] {
				idx[q] = int32(j)
			}
			for q, v := range sp.img.val[m][:len(idx)] {
				val[q] = sp.lut[v]
			}
		}

	case opForward:
		// Samples [m0, m1), balanced by listed entries.
		m0, m1 := sp.balance(part, parts)
		wt := sp.wt[:in*N]
		clear(sp.s[m0*N : m1*N])
		bw := bandWidth(N, in)
		for c0 := 0; c0 < N; c0 += bw {
			c1 := min(c0+bw, N)
			for m := m0; m < m1; m++ {
				k0, k1 := sp.off[m], sp.off[m+1]
				axpyRows(sp.s[m*N+c0:m*N+c1], wt[c0:], N, sp.idx[k0:k1], sp.val[k0:k1])
			}
		}
		for m := m0; m < m1; m++ {
			row := sp.s[m*N : (m+1)*N]
			for i, b := range sp.base[:N] {
				row[i] += b
			}
		}

	case opBackward:
		// gt rows [j0, j1), balanced by listed entries.
		j0, j1 := 0, in
		if parts > 1 {
			j0, j1 = searchInts(sp.cnt[:in+1], sp.nnz()*part/parts), searchInts(sp.cnt[:in+1], sp.nnz()*(part+1)/parts)
			if part == parts-1 {
				j1 = in
			}
		}
		// Input j's list, in increasing m.
		pos := sp.pos[j0:j1]
		copy(pos, sp.cnt[j0:j1])
		for m := 0; m < sp.batch; m++ {
			k0, k1 := sp.off[m], sp.off[m+1]
			if parts > 1 {
				k0, k1 = searchIdx(sp.idx, k0, k1, j0), searchIdx(sp.idx, k0, k1, j1)
			}
			for k := k0; k < k1; k++ {
				q := &pos[int(sp.idx[k])-j0]
				sp.colIdx[*q], sp.colVal[*q] = int32(m), sp.val[k]
				*q++
			}
		}
		ds := sp.ds[:sp.batch*N]
		clear(sp.gt[j0*N : j1*N])
		bw := bandWidth(N, sp.batch)
		for b0 := 0; b0 < N; b0 += bw {
			b1 := min(b0+bw, N)
			for j := j0; j < j1; j++ {
				c0, c1 := sp.cnt[j], sp.cnt[j+1]
				axpyRows(sp.gt[j*N+b0:j*N+b1], ds[b0:], N, sp.colIdx[c0:c1], sp.colVal[c0:c1])
			}
		}

	case opGradient:
		// dw rows and db entries [i0, i1).
		i0, i1 := split(N, part, parts)
		// db sample by sample (each entry still sums in increasing m):
		// rows of ds, not columns 8N bytes apart.
		db := sp.db[i0:i1]
		clear(db)
		for m := 0; m < sp.batch; m++ {
			for i, v := range sp.ds[m*N+i0 : m*N+i1] {
				db[i] += v
			}
		}
		for i := i0; i < i1; i++ {
			sum := sp.db[i]
			row := sp.dw[i*in : (i+1)*in]
			switch {
			case sp.perCol:
				for j := range row {
					row[j] = sp.gt[j*N+i] + sp.x0col[j]*sum
				}
			case sp.x0 == 0:
				for j := range row {
					row[j] = sp.gt[j*N+i]
				}
			default:
				c := float64(sp.x0 * sum)
				for j := range row {
					row[j] = sp.gt[j*N+i] + c
				}
			}
		}

	default:
		panic("trainer: sparseInput: bad op")
	}
}

// balance returns part `part` of `parts` contiguous blocks of samples with
// about equal numbers of listed entries (plus one per sample, for the
// per-sample work).
func (sp *sparseInput) balance(part, parts int) (m0, m1 int) {
	if parts == 1 {
		return 0, sp.batch
	}
	// Cost of samples [0, m) is off[m] + m.
	total := sp.nnz() + sp.batch
	find := func(target int) int {
		lo, hi := 0, sp.batch
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if sp.off[mid]+mid < target {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo
	}
	m0 = find(total * part / parts)
	m1 = sp.batch
	if part < parts-1 {
		m1 = find(total * (part + 1) / parts)
	}
	return m0, m1
}

// searchInts returns the smallest j with a[j] >= target (len(a) if none); a
// is non-decreasing.
func searchInts(a []int, target int) int {
	lo, hi := 0, len(a)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if a[mid] < target {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// searchIdx returns the smallest k in [lo, hi) with idx[k] >= j, or hi.
func searchIdx(idx []int32, lo, hi, j int) int {
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int(idx[mid]) < j {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}
