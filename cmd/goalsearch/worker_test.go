package main

import (
	"bytes"
	"context"
	"fmt"
	"goalsearch/experiment"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"goalsearch/store"
	"goalsearch/store/pgstore"
	"goalsearch/store/pgstore/pgtest"
)

// pgDSN returns the test server's DSN with a fresh schema (dropped after
// the test) and an application name, by which the network-cut test finds
// the workers' connections.
func pgDSN(t *testing.T, app string) string {
	t.Helper()
	dsn := pgtest.DSN(t)
	schema := pgtest.Schema(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema + "&application_name=" + app
}

// The study of the multi-worker tests: CMA-ES on a synthetic function, 3
// generations of 7 trials of 3 epochs of 100 ms (--sleep is per trial).
var workerStudy = []string{"--study", "w", "--setup", "sphere", "--dim", "3", "--sampler", "cmaes", "--epochs", "3", "--sleep", "300ms", "--seed", "5"}

const workerTrials = "21"

// createStudy creates the study as 'goalsearch search' would, without
// running it.
func createStudy(t *testing.T, dsn string) {
	t.Helper()
	var ovs []experiment.Override
	for _, kv := range []string{"study=w", "network.setup=sphere", "synthetic.dim=3", "sampler.name=cmaes", "network.epochs=3", "synthetic.sleep=300ms", "seed=5"} {
		ov, _ := experiment.ParseOverride(kv)
		ovs = append(ovs, ov)
	}
	res, err := loadExperiment("", ovs)
	if err != nil {
		t.Fatal(err)
	}
	def := res.Study
	st, err := pgstore.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateStudy(context.Background(), def); err != nil {
		t.Fatal(err)
	}
}

// reference runs the study in one process on a file.
func reference(t *testing.T) store.Dump {
	t.Helper()
	ref := filepath.Join(t.TempDir(), "ref.db")
	args := append([]string{"search", "--store", ref, "--trials", workerTrials, "--workers", "2"}, workerStudy...)
	if code, _, errs := runCmd(t, args...); code != 0 {
		t.Fatalf("reference run: exit %d: %s", code, errs)
	}
	return studyDump(t, ref, "w")
}

// startWorker starts 'goalsearch worker' in a subprocess.
func startWorker(t *testing.T, dsn, name string) (*exec.Cmd, chan error, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "worker", "--store", dsn, "--study", "w", "--trials", workerTrials, "--generation-size", "2",
		"--lease", "1s", "--poll", "50ms", "--name", name)
	cmd.Env = append(os.Environ(), "GOALSEARCH_TEST_MAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, done, &out
}

func waitWorker(t *testing.T, name string, done chan error, out *bytes.Buffer) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker %s: %v\n%s", name, err, out)
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("worker %s did not finish\n%s", name, out)
	}
}

// checkShared checks that every trial finished complete exactly once and
// that the study equals the single-process run's; it returns the trials.
func checkShared(t *testing.T, dsn string, want store.Dump) []store.Trial {
	t.Helper()
	st, err := pgstore.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	d, err := st.Export(context.Background(), "w")
	if err != nil {
		t.Fatal(err)
	}
	trials := slices.Clone(d.Trials)
	d.Study.CreatedAt = time.Time{}
	for i := range d.Trials {
		tr := &d.Trials[i]
		if tr.State != store.Complete || len(tr.Epochs) != 3 {
			t.Errorf("trial %d is %s with %d epochs, want complete with 3", tr.Number, tr.State, len(tr.Epochs))
		}
		tr.Created, tr.Started, tr.Finished, tr.WallTime, tr.Worker, tr.Attempt, tr.LeaseExpiry = time.Time{}, time.Time{}, time.Time{}, 0, "", 0, time.Time{}
		for j := range tr.Epochs {
			tr.Epochs[j].Seconds = 0
		}
	}
	for i := range d.SamplerStates {
		d.SamplerStates[i].CreatedAt = time.Time{}
	}
	d.Checkpoints = nil
	if len(d.Trials) != len(want.Trials) {
		t.Fatalf("%d trials, want %d", len(d.Trials), len(want.Trials))
	}
	for i := range want.Trials {
		if !reflect.DeepEqual(d.Trials[i], want.Trials[i]) {
			t.Fatalf("trial %d differs from the single-process run:\n got %+v\nwant %+v", i, d.Trials[i], want.Trials[i])
		}
	}
	if !reflect.DeepEqual(d.SamplerStates, want.SamplerStates) {
		t.Fatal("sampler states differ from the single-process run")
	}
	return trials
}

