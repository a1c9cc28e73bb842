package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"goalsearch/store"
	"goalsearch/summary"
)

// The JSON API. Every answer is built from one or a few store reads and
// the summary package; the structs here only rename and convert.

// Num is a float64 that is null in JSON when it is NaN or infinite (a
// diverged trial's loss), which JSON cannot say otherwise.
type Num float64

// MarshalJSON writes the number, or null.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

func nums(v []float64) []Num {
	if v == nil {
		return nil
	}
	out := make([]Num, len(v))
	for i, x := range v {
		out[i] = Num(x)
	}
	return out
}

func numPtr(v *float64) *Num {
	if v == nil {
		return nil
	}
	n := Num(*v)
	return &n
}

// seedString writes a seed as a string: seeds use all 64 bits, and a
// JavaScript number keeps only 53.
func seedString(s uint64) string { return strconv.FormatUint(s, 10) }

// CountsJSON splits trials by state.
type CountsJSON struct {
	Total    int `json:"total"`
	Complete int `json:"complete"`
	Pruned   int `json:"pruned"`
	Failed   int `json:"failed"`
	Running  int `json:"running"`
	Queued   int `json:"queued"`
	Paused   int `json:"paused"`
}

func countStates(trials []store.Trial) CountsJSON {
	c := CountsJSON{Total: len(trials)}
	for _, t := range trials {
		switch t.State {
		case store.Complete:
			c.Complete++
		case store.Pruned:
			c.Pruned++
		case store.Failed:
			c.Failed++
		case store.Running:
			c.Running++
		case store.Queued:
			c.Queued++
		case store.Paused:
			c.Paused++
		}
	}
	return c
}

// StudyItem is one study of the store's list.
type StudyItem struct {
	Name string `json:"name"`
	// Kind is "search" or "evaluation"; EvalKind and Group say which
	// evaluation (summary.KindEvaluate, ...) of which study.
	Kind      string     `json:"kind"`
	EvalKind  string     `json:"eval_kind,omitempty"`
	Group     string     `json:"group,omitempty"`
	Setup     string     `json:"setup"`
	Sampler   string     `json:"sampler"`
	Pruner    string     `json:"pruner,omitempty"`
	Metric    string     `json:"metric"`
	Direction string     `json:"direction"`
	Created   time.Time  `json:"created"`
	Counts    CountsJSON `json:"counts"`
	// BestTrial and BestValue are the best complete trial; absent if none.
	BestTrial *int `json:"best_trial,omitempty"`
	BestValue *Num `json:"best_value,omitempty"`
	// LastActivity is the latest start or finish of a trial.
	LastActivity time.Time `json:"last_activity,omitzero"`
	WallSeconds  float64   `json:"wall_seconds"`
	// Seeds is the number of seeds of an evaluation study.
	Seeds int `json:"seeds,omitempty"`
	// Progress is the best complete value so far after every finished
	// trial, thinned to at most 48 points, for a sparkline; null before
	// the first complete trial. Only in /api/studies, for searches.
	Progress []Num `json:"progress,omitempty"`
}

// StudiesJSON is GET /api/studies.
type StudiesJSON struct {
	Store   string      `json:"store"`
	Now     time.Time   `json:"now"`
	Studies []StudyItem `json:"studies"`
}

func (s *server) apiStudies(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	studies, err := s.r.Studies(ctx)
	if err != nil {
		fail(w, err)
		return
	}
	out := StudiesJSON{Store: s.opts.Store, Now: time.Now().UTC(), Studies: []StudyItem{}}
	for _, st := range studies {
		trials, err := s.snap.trials(ctx, st)
		if err != nil {
			fail(w, err)
			return
		}
		it := studyItem(st, trials)
		if it.Kind == "search" {
			it.Progress = progress(st, trials, 48)
		}
		out.Studies = append(out.Studies, it)
	}
	reply(w, out)
}

