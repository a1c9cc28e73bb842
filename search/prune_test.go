package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// refASHA and refMedian are the pruners' rules written out over every
// value reported so far, as they were before the heaps: the reference the
// incremental pruners must agree with.
func refASHA(rungs map[int]bool, eta int, values map[int]map[int]float64, trial, epoch int) bool {
	if !rungs[epoch] {
		return false
	}
	var vals []float64
	for _, byEpoch := range values {
		if v, ok := byEpoch[epoch]; ok {
			vals = append(vals, orWorst(v))
		}
	}
	keep := len(vals) / eta
	if keep == 0 {
		return false
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(vals)))
	return orWorst(values[trial][epoch]) < vals[keep-1]
}

func refMedian(startup, warmup int, values map[int]map[int]float64, trial, epoch int) bool {
	if epoch <= warmup {
		return false
	}
	var vals []float64
	for n, byEpoch := range values {
		if v, ok := byEpoch[epoch]; ok && n != trial {
			vals = append(vals, orWorst(v))
		}
	}
	if len(vals) < startup {
		return false
	}
	sort.Float64s(vals)
	med := vals[len(vals)/2]
	if len(vals)%2 == 0 {
		med = (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
	}
	return orWorst(values[trial][epoch]) < med
}

// TestPrunersMatchReference runs random studies, trials interleaved, with
// ties and NaN values, some values recorded (other workers' reports)
// rather than judged and some repeated: every decision must equal the
// reference rule's over the values reported so far.
func TestPrunersMatchReference(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 9))
		for _, name := range []string{"asha", "median"} {
			cfg := map[string]string{"asha": `{"eta":3}`, "median": `{"startup":3,"warmup":1}`}[name]
			if seed%2 == 1 {
				cfg = map[string]string{"asha": `{"min_epochs":2,"eta":2}`, "median": ""}[name]
			}
			p, err := NewPruner(name, []byte(cfg), "sphere", 20)
			if err != nil {
				t.Fatal(err)
			}
			values := map[int]map[int]float64{}
			next := map[int]int{} // next epoch of each live trial
			for n := range 40 {
				next[n] = 1
			}
			for step := 0; step < 400 && len(next) > 0; step++ {
				var live []int
				for n := range next {
					live = append(live, n)
				}
				slices.Sort(live)
				n := live[rng.IntN(len(live))]
				e := next[n]
				v := math.Round(rng.NormFloat64()*4) / 4 // ties
				if rng.IntN(30) == 0 {
					v = math.NaN()
				}
				if values[n] == nil {
					values[n] = map[int]float64{}
				}
				values[n][e] = v
				judged := rng.IntN(4) > 0
				var got, want bool
				if judged {
					switch a := p.(type) {
					case *ASHA:
						rungs := map[int]bool{}
						for _, r := range a.Rungs {
							rungs[r] = true
						}
						want = refASHA(rungs, a.Eta, values, n, e)
					case *Median:
						want = refMedian(a.Startup, a.Warmup, values, n, e)
					}
					got = p.Prune(n, e, v)
				} else {
					p.Record(n, e, v)
				}
				if rng.IntN(10) == 0 {
					p.Record(n, e, v+1) // a repeated report changes nothing
				}
				if got != want {
					t.Fatalf("%s %s seed %d: trial %d at epoch %d (value %v): Prune = %v, the rule says %v", name, cfg, seed, n, e, v, got, want)
				}
				if got || e == 20 {
					delete(next, n)
				} else {
					next[n]++
				}
			}
		}
	}
}

func TestNewPrunerErrors(t *testing.T) {
	for _, tc := range []struct{ name, cfg string }{
		{"asha", `{"eta":1}`},
		{"asha", `{"etta":3}`},
		{"asha", `{"rungs":[0]}`},
		{"asha", `{} {}`},
		{"median", `{"startup":-1}`},
		{"median", `{"warm_up":2}`},
		{"none", `{"eta":3}`},
		{"hyperband", ``},
	} {
		if _, err := NewPruner(tc.name, []byte(tc.cfg), "sphere", 10); err == nil {
			t.Errorf("NewPruner(%q, %s) succeeded, want an error", tc.name, tc.cfg)
		}
	}
	p, err := NewPruner("asha", nil, "context", 100)
	if err != nil {
		t.Fatal(err)
	}
	if a := p.(*ASHA); a.MinEpochs != DefaultASHAMinEpochs || a.Eta != DefaultASHAEta {
		t.Errorf("asha defaults %+v", a)
	}
}

// BenchmarkPrune measures one decision of each pruner after n trials
// reported at every rung: its cost must not grow with n (O(log n)).
func BenchmarkPrune(b *testing.B) {
	for _, name := range []string{"asha", "median"} {
		for _, n := range []int{100, 10000, 1000000} {
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				p, _ := NewPruner(name, nil, "sphere", 100)
				rng := rand.New(rand.NewPCG(1, 2))
				for trial := range n {
					p.Record(trial, 3, rng.Float64())
				}
				trial := n
				b.ReportAllocs()
				for b.Loop() {
					p.Prune(trial, 3, rng.Float64())
					trial++
				}
			})
		}
	}
}
