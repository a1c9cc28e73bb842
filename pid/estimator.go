package pid

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"goalsearch/internal/floatbits"
)

// The reference implementation's numerical conventions (spec §3).
const (
	denomEps   = 1e-10 // added to p_u(s) p(t) in the fraction's denominator
	fracFloor  = 1e-7  // fractions below this are replaced by 1
	entropyEps = 1e-10 // H(T) = -sum_t p(t) log2(p(t) + entropyEps)

	fracCeil = 2 / denomEps // above any fraction's value, rounding included
)

const invLn2 = 1 / math.Ln2

// Result holds one decomposition. Allocate it with Lattice.NewResult and
// reuse it: the estimators overwrite its slices.
type Result struct {
	Icap  []float64 // I^sx of every antichain, goal order, bits
	Atoms []float64 // the atoms Pi, goal order, bits
	HT    float64   // H(T) with the reference's epsilon, bits
	HRes  float64   // H(T) - I(T; S)
	G     float64   // gamma · (Atoms, HRes); 0 when no goal was given
}

// NewResult allocates a Result for this lattice.
func (l *Lattice) NewResult() *Result {
	return &Result{Icap: make([]float64, l.NumAtoms()), Atoms: make([]float64, l.NumAtoms())}
}

// Vector appends the goal-ordered vector (atoms..., H_res) to dst.
func (r *Result) Vector(dst []float64) []float64 {
	return append(append(dst, r.Atoms...), r.HRes)
}

// Errors returned for bad data. Shape mismatches between arguments are
// programmer errors and panic instead.
var (
	ErrNoSamples   = errors.New("pid: no samples")
	ErrProbability = errors.New("pid: probability outside [0, 1] or NaN")
	ErrNegativeBin = errors.New("pid: negative bin index")
	ErrShape       = errors.New("pid: bad table shape")
	ErrNotNormal   = errors.New("pid: table does not sum to 1")
	ErrTarget      = errors.New("pid: target value out of range")
)

// An Estimator decomposes one distribution at a time, reusing its buffers
// from call to call: after the first few calls at a given size it allocates
// nothing. It is not safe for concurrent use; give each goroutine its own
// (Layer does).
//
// Internally every input becomes a list of occupied cells with a probability
// per target value. For each nonempty source subset u the cells are grouped
// by their projection on u, and each antichain is evaluated on the groups of
// the union of its members, where its p_u and p_ut are constant. Work is
// O(cells × Σ_alpha terms(alpha)) with at most 2^n - 1 inclusion-exclusion
// terms per antichain, and at most one cell per sample.
type Estimator struct {
	lat  *Lattice
	n    int
	full uint8

	// Cells: K target values, p[c*K+t], and the source bins of each cell.
	k     int
	cells int
	p     []float64
	bins  [MaxSources][]int32

	// Per source subset u (indexed by its mask): the group of each cell,
	// the number of groups, a representative cell per group and the marginal
	// p_u(g, t) and p_u(g).
	gid   [1 << MaxSources][]int32
	ngrp  [1 << MaxSources]int
	rep   [1 << MaxSources][]int32
	pmt   [1 << MaxSources][]float64
	pm    [1 << MaxSources][]float64
	table groupTable

	// proj[U][u][g] is the group on u of the U-group g, for u ⊆ U.
	proj [1 << MaxSources][1 << MaxSources][]int32

	pt []float64 // p(t)

	// Gradient accumulators: per union mask, per group and t; constants per t.
	gradU     [1 << MaxSources][]float64
	gradConst []float64
	// qacc[U][u] accumulates, on the groups of union U, the sum over the
	// antichains with that union of w · coef_u · R / ln 2. R's marginals are
	// linear, so summing first lets one scatter per (U, u) pair replace one
	// per antichain and term.
	qacc     [1 << MaxSources][1 << MaxSources][]float64
	qUsed    [1 << MaxSources][1 << MaxSources]bool
	wt       []float64 // W(t)
	gradCell []float64
	dCell    []float64 // dG/dtheta of a sample in each cell
	firstOf  []int     // the sample form's first sample (column index) of each cell

	weights  []float64
	lastGoal []float64

	// Sample form: the cell of each sample.
	cellOf []int32

	usedU   [1 << MaxSources]bool // union masks with gradient this call
	sums    []float64             // per-antichain sums and scales of a union pass
	passBuf passBlockBuf          // a union pass's block of entries
	putBuf  []float64             // p_ut for targets with more than maxTargets values
}

