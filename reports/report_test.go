package reports

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"math/rand/v2"

	"goalsearch/store"
	"goalsearch/store/boltstore"
	"goalsearch/summary"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files from the current output")

// golden compares got with testdata/name, or rewrites the file with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the golden file at line %d:\n got: %s\nwant: %s\n(run go test ./reports -update if the change is intended)", name, i+1, g, w)
			}
		}
	}
}

// stubDraw stands in for gonum/plot in renderer goldens, which must not
// change when the plotting library does; the plots are tested on their own.
func stubDraw(f *figure) ([]byte, error) {
	return []byte(fmt.Sprintf("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"40\" viewBox=\"0 0 120 40\"><text x=\"4\" y=\"24\">%s</text></svg>\n", esc(f.id))), nil
}

func collectFixture(t *testing.T, names ...string) *Report {
	t.Helper()
	st, _ := fixtureStore(t)
	r, err := Collect(context.Background(), st, names, &Options{Title: "goalsearch report: fixture"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func renderBoth(t *testing.T, r *Report, name string) {
	t.Helper()
	d := layout(r)
	var h bytes.Buffer
	if err := writeHTML(&h, d, stubDraw); err != nil {
		t.Fatal(err)
	}
	golden(t, name+".html.golden", h.Bytes())
	var m bytes.Buffer
	figs, err := writeMarkdown(&m, d, "report_files", stubDraw)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, name+".md.golden", m.Bytes())
	if len(figs) != len(d.figures()) {
		t.Errorf("markdown returned %d figures, the layout has %d", len(figs), len(d.figures()))
	}
	for _, f := range figs {
		if !strings.Contains(m.String(), "(report_files/"+f.Name+")") {
			t.Errorf("figure %s is not linked from the markdown", f.Name)
		}
	}
}

func TestReportGolden(t *testing.T) {
	renderBoth(t, collectFixture(t, "ctxlat", "presets"), "full")
}

// A study without trials, one whose trials all failed and one without
// evaluations are reported in words.
func TestReportEdgeCasesGolden(t *testing.T) {
	r := collectFixture(t, "empty", "allfailed", "sphere")
	renderBoth(t, r, "edge")
	var h bytes.Buffer
	if err := writeHTML(&h, layout(r), stubDraw); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"The study has no trials yet",
		"All 3 trials failed, so no goal can be ranked.",
		"No evaluation studies",
		"nothing to compare",
	} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("the report does not say %q", want)
		}
	}
}

func TestCollectUnknownName(t *testing.T) {
	st, _ := fixtureStore(t)
	_, err := Collect(context.Background(), st, []string{"nope"}, nil)
	if !errors.Is(err, store.ErrStudyNotFound) {
		t.Fatalf("err = %v, want ErrStudyNotFound", err)
	}
}

