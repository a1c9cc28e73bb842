package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"goalsearch/store"
	"goalsearch/summary"
)

// A figure is one plot of the report: an identifier that is unique in the
// report and safe as a file name, a title, a caption saying how to read it,
// its size, and how to draw it. Drawing is deferred so that renderer tests
// can replace it (goldens must not change with the plotting library).
type figure struct {
	id, title, caption string
	width, height      vg.Length
	draw               func() (*plot.Plot, error)
}

// A drawer turns a figure into SVG.
type drawer func(f *figure) ([]byte, error)

// drawSVG draws f with gonum/plot's SVG backend. The SVG is made
// self-contained and safe to inline: no XML prolog, fallback font families
// (the Liberation fonts are metric-compatible with Arial, so text fits
// where the layout measured it), no embedded fonts or links.
func drawSVG(f *figure) (out []byte, err error) {
	defer func() {
		// gonum/plot panics on some degenerate data; a report shows the
		// error in the plot's place rather than failing.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("plot %s: %v", f.id, r)
		}
	}()
	p, err := f.draw()
	if err != nil {
		return nil, fmt.Errorf("plot %s: %w", f.id, err)
	}
	// The legend goes to the right of the plot, outside the data, so it
	// never hides a point; the canvas widens by the legend's width.
	leg := p.Legend
	p.Legend = plot.NewLegend()
	probe := draw.New(vgsvg.New(f.width, f.height))
	lr := leg.Rectangle(probe)
	lw := lr.Max.X - lr.Min.X
	gap := vg.Length(0)
	if lw > 0 {
		gap = 10
	}
	c := vgsvg.New(f.width+lw+2*gap, f.height)
	dc := draw.New(c)
	area := dc
	area.Max.X -= lw + 2*gap
	p.Draw(area)
	if lw > 0 {
		la := dc
		la.Min.X = area.Max.X + gap
		la.Max.X = la.Min.X + lw
		la.Max.Y -= 30 // below the title
		leg.Top, leg.Left = true, true
		leg.Padding = 3
		leg.Draw(la)
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	return cleanSVG(b.Bytes()), nil
}

var (
	svgProlog  = regexp.MustCompile(`(?s)^<\?xml[^>]*\?>\s*(<!--.*?-->\s*)?`)
	svgFamily  = regexp.MustCompile(`font-family:Liberation (Sans|Serif|Mono);`)
	svgNumbers = regexp.MustCompile(`(\d)\.(\d{4})\d+`)
)

// cleanSVG removes the XML prolog, adds fallback font families and rounds
// coordinates to four decimals (a tenth of a thousandth of a point: the
// files shrink by a third and look the same).
func cleanSVG(b []byte) []byte {
	b = svgProlog.ReplaceAll(b, nil)
	b = svgFamily.ReplaceAllFunc(b, func(m []byte) []byte {
		generic := map[string]string{"Sans": "Arial,Helvetica,sans-serif", "Serif": "Times New Roman,serif", "Mono": "Courier New,monospace"}
		v := string(svgFamily.FindSubmatch(m)[1])
		return []byte("font-family:Liberation " + v + "," + generic[v] + ";")
	})
	return svgNumbers.ReplaceAll(b, []byte("$1.$2"))
}

// Colours: the Okabe-Ito palette, distinguishable with colour blindness.
var (
	blue      = color.RGBA{0x00, 0x72, 0xB2, 0xff}
	vermilion = color.RGBA{0xD5, 0x5E, 0x00, 0xff}
	green     = color.RGBA{0x00, 0x9E, 0x73, 0xff}
	purple    = color.RGBA{0xCC, 0x79, 0xA7, 0xff}
	orange    = color.RGBA{0xE6, 0x9F, 0x00, 0xff}
	sky       = color.RGBA{0x56, 0xB4, 0xE9, 0xff}
	grey      = color.RGBA{0x99, 0x99, 0x99, 0xff}
	black     = color.RGBA{0, 0, 0, 0xff}
	series    = []color.Color{blue, vermilion, green, purple, orange, sky, black, grey}
)

