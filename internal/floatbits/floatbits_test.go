package floatbits

import (
	"math"
	"testing"
)

func TestEqual(t *testing.T) {
	nan := math.NaN()
	tenth := 0.1 // a variable: constant 0.1 + 0.2 is exactly 0.3
	for _, c := range []struct {
		a, b []float64
		want bool
	}{
		{nil, []float64{}, true},
		{[]float64{1, 2}, []float64{1, 2}, true},
		{[]float64{1, 2}, []float64{1}, false},
		{[]float64{0}, []float64{math.Copysign(0, -1)}, false}, // == would say equal
		{[]float64{nan}, []float64{nan}, true},                 // == would say different
		{[]float64{tenth + 0.2}, []float64{0.3}, false},        // 0.30000000000000004
	} {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