// maxTargets is the largest number of target values handled without a heap
// buffer for p_ut.
const maxTargets = 8

// NewEstimator returns an estimator for the lattice's number of sources.
func NewEstimator(l *Lattice) *Estimator {
	return &Estimator{lat: l, n: l.n, full: uint8(1<<l.n - 1), weights: make([]float64, l.NumAtoms())}
}

// Samples decomposes the soft histogram of a binary target T in {-1, +1}:
// sample m lies in the cell with bin bins[k][m] for source k and adds
// theta[m]/N to p(cell, +1) and (1-theta[m])/N to p(cell, -1) (target index
// 1 and 0 in the dense form). bins has one slice per source, each as long as
// theta; bin indices are any non-negative int32, and their range does not
// affect the cost. goal may be nil; if not, it has Lattice.GoalLen entries
// and res.G is set, and if dTheta is non-nil (len(theta) entries) it receives
// dG/dtheta[m]. It returns an error if there are no samples, a theta is NaN
// or outside [0, 1], or a bin is negative. It panics if the number of bin
// slices or their lengths do not match theta, if dTheta is given without a
// goal, or if goal or dTheta have the wrong length.
func (e *Estimator) Samples(res *Result, bins [][]int32, theta []float64, goal []float64, dTheta []float64) error {
	nS := len(theta)
	e.checkBins(bins, nS)
	e.checkGoal(goal, dTheta != nil)
	if dTheta != nil && len(dTheta) != nS {
		panic(fmt.Sprintf("pid: dTheta has %d entries for %d samples", len(dTheta), nS))
	}
	if nS == 0 {
		return ErrNoSamples
	}
	for m, th := range theta {
		if !(th >= 0 && th <= 1) {
			return fmt.Errorf("%w: theta[%d] = %v", ErrProbability, m, th)
		}
	}
	e.k = 2
	e.reserve(nS)
	if err := e.groupSamples(bins, nS); err != nil {
		return err
	}
	inv := 1 / float64(nS)
	for m := 0; m < nS; m++ {
		c := e.cellOf[m]
		e.p[2*c] += (1 - theta[m]) * inv
		e.p[2*c+1] += theta[m] * inv
	}

	grad := goal != nil && dTheta != nil
	e.decompose(res, goal, grad)
	if grad {
		for m := 0; m < nS; m++ {
			c := e.cellOf[m]
			dTheta[m] = (e.gradCell[2*c+1] - e.gradCell[2*c]) * inv
		}
	}
	return nil
}

