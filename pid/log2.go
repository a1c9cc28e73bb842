package pid

import "math"

// log2 is a faster math.Log2 for the hot loop, accurate to about one unit in
// the last places (TestLog2 bounds it at 1e-15 relative, far inside the 1e-9
// parity budget): the logarithms of the fractions are a fifth of an
// estimator's work. It reduces x = 2^e · m with m in [1, 2), divides m by a
// table value c close to it (x · (1/c) = 1 + r with |r| <= 2^-9), and sums
// log2(1/c)'s table entry, e, and the series of log2(1 + r).
//
// Special cases: x must be positive and finite (the estimators only take
// logs of fractions above 1e-7); subnormal inputs are handled by math.Log2.
func log2(x float64) float64 {
	b := math.Float64bits(x)
	exp := int(b>>52) - 1023
	if exp == -1023 || exp == 1024 {
		return math.Log2(x)
	}
	// Index by the top log2TableBits bits of the mantissa, rounded to the
	// nearest table point so that |r| stays below half a step.
	idx := ((b&(1<<52-1))>>(52-log2TableBits-1) + 1) >> 1
	m := math.Float64frombits(b&(1<<52-1) | 1023<<52) // in [1, 2)
	r := m*log2Inv[idx] - 1
	// ln(1+r) to r^5 (|r| <= 2^-9 puts the next term below 2^-56, a tenth
	// of the result's rounding), in Estrin's form: independent halves
	// shorten the chain of dependent multiplications, which is what the
	// estimator's loop waits on.
	r2 := r * r
	lo := r - r2*0.5
	hi := 1.0/3 - r*0.25 + r2*0.2
	return float64(exp) + log2Log[idx] + (lo+r2*r*hi)*(1/math.Ln2)
}

const log2TableBits = 8

// log2Inv[i] ≈ 1/(1 + i/2^8) and log2Log[i] = -log2(log2Inv[i]) for the
// value actually stored, so the table introduces no error of its own.
var log2Inv, log2Log [1<<log2TableBits + 1]float64

func init() {
	for i := range log2Inv {
		c := 1 + float64(i)/(1<<log2TableBits)
		log2Inv[i] = 1 / c
		log2Log[i] = -math.Log2(log2Inv[i])
	}
}

// log2Frac sets each entry's log to log2(frac) if frac >= fracFloor (the
// fractions whose logarithm an estimator uses) and to 0 otherwise (NaN
// included), with log2's arithmetic inlined into one loop so that
// consecutive logarithms overlap. Every frac must be below +Inf (the union
// passes' fractions are at most fracCeil).
func log2Frac(es []passEntry) {
	for i := range es {
		x := es[i].frac
		if !(x >= fracFloor) {
			es[i].log = 0
			continue
		}
		b := math.Float64bits(x)
		exp := int(b>>52) - 1023 // no subnormal or +Inf reaches here
		idx := ((b&(1<<52-1))>>(52-log2TableBits-1) + 1) >> 1
		m := math.Float64frombits(b&(1<<52-1) | 1023<<52)
		r := m*log2Inv[idx] - 1
		r2 := r * r
		lo := r - r2*0.5
		hi := 1.0/3 - r*0.25 + r2*0.2
		es[i].log = float64(exp) + log2Log[idx] + (lo+r2*r*hi)*(1/math.Ln2)
	}
}