func studyItem(st store.Study, trials []store.Trial) StudyItem {
	it := StudyItem{Name: st.Name, Kind: "search", Setup: st.Setup.Name, Sampler: st.Sampler.Name, Pruner: st.Pruner.Name,
		Metric: st.Objective.Metric, Direction: string(st.Objective.Direction), Created: st.CreatedAt, Counts: countStates(trials)}
	if summary.IsEvalStudy(st) {
		it.Kind = "evaluation"
		if cfg, err := summary.ReadEvalConfig(st); err == nil {
			it.EvalKind, it.Group, it.Seeds = cfg.Kind, cfg.Group, len(cfg.Seeds)
		}
	}
	maximize := st.Objective.Direction != store.Minimize
	if r := summary.Ranked(trials, maximize); len(r) > 0 {
		n, v := r[0].Number, Num(*r[0].Value)
		it.BestTrial, it.BestValue = &n, &v
	}
	var wall time.Duration
	for _, t := range trials {
		wall += t.WallTime
		for _, at := range []time.Time{t.Started, t.Finished} {
			if at.After(it.LastActivity) {
				it.LastActivity = at
			}
		}
	}
	it.WallSeconds = wall.Seconds()
	return it
}

// progress is the best value so far after each finished trial
// (summary.SearchSummary.History), at most n points of it, the last always
// among them.
func progress(st store.Study, trials []store.Trial, n int) []Num {
	h := summary.Search(st, trials, 0, 0).History
	var out []Num
	for i := range min(n, len(h)) {
		k := (i + 1) * len(h) / min(n, len(h))
		out = append(out, Num(h[k-1].BestSoFar))
	}
	return out
}

// StudyJSON is GET /api/study?study=NAME: a study's definition and the
// summary of its trials.
type StudyJSON struct {
	StudyItem
	Seed          string          `json:"seed"`
	SetupConfig   json.RawMessage `json:"setup_config,omitempty"`
	SamplerConfig json.RawMessage `json:"sampler_config,omitempty"`
	PrunerConfig  json.RawMessage `json:"pruner_config,omitempty"`
	// Labels name the goal's coordinates; Lower and Upper bound them;
	// Fixed gives the fixed ones their value; Free are the indices of the
	// searched ones.
	Labels   []string           `json:"labels"`
	Lower    []Num              `json:"lower"`
	Upper    []Num              `json:"upper"`
	Fixed    map[string]float64 `json:"fixed,omitempty"`
	Free     []int              `json:"free"`
	UnitNorm bool               `json:"unit_norm"`
	// Epochs is a full trial's epochs, Hidden the hidden neurons (0 for
	// synthetic setups, whose values are not accuracies).
	Epochs    int  `json:"epochs"`
	Hidden    int  `json:"hidden,omitempty"`
	Synthetic bool `json:"synthetic"`
	// History has one point per finished trial in trial order, with the
	// best complete value up to it (summary.SearchSummary.History).
	History     []HistoryJSON `json:"history"`
	Leaderboard []EntryJSON   `json:"leaderboard"`
	Failures    []FailureJSON `json:"failures,omitempty"`
	// Evaluations name the evaluation studies of this study's goals.
	Evaluations []StudyItem `json:"evaluations"`
	// LeaseSeconds is how long a running trial stays leased without a
	// heartbeat on a shared store (PostgreSQL); 0 without leases.
	LeaseSeconds float64 `json:"lease_seconds,omitempty"`
}

// HistoryJSON is one finished trial of the optimisation history.
type HistoryJSON struct {
	Trial     int    `json:"trial"`
	State     string `json:"state"`
	Value     Num    `json:"value"`
	BestSoFar Num    `json:"best_so_far"`
}

// EntryJSON is one trial of the leaderboard.
type EntryJSON struct {
	Rank        int     `json:"rank"`
	Trial       int     `json:"trial"`
	Value       Num     `json:"value"`
	Gamma       []Num   `json:"gamma"`
	Epochs      int     `json:"epochs"`
	WallSeconds float64 `json:"wall_seconds"`
}