// samplesColumn is Samples for column i of a layer's row-major arrays
// (sample m of neuron i at m*stride+i). It reads the column in place,
// computing each sample's cell key, cell and histogram entry in one pass,
// and writes dG/dtheta (if dTheta is not nil) to the same positions of
// dTheta. A cell key packs the bins at fixed widths of 64/n bits, so the
// column needs no pass of its own to size them. It reports false, having
// done nothing that matters, if a theta is NaN or outside [0, 1] or a bin is
// negative or does not fit its width; the caller then runs Samples on a
// copy, which reports the error or handles the wide bins. Results are those
// of Samples, bit for bit: the cells are numbered in the same order and
// their probabilities summed in the same order.
func (e *Estimator) samplesColumn(res *Result, bins [][]int32, theta []float64, batch, stride, i int, goal, dTheta []float64) bool {
	e.k = 2
	e.reserve(batch)
	e.cellOf = grow32(e.cellOf, batch)
	e.table.reset(batch)
	e.p = growF(e.p, 2*batch)
	for k := 0; k < e.n; k++ {
		e.bins[k] = grow32(e.bins[k], batch)
	}
	inv := 1 / float64(batch)
	cells := int32(0)
	ok := true
	// or collects every bin's bits: the sign bit for a negative bin, a bit
	// at or above width for one too wide.
	var or uint32
	width := uint(64 / e.n)
	p, cellOf := e.p, e.cellOf[:batch]
	theta = theta[:(batch-1)*stride+i+1]
	switch e.n {
	case 3:
		b0, b1, b2 := bins[0][:len(theta)], bins[1][:len(theta)], bins[2][:len(theta)]
		// A cell's bins are filled in after the loop from the sample that
		// opened it: fewer live values in the loop keep it in registers.
		first := e.firstOf[:batch]
		tab := e.table
		j := i
		for m := range cellOf {
			th := theta[j]
			if !(th >= 0 && th <= 1) {
				ok = false
			}
			x0, x1, x2 := uint32(b0[j]), uint32(b1[j]), uint32(b2[j])
			or |= x0 | x1 | x2
			c := tab.id(uint64(x0) | uint64(x1)<<21 | uint64(x2)<<42)
			if c == cells {
				p[2*c], p[2*c+1] = 0, 0
				first[c] = j
				cells++
			}
			cellOf[m] = c
			p[2*c] += (1 - th) * inv
			p[2*c+1] += th * inv
			j += stride
		}
		e.table.n = tab.n
		c0, c1, c2 := e.bins[0][:cells], e.bins[1][:cells], e.bins[2][:cells]
		for c, j := range first[:cells] {
			c0[c], c1[c], c2[c] = b0[j], b1[j], b2[j]
		}
	default:
		for m := range cellOf {
			j := m*stride + i
			th := theta[j]
			ok = ok && th >= 0 && th <= 1
			var key uint64
			for k := 0; k < e.n; k++ {
				b := uint32(bins[k][j])
				or |= b
				key |= uint64(b) << (uint(k) * width)
			}
			c := e.table.id(key)
			if c == cells {
				p[2*c], p[2*c+1] = 0, 0
				for k := 0; k < e.n; k++ {
					e.bins[k][c] = bins[k][j]
				}
				cells++
			}
			cellOf[m] = c
			p[2*c] += (1 - th) * inv
			p[2*c+1] += th * inv
		}
	}
	if !ok || int32(or) < 0 || uint64(or)>>width != 0 {
		return false
	}
	e.cells = int(cells)
	e.p = e.p[:2*e.cells]
	grad := goal != nil && dTheta != nil
	e.decompose(res, goal, grad)
	if grad {
		// dG/dtheta is a function of the cell: once per cell, then a copy
		// per sample.
		gc, dc := e.gradCell[:2*e.cells], e.dCell[:e.cells]
		for c := range dc {
			dc[c] = (gc[2*c+1] - gc[2*c]) * inv
		}
		j := i
		for _, c := range cellOf {
			dTheta[j] = dc[c]
			j += stride
		}
	}
	return true
}

// Counts decomposes the empirical distribution of samples with a discrete
// target of k values: sample m lies in the cell with bin bins[k][m] for
// source k and has target value target[m] in [0, k). Like Samples, its cost
// depends on the samples, not on the range of the bins. There is no
// gradient; goal may be nil. Errors: no samples, a negative bin, a target
// outside [0, k). It panics if the lengths do not match or k < 1.
func (e *Estimator) Counts(res *Result, bins [][]int32, target []int32, k int, goal []float64) error {
	nS := len(target)
	e.checkBins(bins, nS)
	e.checkGoal(goal, false)
	if k < 1 {
		panic(fmt.Sprintf("pid: %d target values", k))
	}
	if nS == 0 {
		return ErrNoSamples
	}
	for m, t := range target {
		if t < 0 || int(t) >= k {
			return fmt.Errorf("%w: target[%d] = %d, want 0 to %d", ErrTarget, m, t, k-1)
		}
	}
	e.k = k
	if err := e.groupSamples(bins, nS); err != nil {
		return err
	}
	inv := 1 / float64(nS)
	for m, t := range target {
		e.p[int(e.cellOf[m])*k+int(t)] += inv
	}
	e.decompose(res, goal, false)
	return nil
}

func (e *Estimator) checkBins(bins [][]int32, nS int) {
	if len(bins) != e.n {
		panic(fmt.Sprintf("pid: %d bin slices for %d sources", len(bins), e.n))
	}
	for k := range bins {
		if len(bins[k]) != nS {
			panic(fmt.Sprintf("pid: source %d has %d bins for %d samples", k+1, len(bins[k]), nS))
		}
	}
}

