package summary

import (
	"encoding/json"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// A Sample is one measurement repeated over seeds, e.g. the test accuracy of
// one goal trained with five seeds.
//
// Its JSON form (for --json output) is {"n", "mean", "std", "median",
// "min", "max"}, where an undefined statistic (a mean of nothing, the
// spread of one value) is 0, since JSON has no NaN; n says how many values
// there were.
type Sample struct {
	// Values are the measurements in seed order; non-finite values are
	// left out (a diverged run has no accuracy to average).
	Values []float64 `json:"-"`
	// N is the number of values.
	N int `json:"n"`
	// Mean is the arithmetic mean; NaN for an empty sample.
	Mean float64 `json:"mean"`
	// Std is the sample standard deviation, sqrt(sum (x-mean)^2 / (n-1));
	// NaN for fewer than two values.
	Std float64 `json:"std"`
	// Median is the middle value (the mean of the two middle ones for an
	// even count), the statistic the paper reports; NaN when empty.
	Median float64 `json:"median"`
	// Min and Max are the extremes; NaN when empty.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// NewSample summarises v, dropping non-finite values. v is not retained.
func NewSample(v []float64) Sample {
	nan := math.NaN()
	s := Sample{Mean: nan, Std: nan, Median: nan, Min: nan, Max: nan}
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			s.Values = append(s.Values, x)
		}
	}
	n := len(s.Values)
	s.N = n
	if n == 0 {
		return s
	}
	sum := 0.0
	for _, x := range s.Values {
		sum += x
	}
	s.Mean = sum / float64(n)
	if n > 1 {
		ss := 0.0
		for _, x := range s.Values {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.Std = math.Sqrt(ss / float64(n-1))
	}
	sorted := slices.Clone(s.Values)
	slices.Sort(sorted)
	if n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	s.Min, s.Max = sorted[0], sorted[n-1]
	return s
}

// MarshalJSON writes the sample's statistics, undefined ones as 0.
func (s Sample) MarshalJSON() ([]byte, error) {
	type plain Sample // without this method
	p := plain(s)
	for _, f := range []*float64{&p.Mean, &p.Std, &p.Median, &p.Min, &p.Max} {
		*f = finiteOr0(*f)
	}
	return json.Marshal(p)
}

// finiteOr0 is x, or 0 for NaN and infinities: what JSON output shows of an
// undefined statistic.
func finiteOr0(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// A TestResult is the outcome of a two-sample test of whether two samples
// differ.
type TestResult struct {
	// Method names the test as it was computed: "Welch t",
	// "Mann-Whitney U (exact)" or "Mann-Whitney U (normal approximation)".
	Method string
	// Stat is the test statistic: t, or U of the first sample.
	Stat float64
	// DF is Welch's approximate degrees of freedom; 0 for Mann-Whitney.
	DF float64
	// P is the two-sided p-value; NaN when the test is undefined for the
	// samples (too few values, or no spread at all).
	P float64
}

// WelchT is Welch's unequal-variances t-test of whether the means of a and
// b differ (Welch 1947):
//
//	t  = (mean(a) - mean(b)) / sqrt(va/na + vb/nb)
//	df = (va/na + vb/nb)^2 / ((va/na)^2/(na-1) + (vb/nb)^2/(nb-1))
//	p  = 2 F(-|t|; df)
//
// with va, vb the sample variances and F the CDF of Student's t
// distribution. P is NaN when either sample has fewer than two values or
// both have zero variance (t is then 0/0 or infinite and says nothing a
// reader could use). Non-finite values are dropped first.
func WelchT(a, b []float64) TestResult {
	sa, sb := NewSample(a), NewSample(b)
	r := TestResult{Method: "Welch t", Stat: math.NaN(), DF: math.NaN(), P: math.NaN()}
	na, nb := float64(sa.N), float64(sb.N)
	if sa.N < 2 || sb.N < 2 {
		return r
	}
	qa, qb := sa.Std*sa.Std/na, sb.Std*sb.Std/nb
	se := math.Sqrt(qa + qb)
	if se == 0 {
		return r
	}
	r.Stat = (sa.Mean - sb.Mean) / se
	r.DF = (qa + qb) * (qa + qb) / (qa*qa/(na-1) + qb*qb/(nb-1))
	// CDF(-|t|) is computed from the incomplete beta function directly, so
	// tiny p-values keep their precision.
	r.P = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: r.DF}.CDF(-math.Abs(r.Stat))
	return r
}

// PairedT is the paired t-test of whether the mean of the differences
// a[i] - b[i] is 0 (Student 1908):
//
//	t = mean(d) / (sd(d) / sqrt(n)),  df = n - 1,  p = 2 F(-|t|; df)
//
// Evaluation runs of two goals on the same seed share initial weights and
// data order, so their difference removes the seed's share of the spread.
// a and b must have the same length (it panics otherwise); pairs with a
// non-finite value are dropped. P is NaN for fewer than two pairs or
// differences without spread.
func PairedT(a, b []float64) TestResult {
	if len(a) != len(b) {
		panic("summary: PairedT of samples of different lengths")
	}
	r := TestResult{Method: "paired t", Stat: math.NaN(), DF: math.NaN(), P: math.NaN()}
	var d []float64
	for i := range a {
		if x := a[i] - b[i]; !math.IsNaN(x) && !math.IsInf(x, 0) {
			d = append(d, x)
		}
	}
	s := NewSample(d)
	if s.N < 2 || s.Std == 0 {
		return r
	}
	r.Stat = s.Mean / (s.Std / math.Sqrt(float64(s.N)))
	r.DF = float64(s.N - 1)
	r.P = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: r.DF}.CDF(-math.Abs(r.Stat))
	return r
}

