package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	looksTime = regexp.MustCompile(`^\d{4}-\d\d-\d\d[T ]`)
)

// dataKeys are keys whose object holds data keyed by name (atom labels,
// metric names, states, configuration fields), not field names.
var dataKeys = []string{"best_goal", "counts", "final", "extra", "fixed", "config", "goal_weights"}

// reporter is the part of testing.T the checker uses, so that its own
// test can catch what it reports.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

type recorder struct{ failed bool }

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

// checkJSONConventions fails unless out is JSON for scripts as
// docs/search.md promises: snake_case field names, durations in seconds
// (no field in ns, ms or hours), times in RFC 3339.
func checkJSONConventions(t reporter, what, out string) {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%s: not JSON: %v\n%.300s", what, err, out)
		return
	}
	var walk func(path string, v any, data bool)
	walk = func(path string, v any, data bool) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				p := path + "." + k
				if !data {
					if !snakeCase.MatchString(k) {
						t.Errorf("%s: field %s is not snake_case", what, p)
					}
					for _, unit := range []string{"_ns", "_ms", "_hours", "_minutes"} {
						if strings.HasSuffix(k, unit) {
							t.Errorf("%s: field %s is a duration not in seconds", what, p)
						}
					}
				}
				walk(p, x, !data && slices.Contains(dataKeys, k))
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x, false)
			}
		case string:
			if looksTime.MatchString(v) {
				if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
					t.Errorf("%s: %s = %q is not an RFC 3339 time", what, path, v)
				}
			}
		}
	}
	walk("", v, false)
}

// TestJSONConventions runs the commands of a search's life with --json
// (and the JSON export) and checks their output; the commands that need
// data sets or long runs are checked in their own tests.
func TestJSONConventions(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	cmds := [][]string{
		{"search", "--study", "s", "--setup", "sphere", "--dim", "3", "--trials", "6", "--epochs", "3", "--pruner", "median", "--json"},
		{"status", "--json"},
		{"status", "s", "--json"},
		{"trials", "s", "--json"},
		{"export", "s"},
		{"fidelity", "s", "--json"},
		{"goals", "--json"},
	}
	for _, c := range cmds {
		code, out, errs := runCmd(t, append(c, "--store", db)...)
		if c[0] == "goals" {
			code, out, errs = runCmd(t, c...)
		}
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c, code, errs)
		}
		checkJSONConventions(t, strings.Join(c, " "), out)
	}
}

// The checker itself catches what it is for.
func TestJSONConventionsChecker(t *testing.T) {
	for _, bad := range []string{
		`{"Number": 1}`, `{"wall_time_ns": 5}`, `{"wall_hours": 1}`, `{"created": "2025-03-01 12:00"}`, `[{"ok": {"WallTime": 1}}]`,
	} {
		var r recorder
		checkJSONConventions(&r, "bad", bad)
		if !r.failed {
			t.Errorf("%s passed the convention check", bad)
		}
	}
	ok := `{"number": 1, "best_goal": {"{1}{2}": 0.5, "H_res": 0}, "created_at": "2025-03-01T12:00:00Z", "wall_seconds": 1.5}`
	checkJSONConventions(t, "good", ok)
}