// groupSamples numbers the occupied cells in the order samples first reach
// them, sets e.cellOf, e.cells and each cell's bins, and zeroes e.p for e.k
// target values.
func (e *Estimator) groupSamples(bins [][]int32, nS int) error {
	// Pack a sample's bins into one key when they fit in 64 bits (always, for
	// the trainer's bin counts); otherwise chain the sources through the table.
	var width [MaxSources]uint
	total := uint(0)
	for k := 0; k < e.n; k++ {
		var or int32
		for _, b := range bins[k] {
			or |= b
		}
		if or < 0 {
			for m, b := range bins[k] {
				if b < 0 {
					return fmt.Errorf("%w: source %d, sample %d: %d", ErrNegativeBin, k+1, m, b)
				}
			}
		}
		width[k] = uint(bits.Len32(uint32(or)))
		total += width[k]
	}
	e.cellOf = grow32(e.cellOf, nS)
	e.table.reset(nS)
	if total <= 64 {
		for m := 0; m < nS; m++ {
			var key uint64
			shift := uint(0)
			for k := 0; k < e.n; k++ {
				key |= uint64(bins[k][m]) << shift
				shift += width[k]
			}
			e.cellOf[m] = e.table.id(key)
		}
	} else {
		// Chain: the group of sources 1..k is the pair (group of 1..k-1, bin k).
		for m := 0; m < nS; m++ {
			e.cellOf[m] = e.table.id(uint64(bins[0][m]))
		}
		for k := 1; k < e.n; k++ {
			e.table.reset(nS)
			for m := 0; m < nS; m++ {
				e.cellOf[m] = e.table.id(uint64(e.cellOf[m])<<32 | uint64(bins[k][m]))
			}
		}
	}
	e.cells = int(e.table.n)
	e.p = growF(e.p, e.cells*e.k)
	clear(e.p)
	for k := 0; k < e.n; k++ {
		e.bins[k] = grow32(e.bins[k], e.cells)
		dst := e.bins[k]
		for m, c := range e.cellOf[:nS] {
			dst[c] = bins[k][m]
		}
	}
	return nil
}