// FailureJSON is a reason trials failed and how many did.
type FailureJSON struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

func (s *server) apiStudy(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	st, ok := s.study(w, req)
	if !ok {
		return
	}
	trials, err := s.snap.trials(ctx, st)
	if err != nil {
		fail(w, err)
		return
	}
	sum := summary.Search(st, trials, 10, 0)
	out := StudyJSON{
		StudyItem: studyItem(st, trials), Seed: seedString(st.Seed),
		SetupConfig: st.Setup.Config, SamplerConfig: st.Sampler.Config, PrunerConfig: st.Pruner.Config,
		Labels: st.Space.Labels, Lower: nums(st.Space.Lower), Upper: nums(st.Space.Upper), Fixed: st.Space.Fixed,
		Free: sum.Free, UnitNorm: st.Space.UnitNorm, Epochs: sum.Epochs, Hidden: sum.Hidden, Synthetic: sum.Synthetic,
		History: []HistoryJSON{}, Leaderboard: []EntryJSON{}, Evaluations: []StudyItem{},
	}
	if out.Free == nil {
		out.Free = []int{}
	}
	if summary.IsEvalStudy(st) {
		if cfg, err := summary.ReadEvalConfig(st); err == nil {
			out.Epochs, out.Hidden = cfg.Epochs, cfg.Hidden
		}
	}
	for _, h := range sum.History {
		out.History = append(out.History, HistoryJSON{Trial: h.Trial, State: string(h.State), Value: Num(h.Value), BestSoFar: Num(h.BestSoFar)})
	}
	for _, e := range sum.Leaderboard {
		out.Leaderboard = append(out.Leaderboard, EntryJSON{Rank: e.Rank, Trial: e.Trial, Value: Num(e.Value), Gamma: nums(e.Gamma), Epochs: e.Epochs, WallSeconds: e.WallTime.Seconds()})
	}
	for _, f := range sum.Failures {
		out.Failures = append(out.Failures, FailureJSON{Reason: f.Reason, Count: f.Count})
	}
	if l, ok := s.r.(store.Leaser); ok {
		out.LeaseSeconds = l.Lease().Seconds()
	}
	evals, err := s.evaluationsOf(req, st.Name)
	if err != nil {
		fail(w, err)
		return
	}
	out.Evaluations = evals
	reply(w, out)
}

// evaluationsOf lists the evaluation studies whose goals come from study.
func (s *server) evaluationsOf(req *http.Request, study string) ([]StudyItem, error) {
	ctx := req.Context()
	studies, err := s.r.Studies(ctx)
	if err != nil {
		return nil, err
	}
	out := []StudyItem{}
	for _, st := range studies {
		cfg, err := summary.ReadEvalConfig(st)
		if err != nil || cfg.Group != study {
			continue
		}
		trials, err := s.snap.trials(ctx, st)
		if err != nil {
			return nil, err
		}
		out = append(out, studyItem(st, trials))
	}
	return out, nil
}