func seriesColor(i int) color.Color { return series[i%len(series)] }

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot returns a plot with the report's fonts, a light grid and labelled
// axes.
func newPlot(title, xLabel, yLabel string) *plot.Plot { return makePlot(title, xLabel, yLabel, true) }

// newNominalPlot returns a plot whose x axis names categories (atoms) at
// 0..n-1, with rotated labels and faint lines between the categories
// instead of a vertical grid.
func newNominalPlot(title, yLabel string, cats []string) *plot.Plot {
	p := makePlot(title, "", yLabel, false)
	p.Add(separators(len(cats)))
	p.X.Tick.Marker = nominalTicks(cats)
	rotateX(p)
	p.X.Min, p.X.Max = -0.5, float64(len(cats))-0.5
	return p
}

// separators draws faint vertical lines between n categories, across the
// whole data area.
type separators int

func (n separators) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	sty := draw.LineStyle{Color: color.Gray{0xe4}, Width: 0.7}
	for i := 1; i < int(n); i++ {
		x := trX(float64(i) - 0.5)
		c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
	}
}

func makePlot(title, xLabel, yLabel string, vgrid bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 11)
	p.Title.Padding = 6
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 10)
		a.Tick.Label.Font = font.From(sans, 9)
		a.Padding = 2
	}
	p.Legend.TextStyle.Font = font.From(sans, 9)
	p.Legend.ThumbnailWidth = 18
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{0xe4}
	g.Horizontal.Color = color.Gray{0xe4}
	if !vgrid {
		g.Vertical.Width = 0
	}
	p.Add(g)
	return p
}

// rotateX turns the x tick labels by 45 degrees, for atom labels.
func rotateX(p *plot.Plot) {
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop
}

// nominalTicks labels the integers 0..len(labels)-1.
func nominalTicks(labels []string) plot.ConstantTicks {
	t := make(plot.ConstantTicks, len(labels))
	for i, l := range labels {
		t[i] = plot.Tick{Value: float64(i), Label: l}
	}
	return t
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func scatter(xys plotter.XYs, c color.Color, shape draw.GlyphDrawer, r vg.Length) (*plotter.Scatter, error) {
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, err
	}
	s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: r, Shape: shape}
	return s, nil
}

func line(xys plotter.XYs, c color.Color, width vg.Length, dashes ...vg.Length) (*plotter.Line, error) {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	l.LineStyle = draw.LineStyle{Color: c, Width: width, Dashes: dashes}
	return l, nil
}

// scaleOf is 100 for accuracies (plotted in percent), 1 for synthetic
// values.
func scaleOf(synthetic bool) float64 {
	if synthetic {
		return 1
	}
	return 100
}

