package reports

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"goalsearch/setups"
	"goalsearch/summary"
)

// The layout decides what a report says and in which order, as a list of
// blocks that the HTML and Markdown renderers only format, so both carry
// the same headings, sentences, tables and plots.

type blockKind int

const (
	headingBlock blockKind = iota
	paraBlock
	noteBlock // something missing or to be careful about
	tableBlock
	figureBlock
	listBlock
	detailsBlock // a table a reader may want but need not see (HTML folds it)
)

type block struct {
	kind  blockKind
	level int    // heading level, 1 to 4
	id    string // heading anchor
	text  string
	items []string
	table *table
	fig   *figure
}

// A table is a caption, a header and rows of cells. numeric marks the
// columns that hold numbers (right-aligned).
type table struct {
	caption string
	head    []string
	numeric []bool
	rows    [][]cell
}

type cell struct {
	text   string
	strong bool
	// heat, when not NaN, is a signed weight scaled to [-1, 1] that HTML
	// shows as the cell's background.
	heat float64
}

func c(text string) cell { return cell{text: text, heat: math.NaN()} }

type doc struct {
	blocks []block
}

func (d *doc) heading(level int, id, text string) {
	d.blocks = append(d.blocks, block{kind: headingBlock, level: level, id: id, text: text})
}
func (d *doc) para(format string, a ...any) {
	d.blocks = append(d.blocks, block{kind: paraBlock, text: fmt.Sprintf(format, a...)})
}
func (d *doc) note(format string, a ...any) {
	d.blocks = append(d.blocks, block{kind: noteBlock, text: fmt.Sprintf(format, a...)})
}
func (d *doc) list(items []string) { d.blocks = append(d.blocks, block{kind: listBlock, items: items}) }
func (d *doc) add(t *table)        { d.blocks = append(d.blocks, block{kind: tableBlock, table: t}) }
func (d *doc) details(summary string, t *table) {
	d.blocks = append(d.blocks, block{kind: detailsBlock, text: summary, table: t})
}
func (d *doc) figure(f *figure) { d.blocks = append(d.blocks, block{kind: figureBlock, fig: f}) }

// figures returns the report's figures in order.
func (d *doc) figures() []*figure {
	var out []*figure
	for _, b := range d.blocks {
		if b.kind == figureBlock {
			out = append(out, b.fig)
		}
	}
	return out
}

// layout lays the report out.
func layout(r *Report) *doc {
	d := &doc{}
	d.heading(1, "top", r.Title)
	d.para("Accuracies are in percent; ± is the standard deviation over seeds, and pp means percentage points. " +
		"Searches choose goals by validation accuracy only; test accuracies come from re-training goals on fresh seeds (evaluation studies).")
	if len(r.Sections) == 0 {
		d.note("The store holds no studies.")
	}
	for i, sec := range r.Sections {
		layoutSection(d, i+1, &sec)
	}
	layoutAgreement(d, r)
	layoutComparison(d, r)
	layoutPaper(d)
	return d
}

// layoutAgreement shows which atoms the best goals of independent searches
// weight with the same sign.
func layoutAgreement(d *doc, r *Report) {
	if len(r.Agreement) == 0 {
		return
	}
	d.heading(2, "agreement", "Sign agreement across studies")
	d.para("The best goal of each searched study of a setup, side by side: an atom that independent searches weight with the same sign is a finding about what the neurons should aim for; one whose sign flips is not.")
	for i, a := range r.Agreement {
		id := "agree" + strconv.Itoa(i+1)
		d.heading(3, id, a.Setup)
		var same []string
		for _, row := range a.Signs.Atoms {
			if !row.Fixed && row.MajorityShare == 1 && row.Majority != 0 {
				sign := "+"
				if row.Majority < 0 {
					sign = "−"
				}
				same = append(same, row.Atom+" ("+sign+")")
			}
		}
		if len(same) > 0 {
			d.para("The best goals of %s agree in sign on %s: %s.", strings.Join(a.Studies, ", "), plural(len(same), "atom"), strings.Join(same, ", "))
		} else {
			d.para("The best goals of %s agree in sign on no atom.", strings.Join(a.Studies, ", "))
		}
		head := []string{"atom"}
		numeric := []bool{false}
		for j, st := range a.Studies {
			head = append(head, fmt.Sprintf("%s (#%d)", st, a.Signs.Trials[j]))
			numeric = append(numeric, true)
		}
		head = append(head, "agreement")
		numeric = append(numeric, true)
		t := &table{head: head, numeric: numeric}
		for i, row := range a.Signs.Atoms {
			if row.Fixed {
				continue
			}
			cells := []cell{c(row.Atom)}
			for j := range a.Studies {
				w := a.Gammas[j][i]
				cells = append(cells, cell{text: weight(w), heat: math.Max(-1, math.Min(1, w))})
			}
			cells = append(cells, cell{text: strconv.FormatFloat(100*row.MajorityShare, 'f', 0, 64) + " %", strong: row.MajorityShare == 1, heat: math.NaN()})
			t.rows = append(t.rows, cells)
		}
		t.caption = "Each column is a study's best goal (searched weights only); agreement is the share of the studies whose weight has the majority sign."
		d.add(t)
	}
}

