package csvdata

import (
	"strings"
	"testing"
	"time"

	"goalsearch/pid"
)

// FuzzRead: no CSV file panics or hangs Read or the decomposition of what
// it accepts (as goalsearch pid runs them); every bin Read returns is in
// its column's range, and a refusal names the file.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n",
		"a,b,y\n0.5,x,1\n1.5,y,2\n",
		"a,b,y\nNaN,0,0\n",
		"a,b,y\nInf,1,0\n-Inf,2,1\n",
		"a,b,y\n1e308,-1e308,0\n1,2,3\n",
		"a,b,y\n0,0,0.5\n",
		"a,a,y\n0,0,0\n",
		"a,b,y\n\"0,0,0\n",
		"a,b,y\n0,0\n",
		"a,b,y\n",
		"",
		"a,b,y\n 5e-324, 4e-324,0\n",
		"a,b,y\n9223372036854775807,-9223372036854775808,0\n",
	} {
		f.Add([]byte(s), uint8(20))
	}
	f.Fuzz(func(t *testing.T, b []byte, nbins uint8) {
		start := time.Now()
		d, err := Read(strings.NewReader(string(b)), "in.csv", []string{"a", "b"}, "y", int(nbins))
		if err != nil {
			if !strings.Contains(err.Error(), "in.csv") && !strings.Contains(err.Error(), "--bins") && !strings.Contains(err.Error(), "column") {
				t.Fatalf("error %q names neither the file nor the input", err)
			}
			return
		}
		n := len(d.Targets)
		for k, col := range append(append([]Column(nil), d.Sources...), d.Target) {
			bins := d.Targets
			if k < len(d.Sources) {
				bins = d.Bins[k]
			}
			if len(bins) != n {
				t.Fatalf("column %s: %d bins for %d rows", col.Name, len(bins), n)
			}
			for m, x := range bins {
				if x < 0 || int(x) >= col.Bins {
					t.Fatalf("column %s, row %d: bin %d of %d", col.Name, m, x, col.Bins)
				}
			}
		}
		lat := pid.MustLattice(2)
		res := lat.NewResult()
		if err := pid.NewEstimator(lat).Counts(res, d.Bins, d.Targets, d.Target.Bins, nil); err != nil {
			t.Fatalf("accepted input fails to decompose: %v", err)
		}
		if since := time.Since(start); since > 2*time.Second {
			t.Fatalf("%d bytes took %v", len(b), since)
		}
	})
}