// historyFigure: every finished trial's value and the best so far.
func historyFigure(id string, s *summary.SearchSummary) *figure {
	return &figure{id: id, title: "Optimisation history of " + s.Study, width: 7 * vg.Inch, height: 3.4 * vg.Inch,
		caption: "One point per finished trial, in trial order: its final validation value (pruned trials: the last value they reported; failed trials are drawn at the bottom). The line is the best complete value so far.",
		draw: func() (*plot.Plot, error) {
			k := scaleOf(s.Synthetic)
			ylab := "validation accuracy (%)"
			if s.Synthetic {
				ylab = "value"
			}
			p := newPlot("Optimisation history: "+s.Study, "trial", ylab)
			p.X.Tick.Marker = integerTicks{}
			var comp, prun, fail, best plotter.XYs
			lo := math.Inf(1)
			for _, h := range s.History {
				if finite(h.Value) {
					lo = math.Min(lo, h.Value*k)
				}
			}
			if math.IsInf(lo, 1) {
				lo = 0
			}
			for _, h := range s.History {
				x := float64(h.Trial)
				switch {
				case h.State == store.Complete:
					comp = append(comp, plotter.XY{X: x, Y: h.Value * k})
				case h.State == store.Pruned && finite(h.Value):
					prun = append(prun, plotter.XY{X: x, Y: h.Value * k})
				default:
					fail = append(fail, plotter.XY{X: x, Y: lo})
				}
				if finite(h.BestSoFar) {
					best = append(best, plotter.XY{X: x, Y: h.BestSoFar * k})
				}
			}
			if len(best) > 0 {
				l, err := line(best, vermilion, 1.5)
				if err != nil {
					return nil, err
				}
				l.StepStyle = plotter.PostStep
				p.Add(l)
				p.Legend.Add("best so far", l)
			}
			for _, set := range []struct {
				xys   plotter.XYs
				c     color.Color
				shape draw.GlyphDrawer
				name  string
			}{
				{comp, blue, draw.CircleGlyph{}, "complete"},
				{prun, grey, draw.RingGlyph{}, "pruned"},
				{fail, vermilion, draw.CrossGlyph{}, "failed"},
			} {
				if len(set.xys) == 0 {
					continue
				}
				sc, err := scatter(set.xys, set.c, set.shape, 3)
				if err != nil {
					return nil, err
				}
				p.Add(sc)
				p.Legend.Add(set.name, sc)
			}
			return p, nil
		}}
}

// heatGrid draws a matrix as coloured cells with their values written in:
// blue for negative weights, red for positive, white for 0, on a scale
// symmetric around 0.
type heatGrid struct {
	values [][]float64 // row 0 is drawn at the top; NaN cells stay empty
	max    float64     // |value| of full colour
}

func (h *heatGrid) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	cm := moreland.SmoothBlueRed()
	cm.SetMin(-h.max)
	cm.SetMax(h.max)
	sty := text.Style{Font: font.From(sans, 7.5), XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: p.TextHandler}
	n := len(h.values)
	for r, row := range h.values {
		y := float64(n - 1 - r)
		for col, v := range row {
			if !finite(v) {
				continue
			}
			clr, err := cm.At(math.Max(-h.max, math.Min(h.max, v)))
			if err != nil {
				clr = grey
			}
			x0, x1 := trX(float64(col)-0.5), trX(float64(col)+0.5)
			y0, y1 := trY(y-0.5), trY(y+0.5)
			c.FillPolygon(clr, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			sty.Color = black
			if math.Abs(v) > 0.6*h.max {
				sty.Color = color.White
			}
			label := strconv.FormatFloat(v, 'f', 2, 64)
			if v == 0 {
				label = "0"
			}
			c.FillText(sty, vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}, label)
		}
	}
}

func (h *heatGrid) DataRange() (xmin, xmax, ymin, ymax float64) {
	cols := 0
	for _, r := range h.values {
		cols = max(cols, len(r))
	}
	return -0.5, float64(cols) - 0.5, -0.5, float64(len(h.values)) - 0.5
}

// heatmapFigure shows goal vectors as rows over the atoms.
func heatmapFigure(id, title, caption string, rows []string, cols []string, values [][]float64) *figure {
	w := max(6*vg.Inch, 1.9*vg.Inch+vg.Length(len(cols))*0.42*vg.Inch)
	h := 1.3*vg.Inch + vg.Length(len(rows))*0.27*vg.Inch
	return &figure{id: id, title: title, caption: caption, width: w, height: h,
		draw: func() (*plot.Plot, error) {
			p := newPlot(title, "", "")
			p.Add(&heatGrid{values: values, max: maxAbs(values)})
			p.X.Tick.Marker = nominalTicks(cols)
			rotateX(p)
			rev := make([]string, len(rows))
			for i, r := range rows {
				rev[len(rows)-1-i] = r
			}
			p.Y.Tick.Marker = nominalTicks(rev)
			p.X.Tick.Length, p.Y.Tick.Length = 0, 0
			p.X.LineStyle.Width, p.Y.LineStyle.Width = 0, 0
			p.X.Min, p.X.Max = -0.5, float64(len(cols))-0.5
			p.Y.Min, p.Y.Max = -0.5, float64(len(rows))-0.5
			return p, nil
		}}
}

