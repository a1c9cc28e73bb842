package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"goalsearch/dashboard"
	"goalsearch/internal/browser"
)

// syncBuffer is a bytes.Buffer that a command may write while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var dashboardURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/(\?token=\S+)?`)

// waitURL waits for the dashboard's address in what a command printed.
func waitURL(t *testing.T, out func() string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if u := dashboardURL.FindString(out()); u != "" {
			return u
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no dashboard address printed within 20s:\n%s", out())
	return ""
}

func httpGet(t *testing.T, url string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// goalsearch dashboard on a store no search holds: refused beyond loopback
// without a token; with one, every request needs it; it stops with its
// context (Ctrl-C).
func TestDashboardCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, errs := runCmd(t, "search", "--study", "done", "--store", db, "--setup", "sphere", "--dim", "2", "--sampler", "random", "--trials", "5"); code != 0 {
		t.Fatalf("search: %s", errs)
	}
	code, _, errs := runCmd(t, "dashboard", "--store", db, "--addr", "0.0.0.0:0")
	if code != 2 || !strings.Contains(errs, "not on loopback") || !strings.Contains(errs, "--token") {
		t.Errorf("every interface without a token: exit %d, %s", code, errs)
	}
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	code, _, errs = runCmd(t, "search", "--study", "x", "--store", fresh, "--setup", "sphere", "--dashboard", "0.0.0.0:0")
	if code != 2 || !strings.Contains(errs, "--dashboard-token") {
		t.Errorf("search --dashboard on every interface without a token: exit %d, %s", code, errs)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a refused --dashboard left a store behind (%v)", err)
	}
	code, _, errs = runCmd(t, "dashboard", "--store", filepath.Join(t.TempDir(), "none.db"), "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "no store at") {
		t.Errorf("a missing store: exit %d, %s", code, errs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runDashboard(ctx, &dashboardOptions{Store: db, Addr: "127.0.0.1:0", Token: "t0k"}, streams{strings.NewReader(""), io.Discard, &errOut})
	}()
	u := waitURL(t, errOut.String)
	if !strings.HasSuffix(u, "/?token=t0k") {
		t.Errorf("printed address %q does not carry the token", u)
	}
	base := strings.TrimSuffix(u, "?token=t0k")
	if code, _ := httpGet(t, base+"api/studies", nil); code != 401 {
		t.Errorf("without the token: status %d, want 401", code)
	}
	code, body := httpGet(t, base+"api/studies", map[string]string{dashboard.TokenHeader: "t0k"})
	if code != 200 || !strings.Contains(body, `"name":"done"`) || !strings.Contains(body, `"complete":5`) {
		t.Errorf("with the token: %d %s", code, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("dashboard: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the dashboard did not stop with its context")
	}
}

// subprocess is a goalsearch command running in a subprocess (this test
// binary, as TestMain arranges), with what it writes to standard error.
type subprocess struct {
	cmd    *exec.Cmd
	errOut syncBuffer
	exited chan error
	done   bool
}

func start(t *testing.T, args ...string) *subprocess {
	t.Helper()
	p := &subprocess{cmd: exec.Command(os.Args[0], args...), exited: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), "GOALSEARCH_TEST_MAIN=1")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(&p.errOut, sc.Text())
		}
	}()
	go func() { <-copied; p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if !p.done {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// interrupt sends Ctrl-C and waits for a clean exit.
func (p *subprocess) interrupt(t *testing.T, what string) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-p.exited:
		p.done = true
		if err != nil {
			t.Errorf("%s after Ctrl-C: %v\n%s", what, err, p.errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not stop within 15s of Ctrl-C", what)
	}
}

// TestDashboardWatchesSearch is the newcomer's session: a synthetic search
// runs in a subprocess, and its dashboard is served from a second process
// (goalsearch dashboard, reading beside the search) or from the search
// itself (--dashboard); headless Chromium opens it and sees the trial table
// and the charts, new epochs within 2 s of their being stored, and the
// trial count grow while the search runs, without reloading the page.
func TestDashboardWatchesSearch(t *testing.T) {
	t.Run("second process", func(t *testing.T) { watchSearch(t, false) })
	t.Run("from the search", func(t *testing.T) { watchSearch(t, true) })
}

func watchSearch(t *testing.T, fromSearch bool) {
	ctx := browser.New(t)
	db := filepath.Join(t.TempDir(), "live.db")
	// 4 epochs of 250 ms per trial, 2 at a time: about 2 trials and 8
	// epochs a second, far more trials than the test waits for.
	args := []string{"search", "--study", "live", "--store", db, "--setup", "sphere", "--dim", "3",
		"--sampler", "tpe", "--trials", "500", "--epochs", "4", "--workers", "2", "--sleep", "1s"}
	if fromSearch {
		args = append(args, "--dashboard", "127.0.0.1:0")
	}
	search := start(t, args...)
	server := search
	if !fromSearch {
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(db); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the search made no store in 20s:\n%s", search.errOut.String())
			}
		}
		server = start(t, "dashboard", "--store", db, "--addr", "127.0.0.1:0")
	}
	base := waitURL(t, server.errOut.String)
	state := `JSON.stringify({view: document.documentElement.dataset.view, errors: document.documentElement.dataset.errors,
		trials: document.documentElement.dataset.trials, live: document.getElementById('live').textContent,
		main: document.getElementById('main').innerText.slice(0, 300)})`
	wait := func(d time.Duration, cond, what string) {
		t.Helper()
		browser.WaitFor(t, ctx, d, cond, what, state)
	}
	rows := func() int {
		return browser.Eval[int](t, ctx, `document.querySelectorAll('#trial-table tbody tr').length`)
	}

	browser.Do(t, ctx, 20*time.Second, "opening the study", chromedp.Navigate(base+"#/study/live"))
	wait(15*time.Second, `document.querySelectorAll('#trial-table tbody tr').length > 0`, "the trial table")
	wait(15*time.Second, `document.querySelectorAll('svg[data-chart=history] .point').length > 0 &&
		document.querySelectorAll('svg[data-chart=curves] g.trial-curve').length > 0 &&
		document.querySelectorAll('svg[data-chart=parallel] .pc-line').length > 0`, "the history, curves and parallel coordinates")
	first := rows()

	// New epochs: seen by the API (which reads the store the search
	// writes, so within its polling of 25 ms), then in the page.
	var lags []time.Duration
	for len(lags) < 3 {
		n, e := runningTrial(t, base)
		if n < 0 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		stored := time.Now()
		for deadline := stored.Add(5 * time.Second); ; time.Sleep(25 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("trial %d did not get past epoch %d in 5s", n, e)
			}
			if _, e2 := trialEpoch(t, base, n); e2 > e {
				stored = time.Now()
				break
			}
		}
		wait(5*time.Second, fmt.Sprintf(`(document.querySelector('svg[data-chart=curves] g[data-trial="%d"]') || {dataset: {}}).dataset.epochs > %d`, n, e),
			fmt.Sprintf("trial %d's epoch %d in the curves", n, e+1))
		lags = append(lags, time.Since(stored))
	}
	t.Logf("a new epoch showed in the page %v after the API saw it", lags)
	for _, l := range lags {
		if l > 2*time.Second {
			t.Errorf("a new epoch took %v to show, want at most 2s (all: %v)", l, lags)
		}
	}

	wait(15*time.Second, fmt.Sprintf(`document.querySelectorAll('#trial-table tbody tr').length > %d`, first+3), "the trial count growing")
	wait(20*time.Second, `document.querySelector('svg[data-chart=importance] .imp-bar') != null`, "the importance of the weights, after 8 complete trials")
	t.Logf("trial table: %d rows, then %d, without a reload", first, rows())
	if e := browser.Eval[string](t, ctx, "document.documentElement.dataset.errors"); e != "0" {
		t.Errorf("%s script errors", e)
	}

	search.interrupt(t, "the search")
	if fromSearch {
		// The dashboard stopped with the search; the page says so.
		wait(10*time.Second, `document.getElementById('live').classList.contains('err')`, "the page saying the search went away")
		return
	}
	// The dashboard reads on from the file, where the search left no
	// trial running.
	wait(10*time.Second, `document.getElementById('live').classList.contains('ok') && /No trial is running/.test(document.body.innerText)`,
		"the page reading the file after the search stopped")
	server.interrupt(t, "the dashboard")
}

// runningTrial returns a running trial of study live and its last epoch,
// or -1, from the dashboard's API.
func runningTrial(t *testing.T, base string) (int, int) {
	t.Helper()
	var d dashboard.TrialsJSON
	getJSON(t, base+"api/trials?study=live", &d)
	for _, tr := range d.Trials {
		if tr.State == "running" && tr.LastEpoch < 3 {
			return tr.Number, tr.LastEpoch
		}
	}
	return -1, 0
}

func trialEpoch(t *testing.T, base string, n int) (string, int) {
	t.Helper()
	var d dashboard.TrialDetailJSON
	getJSON(t, fmt.Sprintf("%sapi/trial?study=live&number=%d", base, n), &d)
	return d.Trial.State, d.Trial.LastEpoch
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	code, body := httpGet(t, url, nil)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