// TrialJSON is a trial. Curves are columns: Epoch[i] is the epoch of
// ValAcc[i] and the others. Atoms (per hidden neuron, the goal's order with
// H_res last) come only from /api/trial.
type TrialJSON struct {
	Number      int       `json:"number"`
	State       string    `json:"state"`
	Value       *Num      `json:"value"`
	Gamma       []Num     `json:"gamma"`
	Seed        string    `json:"seed"`
	Generation  int       `json:"generation"`
	Budget      int       `json:"budget,omitempty"`
	Attempt     int       `json:"attempt"`
	Worker      string    `json:"worker,omitempty"`
	LeaseExpiry time.Time `json:"lease_expiry,omitzero"`
	// LastEpoch is the last reported epoch, 0 if none.
	LastEpoch       int   `json:"last_epoch"`
	Epoch           []int `json:"epoch"`
	ValAcc          []Num `json:"val_acc"`
	TrainAcc        []Num `json:"train_acc,omitempty"`
	TrainLoss       []Num `json:"train_loss,omitempty"`
	TestAcc         []Num `json:"test_acc,omitempty"`
	EpochSeconds    []Num `json:"epoch_seconds,omitempty"`
	CheckpointEpoch int   `json:"checkpoint_epoch,omitempty"`
	// Final holds the final metrics by name.
	Final       map[string]Num `json:"final,omitempty"`
	WallSeconds float64        `json:"wall_seconds"`
	Reason      string         `json:"reason,omitempty"`
	Created     time.Time      `json:"created,omitzero"`
	Started     time.Time      `json:"started,omitzero"`
	Finished    time.Time      `json:"finished,omitzero"`
	Atoms       [][]Num        `json:"atoms,omitempty"`
	AtomsMean   []Num          `json:"atoms_mean,omitempty"`
}

func trialJSON(t store.Trial, full bool) TrialJSON {
	j := TrialJSON{Number: t.Number, State: string(t.State), Value: numPtr(t.Value), Gamma: nums(t.Gamma), Seed: seedString(t.Seed),
		Generation: t.Generation, Budget: t.Budget, Attempt: t.Attempt, Worker: t.Worker, LeaseExpiry: t.LeaseExpiry,
		LastEpoch: t.LastEpoch(), Epoch: []int{}, ValAcc: []Num{}, CheckpointEpoch: t.CheckpointEpoch, WallSeconds: t.WallTime.Seconds(),
		Reason: t.Reason, Created: t.Created, Started: t.Started, Finished: t.Finished}
	if t.State == store.Failed {
		j.Value = nil // a failed trial has no value, whatever was stored
	}
	hasTest := false
	for _, m := range t.Epochs {
		j.Epoch = append(j.Epoch, m.Epoch)
		j.ValAcc = append(j.ValAcc, Num(m.ValAcc))
		hasTest = hasTest || m.TestAcc != nil
	}
	if !full {
		return j
	}
	for _, m := range t.Epochs {
		j.TrainAcc = append(j.TrainAcc, Num(m.TrainAcc))
		j.TrainLoss = append(j.TrainLoss, Num(m.TrainLoss))
		j.EpochSeconds = append(j.EpochSeconds, Num(m.Seconds))
		if hasTest {
			test := math.NaN()
			if m.TestAcc != nil {
				test = *m.TestAcc
			}
			j.TestAcc = append(j.TestAcc, Num(test))
		}
	}
	if len(t.Final) > 0 {
		j.Final = map[string]Num{}
		for k, v := range t.Final {
			j.Final[k] = Num(v)
		}
	}
	var mean []float64
	for _, row := range t.Atoms {
		j.Atoms = append(j.Atoms, nums(row))
		if mean == nil {
			mean = make([]float64, len(row))
		}
		for k := range min(len(row), len(mean)) {
			mean[k] += row[k] / float64(len(t.Atoms))
		}
	}
	j.AtomsMean = nums(mean)
	return j
}

// TrialsJSON is GET /api/trials?study=NAME[&from=N][&watch=A,B,...]: every
// trial numbered from N or higher, every unfinished trial, and the trials
// numbered in watch (those a client saw unfinished: they may have finished
// since). A client that asks with from one above the highest number it
// knows and watch its unfinished trials keeps its view current with
// answers that do not grow with the study; the server answers from its
// snapshot of the study (snapshots), refreshed through
// store.Store.LiveTrials.
type TrialsJSON struct {
	Study  string      `json:"study"`
	Now    time.Time   `json:"now"`
	Trials []TrialJSON `json:"trials"`
}