func maxAbs(values [][]float64) float64 {
	m := 0.0
	for _, r := range values {
		for _, v := range r {
			if finite(v) {
				m = math.Max(m, math.Abs(v))
			}
		}
	}
	if m == 0 {
		return 1
	}
	return m
}

// curvesFigure draws learning curves: val (solid) and, where measured, test
// (dashed), in percent.
func curvesFigure(id, title, caption string, curves []summary.Curve, synthetic bool) *figure {
	return &figure{id: id, title: title, caption: caption, width: 7 * vg.Inch, height: 3.6 * vg.Inch,
		draw: func() (*plot.Plot, error) {
			k := scaleOf(synthetic)
			ylab := "accuracy (%)"
			if synthetic {
				ylab = "value"
			}
			p := newPlot(title, "epoch", ylab)
			both := false
			for _, c := range curves {
				both = both || (c.Val != nil && c.Test != nil)
			}
			for i, c := range curves {
				for _, part := range []struct {
					ys     []float64
					suffix string
					dashes []vg.Length
				}{{c.Val, " (validation)", nil}, {c.Test, " (test)", []vg.Length{4, 2}}} {
					if !both {
						part.suffix, part.dashes = "", nil
					}
					var xys plotter.XYs
					for j, y := range part.ys {
						if j < len(c.Epochs) && finite(y) {
							xys = append(xys, plotter.XY{X: float64(c.Epochs[j]), Y: y * k})
						}
					}
					if len(xys) == 0 {
						continue
					}
					l, err := line(xys, seriesColor(i), 1.3, part.dashes...)
					if err != nil {
						return nil, err
					}
					sc, err := scatter(xys, seriesColor(i), draw.CircleGlyph{}, 1.6)
					if err != nil {
						return nil, err
					}
					p.Add(l, sc)
					p.Legend.Add(c.Name+part.suffix, l, sc)
				}
			}
			p.X.Tick.Marker = integerTicks{}
			return p, nil
		}}
}

// integerTicks label whole numbers only (epochs, counts), at a step of 1,
// 2 or 5 times a power of ten that gives at most 10 labels.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	lo, hi = math.Ceil(lo), math.Floor(hi)
	if hi < lo {
		return []plot.Tick{{Value: lo, Label: strconv.Itoa(int(lo))}}
	}
	step := 1.0
	for k := 1.0; (hi-lo)/step > 10; k *= 10 {
		for _, m := range []float64{1, 2, 5, 10} {
			if step = m * k; (hi-lo)/step <= 10 {
				break
			}
		}
	}
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		out = append(out, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
	}
	return out
}