// TestCollectContent checks what the fixture's numbers imply, independently
// of any renderer.
func TestCollectContent(t *testing.T) {
	r := collectFixture(t, "ctxlat", "presets")
	if len(r.Sections) != 2 || r.Sections[0].Search == nil || r.Sections[1].Search != nil {
		t.Fatalf("sections: %+v", r.Sections)
	}
	s := r.Sections[0].Search
	if s.Counts != (summary.Counts{Total: 12, Complete: 8, Pruned: 1, Failed: 2, Unfinished: 1}) {
		t.Errorf("counts %+v", s.Counts)
	}
	for i := 1; i < len(s.Leaderboard); i++ {
		if s.Leaderboard[i].Value > s.Leaderboard[i-1].Value {
			t.Errorf("leaderboard not sorted at rank %d", i+1)
		}
	}
	if s.Best == nil || s.Best.Eval == nil || s.Best.Eval.Test.N != 4 {
		t.Fatalf("best %+v: want its evaluation on 4 seeds", s.Best)
	}
	if len(s.Free) != 18 || len(s.Fixed) != 1 || s.Fixed[0] != "H_res = 0" {
		t.Errorf("free %v fixed %v", s.Free, s.Fixed)
	}
	// History: best-so-far never decreases, failed trials have no value.
	prev := math.Inf(-1)
	for _, h := range s.History {
		if !math.IsNaN(h.BestSoFar) && h.BestSoFar < prev {
			t.Errorf("best so far decreases at trial %d", h.Trial)
		}
		if !math.IsNaN(h.BestSoFar) {
			prev = h.BestSoFar
		}
		if h.State == store.Failed && !math.IsNaN(h.Value) {
			t.Errorf("failed trial %d has value %v", h.Trial, h.Value)
		}
	}
	if s.Profile == nil || s.Profile.Heuristic == nil || !strings.Contains(s.Profile.HeuristicFrom, "context-lateral/naive") {
		t.Errorf("profile: %+v", s.Profile)
	}
	// Importance: one row per searched weight (18; H_res is fixed), from the 8 complete trials.
	if s.Importance == nil || s.Importance.Trials != 8 || len(s.Importance.Rows) != 18 {
		t.Errorf("importance %+v: want 18 rows from 8 trials", s.Importance)
	}
	// Sign agreement counts every leaderboard goal once per atom.
	for _, row := range s.Signs.Atoms {
		if row.Positive+row.Negative+row.Zero != len(s.Leaderboard) {
			t.Errorf("%s: %d+%d+%d signs for %d goals", row.Atom, row.Positive, row.Negative, row.Zero, len(s.Leaderboard))
		}
	}

	var sens *summary.Sensitivity
	var sparse *summary.Sparsification
	for _, e := range r.Sections[0].Evals {
		if e.Sensitivity != nil {
			sens = e.Sensitivity
		}
		if e.Sparsify != nil {
			sparse = e.Sparsify
		}
	}
	// The fixture's losses: {F}{C}{L}... by construction index 2 loses
	// most, then 1, then 0, and 11 gains.
	if sens == nil || len(sens.Rows) != 4 {
		t.Fatalf("sensitivity %+v", sens)
	}
	for i := 1; i < len(sens.Rows); i++ {
		if sens.Rows[i].Zero.DeltaVal < sens.Rows[i-1].Zero.DeltaVal {
			t.Errorf("sensitivity not ranked at %d", i)
		}
	}
	if sens.Rows[0].Rank != 1 || sens.Rows[len(sens.Rows)-1].Zero.DeltaVal <= 0 {
		t.Errorf("ranking: %+v", sens.Rows)
	}
	plusFound := false
	for _, row := range sens.Rows {
		plusFound = plusFound || row.Plus != nil
	}
	if !plusFound {
		t.Error("the +0.1 variant is not attached to its weight")
	}
	// The analysis's rounded goal is the sparse goal.
	if sparse == nil || sparse.Chosen != len(sparse.Steps)-1 || sparse.Steps[sparse.Chosen].Terms != 4 || len(sparse.Steps) != 17 {
		t.Fatalf("sparse goal: %+v", sparse)
	}

	// The comparison: one group (100 neurons, 3 epochs) whose optimised
	// goals are tested against their setup's heuristic, with the same
	// numbers as calling the tests directly.
	if len(r.Comparison) != 1 {
		t.Fatalf("%d comparison groups", len(r.Comparison))
	}
	g := r.Comparison[0]
	var ref *summary.ComparisonRow
	for i := range g.Rows {
		if g.Rows[i].Kind == "heuristic" && g.Rows[i].Setup == "context-lateral" && g.Rows[i].Study == "ctxlat/evaluate/context-lateral/h100" {
			ref = &g.Rows[i]
		}
	}
	if ref == nil {
		t.Fatal("no heuristic row for context-lateral")
	}
	n := 0
	for _, row := range g.Rows {
		if row.Study != ref.Study || row.Kind == "heuristic" {
			continue
		}
		n++
		want := summary.WelchT(row.Test.Values, ref.Test.Values)
		if row.VsHeuristic == nil || row.VsHeuristic.Welch.P != want.P || row.VsHeuristic.Reference != ref.Study+": "+ref.Goal {
			t.Errorf("%s: vs heuristic %+v, want p %v against %s", row.Goal, row.VsHeuristic, want.P, ref.Goal)
		}
	}
	if n != 2 {
		t.Errorf("%d optimised rows of the evaluation", n)
	}
	if g.Best < 0 || g.Rows[g.Best].Setup != "backprop" {
		t.Errorf("best row %d", g.Best)
	}
	for _, row := range g.Rows {
		if row.Setup == "backprop" && (row.PaperText != "≈ 95.5 %" || row.Kind != "baseline") {
			t.Errorf("backprop row: %+v", row)
		}
	}
}

