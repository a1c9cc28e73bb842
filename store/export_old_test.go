package store

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// TestReadOldExport reads an export file written before wall times were
// exported in seconds (testdata/export-wall_time_ns.json, written by
// goalsearch at f5c9097 with "wall_time_ns"): it must read exactly, and
// written again it must use "wall_seconds" and read back the same.
func TestReadOldExport(t *testing.T) {
	old, err := os.ReadFile("testdata/export-wall_time_ns.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ReadJSON(bytes.NewReader(old))
	if err != nil {
		t.Fatalf("reading an old export: %v", err)
	}
	// From the file: trial 0 has "wall_time_ns": 69301073.
	if len(d.Trials) != 6 || d.Trials[0].WallTime != 69301073*time.Nanosecond || d.Trials[0].Study != "old" {
		t.Fatalf("read %d trials, trial 0's wall time %v", len(d.Trials), d.Trials[0].WallTime)
	}
	var again bytes.Buffer
	if err := WriteJSON(&again, d); err != nil {
		t.Fatal(err)
	}
	if s := again.String(); strings.Contains(s, "wall_time_ns") || !strings.Contains(s, `"wall_seconds": 0.069301073`) {
		t.Errorf("a new export does not give wall times in seconds:\n%.2000s", s)
	}
	d2, err := ReadJSON(&again)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Trials {
		if d2.Trials[i].WallTime != d.Trials[i].WallTime {
			t.Errorf("trial %d: wall time %v after a round trip in seconds, want %v", i, d2.Trials[i].WallTime, d.Trials[i].WallTime)
		}
	}
	// Both forms at once is a corrupt file, not a guess.
	both := strings.Replace(string(old), `"wall_time_ns": 69301073,`, `"wall_time_ns": 69301073, "wall_seconds": 0.069301073,`, 1)
	if _, err := ReadJSON(strings.NewReader(both)); err == nil || !strings.Contains(err.Error(), "both wall_seconds and wall_time_ns") {
		t.Errorf("a trial with both wall times: %v", err)
	}
}
