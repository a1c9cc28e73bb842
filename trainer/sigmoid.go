package trainer

import "math"

// expFast is the exponential behind every activation of this package, in a
// form that a vector kernel (activation_amd64.s) computes with the same
// operations in the same order, so that both give the same bits:
//
//	x = clamp(x, -746, 710)                     (NaN stays NaN)
//	k = round-to-nearest-even(x · log2 e)       (the 1.5·2^52 trick)
//	r = x - k·ln 2                              (ln 2 in two parts, each by one FMA)
//	e^r = sum_{i=0}^{13} r^i / i!               (Horner, one FMA per term)
//	e^x = (e^r · 2^k1) · 2^k2,  k1 + k2 = k     (two scalings, so that k may reach 1024 or -1076)
//
// |r| <= ln 2 / 2, where the Taylor remainder r^14/14! is below 5e-18. Its
// relative error against math.Exp is at most expFastMaxErr (2 units in the
// last place, TestExpFast, over normal results); results below 2^-1022 are
// subnormal and keep an absolute error below 2^-1074. Beyond the clamp the
// result is what math.Exp gives: +Inf above 709.78, 0 below -745.13.
//
// Every product that an addition consumes is wrapped in float64(), which Go
// defines to round, so no compiler may fuse it into an FMA the kernel does
// not do; the FMAs are explicit math.FMA calls.
func expFast(x float64) float64 {
	if x < expLo {
		x = expLo
	}
	if x > expHi {
		x = expHi
	}
	t := float64(x*math.Log2E) + expMagic
	k := t - expMagic
	r := math.FMA(k, -expLn2Hi, x)
	r = math.FMA(k, -expLn2Lo, r)
	p := expCoef[len(expCoef)-1]
	for i := len(expCoef) - 2; i >= 0; i-- {
		p = math.FMA(p, r, expCoef[i])
	}
	// t's low mantissa bits hold k; e = k + 2046 is the sum of the two
	// biased exponents.
	e := math.Float64bits(t) - expMagicBits + 2046
	e1 := e >> 1
	e2 := e - e1
	return p * math.Float64frombits(e1<<52) * math.Float64frombits(e2<<52)
}

// expFastMaxErr bounds |expFast(x) - math.Exp(x)| / math.Exp(x) where
// math.Exp(x) >= 2^-1022: two units in the last place.
const expFastMaxErr = 0x1p-51

// sigmoid is 1/(1+exp(-x)), computed in this form because torch.sigmoid
// computes it so on the CPU; the derivative is then taken as y*(1-y) from the
// same y, as torch's sigmoid backward does. Its relative error against the
// same formula with math.Exp is below 2^-51 + 2^-52 (TestSigmoidFast), and
// it is 0 or 1 exactly where that one is.
func sigmoid(x float64) float64 { return 1 / (1 + expFast(-x)) }

// The constants of expFast. The clamp keeps 2^k1 and 2^k2 normal: k lies in
// [-1076, 1024].
const (
	expLo        = -746
	expHi        = 710
	expMagic     = 0x1.8p52
	expMagicBits = 0x4338000000000000
	// ln 2 = expLn2Hi + expLn2Lo: the double nearest ln 2 and the double
	// nearest the rest.
	expLn2Hi = 0x1.62e42fefa39efp-1
	expLn2Lo = 0x1.abc9e3b39803fp-56
)

// expCoef[i] is 1/i!, rounded to the nearest double.
var expCoef = [14]float64{
	1, 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
	1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800,
}

// actConsts is the constant block of the vector activation kernels: every
// constant of expFast, then the activation's parameters p0..p4, each
// broadcast into a 32-byte vector. Its layout is the one
// activation_amd64_gen.go addresses.
type actConsts [actParams + 5][4]float64

const (
	actCoef   = 6 // first of the 14 coefficients
	actParams = actCoef + len(expCoef) + 4
)

// set fills k with the constants of expFast and the parameters p.
func (k *actConsts) set(p [5]float64) {
	put := func(i int, x float64) { k[i] = [4]float64{x, x, x, x} }
	put(0, expLo)
	put(1, expHi)
	put(2, math.Log2E)
	put(3, expMagic)
	put(4, expLn2Hi)
	put(5, expLn2Lo)
	for i, c := range expCoef {
		put(actCoef+i, c)
	}
	put(actParams-4, math.Float64frombits(expMagicBits))
	put(actParams-3, math.Float64frombits(2046))
	put(actParams-2, math.Float64frombits(1<<63)) // the sign bit
	put(actParams-1, 1)
	for i, x := range p {
		put(actParams+i, x)
	}
}