// layoutFront shows a multi-objective study's Pareto front: a plot of
// every complete trial with the front drawn through, the front as a
// table, and the goal picked from it.
func layoutFront(d *doc, sid string, s *summary.SearchSummary) {
	f := s.Pareto
	if f == nil || len(f.Points) == 0 {
		return
	}
	d.heading(3, sid+"-front", "Pareto front")
	d.para("The study's second objective is the goal's %s, minimised beside the validation accuracy; every goal was trained rounded to the grid %g, so each trial's complexity is that of the goal it reports. "+
		"%d of the %s are on the front: no other trial is both at least as accurate and at most as complex.",
		f.ComplexityName(), f.Grid, len(f.Points), plural(f.Complete, "complete trial"))
	d.figure(frontFigure(sid+"-front", s))
	t := &table{head: []string{"trial", f.Complexity, "validation", "goal (nonzero weights)"}, numeric: []bool{true, true, true, false}}
	for _, p := range f.Points {
		picked := f.Picked != nil && p.Trial == f.Picked.Trial
		t.rows = append(t.rows, []cell{c(strconv.Itoa(p.Trial)), c(f.FormatComplexity(p.Complexity)),
			{text: value(p.Accuracy, s.Synthetic), strong: picked, heat: math.NaN()}, c(summary.Terms(s.Labels, p.Gamma))})
	}
	t.caption = "The front, sparsest first; the picked goal is in bold."
	d.add(t)
	if p := f.Picked; p != nil {
		d.para("Picked: trial %d, the sparsest goal on the front whose validation %s is within %s of the front's best (%s): %s %s, validation %s.",
			p.Trial, valueWord(s), distance(f.Tolerance, s.Synthetic), value(f.BestAccuracy, s.Synthetic), f.FormatComplexity(p.Complexity), f.Complexity, value(p.Accuracy, s.Synthetic))
	}
}

