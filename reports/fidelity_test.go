package reports

import (
	"strings"
	"testing"

	"goalsearch/summary"
)

func TestFidelitySVG(t *testing.T) {
	rep := summary.Fidelity{Final: 100, Trials: 12, Rungs: []summary.FidelityRung{
		{Epoch: 0, Trials: 12, Spearman: 0.1, TopOverlap: 0, Top: 2}, // left out: no epoch 0 on a log axis
		{Epoch: 1, Trials: 12, Spearman: 0.5, TopOverlap: 0, Top: 2},
		{Epoch: 10, Trials: 12, Spearman: 0.95, TopOverlap: 0.5, Top: 2},
	}}
	svg, err := FidelitySVG("fid", []FidelitySeries{{Name: "all goals", Fidelity: rep}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	for _, want := range []string{"<svg", "Spearman, all goals (12 trials)", "top-10 % overlap, all goals", ">1<", ">10<", "agreement with epoch 100"} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if _, err := FidelitySVG("fid", nil); err == nil {
		t.Error("no series: no error")
	}
}
