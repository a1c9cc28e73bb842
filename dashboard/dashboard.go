// Package dashboard serves a live, read-only view of a store's studies in
// the browser: the studies of a store; for a search its optimisation
// history with the best value so far, every trial's per-epoch validation
// curve, parallel coordinates of the goal weights, the importance of each
// weight (summary.StudyImportance, and the sensitivity goalsearch analyze
// measured when a sensitivity study exists), the running trials with their
// workers and leases, and the sortable, filterable trial table; a trial's
// goal, curves and its neurons' atoms; and the evaluation studies with
// their seeds.
//
// The page is one HTML document with its script and style inline, embedded
// in the binary (go:embed): it loads nothing else and fetches only this
// server's JSON API, which it polls every second, so a running trial's new
// epoch shows within about a second of being stored. The API's fields are
// snake_case, durations in seconds, times in RFC 3339; NaN and infinities
// are null.
//
// The handler reads through Reader (the read methods of store.Store) and
// the summary package, and answers only GET and HEAD: it never changes a
// store. It binds to loopback unless a token is given (CheckAddr); with a
// token every request must carry it, as ?token= or in a header.
package dashboard

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"goalsearch/store"
)

// Reader is what the dashboard reads from a store: the read methods of
// store.Store, which every backend implements. A store.Leaser's leases show
// on the running trials.
type Reader interface {
	Studies(ctx context.Context) ([]store.Study, error)
	Study(ctx context.Context, name string) (store.Study, error)
	Trials(ctx context.Context, study string) ([]store.Trial, error)
	LiveTrials(ctx context.Context, study string, from int) ([]store.Trial, error)
	Trial(ctx context.Context, study string, number int) (store.Trial, error)
}

// Options configure a dashboard. The zero value serves an unprotected
// dashboard that polls every second.
type Options struct {
	// Token, if not empty, must come with every request: as the query
	// parameter token, as "Authorization: Bearer TOKEN" or as the header
	// X-Goalsearch-Token.
	Token string
	// Store is how the page names the store (a file, or a database without
	// its password).
	Store string
	// Poll is how often the page asks for news; 0 means DefaultPoll.
	Poll time.Duration
}

// DefaultPoll is how often the page polls unless Options.Poll says
// otherwise: a new epoch shows within this and one request's time.
const DefaultPoll = time.Second

// TokenHeader is the header a script may send the token in.
const TokenHeader = "X-Goalsearch-Token"

var (
	//go:embed assets/index.html
	indexHTML string
	//go:embed assets/app.js
	appJS string
	//go:embed assets/style.css
	styleCSS string
)

// server is the dashboard's handler.
type server struct {
	r     Reader
	snap  *snapshots
	opts  Options
	mux   *http.ServeMux
	page  []byte // index.html with its script and style inline
	csp   string
	token [sha256.Size]byte
}

