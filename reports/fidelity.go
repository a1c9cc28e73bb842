package reports

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"goalsearch/summary"
)

// A FidelitySeries is one line of a fidelity plot: the measurement over
// one set of trials, named for the legend.
type FidelitySeries struct {
	Name     string
	Fidelity summary.Fidelity
}

// FidelitySVG draws, for each series, the Spearman correlation of every
// early epoch with the final one (solid) and the top-10 % overlap (dashed),
// over the epoch on a log axis, with the 0.9 line a first rung should
// reach. It returns a self-contained SVG, like the report's figures.
func FidelitySVG(title string, series []FidelitySeries) ([]byte, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("reports: a fidelity plot needs at least one series")
	}
	f := &figure{id: "fidelity", title: title, width: 5.2 * vg.Inch, height: 3.4 * vg.Inch}
	f.draw = func() (*plot.Plot, error) {
		final := series[0].Fidelity.Final
		p := newPlot(title, "epoch (log scale)", fmt.Sprintf("agreement with epoch %d", final))
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = epochTicks(series)
		p.Y.Min, p.Y.Max = 0, 1.02
		lo, hi := math.Inf(1), math.Inf(-1)
		for i, s := range series {
			var rho, top plotter.XYs
			for _, g := range s.Fidelity.Rungs {
				if g.Epoch < 1 {
					continue // a log axis has no epoch 0
				}
				lo, hi = math.Min(lo, float64(g.Epoch)), math.Max(hi, float64(g.Epoch))
				if finite(g.Spearman) {
					rho = append(rho, plotter.XY{X: float64(g.Epoch), Y: g.Spearman})
				}
				if finite(g.TopOverlap) {
					top = append(top, plotter.XY{X: float64(g.Epoch), Y: g.TopOverlap})
				}
			}
			c := seriesColor(i)
			for _, part := range []struct {
				xys    plotter.XYs
				name   string
				dashes []vg.Length
			}{
				{rho, fmt.Sprintf("Spearman, %s (%d trials)", s.Name, s.Fidelity.Trials), nil},
				{top, fmt.Sprintf("top-10 %% overlap, %s", s.Name), []vg.Length{4, 2}},
			} {
				if len(part.xys) == 0 {
					continue
				}
				l, err := line(part.xys, c, 1.5, part.dashes...)
				if err != nil {
					return nil, err
				}
				pts, err := scatter(part.xys, c, draw.CircleGlyph{}, 2)
				if err != nil {
					return nil, err
				}
				p.Add(l, pts)
				p.Legend.Add(part.name, l)
			}
		}
		// A log axis needs a positive range even when nothing was drawn
		// (too few trials for a correlation) or only one epoch was.
		if lo > hi {
			lo, hi = 1, math.Max(2, float64(final))
		}
		if lo == hi {
			hi = 2 * lo
		}
		p.X.Min, p.X.Max = lo, hi
		{
			ref, err := line(plotter.XYs{{X: lo, Y: 0.9}, {X: hi, Y: 0.9}}, color.Gray{0x88}, 0.8, 2, 2)
			if err != nil {
				return nil, err
			}
			p.Add(ref)
			p.Legend.Add("0.9", ref)
		}
		return p, nil
	}
	return drawSVG(f)
}

// epochTicks labels exactly the measured epochs, which a log axis's own
// ticks (powers of ten) would mostly leave unnamed.
func epochTicks(series []FidelitySeries) plot.ConstantTicks {
	seen := map[int]bool{}
	var t plot.ConstantTicks
	for _, s := range series {
		for _, g := range s.Fidelity.Rungs {
			if g.Epoch >= 1 && !seen[g.Epoch] {
				seen[g.Epoch] = true
				t = append(t, plot.Tick{Value: float64(g.Epoch), Label: fmt.Sprint(g.Epoch)})
			}
		}
	}
	return t
}
