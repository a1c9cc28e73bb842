package pid

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// goldenCase is one case of testdata/pid_vectors.json, computed with the
// reference implementation (see testdata/README.md).
type goldenCase struct {
	Name          string             `json:"name"`
	NSources      int                `json:"n_sources"`
	Shape         []int              `json:"shape"`
	P             []float64          `json:"p_flat"`
	Labels        []string           `json:"atom_labels"`
	PIDVector     []float64          `json:"pid_vector"`
	Icap          map[string]float64 `json:"I_cap"`
	ExactMI       float64            `json:"exact_MI_bits"`
	ExactHT       float64            `json:"exact_HT_bits"`
	Gamma         []float64          `json:"gamma"`
	G             float64            `json:"G"`
	GradDetached  []float64          `json:"grad_G_detached"`
	GradFull      []float64          `json:"grad_G_full"`
	JacobDetached [][]float64        `json:"jacobian_detached"`
}

type goldenFile struct {
	Meta struct {
		Moebius map[string]struct {
			Labels []string `json:"labels"`
			M      [][]int  `json:"M"`
		} `json:"moebius_get_achains_order"`
	} `json:"meta"`
	Cases []goldenCase `json:"cases"`
}

func loadGolden(t testing.TB) *goldenFile {
	t.Helper()
	b, err := os.ReadFile("testdata/pid_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 20 {
		t.Fatalf("golden file has only %d cases", len(g.Cases))
	}
	return &g
}

func TestGoldenLatticeOrderAndMoebius(t *testing.T) {
	g := loadGolden(t)
	for _, n := range []int{2, 3} {
		want := g.Meta.Moebius[string(rune('0'+n))]
		lat := MustLattice(n)
		labels := lat.Labels(nil)
		for i, l := range want.Labels {
			if labels[i] != l {
				t.Fatalf("n=%d: label %d is %s, want %s (goal order)", n, i, labels[i], l)
			}
		}
		m := lat.Moebius()
		for i := range want.M {
			for j := range want.M[i] {
				if m[i][j] != want.M[i][j] {
					t.Fatalf("n=%d: M[%d][%d] = %d, want %d", n, i, j, m[i][j], want.M[i][j])
				}
			}
		}
	}
}

// TestGoldenDense checks every case of the reference's golden file: I^sx of
// every antichain, the atoms and H_res within 1e-9, G, and the table gradient
// within 1e-7 relative of grad_G_detached.
func TestGoldenDense(t *testing.T) {
	g := loadGolden(t)
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			lat := MustLattice(c.NSources)
			est := NewEstimator(lat)
			res := lat.NewResult()
			dP := make([]float64, len(c.P))
			if err := est.Dense(res, c.Shape, c.P, c.Gamma, dP); err != nil {
				t.Fatal(err)
			}
			labels := lat.Labels(nil)
			for a := 0; a < lat.NumAtoms(); a++ {
				want, ok := c.Icap[labels[a]]
				if !ok {
					t.Fatalf("golden has no I_cap for %s", labels[a])
				}
				if math.Abs(res.Icap[a]-want) > 1e-9 {
					t.Errorf("I_cap %s = %.15g, want %.15g", labels[a], res.Icap[a], want)
				}
			}
			got := res.Vector(nil)
			for k, want := range c.PIDVector {
				if math.Abs(got[k]-want) > 1e-9 {
					t.Errorf("%s = %.15g, want %.15g", c.Labels[k], got[k], want)
				}
			}
			if math.Abs(res.G-c.G) > 1e-9 {
				t.Errorf("G = %.15g, want %.15g", res.G, c.G)
			}
			// 1e-7 relative; the 1e-12 floor only matters for an entry that
			// is exactly 0 in the golden file.
			for j, want := range c.GradDetached {
				if d := math.Abs(dP[j] - want); d > 1e-7*math.Abs(want)+1e-12 {
					t.Errorf("dG/dp[%d] = %.15g, want %.15g", j, dP[j], want)
				}
			}
		})
	}
}