// weightsFigure: each top goal's weight per atom as a dot, best darkest, so
// that the sign agreement and the spread of each weight show at once.
func weightsFigure(id string, s *summary.SearchSummary) *figure {
	cols := make([]string, len(s.Free))
	for i, j := range s.Free {
		cols[i] = s.Labels[j]
	}
	return &figure{id: id, title: "Weights of the best goals", width: max(6*vg.Inch, 1.3*vg.Inch+vg.Length(len(cols))*0.38*vg.Inch), height: 3.6 * vg.Inch,
		caption: fmt.Sprintf("The weight of each atom in the %d best goals, one dot per goal, offset left to right by rank (the best is darkest and leftmost). Atoms whose dots all lie on one side of 0 are weighted with the same sign by every good goal.", len(s.Leaderboard)),
		draw: func() (*plot.Plot, error) {
			p := newNominalPlot("Weights of the "+plural(len(s.Leaderboard), "best goal"), "weight", cols)
			zero, err := line(plotter.XYs{{X: -0.5, Y: 0}, {X: float64(len(cols)) - 0.5, Y: 0}}, grey, 1)
			if err != nil {
				return nil, err
			}
			p.Add(zero)
			n := len(s.Leaderboard)
			var first, last *plotter.Scatter
			for r := n - 1; r >= 0; r-- { // the best drawn last, on top
				e := s.Leaderboard[r]
				var xys plotter.XYs
				for i, j := range s.Free {
					off := 0.0
					if n > 1 {
						off = -0.3 + 0.6*float64(r)/float64(n-1)
					}
					xys = append(xys, plotter.XY{X: float64(i) + off, Y: e.Gamma[j]})
				}
				// From dark blue (best) to light blue.
				f := 0.0
				if n > 1 {
					f = float64(r) / float64(n-1)
				}
				c := color.RGBA{uint8(0x00 + f*0xb0), uint8(0x3a + f*0x9a), uint8(0x7a + f*0x70), 0xff}
				sc, err := scatter(xys, c, draw.CircleGlyph{}, 2.4)
				if err != nil {
					return nil, err
				}
				p.Add(sc)
				if r == 0 {
					first = sc
				} else if r == n-1 {
					last = sc
				}
			}
			p.Legend.Add(fmt.Sprintf("best (trial %d)", s.Leaderboard[0].Trial), first)
			if last != nil {
				p.Legend.Add(fmt.Sprintf("rank %d", n), last)
			}
			return p, nil
		}}
}

// barsFigure draws one or two series of values per category as grouped
// bars (atoms on the x axis).
func barsFigure(id, title, caption, ylabel string, cats []string, names []string, values [][]float64) *figure {
	w := max(6*vg.Inch, 1.3*vg.Inch+vg.Length(len(cats))*0.42*vg.Inch)
	return &figure{id: id, title: title, caption: caption, width: w, height: 3.6 * vg.Inch,
		draw: func() (*plot.Plot, error) {
			p := newNominalPlot(title, ylabel, cats)
			slot := (w - 1.2*vg.Inch) / vg.Length(max(len(cats), 1))
			bw := slot * 0.8 / vg.Length(max(len(values), 1))
			for i, vs := range values {
				clean := make(plotter.Values, len(vs))
				for j, v := range vs {
					if finite(v) {
						clean[j] = v
					}
				}
				b, err := plotter.NewBarChart(clean, bw)
				if err != nil {
					return nil, err
				}
				b.Color = seriesColor(i)
				b.LineStyle.Width = 0
				b.Offset = bw * (vg.Length(i) - vg.Length(len(values)-1)/2)
				p.Add(b)
				p.Legend.Add(names[i], b)
			}
			return p, nil
		}}
}

