package search

import (
	"flag"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// samplerQuality enables the quality tables of docs/samplers.md, which take
// a few minutes: go test ./search -run 'QualityTable|SmallBudgets'
// -sampler.quality -v. (scripts/sidebyside.py sets goalsearch's samplers
// beside Optuna's through the command line.)
var samplerQuality = flag.Bool("sampler.quality", false, "print the samplers' quality tables (slow)")

// samplerOffset is the optimum of the quality functions in coordinate i:
// inside [-1, 1] but neither the centre (CMA-ES's initial mean, Sobol's
// first point) nor on a face.
func samplerOffset(i int) float64 { return 0.6 * math.Cos(1.7*float64(i)+0.3) }

// samplerQualityFunctions are the test functions of the quality tables,
// all with minimum 0: at x = samplerOffset, and for direction on the ray
// through it.
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
	// The synthetic setup direction itself: 1 − cos∠(x, o), scale-invariant
	// like training with Adam.
	{"direction", syntheticFuncs["direction"]},
}

// qualityRow is a sampler configuration of a quality table, asked n
// points at a time.
type qualityRow struct {
	c samplerCase
	n int
}

func (r qualityRow) String() string {
	if r.n == 1 {
		return r.c.String()
	}
	return fmt.Sprintf("%v (%d at a time)", r.c, r.n)
}

// qualityTables returns, as Markdown, one table per budget of the median
// over seeds of the best value each row finds within the budget, on each
// quality function in [-1, 1]^d for each d of dims.
func qualityTables(t *testing.T, rows []qualityRow, budgets, dims []int, seeds int) string {
	// med[row][budget][function][dim]
	med := make([][][][]float64, len(rows))
	for ri, r := range rows {
		med[ri] = make([][][]float64, len(budgets))
		for bi := range budgets {
			med[ri][bi] = make([][]float64, len(samplerQualityFunctions))
			for fi := range samplerQualityFunctions {
				med[ri][bi][fi] = make([]float64, len(dims))
			}
		}
		for fi, fn := range samplerQualityFunctions {
			for di, d := range dims {
				box := Box{Lower: make([]float64, d), Upper: make([]float64, d)}
				for i := range box.Lower {
					box.Lower[i], box.Upper[i] = -1, 1
				}
				byBudget := make([][]float64, len(budgets))
				for seed := range uint64(seeds) {
					// No sampler knows the budget, so the best within a
					// smaller budget is that of a prefix of the same run.
					for bi, best := range samplerBests(t, r.c, box, seed, fn.f, budgets, r.n) {
						byBudget[bi] = append(byBudget[bi], best)
					}
				}
				for bi, v := range byBudget {
					med[ri][bi][fi][di] = median(v)
				}
			}
		}
	}
	var sb strings.Builder
	for bi, b := range budgets {
		fmt.Fprintf(&sb, "\n%d evaluations:\n\n| sampler |", b)
		for _, fn := range samplerQualityFunctions {
			for _, d := range dims {
				fmt.Fprintf(&sb, " %s %d-D |", fn.name, d)
			}
		}
		sb.WriteString("\n|---|" + strings.Repeat("---:|", len(samplerQualityFunctions)*len(dims)) + "\n")
		for ri, r := range rows {
			fmt.Fprintf(&sb, "| %s |", r)
			for fi := range samplerQualityFunctions {
				for di := range dims {
					fmt.Fprintf(&sb, " %.3g |", med[ri][bi][fi][di])
				}
			}
			sb.WriteString("\n")
		}
	}
	return sb.String()
}

// median returns the median of v, which it sorts.
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// TestSamplerQualityTable prints the long-budget table: medians over 10
// seeds within 500 and 1000 evaluations, asking for 8 points at a time.
func TestSamplerQualityTable(t *testing.T) {
	if !*samplerQuality {
		t.Skip("run with -sampler.quality")
	}
	var rows []qualityRow
	for _, c := range []samplerCase{
		{"cmaes", ""}, {"cmaes", `{"restart":"bipop"}`}, {"tpe", ""},
		{"ga", ""}, {"de", ""}, {"pso", ""},
		{"random", ""}, {"sobol", ""}, {"sobol", `{"randomize":"xor"}`},
	} {
		rows = append(rows, qualityRow{c, 8})
	}
	table := qualityTables(t, rows, []int{500, 1000}, []int{5, 19}, 10)
	t.Log(table)
}

// TestSamplerSmallBudgets prints the small-budget table: medians over 10
// study seeds within 20, 40, 100 and 200 evaluations, asking one point at
// a time as Optuna's optimize loop does, and TPE also 8 at a time (with
// its constant liar).
func TestSamplerSmallBudgets(t *testing.T) {
	if !*samplerQuality {
		t.Skip("run with -sampler.quality")
	}
	rows := []qualityRow{{samplerCase{"tpe", ""}, 1}, {samplerCase{"tpe", ""}, 8}}
	for _, name := range []string{"cmaes", "ga", "de", "pso", "random", "sobol"} {
		rows = append(rows, qualityRow{samplerCase{name, ""}, 1})
	}
	table := qualityTables(t, rows, []int{20, 40, 100, 200}, []int{5, 19}, 10)
	t.Log(table)
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
