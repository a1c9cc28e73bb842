package reports

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"goalsearch/internal/browser"
)

// The HTML report is opened in headless Chromium (Debian's chromium
// package; .ci/chromium.sh installs it) to check what a reader would see:
// every plot drawn with a visible size and text in it, and no script
// errors. The page's self-check script writes its findings into attributes
// of the root element, which --dump-dom prints.

var sampleDir = flag.String("sample", "", "also write the browser test's reports and screenshots to this directory, to look at")

// chromiumArgs are the flags of a quiet, offline, throw-away browser: no
// sandbox (CI runs as root), no GPU, no network of any kind (every host
// resolves to nothing, so a page that fetched something would show it).
func chromiumArgs(profile string) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + profile}
}

func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(chromiumArgs(t.TempDir()), args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errOut.String())
	}
	return out.Bytes()
}

var (
	rootTag = regexp.MustCompile(`<html[^>]*>`)
	attrRe  = func(name string) *regexp.Regexp { return regexp.MustCompile(name + `="([^"]*)"`) }
)

func TestHTMLInChromium(t *testing.T) {
	bin := browser.Find(t)
	dir := t.TempDir()
	if *sampleDir != "" {
		dir = *sampleDir
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		names []string
	}{
		{"full", []string{"ctxlat", "presets"}},
		{"edge", []string{"empty", "allfailed", "sphere"}},
	} {
		r := collectFixture(t, c.names...)
		var h bytes.Buffer
		if err := WriteHTML(&h, r); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, c.name+".html")
		if err := os.WriteFile(path, h.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(h.Bytes(), []byte("http")) || bytes.Contains(h.Bytes(), []byte("url(")) {
			t.Errorf("%s: the page names an address; it must load nothing", c.name)
		}
		want := len(layout(r).figures())
		dom := runChromium(t, bin, "--dump-dom", "file://"+path)
		root := rootTag.Find(dom)
		if root == nil {
			t.Fatalf("%s: no <html> element in the dumped DOM:\n%.2000s", c.name, dom)
		}
		get := func(name string) string {
			if m := attrRe(name).FindSubmatch(root); m != nil {
				return string(m[1])
			}
			return ""
		}
		if get("data-plots") != strconv.Itoa(want) || get("data-plots-ok") != strconv.Itoa(want) {
			t.Errorf("%s: %s plots, %s drawn, want %d (not drawn: %q)", c.name, get("data-plots"), get("data-plots-ok"), want, get("data-plots-bad"))
		}
		if e := get("data-errors"); e != "0" {
			t.Errorf("%s: data-errors = %q, want 0: the page has script errors (or the self-check did not run)", c.name, e)
		}
		if *sampleDir != "" {
			runChromium(t, bin, "--hide-scrollbars", "--window-size=1280,16000", "--screenshot="+filepath.Join(dir, c.name+".png"), "file://"+path)
		}
	}
}