// distance writes a difference of values: percentage points for
// accuracies.
func distance(v float64, synthetic bool) string {
	if synthetic {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(100*v, 'g', 3, 64) + " pp"
}

func sectionID(i int) string { return "s" + strconv.Itoa(i) }

func layoutSection(d *doc, i int, sec *Section) {
	sid := sectionID(i)
	if sec.Search != nil {
		d.heading(2, sid, "Study: "+sec.Name)
		layoutSearch(d, sid, sec)
	} else {
		d.heading(2, sid, "Evaluation group: "+sec.Name)
		d.para("A group of evaluation studies without a search of its own (presets, baselines and reproductions of the paper).")
	}
	for _, n := range sec.Notes {
		d.note("%s", n)
	}
	layoutAnalyses(d, sid, sec)
	layoutEvals(d, sid, sec)
}

func layoutSearch(d *doc, sid string, sec *Section) {
	s := sec.Search
	d.heading(3, sid+"-summary", "Summary")
	rows := [][]cell{
		{c("setup"), c(setupText(s))},
		{c("sampler"), c(samplerText(s))},
		{c("search space"), c(spaceText(s))},
		{c("created"), c(stamp(s.Created))},
		{c("trials"), c(countsText(s.Counts))},
		{c("wall time"), c(duration(s.WallTime) + " of training, summed over trials")},
	}
	if s.Best != nil {
		rows = append(rows, []cell{c("best validation"), {text: fmt.Sprintf("%s (trial %d, %s)", value(s.Best.Value, s.Synthetic), s.Best.Trial, plural(s.Best.Epochs, "epoch")), strong: true, heat: math.NaN()}})
		if len(s.Best.Params) > 0 {
			rows = append(rows, []cell{c("best hyperparameters"), c(strings.Join(s.Best.Params, ", "))})
		}
		if ev := s.Best.Eval; ev != nil {
			rows = append(rows,
				[]cell{c("best goal on fresh seeds"), c(fmt.Sprintf("validation %s, test %s (%s, %s)", meanStd(ev.Val), meanStd(ev.Test), plural(ev.Test.N, "seed"), ev.Study))},
				[]cell{c("best test"), {text: meanStd(ev.Test), strong: true, heat: math.NaN()}})
		} else {
			rows = append(rows, []cell{c("best test"), c("not evaluated: the best goal was not re-trained on fresh seeds")})
		}
	} else {
		rows = append(rows, []cell{c("best validation"), c(dash)}, []cell{c("best test"), c(dash)})
	}
	d.add(&table{head: []string{"", ""}, rows: rows})

	switch {
	case s.Counts.Total == 0:
		d.note("The study has no trials yet: there is nothing to report. `goalsearch search --study %s` runs it.", s.Study)
		return
	case s.Counts.Complete == 0 && s.Counts.Failed == s.Counts.Total:
		d.note("All %s failed, so no goal can be ranked.", plural(s.Counts.Total, "trial"))
	case s.Counts.Complete == 0:
		d.note("No trial has completed yet (%s).", countsText(s.Counts))
	}
	if len(s.Failures) > 0 {
		t := &table{caption: "Why trials failed", head: []string{"reason", "trials"}, numeric: []bool{false, true}}
		for _, f := range s.Failures {
			t.rows = append(t.rows, []cell{c(f.Reason), c(strconv.Itoa(f.Count))})
		}
		d.add(t)
	}
	drawable := false
	for _, h := range s.History {
		drawable = drawable || finite(h.Value)
	}
	if !drawable {
		return // nothing but failures: the note and the reasons say it all
	}

	d.heading(3, sid+"-history", "Optimisation history")
	d.figure(historyFigure(sid+"-history", s))
	layoutFront(d, sid, s)
	if len(s.Leaderboard) == 0 {
		return
	}

	d.heading(3, sid+"-leaderboard", "Leaderboard")
	d.para("The %s by validation %s after %s. Test accuracies are those of the goal re-trained on fresh seeds, where it was.",
		plural(len(s.Leaderboard), "best complete trial"), valueWord(s), plural(s.Epochs, "epoch"))
	lt := &table{head: []string{"rank", "trial", "validation", "epochs", "wall time", "re-trained: validation", "re-trained: test", "seeds"},
		numeric: []bool{true, true, true, true, true, true, true, true}}
	for _, e := range s.Leaderboard {
		ev, et, n := dash, dash, dash
		if e.Eval != nil {
			ev, et, n = meanStdOf(e.Eval.Val, s.Synthetic), meanStdOf(e.Eval.Test, s.Synthetic), strconv.Itoa(e.Eval.Test.N)
		}
		lt.rows = append(lt.rows, []cell{c(strconv.Itoa(e.Rank)), c(strconv.Itoa(e.Trial)), {text: value(e.Value, s.Synthetic), strong: e.Rank == 1, heat: math.NaN()},
			c(strconv.Itoa(e.Epochs)), c(duration(e.WallTime)), c(ev), c(et), c(n)})
	}
	d.add(lt)
	labels, rowsLbl, vals := goalMatrix(s)
	fixed := ""
	if len(s.Fixed) > 0 {
		fixed = " Fixed coordinates (" + strings.Join(s.Fixed, ", ") + ") are left out."
	}
	d.figure(heatmapFigure(sid+"-goals", "Goals of the best trials", "Each row is a goal vector, the best at the top; each cell the weight of one PID atom (blue negative, red positive)."+fixed,
		rowsLbl, labels, vals))
	d.details("goal vectors as numbers", weightTable(rowsLbl, labels, vals))

	if len(s.Curves) > 0 {
		d.heading(3, sid+"-curves", "Learning curves")
		d.figure(curvesFigure(sid+"-curves", "Validation "+valueWord(s)+" per epoch, best trials",
			fmt.Sprintf("Per-epoch validation %s of the %s, as their search runs reported it.", valueWord(s), plural(len(s.Curves), "best trial")), s.Curves, s.Synthetic))
	}
}

func valueWord(s *summary.SearchSummary) string {
	if s.Synthetic {
		return "value"
	}
	return "accuracy"
}

func setupText(s *summary.SearchSummary) string {
	switch {
	case s.Synthetic:
		return fmt.Sprintf("%s (synthetic test function, %d dimensions)", s.Setup, len(s.Labels))
	case s.Hidden > 0:
		return fmt.Sprintf("%s, %d hidden neurons, %s per trial", s.Setup, s.Hidden, plural(s.Epochs, "epoch"))
	}
	return s.Setup
}

func samplerText(s *summary.SearchSummary) string {
	t := s.Sampler
	if s.Pruner != "" {
		t += ", pruner " + s.Pruner
	}
	return t + ", seed " + strconv.FormatUint(s.Seed, 10)
}

func spaceText(s *summary.SearchSummary) string {
	t := plural(len(s.Free), "free weight")
	if len(s.Fixed) > 0 {
		t += "; fixed " + strings.Join(s.Fixed, ", ")
	}
	if len(s.Params) > 0 {
		t += "; hyperparameters " + strings.Join(s.Params, ", ")
	}
	return t
}

func countsText(n summary.Counts) string {
	parts := []string{fmt.Sprintf("%d complete", n.Complete)}
	if n.Pruned > 0 {
		parts = append(parts, fmt.Sprintf("%d pruned", n.Pruned))
	}
	if n.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", n.Failed))
	}
	if n.Unfinished > 0 {
		parts = append(parts, fmt.Sprintf("%d unfinished", n.Unfinished))
	}
	return fmt.Sprintf("%d (%s)", n.Total, strings.Join(parts, ", "))
}