func (s *server) apiTrials(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	st, ok := s.study(w, req)
	if !ok {
		return
	}
	q := req.URL.Query()
	from := 0
	if v := q.Get("from"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			badRequest(w, "from %q: want a trial number, 0 or more", v)
			return
		}
		from = n
	}
	var watch []int
	if v := q.Get("watch"); v != "" {
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 {
				badRequest(w, "watch %q: want trial numbers separated by commas", v)
				return
			}
			watch = append(watch, n)
		}
	}
	trials, err := s.snap.trials(ctx, st)
	if err != nil {
		fail(w, err)
		return
	}
	watched := map[int]bool{}
	for _, n := range watch {
		watched[n] = true
	}
	out := TrialsJSON{Study: st.Name, Now: time.Now().UTC(), Trials: []TrialJSON{}}
	for _, t := range trials {
		if t.Number >= from || !t.State.Finished() || watched[t.Number] {
			out.Trials = append(out.Trials, trialJSON(t, false))
		}
	}
	reply(w, out)
}

// TrialDetailJSON is GET /api/trial?study=NAME&number=N: one trial with
// every per-epoch metric and its neurons' atoms.
type TrialDetailJSON struct {
	Study  string    `json:"study"`
	Labels []string  `json:"labels"`
	Metric string    `json:"metric"`
	Now    time.Time `json:"now"`
	Trial  TrialJSON `json:"trial"`
}

func (s *server) apiTrial(w http.ResponseWriter, req *http.Request) {
	st, ok := s.study(w, req)
	if !ok {
		return
	}
	v := req.URL.Query().Get("number")
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		badRequest(w, "number %q: want a trial number, 0 or more", v)
		return
	}
	t, err := s.r.Trial(req.Context(), st.Name, n)
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, TrialDetailJSON{Study: st.Name, Labels: st.Space.Labels, Metric: st.Objective.Metric, Now: time.Now().UTC(), Trial: trialJSON(t, true)})
}

// ImportanceJSON is GET /api/importance?study=NAME: each searched weight's
// share of the variance of the values (summary.StudyImportance), and, when
// goalsearch analyze measured it, the best goal's sensitivity to each
// weight.
type ImportanceJSON struct {
	Study       string            `json:"study"`
	Method      string            `json:"method"`
	Trials      int               `json:"trials"`
	MinTrials   int               `json:"min_trials"`
	Bins        int               `json:"bins"`
	Rows        []ImportanceRow   `json:"rows"`
	Sensitivity []SensitivityJSON `json:"sensitivity"`
}

// ImportanceRow is one weight's importance.
type ImportanceRow struct {
	Label      string `json:"label"`
	Index      int    `json:"index"`
	Share      Num    `json:"share"`
	Normalized Num    `json:"normalized"`
	Spearman   Num    `json:"spearman"`
}

// SensitivityJSON is a sensitivity study of the study's best goal: per
// weight, the change of mean validation accuracy when it is set to 0.
type SensitivityJSON struct {
	Study    string               `json:"study"`
	Baseline string               `json:"baseline"`
	Val      Num                  `json:"val_acc"`
	Rows     []SensitivityRowJSON `json:"rows"`
}

// SensitivityRowJSON is one weight of a sensitivity study.
type SensitivityRowJSON struct {
	Rank   int    `json:"rank"`
	Atom   string `json:"atom"`
	Weight Num    `json:"weight"`
	// ZeroDelta is the zeroed goal's mean validation accuracy minus the
	// baseline's, paired by seed; null when not evaluated.
	ZeroDelta *Num `json:"zero_delta"`
	ZeroN     int  `json:"zero_n"`
}

