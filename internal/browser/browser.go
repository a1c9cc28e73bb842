// Package browser starts the headless Chromium that the browser tests of
// the dashboard drive through the DevTools protocol (chromedp): Debian's
// chromium package, which .ci/chromium.sh installs. Without it a test is
// skipped, except under CI (CI set), where it fails: a browser test that
// did not run must not count as passed.
package browser

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Find returns the path of a Chromium binary, or skips t (fails it under
// CI).
func Find(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed, and CI is set: run .ci/chromium.sh (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (.ci/chromium.sh installs it); skipping the browser test")
	return ""
}

// New starts a throw-away headless browser for t and returns the context
// of one tab for chromedp's actions; the browser ends with t. It runs
// without a sandbox (CI runs as root), without a GPU and offline: every host
// name resolves to nothing, so a page that fetched anything but 127.0.0.1
// would show it.
func New(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Find(t)),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser now, without a deadline (a deadline on the first
	// call would bound the browser's life), so that a browser that cannot
	// start shows here.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// Do runs actions in the tab, failing t after timeout or on an error.
func Do(t testing.TB, ctx context.Context, timeout time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates expr in the page and returns its value.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// WaitFor waits until the JavaScript expression cond is true in the page,
// failing t with what (and the page's state, from state, a JavaScript
// expression) after timeout.
func WaitFor(t testing.TB, ctx context.Context, timeout time.Duration, cond, what, state string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := chromedp.Run(c, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		got := "?"
		if state != "" {
			got = Eval[string](t, ctx, state)
		}
		t.Fatalf("%s: not within %v (%v); the page: %s", what, timeout, err, got)
	}
}