// hbarFigure draws horizontal bars (categories top to bottom) with optional
// markers (e.g. the paper's values) on the same scale.
func hbarFigure(id, title, caption, xlabel string, cats []string, vals []float64, barName string, marks []float64, markName string) *figure {
	h := 1.2*vg.Inch + vg.Length(len(cats))*0.24*vg.Inch
	return &figure{id: id, title: title, caption: caption, width: 6.5 * vg.Inch, height: max(h, 2.5*vg.Inch),
		draw: func() (*plot.Plot, error) {
			p := newPlot(title, xlabel, "")
			n := len(cats)
			rev := make([]string, n)
			// A weight whose loss collapses training (tens of points) would
			// squash every other bar to nothing: bars beyond the clip are
			// cut there and labelled with their value.
			lim := clipLimit(append(slices.Clone(vals), marks...))
			var clipped plotter.XYs
			var clipText []string
			var neg, pos plotter.Values = make(plotter.Values, n), make(plotter.Values, n)
			for i := range cats {
				j := n - 1 - i // the first category at the top
				rev[j] = cats[i]
				v := vals[i]
				if !finite(v) {
					continue
				}
				if math.Abs(v) > lim {
					clipped = append(clipped, plotter.XY{X: math.Copysign(lim, v), Y: float64(j)})
					// Padded with a space on the side of the axis line.
					t := strconv.FormatFloat(v, 'f', 1, 64)
					if v < 0 {
						t = "  " + t
					} else {
						t += "  "
					}
					clipText = append(clipText, t)
					v = math.Copysign(lim, v)
				}
				if v < 0 {
					neg[j] = v
				} else {
					pos[j] = v
				}
			}
			bw := (h - 1.2*vg.Inch) / vg.Length(max(n, 1)) * 0.7
			for _, set := range []struct {
				v plotter.Values
				c color.Color
			}{{neg, vermilion}, {pos, blue}} {
				b, err := plotter.NewBarChart(set.v, bw)
				if err != nil {
					return nil, err
				}
				b.Horizontal = true
				b.Color = set.c
				b.LineStyle.Width = 0
				p.Add(b)
				if slices.ContainsFunc(set.v, func(v float64) bool { return v != 0 }) {
					p.Legend.Add(barName+map[bool]string{true: ": accuracy falls", false: ": accuracy rises"}[set.c == vermilion], b)
				}
			}
			var m plotter.XYs
			for i, v := range marks {
				if finite(v) {
					m = append(m, plotter.XY{X: v, Y: float64(n - 1 - i)})
				}
			}
			if len(m) > 0 {
				sc, err := scatter(m, black, draw.PyramidGlyph{}, 3)
				if err != nil {
					return nil, err
				}
				p.Add(sc)
				p.Legend.Add(markName, sc)
			}
			if len(clipped) > 0 {
				l, err := plotter.NewLabels(plotter.XYLabels{XYs: clipped, Labels: clipText})
				if err != nil {
					return nil, err
				}
				for i := range l.TextStyle {
					l.TextStyle[i].Font = font.From(sans, 8)
					l.TextStyle[i].Color = color.White
					l.TextStyle[i].YAlign = draw.YCenter
					if clipped[i].X < 0 {
						l.TextStyle[i].XAlign = draw.XLeft
					} else {
						l.TextStyle[i].XAlign = draw.XRight
					}
				}
				p.Add(l)
				p.X.Min, p.X.Max = math.Min(p.X.Min, -lim), math.Max(p.X.Max, lim)
				p.X.Label.Text += " (bars beyond ±" + strconv.FormatFloat(lim, 'g', 3, 64) + " cut, their value written in)"
			}
			p.Y.Tick.Marker = nominalTicks(rev)
			p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
			return p, nil
		}}
}

// clipLimit returns the largest magnitude a bar chart shows uncut: all of
// them, unless a few values dwarf the rest, in which case 2.5 times the
// 80th percentile of the magnitudes (at least 0.5).
func clipLimit(vals []float64) float64 {
	var m []float64
	for _, v := range vals {
		if finite(v) {
			m = append(m, math.Abs(v))
		}
	}
	if len(m) < 3 {
		return math.Inf(1)
	}
	slices.Sort(m)
	lim := math.Max(0.5, 2.5*m[int(0.8*float64(len(m)-1))])
	if m[len(m)-1] <= lim {
		return math.Inf(1)
	}
	return lim
}

type xyErrs struct {
	plotter.XYs
	plotter.XErrors
}

type xyYErrs struct {
	plotter.XYs
	plotter.YErrors
}