// TestWorkersSurviveKill runs 4 worker processes, kills one with SIGKILL
// while it trains a trial, starts it again, and checks that the study
// completes with every trial finished once and the results of a
// single-process run.
func TestWorkersSurviveKill(t *testing.T) {
	t.Parallel()
	dsn := pgDSN(t, "goalsearch_kill")
	want := reference(t)
	createStudy(t, dsn)

	type proc struct {
		name string
		done chan error
		out  *bytes.Buffer
	}
	var procs []proc
	var victim *exec.Cmd
	var victimDone chan error
	for i := 0; i < 4; i++ {
		name := fmt.Sprint("w", i)
		cmd, done, out := startWorker(t, dsn, name)
		if i == 0 {
			victim, victimDone = cmd, done
		} else {
			procs = append(procs, proc{name, done, out})
		}
	}
	// Kill w0 once it has reported an epoch of a trial it still runs.
	st, err := pgstore.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var killedTrial = -1
	for deadline := time.Now().Add(30 * time.Second); killedTrial < 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("w0 never ran a trial")
		}
		ts, _ := st.Trials(context.Background(), "w")
		for _, tr := range ts {
			if tr.State == store.Running && tr.Worker == "w0" && len(tr.Epochs) >= 1 {
				killedTrial = tr.Number
			}
		}
	}
	victim.Process.Signal(syscall.SIGKILL)
	<-victimDone // startWorker's goroutine reaps it
	t.Logf("killed w0 during trial %d", killedTrial)
	_, done, out := startWorker(t, dsn, "w0-again")
	procs = append(procs, proc{"w0-again", done, out})
	for _, p := range procs {
		waitWorker(t, p.name, p.done, p.out)
	}
	trials := checkShared(t, dsn, want)
	if tr := trials[killedTrial]; tr.Attempt != 2 || tr.Worker == "w0" {
		t.Errorf("killed trial %d: attempt %d by %s; want the second attempt by another worker", killedTrial, tr.Attempt, tr.Worker)
	}
	for _, tr := range trials {
		if tr.Number != killedTrial && tr.Attempt != 1 {
			t.Errorf("trial %d ran %d times", tr.Number, tr.Attempt)
		}
	}
}

