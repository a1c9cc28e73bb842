package trainer

import (
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
)

// pcg is the generator of a rand.PCG, reproduced so that a stream of draws
// can be split between threads: PCG-DXSM (O'Neill, "PCG: a family of simple
// fast space-efficient statistically good algorithms for random number
// generation", 2014; the DXSM output function of her pcg-cpp and NumPy), a
// 128-bit linear congruential state
//
//	state = state × pcgMul + pcgInc  (mod 2^128)
//
// whose every step outputs a 64-bit permutation of the new state, with the
// multiplier and increment rand.PCG uses. Because the state is an LCG, n
// steps are one affine map, computed in O(log n) multiplications (Brown,
// "Random number generation with arbitrary strides", Trans. Am. Nucl. Soc.
// 71, 1994), so a thread can start at draw j of a batch without making the
// first j. TestPCGMatchesRand checks it against rand.PCG draw for draw.
type pcg struct{ hi, lo uint64 }

// The LCG's constants, 128 bits each, and DXSM's 64-bit multiplier.
const (
	pcgMulHi = 2549297995355413924
	pcgMulLo = 4865540595714422341
	pcgIncHi = 6364136223846793005
	pcgIncLo = 1442695040888963407
	pcgDXSM  = 0xda942042e4dd58b5
)

// mul128 returns a × b mod 2^128.
func mul128(ahi, alo, bhi, blo uint64) (hi, lo uint64) {
	hi, lo = bits.Mul64(alo, blo)
	return hi + ahi*blo + alo*bhi, lo
}

// add128 returns a + b mod 2^128.
func add128(ahi, alo, bhi, blo uint64) (hi, lo uint64) {
	lo, c := bits.Add64(alo, blo, 0)
	hi, _ = bits.Add64(ahi, bhi, c)
	return hi, lo
}

// uint64 advances the state one step and returns its output.
func (g *pcg) uint64() uint64 {
	hi, lo := mul128(g.hi, g.lo, pcgMulHi, pcgMulLo)
	g.hi, g.lo = add128(hi, lo, pcgIncHi, pcgIncLo)
	hi, lo = g.hi, g.lo
	hi ^= hi >> 32
	hi *= pcgDXSM
	hi ^= hi >> 48
	return hi * (lo | 1)
}

// advance moves the state n steps ahead.
func (g *pcg) advance(n uint64) {
	accMulHi, accMulLo := uint64(0), uint64(1)
	accAddHi, accAddLo := uint64(0), uint64(0)
	mulHi, mulLo := uint64(pcgMulHi), uint64(pcgMulLo)
	addHi, addLo := uint64(pcgIncHi), uint64(pcgIncLo)
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			accMulHi, accMulLo = mul128(accMulHi, accMulLo, mulHi, mulLo)
			h, l := mul128(accAddHi, accAddLo, mulHi, mulLo)
			accAddHi, accAddLo = add128(h, l, addHi, addLo)
		}
		// add = (mul + 1) add; mul = mul².
		h, l := add128(mulHi, mulLo, 0, 1)
		addHi, addLo = mul128(h, l, addHi, addLo)
		mulHi, mulLo = mul128(mulHi, mulLo, mulHi, mulLo)
	}
	h, l := mul128(accMulHi, accMulLo, g.hi, g.lo)
	g.hi, g.lo = add128(h, l, accAddHi, accAddLo)
}

// pcgBuf holds a rand.PCG's binary form: "pcg:", then the state's high and
// low words, big-endian.
type pcgBuf [20]byte

// get reads src's state.
func (g *pcg) get(src *rand.PCG, buf *pcgBuf) {
	b, err := src.AppendBinary(buf[:0])
	if err != nil || len(b) != len(buf) {
		panic("trainer: unexpected rand.PCG encoding")
	}
	g.hi, g.lo = binary.BigEndian.Uint64(b[4:]), binary.BigEndian.Uint64(b[12:])
}

// put sets src's state to g's.
func (g *pcg) put(src *rand.PCG, buf *pcgBuf) {
	copy(buf[:4], "pcg:")
	binary.BigEndian.PutUint64(buf[4:], g.hi)
	binary.BigEndian.PutUint64(buf[12:], g.lo)
	if err := src.UnmarshalBinary(buf[:]); err != nil {
		panic("trainer: unexpected rand.PCG encoding")
	}
}

// sampleTask is sampleInto over the pool's threads: part q draws for its
// range [j0, j1) from a copy of the stream moved j0 steps ahead, so every
// output gets the draw it would get in sequence; afterwards the stream
// stands where the sequential draws would have left it.
type sampleTask struct {
	dst, theta []float64
	start      pcg
	zeroOne    bool // outputs 0/1 instead of -1/+1
	buf        pcgBuf
}

// sample draws dst from theta and src over p's threads (see sampleInto);
// with zeroOne the outputs are 0 and 1 instead of -1 and +1.
func (t *sampleTask) sample(p *linPool, dst, theta []float64, src *rand.PCG, zeroOne bool) {
	parts := max(1, min(p.threads(), len(theta)/16384))
	if parts == 1 {
		sampleInto(dst, theta, src)
		if zeroOne {
			toZeroOne(dst[:len(theta)])
		}
		return
	}
	t.start.get(src, &t.buf)
	t.dst, t.theta, t.zeroOne = dst[:len(theta)], theta, zeroOne
	p.run(t, parts)
	end := t.start
	end.advance(uint64(len(theta)))
	end.put(src, &t.buf)
	t.dst, t.theta = nil, nil
}

func (t *sampleTask) run(part, parts int) {
	j0, j1 := split(len(t.theta), part, parts)
	g := t.start
	g.advance(uint64(j0))
	dst := t.dst[j0:j1]
	for j, th := range t.theta[j0:j1] {
		d := float64(g.uint64()<<11>>11) - float64(th*(1<<53))
		y := math.Float64frombits(0xBFF0000000000000 ^ math.Float64bits(d)&(1<<63))
		if th != th {
			y = -1
		}
		dst[j] = y
	}
	if t.zeroOne {
		toZeroOne(dst)
	}
}

// toZeroOne maps -1 to 0 and +1 to 1, exactly.
func toZeroOne(y []float64) {
	for j, v := range y {
		y[j] = (v + 1) / 2
	}
}