func TestCollectAll(t *testing.T) {
	st, _ := fixtureStore(t)
	r, err := CollectAll(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range r.Sections {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "allfailed ctxlat empty sphere presets" {
		t.Errorf("sections %s", got)
	}
}

var (
	externalRef = regexp.MustCompile(`(?i)(url\(|@import|<image|<script|<foreignObject|href=)`)
	xmlnsAttr   = regexp.MustCompile(`xmlns(:\w+)?="[^"]*"`)
)

// TestFiguresDraw draws every figure of the fixture's reports with
// gonum/plot and checks that each is well-formed SVG with its labels, and
// refers to nothing outside itself (no fonts, images or links to fetch).
func TestFiguresDraw(t *testing.T) {
	for _, names := range [][]string{{"ctxlat", "presets"}, {"empty", "allfailed", "sphere"}} {
		d := layout(collectFixture(t, names...))
		for _, f := range d.figures() {
			svg, err := drawSVG(f)
			if err != nil {
				t.Errorf("%s: %v", f.id, err)
				continue
			}
			dec := xml.NewDecoder(bytes.NewReader(svg))
			texts := 0
			for {
				tok, err := dec.Token()
				if err != nil {
					if err.Error() != "EOF" {
						t.Errorf("%s: not well-formed XML: %v", f.id, err)
					}
					break
				}
				if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "text" {
					texts++
				}
			}
			if texts < 3 {
				t.Errorf("%s: only %d text elements (title and axis labels missing?)", f.id, texts)
			}
			rest := xmlnsAttr.ReplaceAll(svg, nil)
			if m := externalRef.Find(rest); m != nil {
				t.Errorf("%s: refers outside itself: %s", f.id, m)
			}
			if bytes.Contains(rest, []byte("http")) {
				t.Errorf("%s: contains an address", f.id)
			}
		}
	}
	// The heatmap labels its atoms.
	d := layout(collectFixture(t, "ctxlat"))
	for _, f := range d.figures() {
		if f.id == "s1-goals" {
			svg, _ := drawSVG(f)
			for _, l := range []string{"{F}{CL}", "{FC}{FL}", "{F}"} {
				if !bytes.Contains(svg, []byte(">"+l+"<")) {
					t.Errorf("heatmap lacks the atom label %s", l)
				}
			}
		}
	}
}

func TestClipLimit(t *testing.T) {
	// A collapse (-73.8 pp) among changes of about a point is cut at 2.5
	// times the 80th percentile of the magnitudes (index int(0.8*12) = 9 of
	// the 13 sorted magnitudes: 1.1), so at 2.75; ordinary spreads are not.
	collapse := []float64{-73.8, -4.4, 0.1, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.3}
	if lim := clipLimit(collapse); math.Abs(lim-2.75) > 1e-12 {
		t.Errorf("collapse: limit %v, want 2.75", lim)
	}
	if lim := clipLimit([]float64{-1.38, -0.6, -0.12, 0.09}); !math.IsInf(lim, 1) {
		t.Errorf("ordinary: limit %v, want none", lim)
	}
}

// Two searches of the same setup: the report compares their best goals'
// signs; a study of another setup is left out of that comparison.
func TestAgreementAcrossStudies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.db")
	st, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	labels := mustLabels(t, "context")
	mk := func(name string, best, other []float64) {
		d := store.Dump{Study: searchStudy(name, "context", labels, 100, 10)}
		d.Study.CreatedAt, d.Study.SchemaVersion = t0, store.SchemaVersion
		d.Trials = []store.Trial{run(rng, 0, other, 1, 1, 10, 0.80, -1, false), run(rng, 1, best, 2, 1, 10, 0.90, -1, false)}
		for i := range d.Trials {
			d.Trials[i].Study = name
		}
		if err := st.Import(context.Background(), d, false); err != nil {
			t.Fatal(err)
		}
	}
	// {F} flips sign between the two best goals, {C}, {F}{C} and {FC} agree.
	mk("a", []float64{0.5, 0.3, 1, 0.2, 0}, []float64{-1, -1, -1, -1, 0})
	mk("b", []float64{-0.4, 0.6, 0.8, 0.1, 0}, []float64{1, 1, 1, 1, 0})
	r, err := Collect(context.Background(), st, []string{"a", "b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Agreement) != 1 || len(r.Agreement[0].Studies) != 2 {
		t.Fatalf("agreement %+v", r.Agreement)
	}
	rows := r.Agreement[0].Signs.Atoms
	if rows[0].Atom != "{F}" || rows[0].MajorityShare != 0.5 || rows[2].Atom != "{F}{C}" || rows[2].MajorityShare != 1 || rows[2].Majority != 1 {
		t.Errorf("rows %+v", rows)
	}
	var b strings.Builder
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Sign agreement across studies") || !strings.Contains(b.String(), "agree in sign on 3 atoms") {
		t.Error("the HTML report lacks the agreement across studies")
	}
}

// TestCollectAgainst checks the paired comparison with a reference goal:
// every other row with common seeds gets the per-seed differences, the
// markdown shows them, and an unknown name is an error naming it.
func TestCollectAgainst(t *testing.T) {
	st, _ := fixtureStore(t)
	r, err := Collect(context.Background(), st, []string{"ctxlat", "presets"}, &Options{Against: "context-lateral/naive"})
	if err != nil {
		t.Fatal(err)
	}
	g := r.Comparison[0]
	ref := -1
	for i, row := range g.Rows {
		if row.Is("context-lateral/naive") {
			ref = i
			break
		}
	}
	if ref < 0 {
		t.Fatal("no context-lateral/naive row")
	}
	paired := 0
	for i, row := range g.Rows {
		v := row.VsReference
		if i == ref {
			if v != nil {
				t.Error("the reference is compared with itself")
			}
			continue
		}
		if v == nil {
			continue
		}
		paired++
		var d []float64
		ahead := 0
		for seed, x := range row.TestBySeed {
			if y, ok := g.Rows[ref].TestBySeed[seed]; ok {
				d = append(d, x-y)
				if x > y {
					ahead++
				}
			}
		}
		if v.Seeds != len(d) || v.Ahead != ahead || math.Abs(v.Mean-summary.NewSample(d).Mean) > 1e-15 || v.T.P < 0 || v.T.P > 1 {
			t.Errorf("%s: paired %+v, want %d seeds, %d ahead, mean of %v", row.Goal, v, len(d), ahead, d)
		}
	}
	if paired == 0 {
		t.Fatal("no row was paired with the reference")
	}
	var md bytes.Buffer
	if _, err := WriteMarkdown(&md, r, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "Paired by seed against") || !strings.Contains(md.String(), "p (paired t)") {
		t.Error("the markdown has no paired table")
	}
	if _, err := Collect(context.Background(), st, []string{"ctxlat"}, &Options{Against: "nosuch"}); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("unknown --against: %v", err)
	}
}
