package trainer

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkBinFixed(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := make([]float64, 102400)
	for j := range s {
		s[j] = 8 * rng.NormFloat64()
	}
	dst := make([]int32, len(s))
	bn := newBinner(PaperFixedBinning)
	for b.Loop() {
		binLayer(bn, dst, s, nil, 1024, 100)
	}
}
func BenchmarkBinAdaptive(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := make([]float64, 102400)
	for j := range s {
		s[j] = 8 * rng.NormFloat64()
	}
	dst := make([]int32, len(s))
	sc := make([]float64, 100)
	bn := newBinner(PaperAdaptiveBinning)
	for b.Loop() {
		binLayer(bn, dst, s, sc, 1024, 100)
	}
}
