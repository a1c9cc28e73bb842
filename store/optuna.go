package store

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Optuna's journal storage (optuna.storages.JournalStorage with
// JournalFileStorage, Optuna 3.1 and later) is a log of operations, one
// JSON object per line, each with an "op_code" and the "worker_id" that
// wrote it; Optuna replays the log to rebuild its studies. Optuna numbers
// studies and trials in the order they are created, from 0, so a journal
// holding one study has study_id 0 and, because goalsearch numbers trials
// from 0 without gaps, trial_id = trial number = the goalsearch trial number.
// The op codes and fields are those of optuna/storages/_journal/storage.py
// (JournalOperation, JournalStorage._write_log and the _apply_* methods).
const (
	optunaCreateStudy            = 0
	optunaSetStudyUserAttr       = 2
	optunaCreateTrial            = 4
	optunaSetTrialParam          = 5
	optunaSetTrialStateValues    = 6
	optunaSetTrialIntermediate   = 7
	optunaSetTrialUserAttr       = 8
	optunaWorker                 = "goalsearch-export"
	optunaDirectionMinimize      = 1 // optuna.study.StudyDirection
	optunaDirectionMaximize      = 2
	optunaRunning, optunaWaiting = 0, 4 // optuna.trial.TrialState
	optunaComplete, optunaPruned = 1, 2
	optunaFail                   = 3
)

// optunaState maps a trial state to Optuna's. Optuna has no paused state:
// a paused trial may still be promoted, so it is running (its goalsearch
// state is kept in the user attribute "state").
func optunaState(s TrialState) int {
	switch s {
	case Queued:
		return optunaWaiting
	case Complete:
		return optunaComplete
	case Pruned:
		return optunaPruned
	case Failed:
		return optunaFail
	}
	return optunaRunning
}

// pyFloat is a float64 written as Python's json.dumps writes one (with a
// fraction or an exponent), so that Optuna reads a float, not an int.
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte("null"), nil
	}
	s := strconv.FormatFloat(x, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return []byte(s), nil
}

// optunaTime is a time as Optuna writes it: ISO 8601 in local time without
// a zone, to the microsecond (datetime.isoformat(timespec="microseconds")).
func optunaTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Local().Format("2006-01-02T15:04:05.000000")
	return &s
}

// optunaDistribution is distribution_to_json of a FloatDistribution: a JSON
// string inside the log line.
func optunaDistribution(low, high float64) (string, error) {
	type attributes struct {
		Step *float64 `json:"step"`
		Low  pyFloat  `json:"low"`
		High pyFloat  `json:"high"`
		Log  bool     `json:"log"`
	}
	b, err := json.Marshal(struct {
		Name       string     `json:"name"`
		Attributes attributes `json:"attributes"`
	}{"FloatDistribution", attributes{Low: pyFloat(low), High: pyFloat(high)}})
	return string(b), err
}

