package pid

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLog2(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	worst := 0.0
	check := func(x float64) {
		got, want := log2(x), math.Log2(x)
		err := math.Abs(got - want)
		if want != 0 {
			err /= math.Abs(want)
		}
		// Near x = 1 the result is tiny: bound the absolute error there.
		if math.Abs(want) < 1 {
			err = math.Abs(got - want)
		}
		if err > worst {
			worst = err
		}
		if err > 1e-15 {
			t.Fatalf("log2(%v) = %v, math.Log2 %v", x, got, want)
		}
	}
	for i := 0; i < 1_000_000; i++ {
		check(math.Exp(r.Float64()*60 - 40)) // 4e-18 .. 1e9
		check(1 + (r.Float64()-0.5)*1e-3)    // close to 1
	}
	// Special cases: exact powers of two, table points, subnormals.
	for e := -1074; e < 1024; e++ {
		if got := log2(math.Ldexp(1, e)); got != float64(e) {
			t.Fatalf("log2(2^%d) = %v", e, got)
		}
	}
	// Table points and the midpoints between them, where |r| is largest.
	const steps = 2 << log2TableBits
	for i := 0; i <= steps; i++ {
		check(1 + float64(i)/steps)
		check(math.Nextafter(1+float64(i)/steps, 0))
		check(math.Nextafter(1+float64(i)/steps, 2))
	}
	check(math.SmallestNonzeroFloat64 * 3)
	check(math.MaxFloat64)
	t.Logf("largest error %.2g", worst)
}

func BenchmarkLog2(b *testing.B) {
	xs := make([]float64, 1024)
	for i := range xs {
		xs[i] = 0.001 + float64(i)
	}
	b.Run("fast", func(b *testing.B) {
		s := 0.0
		for b.Loop() {
			for _, x := range xs {
				s += log2(x)
			}
		}
		sink = s
	})
	b.Run("math", func(b *testing.B) {
		s := 0.0
		for b.Loop() {
			for _, x := range xs {
				s += math.Log2(x)
			}
		}
		sink = s
	})
}

var sink float64

func BenchmarkLog2Frac(b *testing.B) {
	es := make([]passEntry, 576)
	for i := range es {
		es[i].frac = 0.001 + float64(i)*0.37
	}
	for b.Loop() {
		log2Frac(es)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(es)), "ns/log")
}

// TestLog2Frac: the block form gives log2's values bit for bit, and 0 for
// fractions below the floor and NaN.
func TestLog2Frac(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	es := make([]passEntry, 1000)
	for i := range es {
		es[i].frac = math.Exp(r.Float64()*60 - 40)
		es[i].log = 7
	}
	es[3].frac, es[4].frac, es[5].frac = fracFloor/2, math.NaN(), 0
	log2Frac(es)
	for i, e := range es {
		want := 0.0
		if e.frac >= fracFloor {
			want = log2(e.frac)
		}
		if e.log != want {
			t.Fatalf("entry %d: log2Frac(%v) = %v, want %v", i, e.frac, e.log, want)
		}
	}
}