// dotsFigure draws mean ± std per row (rows top to bottom) as dots with
// horizontal error bars, and markers for reference values: the
// comparison's picture.
func dotsFigure(id, title, caption, xlabel string, rows []string, samples []summary.Sample, refs []float64, refName string) *figure {
	h := 1.2*vg.Inch + vg.Length(len(rows))*0.26*vg.Inch
	return &figure{id: id, title: title, caption: caption, width: 7 * vg.Inch, height: max(h, 2.4*vg.Inch),
		draw: func() (*plot.Plot, error) {
			p := newPlot(title, xlabel, "")
			n := len(rows)
			rev := make([]string, n)
			var pts plotter.XYs
			var errs plotter.XErrors
			for i, s := range samples {
				y := float64(n - 1 - i)
				rev[n-1-i] = rows[i]
				if !finite(s.Mean) {
					continue
				}
				sd := 0.0
				if finite(s.Std) {
					sd = s.Std * 100
				}
				pts = append(pts, plotter.XY{X: s.Mean * 100, Y: y})
				errs = append(errs, struct{ Low, High float64 }{sd, sd})
			}
			if len(pts) > 0 {
				eb, err := plotter.NewXErrorBars(xyErrs{pts, errs})
				if err != nil {
					return nil, err
				}
				eb.LineStyle.Color, eb.LineStyle.Width = blue, 1.2
				sc, err := scatter(pts, blue, draw.CircleGlyph{}, 3)
				if err != nil {
					return nil, err
				}
				p.Add(eb, sc)
				p.Legend.Add("ours: mean ± std over seeds", sc)
			}
			var m plotter.XYs
			for i, v := range refs {
				if finite(v) {
					m = append(m, plotter.XY{X: v * 100, Y: float64(n - 1 - i)})
				}
			}
			if len(m) > 0 {
				sc, err := scatter(m, vermilion, draw.RingGlyph{}, 3.5)
				if err != nil {
					return nil, err
				}
				p.Add(sc)
				p.Legend.Add(refName, sc)
			}
			p.Y.Tick.Marker = nominalTicks(rev)
			p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
			return p, nil
		}}
}

// sparsifyFigure: validation and test accuracy against the number of
// non-zero weights, dense on the left, the sparse goal ringed.
func sparsifyFigure(id string, sp *summary.Sparsification) *figure {
	return &figure{id: id, title: "Sparsification path", width: 7 * vg.Inch, height: 3.4 * vg.Inch,
		caption: "Mean accuracy over seeds (bars: ± one standard deviation) as weights are set to 0 one at a time, the least important first; the ring marks the sparse goal (for the analysis, the last accepted step with its weights rounded, drawn off the path).",
		draw: func() (*plot.Plot, error) {
			p := newPlot("Sparsification path", "non-zero weights", "accuracy (%)")
			p.X.Scale = plot.InvertedScale{Normalizer: plot.LinearScale{}}
			for i, part := range []struct {
				name string
				get  func(summary.SparseStep) summary.Sample
			}{{"validation", func(s summary.SparseStep) summary.Sample { return s.Val }}, {"test", func(s summary.SparseStep) summary.Sample { return s.Test }}} {
				var pts plotter.XYs
				var errs plotter.YErrors
				for k, st := range sp.Steps {
					if k == sp.Chosen && strings.HasPrefix(st.Goal, "sparse") {
						continue // the rounded goal is off the path: drawn on its own
					}
					s := part.get(st)
					if !finite(s.Mean) {
						continue
					}
					sd := 0.0
					if finite(s.Std) {
						sd = 100 * s.Std
					}
					pts = append(pts, plotter.XY{X: float64(st.Terms), Y: 100 * s.Mean})
					errs = append(errs, struct{ Low, High float64 }{sd, sd})
				}
				if len(pts) == 0 {
					continue
				}
				l, err := line(pts, seriesColor(i), 1.3)
				if err != nil {
					return nil, err
				}
				sc, err := scatter(pts, seriesColor(i), draw.CircleGlyph{}, 2.2)
				if err != nil {
					return nil, err
				}
				eb, err := plotter.NewYErrorBars(xyYErrs{pts, errs})
				if err != nil {
					return nil, err
				}
				eb.LineStyle.Color = seriesColor(i)
				p.Add(l, eb, sc)
				p.Legend.Add(part.name, l, sc)
			}
			if sp.Chosen >= 0 && finite(sp.Steps[sp.Chosen].Val.Mean) {
				st := sp.Steps[sp.Chosen]
				pt := plotter.XYs{{X: float64(st.Terms), Y: 100 * st.Val.Mean}}
				dot, err := scatter(pt, seriesColor(0), draw.CircleGlyph{}, 2.2)
				if err != nil {
					return nil, err
				}
				sc, err := scatter(pt, black, draw.RingGlyph{}, 6)
				if err != nil {
					return nil, err
				}
				p.Add(dot, sc)
				p.Legend.Add("sparse goal (validation)", sc)
			}
			var ticks plot.ConstantTicks
			for _, st := range sp.Steps {
				if !slices.ContainsFunc(ticks, func(t plot.Tick) bool { return t.Value == float64(st.Terms) }) {
					ticks = append(ticks, plot.Tick{Value: float64(st.Terms), Label: strconv.Itoa(st.Terms)})
				}
			}
			p.X.Tick.Marker = ticks
			return p, nil
		}}
}