func (s *server) apiImportance(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	st, ok := s.study(w, req)
	if !ok {
		return
	}
	trials, err := s.snap.trials(ctx, st)
	if err != nil {
		fail(w, err)
		return
	}
	imp := summary.StudyImportance(st, trials)
	out := ImportanceJSON{Study: st.Name, Method: summary.ImportanceMethod, Trials: imp.Trials, MinTrials: summary.MinImportanceTrials,
		Bins: imp.Bins, Rows: []ImportanceRow{}, Sensitivity: []SensitivityJSON{}}
	for _, r := range imp.Rows {
		out.Rows = append(out.Rows, ImportanceRow{Label: r.Label, Index: r.Index, Share: Num(r.Share), Normalized: Num(r.Normalized), Spearman: Num(r.Spearman)})
	}
	studies, err := s.r.Studies(ctx)
	if err != nil {
		fail(w, err)
		return
	}
	for _, es := range studies {
		cfg, err := summary.ReadEvalConfig(es)
		if err != nil || cfg.Group != st.Name || cfg.Kind != summary.KindSensitivity {
			continue
		}
		et, err := s.snap.trials(ctx, es)
		if err != nil {
			fail(w, err)
			return
		}
		e := summary.Eval(es, et)
		if e.Sensitivity == nil {
			continue
		}
		sj := SensitivityJSON{Study: es.Name, Baseline: e.Sensitivity.Baseline, Val: Num(e.Sensitivity.Val.Mean), Rows: []SensitivityRowJSON{}}
		for _, r := range e.Sensitivity.Rows {
			row := SensitivityRowJSON{Rank: r.Rank, Atom: r.Atom, Weight: Num(r.Weight)}
			if r.Zero != nil {
				d := Num(r.Zero.Paired.Diff)
				if r.Zero.Paired.N == 0 {
					d = Num(math.Inf(-1)) // every zeroed run failed: null, with n 0
				}
				row.ZeroDelta, row.ZeroN = &d, r.Zero.Paired.N
			}
			sj.Rows = append(sj.Rows, row)
		}
		out.Sensitivity = append(out.Sensitivity, sj)
	}
	reply(w, out)
}

// EvaluationJSON is GET /api/evaluation?study=NAME: an evaluation study
// goal by goal, with each goal's runs by seed (summary.Eval).
type EvaluationJSON struct {
	Study    string         `json:"study"`
	Kind     string         `json:"kind"`
	Group    string         `json:"group"`
	Setup    string         `json:"setup"`
	Hidden   int            `json:"hidden"`
	Epochs   int            `json:"epochs"`
	Seeds    []string       `json:"seeds"`
	Labels   []string       `json:"labels"`
	Note     string         `json:"note,omitempty"`
	Created  time.Time      `json:"created"`
	Counts   CountsJSON     `json:"counts"`
	Goals    []EvalGoalJSON `json:"goals"`
	Failures []FailureJSON  `json:"failures,omitempty"`
	Error    string         `json:"error,omitempty"`
	Now      time.Time      `json:"now"`
}

// EvalGoalJSON is one evaluated goal over its seeds.
type EvalGoalJSON struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	Gamma []Num  `json:"gamma,omitempty"`
	// Trial is the source trial's number, -1 if none.
	Trial     int           `json:"trial"`
	Heuristic bool          `json:"heuristic"`
	Val       SampleJSON    `json:"val_acc"`
	Test      SampleJSON    `json:"test_acc"`
	Runs      []EvalRunJSON `json:"runs"`
	// CurveEpoch, CurveVal and CurveTest are the mean learning curve over
	// the complete runs.
	CurveEpoch []int `json:"curve_epoch"`
	CurveVal   []Num `json:"curve_val_acc"`
	CurveTest  []Num `json:"curve_test_acc,omitempty"`
	AtomsMean  []Num `json:"atoms_mean,omitempty"`
}

// SampleJSON summarises values over seeds; null statistics are undefined
// (a spread of one value).
type SampleJSON struct {
	N      int `json:"n"`
	Mean   Num `json:"mean"`
	Std    Num `json:"std"`
	Median Num `json:"median"`
	Min    Num `json:"min"`
	Max    Num `json:"max"`
}

func sampleJSON(s summary.Sample) SampleJSON {
	return SampleJSON{N: s.N, Mean: Num(s.Mean), Std: Num(s.Std), Median: Num(s.Median), Min: Num(s.Min), Max: Num(s.Max)}
}

