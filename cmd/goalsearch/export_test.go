package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"goalsearch/store"
)

// A study exported as JSON reads back as the same study with every trial,
// to standard output or to a file; imported into another store it is the
// same study there, under its name or another.
func TestExportImportCommands(t *testing.T) {
	db := busyStore(t)
	code, out, errs := runCmd(t, "export", "s", "--store", db)
	if code != 0 || errs != "" {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	d, err := store.ReadJSON(strings.NewReader(out))
	if err != nil {
		t.Fatalf("export is not an export file: %v\n%.200s", err, out)
	}
	if d.Study.Name != "s" || d.Study.Setup.Name != "context" || len(d.Trials) != 5 || *d.Trials[1].Value != 0.93 || d.Trials[2].Reason != "training diverged" {
		t.Fatalf("exported %s with %d trials: %+v", d.Study.Name, len(d.Trials), d.Trials)
	}
	file := filepath.Join(t.TempDir(), "s.json")
	if code, out, errs := runCmd(t, "export", "s", "--store", db, "-o", file); code != 0 || out != "" {
		t.Fatalf("export -o: exit %d, stdout %q: %s", code, out, errs)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != out {
		t.Errorf("the file differs from standard output: %v", err)
	}

	other := filepath.Join(t.TempDir(), "other.db")
	code, msg, errs := runCmd(t, "import", file, "--store", other)
	if code != 0 || msg != "imported study s into "+other+"\n" {
		t.Fatalf("import: exit %d, %q: %s", code, msg, errs)
	}
	_, want, _ := runCmd(t, "trials", "s", "--store", db, "--json")
	if _, got, _ := runCmd(t, "trials", "s", "--store", other, "--json"); got != want {
		t.Error("the imported study's trials differ from the exported ones")
	}
	// Again: the name is taken, unless replaced or renamed.
	if code, _, errs := runCmd(t, "import", file, "--store", other); code != 1 || !strings.Contains(errs, "exists") {
		t.Errorf("second import: exit %d, %q", code, errs)
	}
	if code, _, errs := runCmd(t, "import", file, "--store", other, "--replace"); code != 0 {
		t.Errorf("--replace: exit %d, %q", code, errs)
	}
	if code, msg, _ := runCmd(t, "import", file, "--store", other, "--name", "copy"); code != 0 || !strings.Contains(msg, "imported study copy") {
		t.Errorf("--name copy: exit %d, %q", code, msg)
	}
	if _, out, _ := runCmd(t, "status", "--store", other); !strings.Contains(out, "copy ") || !strings.Contains(out, "\ns ") {
		t.Errorf("status after the imports:\n%s", out)
	}
}

// CSV has a header naming the goal's atoms and the final metrics, then one
// row per trial in number order.
func TestExportCSV(t *testing.T) {
	db := busyStore(t)
	code, out, errs := runCmd(t, "export", "s", "--store", db, "--format", "csv")
	if code != 0 {
		t.Fatalf("export --format csv: exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 6 {
		t.Fatalf("%d rows, %v\n%s", len(rows), err, out)
	}
	head := strings.Join(rows[0], ",")
	if head != "number,state,generation,seed,value,{F},{C},{F}{C},{FC},H_res,epochs,wall_seconds,final_val_acc,reason" {
		t.Errorf("header %s", head)
	}
	if got := strings.Join(rows[2], ","); got != "1,complete,0,1,0.93,0,0,1,0.25,0,2,60,0.93," {
		t.Errorf("trial 1: %s", got)
	}
	if got := rows[3]; got[1] != "failed" || got[4] != "" || got[len(got)-1] != "training diverged" {
		t.Errorf("trial 2: %v", got)
	}
}

func TestExportImportErrors(t *testing.T) {
	db := reportStore(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"format": "something else"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"export", "--store", db}, 2, "want one study name"},
		{[]string{"export", "s", "--store", db, "--format", "xml"}, 2, `--format "xml": want json or csv`},
		{[]string{"export", "nope", "--store", db}, 1, `"nope"`},
		{[]string{"export", "s", "--store", db, "-o", filepath.Join(t.TempDir(), "no", "such", "dir.json")}, 1, "no such file or directory"},
		{[]string{"import", "--store", db}, 2, "want one JSON export or YAML goal file"},
		{[]string{"import", filepath.Join(t.TempDir(), "missing.json"), "--store", db}, 1, "missing.json"},
		{[]string{"import", bad, "--store", db}, 1, "bad.json"},
	} {
		code, out, errs := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) || out != "" {
			t.Errorf("%v: exit %d, stdout %.60q, stderr %q; want %d and %q", c.args, code, out, errs, c.code, c.msg)
		}
	}
}