// frontSpan is how far below the best validation accuracy the front plot
// reaches.
const frontSpan = 0.15

// frontFigure: every complete trial of a multi-objective study by
// complexity and validation accuracy, the Pareto front as a step line
// through its points, and the picked goal marked.
func frontFigure(id string, s *summary.SearchSummary) *figure {
	f := s.Pareto
	return &figure{id: id, title: "Pareto front of " + s.Study, width: 7 * vg.Inch, height: 3.6 * vg.Inch,
		caption: fmt.Sprintf("One point per complete trial: the complexity of its (rounded) goal and its final validation value (for networks, trials more than %g pp below the best are left out, also of the front; the table lists it whole). The line joins the Pareto front; the ring marks the picked goal.", 100*frontSpan),
		draw: func() (*plot.Plot, error) {
			k := scaleOf(s.Synthetic)
			ylab := "validation accuracy (%)"
			if s.Synthetic {
				ylab = "value"
			}
			p := newPlot("Pareto front: "+s.Study, f.ComplexityName(), ylab)
			var all, front, picked plotter.XYs
			// Trials far below the front (diverged goals near chance)
			// would squash it into a line at the top: they are left out.
			lo := math.Inf(-1)
			if !s.Synthetic {
				lo = f.BestAccuracy - frontSpan
			}
			for _, h := range f.Cloud {
				if h.Accuracy >= lo {
					all = append(all, plotter.XY{X: h.Complexity, Y: h.Accuracy * k})
				}
			}
			for _, q := range f.Points {
				if q.Accuracy < lo {
					continue // in the table, not the plot
				}
				front = append(front, plotter.XY{X: q.Complexity, Y: q.Accuracy * k})
				if f.Picked != nil && q.Trial == f.Picked.Trial {
					picked = append(picked, plotter.XY{X: q.Complexity, Y: q.Accuracy * k})
				}
			}
			if len(all) > 0 {
				sc, err := scatter(all, grey, draw.CircleGlyph{}, 2)
				if err != nil {
					return nil, err
				}
				p.Add(sc)
				p.Legend.Add("complete trial", sc)
			}
			l, err := line(front, blue, 1.5)
			if err != nil {
				return nil, err
			}
			l.StepStyle = plotter.PostStep
			p.Add(l)
			sc, err := scatter(front, blue, draw.CircleGlyph{}, 3)
			if err != nil {
				return nil, err
			}
			p.Add(sc)
			p.Legend.Add("Pareto front", sc)
			if len(picked) > 0 {
				pk, err := scatter(picked, vermilion, draw.RingGlyph{}, 6)
				if err != nil {
					return nil, err
				}
				p.Add(pk)
				p.Legend.Add("picked", pk)
			}
			if f.Complexity == "nonzero" {
				p.X.Tick.Marker = integerTicks{}
			}
			return p, nil
		}}
}