// New returns the dashboard's handler over r. The handler may be called
// from any number of goroutines; r must allow that too (every store does).
func New(r Reader, o Options) http.Handler {
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	// Snapshots a quarter of a poll old at most: the page's requests of
	// one poll share one store read, and a new epoch still shows within
	// about a poll.
	s := &server{r: r, snap: newSnapshots(r, min(o.Poll/4, 250*time.Millisecond)), opts: o, mux: http.NewServeMux(), token: sha256.Sum256([]byte(o.Token))}
	script := fmt.Sprintf("window.GOALSEARCH = {poll_ms: %d};\n%s", o.Poll.Milliseconds(), appJS)
	page := strings.Replace(indexHTML, "/*STYLE*/", styleCSS, 1)
	page = strings.Replace(page, "/*SCRIPT*/", script, 1)
	s.page = []byte(page)
	// The inline script is allowed by its hash, nothing else runs, and the
	// page may connect only to this server: a page that tried to load
	// anything from elsewhere would be stopped by the browser.
	sum := sha256.Sum256([]byte(script))
	s.csp = "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

	s.mux.HandleFunc("/{$}", s.index)
	s.mux.HandleFunc("/api/studies", s.apiStudies)
	s.mux.HandleFunc("/api/study", s.apiStudy)
	s.mux.HandleFunc("/api/trials", s.apiTrials)
	s.mux.HandleFunc("/api/trial", s.apiTrial)
	s.mux.HandleFunc("/api/importance", s.apiImportance)
	s.mux.HandleFunc("/api/evaluation", s.apiEvaluation)
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer") // the token may be in the address
	w.Header().Set("Cache-Control", "no-store")
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "goalsearch dashboard is read-only: only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	if s.opts.Token == "" {
		// Unprotected means loopback only (CheckAddr); refuse a Host that
		// is not loopback too, so that a web page whose name was rebound to
		// 127.0.0.1 cannot read the dashboard through the user's browser.
		if !loopbackHost(req.Host) {
			http.Error(w, fmt.Sprintf("goalsearch dashboard: host %q is not a loopback name; without --token the dashboard answers only to localhost", req.Host), http.StatusForbidden)
			return
		}
	} else if !s.authorised(req) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="goalsearch dashboard"`)
		http.Error(w, "goalsearch dashboard: this dashboard needs its token: open the address goalsearch printed, which ends in ?token=..., or send the header "+TokenHeader, http.StatusUnauthorized)
		return
	}
	s.mux.ServeHTTP(w, req)
}

// authorised compares the request's token with the dashboard's in constant
// time; hashing both first makes the time independent of their lengths too.
func (s *server) authorised(req *http.Request) bool {
	got := req.URL.Query().Get("token")
	if got == "" {
		got = req.Header.Get(TokenHeader)
	}
	if got == "" {
		if a, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
			got = strings.TrimSpace(a)
		}
	}
	h := sha256.Sum256([]byte(got))
	return got != "" && subtle.ConstantTimeCompare(h[:], s.token[:]) == 1
}

func (s *server) index(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", s.csp)
	w.Write(s.page)
}

// CheckAddr checks that the dashboard may listen on addr (host:port): a
// loopback address (127.0.0.1, ::1, localhost) always, any other only with
// a token, since the dashboard shows every study of the store to whoever
// reaches it. An empty host means every interface, which is not loopback.
func CheckAddr(addr, token string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want HOST:PORT, e.g. 127.0.0.1:8080 (%v)", addr, err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%q: port %q is not a port number", addr, port)
	}
	if loopbackHost(host) || token != "" {
		return nil
	}
	if host == "" {
		host = "every interface"
	}
	return notLoopback{fmt.Sprintf("%s listens on %s, not on loopback: anyone who reaches it would see every study; "+
		"give a token (then every request needs it), or listen on 127.0.0.1 and reach it through ssh -L", addr, host)}
}

// ErrNotLoopback is what CheckAddr's error is (errors.Is) when the address
// is fine but beyond loopback and there is no token.
var ErrNotLoopback = errors.New("dashboard: an address beyond loopback needs a token")

type notLoopback struct{ msg string }

func (e notLoopback) Error() string        { return e.msg }
func (e notLoopback) Is(target error) bool { return target == ErrNotLoopback }

// loopbackHost reports whether host (a name or address, with or without a
// port or brackets) names the loopback interface. Only "localhost" is
// taken as a name: resolving others could change between check and use.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Listen checks addr with CheckAddr and listens on it.
func Listen(addr, token string) (net.Listener, error) {
	if err := CheckAddr(addr, token); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w (is another dashboard running there? listen on another port, or on port 0 for any free one)", err)
	}
	return ln, nil
}

// URL is the address to open for a dashboard listening on ln: with the
// token, if any, so that the printed address is all a user needs.
func URL(ln net.Listener, token string) string {
	addr := ln.Addr().String()
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			addr = net.JoinHostPort("localhost", port)
		}
	}
	u := "http://" + addr + "/"
	if token != "" {
		u += "?token=" + token
	}
	return u
}

// Serve serves h on ln until ctx is done, then lets requests in progress
// finish (for up to two seconds) and returns nil; any other end of serving
// is returned.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-done; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
