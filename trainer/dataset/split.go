package dataset

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// Second PCG seed words, one per purpose, so that the split and the
// minibatch order drawn from the same user seed are independent streams.
const (
	splitStream = 0x73706c6974 // "split"
	batchStream = 0x6261746368 // "batch"
)

// Split partitions the indices 0..n-1 at random into a training and a
// validation set, the latter of ceil(valFraction×n) indices (the reference's
// rounding: 12,000 of MNIST's 60,000 for 0.2). Both are sorted ascending.
// The permutation comes from rand.NewPCG(seed, splitStream), so the same seed
// and n give the same split on every platform and Go version.
//
// It panics if n < 0 or valFraction is not in [0, 1].
func Split(n int, valFraction float64, seed uint64) (train, val []int) {
	if n < 0 || !(valFraction >= 0 && valFraction <= 1) {
		panic(fmt.Sprintf("dataset: Split(%d, %v): need n >= 0 and a fraction in [0, 1]", n, valFraction))
	}
	nVal := int(math.Ceil(valFraction * float64(n)))
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	shuffle(rand.NewPCG(seed, splitStream), perm)
	val = slices.Clone(perm[:nVal])
	train = perm[nVal:]
	slices.Sort(val)
	slices.Sort(train)
	return train, val
}

// shuffle is a Fisher–Yates shuffle. It does not use rand.Rand.Shuffle
// because that draws differently on 32-bit platforms and its algorithm is
// not part of its API; here the sequence depends only on the PCG state.
func shuffle(src *rand.PCG, x []int) {
	for i := len(x) - 1; i > 0; i-- {
		j := uintn(src, uint64(i+1))
		x[i], x[j] = x[j], x[i]
	}
}

// uintn returns a uniform integer in [0, n), n > 0, by Lemire's
// multiply-and-reject method ("Fast random integer generation in an
// interval", ACM TOMACS 2019), which needs no division in the common case.
func uintn(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}
