package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, streams{strings.NewReader(""), &out, &errb})
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPIDCommandXOR(t *testing.T) {
	code, out, errs := runCmd(t, "pid", "../../docs/examples/xor.csv", "--sources", "a,b", "--target", "y", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkJSONConventions(t, "pid --json", out)
	var rep pidReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// XOR under I^sx (golden/pid_vectors.json closed forms): unique
	// log2(3/2) each, redundancy log2(2/3), synergy 2 - log2(3).
	want := map[string]float64{"{a}": math.Log2(1.5), "{b}": math.Log2(1.5), "{a}{b}": math.Log2(2.0 / 3), "{ab}": 2 - math.Log2(3)}
	if len(rep.Atoms) != 4 || rep.Samples != 4 {
		t.Fatalf("report %+v", rep)
	}
	for _, a := range rep.Atoms {
		if math.Abs(a.Bits-want[a.Named]) > 1e-8 {
			t.Errorf("%s = %v, want %v", a.Named, a.Bits, want[a.Named])
		}
	}
	if math.Abs(rep.MI-1) > 1e-8 || math.Abs(rep.HT-1) > 1e-8 || math.Abs(rep.HRes) > 1e-8 {
		t.Errorf("I %v H %v H_res %v", rep.MI, rep.HT, rep.HRes)
	}

	code, out, _ = runCmd(t, "pid", "../../docs/examples/xor.csv", "--sources", "a,b", "--target", "y")
	if code != 0 || !strings.Contains(out, "{1}{2}        {a}{b}           -0.584963") || !strings.Contains(out, "H_res") {
		t.Errorf("table output:\n%s", out)
	}
}

// A continuous source is binned, the target may have any number of values.
func TestPIDCommandBinning(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,z,label\n")
	for i := 0; i < 300; i++ {
		x := float64(i) / 299 // 0..1, 3 equal bins
		lab := []string{"low", "mid", "high"}[min(int(x*3), 2)]
		b.WriteString(strings.Join([]string{strconv.FormatFloat(x, 'f', -1, 64), strconv.Itoa(i % 2), lab}, ",") + "\n")
	}
	p := writeFile(t, "d.csv", b.String())
	code, out, errs := runCmd(t, "pid", p, "--sources", "x,z", "--target", "label", "--bins", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep pidReport
	json.Unmarshal([]byte(out), &rep)
	// label is a function of x's bin: I(T;S) = H(T) = log2(3), all unique to x.
	if math.Abs(rep.MI-math.Log2(3)) > 1e-6 || rep.Target.Bins != 3 || rep.Sources[0].Kind != "continuous" {
		t.Fatalf("MI %v, target %+v, source %+v", rep.MI, rep.Target, rep.Sources[0])
	}
	if math.Abs(rep.SumAtoms-rep.MI) > 1e-12 || math.Abs(rep.HRes) > 1e-6 {
		t.Errorf("atoms sum to %v, I(T;S) %v, H_res %v", rep.SumAtoms, rep.MI, rep.HRes)
	}
}

func TestPIDCommandErrors(t *testing.T) {
	good := "../../docs/examples/xor.csv"
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"one source", []string{"pid", good, "--sources", "a", "--target", "y"}, 2, "--sources: 1 columns given, want 2 to 4"},
		{"no target", []string{"pid", good, "--sources", "a,b"}, 2, "--target"},
		{"no file", []string{"pid", "--sources", "a,b", "--target", "y"}, 2, "want one CSV file"},
		{"unknown flag", []string{"pid", good, "--bogus"}, 2, "unknown flag: --bogus"},
		{"unknown column", []string{"pid", good, "--sources", "a,q", "--target", "y"}, 1, `no column "q" (the header has: a, b, y)`},
		{"missing file", []string{"pid", "nope.csv", "--sources", "a,b", "--target", "y"}, 1, "nope.csv"},
		{"malformed", []string{"pid", writeFile(t, "m.csv", "a,b,y\n0,1,1\n0,1\n"), "--sources", "a,b", "--target", "y"}, 1, "line 3: wrong number of fields"},
		{"continuous target", []string{"pid", writeFile(t, "c.csv", "a,b,y\n0,1,1\n0,1,0.5\n"), "--sources", "a,b", "--target", "y"}, 1, `target column "y" is continuous (line 3: "0.5")`},
		{"NaN", []string{"pid", writeFile(t, "n.csv", "a,b,y\n0.5,1,1\nNaN,1,0\n"), "--sources", "a,b", "--target", "y"}, 1, `line 3, column "a": "NaN" is not a finite number`},
		{"empty value", []string{"pid", writeFile(t, "e.csv", "a,b,y\n0,,1\n"), "--sources", "a,b", "--target", "y"}, 1, `line 2, column "b": empty value`},
		{"header only", []string{"pid", writeFile(t, "h.csv", "a,b,y\n"), "--sources", "a,b", "--target", "y"}, 1, "no data rows"},
		{"same column twice", []string{"pid", good, "--sources", "a,y", "--target", "y"}, 1, `column "y" is used twice`},
	}
	for _, c := range cases {
		code, out, errs := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) || out != "" {
			t.Errorf("%s: exit %d (want %d), stderr %q, stdout %q; want message %q", c.name, code, c.code, errs, out, c.msg)
		}
	}
}