// maxExactSplits bounds the number of ways to split the pooled sample that
// MannWhitneyU enumerates for an exact p-value: C(20, 10) = 184756, so two
// groups of ten seeds are still exact.
const maxExactSplits = 200000

// MannWhitneyU is the Mann-Whitney U test (Wilcoxon rank-sum test) of
// whether values of a tend to be larger or smaller than those of b. Ties get
// mid-ranks; U is the statistic of a: R_a - na(na+1)/2, with R_a the sum of
// a's ranks in the pooled sample.
//
// The p-value is two-sided, P(|U - na nb/2| >= |u - na nb/2|) under the null
// hypothesis that every split of the pooled values is equally likely:
//
//   - exact, by enumerating every split of the pooled (mid-)ranks, when
//     there are at most 200000 splits (e.g. 10 seeds against 10): this is
//     the exact conditional (permutation) distribution, correct with ties
//     too;
//   - otherwise the normal approximation with tie correction and continuity
//     correction: z = (|U - na nb/2| - 1/2) / sigma, sigma^2 =
//     na nb/12 ((n+1) - sum(t^3 - t)/(n(n-1))), p = 2(1 - Phi(z)), capped
//     at 1.
//
// P is NaN when a sample is empty or all pooled values are equal.
// Non-finite values are dropped first.
func MannWhitneyU(a, b []float64) TestResult {
	sa, sb := NewSample(a), NewSample(b)
	na, nb := sa.N, sb.N
	r := TestResult{Method: "Mann-Whitney U", Stat: math.NaN(), P: math.NaN()}
	if na == 0 || nb == 0 {
		return r
	}
	n := na + nb
	type obs struct {
		v   float64
		inA bool
	}
	pooled := make([]obs, 0, n)
	for _, v := range sa.Values {
		pooled = append(pooled, obs{v, true})
	}
	for _, v := range sb.Values {
		pooled = append(pooled, obs{v, false})
	}
	slices.SortStableFunc(pooled, func(x, y obs) int {
		switch {
		case x.v < y.v:
			return -1
		case x.v > y.v:
			return 1
		}
		return 0
	})
	ranks := make([]float64, n)
	tieSum := 0.0 // sum of t^3 - t over groups of t tied values
	for i := 0; i < n; {
		j := i
		for j+1 < n && pooled[j+1].v == pooled[i].v {
			j++
		}
		mid := float64(i+j)/2 + 1 // ranks start at 1
		for k := i; k <= j; k++ {
			ranks[k] = mid
		}
		t := float64(j - i + 1)
		tieSum += t*t*t - t
		i = j + 1
	}
	ra := 0.0
	for k, p := range pooled {
		if p.inA {
			ra += ranks[k]
		}
	}
	fa, fb, fn := float64(na), float64(nb), float64(n)
	r.Stat = ra - fa*(fa+1)/2
	mu := fa * fb / 2
	if tieSum == fn*fn*fn-fn { // a single group: all values equal
		return r
	}
	dev := math.Abs(r.Stat - mu)
	if binomial(n, na) <= maxExactSplits {
		r.Method = "Mann-Whitney U (exact)"
		// Count the splits whose U lies at least as far from its mean.
		// Ranks are multiples of 1/2, so U is exact in float64 and the
		// comparison needs only a guard against rounding of the sum.
		var total, extreme float64
		var walk func(start, left int, sum float64)
		walk = func(start, left int, sum float64) {
			if left == 0 {
				total++
				if math.Abs(sum-fa*(fa+1)/2-mu) >= dev-1e-9 {
					extreme++
				}
				return
			}
			for k := start; k <= n-left; k++ {
				walk(k+1, left-1, sum+ranks[k])
			}
		}
		walk(0, na, 0)
		r.P = extreme / total
		return r
	}
	r.Method = "Mann-Whitney U (normal approximation)"
	sigma := math.Sqrt(fa * fb / 12 * ((fn + 1) - tieSum/(fn*(fn-1))))
	z := math.Max(dev-0.5, 0) / sigma
	r.P = math.Min(1, 2*distuv.UnitNormal.Survival(z))
	return r
}

// binomial returns C(n, k) as a float64 (large values need no precision:
// they are only compared with maxExactSplits).
func binomial(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	k = min(k, n-k)
	c := 1.0
	for i := 1; i <= k; i++ {
		c = c * float64(n-k+i) / float64(i)
	}
	return c
}
