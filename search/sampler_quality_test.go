package search

import (
	"flag"
	"fmt"
	"math"
	"strings"
	"testing"
)

// samplerQuality enables TestSamplerQualityTable, which takes about a
// minute: go test ./search -run QualityTable -sampler.quality -v
var samplerQuality = flag.Bool("sampler.quality", false, "print the samplers' quality table (slow)")

// samplerOffset is the optimum of the quality functions in coordinate i:
// inside [-1, 1] but neither the centre (CMA-ES's initial mean, Sobol's
// first point) nor on a face.
func samplerOffset(i int) float64 { return 0.6 * math.Cos(1.7*float64(i)+0.3) }

// samplerQualityFunctions are the test functions of the quality table, all
// with minimum 0 at x = samplerOffset.
var samplerQualityFunctions = []struct {
	name string
	f    func([]float64) float64
}{
	{"sphere", func(x []float64) float64 { // Σ (x_i − o_i)²
		var s float64
		for i, v := range x {
			z := v - samplerOffset(i)
			s += z * z
		}
		return s
	}},
	{"rastrigin", func(x []float64) float64 { // z = 2.5(x − o): 4 to 7 local minima per coordinate
		s := 10 * float64(len(x))
		for i, v := range x {
			z := 2.5 * (v - samplerOffset(i))
			s += z*z - 10*math.Cos(2*math.Pi*z)
		}
		return s
	}},
	{"rosenbrock", func(x []float64) float64 { // z = 2(x − o) + 1
		var s float64
		for i := 0; i+1 < len(x); i++ {
			a := 2*(x[i]-samplerOffset(i)) + 1
			b := 2*(x[i+1]-samplerOffset(i+1)) + 1
			s += 100*(b-a*a)*(b-a*a) + (1-a)*(1-a)
		}
		return s
	}},
}

// TestSamplerQualityTable prints, as Markdown, the mean over 10 seeds of
// the best value each sampler finds on each function in [-1, 1]^d within
// 500 and 1000 evaluations, asking for 8 workers.
func TestSamplerQualityTable(t *testing.T) {
	if !*samplerQuality {
		t.Skip("run with -sampler.quality")
	}
	const seeds = 10
	budgets := []int{500, 1000}
	dims := []int{5, 19}
	cases := []samplerCase{
		{"cmaes", ""}, {"cmaes", `{"restart":"bipop"}`},
		{"cmaes", `{"tol_fun":1e-3}`}, {"cmaes", `{"restart":"bipop","tol_fun":1e-3}`},
		{"ga", ""}, {"de", ""}, {"pso", ""},
		{"random", ""}, {"sobol", ""}, {"sobol", `{"randomize":"xor"}`},
	}
	// mean[case][budget][function][dim]
	mean := make([][][][]float64, len(cases))
	for ci, c := range cases {
		mean[ci] = make([][][]float64, len(budgets))
		for bi := range budgets {
			mean[ci][bi] = make([][]float64, len(samplerQualityFunctions))
			for fi := range samplerQualityFunctions {
				mean[ci][bi][fi] = make([]float64, len(dims))
			}
		}
		for fi, fn := range samplerQualityFunctions {
			for di, d := range dims {
				box := Box{Lower: make([]float64, d), Upper: make([]float64, d)}
				for i := range box.Lower {
					box.Lower[i], box.Upper[i] = -1, 1
				}
				for seed := range uint64(seeds) {
					// No sampler knows the budget, so the best within a
					// smaller budget is that of a prefix of the same run.
					for bi, best := range samplerBests(t, c, box, seed, fn.f, budgets, 8) {
						mean[ci][bi][fi][di] += best / seeds
					}
				}
			}
		}
	}
	var sb strings.Builder
	for bi, b := range budgets {
		fmt.Fprintf(&sb, "\nMean best value over %d seeds, %d evaluations:\n\n| sampler |", seeds, b)
		for _, fn := range samplerQualityFunctions {
			for _, d := range dims {
				fmt.Fprintf(&sb, " %s %d-D |", fn.name, d)
			}
		}
		sb.WriteString("\n|---|")
		sb.WriteString(strings.Repeat("---:|", len(samplerQualityFunctions)*len(dims)))
		sb.WriteString("\n")
		for ci, c := range cases {
			fmt.Fprintf(&sb, "| %s |", c)
			for fi := range samplerQualityFunctions {
				for di := range dims {
					fmt.Fprintf(&sb, " %.3g |", mean[ci][bi][fi][di])
				}
			}
			sb.WriteString("\n")
		}
	}
	t.Log(sb.String())
}

// samplerBests returns the best value of f among the first b points a
// sampler of case c proposes, for each b of the ascending budgets, asking
// for n points at a time and telling each generation whole.
func samplerBests(t testing.TB, c samplerCase, box Box, seed uint64, f func([]float64) float64, budgets []int, n int) []float64 {
	t.Helper()
	a := &asker{s: mustNewSampler(t, c, box, seed)}
	bests := make([]float64, len(budgets))
	for i := range bests {
		bests[i] = math.NaN()
	}
	best, count := math.Inf(1), 0
	for count < budgets[len(budgets)-1] {
		xs, ok := a.ask(t, n)
		if !ok {
			break
		}
		for _, x := range xs {
			best = math.Min(best, f(x))
			count++
			for bi, b := range budgets {
				if count == b {
					bests[bi] = best
				}
			}
		}
		a.tell(t, f, nil)
	}
	for bi := range bests {
		if math.IsNaN(bests[bi]) {
			bests[bi] = best // the sampler stopped early
		}
	}
	return bests
}