// optunaParamDistribution is distribution_to_json of a hyperparameter's
// distribution: FloatDistribution (log for a log-float), IntDistribution or
// CategoricalDistribution, whose internal value is the choice's index, as a
// trial records it.
func optunaParamDistribution(p Param) (string, error) {
	type dist struct {
		Name       string `json:"name"`
		Attributes any    `json:"attributes"`
	}
	var v dist
	switch p.Type {
	case Float, LogFloat:
		v = dist{"FloatDistribution", struct {
			Step *float64 `json:"step"`
			Low  pyFloat  `json:"low"`
			High pyFloat  `json:"high"`
			Log  bool     `json:"log"`
		}{Low: pyFloat(p.Lower), High: pyFloat(p.Upper), Log: p.Type == LogFloat}}
	case Int:
		v = dist{"IntDistribution", struct {
			Log  bool  `json:"log"`
			Step int64 `json:"step"`
			Low  int64 `json:"low"`
			High int64 `json:"high"`
		}{Step: 1, Low: int64(p.Lower), High: int64(p.Upper)}}
	case Categorical:
		v = dist{"CategoricalDistribution", struct {
			Choices []json.RawMessage `json:"choices"`
		}{p.Choices}}
	default:
		return "", fmt.Errorf("hyperparameter %s of type %q", p.Key, p.Type)
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// WriteOptunaJournal writes d as an Optuna journal file, for
// optuna.storages.JournalFileStorage (Optuna 3.1 or later) and so for
// optuna-dashboard and optuna.visualization:
//
//   - the study, under its name, with one direction (the objective's) and
//     its definition as study user attributes (setup, sampler, pruner,
//     metric, seed, search space);
//   - every trial in number order (Optuna numbers them the same), with one
//     parameter per searched goal coordinate, named by its label, as a
//     FloatDistribution over the coordinate's bounds (fixed coordinates are
//     in the study's "search_space" attribute, not parameters), then one
//     per hyperparameter, named by its key path, with its distribution
//     (FloatDistribution, log for a log-float; IntDistribution;
//     CategoricalDistribution);
//   - each epoch's validation accuracy as the intermediate value of step
//     epoch, the objective value as the trial's value;
//   - the states: queued as WAITING, running and paused as RUNNING,
//     complete, pruned and failed as COMPLETE, PRUNED and FAIL; a pruned
//     trial keeps its last value if it has one;
//   - seed, generation, attempt, worker, wall seconds, the goalsearch state,
//     a failure's reason and the final metrics (final_<name>) as trial user
//     attributes.
//
// Times are written as Optuna writes them, in local time without a zone.
// Values that are not finite are written as null in attributes and left
// out of the intermediate values (JSON has no NaN). It does not retain d
// or w.
func WriteOptunaJournal(w io.Writer, d Dump) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var err error
	emit := func(op any) {
		if err == nil {
			err = enc.Encode(op)
		}
	}
	type head struct {
		OpCode   int    `json:"op_code"`
		WorkerID string `json:"worker_id"`
	}
	h := func(op int) head { return head{OpCode: op, WorkerID: optunaWorker} }

	study := d.Study
	dir := optunaDirectionMaximize
	if study.Objective.Direction == Minimize {
		dir = optunaDirectionMinimize
	}
	emit(struct {
		head
		StudyName  string `json:"study_name"`
		Directions []int  `json:"directions"`
	}{h(optunaCreateStudy), study.Name, []int{dir}})
	studyAttr := func(k string, v any) {
		emit(struct {
			head
			StudyID  int            `json:"study_id"`
			UserAttr map[string]any `json:"user_attr"`
		}{h(optunaSetStudyUserAttr), 0, map[string]any{k: v}})
	}
	studyAttr("source", "goalsearch")
	studyAttr("metric", study.Objective.Metric)
	studyAttr("setup", study.Setup.Name)
	if len(study.Setup.Config) > 0 {
		studyAttr("setup_config", study.Setup.Config)
	}
	studyAttr("sampler", study.Sampler.Name)
	if len(study.Sampler.Config) > 0 {
		studyAttr("sampler_config", study.Sampler.Config)
	}
	if study.Pruner.Name != "" {
		studyAttr("pruner", study.Pruner.Name)
		if len(study.Pruner.Config) > 0 {
			studyAttr("pruner_config", study.Pruner.Config)
		}
	}
	studyAttr("seed", study.Seed)
	space := map[string]any{"labels": study.Space.Labels, "lower": floatsPy(study.Space.Lower),
		"upper": floatsPy(study.Space.Upper), "fixed": study.Space.Fixed, "unit_norm": study.Space.UnitNorm}
	if len(study.Space.Params) > 0 {
		var ps []map[string]any
		for _, p := range study.Space.Params {
			m := map[string]any{"key": p.Key, "type": p.Type}
			if p.Type == Categorical {
				m["choices"] = p.Choices
			} else {
				m["lower"], m["upper"] = pyFloat(p.Lower), pyFloat(p.Upper)
			}
			ps = append(ps, m)
		}
		space["params"] = ps
	}
	studyAttr("search_space", space)
	studyAttr("created_at", study.CreatedAt.Format(time.RFC3339))

	dists := make([]string, study.Space.Dim())
	for i := range dists {
		if dists[i], err = optunaDistribution(study.Space.Lower[i], study.Space.Upper[i]); err != nil {
			return fmt.Errorf("store: writing Optuna journal of %q: %w", study.Name, err)
		}
	}
	pdists := make([]string, len(study.Space.Params))
	for i, p := range study.Space.Params {
		if pdists[i], err = optunaParamDistribution(p); err != nil {
			return fmt.Errorf("store: writing Optuna journal of %q: %w", study.Name, err)
		}
	}
	for id, t := range d.Trials {
		if t.Number != id {
			return fmt.Errorf("%w: study %q: trial %d at position %d: Optuna numbers trials without gaps", ErrInvalidDump, study.Name, t.Number, id)
		}
		if len(t.Gamma) != study.Space.Dim() {
			return fmt.Errorf("%w: study %q: trial %d has %d coordinates, the space %d", ErrInvalidDump, study.Name, t.Number, len(t.Gamma), study.Space.Dim())
		}
		state := optunaState(t.State)
		start := t.Started
		if start.IsZero() && state != optunaWaiting {
			start = t.Created
		}
		create := struct {
			head
			StudyID       int     `json:"study_id"`
			DatetimeStart *string `json:"datetime_start"`
			State         *int    `json:"state,omitempty"`
		}{head: h(optunaCreateTrial), DatetimeStart: optunaTime(start)}
		if state == optunaWaiting {
			create.State = &state
			create.DatetimeStart = nil
		}
		emit(create)
		for i, label := range study.Space.Labels {
			if _, fixed := study.Space.FixedAt(i); fixed {
				continue
			}
			emit(struct {
				head
				TrialID    int     `json:"trial_id"`
				ParamName  string  `json:"param_name"`
				ParamValue pyFloat `json:"param_value_internal"`
				Dist       string  `json:"distribution"`
			}{h(optunaSetTrialParam), id, label, pyFloat(t.Gamma[i]), dists[i]})
		}
		for i, p := range study.Space.Params {
			if i >= len(t.Params) {
				break
			}
			emit(struct {
				head
				TrialID    int     `json:"trial_id"`
				ParamName  string  `json:"param_name"`
				ParamValue pyFloat `json:"param_value_internal"`
				Dist       string  `json:"distribution"`
			}{h(optunaSetTrialParam), id, p.Key, pyFloat(t.Params[i]), pdists[i]})
		}
		for _, m := range t.Epochs {
			if math.IsNaN(m.ValAcc) || math.IsInf(m.ValAcc, 0) {
				continue
			}
			emit(struct {
				head
				TrialID int     `json:"trial_id"`
				Step    int     `json:"step"`
				Value   pyFloat `json:"intermediate_value"`
			}{h(optunaSetTrialIntermediate), id, m.Epoch, pyFloat(m.ValAcc)})
		}
		attr := func(k string, v any) {
			emit(struct {
				head
				TrialID  int            `json:"trial_id"`
				UserAttr map[string]any `json:"user_attr"`
			}{h(optunaSetTrialUserAttr), id, map[string]any{k: v}})
		}
		attr("state", string(t.State))
		attr("seed", t.Seed)
		attr("generation", t.Generation)
		if t.Budget > 0 {
			attr("budget", t.Budget)
		}
		attr("attempt", t.Attempt)
		if t.Worker != "" {
			attr("worker", t.Worker)
		}
		attr("wall_seconds", pyFloat(t.WallTime.Seconds()))
		// A further objective (the goal's complexity) is an attribute: the
		// journal's study stays single-objective, so every Optuna tool
		// that reads goalsearch's journals reads this one too.
		for i, v := range t.Values {
			if i < len(study.Objectives) {
				attr("objective_"+study.Objectives[i].Metric, pyFloat(v))
			}
		}
		if t.Reason != "" {
			attr("reason", t.Reason)
		}
		for _, k := range sortedKeys(t.Final) {
			attr("final_"+k, pyFloat(t.Final[k]))
		}
		if !t.State.Finished() {
			continue
		}
		var values []pyFloat
		if t.Value != nil {
			values = []pyFloat{pyFloat(*t.Value)}
		}
		finish := t.Finished
		if finish.IsZero() {
			finish = start
		}
		emit(struct {
			head
			TrialID          int       `json:"trial_id"`
			State            int       `json:"state"`
			Values           []pyFloat `json:"values"`
			DatetimeComplete *string   `json:"datetime_complete"`
		}{h(optunaSetTrialStateValues), id, state, values, optunaTime(finish)})
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("store: writing Optuna journal of %q: %w", study.Name, err)
	}
	return nil
}

func floatsPy(xs []float64) []pyFloat {
	out := make([]pyFloat, len(xs))
	for i, x := range xs {
		out[i] = pyFloat(x)
	}
	return out
}

func sortedKeys(m map[string]float64) []string {
	return slices.Sorted(maps.Keys(m))
}

// ExportOptunaJournal writes the study as an Optuna journal (see
// WriteOptunaJournal), from one consistent snapshot of s. Safe to call
// while a search writes to s; changes nothing.
func ExportOptunaJournal(ctx context.Context, s Store, study string, w io.Writer) error {
	d, err := s.Export(ctx, study)
	if err != nil {
		return err
	}
	return WriteOptunaJournal(w, d)
}
