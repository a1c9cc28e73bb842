package setups

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range All() {
		if s.Name == "" || seen[s.Name] || s.Summary == "" {
			t.Errorf("setup %q: duplicate, unnamed or without a summary", s.Name)
		}
		seen[s.Name] = true
		got, ok := Lookup(s.Name)
		if !ok || got.Name != s.Name || IsSynthetic(s.Name) != (s.Kind == Synthetic) {
			t.Errorf("Lookup(%q) = %v, %v", s.Name, got.Name, ok)
		}
		switch s.Kind {
		case Synthetic:
			if s.Sources != nil || s.Network() || s.TakesGoal() || s.Paper != nil || s.Reproduce != nil {
				t.Errorf("synthetic %s describes a network", s.Name)
			}
			continue
		case Infomorphic, Baseline:
		default:
			t.Errorf("%s: kind %d", s.Name, s.Kind)
		}
		if n := len(s.Sources); n < 2 || n > 3 || s.Steps < 1 {
			t.Errorf("%s: %d sources, %d steps", s.Name, n, s.Steps)
		}
		var letters []string
		for _, src := range s.Sources {
			letters = append(letters, src.Name)
		}
		if sorted := slices.Sorted(slices.Values(letters)); len(slices.Compact(sorted)) != len(letters) {
			t.Errorf("%s: sources %v share a name", s.Name, letters)
		}
		if s.PresetsOf != "" {
			p, ok := Lookup(s.PresetsOf)
			if !ok || !p.TakesGoal() || p.PresetsOf != "" || len(p.Sources) != len(s.Sources) {
				t.Errorf("%s takes the presets of %q, which is not an infomorphic setup of as many sources with presets of its own", s.Name, s.PresetsOf)
			}
			for i := range p.Sources {
				if p.Sources[i].Name != s.Sources[i].Name {
					t.Errorf("%s and %s name their sources differently: the presets' labels would not fit", s.Name, p.Name)
				}
			}
		}
		if s.TakesGoal() == (len(s.Reproduce) == 0) {
			t.Errorf("%s: reproduced with %v", s.Name, s.Reproduce)
		}
	}
	if _, ok := Lookup("nope"); ok || IsSynthetic("nope") {
		t.Error("an unknown setup was found")
	}
	// The order is the paper's: infomorphic setups, baselines, synthetic.
	want := "context lateral context-lateral context-lateral-feedback random-projection backprop"
	if got := strings.Join(Names(Infomorphic, Baseline), " "); got != want {
		t.Errorf("networks %s, want %s", got, want)
	}
	// The registry cannot be changed through what it returns.
	a := All()
	a[0].Sources[0].Name = "X"
	a[2].Sensitivity.Zeroed["{F}"] = 0
	if s, _ := Lookup(a[0].Name); s.Sources[0].Name != "F" {
		t.Error("All shares the registry's sources")
	}
	if s, _ := PaperSensitivitySetup(); s.Sensitivity.Zeroed["{F}"] != 0.9463 {
		t.Error("All shares the registry's sensitivity")
	}
}

// The paper's table, assembled from the entries, is the one in the notes
// on the paper (testdata/paper_results.md is a copy of them): every row, in
// order, with the published texts.
func TestPaperResults(t *testing.T) {
	f, err := os.Open("testdata/paper_results.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want [][]string
	sc := bufio.NewScanner(f)
	inTable := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## Test accuracy by setup"):
			inTable = true
		case strings.HasPrefix(line, "## "):
			inTable = false
		case inTable && strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| setup"):
			var cells []string
			for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
				cells = append(cells, strings.TrimSpace(c))
			}
			want = append(want, cells)
		}
	}
	got := PaperResults()
	if len(got) != len(want) || len(want) != 12 {
		t.Fatalf("%d rows, the notes have %d", len(got), len(want))
	}
	for i, r := range got {
		kind := "read off"
		if r.Exact {
			kind = "exact"
		}
		if r.Row != i+1 || r.Label != want[i][0] || r.Text100 != want[i][1] || r.Text2000 != want[i][2] || kind != want[i][3] {
			t.Errorf("row %d: %q %q %q %q, the notes: %q", i+1, r.Label, r.Text100, r.Text2000, kind, want[i])
		}
		// Only the sparse-lateral row has no number at 100 neurons.
		if v, text, ok := r.At(100); text != r.Text100 || ok != (r.Goal != "sparse") || (ok && !(v > 0.8 && v < 1)) {
			t.Errorf("row %d at 100 neurons: %v %q %v", i+1, v, text, ok)
		}
	}
	s, ok := PaperSensitivitySetup()
	if !ok || s.Name != "context-lateral" || s.Sensitivity.Baseline != 0.948 || len(s.Sensitivity.Zeroed) != 7 {
		t.Errorf("sensitivity: %+v", s)
	}
}
