package dashboard

import (
	"flag"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"goalsearch/internal/browser"
	"goalsearch/summary"
)

var sampleDir = flag.String("sample", "", "also write screenshots of every view to this directory, to look at")

// Every view of the fixture's store, in headless Chromium: what the page's
// script builds (tables, charts, the atoms' heat map), sorting and
// filtering the trial table, brushing an axis, and no script errors. The
// cmd test watches a running search; this one covers the views it does not
// reach.
func TestViewsInChromium(t *testing.T) {
	ctx := browser.New(t)
	f := newFixture(t)
	const token = "tok-123"
	srv := httptest.NewServer(New(f.st, Options{Token: token, Poll: 200 * time.Millisecond}))
	defer srv.Close()
	state := `JSON.stringify({view: document.documentElement.dataset.view, errors: document.documentElement.dataset.errors,
		live: document.getElementById('live').textContent, main: document.getElementById('main').innerText.slice(0, 400)})`
	open := func(hash string) {
		t.Helper()
		browser.Do(t, ctx, 20*time.Second, "opening "+hash, chromedp.Navigate(srv.URL+"/?token="+token+hash))
	}
	count := func(sel string) int {
		t.Helper()
		return browser.Eval[int](t, ctx, "document.querySelectorAll("+jsString(sel)+").length")
	}
	wait := func(cond, what string) { t.Helper(); browser.WaitFor(t, ctx, 30*time.Second, cond, what, state) }
	shot := func(name string) {
		t.Helper()
		// Each page load starts counting anew: check before leaving.
		if e := browser.Eval[string](t, ctx, "document.documentElement.dataset.errors"); e != "0" {
			t.Errorf("%s: %s script errors", name, e)
		}
		if *sampleDir == "" {
			return
		}
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(*sampleDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*sampleDir, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The studies, fetched with the token the address carries.
	open("")
	wait(`document.querySelectorAll('#studies-table tbody tr').length == 1 && document.querySelectorAll('#evals-table tbody tr').length == 1`, "the studies table")
	if n := count("svg[data-chart=spark] path"); n != 1 {
		t.Errorf("%d sparklines of the best value so far, want 1", n)
	}
	shot("studies")

	open("#/study/demo")
	wait(`document.querySelectorAll('#trial-table tbody tr').length == 6`, "the trial table")
	wait(`document.querySelector('[data-chart=importance]') || /Needs at least/.test(document.body.innerText)`, "the importance panel")
	for sel, want := range map[string]int{
		"svg[data-chart=history] .point":                      5, // finished trials
		"svg[data-chart=history] .best-line":                  1,
		"svg[data-chart=curves] g.trial-curve":                6, // every trial with an epoch
		"svg[data-chart=curves] g[data-state=running] .pulse": 1,
		"svg[data-chart=curves] g[data-state=pruned] .end":    1,
		"svg[data-chart=parallel] .pc-line":                   4, // complete and pruned
		"#workers-table tbody tr":                             1,
		"#trial-table th":                                     7 + 4 + 1, // fixed H_res left out
		"#leaderboard tbody tr":                               3,
		"svg[data-chart=best-goal] rect":                      5,
	} {
		if got := count(sel); got != want {
			t.Errorf("%s: %d elements, want %d", sel, got, want)
		}
	}
	shot("study")
	// The legend hides and shows a state's curves.
	browser.Do(t, ctx, 30*time.Second, "hiding pruned curves", chromedp.Click(chromedp.CSS(`.legend .toggle[data-state=pruned]`)))
	wait(`document.querySelectorAll('svg[data-chart=curves] g.trial-curve').length == 5`, "the pruned curve hidden")
	browser.Do(t, ctx, 30*time.Second, "showing them again", chromedp.Click(chromedp.CSS(`.legend .toggle[data-state=pruned]`)))
	wait(`document.querySelectorAll('svg[data-chart=curves] g.trial-curve').length == 6`, "the pruned curve back")
	// Sorting by value puts the best first (descending, a maximised
	// metric); the trials without value go last.
	browser.Do(t, ctx, 30*time.Second, "sorting", chromedp.Click(chromedp.CSS(`#trial-table th:nth-child(3)`)))
	wait(`document.querySelector('#trial-table tbody tr').dataset.trial == '1'`, "trial 1 first by value")
	// Filtering.
	browser.Do(t, ctx, 30*time.Second, "filtering", chromedp.SendKeys(chromedp.CSS(`input[type=search]`), "value>0.92 state=complete"))
	wait(`document.querySelectorAll('#trial-table tbody tr').length == 2`, "two trials above 0.92")
	browser.Do(t, ctx, 30*time.Second, "chip", chromedp.Click(chromedp.CSS(`.chip`))) // "all": the text filter stays
	if got := count("#trial-table tbody tr"); got != 2 {
		t.Errorf("after the 'all' chip: %d rows, want 2", got)
	}
	shot("study-filtered")

	open("#/trial/demo/1")
	wait(`document.querySelector('canvas[data-chart=atoms-heat]') != null`, "the atoms' heat map")
	for _, sel := range []string{"svg[data-chart=goal]", "svg[data-chart=trial-curve]", "svg[data-chart=trial-loss]", "svg[data-chart=atoms-mean]"} {
		if count(sel) != 1 {
			t.Errorf("trial page: no %s", sel)
		}
	}
	shot("trial")
	// The arrow keys walk through the trials.
	browser.Do(t, ctx, 30*time.Second, "pressing →", chromedp.KeyEvent(kb.ArrowRight))
	wait(`location.hash == '#/trial/demo/2' && /Trial 2/.test((document.querySelector('h1') || {}).textContent)`, "trial 2 after →")

	open("#/eval/" + url.PathEscape(summary.EvalStudyName("demo", summary.KindEvaluate, "context", 2)))
	wait(`document.querySelectorAll('#eval-table tbody tr').length == 2 && document.querySelectorAll('#eval-table a.run').length == 4`, "the evaluation's goals and runs")
	shot("eval")
}

func jsString(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		switch r {
		case '"', '\\':
			b = append(b, '\\', byte(r))
		default:
			b = append(b, string(r)...)
		}
	}
	return string(append(b, '"'))
}
