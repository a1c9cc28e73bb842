package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"goalsearch/store"
	"goalsearch/store/boltstore"
	"goalsearch/store/pgstore"
	"goalsearch/store/pgstore/pgtest"
	"goalsearch/summary"
)

var ctx = context.Background()

// fixture is a store with a search of six trials (three complete, one
// pruned, one failed, one running with two epochs) and an evaluation study
// of two of its goals on two seeds.
type fixture struct {
	st      store.Store
	running store.Trial
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "d.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return fill(t, st)
}

// fill writes the fixture's studies into st.
func fill(t *testing.T, st store.Store) *fixture {
	t.Helper()
	labels := []string{"{1}", "{2}", "{1}{2}", "{12}", "H_res"}
	study := store.Study{
		Name:      "demo",
		Setup:     store.Setup{Name: "context", Config: json.RawMessage(`{"setup":"context","hidden":2,"epochs":3}`)},
		Space:     store.SearchSpace{Labels: labels, Lower: []float64{-1, -1, -1, -1, -1}, Upper: []float64{1, 1, 1, 1, 1}, Fixed: map[string]float64{"H_res": 0}},
		Objective: store.Objective{Metric: "val_acc", Direction: store.Maximize},
		Sampler:   store.SamplerConfig{Name: "tpe"},
		Seed:      1<<63 + 5, // beyond a JavaScript number's 53 bits
	}
	if _, err := st.CreateStudy(ctx, study); err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st}
	var err error
	vals := []float64{0.91, 0.95, 0.93}
	for i := range 6 {
		g := []float64{0.1 * float64(i), -0.2, 0.3, 0.4, 0}
		if _, err := st.EnqueueTrial(ctx, "demo", store.NewTrial{Gamma: g, Seed: uint64(i)}); err != nil {
			t.Fatal(err)
		}
		tr, err := st.StartTrial(ctx, "demo", i, "host:1")
		if err != nil {
			t.Fatal(err)
		}
		epochs := 3
		if i == 3 || i == 5 {
			epochs = 2
		}
		for e := 1; e <= epochs; e++ {
			loss := 1.0 / float64(e)
			if i == 4 && e == 3 {
				loss = math.NaN() // diverged
			}
			if err := st.ReportEpoch(ctx, tr.Claim(), store.EpochMetrics{Epoch: e, ValAcc: 0.5 + 0.1*float64(e), TrainAcc: 0.6, TrainLoss: loss, Seconds: 0.5}, nil); err != nil {
				t.Fatal(err)
			}
		}
		var r store.Result
		switch {
		case i < 3:
			r = store.Result{State: store.Complete, Value: &vals[i], Atoms: [][]float64{{0.1, 0.2, 0.3, 0.4, 0.5}, {0.3, 0.2, 0.1, 0, 0.1}}, WallTime: 1500 * time.Millisecond}
		case i == 3:
			v := 0.6
			r = store.Result{State: store.Pruned, Value: &v}
		case i == 4:
			r = store.Result{State: store.Failed, Reason: "diverged: train loss is NaN"}
		default:
			f.running = tr
			continue
		}
		if _, err := st.FinishTrial(ctx, tr.Claim(), r); err != nil {
			t.Fatal(err)
		}
	}
	cfg := summary.EvalConfig{Kind: summary.KindEvaluate, Group: "demo", Setup: "context", Hidden: 2, Epochs: 3, Seeds: []uint64{7, 8},
		Goals: []summary.EvalGoal{{Name: "trial 1", Gamma: []float64{0.1, -0.2, 0.3, 0.4, 0}, Trial: 1}, {Name: "trial 2", Gamma: []float64{0.2, -0.2, 0.3, 0.4, 0}, Trial: 2}}}
	es, err := summary.EvalStudy(cfg, labels)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateStudy(ctx, es); err != nil {
		t.Fatal(err)
	}
	for gi, g := range cfg.Goals {
		for _, seed := range cfg.Seeds {
			tr, err := st.EnqueueTrial(ctx, es.Name, summary.NewEvalTrial(gi, g.Gamma, seed))
			if err != nil {
				t.Fatal(err)
			}
			if gi == 1 && seed == 8 {
				continue // still queued
			}
			if tr, err = st.StartTrial(ctx, es.Name, tr.Number, "host:1"); err != nil {
				t.Fatal(err)
			}
			v := 0.9 + 0.01*float64(gi) + 0.001*float64(seed)
			if _, err := st.FinishTrial(ctx, tr.Claim(), store.Result{State: store.Complete, Value: &v, Final: map[string]float64{"val_acc": v, "test_acc": v - 0.01}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return f
}

// get asks h for path and decodes the JSON answer into v (if not nil),
// failing unless the status is want.
func get(t *testing.T, h http.Handler, path string, want int, v any) []byte {
	t.Helper()
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080"+path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	if rec.Code != want {
		t.Fatalf("GET %s: status %d, want %d: %s", path, rec.Code, want, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return body
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// checkKeys fails on any JSON object key that is not snake_case, except
// inside objects keyed by the study's own names (labels, metrics) or
// holding stored configurations.
func checkKeys(t *testing.T, path string, raw []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(string, any)
	walk = func(at string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if !snakeCase.MatchString(k) {
					t.Errorf("%s: key %s.%s is not snake_case", path, at, k)
				}
				switch k {
				case "fixed", "final", "setup_config", "sampler_config", "pruner_config":
					continue
				}
				walk(at+"."+k, e)
			}
		case []any:
			for _, e := range x {
				walk(at+"[]", e)
			}
		}
	}
	walk("", v)
}

func TestAPI(t *testing.T) {
	f := newFixture(t)
	h := New(f.st, Options{Store: "d.db", Poll: time.Millisecond}) // snapshots 250 µs old at most
	evalName := summary.EvalStudyName("demo", summary.KindEvaluate, "context", 2)

	var studies StudiesJSON
	checkKeys(t, "studies", get(t, h, "/api/studies", 200, &studies))
	if len(studies.Studies) != 2 || studies.Store != "d.db" {
		t.Fatalf("studies %+v", studies)
	}
	s0 := studies.Studies[0]
	if s0.Name != "demo" || s0.Kind != "search" || s0.Counts != (CountsJSON{Total: 6, Complete: 3, Pruned: 1, Failed: 1, Running: 1}) ||
		*s0.BestTrial != 1 || *s0.BestValue != 0.95 || s0.WallSeconds != 4.5 {
		t.Errorf("demo listed as %+v", s0)
	}
	if p := s0.Progress; len(p) != 5 || p[0] != 0.91 || p[1] != 0.95 || p[4] != 0.95 {
		t.Errorf("progress %v, want the best so far after each of the 5 finished trials", p)
	}
	if s1 := studies.Studies[1]; s1.Name != evalName || s1.Kind != "evaluation" || s1.Group != "demo" || s1.EvalKind != summary.KindEvaluate || s1.Seeds != 2 {
		t.Errorf("evaluation listed as %+v", s1)
	}

	var sj StudyJSON
	raw := get(t, h, "/api/study?study=demo", 200, &sj)
	checkKeys(t, "study", raw)
	if sj.Seed != "9223372036854775813" || sj.Epochs != 3 || sj.Hidden != 2 || len(sj.Free) != 4 || sj.Fixed["H_res"] != 0 {
		t.Errorf("study definition %s", raw)
	}
	// History: the five finished trials, best so far 0.91, 0.95, 0.95...;
	// the failed trial's value is null.
	if len(sj.History) != 5 || sj.History[2].BestSoFar != 0.95 || sj.History[4].State != "failed" {
		t.Errorf("history %+v", sj.History)
	}
	if !bytes.Contains(raw, []byte(`{"trial":4,"state":"failed","value":null,"best_so_far":0.95}`)) {
		t.Errorf("failed trial's history point is not null-valued: %s", raw)
	}
	if len(sj.Leaderboard) != 3 || sj.Leaderboard[0].Trial != 1 || len(sj.Evaluations) != 1 || sj.Evaluations[0].Name != evalName {
		t.Errorf("leaderboard %+v, evaluations %+v", sj.Leaderboard, sj.Evaluations)
	}

	var tj TrialsJSON
	raw = get(t, h, "/api/trials?study=demo", 200, &tj)
	checkKeys(t, "trials", raw)
	if len(tj.Trials) != 6 || tj.Trials[5].State != "running" || tj.Trials[5].LastEpoch != 2 || tj.Trials[4].Value != nil {
		t.Fatalf("trials %s", raw)
	}
	if tj.Trials[0].Atoms != nil || tj.Trials[0].TrainLoss != nil {
		t.Errorf("the list carries atoms or all metrics; they belong to /api/trial")
	}

	// Live: a client that knows trials 0-5 with 5 running asks from 6,
	// watching 5; it sees the new epoch, then the finish.
	live := "/api/trials?study=demo&from=6&watch=5"
	get(t, h, live, 200, &tj)
	if len(tj.Trials) != 1 || tj.Trials[0].Number != 5 || tj.Trials[0].LastEpoch != 2 {
		t.Fatalf("live trials %+v", tj.Trials)
	}
	if err := f.st.ReportEpoch(ctx, f.running.Claim(), store.EpochMetrics{Epoch: 3, ValAcc: 0.97}, nil); err != nil {
		t.Fatal(err)
	}
	get(t, h, live, 200, &tj)
	if tj.Trials[0].LastEpoch != 3 || float64(tj.Trials[0].ValAcc[2]) != 0.97 {
		t.Fatalf("new epoch not seen: %+v", tj.Trials[0])
	}
	v := 0.97
	if _, err := f.st.FinishTrial(ctx, f.running.Claim(), store.Result{State: store.Complete, Value: &v}); err != nil {
		t.Fatal(err)
	}
	get(t, h, live, 200, &tj)
	if len(tj.Trials) != 1 || tj.Trials[0].State != "complete" {
		t.Fatalf("finished trial not seen through watch: %+v", tj.Trials)
	}
	get(t, h, "/api/trials?study=demo&from=6", 200, &tj)
	if len(tj.Trials) != 0 {
		t.Errorf("from=6 without watch: %d trials, want none (nothing is unfinished, nothing new)", len(tj.Trials))
	}

	var td TrialDetailJSON
	raw = get(t, h, "/api/trial?study=demo&number=4", 200, &td)
	checkKeys(t, "trial", raw)
	if !bytes.Contains(raw, []byte(`"train_loss":[1,0.5,null]`)) || td.Trial.Reason == "" || td.Trial.Value != nil {
		t.Errorf("failed trial %s", raw)
	}
	get(t, h, "/api/trial?study=demo&number=1", 200, &td)
	if len(td.Trial.Atoms) != 2 || len(td.Trial.AtomsMean) != 5 || math.Abs(float64(td.Trial.AtomsMean[0])-0.2) > 1e-12 || len(td.Labels) != 5 {
		t.Errorf("atoms %v mean %v", td.Trial.Atoms, td.Trial.AtomsMean)
	}
	if td.Trial.Started.IsZero() || !strings.Contains(string(get(t, h, "/api/trial?study=demo&number=1", 200, nil)), `"started":"20`) {
		t.Errorf("times are not RFC 3339")
	}

	var imp ImportanceJSON
	checkKeys(t, "importance", get(t, h, "/api/importance?study=demo", 200, &imp))
	if imp.Trials != 4 || imp.MinTrials != summary.MinImportanceTrials || len(imp.Rows) != 0 || imp.Method == "" {
		t.Errorf("importance of 4 complete trials: %+v", imp)
	}

	var ev EvaluationJSON
	raw = get(t, h, "/api/evaluation?study="+url.QueryEscape(evalName), 200, &ev)
	checkKeys(t, "evaluation", raw)
	if len(ev.Goals) != 2 || len(ev.Seeds) != 2 || len(ev.Goals[1].Runs) != 2 || ev.Goals[1].Runs[1].State != "queued" ||
		ev.Goals[0].Val.N != 2 || ev.Goals[1].Test.N != 1 {
		t.Errorf("evaluation %s", raw)
	}
	if !bytes.Contains(raw, []byte(`"std":null`)) {
		t.Errorf("the spread of one value is not null: %s", raw)
	}
}

func TestAPIErrors(t *testing.T) {
	f := newFixture(t)
	h := New(f.st, Options{})
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"/api/study?study=nope", 404, "study not found"},
		{"/api/study", 400, "study=NAME"},
		{"/api/trial?study=demo&number=99", 404, "trial not found"},
		{"/api/trial?study=demo&number=x", 400, "number"},
		{"/api/trials?study=demo&from=-1", 400, "from"},
		{"/api/trials?study=demo&watch=1,a", 400, "watch"},
		{"/nothing", 404, ""},
	} {
		body := get(t, h, c.path, c.code, nil)
		if !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %s, want it to say %q", c.path, body, c.want)
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(m, "http://127.0.0.1/api/studies", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405 (read-only)", m, rec.Code)
		}
	}
}

// The page is one document that loads nothing: its script is inline,
// allowed by hash, and it names no address to load from.
func TestPage(t *testing.T) {
	f := newFixture(t)
	h := New(f.st, Options{Poll: 250 * time.Millisecond})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost:8080/", nil))
	page := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(page, "poll_ms: 250") || !strings.Contains(page, "function ") {
		t.Fatalf("status %d, page %.300s", rec.Code, page)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'sha256-") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	// The only address is the SVG namespace, which is a name, not a fetch.
	rest := strings.ReplaceAll(page, "http://www.w3.org/2000/svg", "")
	for _, bad := range []string{"http://", "https://", "//cdn", "src=\"", "url("} {
		if strings.Contains(rest, bad) {
			i := strings.Index(rest, bad)
			t.Errorf("the page contains %q: ...%s...", bad, rest[max(0, i-60):min(len(rest), i+60)])
		}
	}
}

func TestToken(t *testing.T) {
	f := newFixture(t)
	const token = "s3cret-token"
	h := New(f.st, Options{Token: token})
	for _, c := range []struct {
		name   string
		path   string
		header map[string]string
		code   int
	}{
		{"none", "/api/studies", nil, 401},
		{"none, page", "/", nil, 401},
		{"wrong", "/api/studies?token=s3cret", nil, 401},
		{"longer", "/api/studies?token=s3cret-token-", nil, 401},
		{"empty", "/api/studies?token=", nil, 401},
		{"query", "/api/studies?token=" + token, nil, 200},
		{"query, page", "/?token=" + token, nil, 200},
		{"header", "/api/studies", map[string]string{TokenHeader: token}, 200},
		{"bearer", "/api/studies", map[string]string{"Authorization": "Bearer " + token}, 200},
		{"wrong bearer", "/api/studies", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"basic", "/api/studies", map[string]string{"Authorization": "Basic " + token}, 401},
	} {
		// A token-protected dashboard listens beyond loopback: any Host.
		req := httptest.NewRequest("GET", "http://10.1.2.3:8080"+c.path, nil)
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("%s: status %d, want %d: %s", c.name, rec.Code, c.code, rec.Body.String())
		}
		if c.code == 401 && !strings.Contains(rec.Body.String(), "token") {
			t.Errorf("%s: the refusal does not say a token is needed: %s", c.name, rec.Body.String())
		}
	}
}

// Without a token the dashboard answers only to loopback names, so a page
// whose name was rebound to 127.0.0.1 cannot read it.
func TestLoopbackHost(t *testing.T) {
	f := newFixture(t)
	h := New(f.st, Options{})
	for host, want := range map[string]int{"127.0.0.1:8080": 200, "localhost:8080": 200, "[::1]:8080": 200, "LOCALHOST": 200,
		"evil.example:8080": 403, "10.0.0.1:8080": 403, "127.0.0.1.evil.example": 403} {
		req := httptest.NewRequest("GET", "http://x/api/studies", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %s: status %d, want %d", host, rec.Code, want)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	for _, c := range []struct {
		addr, token string
		ok          bool
		want        string
	}{
		{"127.0.0.1:8080", "", true, ""},
		{"localhost:0", "", true, ""},
		{"[::1]:8080", "", true, ""},
		{"127.0.0.2:8080", "", true, ""},
		{"0.0.0.0:8080", "", false, "token"},
		{":8080", "", false, "every interface"},
		{"192.168.1.5:80", "", false, "not on loopback"},
		{"myhost.example:8080", "", false, "token"},
		{"0.0.0.0:8080", "t", true, ""},
		{":8080", "t", true, ""},
		{"127.0.0.1", "", false, "HOST:PORT"},
		{"127.0.0.1:http-alt-nonsense", "", false, "port"},
	} {
		err := CheckAddr(c.addr, c.token)
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckAddr(%q, %q) = %v, want ok %v (%q)", c.addr, c.token, err, c.ok, c.want)
		}
	}
}

// Listen refuses what CheckAddr refuses; Serve answers until its context
// ends and then returns nil.
func TestServe(t *testing.T) {
	if _, err := Listen("0.0.0.0:0", ""); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("Listen on every interface without a token: %v", err)
	}
	f := newFixture(t)
	ln, err := Listen("127.0.0.1:0", "tok")
	if err != nil {
		t.Fatal(err)
	}
	u := URL(ln, "tok")
	if !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.HasSuffix(u, "/?token=tok") {
		t.Errorf("URL %q", u)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- Serve(sctx, ln, New(f.st, Options{Token: "tok"})) }()
	resp, err := http.Get(strings.Replace(u, "/?", "/api/studies?", 1))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"name":"demo"`) {
		t.Errorf("status %d: %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

// On PostgreSQL the running trials carry their worker's lease, and the
// study its length.
func TestLeasesOnPostgres(t *testing.T) {
	st := pgtest.Open(t, pgstore.Options{Lease: 45 * time.Second})
	f := fill(t, st)
	h := New(f.st, Options{})
	var sj StudyJSON
	get(t, h, "/api/study?study=demo", 200, &sj)
	if sj.LeaseSeconds != 45 {
		t.Errorf("lease_seconds %v, want 45", sj.LeaseSeconds)
	}
	var tj TrialsJSON
	get(t, h, "/api/trials?study=demo", 200, &tj)
	r := tj.Trials[5]
	if r.State != "running" || r.Worker != "host:1" || r.LeaseExpiry.IsZero() || time.Until(r.LeaseExpiry) > 46*time.Second || time.Until(r.LeaseExpiry) < 30*time.Second {
		t.Errorf("running trial %+v: want worker host:1 and a lease about 45s ahead", r)
	}
	for _, x := range tj.Trials[:5] {
		if !x.LeaseExpiry.IsZero() {
			t.Errorf("finished trial %d carries a lease", x.Number)
		}
	}
}

// A snapshot follows the store through every change a search makes: new
// epochs, finishes, new trials, and a study deleted and made anew.
func TestSnapshotFollowsStore(t *testing.T) {
	f := newFixture(t)
	sn := newSnapshots(f.st, 0)
	check := func(what string) {
		t.Helper()
		st, err := f.st.Study(ctx, "demo")
		if err != nil {
			t.Fatal(err)
		}
		got, err := sn.trials(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		want, err := f.st.Trials(ctx, "demo")
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			want[i].Atoms = nil
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if !bytes.Equal(g, w) {
			t.Fatalf("%s: the snapshot differs from the store:\n got %s\nwant %s", what, g, w)
		}
	}
	check("at first")
	before, _ := sn.trials(ctx, store.Study{Name: "demo", CreatedAt: mustStudy(t, f.st).CreatedAt})
	if err := f.st.ReportEpoch(ctx, f.running.Claim(), store.EpochMetrics{Epoch: 3, ValAcc: 0.9}, nil); err != nil {
		t.Fatal(err)
	}
	check("after an epoch")
	if before[5].LastEpoch() != 2 {
		t.Errorf("a refresh changed a snapshot handed out before: trial 5 at epoch %d", before[5].LastEpoch())
	}
	v := 0.9
	if _, err := f.st.FinishTrial(ctx, f.running.Claim(), store.Result{State: store.Complete, Value: &v}); err != nil {
		t.Fatal(err)
	}
	check("after a finish")
	for range 3 {
		if _, err := f.st.EnqueueTrial(ctx, "demo", store.NewTrial{Gamma: []float64{0, 0, 0, 0, 0}}); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := f.st.StartTrial(ctx, "demo", 7, "w")
	if err != nil {
		t.Fatal(err)
	}
	check("after new trials")
	if err := f.st.ReportEpoch(ctx, tr.Claim(), store.EpochMetrics{Epoch: 1, ValAcc: 0.5}, nil); err != nil {
		t.Fatal(err)
	}
	check("after the new trial's epoch")
	d, err := f.st.Export(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.DeleteStudy(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // a new creation time
	d.Study.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	d.Trials = d.Trials[:2]
	d.Checkpoints = nil
	if err := f.st.Import(ctx, d, false); err != nil {
		t.Fatal(err)
	}
	check("after the study was made anew")
}

func mustStudy(t *testing.T, st store.Store) store.Study {
	t.Helper()
	s, err := st.Study(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	return s
}