// Dense decomposes a full joint table p over (S_1, ..., S_n, T), row-major
// with T fastest; shape gives the number of values of each source, then of T
// (any number of target values). goal may be nil; if not, res.G is set, and
// dP, if non-nil, receives dG/dp for every entry, with p_u held constant as
// in the reference's autograd. Errors: a shape of the wrong rank or with a
// dimension below 1, a table whose length does not match the shape, an entry
// that is negative, NaN or infinite, a table that does not sum to 1 within
// 1e-9. It panics if dP is given without a goal or has the wrong length.
func (e *Estimator) Dense(res *Result, shape []int, p []float64, goal []float64, dP []float64) error {
	if len(shape) != e.n+1 {
		return fmt.Errorf("%w: %d dimensions, want %d sources and the target", ErrShape, len(shape), e.n)
	}
	size := 1
	for i, d := range shape {
		if d < 1 || d > math.MaxInt32 {
			return fmt.Errorf("%w: dimension %d has %d values", ErrShape, i+1, d)
		}
		size *= d
	}
	if size != len(p) {
		return fmt.Errorf("%w: shape %v has %d entries, table has %d", ErrShape, shape, size, len(p))
	}
	e.checkGoal(goal, dP != nil)
	if dP != nil && len(dP) != len(p) {
		panic(fmt.Sprintf("pid: dP has %d entries for a table of %d", len(dP), len(p)))
	}
	sum := 0.0
	for i, v := range p {
		if !(v >= 0) || math.IsInf(v, 1) {
			return fmt.Errorf("%w: entry %d is %v", ErrProbability, i, v)
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("%w: sum is %.17g", ErrNotNormal, sum)
	}

	e.k = shape[e.n]
	e.cells = size / e.k
	e.p = growF(e.p, size)
	copy(e.p, p)
	for k := 0; k < e.n; k++ {
		e.bins[k] = grow32(e.bins[k], e.cells)
	}
	// Row-major: the last source varies fastest.
	for c := 0; c < e.cells; c++ {
		r := c
		for k := e.n - 1; k >= 0; k-- {
			e.bins[k][c] = int32(r % shape[k])
			r /= shape[k]
		}
	}
	grad := goal != nil && dP != nil
	e.decompose(res, goal, grad)
	if grad {
		copy(dP, e.gradCell[:size])
	}
	return nil
}

// reserve sizes every per-cell and per-group buffer for up to cells cells of
// a binary target at once, so that a Layer's workers, which see neurons with
// different numbers of cells, stop allocating after their first call.
func (e *Estimator) reserve(cells int) {
	if cap(e.p) >= 2*cells {
		return
	}
	e.table.reset(cells)
	e.cellOf = make([]int32, cells)
	e.pt = make([]float64, 2)
	e.gradConst = make([]float64, 2)
	e.wt = make([]float64, 2)
	e.lastGoal = make([]float64, 0, e.lat.GoalLen())
	e.sums = make([]float64, 5*e.lat.NumAtoms())
	e.p = make([]float64, 2*cells)
	e.gradCell = make([]float64, 2*cells)
	e.dCell = make([]float64, cells)
	e.firstOf = make([]int, cells)
	// A union pass holds 4 values per (group, antichain, target value) of
	// a block of groups.
	nc := 0
	for _, ug := range e.lat.unions {
		nc = max(nc, len(ug.chains))
	}
	e.passBuf = make(passBlockBuf, 2*passBlock*nc)
	for k := 0; k < e.n; k++ {
		e.bins[k] = make([]int32, cells)
	}
	for u := 1; u <= int(e.full); u++ {
		e.gid[u] = make([]int32, cells)
		e.rep[u] = make([]int32, cells)
		e.pmt[u] = make([]float64, 2*cells)
		e.pm[u] = make([]float64, cells)
		e.gradU[u] = make([]float64, 2*cells)
		for v := 1; v <= int(e.full); v++ {
			if v&u == v {
				e.proj[u][v] = make([]int32, cells)
				e.qacc[u][v] = make([]float64, 2*cells)
			}
		}
	}
}

func (e *Estimator) checkGoal(goal []float64, wantGrad bool) {
	if goal != nil && len(goal) != e.lat.GoalLen() {
		panic(fmt.Sprintf("pid: goal has %d entries, want %d", len(goal), e.lat.GoalLen()))
	}
	if wantGrad && goal == nil {
		panic("pid: a gradient needs a goal")
	}
}

// decompose computes the I^sx values, atoms and entropies of the cells in
// e.p / e.bins, and with grad the gradient of G for every cell and t in
// e.gradCell.
func (e *Estimator) decompose(res *Result, goal []float64, grad bool) {
	K := e.k
	C := e.cells
	full := e.full

	// Group the cells by their projection on every subset u. A subset's key
	// chains the group on u without its highest source with that source's
	// bin, so keys never overflow whatever the bin range.
	for u := uint8(1); u <= full; u++ {
		hi := uint(bits.Len8(u) - 1)
		rest := u &^ (1 << hi)
		e.gid[u] = grow32(e.gid[u], C)
		g := e.gid[u]
		if u == full {
			for c := range g {
				g[c] = int32(c)
			}
			e.ngrp[u] = C
		} else {
			e.table.reset(C)
			src := e.bins[hi]
			if rest == 0 {
				for c := 0; c < C; c++ {
					g[c] = e.table.id(uint64(src[c]))
				}
			} else {
				prev := e.gid[rest]
				for c := 0; c < C; c++ {
					g[c] = e.table.id(uint64(prev[c])<<32 | uint64(src[c]))
				}
			}
			e.ngrp[u] = int(e.table.n)
		}
		G := e.ngrp[u]
		e.rep[u] = grow32(e.rep[u], G)
		e.pmt[u] = growF(e.pmt[u], G*K)
		e.pm[u] = growF(e.pm[u], G)
		rep, pmt, pm := e.rep[u], e.pmt[u][:G*K], e.pm[u][:G]
		clear(pmt)
		clear(pm)
		if K == 2 {
			// The binary target's loops, unrolled; the same sums.
			p := e.p[:2*C]
			if u == full { // every group one cell
				copy(pmt, p)
				for c := range rep {
					rep[c] = int32(c)
					pm[c] = p[2*c] + p[2*c+1]
				}
				continue
			}
			for c := C - 1; c >= 0; c-- {
				gc := g[c]
				rep[gc] = int32(c)
				pmt[2*gc] += p[2*c]
				pmt[2*gc+1] += p[2*c+1]
			}
			for gc := range pm {
				pm[gc] = pmt[2*gc] + pmt[2*gc+1]
			}
			continue
		}
		for c := C - 1; c >= 0; c-- {
			gc := int(g[c])
			rep[gc] = int32(c)
			row := e.p[c*K : c*K+K]
			for t, v := range row {
				pmt[gc*K+t] += v
			}
		}
		for gc := 0; gc < G; gc++ {
			s := 0.0
			for _, v := range pmt[gc*K : gc*K+K] {
				s += v
			}
			pm[gc] = s
		}
	}
	// Group maps from every union mask U to its subsets.
	for U := uint8(1); U <= full; U++ {
		G := e.ngrp[U]
		rep := e.rep[U][:G]
		for u := uint8(1); u <= full; u++ {
			if u&U != u {
				continue
			}
			e.proj[U][u] = grow32(e.proj[U][u], G)
			pr := e.proj[U][u]
			gu := e.gid[u]
			for g, c := range rep {
				pr[g] = gu[c]
			}
		}
	}

	e.pt = growF(e.pt, K)
	pt := e.pt[:K]
	clear(pt)
	for c := 0; c < C; c++ {
		for t := 0; t < K; t++ {
			pt[t] += e.p[c*K+t]
		}
	}

	if goal != nil {
		e.setWeights(goal)
	}
	if grad {
		for U := uint8(1); U <= full; U++ {
			e.gradU[U] = growF(e.gradU[U], e.ngrp[U]*K)
			clear(e.gradU[U][:e.ngrp[U]*K])
			for u := uint8(1); u <= full; u++ {
				if u&U == u && K != 2 {
					e.qacc[U][u] = growF(e.qacc[U][u], e.ngrp[U]*K)
					clear(e.qacc[U][u][:e.ngrp[U]*K])
				}
			}
		}
		e.gradConst = growF(e.gradConst, K)
		clear(e.gradConst[:K])
		e.wt = growF(e.wt, K)
	}

	if K == 2 {
		for i := range e.lat.unions {
			e.unionPass2(res, &e.lat.unions[i], goal != nil, grad)
		}
	} else {
		for a, chain := range e.lat.antichains {
			w := 0.0
			if goal != nil {
				w = e.weights[a]
			}
			res.Icap[a] = e.isx(a, chain.Union(), w, grad && w != 0)
		}
	}

	// H(T), H_res and the goal.
	ht := 0.0
	for _, v := range pt {
		ht -= v * math.Log2(v+entropyEps)
	}
	res.HT = ht
	res.HRes = ht - res.Icap[e.lat.top]
	e.lat.Atoms(res.Atoms, res.Icap)
	res.G = 0
	if goal != nil {
		na := e.lat.NumAtoms()
		g := goal[na] * res.HRes
		for k, v := range res.Atoms {
			g += goal[k] * v
		}
		res.G = g
	}
	if !grad {
		return
	}
	gres := goal[e.lat.NumAtoms()]
	for t := 0; t < K; t++ {
		v := pt[t]
		e.gradConst[t] += gres * (-math.Log2(v+entropyEps) - v/((v+entropyEps)*math.Ln2))
	}
	// Scatter the R sums from each union's groups onto each subset's groups,
	// where they join that subset's direct log terms (the binary target's
	// union passes have done so themselves).
	for U := uint8(1); U <= full; U++ {
		for u := uint8(1); u <= full; u++ {
			if !e.qUsed[U][u] {
				continue
			}
			e.qUsed[U][u] = false
			e.usedU[u] = true
			q, dst, pr := e.qacc[U][u], e.gradU[u], e.proj[U][u][:e.ngrp[U]]
			for g, h := range pr {
				for t := 0; t < K; t++ {
					dst[int(h)*K+t] += q[g*K+t]
				}
			}
		}
	}
	e.gradCell = growF(e.gradCell, C*K)
	gc := e.gradCell[:C*K]
	for c := 0; c < C; c++ {
		copy(gc[c*K:c*K+K], e.gradConst[:K])
	}
	for U := uint8(1); U <= full; U++ {
		gU := e.gradU[U]
		gid := e.gid[U]
		if !e.usedU[U] {
			continue
		}
		if K == 2 {
			for c, h := range gid[:C] {
				gc[2*c] += gU[2*h]
				gc[2*c+1] += gU[2*h+1]
			}
			continue
		}
		for c := 0; c < C; c++ {
			row := gU[int(gid[c])*K : int(gid[c])*K+K]
			for t, v := range row {
				gc[c*K+t] += v
			}
		}
	}
	clear(e.usedU[:])
}

func (e *Estimator) setWeights(goal []float64) {
	if e.lastGoal != nil && floatbits.Equal(e.lastGoal, goal) {
		return
	}
	e.lat.Weights(e.weights, goal)
	e.lastGoal = append(e.lastGoal[:0], goal...)
}

// isx returns I^sx of antichain a, whose members' union is U, and with grad
// adds w · dI/dp to the gradient accumulators: the log term to gradU[U], the
// R terms to qacc[U], the W term to gradConst.
func (e *Estimator) isx(a int, U uint8, w float64, grad bool) float64 {
	K := e.k
	G := e.ngrp[U]
	terms := e.lat.terms[a]
	pmtU := e.pmt[U]
	pt := e.pt[:K]
	var gU []float64
	if grad {
		e.usedU[U] = true
		gU = e.gradU[U]
		clear(e.wt[:K])
		for _, tm := range terms {
			e.qUsed[U][tm.subset] = true
		}
	}
	var put [maxTargets]float64
	pv := put[:]
	if K > maxTargets {
		e.putBuf = growF(e.putBuf, K)
		pv = e.putBuf
	}
	pv = pv[:K]
	scale := w * invLn2
	sum := 0.0
	for g := 0; g < G; g++ {
		pu := 0.0
		clear(pv)
		for _, tm := range terms {
			h := int(e.proj[U][tm.subset][g])
			pu += tm.coef * e.pm[tm.subset][h]
			row := e.pmt[tm.subset][h*K : h*K+K]
			for t, v := range row {
				pv[t] += tm.coef * v
			}
		}
		for t := 0; t < K; t++ {
			den := pu*pt[t] + denomEps
			frac := pv[t] / den
			if !(frac >= fracFloor) {
				continue
			}
			pst := pmtU[g*K+t]
			lf := log2(frac)
			sum += pst * lf
			if grad {
				gU[g*K+t] += w * lf
				r := scale * pst / pv[t]
				for _, tm := range terms {
					e.qacc[U][tm.subset][g*K+t] += tm.coef * r
				}
				e.wt[t] += pst * pu / den
			}
		}
	}
	if grad {
		for t := 0; t < K; t++ {
			e.gradConst[t] -= scale * e.wt[t]
		}
	}
	return sum
}

// unionPass2 is isx for every antichain whose members' union is ug.union,
// for a binary target, the trainer's case: one pass over the union's groups
// reads each marginal once for all those antichains (instead of once per
// antichain and term) and writes each gradient accumulator once.
func (e *Estimator) unionPass2(res *Result, ug *unionGroup, weighted, grad bool) {
	const maxSlots = 1<<MaxSources - 1
	U := ug.union
	G := e.ngrp[U]
	ns := len(ug.subsets)
	var proj [maxSlots][]int32
	var pm, pmt, dst [maxSlots][]float64
	for j, u := range ug.subsets {
		proj[j] = e.proj[U][u][:G]
		pm[j] = e.pm[u]
		pmt[j] = e.pmt[u]
		dst[j] = e.gradU[u]
	}
	nc := len(ug.chains)
	e.sums = growF(e.sums, 5*nc)
	sums, ws, scales := e.sums[:nc], e.sums[nc:2*nc], e.sums[2*nc:3*nc]
	r0s, r1s := e.sums[3*nc:4*nc], e.sums[4*nc:5*nc]
	clear(sums)
	anyGrad := false
	for ci, ch := range ug.chains {
		ws[ci], scales[ci] = 0, 0
		if weighted && grad {
			ws[ci] = e.weights[ch.index]
			scales[ci] = ws[ci] * invLn2
			anyGrad = anyGrad || ws[ci] != 0
		}
	}
	var gU []float64
	if anyGrad {
		e.usedU[U] = true
		gU = e.gradU[U][:2*G]
		for _, u := range ug.subsets {
			e.usedU[u] = true
		}
	}
	pmtU := e.pmt[U][:2*G]
	pt0, pt1 := e.pt[0], e.pt[1]
	tri := ug.trivariateFull

	// The groups go in blocks of passBlock, so that a block's pass buffers
	// stay in the L1 cache; within a block, pass 1 computes p_u and p_ut of
	// every (group, antichain) and the fractions, pass 2 the logarithms in
	// one tight loop, pass 3 the sums and the gradient. Entry q of a block
	// is 2*(g*nc + ci) + t. One division per entry serves three quotients:
	// with inv = 1/(p_ut den), 1/den = p_ut inv and 1/p_ut = den inv. An
	// entry whose fraction is below fracFloor gets a fraction, logarithm
	// and quotients of 0, so that pass 3 adds zeros instead of branching:
	// the sums come out as if the entry were skipped.
	n := 2 * passBlock * nc
	if len(e.passBuf) < n {
		e.passBuf = make(passBlockBuf, n)
	}
	pb := e.passBuf[:n]
	var P, Q0, Q1 [maxSlots]float64
	var wc0, wc1 float64
	for g0 := 0; g0 < G; g0 += passBlock {
		g1 := min(g0+passBlock, G)
		q := 0
		if tri {
			q = tri7Fracs(pb, g0, g1, &proj, &pm, &pmt, pt0, pt1)
		} else {
			for g := g0; g < g1; g++ {
				for j := 0; j < ns; j++ {
					h := proj[j][g]
					P[j], Q0[j], Q1[j] = pm[j][h], pmt[j][2*h], pmt[j][2*h+1]
				}
				for ci := range ug.chains {
					var u, q0, q1 float64
					for _, tm := range ug.chains[ci].terms {
						u += tm.coef * P[tm.slot]
						q0 += tm.coef * Q0[tm.slot]
						q1 += tm.coef * Q1[tm.slot]
					}
					pb.put(q, u, q0, pt0)
					pb.put(q+1, u, q1, pt1)
					q += 2
				}
			}
		}
		log2Frac(pb[:q])
		q = 0
		for g := g0; g < g1; g++ {
			p0, p1 := pmtU[2*g], pmtU[2*g+1]
			var gl0, gl1 float64
			for ci := range nc {
				e0, e1 := &pb[q], &pb[q+1]
				l0, l1 := e0.log, e1.log
				sums[ci] += p0 * l0
				sums[ci] += p1 * l1
				gl0 += ws[ci] * l0
				gl1 += ws[ci] * l1
				sc := scales[ci]
				r0s[ci] = sc * p0 * e0.rput
				r1s[ci] = sc * p1 * e1.rput
				wc0 += sc * p0 * e0.rden
				wc1 += sc * p1 * e1.rden
				q += 2
			}
			if anyGrad {
				gU[2*g] += gl0
				gU[2*g+1] += gl1
				// The R terms: sum over the antichains reading subset j
				// of coef · R, one gather per subset, added straight to
				// the subset's group (in the order in which a scatter
				// after all passes would add them: unions in ascending
				// order, groups in ascending order).
				if tri {
					tri7Gather(g, r0s, r1s, &proj, &dst)
					continue
				}
				for j, col := range ug.bySlot {
					var a0, a1 float64
					for _, st := range col {
						a0 += st.coef * r0s[st.chain]
						a1 += st.coef * r1s[st.chain]
					}
					h := proj[j][g]
					dst[j][2*h] += a0
					dst[j][2*h+1] += a1
				}
			}
		}
	}
	for ci, ch := range ug.chains {
		res.Icap[ch.index] = sums[ci]
	}
	if anyGrad {
		e.gradConst[0] -= wc0
		e.gradConst[1] -= wc1
	}
}

// passBlock is the number of groups a union pass takes at a time: at the
// trivariate lattice's 9 antichains per union, 4 buffers of 2*9*32 float64
// fill 18 KB, half of a 32 KB L1 data cache. Unblocked, 400 cells (100
// bins) took 230 KB and the pass ran from L2.
const passBlock = 32

// A passEntry is one (group, antichain, target value) of a union pass's
// block: the fraction, its logarithm, 1/p_ut and p_u/den, on one half cache
// line.
type passEntry struct{ frac, log, rput, rden float64 }

// A passBlockBuf holds a union pass's block of entries (see unionPass2).
type passBlockBuf []passEntry

func (b passBlockBuf) put(q int, u, qt, pt float64) {
	d := u*pt + denomEps
	i := 1 / (qt * d)
	f := qt * (qt * i)
	rp, rd := d*i, u*(qt*i)
	// A true fraction is at most 1/denomEps; a larger f is qt*d so small
	// (p_ut below 1e-298) that its reciprocal overflowed, for a fraction
	// far below the floor.
	if !(f >= fracFloor && f <= fracCeil) {
		f, rp, rd = 0, 0, 0
	}
	b[q] = passEntry{frac: f, rput: rp, rden: rd}
}

func growF(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

func grow32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
