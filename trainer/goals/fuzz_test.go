package goals

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fuzzSetup picks one of the setups with a goal by a fuzzed byte.
func fuzzSetup(i uint8) string {
	s := Setups()
	return s[int(i)%len(s)]
}

// FuzzParseYAML: a goal file never panics or hangs the parser; what it
// accepts is a goal of the setup's length with finite weights, and what it
// refuses it refuses naming the file.
func FuzzParseYAML(f *testing.F) {
	for _, s := range []string{
		"gamma: [0, 1, 0, 0, 0]\n",
		"setup: context\natoms:\n  \"{F}{C}\": 1\n  \"{2}\": 0.5\n",
		"atoms: {\"{1}{2}{3}\": .inf}\n",
		"gamma: [.nan, 0, 0, 0, 0]\n",
		"gamma: [1e400, 0, 0, 0, 0]\n",
		"gamma: &a [1, *a]\n",
		"a: &a [*a, *a]\n",
		"gamma: [0, 1, 0, 0, 0]\natoms: {}\n",
		"gama: [1]\n",
		"---\n---\n",
		"",
		"\t",
		"gamma: !!binary AAAA\n",
		"atoms: {\"{F}{C}\": 1, \"{F}{C}\": 2}\n",
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		setup := fuzzSetup(which)
		labels, err := Labels(setup)
		if err != nil {
			t.Fatal(err)
		}
		expect := func() string { return "the setup's weights" }
		start := time.Now()
		g, err := parseYAML(b, "goal.yaml", setup, labels, expect)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("parsing %d bytes took %v", len(b), d)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "goal.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if err := Check(g, setup); err != nil {
			t.Fatalf("accepted %v: %v", g, err)
		}
	})
}

// FuzzParse: a --goal argument never panics the parser; an accepted one
// is a valid goal of the setup.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"context/naive", "naive", "0.1, -0.2,1,0,0", "1,2,3", "0,0,NaN,0,0", "Inf,0,0,0,0",
		"1e309,0,0,0,0", ",,,,", "opt_9", "0x1p-2,0,0,0,0", "1_0,0,0,0,0", " "} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, spec string, which uint8) {
		if strings.HasSuffix(spec, ".yaml") || strings.HasSuffix(spec, ".yml") {
			return // a file name: FuzzParseYAML reads files' contents
		}
		setup := fuzzSetup(which)
		g, err := Parse(spec, setup)
		if err != nil {
			return
		}
		if err := Check(g, setup); err != nil {
			t.Fatalf("Parse(%q, %s) = %v: %v", spec, setup, g, err)
		}
		if _, ok := Lookup(strings.TrimSpace(spec), setup); !ok && len(g) != strings.Count(spec, ",")+1 {
			t.Fatal(fmt.Sprintf("Parse(%q) gave %d weights", spec, len(g)))
		}
	})
}