// TestWorkersSurviveNetworkCut cuts the workers' connections (the server
// terminates their backends, as when it restarts) several times during a
// search: the workers reconnect, and nothing is lost or computed twice.
func TestWorkersSurviveNetworkCut(t *testing.T) {
	t.Parallel()
	app := fmt.Sprintf("goalsearch_cut_%d", os.Getpid())
	dsn := pgDSN(t, app)
	want := reference(t)
	createStudy(t, dsn)
	type proc struct {
		name string
		done chan error
		out  *bytes.Buffer
	}
	var procs []proc
	for i := 0; i < 3; i++ {
		name := fmt.Sprint("c", i)
		_, done, out := startWorker(t, dsn, name)
		procs = append(procs, proc{name, done, out})
	}
	conn, err := pgx.Connect(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	cuts := 0
	for i := 0; i < 4; i++ {
		time.Sleep(700 * time.Millisecond)
		var n int
		err := conn.QueryRow(context.Background(),
			`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		cuts += n
	}
	t.Logf("terminated %d connections", cuts)
	if cuts == 0 {
		t.Fatal("no worker connection was cut")
	}
	for _, p := range procs {
		waitWorker(t, p.name, p.done, p.out)
	}
	checkShared(t, dsn, want)
}

// TestWorkersSurviveServerRestart restarts the PostgreSQL server (pg_ctl
// restart, on a server of its own: GOALSEARCH_TEST_PG_RESTART, whose
// restart.sh .ci/postgres.sh writes beside the socket directory) twice
// while three workers run a study: they wait for it, reconnect, and the
// study ends as a single-process run does.
func TestWorkersSurviveServerRestart(t *testing.T) {
	t.Parallel()
	base := os.Getenv("GOALSEARCH_TEST_PG_RESTART")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("GOALSEARCH_TEST_PG_RESTART is not set under CI: .ci/run must start a second server")
		}
		t.Skip("GOALSEARCH_TEST_PG_RESTART is not set; start a server with .ci/postgres.sh")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	restart := filepath.Join(filepath.Dir(u.Query().Get("host")), "restart.sh")
	if _, err := os.Stat(restart); err != nil {
		t.Fatalf("no restart script beside the server's socket: %v", err)
	}
	// A schema of its own on that server, dropped at the end.
	conn, err := pgx.Connect(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("t_restart_%d", os.Getpid())
	conn.Close(context.Background())
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), base); err == nil {
			c.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
			c.Close(context.Background())
		}
	})
	dsn := base + "&search_path=" + schema + "&application_name=goalsearch_restart"
	want := reference(t)
	createStudy(t, dsn)
	type proc struct {
		name string
		done chan error
		out  *bytes.Buffer
	}
	var procs []proc
	for i := 0; i < 3; i++ {
		name := fmt.Sprint("r", i)
		_, done, out := startWorker(t, dsn, name)
		procs = append(procs, proc{name, done, out})
	}
	for i := 0; i < 2; i++ {
		time.Sleep(900 * time.Millisecond)
		if out, err := exec.Command("bash", restart).CombinedOutput(); err != nil {
			t.Fatalf("restarting the server: %v: %s", err, out)
		}
	}
	for _, p := range procs {
		waitWorker(t, p.name, p.done, p.out)
	}
	checkShared(t, dsn, want)
}

// TestMigrateRoundTrip copies a study from a file to PostgreSQL and back,
// and checks that nothing changed.
func TestMigrateRoundTrip(t *testing.T) {
	dsn := pgDSN(t, "goalsearch_migrate")
	dir := t.TempDir()
	src, back := filepath.Join(dir, "src.db"), filepath.Join(dir, "back.db")
	args := append([]string{"search", "--store", src, "--trials", "5", "--workers", "1"}, workerStudy...)
	args[len(args)-3] = "1ms" // --sleep
	if code, _, errs := runCmd(t, args...); code != 0 {
		t.Fatalf("search: exit %d: %s", code, errs)
	}
	if code, out, errs := runCmd(t, "migrate", "--from", src, "--to", dsn); code != 0 || !strings.Contains(out, "copied study w") {
		t.Fatalf("migrate to postgres: exit %d: %s %s", code, out, errs)
	}
	if code, _, _ := runCmd(t, "migrate", "--from", src, "--to", dsn); code == 0 {
		t.Error("a second migrate without --replace succeeded")
	}
	if code, out, errs := runCmd(t, "migrate", "--from", dsn, "--to", back); code != 0 {
		t.Fatalf("migrate back: exit %d: %s %s", code, out, errs)
	}
	read := func(path string) string {
		st, err := openStore(path, true)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		d, err := st.Export(context.Background(), "w")
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := store.WriteJSON(&b, d); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if a, b := read(src), read(back); a != b {
		t.Errorf("the study changed on its way to PostgreSQL and back:\n%s\n%s", a, b)
	}
	if code, out, errs := runCmd(t, "status", "--store", dsn, "w"); code != 0 || !strings.Contains(out, "sphere") {
		t.Errorf("status on postgres: exit %d: %s %s", code, out, errs)
	}
}
