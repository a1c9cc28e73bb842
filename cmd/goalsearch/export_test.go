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

// An Optuna journal is one JSON operation per line: the study first, then
// each trial's creation, params, intermediate values, attributes and state.
// (store's TestOptunaJournal replays it as Optuna does; with Python,
// scripts/check_optuna_journal.py loads it with Optuna itself.)
func TestExportOptunaJournal(t *testing.T) {
	db := busyStore(t)
	file := filepath.Join(t.TempDir(), "s.log")
	if code, out, errs := runCmd(t, "export", "s", "--store", db, "--format", "optuna-journal", "-o", file); code != 0 || out != "" {
		t.Fatalf("export --format optuna-journal: exit %d, %q: %s", code, out, errs)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if !strings.HasPrefix(lines[0], `{"op_code":0,"worker_id":"goalsearch-export","study_name":"s","directions":[2]}`) {
		t.Errorf("first line %s", lines[0])
	}
	creates := 0
	for _, l := range lines {
		if strings.HasPrefix(l, `{"op_code":4,`) {
			creates++
		}
	}
	if creates != 5 {
		t.Errorf("%d trials created in the journal, want 5", creates)
	}
	// A missing study leaves no file behind.
	if code, _, _ := runCmd(t, "export", "nope", "--store", db, "--format", "optuna-journal", "-o", file); code != 1 {
		t.Errorf("export of a missing study: exit %d", code)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s: %v", file, err)
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
		{[]string{"export", "s", "--store", db, "--format", "xml"}, 2, `--format "xml": want json, csv or optuna-journal`},
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

// An export written before wall times were in seconds (its trials carry
// wall_time_ns; written by goalsearch at f5c9097) still imports, and the
// study then prints in the current form.
func TestImportOldExport(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	old := "../../store/testdata/export-wall_time_ns.json"
	if code, _, errs := runCmd(t, "import", old, "--store", db); code != 0 {
		t.Fatalf("import of an old export: exit %d: %s", code, errs)
	}
	code, out, _ := runCmd(t, "trials", "old", "--store", db, "--json")
	if code != 0 || !strings.Contains(out, `"wall_seconds": 0.069301073`) || strings.Contains(out, "wall_time_ns") {
		t.Errorf("trials --json of the imported study (exit %d):\n%.600s", code, out)
	}
	checkJSONConventions(t, "trials --json of an old import", out)
}
