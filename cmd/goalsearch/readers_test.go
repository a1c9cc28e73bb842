package main

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/floats"
)

// TestReadersBesideSearch runs a synthetic search in a subprocess and,
// while it runs, reads its store with status, trials, export and report:
// each must succeed within 2 s and the trials must be seen to grow; a
// second search on the same file must be refused as locked.
func TestReadersBesideSearch(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	cmd := exec.Command(os.Args[0], "search", "--study", "r", "--setup", "sphere", "--dim", "3", "--sampler", "random",
		"--trials", "24", "--epochs", "3", "--workers", "2", "--sleep", "300ms", "--seed", "3", "--store", db)
	cmd.Env = append(os.Environ(), "GOALSEARCH_TEST_MAIN=1")
	var searchOut strings.Builder
	cmd.Stdout, cmd.Stderr = &searchOut, &searchOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-done
	}()
	// The search serves readers once it has opened the store, and has
	// created its study soon after.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(db + ".sock"); err == nil {
			if code, _, _ := runCmd(t, "status", "r", "--store", db); code == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the search did not start serving readers:\n%s", searchOut.String())
		}
	}

	timed := func(args ...string) (string, time.Duration) {
		t.Helper()
		start := time.Now()
		code, out, errs := runCmd(t, append(args, "--store", db)...)
		d := time.Since(start)
		if code != 0 {
			t.Fatalf("%v beside a running search: exit %d: %s", args, code, errs)
		}
		if d > 2*time.Second {
			t.Errorf("%v took %v, want at most 2s", args, d)
		}
		return out, d
	}
	var counts []int
	running := true
	var slowest time.Duration
	for running {
		select {
		case err := <-done:
			done <- err // for the deferred wait
			running = false
			if err != nil {
				t.Fatalf("search: %v\n%s", err, searchOut.String())
			}
		default:
		}
		out, d := timed("status", "r", "--json")
		slowest = max(slowest, d)
		var ss []struct {
			Counts map[string]int `json:"counts"`
		}
		if err := json.Unmarshal([]byte(out), &ss); err != nil || len(ss) != 1 {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		counts = append(counts, ss[0].Counts["complete"])
		out, d = timed("trials", "r")
		slowest = max(slowest, d)
		if !strings.HasPrefix(out, "trial") {
			t.Errorf("trials printed %q", out)
		}
		_, d = timed("export", "r", "-o", filepath.Join(dir, "r.json"))
		slowest = max(slowest, d)
		if len(counts) == 2 {
			_, d = timed("report", "r", "-o", filepath.Join(dir, "r.html"))
			slowest = max(slowest, d)
		}
		time.Sleep(300 * time.Millisecond)
		if len(counts) == 3 {
			// A second writer is refused while the search runs.
			start := time.Now()
			code, _, errs := runCmd(t, "search", "--study", "other", "--setup", "sphere", "--store", db)
			if code != 1 || !strings.Contains(errs, "locked by another process") {
				t.Errorf("a second search beside the first: exit %d, %s; want locked", code, errs)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("the second search was refused after %v", d)
			}
		}
	}
	grew := 0
	for i := 1; i < len(counts); i++ {
		if counts[i] < counts[i-1] {
			t.Fatalf("complete trials went down: %v", counts)
		}
		if counts[i] > counts[i-1] {
			grew++
		}
	}
	if grew < 3 || counts[len(counts)-1] != 24 {
		t.Errorf("complete trials seen: %v; want them to grow at least 3 times, to 24", counts)
	}
	t.Logf("complete trials seen by status: %v; slowest reader call %v", counts, slowest.Round(time.Millisecond))
}

var readerCost = flag.Bool("readers.cost", false, "measure what a reader polling every 0.5 s costs a running search (slow)")

// TestReaderCost measures a search's trial throughput with and without a
// reader beside it that polls status and trials --json every 0.5 s, as a
// watching user or script would; docs/search.md quotes it.
//
//	go test ./cmd/goalsearch -run ReaderCost -readers.cost -v
func TestReaderCost(t *testing.T) {
	if !*readerCost {
		t.Skip("run with -readers.cost")
	}
	const trials = 300
	searchOnce := func(t *testing.T, db string, sleep string, poll bool) (time.Duration, int) {
		cmd := exec.Command(os.Args[0], "search", "--study", "c", "--setup", "sphere", "--dim", "5", "--sampler", "random",
			"--trials", strconv.Itoa(trials), "--epochs", "3", "--workers", "2", "--sleep", sleep, "--seed", "3", "--store", db)
		cmd.Env = append(os.Environ(), "GOALSEARCH_TEST_MAIN=1")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stop, polls := make(chan struct{}), make(chan int)
		go func() {
			n := 0
			defer func() { polls <- n }()
			if !poll {
				<-stop
				return
			}
			for {
				select {
				case <-stop:
					return
				case <-time.After(500 * time.Millisecond):
				}
				if code, _, _ := runCmd(t, "status", "c", "--json", "--store", db); code == 0 {
					n++
				}
				runCmd(t, "trials", "c", "--json", "--store", db)
			}
		}()
		err := cmd.Wait()
		d := time.Since(start)
		close(stop)
		n := <-polls
		if err != nil {
			t.Fatal(err)
		}
		return d, n
	}
	for _, sleep := range []string{"0s", "30ms"} {
		var base, with []float64
		for rep := 0; rep < 3; rep++ {
			for _, poll := range []bool{false, true} {
				d, n := searchOnce(t, filepath.Join(t.TempDir(), "c.db"), sleep, poll)
				rate := trials / d.Seconds()
				if poll {
					with = append(with, rate)
				} else {
					base = append(base, rate)
				}
				t.Logf("sleep %s, reader %t: %d trials in %v (%.1f trials/s), %d polls", sleep, poll, trials, d.Round(time.Millisecond), rate, n)
			}
		}
		mean := func(x []float64) float64 { return floats.Sum(x) / float64(len(x)) }
		t.Logf("sleep %s: %.1f trials/s alone, %.1f with a reader (%+.1f %%)", sleep, mean(base), mean(with), 100*(mean(with)/mean(base)-1))
	}
}