// goalMatrix returns the leaderboard's goals over the free coordinates.
func goalMatrix(s *summary.SearchSummary) (cols, rows []string, vals [][]float64) {
	for _, j := range s.Free {
		cols = append(cols, s.Labels[j])
	}
	for _, e := range s.Leaderboard {
		rows = append(rows, fmt.Sprintf("#%d  trial %d  %s", e.Rank, e.Trial, value(e.Value, s.Synthetic)))
		var v []float64
		for _, j := range s.Free {
			v = append(v, e.Gamma[j])
		}
		vals = append(vals, v)
	}
	return cols, rows, vals
}

// weightTable lists goal vectors with three decimals; HTML colours the
// cells like the heatmap.
func weightTable(rows, cols []string, vals [][]float64) *table {
	t := &table{head: append([]string{"goal"}, cols...)}
	t.numeric = make([]bool, len(t.head))
	for i := 1; i < len(t.numeric); i++ {
		t.numeric[i] = true
	}
	m := maxAbs(vals)
	for i, r := range rows {
		row := []cell{c(r)}
		for _, v := range vals[i] {
			row = append(row, cell{text: weight(v), heat: v / m})
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// layoutAnalyses: sign agreement, atom profile, sensitivity and
// sparsification.
func layoutAnalyses(d *doc, sid string, sec *Section) {
	s := sec.Search
	var sens, sparse []*summary.EvalSummary
	for i := range sec.Evals {
		switch e := &sec.Evals[i]; {
		case e.Sensitivity != nil:
			sens = append(sens, e)
		case e.Sparsify != nil:
			sparse = append(sparse, e)
		}
	}
	hasSearchAnalysis := s != nil && (s.Signs != nil || s.Profile != nil || s.Importance != nil)
	if !hasSearchAnalysis && len(sens) == 0 && len(sparse) == 0 {
		return
	}
	d.heading(3, sid+"-analysis", "Analysis")
	if s != nil && s.Signs != nil {
		layoutSigns(d, sid, s)
	} else if s != nil && len(s.Leaderboard) > 0 {
		d.note("Sign agreement needs at least 3 complete trials; the study has %d.", len(s.Leaderboard))
	}
	if s != nil && s.Importance != nil {
		layoutImportance(d, sid, s)
	}
	if s != nil && s.Profile != nil {
		layoutProfile(d, sid, s.Profile)
	}
	for j, e := range sens {
		layoutSensitivity(d, fmt.Sprintf("%s-sens%d", sid, j+1), e)
	}
	for j, e := range sparse {
		layoutSparsify(d, fmt.Sprintf("%s-sparse%d", sid, j+1), e)
	}
}

// layoutImportance is the share of the values' variation each searched
// weight and hyperparameter explains on its own, from the trials alone.
func layoutImportance(d *doc, sid string, s *summary.SearchSummary) {
	imp := s.Importance
	d.heading(4, sid+"-importance", "Importance of the weights and hyperparameters")
	d.para("Share of the variance of the %d complete trials' values that each searched coordinate explains on its own (%s, %d bins; about 0 for one that does not matter). "+
		"Interactions are not counted, and a sampler that concentrates its proposals blurs the estimate; the sensitivity analysis below, where there is one, measures instead.",
		imp.Trials, summary.ImportanceMethod, imp.Bins)
	t := &table{head: []string{"rank", "weight or hyperparameter", "share of variance", "better when"}, numeric: []bool{true, false, true, false}}
	for k, r := range imp.Rows {
		dir := dash
		if !math.IsNaN(r.Spearman) && r.Spearman != 0 {
			if (r.Spearman > 0) == s.Maximize {
				dir = "larger"
			} else {
				dir = "smaller"
			}
		}
		label := r.Label
		if r.Param {
			label += " (hyperparameter)"
		}
		t.rows = append(t.rows, []cell{c(strconv.Itoa(k + 1)), c(label), {text: strconv.FormatFloat(100*r.Share, 'f', 1, 64) + " %", heat: math.NaN()}, c(dir)})
	}
	t.caption = "\"Better when\" is the sign of the rank correlation of the coordinate with the value."
	d.add(t)
}

func layoutSigns(d *doc, sid string, s *summary.SearchSummary) {
	sa := s.Signs
	d.heading(4, sid+"-signs", "Sign agreement across the best goals")
	var agree []string
	for _, r := range sa.Atoms {
		if !r.Fixed && r.MajorityShare == 1 && r.Majority != 0 {
			sign := "+"
			if r.Majority < 0 {
				sign = "−"
			}
			agree = append(agree, r.Atom+" ("+sign+")")
		}
	}
	if len(agree) > 0 {
		d.para("All %s weight %s with the same sign: %s.", plural(len(sa.Trials), "best goal"), plural(len(agree), "atom"), strings.Join(agree, ", "))
	} else {
		d.para("No atom is weighted with the same sign by all %s.", plural(len(sa.Trials), "best goal"))
	}
	d.figure(weightsFigure(sid+"-weights", s))
	t := &table{head: []string{"atom", "positive", "negative", "zero", "mean weight", "agreement"}, numeric: []bool{false, true, true, true, true, true}}
	for _, r := range sa.Atoms {
		if r.Fixed {
			continue
		}
		t.rows = append(t.rows, []cell{c(r.Atom), c(strconv.Itoa(r.Positive)), c(strconv.Itoa(r.Negative)), c(strconv.Itoa(r.Zero)),
			{text: weight(r.Mean), heat: math.Max(-1, math.Min(1, r.Mean))}, {text: strconv.FormatFloat(100*r.MajorityShare, 'f', 0, 64) + " %", strong: r.MajorityShare == 1, heat: math.NaN()}})
	}
	t.caption = "Agreement is the share of the best goals whose weight has the majority sign."
	d.details("sign agreement as numbers", t)
}

func layoutProfile(d *doc, sid string, p *summary.AtomProfile) {
	d.heading(4, sid+"-atoms", "Atom profile of the hidden neurons")
	names := []string{"best goal"}
	vals := [][]float64{p.Best}
	d.para("The mean PID atoms (bits) that the hidden neurons reach in the last epoch, averaged over neurons: the best goal (%s)", p.BestFrom)
	if p.Heuristic != nil {
		names = append(names, "heuristic goal")
		vals = append(vals, p.Heuristic)
		d.blocks[len(d.blocks)-1].text += " against the heuristic goal (" + p.HeuristicFrom + ")."
	} else {
		d.blocks[len(d.blocks)-1].text += "."
		d.note("No run of the setup's heuristic goal is in the store, so there is nothing to compare the profile with: evaluating the preset (e.g. with `goalsearch reproduce`) adds it.")
	}
	d.figure(barsFigure(sid+"-atoms", "Mean atoms of the hidden neurons", "Bars are the atoms' means over the hidden neurons (and over seeds, for evaluations), in bits.",
		"bits", p.Labels, names, vals))
	t := &table{head: append([]string{"atom"}, names...), numeric: []bool{false, true, true}}
	if p.Heuristic != nil {
		t.head = append(t.head, "difference")
		t.numeric = append(t.numeric, true)
	}
	for i, l := range p.Labels {
		row := []cell{c(l), c(bits(p.Best[i]))}
		if p.Heuristic != nil {
			row = append(row, c(bits(p.Heuristic[i])), c(bits(p.Best[i]-p.Heuristic[i])))
		}
		t.rows = append(t.rows, row)
	}
	d.details("atom profile as numbers", t)
}

func layoutSensitivity(d *doc, id string, e *summary.EvalSummary) {
	s := e.Sensitivity
	d.heading(4, id, "Sensitivity of the best goal")
	d.para("From %s (%s, %d hidden neurons, %s, %s): the goal %q re-trained with one weight at a time set to 0 (and moved by the stated amount), ranked by the loss of mean validation accuracy. "+
		"The unchanged goal reaches %s validation and %s test accuracy. p compares the changed goal's validation accuracies with the unchanged goal's, seed by seed (paired t-test; Welch's t-test where runs are missing).",
		e.Study, e.Setup, e.Hidden, plural(e.Epochs, "epoch"), plural(len(e.Seeds), "seed"), s.Baseline, meanStd(s.Val), meanStd(s.Test))
	if len(s.Rows) == 0 {
		d.note("The study holds no changed goals yet.")
		return
	}
	paper := !math.IsNaN(s.PaperBaseline)
	t := &table{head: []string{"rank", "atom", "weight", "set to 0: validation", "Δ", "p", "moved up: Δ", "moved down: Δ"}, numeric: []bool{true, false, true, true, true, true, true, true}}
	if paper {
		t.head = append(t.head, "paper: set to 0", "paper Δ")
		t.numeric = append(t.numeric, true, true)
	}
	var cats []string
	var bars, marks []float64
	for _, r := range s.Rows {
		rank, zv, zd, zp := dash, dash, dash, dash
		if r.Rank > 0 {
			rank = strconv.Itoa(r.Rank)
		}
		if r.Zero != nil {
			zv, zd, zp = meanStd(r.Zero.Val), pp(r.Zero.DeltaVal), pvalue(r.Zero.Compare.P)
			cats = append(cats, r.Atom)
			bars = append(bars, 100*r.Zero.DeltaVal)
			marks = append(marks, 100*(r.Paper-s.PaperBaseline))
		}
		variant := func(v *summary.Variant) string {
			if v == nil {
				return dash
			}
			return fmt.Sprintf("%s (%s)", pp(v.DeltaVal), signed(v.Delta))
		}
		row := []cell{c(rank), c(r.Atom), c(weight(r.Weight)), c(zv), {text: zd, strong: r.Rank > 0 && r.Rank <= 3 && r.Zero.DeltaVal < 0, heat: math.NaN()}, c(zp), c(variant(r.Plus)), c(variant(r.Minus))}
		if paper {
			row = append(row, c(pctNum(r.Paper)), c(pp(r.Paper-s.PaperBaseline)))
		}
		t.rows = append(t.rows, row)
	}
	if paper {
		t.caption = fmt.Sprintf("The paper's columns are its own optimised goal's sensitivity (baseline %s validation accuracy, %d epochs): a reference for which atoms matter, not the same goal.", pctNum(s.PaperBaseline), setups.PaperEpochs)
	}
	d.add(t)
	if len(cats) > 0 {
		markName := ""
		if paper {
			markName = "paper (its goal)"
		}
		d.figure(hbarFigure(id, "Validation accuracy lost when one weight is set to 0", "Change of mean validation accuracy, in percentage points, when each weight of the best goal is set to 0; the most harmful at the top."+paperMarkText(paper),
			"Δ validation accuracy (pp)", cats, bars, "ours", marks, markName))
	}
}

func paperMarkText(paper bool) string {
	if paper {
		return " Triangles mark the paper's change for its own goal."
	}
	return ""
}

func signed(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if x >= 0 {
		s = "+" + s
	}
	return s
}

func layoutSparsify(d *doc, id string, e *summary.EvalSummary) {
	sp := e.Sparsify
	d.heading(4, id, "Sparsification")
	if len(sp.Steps) == 0 {
		d.note("%s holds no goals yet.", e.Study)
		return
	}
	d.para("From %s (%s, %d hidden neurons, %s, %s): starting from %q, the least important weight is set to 0 one at a time and the goal re-trained.",
		e.Study, e.Setup, e.Hidden, plural(e.Epochs, "epoch"), plural(len(e.Seeds), "seed"), sp.Steps[0].Goal)
	if e.Note != "" {
		d.para("Procedure: %s", sentence(e.Note))
	}
	if sp.Chosen >= 0 {
		st := sp.Steps[sp.Chosen]
		var terms []string
		for i, w := range st.Gamma {
			if w != 0 && i < len(e.Labels) {
				terms = append(terms, e.Labels[i]+" "+weight(w))
			}
		}
		d.para("Sparse goal (%s): %q with %s: %s. Validation %s, test %s.", sp.Rule, st.Goal, plural(st.Terms, "non-zero weight"), strings.Join(terms, ", "), meanStd(st.Val), meanStd(st.Test))
	} else {
		d.note("No goal on the path qualifies as the sparse goal (%s).", sp.Rule)
	}
	d.figure(sparsifyFigure(id, sp))
	t := &table{head: []string{"goal", "non-zero weights", "set to 0 at this step", "validation", "test", "seeds"}, numeric: []bool{false, true, false, true, true, true}}
	var rows []string
	var vals [][]float64
	for i, st := range sp.Steps {
		zs := strings.Join(st.Zeroed, " ")
		if zs == "" {
			zs = dash
		}
		t.rows = append(t.rows, []cell{{text: st.Goal, strong: i == sp.Chosen, heat: math.NaN()}, c(strconv.Itoa(st.Terms)), c(zs), c(meanStd(st.Val)), c(meanStd(st.Test)), c(strconv.Itoa(st.Val.N))})
		rows = append(rows, fmt.Sprintf("%d terms  %s", st.Terms, pct(st.Val.Mean)))
		vals = append(vals, st.Gamma)
	}
	d.add(t)
	d.figure(heatmapFigure(id+"-goals", "Goals along the sparsification path", "Each row is a goal on the path, the dense goal at the top; the label gives its non-zero weights and mean validation accuracy.", rows, e.Labels, vals))
}

// layoutEvals lists the evaluate and reproduce studies of a section.
func layoutEvals(d *doc, sid string, sec *Section) {
	var evals []int
	for i, e := range sec.Evals {
		if e.Sensitivity == nil && e.Sparsify == nil {
			evals = append(evals, i)
		}
	}
	if len(evals) == 0 {
		return
	}
	d.heading(3, sid+"-evals", "Evaluations on fresh seeds")
	for n, i := range evals {
		e := &sec.Evals[i]
		id := fmt.Sprintf("%s-e%d", sid, n+1)
		d.heading(4, id, e.Study)
		if e.Err != "" {
			d.note("This study cannot be read as an evaluation: %s", e.Err)
			continue
		}
		d.para("%s of %s: setup %s, %d hidden neurons, %s, %s; created %s; runs %s.", kindText(e.Kind), e.Group, e.Setup, e.Hidden, plural(e.Epochs, "epoch"), plural(len(e.Seeds), "seed"), stamp(e.Created), countsText(e.Counts))
		if e.Note != "" {
			d.para("Note: %s", sentence(e.Note))
		}
		if e.Counts.Total == 0 {
			d.note("No runs yet.")
			continue
		}
		if e.Counts.Complete == 0 {
			if e.Counts.Failed == e.Counts.Total {
				d.note("Every run failed.")
			} else {
				d.note("No run has completed yet.")
			}
		}
		t := &table{head: []string{"goal", "from trial", "runs", "validation", "test", "median test"}, numeric: []bool{false, true, false, true, true, true}}
		var curves []summary.Curve
		for _, g := range e.Goals {
			from := dash
			if g.Goal.Trial >= 0 {
				from = strconv.Itoa(g.Goal.Trial)
			}
			name := g.Goal.Name
			if g.Heuristic {
				name += " (heuristic)"
			}
			med := pctNum(g.Test.Median)
			if e.Synthetic {
				med = value(g.Test.Median, true)
			}
			t.rows = append(t.rows, []cell{c(name), c(from), c(runsText(g.Counts)), c(meanStdOf(g.Val, e.Synthetic)), c(meanStdOf(g.Test, e.Synthetic)), c(med)})
			if len(g.Curve.Epochs) > 1 && len(curves) < 8 {
				curves = append(curves, g.Curve)
			}
		}
		d.add(t)
		if len(e.Failures) > 0 {
			ft := &table{caption: "Why runs failed", head: []string{"reason", "runs"}, numeric: []bool{false, true}}
			for _, f := range e.Failures {
				ft.rows = append(ft.rows, []cell{c(f.Reason), c(strconv.Itoa(f.Count))})
			}
			d.add(ft)
		}
		if len(curves) > 0 {
			for i := range curves {
				curves[i].Val = nil // the test curve is what an evaluation adds
			}
			d.figure(curvesFigure(id+"-curves", "Test accuracy per epoch, mean over seeds", "Mean test accuracy over the seeds after each epoch"+moreGoals(len(e.Goals), len(curves))+".", curves, e.Synthetic))
		}
	}
}

func moreGoals(all, shown int) string {
	if all > shown {
		return fmt.Sprintf(" (the first %d of %d goals)", shown, all)
	}
	return ""
}

func kindText(k string) string {
	switch k {
	case summary.KindEvaluate:
		return "Re-training of goals"
	case summary.KindReproduce:
		return "Reproduction of the paper's comparison"
	}
	return "Evaluation (" + k + ")"
}

func runsText(n summary.Counts) string {
	t := fmt.Sprintf("%d/%d", n.Complete, n.Total)
	var extra []string
	if n.Failed > 0 {
		extra = append(extra, fmt.Sprintf("%d failed", n.Failed))
	}
	if n.Pruned > 0 {
		extra = append(extra, fmt.Sprintf("%d pruned", n.Pruned))
	}
	if n.Unfinished > 0 {
		extra = append(extra, fmt.Sprintf("%d to run", n.Unfinished))
	}
	if len(extra) > 0 {
		t += " (" + strings.Join(extra, ", ") + ")"
	}
	return t
}

func layoutComparison(d *doc, r *Report) {
	d.heading(2, "comparison", "Comparison of goals, presets and baselines")
	if len(r.Comparison) == 0 {
		d.note("No evaluated goals, presets or baselines in these studies, so there is nothing to compare: `goalsearch evaluate STUDY` re-trains a search's best goals, and `goalsearch reproduce` the paper's presets and baselines.")
		return
	}
	d.para("Test accuracy of every evaluated goal, mean ± standard deviation over seeds. Δ compares a goal with its setup's heuristic goal in the same table (difference of mean test accuracies); "+
		"p is two-sided, from Welch's t-test and from the Mann-Whitney U test (exact for small samples). The paper's values are medians over %d seeds after %d epochs, mostly read off a figure (≈).", setups.PaperSeeds, setups.PaperEpochs)
	for i, g := range r.Comparison {
		id := "cmp" + strconv.Itoa(i+1)
		d.heading(3, id, fmt.Sprintf("%d hidden neurons, %s", g.Hidden, plural(g.Epochs, "epoch")))
		if g.Epochs != setups.PaperEpochs {
			d.note("These runs are %s long; the paper's values are after %d epochs and not directly comparable.", plural(g.Epochs, "epoch"), setups.PaperEpochs)
		}
		if g.Hidden != 100 && g.Hidden != 2000 {
			d.note("The paper gives values for 100 and 2000 hidden neurons only.")
		}
		t := &table{head: []string{"setup", "goal", "from", "seeds", "validation", "test", "Δ test vs heuristic", "p (Welch)", "p (Mann-Whitney)", "paper (test)"},
			numeric: []bool{false, false, false, true, true, true, true, true, true, true}}
		var labels []string
		var samples []summary.Sample
		var paper []float64
		for j, row := range g.Rows {
			delta, pw, pu := dash, dash, dash
			if v := row.VsHeuristic; v != nil {
				delta, pw, pu = pp(v.Delta), pvalue(v.Welch.P), pvalue(v.MannWhitney.P)
			}
			goal := shortGoal(row.Goal, row.Setup)
			if row.Kind == "heuristic" {
				goal += " (heuristic)"
			}
			paperText := dash
			if row.PaperText != "" {
				paperText = row.PaperText
			}
			t.rows = append(t.rows, []cell{c(row.Setup), c(goal), c(source(row.Study, row.Setup)), c(strconv.Itoa(row.Test.N)), c(meanStd(row.Val)),
				{text: meanStd(row.Test), strong: j == g.Best, heat: math.NaN()}, c(delta), c(pw), c(pu), c(paperText)})
			labels = append(labels, row.Setup+": "+shortGoal(row.Goal, row.Setup)+" ("+strings.SplitN(row.Study, "/", 2)[0]+")")
			samples = append(samples, row.Test)
			paper = append(paper, row.Paper)
		}
		t.caption = "The best mean test accuracy is in bold. \"from\" is the evaluation study, without its setup and hidden size."
		d.add(t)
		d.figure(dotsFigure(id, fmt.Sprintf("Test accuracy, %d hidden neurons, %s", g.Hidden, plural(g.Epochs, "epoch")),
			fmt.Sprintf("Mean test accuracy over seeds (bars: ± one standard deviation); rings mark the paper's published value for the same setup and kind of goal (%d epochs).", setups.PaperEpochs),
			"test accuracy (%)", labels, samples, paper, fmt.Sprintf("paper (%d epochs)", setups.PaperEpochs)))
		layoutPaired(d, g)
	}
}

// layoutPaired is the comparison of a group's goals with the report's
// reference goal on the seeds both ran, when the group holds it.
func layoutPaired(d *doc, g summary.ComparisonGroup) {
	ref := ""
	for _, row := range g.Rows {
		if row.VsReference != nil {
			ref = row.VsReference.Reference
			break
		}
	}
	if ref == "" {
		return
	}
	d.para("Paired by seed against %s: evaluation runs on one seed share the data split and order, so the per-seed difference of test accuracies removes the spread the goals have in common. "+
		"Δ is the median (and mean) over the seeds both ran; p is two-sided, from the paired t-test.", ref)
	t := &table{head: []string{"setup", "goal", "from", "paired seeds", "median Δ test", "mean Δ test", "ahead on", "p (paired t)"},
		numeric: []bool{false, false, false, true, true, true, true, true}}
	for _, row := range g.Rows {
		v := row.VsReference
		if v == nil {
			continue
		}
		t.rows = append(t.rows, []cell{c(row.Setup), c(shortGoal(row.Goal, row.Setup)), c(source(row.Study, row.Setup)), c(strconv.Itoa(v.Seeds)),
			c(pp(v.Median)), c(pp(v.Mean)), c(fmt.Sprintf("%d of %d", v.Ahead, v.Seeds)), c(pvalue(v.T.P))})
	}
	d.add(t)
}

// source shortens an evaluation study's name for a table whose rows give
// the setup and hidden size: ctxlat/evaluate/context-lateral/h100 ->
// ctxlat/evaluate.
func source(study, setup string) string {
	if i := strings.LastIndex(study, "/"+setup+"/h"); i > 0 {
		return study[:i]
	}
	return study
}

// shortGoal drops the setup prefix of a preset's name for plot labels.
func shortGoal(goal, setup string) string {
	if g, ok := strings.CutPrefix(goal, setup+"/"); ok {
		return g
	}
	if goal == setup {
		return "baseline"
	}
	return goal
}

func layoutPaper(d *doc) {
	d.heading(2, "paper", "Published values")
	d.para("%s. %s", setups.PaperCitation, setups.PaperProtocol)
	t := &table{head: []string{"setup (goal)", "100 neurons", "2000 neurons", "kind"}, numeric: []bool{false, true, true, false}}
	for _, r := range setups.PaperResults() {
		kind := "read off"
		if r.Exact {
			kind = "exact"
		}
		t.rows = append(t.rows, []cell{c(r.Label), c(r.Text100), c(r.Text2000), c(kind)})
	}
	t.caption = "Test accuracy by setup and hidden size."
	d.add(t)
	if s, ok := setups.PaperSensitivitySetup(); ok {
		ps := s.Sensitivity
		var zs []string
		for k := range ps.Zeroed {
			zs = append(zs, k)
		}
		slices.SortFunc(zs, func(a, b string) int {
			return cmpFloat(ps.Zeroed[a], ps.Zeroed[b])
		})
		var items []string
		for _, k := range zs {
			items = append(items, fmt.Sprintf("%s set to 0: %s", k, pctNum(ps.Zeroed[k])))
		}
		d.para("Goal sensitivity (%s, the paper's optimised goal, 100 neurons, validation accuracy, exact): baseline %s; %s %s",
			s.Name, pctNum(ps.Baseline), strings.Join(items, ", ")+".", ps.Summary)
	}
	d.para("The paper's search: %s", setups.PaperSearch)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sentence ends s with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