// EvalRunJSON is one run of a goal: one seed.
type EvalRunJSON struct {
	Trial     int    `json:"trial"`
	Seed      string `json:"seed"`
	State     string `json:"state"`
	LastEpoch int    `json:"last_epoch"`
	ValAcc    *Num   `json:"val_acc"`
	TestAcc   *Num   `json:"test_acc"`
	Reason    string `json:"reason,omitempty"`
}

func (s *server) apiEvaluation(w http.ResponseWriter, req *http.Request) {
	st, ok := s.study(w, req)
	if !ok {
		return
	}
	trials, err := s.snap.trials(req.Context(), st)
	if err != nil {
		fail(w, err)
		return
	}
	e := summary.Eval(st, trials)
	out := EvaluationJSON{Study: st.Name, Kind: e.Kind, Group: e.Group, Setup: e.Setup, Hidden: e.Hidden, Epochs: e.Epochs,
		Seeds: []string{}, Labels: e.Labels, Note: e.Note, Created: e.Created, Counts: countStates(trials), Goals: []EvalGoalJSON{},
		Error: e.Err, Now: time.Now().UTC()}
	for _, sd := range e.Seeds {
		out.Seeds = append(out.Seeds, seedString(sd))
	}
	for _, f := range e.Failures {
		out.Failures = append(out.Failures, FailureJSON{Reason: f.Reason, Count: f.Count})
	}
	byGoal := map[int][]store.Trial{}
	for _, t := range trials {
		byGoal[summary.GoalIndex(t)] = append(byGoal[summary.GoalIndex(t)], t)
	}
	for _, g := range e.Goals {
		gj := EvalGoalJSON{Index: g.Index, Name: g.Goal.Name, Gamma: nums(g.Goal.Gamma), Trial: g.Goal.Trial, Heuristic: g.Heuristic,
			Val: sampleJSON(g.Val), Test: sampleJSON(g.Test), Runs: []EvalRunJSON{}, CurveEpoch: g.Curve.Epochs,
			CurveVal: nums(g.Curve.Val), CurveTest: nums(g.Curve.Test), AtomsMean: nums(g.Atoms)}
		if gj.CurveEpoch == nil {
			gj.CurveEpoch, gj.CurveVal = []int{}, []Num{}
		}
		for _, t := range byGoal[g.Index] {
			r := EvalRunJSON{Trial: t.Number, Seed: seedString(t.Seed), State: string(t.State), LastEpoch: t.LastEpoch(), Reason: t.Reason}
			if v, ok := t.Final["val_acc"]; ok {
				r.ValAcc = numPtr(&v)
			}
			if v, ok := t.Final["test_acc"]; ok {
				r.TestAcc = numPtr(&v)
			}
			gj.Runs = append(gj.Runs, r)
		}
		out.Goals = append(out.Goals, gj)
	}
	reply(w, out)
}

// study reads the study the query's study parameter names, answering the
// request itself when it cannot.
func (s *server) study(w http.ResponseWriter, req *http.Request) (store.Study, bool) {
	name := req.URL.Query().Get("study")
	if name == "" {
		badRequest(w, "the query needs study=NAME")
		return store.Study{}, false
	}
	st, err := s.r.Study(req.Context(), name)
	if err != nil {
		fail(w, err)
		return store.Study{}, false
	}
	return st, true
}

// ErrorJSON is every error's answer.
type ErrorJSON struct {
	Error string `json:"error"`
}

func reply(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, store.ErrStudyNotFound), errors.Is(err, store.ErrTrialNotFound):
		code = http.StatusNotFound
	case errors.Is(err, store.ErrClosed):
		code = http.StatusServiceUnavailable
	}
	writeError(w, code, err.Error())
}

func badRequest(w http.ResponseWriter, format string, a ...any) {
	writeError(w, http.StatusBadRequest, "goalsearch dashboard: "+fmt.Sprintf(format, a...))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(ErrorJSON{Error: msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}
