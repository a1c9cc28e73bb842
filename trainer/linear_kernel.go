package trainer

import "math"

// axpyRows is the one kernel behind every product of this package:
//
//	acc[i] = fma(val[t], rows[int(idx[t])*stride+i], acc[i])   for t = 0, 1, ..., len(idx)-1 in turn
//
// for every i < len(acc): acc accumulates a linear combination of rows of a
// row-major matrix, term after term, with one fused multiply-add (a single
// rounding) per element and term. Every element therefore sees the same
// operations in the same order whether the vectorised kernel (AVX2, amd64)
// or the portable loop computes it, and whichever goroutine does: the
// results are bit-identical across threads and across machines.
//
// The kernel keeps up to 60 accumulators in vector registers and streams the
// rows, so a product costs one load and one fused multiply-add per element
// and term, and no store. rows must hold every row idx names:
// int(idx[t])*stride + len(acc) <= len(rows), idx[t] >= 0, and
// len(val) >= len(idx). The callers build idx themselves and guarantee it;
// axpyRows checks only the lengths it can check cheaply.
func axpyRows(acc, rows []float64, stride int, idx []int32, val []float64) {
	if !axpyArgs("axpyRows", len(acc), len(rows), len(idx), len(val)) {
		return
	}
	if useAVX512 {
		axpyRowsAVX512(acc, rows, stride, idx, val)
		return
	}
	done := 0
	if useAVX2 {
		done = axpyRowsAVX2(acc, rows, stride, idx, val)
	}
	if done < len(acc) {
		axpyRowsGo(acc[done:], rows[done:], stride, idx, val)
	}
}

// axpyRowsGo is axpyRows in portable Go.
func axpyRowsGo(acc, rows []float64, stride int, idx []int32, val []float64) {
	n := len(acc)
	val = val[:len(idx)]
	for t, j := range idx {
		v := val[t]
		r := rows[int(j)*stride:][:n]
		for i, x := range r {
			acc[i] = math.FMA(v, x, acc[i])
		}
	}
}

// axpyRows32 is axpyRows over float32 rows, each element widened exactly to
// float64 before its fused multiply-add: for rows that hold the same values,
// the same bits as axpyRows at half the bytes read. Only the AVX-512 kernel
// is vectorised (the masked path, its one caller, uses it only then).
func axpyRows32(acc []float64, rows []float32, stride int, idx []int32, val []float64) {
	if !axpyArgs("axpyRows32", len(acc), len(rows), len(idx), len(val)) {
		return
	}
	if useAVX512 {
		axpyRows32AVX512(acc, rows, stride, idx, val)
		return
	}
	n := len(acc)
	val = val[:len(idx)]
	for t, j := range idx {
		v := val[t]
		r := rows[int(j)*stride:][:n]
		for i, x := range r {
			acc[i] = math.FMA(v, float64(x), acc[i])
		}
	}
}

// axpyArgs reports whether an axpyRows call has work to do, and panics
// (naming the kernel) on arguments no caller should pass: fewer values than
// indices, or rows shorter than the accumulator.
func axpyArgs(name string, nacc, nrows, nidx, nval int) bool {
	if nidx == 0 || nacc == 0 {
		return false
	}
	if nval < nidx || nrows < nacc {
		panic("trainer: " + name + ": short val or rows")
	}
	return true
}

// bandWidth is the number of columns a product processes at a time when its
// axpyRows calls, one per output row, all read the same nrows × width
// matrix: the whole width if that matrix fits in L2 (about 1 MB here),
// else bands of columns narrow enough that a band of the matrix (512 kB)
// stays in L2 while every output row takes its terms from it. Splitting the
// columns changes no result: every element sees the same operations in the
// same order.
func bandWidth(width, nrows int) int {
	const budget = 512 << 10
	if nrows*width*8 <= 3*budget/2 {
		return width
	}
	return min(width, 8*max(1, budget/(nrows*64)))
}
